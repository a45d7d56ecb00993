"""pyotp's names (pyotp 2.x), on aioctap's RFC 4226/6238 core: ``from aioctap.otp import pyotp``.

``random_base32``, ``random_hex``, ``OTP``, ``TOTP``, ``HOTP``, ``parse_uri``, ``PyOTPError``,
``OTPVerificationError``, with pyotp's arguments, defaults, checks and codes: ``TOTP(s).now()`` is a
code here, where the passlib-shaped :class:`aioctap.otp.TOTP` returns the time.

``TOTP.verify`` is pyotp's: a boolean that does not remember a used code. To refuse a replayed code,
enroll the same OTP in an :class:`aioctap.otp.OtpVerifier` (``await verifier.enroll(account, otp=totp)``)
and verify there: each accepted code advances the account's last used time step with one atomic
compare-and-set in the store. ``OtpVerifier(store, window=totp.interval)`` accepts the same steps as
``valid_window=1``.

Differences that remain (each for a reason): only SHA-1, SHA-256 and SHA-512 digests (RFC 6238 §1.2);
HOTP counters stop at 2**64 - 1 (RFC 4226's counter is 8 bytes); no Steam encoder (not RFC 4226).
Secrets never appear in a repr or an error message.
"""

from __future__ import annotations

import base64
import binascii
import calendar
import datetime
import hashlib
import re
import secrets
import time
import unicodedata
from collections.abc import Callable, Sequence
from functools import partial
from hmac import compare_digest
from typing import ClassVar, Protocol
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlparse

from . import core
from .rfc4226 import ALGORITHMS, HotpGenerator
from .serial import OtpSettings

__all__ = [
    "HOTP",
    "OTP",
    "TOTP",
    "OTPVerificationError",
    "PyOTPError",
    "parse_uri",
    "random_base32",
    "random_hex",
]

_TIMESTAMP_LIMIT = 253402300800  # 10000-01-01 00:00:00 UTC, exclusive (pyotp's range for for_time)
_MAX_COMPARISON_LENGTH = 1024  # pyotp.utils.strings_equal: longer input never matches


class PyOTPError(Exception):
    """Base class for pyotp's errors."""


class OTPVerificationError(PyOTPError):
    """An OTP does not match any permitted time step (:meth:`TOTP.verify_and_get_timecode`)."""


class _Hash(Protocol):
    @property
    def name(self) -> str: ...


class _Digest(Protocol):
    """What pyotp takes as ``digest``: a hashlib constructor such as ``hashlib.sha1``."""

    def __call__(self) -> _Hash: ...


Time = int | float | datetime.datetime


