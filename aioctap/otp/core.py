"""HOTP (RFC 4226) and TOTP (RFC 6238) with passlib.totp's API: the sans-IO core (time is a parameter).

Names follow passlib (seed 002): ``BaseOTP``, ``TOTP``, ``HOTP``, ``TotpToken``, ``TotpMatch``,
``HotpMatch``, ``generate_secret``. Keys never appear in a repr or an error message.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import math
import os
import re
import secrets
import struct
import time as _time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from .errors import InvalidTokenError, KeyFormatError, MalformedTokenError, UsedTokenError

if TYPE_CHECKING:
    from .context import OTPContext

__all__ = [
    "HOTP",
    "TOTP",
    "BaseOTP",
    "HotpMatch",
    "TotpMatch",
    "TotpToken",
    "b32decode",
    "b32encode",
    "generate_secret",
    "hotp",
]

ALGORITHMS = {"sha1": hashlib.sha1, "sha256": hashlib.sha256, "sha512": hashlib.sha512}
_CLEAN = re.compile(r"[\s-]")
_B32 = re.compile(r"^[A-Z2-7]*$")


def generate_secret(entropy: int = 256) -> str:
    """A random application secret for :class:`~aioctap.otp.OTPContext` (url-safe, ``entropy`` bits)."""
    return secrets.token_urlsafe(math.ceil(entropy / 8))


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


def hotp(key: bytes, counter: int, digits: int = 6, alg: str = "sha1") -> str:
    """RFC 4226 §5.3: HMAC, dynamic truncation, modulo 10^digits, zero padded."""
    if counter < 0 or counter >= 1 << 64:
        raise ValueError("counter must fit in an unsigned 64-bit integer")
    digest = hmac.new(key, struct.pack(">Q", counter), ALGORITHMS[alg]).digest()
    offset = digest[-1] & 0x0F
    (value,) = struct.unpack_from(">I", digest, offset)
    return str((value & 0x7FFFFFFF) % 10**digits).zfill(digits)


def _normalize_time(time: float | int | None) -> int:
    if time is None:
        return int(_time.time())
    if isinstance(time, bool) or not isinstance(time, int | float):
        raise TypeError("time must be an int or float (seconds since the epoch)")
    return int(time)


class BaseOTP:
    """What TOTP and HOTP share: the key, digits, algorithm, label and issuer."""

    KIND: ClassVar[str] = ""
    MIN_KEY_SIZE = 10

    def __init__(
        self,
        key: str | bytes | None = None,
        format: str = "base32",
        *,
        new: bool = False,
        digits: int = 6,
        alg: str = "sha1",
        label: str | None = None,
        issuer: str | None = None,
        size: int | None = None,
    ) -> None:
        if alg.lower() not in ALGORITHMS:
            raise KeyFormatError(f"unsupported algorithm {alg!r}: use sha1, sha256 or sha512")
        self.alg = alg.lower()
        if not isinstance(digits, int) or not 6 <= digits <= 10:
            raise KeyFormatError("digits must be 6 to 10")
        self.digits = digits
        self.label = label
        self.issuer = issuer
        if label is not None and ":" in label:
            raise KeyFormatError("label must not contain ':'")
        if issuer is not None and ":" in issuer:
            raise KeyFormatError("issuer must not contain ':'")
        if new or key is None:
            if key is not None:
                raise TypeError("'key' and 'new=True' are mutually exclusive")
            self.key = os.urandom(size or ALGORITHMS[self.alg]().digest_size)
        elif isinstance(key, bytes) and format == "raw":
            self.key = key
        elif isinstance(key, str) and format == "base32":
            self.key = b32decode(key)
        elif isinstance(key, str) and format == "hex":
            try:
                self.key = bytes.fromhex(key)
            except ValueError:
                raise KeyFormatError("key is not valid hexadecimal") from None
        else:
            raise KeyFormatError(f"key format {format!r} does not fit a {type(key).__name__} key")
        if len(self.key) < self.MIN_KEY_SIZE:
            raise KeyFormatError(f"key must be at least {self.MIN_KEY_SIZE} bytes")

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__} digits={self.digits} alg={self.alg} issuer={self.issuer!r} label={self.label!r}>"
        )

    @property
    def base32_key(self) -> str:
        return b32encode(self.key)

    @property
    def hex_key(self) -> str:
        return self.key.hex()

    def pretty_key(self, format: str = "base32", sep: str = "-") -> str:
        """The key in groups of four, for reading aloud or typing."""
        text = self.base32_key if format == "base32" else self.hex_key
        return sep.join(text[i : i + 4] for i in range(0, len(text), 4))

    def normalize_token(self, token: str | int | bytes) -> str:
        """Digits only, exactly ``digits`` of them (spaces and dashes dropped)."""
        if isinstance(token, bool):
            raise MalformedTokenError("Token must be a string of digits")
        if isinstance(token, int):
            if token < 0:
                raise MalformedTokenError("Token must not be negative")
            token = str(token).zfill(self.digits)
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
        if len(token) != self.digits:
            raise MalformedTokenError(f"Token must have exactly {self.digits} digits")
        return token

    def _generate(self, counter: int) -> str:
        return hotp(self.key, counter, self.digits, self.alg)

    # -- otpauth URIs -------------------------------------------------------------------------------

    def _uri_params(self) -> dict[str, str]:
        return {}

    def to_uri(self, label: str | None = None, issuer: str | None = None) -> str:
        """The Key URI Google Authenticator reads: ``otpauth://totp/Issuer:label?secret=...&issuer=...``."""
        label = label or self.label
        issuer = issuer or self.issuer
        if not label:
            raise KeyFormatError("a label (the account name) is needed for an otpauth URI")
        path = quote(f"{issuer}:{label}" if issuer else label, safe=":@")
        params = {"secret": self.base32_key}
        if issuer:
            params["issuer"] = issuer
        if self.alg != "sha1":
            params["algorithm"] = self.alg.upper()
        if self.digits != 6:
            params["digits"] = str(self.digits)
        params.update(self._uri_params())
        query = "&".join(f"{k}={quote(v, safe='')}" for k, v in params.items())
        return f"otpauth://{self.KIND}/{path}?{query}"

    @staticmethod
    def from_uri(uri: str) -> TOTP | HOTP:
        """Parse an otpauth URI (``totp`` or ``hotp``); :class:`KeyFormatError` says what is wrong."""
        if not isinstance(uri, str):
            raise KeyFormatError("otpauth URI must be a string")
        try:
            parts = urlsplit(uri.strip())
        except ValueError:
            raise KeyFormatError("not a valid URI") from None
        if parts.scheme.lower() != "otpauth":
            raise KeyFormatError("URI scheme must be otpauth")
        kind = parts.netloc.lower()
        if kind not in ("totp", "hotp"):
            raise KeyFormatError(f"unknown OTP type {kind!r}: expected totp or hotp")
        label_text = unquote(parts.path.lstrip("/"))
        if not label_text:
            raise KeyFormatError("otpauth URI has no label")
        issuer_prefix, sep, label = label_text.partition(":")
        if not sep:
            issuer_prefix, label = "", label_text
        label = label.strip()
        params: dict[str, str] = {}
        for k, v in parse_qsl(parts.query, keep_blank_values=True):
            if k in params:
                raise KeyFormatError(f"parameter {k!r} appears twice")
            params[k] = v
        if "secret" not in params:
            raise KeyFormatError("otpauth URI has no secret")
        issuer = params.get("issuer") or issuer_prefix or None
        if issuer_prefix and params.get("issuer") and params["issuer"] != issuer_prefix:
            raise KeyFormatError("issuer parameter and label prefix disagree")
        kwds: dict[str, Any] = {"label": label or None, "issuer": issuer}
        if "algorithm" in params:
            kwds["alg"] = params["algorithm"].lower()
        if "digits" in params:
            if not params["digits"].isdigit():
                raise KeyFormatError("digits must be a number")
            kwds["digits"] = int(params["digits"])
        if kind == "totp":
            if "period" in params:
                if not params["period"].isdigit() or int(params["period"]) < 1:
                    raise KeyFormatError("period must be a positive number of seconds")
                kwds["period"] = int(params["period"])
            return TOTP(params["secret"], **kwds)
        if "counter" not in params or not params["counter"].isdigit():
            raise KeyFormatError("an hotp URI needs a numeric counter")
        return HOTP(params["secret"], counter=int(params["counter"]), **kwds)

    # -- serialization --------------------------------------------------------------------------------

    def to_dict(self, context: OTPContext | None = None, encrypt: bool | None = None) -> dict[str, Any]:
        """A JSON-able dict; the key is encrypted when a context that can encrypt is given."""
        d: dict[str, Any] = {"type": self.KIND, "v": 1}
        if self.alg != "sha1":
            d["alg"] = self.alg
        if self.digits != 6:
            d["digits"] = self.digits
        if self.label:
            d["label"] = self.label
        if self.issuer:
            d["issuer"] = self.issuer
        d.update(self._extra_dict())
        if context is not None and context.can_encrypt and encrypt is not False:
            d["enckey"] = context.encrypt_key(self.key)
        elif encrypt:
            raise KeyFormatError("encrypt=True needs an OTPContext with an application secret")
        else:
            d["key"] = self.base32_key
        return d

    def _extra_dict(self) -> dict[str, Any]:
        return {}

    def to_json(self, context: OTPContext | None = None, encrypt: bool | None = None) -> str:
        return json.dumps(self.to_dict(context, encrypt), separators=(",", ":"), sort_keys=True)

    @staticmethod
    def from_dict(d: Any, context: OTPContext | None = None) -> TOTP | HOTP:
        if not isinstance(d, dict) or d.get("v") != 1 or d.get("type") not in ("totp", "hotp"):
            raise KeyFormatError("not a serialized OTP (expected a dict with type totp/hotp and v=1)")
        kwds: dict[str, Any] = {k: d[k] for k in ("alg", "digits", "label", "issuer") if k in d}
        if "enckey" in d:
            if context is None:
                raise KeyFormatError("this OTP's key is encrypted: an OTPContext is needed")
            key, _ = context.decrypt_key(d["enckey"])
            kwds.update(key=key, format="raw")
        elif isinstance(d.get("key"), str):
            kwds["key"] = d["key"]
        else:
            raise KeyFormatError("serialized OTP has no key")
        try:
            if d["type"] == "totp":
                return TOTP(**kwds, **{k: d[k] for k in ("period", "t0") if k in d})
            return HOTP(**kwds, counter=int(d.get("counter", 0)))
        except TypeError as e:
            raise KeyFormatError(f"serialized OTP has a mistyped member: {e}") from None

    @staticmethod
    def from_json(source: str | bytes, context: OTPContext | None = None) -> TOTP | HOTP:
        try:
            return BaseOTP.from_dict(json.loads(source), context)
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
            raise KeyFormatError("serialized OTP is not valid JSON") from None

    @staticmethod
    def from_source(source: str | dict[str, Any] | BaseOTP, context: OTPContext | None = None) -> BaseOTP:
        """From an otpauth URI, a JSON string, a dict, or an OTP object."""
        if isinstance(source, BaseOTP):
            return source
        if isinstance(source, dict):
            return BaseOTP.from_dict(source, context)
        if isinstance(source, str) and source.startswith("otpauth://"):
            return BaseOTP.from_uri(source)
        return BaseOTP.from_json(source, context)


