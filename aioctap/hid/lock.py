"""``ChannelLock``: one CTAPHID transaction per channel at a time, first come first served.

What anyio lacks: ``anyio.Lock.acquire`` is a checkpoint even when the lock is free (it yields to
the event loop so that cancellation can be delivered), which is right for a general lock and costs
a loop turn per CTAPHID call here. Measured on asyncio (uncontended acquire and release, this
machine): ``anyio.Lock`` 8.5 us, ``asyncio.Lock`` 0.43 us, ``ChannelLock`` 0.05 us; a 0-byte UDP
PING round trip costs about 35 us of host CPU in all, so ``anyio.Lock`` would add about a quarter.
Taking a free ``ChannelLock`` is an attribute write; the call's own wait for the device is its
checkpoint. Waiters wait on an :class:`Event`: a bare asyncio future (:class:`FutureEvent`) on
asyncio, ``anyio.Event`` on other anyio backends.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Protocol

__all__ = ["ChannelLock", "Event", "FutureEvent"]


class Event(Protocol):
    """What a waiter needs of an event: ``anyio.Event`` and :class:`FutureEvent` fit."""

    def set(self) -> object:
        """Wake every waiter, now and later."""
        ...

    def wait(self) -> Awaitable[object]:
        """Something to await until the event is set."""
        ...


class FutureEvent:
    """A one-shot event on a bare asyncio future: the cheapest thing a task can wait on."""

    __slots__ = ("_future",)

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._future: asyncio.Future[None] = asyncio.Future(loop=loop)

    def set(self) -> None:
        """Complete the future (once; a cancelled wait leaves it cancelled)."""
        if not self._future.done():
            self._future.set_result(None)

    def wait(self) -> Awaitable[None]:
        """The future itself: awaiting it costs no coroutine."""
        return self._future


class _LockWaiter:
    __slots__ = ("event", "granted")

    def __init__(self, event: Event) -> None:
        self.event = event
        self.granted = False


class ChannelLock:
    """A first-come, first-served lock whose acquisition costs no ``await`` while it is free.

    The hot path (one transaction per channel at a time) reads :attr:`locked` and sets it::

        if lock.locked:
            await lock.acquire()
        else:
            lock.locked = True
        try:
            ...
        finally:
            if lock.waiters:
                lock.release()
            else:
                lock.locked = False

    ``asyncio.Lock`` costs three coroutines per use (``__aenter__``, ``acquire``, ``__aexit__``);
    ``anyio.Lock`` also checks for cancellation when free. Here a free lock costs an attribute
    read and write. A waiter is handed the lock by :meth:`release` (``locked`` stays True), so no
    later arrival overtakes it; a waiter cancelled after it was handed the lock passes it on.
    ``async with lock`` works too.
    """

    __slots__ = ("_new_event", "locked", "waiters")

    def __init__(self, new_event: Callable[[], Event]) -> None:
        self._new_event = new_event
        #: the tasks waiting in line (read-only for callers)
        self.waiters: deque[_LockWaiter] = deque()
        #: True while a task holds the lock (waiters exist only then)
        self.locked = False

    async def acquire(self) -> None:
        """Take the lock, waiting in line if it is held."""
        if not self.locked:
            self.locked = True
            return
        waiter = _LockWaiter(self._new_event())
        self.waiters.append(waiter)
        try:
            await waiter.event.wait()
        except BaseException:
            if waiter.granted:  # handed the lock as the wait was cancelled: pass it on
                self.release()
            else:
                self.waiters.remove(waiter)
            raise

    def release(self) -> None:
        """Hand the lock to the first waiter, or free it."""
        if self.waiters:
            waiter = self.waiters.popleft()
            waiter.granted = True
            waiter.event.set()
        else:
            self.locked = False

    async def __aenter__(self) -> None:
        await self.acquire()

    async def __aexit__(self, *exc_info: object) -> None:
        self.release()
