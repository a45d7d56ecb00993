"""The OTP verifier and the Taler OTP-devices API under attack and against Taler's docs: findings of a review, each a
test that failed before its fix."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from aioctap.otp import InvalidTokenError, OtpVerifier, ThrottledError
from aioctap.otp.api import otp_device_routes
from aioctap.stores import open_store

RawPost = Callable[[Any, str, bytes, list[tuple[bytes, bytes]]], Awaitable[int]]  # the raw_post fixture

T = 1_700_000_000


async def test_throttle_survives_a_thousand_failures() -> None:
    """The failure delay is 2.0 ** (failures - max_failures), capped at max_delay only after computing it:
    past 1024 failures the power overflows (OverflowError), the failure is not recorded and the account is
    never throttled again, so a patient guesser (one guess per max_delay for ~3.5 days) then guesses at
    full speed."""
    now = [float(T)]
    async with open_store("memory://") as store:
        verifier = OtpVerifier(store, max_failures=3, max_delay=300.0, clock=lambda: now[0])
        await verifier.enroll("mallory-target", key="JBSWY3DPEHPK3PXP")
        wrong = "000000"
        for _ in range(1100):
            now[0] += 301.0  # wait out each delay, as a patient attacker does
            try:
                await verifier.verify("mallory-target", wrong, time=T)
            except InvalidTokenError:
                pass
        with pytest.raises(ThrottledError):  # the last failure throttled the account
            await verifier.verify("mallory-target", wrong, time=T)


@pytest.mark.parametrize("configured", ["secret-token:", "secret-token:  ", " "])
async def test_an_empty_admin_secret_grants_nothing(configured: str) -> None:
    """AIOCTAP_ADMIN_TOKEN=secret-token:$SECRET with $SECRET unset configures an administrator token whose
    secret is empty; 'Authorization: Bearer secret-token:' then hashed to the same digest (the prefix and
    spaces are stripped) and had every permission on every instance. A bearer token with an empty secret is
    malformed (401, TALER_EC_GENERIC_TOKEN_MALFORMED), whatever was configured."""
    async with open_store("memory://") as store:
        app = Starlette(routes=otp_device_routes(store, admin_token=configured))
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as c:
            for presented in ("secret-token:", "secret-token: ", "secret-token:%20"):
                r = await c.get("/private/otp-devices", headers={"Authorization": f"Bearer {presented}"})
                assert r.status_code == 401, (presented, r.text)
            r = await c.post("/private/token", json={"scope": "all"}, headers={"Authorization": "Bearer secret-token:"})
            assert r.status_code == 401 and r.json()["code"] == 43


async def test_insufficient_permission_is_403_as_taler_says() -> None:
    """Taler's POST /private/token: ':http:statuscode:`403 Forbidden`: The provided token has insufficient
    permissions for the requested scope. Returned with TALER_EC_GENERIC_TOKEN_PERMISSION_INSUFFICIENT'
    (and taler_error_codes: code 16 is returned with MHD_HTTP_FORBIDDEN)."""
    admin = {"Authorization": "Bearer secret-token:admin-secret-for-review"}
    async with open_store("memory://") as store:
        app = Starlette(routes=otp_device_routes(store, admin_token="secret-token:admin-secret-for-review"))
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as c:
            r = await c.post("/private/token", json={"scope": "readonly", "refreshable": True}, headers=admin)
            readonly = {"Authorization": f"Bearer {r.json()['access_token']}"}
            r = await c.post("/private/token", json={"scope": "write"}, headers=readonly)
            assert r.json()["code"] == 16
            assert r.status_code == 403


def test_confirmation_codes_print_as_the_merchant_backend_prints_them() -> None:
    """The seed's OtpDeviceDetails.otp_code 'Matches exactly the string that would be returned as part of a
    payment confirmation'; the merchant backend (util/crypto_confirmation.c, executive_totp) writes each code
    with "%llu", so a code below 10,000,000 has no leading zero there ("5191635", not "05191635")."""
    from aioctap.otp import pos_confirmation

    key = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"  # RFC 6238's SHA1 seed "12345678901234567890"
    codes = pos_confirmation(key, 1, 630)
    assert codes is not None
    assert codes.split("\n")[2] == "5191635"


async def test_a_device_key_under_a_retired_secret_is_re_encrypted() -> None:
    """api._reseal's docstring: a row 'stored in plain text, or under an older secret' is written again under
    the context's current secret (OtpVerifier does so for its accounts). The API only ever resealed plain-text
    rows: after a secret rotation (new default tag) the keys stayed under the old tag, so retiring the old
    secret made every such device answer 500 (TALER_EC_GENERIC_DB_FETCH_FAILED)."""
    from aioctap.otp import OTPContext, pos_confirmation

    admin_token = "secret-token:admin-secret-for-review"
    admin = {"Authorization": f"Bearer {admin_token}"}
    key = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
    old = OTPContext({"1": "the first application secret"}, encrypt_cost=4)
    both = OTPContext({"1": "the first application secret", "2": "the second application secret"}, encrypt_cost=4)
    new = OTPContext({"2": "the second application secret"}, encrypt_cost=4)
    device = {"otp_device_id": "pos", "otp_device_description": "till", "otp_key": key, "otp_algorithm": 1}
    async with open_store("memory://") as store:

        def client(context: OTPContext) -> httpx.AsyncClient:
            app = Starlette(routes=otp_device_routes(store, admin_token=admin_token, context=context))
            return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")

        async with client(old) as c:
            assert (await c.post("/private/otp-devices", json=device, headers=admin)).status_code == 204
        async with client(both) as c:  # rotated: "2" is the default now, "1" still readable
            r = await c.get("/private/otp-devices/pos", params={"faketime": 59}, headers=admin)
            assert r.status_code == 200 and r.json()["otp_code"] == pos_confirmation(key, 1, 59)
        async with client(new) as c:  # "1" retired
            r = await c.get("/private/otp-devices/pos", params={"faketime": 59}, headers=admin)
            assert r.status_code == 200, r.text
            assert r.json()["otp_code"] == pos_confirmation(key, 1, 59)


@pytest.mark.parametrize("length", ["\u00b2", "\u00b9\u00b3", " 5", "-1", "9" * 5000])
async def test_a_non_ascii_content_length_is_400_or_413_not_500(length: str, raw_post: RawPost) -> None:
    """_read_json checked Content-Length with str.isdigit(), which is true for the Latin-1 superscripts
    "\u00b2", "\u00b3" and "\u00b9" that int() refuses: the request ended in a ValueError (a 500) instead of a
    Taler error; so did 5000 ASCII digits (past int()'s 4300-digit limit). Uvicorn's parsers refuse such a header
    first; other ASGI servers may pass it on."""
    async with open_store("memory://") as store:
        app = Starlette(routes=otp_device_routes(store, admin_token="secret-token:a"))
        headers = [
            (b"authorization", b"Bearer secret-token:a"),
            (b"content-type", b"application/json"),
            (b"content-length", length.encode("latin-1")),
        ]
        assert await raw_post(app, "/private/token", b'{"scope": "all"}', headers) in (400, 413)