@dataclass(frozen=True)
class TotpToken:
    """A generated TOTP token and its validity period (passlib.totp.TotpToken)."""

    totp: TOTP
    token: str
    counter: int
    time: int

    @property
    def start_time(self) -> int:
        return self.totp._counter_to_time(self.counter)

    @property
    def expire_time(self) -> int:
        return self.totp._counter_to_time(self.counter + 1)

    @property
    def remaining(self) -> float:
        return max(0.0, self.expire_time - _time.time())

    @property
    def valid(self) -> bool:
        return bool(self.remaining)

    def __iter__(self) -> Any:
        return iter((self.token, self.expire_time))

    def __repr__(self) -> str:
        return f"<TotpToken token='{self.token}' expire_time={self.expire_time}>"


@dataclass(frozen=True)
class TotpMatch:
    """A successful TOTP match (passlib.totp.TotpMatch); acts as the tuple (counter, time)."""

    totp: TOTP
    counter: int
    time: int
    window: int = 30

    @property
    def expected_counter(self) -> int:
        return self.totp._time_to_counter(self.time)

    @property
    def skipped(self) -> int:
        return self.counter - self.expected_counter

    @property
    def expire_time(self) -> int:
        return self.totp._counter_to_time(self.counter + 1)

    @property
    def cache_seconds(self) -> int:
        return self.totp.period + self.window

    @property
    def cache_time(self) -> int:
        return self.expire_time + self.window

    def __iter__(self) -> Any:
        return iter((self.counter, self.time))

    def __len__(self) -> int:
        return 2

    def __getitem__(self, i: int) -> int:
        return (self.counter, self.time)[i]

    def __bool__(self) -> bool:
        return True

    def __repr__(self) -> str:
        return f"<TotpMatch counter={self.counter} time={self.time} cache_seconds={self.cache_seconds}>"


