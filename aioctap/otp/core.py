"""HOTP (RFC 4226) and TOTP (RFC 6238) with passlib.totp's API: the sans-IO core (time is a parameter).

Names follow passlib (seed 002): ``BaseOTP``, ``TOTP``, ``HOTP``, ``TotpToken``, ``TotpMatch``,
``HotpMatch``, ``generate_secret``. Keys never appear in a repr or an error message. The RFC 4226 values
come from :mod:`~aioctap.otp.rfc4226`, otpauth URIs from :mod:`~aioctap.otp.uri`, the encryption of keys at
rest from :mod:`~aioctap.otp.wallet`; this module holds the classes and their JSON form.
"""

from __future__ import annotations

import hmac
import json
import os
import time as _time
import warnings
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import partial
from typing import ClassVar, Concatenate, Generic, ParamSpec, Self, TypeVar, Unpack

from .base32 import b32decode, b32encode, decode_key
from .errors import InvalidTokenError, KeyFormatError, OtpSecurityWarning, UsedTokenError
from .rfc4226 import ALGORITHMS, COUNTER_LIMIT, HotpGenerator, hotp, normalize_token
from .serial import HotpSettings, MatchOptions, OtpDict, OtpSettings, TotpSettings, read, write_key
from .uri import check_name, format_uri, parse_uri
from .wallet import AppWallet, EncryptedKey, EncryptFormat, generate_secret

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


def _normalize_time(time: float | int | None) -> int:
    if time is None:
        return int(_time.time())
    if isinstance(time, bool) or not isinstance(time, int | float):
        raise TypeError("time must be an int or float (seconds since the epoch)")
    return int(time)


_P = ParamSpec("_P")
_R = TypeVar("_R")


class _hybridmethod(Generic[_P, _R]):
    """passlib's hybrid_method: bound to the instance when read on one, to the class when read on a class."""

    def __init__(self, func: Callable[Concatenate[BaseOTP | type[BaseOTP], _P], _R]) -> None:
        self.__func__ = func
        self.__doc__ = func.__doc__

    def __get__(self, obj: BaseOTP | None, owner: type[BaseOTP]) -> Callable[_P, _R]:
        return partial(self.__func__, owner if obj is None else obj)


class _Wallet:
    """The class's wallet (its :attr:`~BaseOTP.context`) whether read on the class (``TotpFactory.wallet``) or an
    instance."""

    def __get__(self, obj: BaseOTP | None, owner: type[BaseOTP]) -> AppWallet | None:
        return owner.context


