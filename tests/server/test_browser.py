"""The demo page in a real browser: Debian's Chromium (headless, driven by playwright) with the DevTools
protocol's WebAuthn virtual authenticator registers and signs in through the server over HTTP."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import threading
import time
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
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[int, str]]:
    """The app on uvicorn (its own thread and event loop) on 127.0.0.1, storing into a SQLite file (indirect
    parametrization: more arguments of create_app)."""
    url = f"sqlite:///{tmp_path / 'rp.db'}"
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = int(sock.getsockname()[1])
    app = create_app(url, origin=f"http://localhost:{port}", otp_routes=False, **getattr(request, "param", {}))
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


def _page(browser: Any) -> tuple[Any, Any]:
    """A new page that records the mediation of every navigator.credentials.get (``window.mediations``), and its
    CDP session with the WebAuthn domain on (virtual authenticators)."""
    page = browser.new_page()
    page.add_init_script(
        "window.mediations = []; const get = navigator.credentials.get.bind(navigator.credentials);"
        "navigator.credentials.get = (o) => {"
        " window.mediations.push(o.mediation || 'optional'); return get(o); };"
    )
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    return page, cdp


def _click_and_wait(page: Any, button: str) -> str:
    page.evaluate("document.getElementById('status').dataset.state = 'idle'")
    page.click(button)
    return _wait(page)


def _wait(page: Any, expected: str = "ok") -> str:
    page.wait_for_function(
        "() => ['ok', 'failed'].includes(document.getElementById('status').dataset.state)", timeout=20_000
    )
    state = page.get_attribute("#status", "data-state")
    text = str(page.text_content("#status"))
    assert state == expected, text
    return text


def _record_statuses(page: Any) -> None:
    """From now on, every status the page shows goes into ``window.statuses``, in order."""
    page.evaluate(
        "window.statuses = []; const status = document.getElementById('status');"
        "new MutationObserver(() => window.statuses.push(status.textContent))"
        ".observe(status, {childList: true, characterData: true, subtree: true});"
    )


def _authenticator(cdp: Any, transport: str = "usb", credentials: list[dict[str, Any]] = ()) -> str:  # type: ignore[assignment]
    options = {
        "protocol": "ctap2",
        "transport": transport,
        "hasResidentKey": True,
        "hasUserVerification": True,
        "isUserVerified": True,
        "automaticPresenceSimulation": True,
    }
    authenticator_id = str(cdp.send("WebAuthn.addVirtualAuthenticator", {"options": options})["authenticatorId"])
    for credential in credentials:
        cdp.send("WebAuthn.addCredential", {"authenticatorId": authenticator_id, "credential": credential})
    return authenticator_id


def _credentials(cdp: Any, authenticator_id: str) -> list[dict[str, Any]]:
    return list(cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator_id})["credentials"])


def _b64url(standard: str) -> str:
    return standard.replace("+", "-").replace("/", "_").rstrip("=")


def _passkeys(page: Any) -> dict[str, str]:
    """The passkeys the signed-in page lists: id -> shown name."""
    return dict(page.evaluate(
        "() => Object.fromEntries([...document.querySelectorAll('#passkeys li')]"
        ".map((li) => [li.dataset.id, li.querySelector('.name').textContent]))"
    ))  # fmt: skip


@contextlib.contextmanager
def _alice_registered(port: int) -> Iterator[tuple[Any, Any, str]]:
    """Chromium (headless) on the app's page (see _page) with a security key (a CTAP2 virtual authenticator) that
    registered "alice" through the page: (page, CDP session, the authenticator's id)."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed: pip install playwright")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page, cdp = _page(browser)
            first = _authenticator(cdp)
            page.goto(f"http://localhost:{port}/")  # localhost: a secure context over plain HTTP
            page.fill("#username", "alice")
            assert _click_and_wait(page, "#register") == "registered alice"
            yield page, cdp, first
        finally:
            browser.close()


def test_register_and_sign_in_in_chromium(server: tuple[int, str]) -> None:
    """The page's account flow with security keys (no autofill for them): register (signed in), rename,
    add a second passkey, delete it, sign out, sign in with and without a user name; then passkey
    autofill (conditional mediation) with a platform authenticator."""
    port, url = server
    with _alice_registered(port) as (page, cdp, first):
        assert page.text_content("#whoami") == "alice" and page.is_hidden("#signed-out")
        [(first_id, first_name)] = _passkeys(page).items()
        assert first_name == "unnamed passkey"

        page.fill(f"#passkeys li[data-id='{first_id}'] .rename-input", "Laptop <b>key</b>")
        assert _click_and_wait(page, f"#passkeys li[data-id='{first_id}'] .rename") == "renamed to Laptop <b>key</b>"
        assert _passkeys(page) == {first_id: "Laptop <b>key</b>"}  # text, not markup

        # a second passkey on another security key (the first one is excluded: it already holds one)
        kept = _credentials(cdp, first)
        cdp.send("WebAuthn.removeVirtualAuthenticator", {"authenticatorId": first})
        second = _authenticator(cdp)
        assert _click_and_wait(page, "#add-passkey") == "registered alice"
        listed = _passkeys(page)
        [second_id] = set(listed) - {first_id}
        assert _b64url(_credentials(cdp, second)[0]["credentialId"]) == second_id
        assert _click_and_wait(page, f"#passkeys li[data-id='{second_id}'] .delete") == "deleted"
        assert set(_passkeys(page)) == {first_id}
        cdp.send("WebAuthn.removeVirtualAuthenticator", {"authenticatorId": second})
        first = _authenticator(cdp, credentials=kept)

        assert _click_and_wait(page, "#signout") == "signed out"
        assert page.is_hidden("#signed-in")
        page.fill("#username", "alice")
        assert _click_and_wait(page, "#signin") == "signed in as alice"
        assert _click_and_wait(page, "#signout") == "signed out"
        # without a user name: a discoverable-credential sign-in (userHandle names the user)
        page.fill("#username", "")
        assert _click_and_wait(page, "#signin") == "signed in as alice"
        browser_creds = _credentials(cdp, first)

        # passkey autofill: a platform authenticator holding alice's passkey answers the conditional
        # request the signed-out page makes on its user name field; nobody clicks Sign in
        cdp.send("WebAuthn.removeVirtualAuthenticator", {"authenticatorId": first})
        _authenticator(cdp, "internal", browser_creds)
        page.evaluate("document.getElementById('status').dataset.state = 'idle'")
        assert "conditional" not in page.evaluate("window.mediations")  # no autofill for security keys
        page.click("#signout")
        page.wait_for_function(
            "() => document.getElementById('status').textContent === 'signed in as alice'", timeout=20_000
        )
        assert page.text_content("#whoami") == "alice" and page.is_hidden("#signed-out")
        assert page.evaluate("window.mediations").count("conditional") == 1
    [browser_cred] = browser_creds

    async def stored() -> tuple[list[tuple[str, dict[str, Any]]], dict[str, Any]]:
        async with open_store(url) as store:
            creds = await store.scan(CREDENTIALS)
            user = await store.get(USERS, "alice")
            assert user is not None
            return [(k, json.loads(r.value)) for k, r in creds], json.loads(user.value)

    creds, user = asyncio.run(stored())
    [(cred_id, cred)] = creds
    # the browser's credential id is standard base64; the store keys it in base64url
    assert cred_id == first_id == _b64url(browser_cred["credentialId"])
    assert cred["username"] == "alice" and cred["user_handle"] == user["id"] and cred["name"] == "Laptop <b>key</b>"
    assert cred["sign_count"] >= 2 and browser_cred["isResidentCredential"]


def test_deleting_the_sessions_passkey_signs_the_page_out(server: tuple[int, str]) -> None:
    """The page's Delete on the passkey that signed the session in: the page says so, shows the signed-out view,
    and passkey autofill starts again (a platform passkey then signs in by itself)."""
    port, _ = server
    with _alice_registered(port) as (page, cdp, first):
        [first_id] = _passkeys(page)
        kept = _credentials(cdp, first)
        cdp.send("WebAuthn.removeVirtualAuthenticator", {"authenticatorId": first})
        second = _authenticator(cdp, "internal")  # a platform authenticator: autofill offers it
        assert _click_and_wait(page, "#add-passkey") == "registered alice"
        assert "conditional" not in page.evaluate("window.mediations")
        # every status the page shows, in order: the autofill that follows the deletion may replace the
        # deletion's message before the test could read it
        _record_statuses(page)
        page.click(f"#passkeys li[data-id='{first_id}'] .delete")
        # autofill started again on the signed-out page: the platform passkey signs in by itself
        page.wait_for_function(
            "() => document.getElementById('status').textContent === 'signed in as alice'", timeout=20_000
        )
        statuses = page.evaluate("window.statuses")
        deleted = "deleted; it had signed you in, so you are signed out"  # shown once refresh() finds no account
        assert deleted in statuses and statuses.index(deleted) < statuses.index("signed in as alice"), statuses
        assert page.is_visible("#signed-in") and page.evaluate("window.mediations").count("conditional") == 1
        assert list(_passkeys(page)) != [first_id] and kept and second


@pytest.mark.parametrize("server", [{"recent_sign_in": 5.0}], indirect=True)
def test_adding_a_passkey_long_after_sign_in_signs_in_again_first(server: tuple[int, str]) -> None:
    """Adding a passkey needs a recent sign-in: past ``recent_sign_in`` the server answers 403 and the page signs in
    again with a passkey of the account (a new session), then asks for the new passkey. Here the one security key
    holds the account's passkey, so the new passkey's creation is then refused (excludeCredentials); with another key
    plugged in, a click soon after (a fresh sign-in) adds the passkey at once."""
    port, _ = server
    with _alice_registered(port) as (page, cdp, first):
        cookie = {c["name"]: c["value"] for c in page.context.cookies()}["aioctap-account"]
        time.sleep(5.5)
        _record_statuses(page)
        page.evaluate("document.getElementById('status').dataset.state = 'idle'")
        page.click("#add-passkey")
        assert "already registered" in _wait(page, "failed")  # the one key holds alice's passkey (excluded)
        statuses = page.evaluate("window.statuses")
        again = ["sign in again to add a passkey...", "signed in again; adding the passkey..."]
        assert statuses[1:3] == again, statuses
        assert page.evaluate("window.mediations") == ["optional"]  # the sign-in again (no autofill for keys)
        assert {c["name"]: c["value"] for c in page.context.cookies()}["aioctap-account"] != cookie  # new session
        cdp.send("WebAuthn.removeVirtualAuthenticator", {"authenticatorId": first})
        _authenticator(cdp)
        assert _click_and_wait(page, "#add-passkey") == "registered alice"
        assert len(_passkeys(page)) == 2 and page.evaluate("window.mediations") == ["optional"]
