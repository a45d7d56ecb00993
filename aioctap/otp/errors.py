"""OTP errors (passlib.exc names)."""

from __future__ import annotations

__all__ = [
    "InvalidTokenError",
    "KeyFormatError",
    "MalformedTokenError",
    "OtpSecurityWarning",
    "ThrottledError",
    "TokenError",
    "UnknownAccountError",
    "UsedTokenError",
]


class TokenError(ValueError):
    """Base class for every OTP token error."""

    _default_message = "Token not acceptable"

    def __init__(self, msg: str | None = None) -> None:
        super().__init__(msg or self._default_message)


class MalformedTokenError(TokenError):
    """The token is not a string of the expected number of digits."""

    _default_message = "Unrecognized token"


class InvalidTokenError(TokenError):
    """The token does not match."""

    _default_message = "Token did not match"


class UsedTokenError(TokenError):
    """The token matched a counter that was already used (a replay). ``expire_time``: when it stops matching."""

    _default_message = "Token has already been used, please wait for another."

    def __init__(self, msg: str | None = None, expire_time: int | None = None) -> None:
        super().__init__(msg)
        self.expire_time = expire_time


class ThrottledError(TokenError):
    """Too many recent failures for this account: retry after ``retry_after`` seconds."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"too many failed attempts; retry after {retry_after:.1f} s")
        self.retry_after = retry_after


class UnknownAccountError(TokenError):
    """No OTP is enrolled for this account."""

    _default_message = "No OTP enrolled for this account"


class KeyFormatError(ValueError):
    """An OTP key, otpauth URI, serialized OTP or Taler amount is malformed (says what was wrong)."""


class OtpSecurityWarning(UserWarning):
    """A weak but accepted setting, e.g. an existing key shorter than 10 bytes (passlib's PasslibSecurityWarning)."""