def random_base32(length: int = 32, chars: Sequence[str] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") -> str:
    """A random base32 secret of ``length`` characters (at least 32: 160 bits, RFC 4226 §4's recommendation)."""
    if length < 32:
        raise ValueError("Secrets should be at least 160 bits")
    return "".join(secrets.choice(chars) for _ in range(length))


def random_hex(length: int = 40, chars: Sequence[str] = "ABCDEF0123456789") -> str:
    """A random hexadecimal secret of ``length`` characters (at least 40: 160 bits)."""
    if length < 40:
        raise ValueError("Secrets should be at least 160 bits")
    return random_base32(length=length, chars=chars)


def _strings_equal(s1: str, s2: str) -> bool:
    """pyotp's comparison: NFKC-normalized, constant-time, nothing over 1024 code points matches."""
    if len(s1) > _MAX_COMPARISON_LENGTH or len(s2) > _MAX_COMPARISON_LENGTH:
        return False
    s1 = unicodedata.normalize("NFKC", s1)
    s2 = unicodedata.normalize("NFKC", s2)
    return compare_digest(s1.encode("utf-8"), s2.encode("utf-8"))


def _algorithm(digest: _Digest) -> str:
    try:
        name = digest().name
    except TypeError:
        raise ValueError("digest must be a hashlib constructor such as hashlib.sha1") from None
    if name not in ALGORITHMS:  # RFC 6238 §1.2
        raise ValueError("digest must be hashlib.sha1, hashlib.sha256 or hashlib.sha512 (RFC 6238)")
    return name


class OTP:
    """pyotp's base class: ``OTP(s, *, digits=6, digest=hashlib.sha1, name=None, issuer=None)``.

    ``s`` is the base32 secret (case-insensitive, padding optional); it must decode to at least
    :attr:`min_secret_length_bits` bits, as in pyotp.
    """

    min_secret_length_bits: ClassVar[int] = 112
    _key: bytes
    _codes: HotpGenerator  # computes the RFC 4226 values, the key's HMAC state cached
    _secret: str

    def __init__(
        self,
        s: str,
        *,
        digits: int = 6,
        digest: _Digest = hashlib.sha1,
        name: str | None = None,
        issuer: str | None = None,
    ) -> None:
        if isinstance(digits, bool) or not isinstance(digits, int) or not 6 <= digits <= 10:
            raise ValueError("digits must be between 6 and 10")
        self.digits = digits
        self._alg = _algorithm(digest)
        self._digest = digest
        self.name = name or "Secret"
        self.issuer = issuer
        self.secret = s  # validated, and decoded once, by the setter

    @property
    def digest(self) -> _Digest:
        """The hashlib constructor of the HMAC (RFC 6238 §1.2: SHA-1, SHA-256 or SHA-512)."""
        return self._digest

    @digest.setter
    def digest(self, digest: _Digest) -> None:
        alg = _algorithm(digest)
        self._alg, self._digest = alg, digest
        self._codes = HotpGenerator(self._key, alg, self.digits)

    @property
    def secret(self) -> str:
        """The base32 secret as given. A secret: never log it."""
        return self._secret

    @secret.setter
    def secret(self, s: str) -> None:
        key = self._decode(s)
        self._secret = s
        self._key, self._codes = key, HotpGenerator(key, self._alg, self.digits)

    def _decode(self, s: str) -> bytes:
        if not isinstance(s, str):
            raise TypeError("the secret must be a base32 string")
        padded = s + "=" * (-len(s) % 8)
        try:
            key = base64.b32decode(padded, casefold=True)
        except (binascii.Error, ValueError):
            raise ValueError("the secret is not valid base32") from None
        if len(key) * 8 < self.min_secret_length_bits:
            raise ValueError(f"Secrets must be at least {self.min_secret_length_bits} bits after decoding")
        return key

    def __repr__(self) -> str:
        kind = type(self).__name__
        return f"<{kind} digits={self.digits} digest={self._alg} name={self.name!r} issuer={self.issuer!r}>"

    def byte_secret(self) -> bytes:
        """The decoded secret. A secret: never log it."""
        return self._key

    def generate_otp(self, input: int) -> str:
        """RFC 4226 §5.3 HOTP value of counter ``input`` (0 to 2**64 - 1), ``digits`` long."""
        if input < 0:
            raise ValueError("input must be positive integer")
        if input >= 1 << 64:
            raise ValueError("input must fit in RFC 4226's 8-byte counter")
        if self._codes.digits != self.digits:  # digits set after construction, as pyotp allows it
            self._codes = HotpGenerator(self._key, self._alg, self.digits)
        return self._codes(input)

    @staticmethod
    def int_to_bytestring(i: int, *, padding: int = 8) -> bytes:
        """The counter as RFC 4226's big-endian byte string (``padding`` bytes at least)."""
        return i.to_bytes(max(padding, (i.bit_length() + 7) // 8), "big")

    def to_aioctap(self) -> core.TOTP | core.HOTP:
        """The same OTP as aioctap's passlib-shaped object (what :class:`~aioctap.otp.OtpVerifier` stores):
        here RFC 4226 codes of a counter from 0, an :class:`aioctap.otp.HOTP`."""
        return core.HOTP(self.byte_secret(), "raw", **self._settings())

    def _settings(self) -> OtpSettings:
        # aioctap's passlib-shaped objects refuse ':' in a label or issuer (it would split the URI label)
        def clean(text: str | None) -> str | None:
            return None if text is None or ":" in text else text

        return OtpSettings(digits=self.digits, alg=self._alg, label=clean(self.name), issuer=clean(self.issuer))


def _uri(
    otp: OTP,
    name: str | None,
    issuer: str | None,
    extra: dict[str, str],
    *,
    initial_count: int | None = None,
    period: int | None = None,
) -> str:
    """pyotp.utils.build_uri, character for character (Google Authenticator's Key URI format), for ``otp`` with
    its own name and issuer unless others are given."""
    args: dict[str, str | int] = {"secret": otp.secret}
    label = quote(name or otp.name)
    issuer = issuer or otp.issuer
    algorithm, digits = otp._alg, otp.digits
    if issuer is not None:
        label = quote(issuer) + ":" + label
        args["issuer"] = issuer
    if initial_count is not None:
        args["counter"] = initial_count
    if algorithm != "sha1":
        args["algorithm"] = algorithm.upper()
    if digits != 6:
        args["digits"] = digits
    if period is not None and period != 30:
        args["period"] = period
    for k, v in extra.items():
        if not isinstance(v, str):
            raise TypeError("All otpauth uri parameters must be strings")
        if k == "image":
            image = urlparse(v)
            if image.scheme != "https" or not image.netloc or not image.path:
                raise ValueError(f"{image} is not a valid url")
        args[k] = v
    kind = "hotp" if initial_count is not None else "totp"
    return f"otpauth://{kind}/{label}?{urlencode(args).replace('+', '%20')}"


class TOTP(OTP):
    """RFC 6238 TOTP: ``TOTP(s, *, digits=6, digest=None, name=None, issuer=None, interval=30)``.

    ``interval`` is the time step X in seconds, 1 to 120 as in pyotp; T0 is 0.
    """

    def __init__(
        self,
        s: str,
        *,
        digits: int = 6,
        digest: _Digest | None = None,
        name: str | None = None,
        issuer: str | None = None,
        interval: int = 30,
    ) -> None:
        if not 0 < interval <= 120:
            raise ValueError("interval must be positive and at most 120 seconds")
        self.interval = interval
        super().__init__(s, digits=digits, digest=hashlib.sha1 if digest is None else digest, name=name, issuer=issuer)

    def timecode(self, for_time: Time) -> int:
        """RFC 6238 §4.2's T: whole intervals since the epoch. A naive datetime is local time, as in pyotp."""
        message = "for_time must be at or after the Unix epoch and before year 10000 UTC"
        timestamp: int | float
        if isinstance(for_time, datetime.datetime):
            try:
                if for_time.tzinfo:
                    timestamp = calendar.timegm(for_time.utctimetuple())
                else:
                    timestamp = for_time.replace(microsecond=0).timestamp()
            except (OverflowError, OSError, ValueError):
                raise ValueError(message) from None
        else:
            timestamp = for_time
        if not 0 <= timestamp < _TIMESTAMP_LIMIT:
            raise ValueError(message)
        return int(timestamp) // self.interval

    def at(self, for_time: Time, *, counter_offset: int = 0) -> str:
        """The code at ``for_time`` (Unix time or datetime), ``counter_offset`` steps later."""
        return self.generate_otp(self.timecode(for_time) + counter_offset)

    def now(self) -> str:
        """The code at the current time."""
        return self.generate_otp(self.timecode(time.time()))

    def verify(self, otp: str | int, *, for_time: Time | None = None, valid_window: int = 0) -> bool:
        """True if ``otp`` is the code of ``for_time`` (default now) or of up to ``valid_window`` steps either side.

        It does not remember used codes: see the module's documentation for the replay-proof path.
        """
        timecode = self.timecode(time.time() if for_time is None else for_time)
        steps = range(-valid_window, valid_window + 1) if valid_window else (0,)
        return any(_strings_equal(str(otp), self.generate_otp(timecode + i)) for i in steps)

    def verify_and_get_timecode(self, otp: str | int, *, for_time: Time | None = None, valid_window: int = 0) -> int:
        """The matching time step; :class:`OTPVerificationError` when none in the window matches."""
        if valid_window < 0:
            raise ValueError("valid_window cannot be negative")
        timecode = self.timecode(time.time() if for_time is None else for_time)
        for i in range(-valid_window, valid_window + 1):
            if _strings_equal(str(otp), self.generate_otp(timecode + i)):
                return timecode + i
        raise OTPVerificationError("OTP verification failed")

    def provisioning_uri(self, *, name: str | None = None, issuer_name: str | None = None, **kwargs: str) -> str:
        """The otpauth://totp/ URI an authenticator app reads (pyotp's, character for character)."""
        return _uri(self, name, issuer_name, kwargs, period=self.interval)

    def to_aioctap(self) -> core.TOTP:
        """This TOTP as :class:`aioctap.otp.TOTP` (passlib's shape), with the same key, digits, digest and step."""
        return core.TOTP(self.byte_secret(), "raw", period=self.interval, **self._settings())


class HOTP(OTP):
    """RFC 4226 HOTP: ``HOTP(s, *, digits=6, digest=None, name=None, issuer=None, initial_count=0)``."""

    def __init__(
        self,
        s: str,
        *,
        digits: int = 6,
        digest: _Digest | None = None,
        name: str | None = None,
        issuer: str | None = None,
        initial_count: int = 0,
    ) -> None:
        self.initial_count = initial_count
        super().__init__(s, digits=digits, digest=hashlib.sha1 if digest is None else digest, name=name, issuer=issuer)

    def at(self, count: int) -> str:
        """The code of counter ``initial_count + count``."""
        return self.generate_otp(self.initial_count + count)

    def verify(self, otp: str | int, counter: int) -> bool:
        """True if ``otp`` is :meth:`at` ``(counter)``. It advances no counter (see the module's documentation)."""
        return _strings_equal(str(otp), self.at(counter))

    def provisioning_uri(
        self,
        *,
        name: str | None = None,
        initial_count: int | None = None,
        issuer_name: str | None = None,
        **kwargs: str,
    ) -> str:
        """The otpauth://hotp/ URI an authenticator app reads (pyotp's, character for character)."""
        count = initial_count if initial_count is not None else self.initial_count
        return _uri(self, name, issuer_name, kwargs, initial_count=count)

    def to_aioctap(self) -> core.HOTP:
        """This HOTP as :class:`aioctap.otp.HOTP`, expecting ``initial_count`` next."""
        return core.HOTP(self.byte_secret(), "raw", counter=self.initial_count, **self._settings())


_DIGESTS: dict[str, _Digest] = {name.upper(): digest for name, digest in ALGORITHMS.items()}
_SECURITY_PARAMETERS = frozenset({"secret", "issuer", "algorithm", "encoder", "digits", "period", "counter"})


def parse_uri(uri: str) -> TOTP | HOTP:
    """An otpauth:// URI's TOTP or HOTP, with pyotp's rules (Google Authenticator's Key URI format)."""
    parsed = urlparse(uri)
    if parsed.scheme != "otpauth":
        raise ValueError("Not an otpauth URI")
    secret: str | None = None
    encoder: str | None = None
    digits: int | None = None
    issuer: str | None = None
    digest: _Digest | None = None
    interval: int | None = None
    initial_count: int | None = None
    # split the label on a literal ':' before unquoting: %3A is a colon inside the issuer or the name
    parts = re.split(":", parsed.path[1:], maxsplit=1)
    if len(parts) == 1:
        name = unquote(parts[0])
    else:
        issuer, name = unquote(parts[0]), unquote(parts[1])
    seen: set[str] = set()
    for key, value in parse_qsl(parsed.query, keep_blank_values=True):
        if key in _SECURITY_PARAMETERS:
            if key in seen:
                raise ValueError(f"Duplicate {key} parameter")
            seen.add(key)
        if not value:
            continue
        if key == "secret":
            secret = value
        elif key == "issuer":
            if issuer is not None and issuer != value:
                raise ValueError("If issuer is specified in both label and parameters, it should be equal.")
            issuer = value
        elif key == "algorithm":
            if value not in _DIGESTS:
                raise ValueError("Invalid value for algorithm, must be SHA1, SHA256 or SHA512")
            digest = _DIGESTS[value]
        elif key == "encoder":
            encoder = value
        elif key == "digits":
            digits = int(value)
        elif key == "period":
            interval = int(value)
        elif key == "counter":
            initial_count = int(value)
    if encoder == "steam":
        raise ValueError("the Steam encoder is not supported (its codes are not RFC 4226 digits)")
    if digits is not None and digits not in (6, 7, 8):
        raise ValueError("Digits may only be 6, 7, or 8")
    if not secret:
        raise ValueError("No secret found in URI")
    kinds: dict[str, Callable[..., TOTP | HOTP]] = {
        "totp": partial(TOTP, interval=30 if interval is None else interval),
        "hotp": partial(HOTP, initial_count=0 if initial_count is None else initial_count),
    }
    if parsed.netloc not in kinds:
        raise ValueError("Not a supported OTP type")
    return kinds[parsed.netloc](secret, digits=6 if digits is None else digits, digest=digest, name=name, issuer=issuer)
