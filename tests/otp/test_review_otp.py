"""Findings of the OTP review (review-otp): each a failing test before its fix."""

from __future__ import annotations

import httpx
import pytest
from starlette.applications import Starlette

from aioctap.otp import InvalidTokenError, OtpVerifier, ThrottledError
from aioctap.otp.api import otp_device_routes
from aioctap.stores import open_store

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