class TOTP(BaseOTP):
    """RFC 6238 time-based OTP: ``TOTP(key=None, format="base32", *, new=False, period=30, t0=0, ...)``."""

    KIND = "totp"

    def __init__(
        self, key: str | bytes | None = None, format: str = "base32", *, period: int = 30, t0: int = 0, **kwds: Any
    ) -> None:
        super().__init__(key, format, **kwds)
        if not isinstance(period, int) or isinstance(period, bool) or period < 1:
            raise KeyFormatError("period must be a positive whole number of seconds")
        if not isinstance(t0, int) or isinstance(t0, bool):
            raise KeyFormatError("t0 must be an integer")
        self.period = period
        self.t0 = t0

    def _time_to_counter(self, time: int) -> int:
        return (time - self.t0) // self.period

    def _counter_to_time(self, counter: int) -> int:
        return counter * self.period + self.t0

    def _uri_params(self) -> dict[str, str]:
        return {"period": str(self.period)} if self.period != 30 else {}

    def _extra_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {}
        if self.period != 30:
            d["period"] = self.period
        if self.t0:
            d["t0"] = self.t0
        return d

    def generate(self, time: float | int | None = None) -> TotpToken:
        """The token for ``time`` (default: now)."""
        t = _normalize_time(time)
        counter = self._time_to_counter(t)
        if counter < 0:
            raise ValueError("time is before T0")
        return TotpToken(self, self._generate(counter), counter, t)

    def match(
        self,
        token: str | int | bytes,
        time: float | int | None = None,
        window: int = 30,
        skew: int = 0,
        last_counter: int | None = None,
        reuse: bool = False,
    ) -> TotpMatch:
        """Check ``token`` within ``window`` seconds either side of ``time + skew``.

        Counters at or before ``last_counter`` never match: the last one raises
        :class:`UsedTokenError` (unless ``reuse``), earlier ones are outside the search.
        """
        token = self.normalize_token(token)
        if not isinstance(window, int) or window < 0:
            raise ValueError("window must be a non-negative integer")
        t = _normalize_time(time)
        client_time = t + int(skew)
        last = -1 if last_counter is None else last_counter
        start = max(last, self._time_to_counter(client_time - window), 0)
        end = self._time_to_counter(client_time + window) + 1
        counter = self._find_match(token, start, end)
        if counter == last and not reuse:
            raise UsedTokenError(expire_time=self._counter_to_time(last + 1))
        return TotpMatch(self, counter, t, window)

    def _find_match(self, token: str, start: int, end: int) -> int:
        found = None
        for counter in range(start, end):
            # compare every candidate, keep the first match: the time taken does not depend on where it matched
            if hmac.compare_digest(token, self._generate(counter)) and found is None:
                found = counter
        if found is None:
            raise InvalidTokenError()
        return found

    def verify(self, token: str | int | bytes, time: float | int | None = None, **kwds: Any) -> TotpMatch:
        """Alias of :meth:`match`."""
        return self.match(token, time, **kwds)


