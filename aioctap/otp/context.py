"""OTPContext: an :class:`~aioctap.otp.wallet.AppWallet` that also makes, loads and saves TOTPs bound to it.

The wallet (secrets, encryption of keys at rest) lives in :mod:`aioctap.otp.wallet`, below the OTP classes;
this module sits above them, so that neither imports the other in a circle.
"""

from __future__ import annotations

from typing import Unpack

from .core import HOTP, TOTP, BaseOTP
from .serial import TotpSettings
from .wallet import AppWallet, EncryptFormat

__all__ = ["EncryptFormat", "OTPContext"]


class OTPContext(AppWallet):
    """``OTPContext(secrets=None, default_tag=None, encrypt_cost=14, secrets_path=None, encrypt_format="aioctap")``:
    an :class:`~aioctap.otp.wallet.AppWallet` (its arguments) with passlib's OTPContext factory methods."""

    def _factory(self) -> type[TOTP]:
        return TOTP.using(context=self)

    def new(self, **kwds: Unpack[TotpSettings]) -> TOTP:
        """A new random TOTP bound to this context (``kwds`` as for :class:`~aioctap.otp.TOTP`)."""
        return self._factory().new(**kwds)

    def from_uri(self, uri: str) -> TOTP | HOTP:
        """An otpauth URI's OTP, bound to this context (its ``to_json()`` encrypts)."""
        return self._factory().from_uri(uri)

    def from_json(self, source: str | bytes) -> TOTP | HOTP:
        """Load a serialized OTP, decrypting its key with this context."""
        return self._factory().from_json(source, self)

    def to_json(self, otp: BaseOTP) -> str:
        """Serialize ``otp`` with its key encrypted by this context."""
        return otp.to_json(context=self)
