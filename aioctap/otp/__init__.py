"""Async OTP: HOTP/TOTP with passlib.totp's names, a replay-proof async verifier, Taler POS codes."""

from __future__ import annotations

from .context import OTPContext
from .core import HOTP, TOTP, BaseOTP, HotpMatch, TotpMatch, TotpToken, generate_secret
from .errors import (
    InvalidTokenError,
    KeyFormatError,
    MalformedTokenError,
    OtpSecurityWarning,
    ThrottledError,
    TokenError,
    UnknownAccountError,
    UsedTokenError,
)
from .taler import TalerAmount, pos_confirmation
from .verifier import OtpVerifier
from .wallet import AppWallet

__all__ = [
    "HOTP",
    "TOTP",
    "AppWallet",
    "BaseOTP",
    "HotpMatch",
    "InvalidTokenError",
    "KeyFormatError",
    "MalformedTokenError",
    "OTPContext",
    "OtpSecurityWarning",
    "OtpVerifier",
    "TalerAmount",
    "ThrottledError",
    "TokenError",
    "TotpMatch",
    "TotpToken",
    "UnknownAccountError",
    "UsedTokenError",
    "generate_secret",
    "pos_confirmation",
]
