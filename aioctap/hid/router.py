"""The host-side CTAPHID shell: :class:`HidConnection`, one reader task per transport.

Every CTAPHID rule is in the sans-IO :class:`~aioctap.hid.host_core.HostCore`; this shell moves
reports between it and a :class:`~aioctap.hid.transport.PacketTransport` and turns its events into
the results of awaiting calls and keepalive callbacks:

* received reports go to ``HostCore.receive``/``receive_many``: from the transport's receiver
  callback where it has one (:class:`~aioctap.hid.transport.ReportsPusher`: in-memory, UDP on
  asyncio, hid's reader thread), else from the reader task;
* the reports the core returns are sent at once, without waiting, where the transport can
  (:class:`~aioctap.hid.transport.NowaitSender`), else (and whatever did not fit) in order by the
  writer task;
* one timer, at ``HostCore.next_deadline``: on asyncio a thread that sleeps until then
  (:class:`_ThreadTimer`; ``loop.call_at`` on a loop with a clock of its own), a task on other
  anyio backends;
* one :class:`~aioctap.hid.lock.ChannelLock` per channel queues the calls of that channel.

Cancelling an awaiting call hands it to ``HostCore.cancel``: CTAPHID_CANCEL goes out at once, and
the cancelled task waits (shielded, at most ``CANCEL_WAIT`` s) for the device to end the request, so
that when the call is gone so is its work on the device. The core keeps the channel out of use
until the cancelled request's answer arrived or the channel was resynchronized, and a timeout
resynchronizes it too, so no late answer reaches a later call. When the transport ends, every pending call fails with
:class:`~aioctap.ctap.TransportError` and later ones fail fast.

A call answered during its own send (an in-memory device) yields to the event loop at most once
per :data:`YIELD_INTERVAL` instead of once per call.
"""

from __future__ import annotations

import asyncio
import logging
import math
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Coroutine, Generator, Sequence
from contextlib import asynccontextmanager
from functools import partial
from typing import Any, Generic, TypeAlias, TypeVar

import anyio
import anyio.lowlevel
from anyio.abc import TaskGroup

from .._concurrency import task_group
from ..ctap import STATUS, KeepaliveCallback, TransportError
from .backends.memory import MemoryTransport
from .host_core import (
    BUSY_RETRY_DELAY,
    CANCEL_WAIT,
    Allocated,
    AllocationFailed,
    Answer,
    Cleaned,
    CtapHidTimeout,
    Dropped,
    Failed,
    HostCore,
    HostEvent,
    KeepAlive,
)
from .lock import ChannelLock, Event, FutureEvent
from .protocol import InitResponse
from .transport import (
    NowaitSender,
    PacketTransport,
    RawReportSender,
    ReportPusher,
    ReportsPusher,
    TransportClosed,
    Wakeup,
)

__all__ = ["BUSY_RETRY_DELAY", "CANCEL_WAIT", "DEFAULT_TIMEOUT", "YIELD_INTERVAL", "CtapHidTimeout", "HidConnection"]

#: a transaction answered during its send (an in-memory device) yields to the event loop only when
#: this long (seconds) has passed since the last such yield of its connection
YIELD_INTERVAL = 0.001

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 5.0  # seconds without any packet (keepalives extend it)


T = TypeVar("T")


class _EventFuture(Generic[T]):
    """(backends other than asyncio) What the shell uses of an ``asyncio.Future``, on an ``anyio.Event``."""

    __slots__ = ("_done", "_error", "_event", "_result")

    def __init__(self) -> None:
        self._event = anyio.Event()
        self._done = False
        self._error: BaseException | None = None
        self._result: T | None = None

    def done(self) -> bool:
        return self._done

    def cancelled(self) -> bool:
        return False  # a cancelled wait leaves it pending

    def set_result(self, result: T) -> None:
        self._result = result
        self._done = True
        self._event.set()

    def set_exception(self, error: BaseException) -> None:
        self._error = error
        self._done = True
        self._event.set()

    def exception(self) -> BaseException | None:
        return self._error

    def result(self) -> T:
        if self._error is not None:
            raise self._error
        assert self._done
        return self._result  # type: ignore[return-value]  # set with the result

    def __await__(self) -> Generator[Any, None, None]:
        return self._event.wait().__await__()


#: a call waiting for the core's outcome: a bare future on asyncio (the core's token of the
#: transaction, set by the receiver without a Python frame), an event-backed one elsewhere
_Waiter: TypeAlias = "asyncio.Future[bytes] | _EventFuture[bytes]"
_InitWaiter: TypeAlias = "asyncio.Future[InitResponse] | _EventFuture[InitResponse]"


