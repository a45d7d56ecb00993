"""OtpVerifier: async, replay-proof TOTP/HOTP verification against a store.

Each account is one store record (namespace ``otp``). An accepted token advances the account's
last used counter with ONE compare-and-set on the record's version; of any number of concurrent
verifications of one valid token exactly one wins, the others re-read and get
:class:`UsedTokenError`. Failures are throttled with an exponential delay. Keys may be encrypted
at rest (an :class:`OTPContext`); decryption runs in a worker thread and is cached.
"""

from __future__ import annotations

import hmac
import json
import time as _time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import TypedDict, Unpack

import anyio.to_thread

from ..stores.base import ConflictError, Store
from .core import HOTP, TOTP, BaseOTP, HotpMatch, TotpMatch
from .errors import (
    InvalidTokenError,
    KeyFormatError,
    MalformedTokenError,
    ThrottledError,
    UnknownAccountError,
    UsedTokenError,
)
from .pyotp import OTP as PyotpOTP
from .wallet import AppWallet

__all__ = ["OtpVerifier"]

NAMESPACE = "otp"


class EnrollSettings(TypedDict, total=False):
    """:meth:`OtpVerifier.enroll`'s settings of a new TOTP (as :class:`~aioctap.otp.TOTP` takes them)."""

    digits: int | None
    alg: str | None
    period: int | None
    t0: int
    size: int | None


def _is_code(otp: HOTP, token: str | int, counter: int) -> bool:
    """Whether ``token`` is ``otp``'s code for ``counter`` (compared in constant time)."""
    try:
        return hmac.compare_digest(otp.normalize_token(token), otp.generate(counter))
    except (MalformedTokenError, TypeError):
        return False


@dataclass(slots=True)
class _State:
    """One account's record: ``otp1 <last_counter> <failures> <throttled_until> <drift>\n<OTP JSON>``.

    The mutable numbers come first on one line, so that the hot path parses a few numbers and
    never the JSON: the serialized OTP (:meth:`BaseOTP.to_json`, its key possibly encrypted) is
    kept as bytes and doubles as the key-cache tag. ``version`` is the store's version of the record, not in it.
    """

    otp_blob: bytes = field(repr=False)  # the serialized OTP: its key, encrypted or not, never in a repr
    last_counter: int = -1
    failures: int = 0
    throttled_until: float = 0.0
    drift: float = 0.0
    version: int = 0

    def dumps(self) -> bytes:
        head = b"otp1 %d %d %r %r\n" % (self.last_counter, self.failures, self.throttled_until, self.drift)
        return head + self.otp_blob

    @classmethod
    def loads(cls, data: bytes) -> _State:
        head, _, blob = data.partition(b"\n")
        try:
            magic, last, failures, throttled, drift = head.split(b" ")
            if magic != b"otp1" or not blob:
                raise ValueError
            return cls(blob, int(last), int(failures), float(throttled), float(drift))
        except ValueError:
            raise KeyFormatError("stored OTP record is corrupt: bad header") from None

    def otp_dict(self) -> dict[str, object]:
        try:
            d = json.loads(self.otp_blob)
        except (ValueError, RecursionError):
            raise KeyFormatError("stored OTP record is corrupt: bad OTP JSON") from None
        if not isinstance(d, dict):
            raise KeyFormatError("stored OTP record is corrupt: the OTP is not an object")
        return d


