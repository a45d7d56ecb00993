"""OtpVerifier: async, replay-proof TOTP/HOTP verification against a store.

Each account is one store record (namespace ``otp``). An accepted token advances the account's
last used counter with ONE compare-and-set on the record's version; of any number of concurrent
verifications of one valid token exactly one wins, the others re-read and get
:class:`UsedTokenError`. Failures are throttled with an exponential delay. Keys may be encrypted
at rest (an :class:`OTPContext`); decryption runs in a worker thread and is cached.
"""

from __future__ import annotations

import hashlib
import json
import time as _time
from dataclasses import dataclass
from typing import Any

import anyio.to_thread

from ..stores.base import ConflictError, Record, Store
from .context import OTPContext
from .core import HOTP, TOTP, BaseOTP, HotpMatch, TotpMatch
from .errors import InvalidTokenError, KeyFormatError, ThrottledError, UnknownAccountError, UsedTokenError

__all__ = ["OtpVerifier"]

NAMESPACE = "otp"


@dataclass
class _State:
    otp: dict[str, Any]
    last_counter: int = -1
    failures: int = 0
    throttled_until: float = 0.0
    drift: float = 0.0

    def dumps(self) -> bytes:
        return json.dumps(self.__dict__, separators=(",", ":")).encode()

    @classmethod
    def loads(cls, data: bytes) -> _State:
        try:
            d = json.loads(data)
            return cls(
                d["otp"], int(d["last_counter"]), int(d["failures"]), float(d["throttled_until"]), float(d["drift"])
            )
        except (ValueError, KeyError, TypeError) as e:
            raise KeyFormatError(f"stored OTP record is corrupt: {type(e).__name__}") from None


class OtpVerifier:
    """``OtpVerifier(store, *, context=None, window=30, max_failures=3, max_delay=300)``.

    ``window``: seconds either side of now that a TOTP token may come from. After
    ``max_failures`` consecutive failures, each further failure doubles a delay (1 s, 2 s, 4 s ...
    up to ``max_delay``) during which :meth:`verify` raises :class:`ThrottledError`.
    """

    def __init__(
        self,
        store: Store,
        *,
        context: OTPContext | None = None,
        window: int = 30,
        max_failures: int = 3,
        max_delay: float = 300.0,
        clock: Any = None,
    ) -> None:
        self.store = store
        self.context = context
        self.window = window
        self.max_failures = max_failures
        self.max_delay = max_delay
        self._clock = clock or _time.time
        self._cache: dict[str, tuple[bytes, BaseOTP]] = {}

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
        **kwds: Any,
    ) -> str:
        """Create a TOTP for ``account`` (a given base32 ``key`` is used as is) and return its otpauth URI."""
        totp = TOTP(key, new=key is None, issuer=issuer, label=label or account, **kwds)
        state = _State(totp.to_dict(self.context))
        try:
            await self.store.put(NAMESPACE, account, state.dumps(), expected_version=None if replace else 0)
        except ConflictError:
            raise KeyFormatError(f"an OTP is already enrolled for {account!r} (use replace=True)") from None
        return totp.to_uri()

    async def remove(self, account: str) -> bool:
        return await self.store.delete(NAMESPACE, account)

    async def _otp(self, account: str, state: _State) -> BaseOTP:
        blob = json.dumps(state.otp, sort_keys=True).encode()
        digest = hashlib.sha256(blob).digest()
        cached = self._cache.get(account)
        if cached is not None and cached[0] == digest:
            return cached[1]
        if "enckey" in state.otp:
            otp: BaseOTP = await anyio.to_thread.run_sync(BaseOTP.from_dict, state.otp, self.context)
        else:
            otp = BaseOTP.from_dict(state.otp, self.context)
        self._cache[account] = (digest, otp)
        return otp

    async def _load(self, account: str) -> tuple[Record, _State]:
        record = await self.store.get(NAMESPACE, account)
        if record is None:
            raise UnknownAccountError()
        return record, _State.loads(record.value)

    async def verify(self, account: str, token: str | int, *, time: float | None = None) -> TotpMatch | HotpMatch:
        """Check ``token`` for ``account`` and mark its counter used; raises a TokenError subclass otherwise."""
        now = self._clock() if time is None else time
        while True:
            record, state = await self._load(account)
            wall = self._clock()
            if state.throttled_until > wall:
                raise ThrottledError(state.throttled_until - wall)
            otp = await self._otp(account, state)
            match: TotpMatch | HotpMatch
            try:
                if isinstance(otp, TOTP):
                    match = otp.match(token, now, self.window, round(state.drift), state.last_counter)
                else:
                    assert isinstance(otp, HOTP)
                    match = otp.match(token, max(otp.counter, state.last_counter + 1))
            except UsedTokenError:
                raise  # a replay of the last accepted code: refused, but not a guessing attempt
            except InvalidTokenError:
                if await self._record_failure(account, record, state):
                    raise
                continue  # the record changed under us: judge again with the new state
            state.last_counter = match.counter
            state.failures = 0
            state.throttled_until = 0.0
            if isinstance(match, TotpMatch) and isinstance(otp, TOTP):
                state.drift = 0.7 * state.drift + 0.3 * match.skipped * otp.period
            try:
                await self.store.put(NAMESPACE, account, state.dumps(), expected_version=record.version)
            except ConflictError:
                continue  # someone else changed the account first: re-read (a replay now fails as used)
            return match

    async def _record_failure(self, account: str, record: Record, state: _State) -> bool:
        """Count a failure; False if the record changed concurrently (the caller re-checks)."""
        state.failures += 1
        if state.failures >= self.max_failures:
            delay = min(self.max_delay, 2.0 ** (state.failures - self.max_failures))
            state.throttled_until = self._clock() + delay
        try:
            await self.store.put(NAMESPACE, account, state.dumps(), expected_version=record.version)
        except ConflictError:
            return False
        return True
