"""RFC 4226 HOTP values, sans-IO: HMAC, dynamic truncation (§5.3), tokens of ``digits`` decimal digits.

:func:`hotp` is the general path (one-shot HMAC). :class:`HotpGenerator` computes the same values for one
key many times: HMAC's inner and outer hash states after the padded key (RFC 2104) are computed once and
copied for each counter, which costs about half a fresh one-shot HMAC (the OTP verification rows of the
README's benchmark table depend on it; tests/otp/test_rfc4226.py holds it to :func:`hmac.new`).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import struct

from .errors import KeyFormatError, MalformedTokenError

__all__ = ["ALGORITHMS", "HotpGenerator", "hotp", "normalize_token"]

#: the HMAC hash functions RFC 6238 §1.2 names
ALGORITHMS = {"sha1": hashlib.sha1, "sha256": hashlib.sha256, "sha512": hashlib.sha512}
COUNTER_LIMIT = 1 << 64  # RFC 4226's counter is 8 bytes

_PACK_COUNTER = struct.Struct(">Q").pack
_UNPACK_U32 = struct.Struct(">I").unpack_from
_POW10 = [10**n for n in range(11)]
_ZERO_PADDED = [f"%0{n}d" for n in range(11)]  # printf formats: "%06d" for 6 digits
_IPAD = bytes(x ^ 0x36 for x in range(256))
_OPAD = bytes(x ^ 0x5C for x in range(256))
_CLEAN = re.compile(r"[\s-]")


def _check_alg(alg: str) -> None:
    if alg not in ALGORITHMS:
        raise KeyFormatError(f"unsupported algorithm {alg!r}: use sha1, sha256 or sha512")


def hotp(key: bytes, counter: int, digits: int = 6, alg: str = "sha1") -> str:
    """RFC 4226 §5.3: HMAC, dynamic truncation, modulo 10^digits, zero padded."""
    if not 0 <= counter < COUNTER_LIMIT:
        raise ValueError("counter must fit in an unsigned 64-bit integer")
    _check_alg(alg)
    digest = hmac.digest(key, _PACK_COUNTER(counter), alg)
    value: int = _UNPACK_U32(digest, digest[-1] & 0x0F)[0] & 0x7FFFFFFF
    return str(value % _POW10[digits]).zfill(digits)


class HotpGenerator:
    """``HotpGenerator(key, alg, digits)(counter)`` is ``hotp(key, counter, digits, alg)``, the key's HMAC
    states computed once. Holds the key (as hash states): never log it."""

    __slots__ = ("_format", "_inner", "_modulus", "_outer", "digits")

    def __init__(self, key: bytes, alg: str = "sha1", digits: int = 6) -> None:
        _check_alg(alg)
        factory = ALGORITHMS[alg]
        block = factory().block_size
        if len(key) > block:
            key = factory(key).digest()
        key = key.ljust(block, b"\0")
        self._inner = factory(key.translate(_IPAD))
        self._outer = factory(key.translate(_OPAD))
        self._format = _ZERO_PADDED[digits]
        self._modulus = _POW10[digits]
        self.digits = digits

    def __repr__(self) -> str:
        return f"<HotpGenerator {self._inner.name} digits={self.digits}>"

    def __call__(self, counter: int) -> str:
        """The token of ``counter`` (0 <= counter < 2**64; the caller checks the range)."""
        inner = self._inner.copy()
        inner.update(_PACK_COUNTER(counter))
        outer = self._outer.copy()
        outer.update(inner.digest())
        digest = outer.digest()
        code: str = self._format % ((_UNPACK_U32(digest, digest[-1] & 0x0F)[0] & 0x7FFFFFFF) % self._modulus)
        return code


def normalize_token(token: str | int | bytes, digits: int) -> str:
    """Digits only, exactly ``digits`` of them (spaces and dashes dropped); :class:`MalformedTokenError` else."""
    if type(token) is str and len(token) == digits and token.isascii() and token.isdigit():
        return token  # already normal: +16 % on the stateless match row (tests/otp/test_rfc4226.py)
    if isinstance(token, bool):
        raise MalformedTokenError("Token must be a string of digits")
    if isinstance(token, int):
        if token < 0:
            raise MalformedTokenError("Token must not be negative")
        token = str(token).zfill(digits)
    elif isinstance(token, bytes):
        try:
            token = token.decode("ascii")
        except UnicodeDecodeError:
            raise MalformedTokenError("Token must contain only the digits 0-9") from None
    elif not isinstance(token, str):
        raise MalformedTokenError("Token must be a string of digits")
    token = _CLEAN.sub("", token)
    if not token.isascii() or not token.isdigit():
        raise MalformedTokenError("Token must contain only the digits 0-9")
    if len(token) != digits:
        raise MalformedTokenError(f"Token must have exactly {digits} digits")
    return token