class BaseOTP:
    """What TOTP and HOTP share: the key, digits, algorithm, label and issuer."""

    KIND: ClassVar[str] = ""
    MIN_KEY_SIZE = 10
    #: defaults of this class (see :meth:`using`)
    digits_default: ClassVar[int] = 6
    alg_default: ClassVar[str] = "sha1"
    issuer_default: ClassVar[str | None] = None
    #: the wallet (an :class:`~aioctap.otp.OTPContext` or AppWallet) that to_dict/to_json/from_json use when
    #: none is passed
    context: ClassVar[AppWallet | None] = None
    #: the serialization format version written, and the oldest one read
    json_version: ClassVar[int] = 1
    min_json_version: ClassVar[int] = 1

    def __init__(
        self,
        key: str | bytes | None = None,
        format: str = "base32",
        *,
        new: bool = False,
        digits: int | None = None,
        alg: str | None = None,
        label: str | None = None,
        issuer: str | None = None,
        size: int | None = None,
        changed: bool = False,
    ) -> None:
        digits = self.digits_default if digits is None else digits
        alg = self.alg_default if alg is None else alg
        issuer = self.issuer_default if issuer is None else issuer
        #: True when the stored form should be written again (e.g. its key needs re-encryption)
        self.changed = changed
        if not isinstance(alg, str) or alg.lower() not in ALGORITHMS:
            raise KeyFormatError(f"unsupported algorithm {alg!r}: use sha1, sha256 or sha512")
        self.alg = alg.lower()
        if not isinstance(digits, int) or not 6 <= digits <= 10:
            raise KeyFormatError("digits must be 6 to 10")
        self.digits = digits
        self.label = check_name("label", label)
        self.issuer = check_name("issuer", issuer)
        if new or key is None:
            if key is not None:
                raise TypeError("'key' and 'new=True' are mutually exclusive")
            self.key = os.urandom(size or ALGORITHMS[self.alg]().digest_size)
        else:
            self.key = decode_key(key, format)
        if len(self.key) < self.MIN_KEY_SIZE:
            # passlib's rule: a new key that short is refused, an existing one (already in an
            # authenticator app) is used with a warning
            message = f"for security purposes, a key must be at least {self.MIN_KEY_SIZE} bytes"
            if new or not self.key:
                raise KeyFormatError(message)
            warnings.warn(message, OtpSecurityWarning, stacklevel=2)

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__} digits={self.digits} alg={self.alg} issuer={self.issuer!r} label={self.label!r}>"
        )

    #: passlib's name for the class's :attr:`context`, read on the class or an instance
    wallet: ClassVar[_Wallet] = _Wallet()

    @property
    def base32_key(self) -> str:
        """The key in base32 without padding (the form of otpauth:// URIs). A secret: never log it."""
        return b32encode(self.key)

    @property
    def hex_key(self) -> str:
        """The key in hexadecimal. A secret: never log it."""
        return self.key.hex()

    def pretty_key(self, format: str = "base32", sep: str = "-") -> str:
        """The key in groups of four, for reading aloud or typing."""
        text = self.base32_key if format == "base32" else self.hex_key
        return sep.join(text[i : i + 4] for i in range(0, len(text), 4))

    @_hybridmethod
    def normalize_token(self_or_cls: BaseOTP | type[BaseOTP], token: str | int | bytes) -> str:
        """Digits only, exactly ``digits`` of them (spaces and dashes dropped).

        Like passlib's, callable on an instance (its digits) or on a class (its default digits).
        """
        digits = self_or_cls.digits if isinstance(self_or_cls, BaseOTP) else self_or_cls.digits_default
        return normalize_token(token, digits)

    _codes: HotpGenerator | None = None

    def __setattr__(self, name: str, value: object) -> None:
        if name == "key" or name == "alg" or name == "digits":  # they decide the codes: a new generator
            object.__setattr__(self, "_codes", None)
        object.__setattr__(self, name, value)

    def _generator(self) -> HotpGenerator:
        """This key's :class:`~aioctap.otp.rfc4226.HotpGenerator`, made on first use."""
        codes = self._codes
        if codes is None:
            codes = self._codes = HotpGenerator(self.key, self.alg, self.digits)
        return codes

    def _generate(self, counter: int) -> str:
        if not 0 <= counter < COUNTER_LIMIT:
            raise ValueError("counter must fit in an unsigned 64-bit integer")
        return self._generator()(counter)

    # -- otpauth URIs -------------------------------------------------------------------------------

    def _uri_params(self) -> dict[str, str]:
        return {}

    def to_uri(self, label: str | None = None, issuer: str | None = None) -> str:
        """The Key URI Google Authenticator reads: ``otpauth://totp/Issuer:label?secret=...&issuer=...``."""
        label = label or self.label
        issuer = issuer or self.issuer
        if not label:
            raise KeyFormatError("a label (the account name) is needed for an otpauth URI")
        return format_uri(self.KIND, self.base32_key, label, issuer, self.alg, self.digits, self._uri_params())

    @classmethod
    def from_uri(cls, uri: str) -> TOTP | HOTP:
        """Parse an otpauth URI (``totp`` or ``hotp``); :class:`KeyFormatError` says what is wrong."""
        fields = parse_uri(uri)
        settings = OtpSettings(
            label=fields["label"], issuer=fields["issuer"], alg=fields["alg"], digits=fields["digits"]
        )
        if fields["kind"] == "totp":
            return (cls if issubclass(cls, TOTP) else TOTP)(fields["secret"], period=fields.get("period"), **settings)
        return (cls if issubclass(cls, HOTP) else HOTP)(fields["secret"], counter=fields["counter"], **settings)

    # -- serialization --------------------------------------------------------------------------------

    def to_dict(self, encrypt: bool | AppWallet | None = None, context: AppWallet | None = None) -> OtpDict:
        """A JSON-able dict (passlib's ``to_dict(encrypt=None)``).

        The key is encrypted when a context that can encrypt is at hand (``context``, an OTPContext
        passed as the first argument, or the class's :attr:`context`) unless ``encrypt=False``;
        ``encrypt=True`` without one raises :class:`KeyFormatError`.
        """
        if isinstance(encrypt, AppWallet):
            encrypt, context = None, encrypt
        context = context if context is not None else type(self).context
        d: OtpDict = {"type": "totp" if self.KIND == "totp" else "hotp", "v": 1}
        if self.alg != "sha1":
            d["alg"] = self.alg
        if self.digits != 6:
            d["digits"] = self.digits
        if self.label:
            d["label"] = self.label
        if self.issuer:
            d["issuer"] = self.issuer
        self._extra_dict(d)
        return write_key(d, self.key, context, encrypt)

    @property
    def encrypted_key(self) -> EncryptedKey:
        """The key encrypted with the class's :attr:`context` (passlib's ``encrypted_key``)."""
        context = type(self).context
        if context is None or not context.can_encrypt:
            raise KeyFormatError("no OTPContext with an application secret: use TOTP.using(secrets=...)")
        return context.encrypt_key(self.key)

    def _extra_dict(self, d: OtpDict) -> None:
        pass

    def to_json(self, encrypt: bool | AppWallet | None = None, context: AppWallet | None = None) -> str:
        """:meth:`to_dict` as compact JSON."""
        return json.dumps(self.to_dict(encrypt, context), separators=(",", ":"), sort_keys=True)

    @classmethod
    def from_dict(cls, d: object, context: AppWallet | None = None) -> TOTP | HOTP:
        """Load :meth:`to_dict`'s output; ``changed`` is set when it should be stored again
        (its key was encrypted under an old tag or cost, or is in clear though the context can encrypt)."""
        kind, key, format, settings = read(d, context if context is not None else cls.context)
        assert isinstance(d, dict)
        target: type[TOTP] | type[HOTP] = TOTP if kind == "totp" else HOTP
        if issubclass(cls, target):
            target = cls
        try:
            if issubclass(target, TOTP):
                return target(key, format, period=d.get("period", 30), t0=d.get("t0", 0), **settings)
            return target(key, format, counter=d.get("counter", 0), **settings)
        except (TypeError, AttributeError) as e:
            raise KeyFormatError(f"serialized OTP has a mistyped member: {type(e).__name__}") from None

    @classmethod
    def from_json(cls, source: str | bytes, context: AppWallet | None = None) -> TOTP | HOTP:
        """Load :meth:`to_json`'s output."""
        try:
            data = json.loads(source)
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
            raise KeyFormatError("serialized OTP is not valid JSON") from None
        return cls.from_dict(data, context)

    @classmethod
    def from_source(
        cls, source: str | bytes | Mapping[str, object] | BaseOTP, context: AppWallet | None = None
    ) -> BaseOTP:
        """From an otpauth URI, a JSON string, a dict, or an OTP object."""
        if isinstance(source, BaseOTP):
            return source
        if isinstance(source, Mapping):
            return cls.from_dict(source, context)
        if isinstance(source, str) and source.strip().lower().startswith("otpauth://"):
            return cls.from_uri(source)
        return cls.from_json(source, context)

    @classmethod
    def new(cls, **kwds: Unpack[OtpSettings]) -> Self:
        """A new random key (passlib's ``TOTP.new()``): ``cls(new=True, **kwds)``."""
        return cls(new=True, **kwds)


