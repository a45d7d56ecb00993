"""Findings of a review of the relying party as deployed (aioctap server): each a test that failed before its fix."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from aioctap.server.app import create_app
from aioctap.server.responses import ACCOUNT_COOKIE
from aioctap.stores import MemoryStore

RawPost = Callable[[Any, str, bytes, list[tuple[bytes, bytes]]], Awaitable[int]]  # the raw_post fixture


def _served_app(monkeypatch: pytest.MonkeyPatch, *args: str) -> Any:
    """The ASGI app ``aioctap server ARGS`` would serve (uvicorn.run captured, nothing listens)."""
    import uvicorn
    from typer.testing import CliRunner

    from aioctap.cli import app

    served: list[Any] = []
    monkeypatch.setattr(uvicorn, "run", lambda asgi, **kw: served.append(asgi))
    result = CliRunner().invoke(
        app, ["server", "--db", "memory://", "--port", "0", *args], env={"AIOCTAP_SECRET_KEY": "k" * 64}
    )
    assert result.exit_code == 0, result.output
    return served[0]


@pytest.mark.parametrize(
    "written", ["https://example.com/", "https://Example.COM", "HTTPS://example.com", "https://example.com:443"]
)
async def test_cli_origins_are_the_origins_browsers_send(monkeypatch: pytest.MonkeyPatch, written: str) -> None:
    """Operator: ``--origin`` accepts a trailing slash, upper case and the default port (origin_error lets them
    through), but a browser sends the serialized origin (RFC 6454 §6.1: lower-case scheme and host, no default
    port, no path), and both the Origin check and clientDataJSON.origin (WebAuthn L3 §7.1 step 9) compare
    exactly: every ceremony result and account change of such a server failed (403 / OriginMismatchError)."""
    asgi = _served_app(monkeypatch, "--rp-id", "example.com", "--origin", written)
    assert asgi.state.relying_party.server.origins == ["https://example.com"]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=asgi), base_url="http://example.com") as http:
        r = await http.post("/fido2/logout", headers={"origin": "https://example.com"})
    assert r.status_code == 200, r.text


def test_create_app_takes_origins_as_browsers_write_them() -> None:
    """The CLI normalized --origin (default port, case, a trailing slash) but create_app compared what it was given
    exactly with what browsers send (RFC 6454 §6.1 serialization): an app made with ``origin="https://Example.com/"``
    refused every ceremony result."""
    app = create_app(MemoryStore(), rp_id="example.com", origin=["HTTPS://Example.com:443/", "https://example.com"])
    assert app.state.relying_party.server.origins == ["https://example.com"]
    app = create_app(MemoryStore(), rp_id="example.com", origin="https://a.example.com:8443")
    assert app.state.relying_party.server.origins == ["https://a.example.com:8443"]
    assert create_app(MemoryStore()).state.relying_party.server.origins == ["http://localhost:8000"]
    android = "android:apk-key-hash:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"  # an app's origin: as it is
    app = create_app(MemoryStore(), rp_id="example.com", origin=["https://example.com", android])
    assert app.state.relying_party.server.origins == ["https://example.com", android]


@pytest.mark.parametrize(
    "username",
    [
        "al\u0085ice",  # a C1 control character (NEL), which display names and passkey names already refuse
        "\u202eecila",  # RIGHT-TO-LEFT OVERRIDE: shows as "alice" reversed wherever the name is displayed
        "alice\u200b",  # ZERO WIDTH SPACE: an account that looks exactly like "alice"
        "\ufeffalice",  # ZERO WIDTH NO-BREAK SPACE
        "\u2066alice\u2069",  # directional isolates
        " alice",  # leading / trailing white space: the page trims it, so its owner can never type it
        "alice ",
        "\u00a0alice",
    ],
)
async def test_user_names_without_invisible_or_direction_characters(username: str) -> None:
    """WebAuthn L3 §5.4.3 (user.name): the RP SHOULD enforce the PRECIS UsernameCasePreserved profile (RFC 8265
    §3.4), whose IdentifierClass (RFC 8264 §9.1) disallows controls, format characters (bidi overrides, zero-width)
    and spaces. Each of these names opened an account of its own that displays like another user's (a spoofed
    account name in the account chooser and on the page)."""
    app = create_app(MemoryStore(), origin="http://localhost:8000", otp_routes=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://localhost:8000") as http:
        r = await http.post("/fido2/attestation/options", json={"username": username, "displayName": "A"})
        assert r.status_code == 400 and "username" in r.json()["errorMessage"], r.text
        r = await http.post("/fido2/assertion/options", json={"username": username})
        assert r.status_code == 400, r.text
        # ordinary names, with inner spaces and non-Latin letters, still work
        for ok in ("alice", "alice smith", "Ålice", "алиса", "a@b.example"):
            r = await http.post("/fido2/attestation/options", json={"username": ok, "displayName": ok})
            assert r.status_code == 200, (ok, r.text)


@pytest.mark.parametrize("override", ["\u202e", "\u202a", "\u2067", "\u2069"])
async def test_display_and_passkey_names_without_bidi_overrides(override: str) -> None:
    """A display name or a passkey's name with a bidi embedding, override or isolate left open reorders what the
    page shows after it ("Trojan Source", CVE-2021-42574): "created" and "last used" of a passkey could read as
    someone else's. PRECIS FreeformClass (WebAuthn L3 §5.4.3's Nickname profile) disallows them; names in other
    scripts, emoji sequences (ZWJ) and marks (LRM) stay allowed."""
    from tests.server.test_accounts import ORIGIN, Passkey, assert_failed, register

    app = create_app(MemoryStore(), origin=ORIGIN, otp_routes=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://localhost:8000") as http:
        r = await http.post("/fido2/attestation/options", json={"username": "bob", "displayName": f"Bob{override}x"})
        assert_failed(r, 400, "displayName")
        passkey = Passkey()
        assert (await register(http, "alice", passkey)).status_code == 200
        r = await http.patch(f"/fido2/credentials/{passkey.id}", json={"name": f"key{override}"})
        assert_failed(r, 400, "name")
        for fine in ("עליס", "👨\u200d👩\u200d👧", "a\u200eb"):
            r = await http.patch(f"/fido2/credentials/{passkey.id}", json={"name": fine})
            assert r.status_code == 200, r.text


async def test_fido2_answers_are_not_cached() -> None:
    """The options answers hold the ceremony's session id and challenge, /fido2/account the user's passkeys, every
    answer depends on the caller's cookies: none may be stored by a browser's or a proxy's cache (OWASP ASVS 4.0
    V8.2.1, RFC 9111 §5.2.2.5 no-store). They had no Cache-Control at all."""
    from tests.server.test_accounts import ORIGIN, Passkey, register

    app = create_app(MemoryStore(), origin=ORIGIN, otp_routes=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://localhost:8000") as http:
        answers = [await register(http, "alice", Passkey()), await http.get("/fido2/account")]
        answers += [await http.post("/fido2/assertion/options", json={}), await http.get("/fido2/nowhere")]
        answers.append(await http.post("/fido2/attestation/options", json={"username": "alice", "displayName": "A"}))
        for r in answers:
            assert r.headers.get("cache-control") == "no-store", (r.request.url, r.headers)


async def test_adding_a_passkey_needs_a_recent_sign_in(monkeypatch: pytest.MonkeyPatch) -> None:
    """A stolen account cookie (an XSS elsewhere on the site, malware, a shared computer) becomes a permanent account
    takeover: its holder adds a passkey of their own at any time in the session's 12 hours, with no proof that the
    user is present (no re-authentication for a sensitive action, OWASP ASVS 4.0 V3.7.1 / NIST SP 800-63B §7.1), and
    then deletes the owner's passkeys. Now adding a passkey more than ``recent_sign_in`` (10 minutes) after the sign-in
    asks to sign in again; a new sign-in (a new session) allows it again."""
    import time

    import aioctap.server.records as records
    from tests.server.test_accounts import ORIGIN, Passkey, assert_failed, register, sign_in

    app = create_app(MemoryStore(), origin=ORIGIN, otp_routes=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://localhost:8000") as http:
        first = Passkey()
        assert (await register(http, "alice", first)).status_code == 200
        start = time.time()
        monkeypatch.setattr(records.time, "time", lambda: start + 9 * 60)  # within 10 minutes: allowed
        assert (await register(http, "alice", Passkey())).status_code == 200
        later = start + 25 * 60  # within the 30 minutes' idle lifetime, long after the sign-in
        monkeypatch.setattr(records.time, "time", lambda: later)
        r = await http.post("/fido2/attestation/options", json={"username": "alice", "displayName": "A"})
        assert_failed(r, 403, "sign in again to add a passkey")
        assert (await http.get("/fido2/account")).status_code == 200  # the session itself lives on
        assert (await sign_in(http, first)).status_code == 200
        assert (await register(http, "alice", Passkey())).status_code == 200


async def test_an_account_holds_at_most_max_passkeys(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each passkey of an account goes into every registration's excludeCredentials and onto its page: a signed-in
    user (or a stolen cookie) could add passkeys without end, and grow every answer with them."""
    import aioctap.server.app as app_module
    from tests.server.test_accounts import ORIGIN, Passkey, assert_failed, register

    monkeypatch.setattr(app_module, "MAX_PASSKEYS", 3)
    app = create_app(MemoryStore(), origin=ORIGIN, otp_routes=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://localhost:8000") as http:
        second = Passkey()
        for passkey in (Passkey(), second, Passkey()):
            assert (await register(http, "alice", passkey)).status_code == 200
        r = await http.post("/fido2/attestation/options", json={"username": "alice", "displayName": "A"})
        assert_failed(r, 403, "3 passkeys, the most it may have")
        assert (await http.delete(f"/fido2/credentials/{second.id}")).status_code == 200
        assert (await register(http, "alice", Passkey())).status_code == 200


async def test_fido2_routes_in_another_app_clear_the_cookie_as_secure_when_a_passkey_ends_its_session(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """responses.py promises Secure cookies from ``fido2_routes`` in an app of one's own when every origin is https;
    the account routes were not wrapped by for_relying_party, so deleting the passkey that signed the session in
    cleared the account cookie without Secure (the app's request scope named no relying party)."""
    from starlette.applications import Starlette

    import tests.server.test_accounts as accounts
    from aioctap.server.app import fido2_routes
    from aioctap.server.ceremony import Fido2Server
    from aioctap.server.records import RelyingParty

    monkeypatch.setattr(accounts, "ORIGIN", "https://localhost")  # what the test passkeys put in clientDataJSON
    app = Starlette(routes=fido2_routes(RelyingParty(MemoryStore(), Fido2Server("localhost", "https://localhost"))))
    first, second = accounts.Passkey(), accounts.Passkey()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://localhost") as http:
        assert (await accounts.register(http, "alice", first)).status_code == 200
        assert (await accounts.register(http, "alice", second)).status_code == 200
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://localhost") as proxied:
        token = http.cookies["aioctap-account"]  # behind a TLS proxy the app sees plain http
        r = await proxied.delete(f"/fido2/credentials/{first.id}", headers={"cookie": f"aioctap-account={token}"})
        assert r.status_code == 200 and "aioctap-account" in r.headers["set-cookie"], r.text
        assert "; secure" in r.headers["set-cookie"].lower(), r.headers


async def test_conformance_mode_signs_nobody_in_to_an_account() -> None:
    """``--conformance`` lets anyone register a credential for any user name (the conformance tool's need), yet a
    sign-in there still opens an account session with the account routes behind it: anyone registers a passkey
    for "alice", signs in as her and deletes her passkeys. An operator who points a conformance run at a real
    store (``--conformance --db postgresql://...``) hands out every account. The conformance API needs no account
    session: no account cookie, and 401 from the account routes."""
    from tests.server.test_accounts import ORIGIN, Passkey, register, sign_in

    app = create_app(MemoryStore(), origin=ORIGIN, otp_routes=False, conformance=True)
    async with (
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://localhost:8000") as alice,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://localhost:8000") as mallory,
    ):
        hers = Passkey()
        assert (await register(alice, "alice", hers)).status_code == 200
        mine = Passkey()
        assert (await register(mallory, "alice", mine)).status_code == 200  # the conformance mode allows it
        r = await sign_in(mallory, mine, "alice")
        assert r.status_code == 200 and ACCOUNT_COOKIE not in r.cookies, r.headers
        assert (await mallory.delete(f"/fido2/credentials/{hers.id}")).status_code == 401
        assert (await mallory.get("/fido2/account")).status_code == 401
        assert (await sign_in(alice, hers, "alice")).status_code == 200  # the ceremony itself still works
        assert (await alice.get("/fido2/account")).status_code == 401


@pytest.mark.parametrize("length", ["\u00b2", "\u00b9\u00b3", " 5", "-1", "9" * 5000])
async def test_an_odd_content_length_is_not_a_500(length: str, raw_post: RawPost) -> None:
    """Content-Length was checked with str.isdigit(), true for the superscripts int() refuses, and 5000 digits are
    past int()'s limit: both ended in a ValueError (500). Uvicorn refuses such headers first; other servers may not.
    Now a length that is not plain ASCII digits is left to the bounded read, and a huge one is a 413."""
    app = create_app(MemoryStore(), otp_routes=False)
    headers = [(b"content-type", b"application/json"), (b"content-length", length.encode("latin-1"))]
    async with app.router.lifespan_context(app):
        status = await raw_post(app, "/fido2/assertion/options", b'{"username": "alice"}', headers)
    assert status in (200, 400, 413)