class OtpVerifier:
    """``OtpVerifier(store, *, context=None, window=30, max_failures=3, max_delay=300, cache_size=10000)``.

    ``window``: seconds either side of now that a TOTP token may come from. After
    ``max_failures`` consecutive failures, each further failure doubles a delay (1 s, 2 s, 4 s ...
    up to ``max_delay``) during which :meth:`verify` raises :class:`ThrottledError`.
    ``cache_size``: how many accounts' decrypted OTPs and last written records are kept in memory.
    """

    def __init__(
        self,
        store: Store,
        *,
        context: AppWallet | None = None,
        window: int = 30,
        max_failures: int = 3,
        max_delay: float = 300.0,
        clock: Callable[[], float] | None = None,
        cache_size: int = 10_000,
    ) -> None:
        self.store = store
        self.context = context
        self.window = window
        self.max_failures = max_failures
        self.max_delay = max_delay
        self._clock = clock or _time.time
        self.cache_size = max(1, cache_size)
        self._cache: dict[str, tuple[bytes, BaseOTP]] = {}  # account -> (serialized OTP, decrypted OTP)
        # account -> (its state as this verifier last wrote it, the OTP)
        self._states: dict[str, tuple[_State, BaseOTP]] = {}

    def __repr__(self) -> str:
        return f"OtpVerifier(store={self.store!r})"

    async def enroll(
        self,
        account: str,
        *,
        key: str | None = None,
        issuer: str | None = None,
        label: str | None = None,
        replace: bool = False,
        otp: BaseOTP | PyotpOTP | None = None,
        **kwds: Unpack[EnrollSettings],
    ) -> str:
        """Create a TOTP for ``account`` (a given base32 ``key`` is used as is) and return its otpauth URI.

        ``otp``: enroll this OTP instead, an aioctap one or a :mod:`aioctap.otp.pyotp` one (a pyotp
        user's ``TOTP(secret, ...)`` or ``HOTP``): from then on :meth:`verify` accepts each of its codes
        once. ``OtpVerifier(store, window=totp.interval)`` accepts what pyotp's ``valid_window=1`` does. Awaited.

        Raises:
            aioctap.otp.errors.KeyFormatError: a malformed ``key``, or an OTP is already enrolled for ``account``
                (without ``replace=True``).
            TypeError: both ``otp`` and a key or its settings.
            aioctap.stores.StoreError: the store failed.
        """
        totp: BaseOTP
        if otp is not None:
            if key is not None or kwds:
                raise TypeError("give otp, or key and its settings, not both")
            totp = otp.to_aioctap() if isinstance(otp, PyotpOTP) else otp
            if issuer is not None or label is not None or totp.label is None:
                fields = totp.to_dict(encrypt=False)  # a copy with the label and issuer given here
                fields["label"] = label or totp.label or account
                if issuer or totp.issuer:
                    fields["issuer"] = issuer or totp.issuer or ""
                totp = type(totp).from_dict(fields)
        else:
            totp = TOTP(key, new=key is None, issuer=issuer, label=label or account, **kwds)
        if self.context is not None and self.context.can_encrypt:  # PBKDF2: off the event loop
            state = _State(await anyio.to_thread.run_sync(lambda: totp.to_json(context=self.context).encode()))
        else:
            state = _State(totp.to_json().encode())
        try:
            await self.store.put(NAMESPACE, account, state.dumps(), expected_version=None if replace else 0)
        except ConflictError:
            raise KeyFormatError(f"an OTP is already enrolled for {account!r} (use replace=True)") from None
        return totp.to_uri()

    async def remove(self, account: str) -> bool:
        """Delete the account's OTP; True if there was one."""
        self._cache.pop(account, None)
        self._states.pop(account, None)
        return await self.store.delete(NAMESPACE, account)

    async def _otp(self, account: str, state: _State) -> BaseOTP:
        cached = self._cache.get(account)
        if cached is not None and cached[0] == state.otp_blob:
            return cached[1]
        d = state.otp_dict()
        if "enckey" in d:
            otp: BaseOTP = await anyio.to_thread.run_sync(BaseOTP.from_dict, d, self.context)
        else:
            otp = BaseOTP.from_dict(d, self.context)
        if len(self._cache) >= self.cache_size:
            self._cache.pop(next(iter(self._cache)))  # the oldest entry
        self._cache[account] = (state.otp_blob, otp)
        return otp

    async def verify(self, account: str, token: str | int, *, time: float | None = None) -> TotpMatch | HotpMatch:
        """Check ``token`` for ``account`` and mark its counter used; raises a TokenError subclass otherwise.

        The record as this verifier last wrote it (parsed, with its version) is remembered, so
        a success costs one compare-and-set and no read when nobody else wrote in between; if
        someone did, the compare-and-set fails and the token is judged again on a fresh read.
        Refusals are only ever decided on a fresh read. Awaited.

        Raises:
            aioctap.otp.errors.MalformedTokenError: not a token of the OTP's digits.
            aioctap.otp.errors.InvalidTokenError: no code in the window matches.
            aioctap.otp.errors.UsedTokenError: the code (or a later one) was already accepted: a replay.
            aioctap.otp.errors.ThrottledError: too many failures; retry after ``retry_after`` seconds.
            aioctap.otp.errors.UnknownAccountError: no OTP is enrolled for ``account``.
            aioctap.stores.StoreError: the store failed.
        """
        now = self._clock() if time is None else time
        store, cache, states = self.store, self._cache, self._states
        trust_memory = True
        while True:
            written = states.get(account) if trust_memory else None
            if written is not None:
                state, otp = written
            else:
                record = await store.get(NAMESPACE, account)
                if record is None:
                    raise UnknownAccountError()
                state = _State.loads(record.value)
                state.version = record.version
                otp = await self._otp(account, state)
            if state.throttled_until:
                wall = self._clock()
                if state.throttled_until > wall:
                    if written is not None:
                        trust_memory = False
                        continue
                    raise ThrottledError(state.throttled_until - wall)
            match: TotpMatch | HotpMatch
            try:
                if isinstance(otp, TOTP):
                    match = otp.match(token, now, self.window, round(state.drift), state.last_counter)
                else:
                    assert isinstance(otp, HOTP)
                    try:
                        match = otp.match(token, max(otp.counter, state.last_counter + 1))
                    except InvalidTokenError:
                        # the last accepted code again is a replay (as TOTP says), not a guess
                        if state.last_counter < 0 or not _is_code(otp, token, state.last_counter):
                            raise
                        raise UsedTokenError() from None
            except (UsedTokenError, InvalidTokenError) as e:
                if written is not None:
                    trust_memory = False  # decide a refusal on the stored state, not on memory
                    continue
                if isinstance(e, UsedTokenError):
                    raise  # a replay of the last accepted code: refused, but not a guessing attempt
                if await self._record_failure(account, state):
                    raise
                continue  # the record changed under us: judge again with the new state
            recrypted = None
            if otp.changed and self.context is not None and self.context.can_encrypt:
                # stored under an old tag or cost, or in clear: write it back encrypted with the current one
                states.pop(account, None)
                recrypted = (await anyio.to_thread.run_sync(partial(otp.to_json, context=self.context))).encode()
                state.otp_blob = recrypted
            try:  # the state changes in place: unless the compare-and-set succeeds, it is forgotten
                state.last_counter = match.counter
                state.failures = 0
                state.throttled_until = 0.0
                if isinstance(match, TotpMatch):
                    period = match.totp.period
                    skipped = match.counter - (match.time - match.totp.t0) // period  # match.skipped, without 3 calls
                    state.drift = 0.7 * state.drift + 0.3 * skipped * period
                state.version = await store.put(NAMESPACE, account, state.dumps(), expected_version=state.version)
            except ConflictError:
                states.pop(account, None)
                trust_memory = False
                continue  # someone else changed the account first: re-read (a replay now fails as used)
            except BaseException:
                states.pop(account, None)
                raise
            if written is None or recrypted is not None:
                if len(states) >= self.cache_size:
                    states.pop(next(iter(states)))
                states[account] = (state, otp)
            if recrypted is not None:
                otp.changed = False
                cache[account] = (recrypted, otp)
            return match

    async def _record_failure(self, account: str, state: _State) -> bool:
        """Count a failure; False if the record changed concurrently (the caller re-checks)."""
        self._states.pop(account, None)
        state.failures += 1
        if state.failures >= self.max_failures:
            # the exponent capped: 2.0 ** 1024 overflows, which would leave the failure unrecorded (no throttle)
            delay = min(self.max_delay, 2.0 ** min(state.failures - self.max_failures, 64))
            state.throttled_until = self._clock() + delay
        try:
            await self.store.put(NAMESPACE, account, state.dumps(), expected_version=state.version)
        except ConflictError:
            return False
        return True