class _ThreadTimer:
    """(asyncio) Calls ``callback`` on the loop at or after the time last armed, from a thread.

    What asyncio lacks: a timer that costs nothing while it waits. While a ``loop.call_at`` handle is
    scheduled, every turn of the loop reads the clock and works out its timeout: measured with
    callgrind, a bare asyncio UDP round trip (a reader callback and a future) goes from 42.0k to 47.7k
    user-space instructions per round trip with one far-off timer scheduled (+14 %), and a CTAPHID
    call's deadline is pending during nearly every turn. This thread sleeps until the deadline (moved
    only when it must come sooner: once per ``DEFAULT_TIMEOUT`` at a steady pace), then hands the
    callback to the loop; a round trip pays nothing for it. Clock: ``time.monotonic``, the loop's own.
    """

    __slots__ = ("_callback", "_closed", "_cond", "_loop", "_thread", "_when")

    def __init__(self, loop: asyncio.AbstractEventLoop, callback: Callable[[], object]) -> None:
        self._loop = loop
        self._callback = callback
        self._cond = threading.Condition(threading.Lock())
        self._when: float | None = None
        self._closed = False
        self._thread: threading.Thread | None = None

    def arm(self, when: float) -> None:
        """Call back at ``when`` (``time.monotonic()``) instead of any earlier arming."""
        with self._cond:
            if self._closed:
                return
            self._when = when
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="aioctap-ctaphid-timer", daemon=True)
                self._thread.start()
            else:
                self._cond.notify()

    def close(self) -> None:
        """No more callbacks; the thread ends."""
        with self._cond:
            self._closed = True
            self._cond.notify()

    def _run(self) -> None:
        cond = self._cond
        with cond:
            while not self._closed:
                when = self._when
                if when is None:
                    cond.wait()
                    continue
                delay = when - time.monotonic()
                if delay > 0:
                    cond.wait(delay)
                    continue
                self._when = None
                try:
                    self._loop.call_soon_threadsafe(self._callback)
                except RuntimeError:  # the loop is closed
                    return