@dataclass(frozen=True)
class TotpToken:
    """A generated TOTP token and its validity period (passlib.totp.TotpToken)."""

    totp: TOTP
    token: str
    counter: int
    time: int

    @property
    def start_time(self) -> int:
        """Unix time at which this token's time step (RFC 6238 §4.2) begins."""
        return self.totp._counter_to_time(self.counter)

    @property
    def expire_time(self) -> int:
        """Unix time at which this token's time step ends."""
        return self.totp._counter_to_time(self.counter + 1)

    @property
    def remaining(self) -> float:
        """Seconds until the token expires (0.0 once expired), by the wall clock."""
        return max(0.0, self.expire_time - _time.time())

    @property
    def valid(self) -> bool:
        """True while the token has not expired, by the wall clock."""
        return bool(self.remaining)

    def __iter__(self) -> Iterator[str | int]:
        return iter((self.token, self.expire_time))

    def __repr__(self) -> str:
        return f"<TotpToken token='{self.token}' expire_time={self.expire_time}>"


@dataclass(slots=True)
class TotpMatch:
    """A successful TOTP match (passlib.totp.TotpMatch); acts as the tuple (counter, time)."""

    totp: TOTP
    counter: int
    time: int
    window: int = 30

    @property
    def expected_counter(self) -> int:
        """The time step (RFC 6238 §4.2) of the verification time."""
        return self.totp._time_to_counter(self.time)

    @property
    def skipped(self) -> int:
        """How many steps the matched token is away from the expected one (negative: an older token)."""
        return self.counter - self.expected_counter

    @property
    def expire_time(self) -> int:
        """Unix time at which the matched token's time step ends."""
        return self.totp._counter_to_time(self.counter + 1)

    @property
    def cache_seconds(self) -> int:
        """How long to remember the used counter to block its replay: one period plus the window."""
        return self.totp.period + self.window

    @property
    def cache_time(self) -> int:
        """Unix time until which the used counter must be remembered to block its replay."""
        return self.expire_time + self.window

    def __iter__(self) -> Iterator[int]:
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
    period_default: ClassVar[int] = 30
    #: the clock :meth:`now` reads (passlib's ``now``); set with :meth:`using`
    clock: ClassVar[Callable[[], float]] = staticmethod(_time.time)

    def __init__(
        self,
        key: str | bytes | None = None,
        format: str = "base32",
        *,
        period: int | None = None,
        t0: int = 0,
        new: bool = False,
        **kwds: Unpack[OtpSettings],
    ) -> None:
        super().__init__(key, format, new=new, **kwds)
        period = self.period_default if period is None else period
        if not isinstance(period, int) or isinstance(period, bool) or period < 1:
            raise KeyFormatError("period must be a positive whole number of seconds")
        if not isinstance(t0, int) or isinstance(t0, bool) or not -(2**63) <= t0 < 2**63:
            # a signed 64-bit Unix time: from any such T0 the step counter of any time from then
            # until 2^63 s fits RFC 4226's 8-byte counter
            raise KeyFormatError("t0 must be an integer of at most 64 bits (seconds since the epoch)")
        self.period = period
        self.t0 = t0

    @classmethod
    def using(
        cls,
        digits: int | None = None,
        alg: str | None = None,
        period: int | None = None,
        issuer: str | None = None,
        wallet: AppWallet | None = None,
        now: Callable[[], float] | None = None,
        *,
        context: AppWallet | None = None,
        secrets: dict[str | int, str | bytes] | dict[str, str] | dict[int, str] | str | None = None,
        secrets_path: str | os.PathLike[str] | None = None,
        default_tag: str | int | None = None,
        encrypt_cost: int | str | None = None,
        encrypt_format: EncryptFormat | None = None,
    ) -> type[TOTP]:
        """A subclass with these defaults and this wallet (passlib's ``TOTP.using``).

        ``TotpFactory = TOTP.using(issuer="ACME", secrets={"1": generate_secret()})``; then
        ``TotpFactory.new()`` makes keys whose ``to_json()`` is encrypted, and
        ``TotpFactory.from_json(...)`` decrypts them. ``wallet`` is passlib's name for ``context``;
        ``secrets``, ``secrets_path``, ``default_tag``, ``encrypt_cost`` and ``encrypt_format`` make
        a new :class:`~aioctap.otp.wallet.AppWallet`, as passlib's keywords do.
        """
        namespace: dict[str, object] = {}
        probe: Callable[..., TOTP] = partial(cls, b"\0" * cls.MIN_KEY_SIZE, "raw")
        for name, value in (("digits", digits), ("alg", alg), ("period", period), ("issuer", issuer)):
            if value is not None:  # checked and normalized by the constructor
                namespace[f"{name}_default"] = getattr(probe(**{name: value}), name)
        if context is not None and wallet is not None:
            raise TypeError("'context' and 'wallet' are the same thing: give one")
        ctx = context if context is not None else wallet
        if ctx is not None and not isinstance(ctx, AppWallet):
            raise TypeError("wallet must be an OTPContext (AppWallet)")
        wallet_kwds = (secrets, secrets_path, default_tag, encrypt_cost, encrypt_format)
        if any(v is not None for v in wallet_kwds):
            if ctx is not None:
                raise TypeError("'wallet' and 'secrets' keywords are mutually exclusive")
            ctx = AppWallet(secrets, default_tag, encrypt_cost, secrets_path, encrypt_format or "aioctap")
        if ctx is not None:
            namespace["context"] = ctx
        if now is not None:
            if not callable(now):
                raise TypeError("now must be a callable returning seconds since the epoch")
            namespace["clock"] = staticmethod(now)
        return type(cls.__name__, (cls,), namespace)

    @classmethod
    def now(cls) -> int:
        """The current time from the class's clock, in whole seconds."""
        return _normalize_time(cls.clock())

    @classmethod
    def normalize_time(cls, time: float | int | None) -> int:
        """Whole seconds since the epoch; None means :meth:`now`."""
        return cls.now() if time is None else _normalize_time(time)

    def _time_to_counter(self, time: int) -> int:
        return (time - self.t0) // self.period

    def _counter_to_time(self, counter: int) -> int:
        return counter * self.period + self.t0

    def _uri_params(self) -> dict[str, str]:
        return {"period": str(self.period)} if self.period != 30 else {}

    def _extra_dict(self, d: OtpDict) -> None:
        if self.period != 30:
            d["period"] = self.period
        if self.t0:
            d["t0"] = self.t0

    @classmethod
    def new(cls, **kwds: Unpack[TotpSettings]) -> Self:
        """A new random key (passlib's ``TOTP.new()``): ``cls(new=True, **kwds)``."""
        return cls(new=True, **kwds)

    def generate(self, time: float | int | None = None) -> TotpToken:
        """The token for ``time`` (default: now)."""
        t = self.normalize_time(time)
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
        token = normalize_token(token, self.digits)
        if type(window) is not int or window < 0:
            raise ValueError("window must be a non-negative integer")
        t = self.now() if time is None else _normalize_time(time)
        last = -1 if last_counter is None else last_counter
        period, client_time = self.period, t + int(skew) - self.t0
        expected = client_time // period
        start = (client_time - window) // period
        if start < last:
            start = last if last > 0 else 0
        elif start < 0:
            start = 0
        end = (client_time + window) // period + 1
        if end > COUNTER_LIMIT:
            end = COUNTER_LIMIT
        codes, compare = self._codes or self._generator(), hmac.compare_digest
        # the expected step first, then the others in order. Each comparison is constant-time; where the
        # search stops tells only which step the caller's own token came from, nothing about the key.
        if start <= expected < end and compare(token, codes(expected)):
            counter = expected
        else:
            for counter in range(start, end):
                if counter != expected and compare(token, codes(counter)):
                    break
            else:
                raise InvalidTokenError()
        if counter == last and not reuse:
            raise UsedTokenError(expire_time=self._counter_to_time(last + 1))
        return TotpMatch(self, counter, t, window)

    @classmethod
    def verify(
        cls,
        token: str | int | bytes,
        source: str | bytes | Mapping[str, object] | BaseOTP,
        **kwds: Unpack[MatchOptions],
    ) -> TotpMatch:
        """passlib's ``TOTP.verify(token, source, **kwds)``: :meth:`from_source` then :meth:`match`."""
        otp = cls.from_source(source)
        if not isinstance(otp, TOTP):
            raise KeyFormatError("TOTP.verify needs a TOTP source, not an HOTP one")
        return otp.match(token, **kwds)


