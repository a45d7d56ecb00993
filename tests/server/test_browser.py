"""The demo page in a real browser: Debian's Chromium (headless, driven by playwright) with the DevTools
protocol's WebAuthn virtual authenticator registers and signs in through the server over HTTP."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from aioctap.server.app import CREDENTIALS, USERS, create_app
from aioctap.stores import open_store

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless=new",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = pytest.mark.skipif(
    not os.access(CHROMIUM, os.X_OK), reason=f"{CHROMIUM} is missing: apt-get install chromium"
)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[int, str]]:
    """The app on uvicorn (its own thread and event loop) on 127.0.0.1, storing into a SQLite file."""
    url = f"sqlite:///{tmp_path / 'rp.db'}"
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = int(sock.getsockname()[1])
    app = create_app(url, origin=f"http://localhost:{port}", otp_routes=False)
    srv = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=srv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        for _ in range(500):
            if srv.started:
                break
            thread.join(0.01)
        assert srv.started, "uvicorn did not start"
        yield port, url
    finally:
        srv.should_exit = True
        thread.join(10)
        sock.close()


def _click_and_wait(page: Any, button: str) -> str:
    page.click(button)
    page.wait_for_function(
        "() => ['ok', 'failed'].includes(document.getElementById('status').dataset.state)", timeout=20_000
    )
    state = page.get_attribute("#status", "data-state")
    text = str(page.text_content("#status"))
    assert state == "ok", text
    return text


def test_register_and_sign_in_in_chromium(server: tuple[int, str]) -> None:
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed: pip install playwright")
    port, url = server
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page()
            cdp = page.context.new_cdp_session(page)
            cdp.send("WebAuthn.enable")
            authenticator = cdp.send(
                "WebAuthn.addVirtualAuthenticator",
                {
                    "options": {
                        "protocol": "ctap2",
                        "transport": "usb",
                        "hasResidentKey": True,
                        "hasUserVerification": True,
                        "isUserVerified": True,
                        "automaticPresenceSimulation": True,
                    }
                },
            )
            page.goto(f"http://localhost:{port}/")  # localhost: a secure context over plain HTTP
            page.fill("#username", "alice")
            assert _click_and_wait(page, "#register") == "registered alice"
            page.evaluate("document.getElementById('status').dataset.state = 'idle'")
            assert _click_and_wait(page, "#signin") == "signed in as alice"
            # without a user name: a discoverable-credential sign-in (userHandle names the user)
            page.fill("#username", "")
            page.evaluate("document.getElementById('status').dataset.state = 'idle'")
            assert _click_and_wait(page, "#signin") == "signed in as alice"
            browser_creds = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator["authenticatorId"]})
        finally:
            browser.close()
    [browser_cred] = browser_creds["credentials"]

    async def stored() -> tuple[dict[str, Any], dict[str, Any]]:
        async with open_store(url) as store:
            creds = await store.scan(CREDENTIALS)
            user = await store.get(USERS, "alice")
            assert len(creds) == 1 and user is not None
            return {"id": creds[0][0], **json.loads(creds[0][1].value)}, json.loads(user.value)

    cred, user = asyncio.run(stored())
    # the browser's credential id is standard base64; the store keys it in base64url
    assert cred["id"] == browser_cred["credentialId"].replace("+", "-").replace("/", "_").rstrip("=")
    assert cred["username"] == "alice" and cred["user_handle"] == user["id"]
    assert cred["sign_count"] == browser_cred["signCount"] >= 2 and browser_cred["isResidentCredential"]