class HidConnection:
    """One packet transport, its reader task, and the calls waiting on it."""

    def __init__(self, transport: PacketTransport, task_group: TaskGroup) -> None:
        self.transport = transport
        self.packet_size = transport.packet_size
        self._tg = task_group
        self._core: HostCore[_Waiter] = HostCore(self.packet_size)
        self._waiters: dict[int, _Waiter] = {}  # the last call of each channel (done or pending)
        self._keepalives: dict[int, KeepaliveCallback] = {}  # its on_keepalive, if it has one
        self._allocations: dict[bytes, _InitWaiter] = {}
        self._channel_locks: dict[int, ChannelLock] = {}  # one call per channel at a time
        self._cleaning: dict[int, anyio.Event] = {}  # cancelled calls waiting for their channel to be clean
        self._closed: TransportError | None = None
        self._outbox: deque[Sequence[bytes]] = deque()  # what could not be sent at once, in order
        self._outbox_ready = Wakeup()
        self._try_send = transport.try_send_packets if isinstance(transport, NowaitSender) else None
        if isinstance(transport, MemoryTransport):  # the core frames at the transport's size: not checked again
            self._try_send = transport.send_framed
        # (UDP) the socket's own send of one report, no Python frame
        self._send_report = (
            transport.send_report if self._try_send is not None and isinstance(transport, RawReportSender) else None
        )
        self._loop: asyncio.AbstractEventLoop | None = None
        self._yield_due = 0.0  # (asyncio) when a call answered without waiting yields to the loop again
        self._clock: Callable[[], float] = anyio.current_time
        self._new_event: Callable[[], Event] = anyio.Event
        # a call's waiter (bytes) or an allocation's (InitResponse): see _Waiter
        self._new_waiter: Callable[[], asyncio.Future[Any] | _EventFuture[Any]] = _EventFuture
        self._timer: asyncio.TimerHandle | None = None  # (asyncio, a loop with its own clock) the timer
        self._thread_timer: _ThreadTimer | None = None  # (asyncio) the timer
        self._timer_when: float | None = None
        self._timer_moved = Wakeup()  # (other backends) the timer task's wake-up
        try:
            self._loop = asyncio.get_running_loop()
        except RuntimeError:  # another anyio backend (trio)
            pass
        else:
            loop = self._loop
            # asyncio's own loops tell time with time.monotonic(): call it without their Python frame
            self._clock = time.monotonic if type(loop).time is asyncio.BaseEventLoop.time else loop.time
            if self._clock is time.monotonic:
                self._thread_timer = _ThreadTimer(loop, self._on_timer)
            self._new_event = lambda: FutureEvent(loop)
            self._new_waiter = partial(asyncio.Future, loop=loop)  # no Python frame of its own
        #: reports dropped because no call waited on their channel, or they were stale or malformed
        self.dropped_packets = 0

    @classmethod
    @asynccontextmanager
    async def open(cls, transport: PacketTransport) -> AsyncIterator[HidConnection]:
        """Start the reader (and writer, and timer) tasks; on exit stop them and close the transport.

        An exception of the body comes out as itself (no ``ExceptionGroup``).
        """
        async with task_group() as tg:
            conn = cls(transport, tg)
            tg.start_soon(conn._reader)
            tg.start_soon(conn._writer)
            if conn._loop is None:
                tg.start_soon(conn._timer_task)
            try:
                yield conn
            finally:
                await conn.aclose()
                tg.cancel_scope.cancel()

    def start_soon(self, func: Callable[[], Coroutine[object, object, object]]) -> None:
        """Run ``func`` in the connection's task group (cancelled when the connection closes)."""
        self._tg.start_soon(func)

    @property
    def closed(self) -> bool:
        """True once the connection is closed or its transport failed."""
        return self._closed is not None

    def channel_state(self, cid: int) -> str:
        """The core's state of channel ``cid`` (see :meth:`HostCore.channel_state`)."""
        return self._core.channel_state(cid)

    async def aclose(self) -> None:
        """Close the transport and fail every pending call."""
        if self._closed is None:
            self._fail_all(TransportError("connection closed"))
        with anyio.CancelScope(shield=True):
            await self.transport.aclose()

    def _fail_all(self, error: TransportError) -> None:
        self._closed = error
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._thread_timer is not None:
            self._thread_timer.close()
        for waiter in [*self._waiters.values(), *self._allocations.values()]:
            if not waiter.done():
                waiter.set_exception(error)
        for cleaned in self._cleaning.values():
            cleaned.set()
        self._cleaning.clear()
        self._waiters.clear()
        self._allocations.clear()
        self._outbox.clear()
        self._outbox_ready.set()
        self._timer_moved.set()

    # -- the core's outputs ---------------------------------------------------------------------

    def _emit(self, reports: Sequence[bytes]) -> None:
        """Send ``reports`` now if the transport can, else queue them for the writer task (in order)."""
        if self._closed is not None:
            return
        try_send = self._try_send
        if try_send is not None and not self._outbox:
            try:
                sent = try_send(reports)
            except TransportError as e:
                self._fail_all(TransportClosed(f"transport lost: {e}"))
                return
            if sent == len(reports):
                return
            reports = reports[sent:]
        self._outbox.append(reports)
        self._outbox_ready.set()

    def _dispatch(self, events: list[HostEvent]) -> None:
        for event in events:
            if type(event) is Answer:
                waiter = self._waiters.get(event.cid)
                if waiter is not None and not waiter.done():  # a cancelled wait cancelled its future
                    waiter.set_result(event.data)
            elif type(event) is KeepAlive:
                callback = self._keepalives.get(event.cid)
                if callback is not None:
                    self._keepalive(callback, event.status)
            elif type(event) is Failed:
                waiter = self._waiters.get(event.cid)
                if waiter is not None and not waiter.done():
                    waiter.set_exception(event.error)
            elif type(event) is Allocated:
                allocation = self._allocations.get(event.nonce)
                if allocation is not None and not allocation.done():
                    allocation.set_result(event.init)
            elif type(event) is AllocationFailed:
                allocation = self._allocations.get(event.nonce)
                if allocation is not None and not allocation.done():
                    allocation.set_exception(event.error)
            elif type(event) is Dropped:
                self.dropped_packets += 1
                log.debug("dropped CTAPHID report: %s", event.reason)
            elif type(event) is Cleaned:
                cleaned = self._cleaning.pop(event.cid, None)
                if cleaned is not None:
                    cleaned.set()

    @staticmethod
    def _keepalive(callback: KeepaliveCallback, status: int) -> None:
        try:
            callback(STATUS(status))
        except ValueError:
            log.debug("unknown keepalive status %d", status)
        except Exception:  # a failing callback must not kill the reader
            log.exception("on_keepalive callback failed")

    def _after(self, reports: Sequence[bytes], events: list[HostEvent]) -> None:
        """Send what the core returned, deliver its events, move the timer if it must fire sooner."""
        if reports:
            self._emit(reports)
        if events:
            self._dispatch(events)
        if self._core.next_deadline is not self._timer_when:  # else the timer is where it must be (_rearm)
            self._rearm()

    def _rearm(self) -> None:
        """Move the timer to the core's next deadline if that comes sooner.

        Afterwards ``_timer_when`` is ``core.next_deadline`` (the same object) until the core's
        next change, as the core only ever brings its deadline forward, except in ``handle_timer``
        (after which ``_on_timer`` rearms): a caller that sees them identical can skip this call.
        """
        deadline = self._core.next_deadline
        if deadline is None or (self._timer_when is not None and deadline >= self._timer_when):
            return
        self._timer_when = deadline
        if self._closed is not None:
            return
        if self._thread_timer is not None:
            self._thread_timer.arm(deadline)
        elif self._loop is not None:
            if self._timer is not None:
                self._timer.cancel()
            self._timer = self._loop.call_at(deadline, self._on_timer)
        else:
            self._timer_moved.set()

    def _on_timer(self) -> None:
        if self._closed is not None:
            return
        self._timer = None
        self._timer_when = None
        reports, events = self._core.handle_timer(self._clock())
        self._after(reports, events)

    async def _timer_task(self) -> None:
        """(backends other than asyncio) Call the core's timer at its next deadline."""
        while self._closed is None:
            deadline = self._timer_when
            with anyio.move_on_after(math.inf if deadline is None else max(0.0, deadline - self._clock())):
                await self._timer_moved.wait()
                continue  # moved: look again
            self._on_timer()

    # -- the reader and writer tasks ------------------------------------------------------------

    def _on_reports(self, reports: Sequence[bytes]) -> None:
        """Receiver of a batch of reports (called by the transport or the reader task)."""
        if len(reports) == 1:
            self._on_report(reports[0])
            return
        self._after(*self._core.receive_many(reports, self._clock()))

    def _on_report(self, report: bytes) -> None:
        """Receiver of one report."""
        if not self._take_answer(report):
            out, events = self._core.receive(report, self._clock())
            self._after(out, events)

    def _take_answer(self, report: bytes) -> bool:
        """Hand ``report`` to its call if it is a whole one-report answer (the core's fast path, no
        event; an answer never brings a deadline forward, so the timer stays): the hot path."""
        answer = self._core.receive_answer(report)
        if answer is None:
            return False
        waiter, data = answer
        try:
            waiter.set_result(data)  # type: ignore[union-attr]  # (the router's transactions all have one)
        except asyncio.InvalidStateError:  # a cancelled wait cancelled its future
            pass
        return True

    async def _reader(self) -> None:
        transport = self.transport
        pusher = transport if isinstance(transport, ReportsPusher) else None
        report_pusher = transport if pusher is not None and isinstance(transport, ReportPusher) else None
        try:
            if pusher is not None:
                pusher.set_receiver(self._on_reports)
            if report_pusher is not None:
                report_pusher.set_report_receiver(self._take_answer)
            while True:
                self._on_reports(await transport.receive_packets())
        except anyio.get_cancelled_exc_class():
            if self._closed is None:
                self._fail_all(TransportError("connection closed"))
            raise
        except Exception as e:  # a backend failing in an unexpected way still ends every call cleanly
            self._transport_failed(e, "")
        finally:
            if pusher is not None:
                pusher.set_receiver(None)
            if report_pusher is not None:
                report_pusher.set_report_receiver(None)

    async def _writer(self) -> None:
        """Send, in order, what could not be sent at once."""
        outbox = self._outbox
        transport = self.transport
        try:
            while self._closed is None:
                await self._outbox_ready.wait()
                while outbox and self._closed is None:
                    reports = outbox[0]
                    for report in reports:
                        await transport.send_packet(report)
                    if outbox and outbox[0] is reports:
                        outbox.popleft()
        except Exception as e:
            self._transport_failed(e, " to send")

    def _transport_failed(self, e: Exception, doing: str) -> None:
        """End every call: the transport raised ``e`` (a ``TransportError``: it is gone; anything else: a bug)."""
        if isinstance(e, TransportError):
            self._fail_all(TransportClosed(f"transport lost: {e}"))
        else:
            log.warning("CTAPHID transport failed%s: %s", doing, type(e).__name__)
            self._fail_all(TransportError(f"transport failed: {type(e).__name__}: {e}"))

    # -- calls ----------------------------------------------------------------------------------

    async def _yield(self) -> None:
        """A call answered during its send (an in-memory device) has nothing to wait for, but still
        yields to the event loop, at least once per YIELD_INTERVAL: often enough for other tasks,
        timeouts and cancellation, rarely enough not to cost a loop turn every call."""
        loop = self._loop
        if loop is None:
            await anyio.lowlevel.checkpoint()
            return
        now = loop.time()
        if now >= self._yield_due:
            self._yield_due = now + YIELD_INTERVAL
            await asyncio.sleep(0)

    async def allocate_channel(self, timeout: float = DEFAULT_TIMEOUT) -> InitResponse:
        """CTAPHID_INIT on the broadcast channel (§11.2.9.1.3); the device's answer, matched by nonce."""
        if self._closed is not None:
            raise self._closed
        waiter: _InitWaiter = self._new_waiter()
        nonce, reports = self._core.allocate_channel(self._clock(), timeout)
        self._allocations[nonce] = waiter
        try:
            self._after(reports, [])
            if waiter.done():
                await self._yield()
            else:
                await waiter
        except anyio.get_cancelled_exc_class():
            if waiter.done() and not waiter.cancelled():
                waiter.exception()  # retrieved: a failure that came with the cancellation is not logged
            raise
        finally:
            if self._allocations.pop(nonce, None) is not None and not waiter.done():
                self._core.abandon_allocation(nonce)
        return waiter.result()

    async def transact(
        self,
        cid: int,
        cmd: int,
        data: bytes = b"",
        on_keepalive: KeepaliveCallback | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        retry_busy: bool = False,
    ) -> bytes:
        """Send one message on ``cid`` and wait for its response.

        One call per channel at a time: later calls on the channel wait their turn, first come
        first served. With ``retry_busy``, ERR_CHANNEL_BUSY (another channel holds the device,
        CTAPHID §11.2.9.1.6) is retried for up to ``timeout`` s. Cancelling the awaiting task sends
        CTAPHID_CANCEL on the channel; the next call on it goes out once the channel is clean.
        """
        if self._closed is not None:
            raise self._closed
        lock = self._channel_locks.get(cid)
        if lock is None:
            lock = self._channel_locks[cid] = ChannelLock(self._new_event)
        if lock.locked:
            await lock.acquire()
            if self._closed is not None:
                lock.release()
                raise self._closed
        else:
            lock.locked = True  # free: taken without an await (see ChannelLock)
        try:
            waiter: _Waiter = self._new_waiter()
            core = self._core
            reports = core.send(cid, cmd, data, self._clock(), timeout, retry_busy, waiter)
            self._waiters[cid] = waiter  # (left there when done: the next call replaces it)
            if on_keepalive is not None:
                self._keepalives[cid] = on_keepalive
            try:
                if core.next_deadline is not self._timer_when:  # else the timer is where it must be
                    self._rearm()
                send_report = self._send_report
                if send_report is not None and len(reports) == 1 and not self._outbox:
                    try:
                        send_report(reports[0])  # the hot path of short requests over UDP
                    except OSError:
                        self._emit(reports)  # try_send_packets sends it, or says why not
                elif reports:
                    self._emit(reports)
                if not waiter.done():
                    await waiter
                elif self._loop is None:
                    await anyio.lowlevel.checkpoint()
                elif (now := self._clock()) >= self._yield_due:  # self._yield(), inlined: the hot path
                    self._yield_due = now + YIELD_INTERVAL
                    await asyncio.sleep(0)
            except anyio.get_cancelled_exc_class():
                if self._closed is None:
                    # the core still holds the transaction unless its outcome came: then cancel does nothing
                    self._after(core.cancel(cid, self._clock()), [])
                    if core.channel_state(cid) == "cancelling":
                        # wait (bounded) for the device to end the cancelled request, so that once the
                        # call is gone, so is the work on the device; the next call would wait for it anyway
                        cleaned = self._cleaning[cid] = anyio.Event()
                        with anyio.CancelScope(shield=True), anyio.move_on_after(CANCEL_WAIT):
                            await cleaned.wait()
                        self._cleaning.pop(cid, None)
                if waiter.done() and not waiter.cancelled():
                    waiter.exception()  # retrieved: a failure that came with the cancellation is not logged
                raise
            finally:
                if on_keepalive is not None:
                    self._keepalives.pop(cid, None)
            return waiter.result()
        finally:
            if lock.waiters:
                lock.release()
            else:
                lock.locked = False  # lock.release(), inlined: the hot path
