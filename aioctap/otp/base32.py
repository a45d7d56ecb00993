"""OTP keys as text: base32 (RFC 4648 §6) without padding as otpauth URIs carry it, a tolerant reader, and hex."""

from __future__ import annotations

import base64
import binascii
import re

from .errors import KeyFormatError

__all__ = ["b32decode", "b32encode", "decode_key"]

_CLEAN = re.compile(r"[\s-]")
_B32 = re.compile(r"^[A-Z2-7]*$")


def b32encode(key: bytes) -> str:
    """Base32 without padding, as otpauth URIs carry it."""
    return base64.b32encode(key).decode().rstrip("=")


def b32decode(text: str) -> bytes:
    """Tolerant base32 (RFC 4648): case, spaces, dashes and padding ignored; anything else rejected."""
    if not isinstance(text, str):
        raise KeyFormatError("base32 key must be a string")
    cleaned = _CLEAN.sub("", text).upper().rstrip("=")
    if not cleaned or not _B32.match(cleaned):
        raise KeyFormatError("key is not valid base32 (letters A-Z and digits 2-7)")
    if len(cleaned) % 8 in (1, 3, 6):
        raise KeyFormatError("key has an impossible base32 length")
    try:
        return base64.b32decode(cleaned + "=" * (-len(cleaned) % 8))
    except binascii.Error:
        raise KeyFormatError("key is not valid base32") from None


def decode_key(key: str | bytes, format: str = "base32") -> bytes:
    """The key bytes of ``key`` given as ``format``: ``"raw"`` bytes, ``"base32"`` or ``"hex"`` text."""
    if isinstance(key, bytes) and format == "raw":
        return key
    if isinstance(key, str) and format == "base32":
        return b32decode(key)
    if isinstance(key, str) and format == "hex":
        try:
            return bytes.fromhex(key)
        except ValueError:
            raise KeyFormatError("key is not valid hexadecimal") from None
    raise KeyFormatError(f"key format {format!r} does not fit a {type(key).__name__} key")
