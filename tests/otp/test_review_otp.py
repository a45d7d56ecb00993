"""Findings of the OTP review (review-otp): each a failing test before its fix."""

from __future__ import annotations

import pytest

from aioctap.otp import InvalidTokenError, OtpVerifier, ThrottledError
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