@dataclass(frozen=True)
class HotpMatch:
    """A successful HOTP match: the matching counter and the next counter to expect."""

    hotp: HOTP
    counter: int
    expected_counter: int

    @property
    def skipped(self) -> int:
        return self.counter - self.expected_counter

    @property
    def next_counter(self) -> int:
        return self.counter + 1

    def __repr__(self) -> str:
        return f"<HotpMatch counter={self.counter} skipped={self.skipped}>"


class HOTP(BaseOTP):
    """RFC 4226 counter-based OTP; ``counter`` is the next counter the server expects."""

    KIND = "hotp"

    def __init__(
        self, key: str | bytes | None = None, format: str = "base32", *, counter: int = 0, **kwds: Any
    ) -> None:
        super().__init__(key, format, **kwds)
        if not isinstance(counter, int) or isinstance(counter, bool) or counter < 0:
            raise KeyFormatError("counter must be a non-negative integer")
        self.counter = counter

    def _uri_params(self) -> dict[str, str]:
        return {"counter": str(self.counter)}

    def _extra_dict(self) -> dict[str, Any]:
        return {"counter": self.counter}

    def generate(self, counter: int | None = None) -> str:
        """The token for ``counter`` (default: the expected one)."""
        return self._generate(self.counter if counter is None else counter)

    def match(self, token: str | int | bytes, counter: int | None = None, window: int = 10) -> HotpMatch:
        """Look ahead from ``counter`` (default: the expected one) up to ``window`` steps; never backwards."""
        token = self.normalize_token(token)
        expected = self.counter if counter is None else counter
        found = None
        for c in range(expected, expected + window + 1):
            if hmac.compare_digest(token, self._generate(c)) and found is None:
                found = c
        if found is None:
            raise InvalidTokenError()
        return HotpMatch(self, found, expected)

    def advance(self, match: HotpMatch) -> None:
        """Move the expected counter past a match (so the token cannot be used again)."""
        self.counter = max(self.counter, match.next_counter)