@dataclass(frozen=True)
class HotpMatch:
    """A successful HOTP match: the matching counter and the next counter to expect."""

    hotp: HOTP
    counter: int
    expected_counter: int

    @property
    def skipped(self) -> int:
        """How many counter values (RFC 4226 §7.4 look-ahead) the match skipped."""
        return self.counter - self.expected_counter

    @property
    def next_counter(self) -> int:
        """The counter to store: one past the matched one, so the same token never verifies again."""
        return self.counter + 1

    def __repr__(self) -> str:
        return f"<HotpMatch counter={self.counter} skipped={self.skipped}>"


class HOTP(BaseOTP):
    """RFC 4226 counter-based OTP; ``counter`` is the next counter the server expects."""

    KIND = "hotp"

    def __init__(
        self,
        key: str | bytes | None = None,
        format: str = "base32",
        *,
        counter: int = 0,
        new: bool = False,
        **kwds: Unpack[OtpSettings],
    ) -> None:
        super().__init__(key, format, new=new, **kwds)
        if not isinstance(counter, int) or isinstance(counter, bool) or not 0 <= counter < COUNTER_LIMIT:
            raise KeyFormatError("counter must be an integer from 0 to 2**64 - 1 (RFC 4226: an 8-byte counter)")
        self.counter = counter

    def _uri_params(self) -> dict[str, str]:
        return {"counter": str(self.counter)}

    def _extra_dict(self, d: OtpDict) -> None:
        d["counter"] = self.counter

    @classmethod
    def new(cls, **kwds: Unpack[HotpSettings]) -> Self:
        """A new random key: ``cls(new=True, **kwds)``."""
        return cls(new=True, **kwds)

    def generate(self, counter: int | None = None) -> str:
        """The token for ``counter`` (default: the expected one)."""
        return self._generate(self.counter if counter is None else counter)

    def match(self, token: str | int | bytes, counter: int | None = None, window: int = 10) -> HotpMatch:
        """Look ahead from ``counter`` (default: the expected one) up to ``window`` steps; never backwards."""
        token = self.normalize_token(token)
        expected = self.counter if counter is None else counter
        codes = self._generator()
        if expected < 0:
            raise ValueError("counter must fit in an unsigned 64-bit integer")
        for c in range(expected, min(expected + window + 1, COUNTER_LIMIT)):
            if hmac.compare_digest(token, codes(c)):
                return HotpMatch(self, c, expected)
        raise InvalidTokenError()

    def advance(self, match: HotpMatch) -> None:
        """Move the expected counter past a match (so the token cannot be used again)."""
        self.counter = max(self.counter, match.next_counter)
