"""Shared pieces of the software authenticator: strict parameter checks, user policies, the clock."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import anyio

from ..ctap import STATUS, CtapError
from ..ctap2.model import ERR, FEEDBACK

__all__ = [
    "ERR",
    "FEEDBACK",
    "ApproveAll",
    "DenyAll",
    "FingerprintSensor",
    "Sample",
    "StateError",
    "UserPolicy",
    "WaitForTouch",
    "checked",
    "fail",
    "opt_param",
    "req_param",
]

USER_ACTION_TIMEOUT = 30.0
MAX_MSG_SIZE = 7609  # getInfo maxMsgSize
MAX_LARGE_BLOB = 4096  # getInfo maxSerializedLargeBlobArray


def fail(code: CtapError.ERR) -> CtapError:
    """The CtapError for ``code`` (raise it)."""
    return CtapError(code)


K = TypeVar("K")
T = TypeVar("T")


def checked(value: object, kind: type[T]) -> T:
    """``value`` if it is a ``kind`` (a bool is no int), else CBOR_UNEXPECTED_TYPE."""
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is int):
        raise fail(ERR.CBOR_UNEXPECTED_TYPE)
    return value


_MISSING: Any = object()


def req_param(params: Mapping[K, object], key: K, kind: type[T]) -> T:
    """A required request member: MISSING_PARAMETER if absent, CBOR_UNEXPECTED_TYPE if mistyped."""
    value = params.get(key, _MISSING)
    if type(value) is kind:  # the usual case, decided at once (a bool is not of type int)
        return value
    if value is _MISSING:
        raise fail(ERR.MISSING_PARAMETER)
    return checked(value, kind)


def opt_param(params: Mapping[K, object], key: K, kind: type[T]) -> T | None:
    """An optional request member: None if absent, CBOR_UNEXPECTED_TYPE if mistyped."""
    value = params.get(key, _MISSING)
    if type(value) is kind:
        return value
    if value is _MISSING:
        return None
    return checked(value, kind)


class StateError(Exception):
    """The state file cannot be read (wrong wrapping key, corrupt, not a state file)."""


class UserPolicy(Protocol):
    """How the simulated user answers requests for presence (a touch)."""

    async def user_presence(self, set_status: Callable[[STATUS], None]) -> bool | None:
        """True when the user touched, False when they refused, None when they did nothing in time."""
        ...


class ApproveAll:
    """The user touches at once (the default)."""

    async def user_presence(self, set_status: Callable[[STATUS], None]) -> bool | None:
        """True: the user touched."""
        return True


class DenyAll:
    """The user always refuses."""

    async def user_presence(self, set_status: Callable[[STATUS], None]) -> bool | None:
        """False: the user refused."""
        return False


class WaitForTouch:
    """The authenticator waits (sending UPNEEDED keepalives) until :meth:`touch` or :meth:`refuse`.

    After ``timeout`` seconds without an answer the request fails with USER_ACTION_TIMEOUT
    (CTAPHID_CANCEL ends the wait earlier, with KEEPALIVE_CANCEL).
    """

    def __init__(self, timeout: float | None = USER_ACTION_TIMEOUT) -> None:
        self._event = anyio.Event()
        self._answer = True
        self.timeout = timeout
        self.waiting = False

    def touch(self) -> None:
        """The user touches: the pending (or next) request for presence succeeds."""
        self._answer = True
        self._event.set()

    def refuse(self) -> None:
        """The user refuses: the pending (or next) request for presence is denied."""
        self._answer = False
        self._event.set()

    async def user_presence(self, set_status: Callable[[STATUS], None]) -> bool | None:
        """Send UPNEEDED keepalives until :meth:`touch` (True), :meth:`refuse` (False) or the timeout (None)."""
        set_status(STATUS.UPNEEDED)
        self.waiting = True
        try:
            with anyio.move_on_after(self.timeout):
                await self._event.wait()
        finally:
            self.waiting = False
            set_status(STATUS.PROCESSING)
        if not self._event.is_set():
            return None
        self._event = anyio.Event()
        return self._answer


@dataclass(frozen=True)
class Sample:
    """A scripted touch of the simulated fingerprint sensor: its feedback, and how long (seconds) after the
    capture starts the finger lands. A touch later than the capture's timeout is no touch at all."""

    feedback: FEEDBACK = FEEDBACK.FP_GOOD
    after: float = 0.0

    def __post_init__(self) -> None:
        if self.after < 0:
            raise ValueError("a sample cannot come before the capture starts")


class FingerprintSensor:
    """A simulated fingerprint sensor.

    Tests and users script what the next touches do: ``script(FEEDBACK.FP_TOO_HIGH, "timeout",
    Sample(FEEDBACK.FP_GOOD, after=2.0), FEEDBACK.FP_GOOD)``; unscripted captures are good and come at once.
    "timeout" is a capture nobody touches (answered at once, without waiting out the timeout); a
    :class:`Sample` comes ``after`` seconds into the capture, or, when that is later than the capture's
    timeout (bioEnrollment's timeoutMilliseconds, else :data:`USER_ACTION_TIMEOUT`), the capture waits the
    timeout out and gets no touch. ``match_results`` scripts the touches for user verification: True (a
    match, the default), False (no match) or "timeout" (no touch in time).
    """

    samples_required = 4

    def __init__(self) -> None:
        self._script: list[FEEDBACK | str | Sample] = []
        self.match_results: list[bool | str] = []

    def script(self, *samples: FEEDBACK | str | Sample) -> None:
        """Queue what the next captures give: FEEDBACK values, "timeout" or :class:`Sample` (see the class)."""
        self._script.extend(samples)

    async def capture(self, set_status: Callable[[STATUS], None], timeout: float | None = None) -> FEEDBACK | None:
        """One touch within ``timeout`` seconds (None: the sensor's own): its feedback, or None for no touch."""
        set_status(STATUS.UPNEEDED)
        sample = self._script.pop(0) if self._script else FEEDBACK.FP_GOOD
        result: FEEDBACK | None
        try:
            if isinstance(sample, Sample):
                limit = USER_ACTION_TIMEOUT if timeout is None else timeout
                if sample.after > limit:
                    await anyio.sleep(limit)  # the finger lands too late: the capture times out
                    result = None
                else:
                    await anyio.sleep(sample.after)
                    result = sample.feedback
            else:
                await anyio.sleep(0)
                result = None if isinstance(sample, str) else sample
        finally:
            set_status(STATUS.PROCESSING)
        return result

    async def match(self, set_status: Callable[[STATUS], None]) -> bool | None:
        """A touch for user verification: does it match an enrolled template? None: nobody touched."""
        set_status(STATUS.UPNEEDED)
        await anyio.sleep(0)
        set_status(STATUS.PROCESSING)
        result = self.match_results.pop(0) if self.match_results else True
        return None if isinstance(result, str) else result
