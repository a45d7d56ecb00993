"""The host-side CTAPHID shell: one reader task per transport routes packets to transactions.

:class:`HidConnection` owns a :class:`~aioctap.hid.transport.PacketTransport` and the only task
that reads from it. Each pending transaction is registered by channel id; the reader reassembles
its response with the sans-IO :class:`~aioctap.hid.protocol.Reassembler`, passes KEEPALIVE
packets to its callback (once per change of status, and each one extends the timeout), fails it
on ERROR packets, and counts and drops packets for channels nobody waits on. INIT responses on
the broadcast channel are matched by their nonce. When the transport ends, every pending
transaction fails with :class:`~aioctap.ctap.TransportError` and later ones fail fast.

A transport that can push packets (``set_receiver``: the in-memory and UDP backends) gets the
router's ``_route_many`` as its receiver, so a response is routed where it arrives and the waiting
call wakes without a turn of the reader task; a run of continuation reports of one channel is
reassembled in one step. A one-report response is delivered without a Packet or Message object
(UDP hands it to ``_route`` alone: ``set_report_receiver``), and on asyncio over a transport with
``try_send_packets`` (UDP) ``transact`` sends and waits in its own frame, taking the send lock
only when the socket buffer is full, and a one-report request goes out through the socket's own
``send`` (``send_report``). ``CtapHidDevice.call`` returns ``transact``'s coroutine, which also
queues the calls of one channel (:class:`~aioctap.hid.lock.ChannelLock`) and retries a busy device, so a command
costs one coroutine frame of aioctap's (bench_transport.py, host CPU per 0-byte UDP PING: about
53 us in round 2, 45 us, now 39-41 us, where python-fido2 takes 33-35 us).

A response whose reports arrive in one batch (the in-memory transport) is taken in one join
(:func:`~aioctap.hid.protocol.whole_message`). A call answered during its own send (an in-memory
device) yields to the event loop at most once per :data:`YIELD_INTERVAL` instead of once per call.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import anyio
import anyio.lowlevel
from anyio.abc import TaskGroup

from ..ctap import STATUS, CtapError, KeepaliveCallback, TransportError
from .lock import ChannelLock, Event, FutureEvent
from .protocol import (
    _CONT_HEADER,
    _INIT_HEADER,
    BROADCAST_CID,
    CTAPHID,
    HIDERR,
    CtapHidProtocolError,
    InitResponse,
    Message,
    Reassembler,
    frame,
    parse_init_response,
    parse_packet,
    whole_message,
)
from .transport import PacketTransport, TransportClosed

__all__ = ["YIELD_INTERVAL", "CtapHidTimeout", "HidConnection"]

#: a transaction answered during its send (an in-memory device) yields to the event loop only when
#: this long (seconds) has passed since the last such yield of its connection
YIELD_INTERVAL = 0.001

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 5.0  # seconds without any packet (keepalives extend it)
CANCEL_WAIT = 1.0  # how long a cancelled call waits for the device's answer
BUSY_RETRY_DELAY = 0.02  # seconds between retries of a channel the device reports busy


_KEEPALIVE = int(CTAPHID.KEEPALIVE)
_ERROR = int(CTAPHID.ERROR)


class CtapHidTimeout(TimeoutError):
    """The device did not answer (nor send a keepalive) within the timeout."""


@dataclass(eq=False, slots=True)
class _Pending:
    cid: int
    cmd: int
    on_keepalive: KeepaliveCallback | None
    timeout: float
    deadline: float
    # made when a response spans several reports (most fit in one): new per transaction, so nothing
    # of an earlier transaction's unfinished response on the channel can leak into this one
    reassembler: Reassembler | None = None
    # what a waiting task waits on, made when it first waits (an answer during the send needs none):
    # a bare future on asyncio, an event on other anyio backends
    future: asyncio.Future[None] | None = None
    done: Event | None = None
    finished: bool = False
    result: bytes | None = None
    error: BaseException | None = None
    last_status: int | None = None

    def finish(self, result: bytes | None = None, error: BaseException | None = None) -> None:
        if not self.finished:
            self.finished = True
            self.result, self.error = result, error
            future = self.future
            if future is not None:
                if not future.done():  # a cancelled wait cancels its future
                    future.set_result(None)
            elif self.done is not None:
                self.done.set()


class HidConnection:
    """One packet transport, its reader task, and the transactions waiting on it."""

    def __init__(self, transport: PacketTransport, task_group: TaskGroup) -> None:
        self.transport = transport
        self.packet_size = transport.packet_size
        self._tg = task_group
        self._pending: dict[int, _Pending] = {}
        self._channel_locks: dict[int, ChannelLock] = {}  # one transaction per channel at a time
        self._init_waiters: dict[bytes, _Pending] = {}
        self._broadcast = Reassembler(self.packet_size)
        self._closed: TransportError | None = None
        self._watchdog: asyncio.TimerHandle | None = None
        self._watchdog_when = 0.0  # when the watchdog fires (asyncio)
        # On asyncio the hot path uses the loop directly: one watchdog timer per connection instead
        # of a cancel scope per wait, bare futures instead of events, ChannelLock (measured in
        # benchmarks/bench_transport.py). Other anyio backends take the generic path.
        self._loop: asyncio.AbstractEventLoop | None = None
        self._yield_due = 0.0  # (asyncio) when a call answered without waiting yields to the loop again
        self._clock: Callable[[], float] = anyio.current_time
        self._new_event: Callable[[], Event] = anyio.Event
        try:
            self._loop = asyncio.get_running_loop()
        except RuntimeError:  # another anyio backend (trio)
            pass
        else:
            loop = self._loop
            # asyncio's own loops tell time with time.monotonic(): call it without their Python frame
            self._clock = time.monotonic if type(loop).time is asyncio.BaseEventLoop.time else loop.time
            self._new_event = lambda: FutureEvent(loop)
        self._send_lock = ChannelLock(self._new_event)  # a message's reports go out together
        # optional extension of PacketTransport: send a whole message's reports in one call
        self._send_packets: Callable[[Sequence[bytes]], Awaitable[None]] | None = getattr(
            transport, "send_packets", None
        )
        # optional extension (UDP): send without waiting, returning how many reports went
        self._try_send: Callable[[Sequence[bytes]], int] | None = getattr(transport, "try_send_packets", None)
        # optional extension (UDP, with try_send_packets): a raw send of one report that raises OSError
        # when it cannot send; try_send_packets then sends it or says why not
        self._send_report: Callable[[bytes], object] | None = getattr(transport, "send_report", None)
        #: packets dropped because no transaction waited on their channel, or they were malformed
        self.dropped_packets = 0

    @classmethod
    @asynccontextmanager
    async def open(cls, transport: PacketTransport) -> AsyncIterator[HidConnection]:
        """Start the reader task; on exit stop it and close the transport."""
        async with anyio.create_task_group() as tg:
            conn = cls(transport, tg)
            tg.start_soon(conn._reader)
            try:
                yield conn
            finally:
                await conn.aclose()
                tg.cancel_scope.cancel()

    def start_soon(self, func: Callable[[], Coroutine[Any, Any, object]]) -> None:
        """Run ``func`` in the connection's task group (cancelled when the connection closes)."""
        self._tg.start_soon(func)

    @property
    def closed(self) -> bool:
        """True once the connection is closed or its transport failed."""
        return self._closed is not None

    async def aclose(self) -> None:
        """Close the transport and fail every pending transaction."""
        if self._closed is None:
            self._fail_all(TransportError("connection closed"))
        with anyio.CancelScope(shield=True):
            await self.transport.aclose()

    def _fail_all(self, error: TransportError) -> None:
        self._closed = error
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None
        for pending in [*self._pending.values(), *self._init_waiters.values()]:
            pending.finish(error=error)
        self._pending.clear()
        self._init_waiters.clear()

    # -- the reader task ----------------------------------------------------------------------

    async def _reader(self) -> None:
        # optional extension of PacketTransport (the in-memory backend): packets are handed to
        # ``_route`` in the sender's task as they arrive, and ``receive_packets`` only waits for the end
        set_receiver: Callable[[Callable[[Sequence[bytes]], None] | None], None] | None = getattr(
            self.transport, "set_receiver", None
        )
        # (UDP) and one-report messages one at a time, without a batch around them
        set_report_receiver: Callable[[Callable[[bytes], None] | None], None] | None = getattr(
            self.transport, "set_report_receiver", None
        )
        try:
            if set_receiver is not None:
                set_receiver(self._route_many)
            if set_report_receiver is not None:
                set_report_receiver(self._route)
            while True:
                self._route_many(await self.transport.receive_packets())
        except TransportError as e:  # TransportClosed: every pending call fails with the transport's end
            self._fail_all(TransportClosed(f"transport lost: {e}"))
        except anyio.get_cancelled_exc_class():
            if self._closed is None:
                self._fail_all(TransportError("connection closed"))
            raise
        except Exception as e:  # a backend failing in an unexpected way still ends every call cleanly
            log.warning("CTAPHID transport failed: %s", type(e).__name__)
            self._fail_all(TransportError(f"transport failed: {type(e).__name__}: {e}"))
        finally:
            if set_receiver is not None:
                set_receiver(None)
            if set_report_receiver is not None:
                set_report_receiver(None)

    def _drop(self, reason: str) -> None:
        self.dropped_packets += 1
        log.debug("dropped CTAPHID packet: %s", reason)

    def _route_many(self, packets: Sequence[bytes]) -> None:
        """Route a batch of reports; a run of continuations of one channel goes in one step."""
        n = len(packets)
        if n == 1:  # the common case: one report (a short answer, a keepalive)
            self._route(packets[0])
            return
        i = 0
        while i < n:
            raw = packets[i]
            if i + 1 < n and len(raw) >= 7 and raw[4] & 0x80:  # an init packet: the whole answer, maybe
                pending = self._pending.get(int.from_bytes(raw[:4], "big"))
                if pending is not None and raw[4] == 0x80 | pending.cmd:
                    whole = whole_message(packets, i)
                    if whole is not None:
                        data, i = whole
                        pending.finish(result=data)
                        continue
            if i + 1 < n and len(raw) >= 5 and not raw[4] & 0x80:
                pending = self._pending.get(int.from_bytes(raw[:4], "big"))
                if pending is not None and pending.reassembler is not None and pending.reassembler.in_progress:
                    try:
                        message, i = pending.reassembler.feed_continuations(packets, i)
                    except CtapHidProtocolError as e:
                        pending.finish(error=e)
                        i += 1
                        continue
                    self._delivered(pending, message)
                    continue
            self._route(raw)
            i += 1

    def _route(self, raw: bytes) -> None:
        if len(raw) < 5:
            self._drop(f"packet of {len(raw)} bytes is shorter than a header")
            return
        cid, kind = _CONT_HEADER.unpack_from(raw)
        if cid == BROADCAST_CID:
            self._route_broadcast(raw)
            return
        pending = self._pending.get(cid)
        if pending is None:
            self._drop(f"no transaction on channel 0x{cid:08x}")
            return
        try:
            if kind & 0x80:
                cmd = kind & 0x7F
                if cmd == pending.cmd and cmd != _KEEPALIVE and cmd != _ERROR and len(raw) >= 7:
                    length = (raw[5] << 8) | raw[6]
                    if length <= len(raw) - 7:  # a one-report response (the common case): no Packet
                        if not pending.finished:  # pending.finish(), inlined: the hot path of short answers
                            pending.finished = True
                            pending.result = raw[7 : 7 + length]
                            future = pending.future
                            if future is not None:
                                if not future.done():
                                    future.set_result(None)
                            elif pending.done is not None:
                                pending.done.set()
                        return
                packet = parse_packet(raw)
                if packet.cmd == CTAPHID.KEEPALIVE:
                    self._keepalive(pending, packet.data[0] if packet.data else 0)
                    return
                if packet.cmd == CTAPHID.ERROR:
                    pending.finish(error=CtapError(packet.data[0] if packet.data else 0x7F))
                    return
                if pending.reassembler is None:
                    pending.reassembler = Reassembler(self.packet_size)
                message = pending.reassembler.feed(packet)
            else:  # continuation: the hot path of long messages
                if pending.reassembler is None:
                    raise CtapHidProtocolError("continuation packet without an init packet", HIDERR.INVALID_SEQ)
                message = pending.reassembler.feed_continuation(raw)
        except CtapHidProtocolError as e:
            pending.finish(error=e)
            return
        self._delivered(pending, message)

    def _delivered(self, pending: _Pending, message: Message | None) -> None:
        """A report of ``pending``'s response was fed: extend its deadline, or finish it."""
        if message is None:
            pending.deadline = self._clock() + pending.timeout
        elif message.cmd != pending.cmd:
            pending.finish(
                error=CtapHidProtocolError(f"response command 0x{message.cmd:02x}, expected 0x{pending.cmd:02x}")
            )
        else:
            pending.finish(result=message.data)

    def _keepalive(self, pending: _Pending, status: int) -> None:
        """A KEEPALIVE extends the deadline; its status goes to the callback once per change."""
        pending.deadline = self._clock() + pending.timeout
        if status == pending.last_status:
            return
        pending.last_status = status
        if pending.on_keepalive is not None:
            try:
                pending.on_keepalive(STATUS(status))
            except ValueError:
                log.debug("unknown keepalive status %d", status)
            except Exception:  # a failing callback must not kill the reader
                log.exception("on_keepalive callback failed")

    def _route_broadcast(self, raw: bytes) -> None:
        try:
            message = self._broadcast.feed(parse_packet(raw))
        except CtapHidProtocolError as e:
            self._drop(str(e))
            return
        if message is None:
            return
        if message.cmd == CTAPHID.INIT and len(message.data) >= 8:
            waiter = self._init_waiters.pop(message.data[:8], None)
            if waiter is not None:
                waiter.finish(result=message.data)
                return
        self._drop("broadcast message nobody waits for")

    # -- transactions -------------------------------------------------------------------------

    async def _send(self, cid: int, cmd: int, data: bytes) -> None:
        packets = frame(cid, cmd, data, self.packet_size)
        try_send = self._try_send
        if try_send is not None and not self._send_lock.locked:
            # fast path: no other message is half sent, and what goes now goes whole
            sent = try_send(packets)
            if sent == len(packets):
                return
            packets = packets[sent:]  # the socket buffer is full: the rest under the lock
        await self._send_locked(packets)

    async def _send_locked(self, packets: Sequence[bytes]) -> None:
        async with self._send_lock:  # packets of one message must not interleave with another's
            if self._send_packets is not None:
                await self._send_packets(packets)
            else:
                for p in packets:
                    await self.transport.send_packet(p)

    def _new_waiter(self, pending: _Pending) -> Awaitable[object]:
        """Something to await until ``pending`` finishes: a new future on asyncio, else a new event.

        New for each wait: a cancelled wait cancels its future.
        """
        if self._loop is not None:
            future = pending.future = asyncio.Future(loop=self._loop)
            return future
        event = pending.done = anyio.Event()
        return event.wait()

    def _arm_watchdog(self, deadline: float) -> None:
        """(asyncio) One timer per connection, at the earliest deadline of its transactions."""
        assert self._loop is not None
        if self._watchdog is not None:
            if deadline >= self._watchdog_when:
                return
            self._watchdog.cancel()
        self._watchdog = self._loop.call_at(deadline, self._on_watchdog)
        self._watchdog_when = deadline

    def _on_watchdog(self) -> None:
        """Fail the transactions whose deadline passed; re-arm for the next one.

        Keepalives and packets only move a deadline forward, so a transaction that finishes
        costs nothing here: no timer is created or cancelled per transaction.
        """
        assert self._loop is not None
        self._watchdog = None
        now = self._loop.time()
        next_deadline: float | None = None
        for pending in [*self._pending.values(), *self._init_waiters.values()]:
            if pending.finished:
                continue
            if now >= pending.deadline:
                pending.finish(error=CtapHidTimeout(f"no answer from the device within {pending.timeout:g} s"))
            elif next_deadline is None or pending.deadline < next_deadline:
                next_deadline = pending.deadline
        if next_deadline is not None:
            self._arm_watchdog(next_deadline)

    async def _wait(self, pending: _Pending) -> bytes:
        if self._loop is not None:
            if not pending.finished:
                self._arm_watchdog(pending.deadline)
                await self._new_waiter(pending)
            else:
                # answered during the send (an in-memory device): nothing to wait for. The call still
                # yields to the event loop, at least once per YIELD_INTERVAL: often enough for other
                # tasks, timeouts and cancellation, rarely enough not to cost a loop turn every call
                now = self._loop.time()
                if now >= self._yield_due:
                    self._yield_due = now + YIELD_INTERVAL
                    await asyncio.sleep(0)
        else:
            if pending.finished:
                await anyio.lowlevel.checkpoint()
            while not pending.finished:
                remaining = pending.deadline - anyio.current_time()
                if remaining <= 0:
                    raise CtapHidTimeout(f"no answer from the device within {pending.timeout:g} s")
                with anyio.move_on_after(remaining):
                    await self._new_waiter(pending)
        if pending.error is not None:
            raise pending.error
        assert pending.result is not None
        return pending.result

    async def allocate_channel(self, timeout: float = DEFAULT_TIMEOUT) -> InitResponse:
        """CTAPHID_INIT on the broadcast channel; return the device's answer (matched by nonce)."""
        if self._closed is not None:
            raise self._closed
        nonce = os.urandom(8)
        pending = _Pending(BROADCAST_CID, CTAPHID.INIT, None, timeout, self._clock() + timeout)
        self._init_waiters[nonce] = pending
        try:
            await self._send(BROADCAST_CID, CTAPHID.INIT, nonce)
            response = parse_init_response(await self._wait(pending))
        finally:
            self._init_waiters.pop(nonce, None)
        return response

    async def transact(
        self,
        cid: int,
        cmd: int,
        data: bytes = b"",
        *,
        on_keepalive: KeepaliveCallback | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        retry_busy: bool = False,
    ) -> bytes:
        """Send one message on ``cid`` and wait for its response.

        One transaction per channel at a time: later calls on the channel wait their turn, first
        come first served. With ``retry_busy``, ERR_CHANNEL_BUSY (another channel holds the device,
        CTAPHID §11.2.9.1.6) is retried every ``BUSY_RETRY_DELAY`` s for up to ``timeout`` s.
        Cancelling the awaiting task sends CTAPHID_CANCEL on the channel and waits (at most
        ``CANCEL_WAIT`` s, shielded) for the device to answer, so the channel is clean for the next call.
        """
        if self._closed is not None:
            raise self._closed
        lock = self._channel_locks.get(cid)
        if lock is None:
            lock = self._channel_locks[cid] = ChannelLock(self._new_event)
        if lock.locked:
            await lock.acquire()
        else:
            lock.locked = True  # free: taken without an await (see ChannelLock)
        try:
            busy_until: float | None = None
            while True:
                if self._closed is not None:
                    raise self._closed
                pending = _Pending(cid, cmd, on_keepalive, timeout, self._clock() + timeout)
                self._pending[cid] = pending
                try:
                    try_send = self._try_send
                    loop = self._loop
                    if try_send is not None and loop is not None and not self._send_lock.locked:
                        # the asyncio fast path of _send and _wait, inlined: one coroutine per call
                        size = self.packet_size
                        packets: Sequence[bytes] | None = None
                        if len(data) <= size - 7 and 0 <= cmd <= 0x7F and 0 <= cid <= 0xFFFFFFFF:  # one report
                            packet = (_INIT_HEADER.pack(cid, 0x80 | cmd, len(data)) + data).ljust(size, b"\0")
                            send_report = self._send_report
                            if send_report is None:
                                packets = (packet,)
                            else:
                                try:
                                    send_report(packet)
                                except OSError:
                                    packets = (packet,)
                        else:
                            packets = frame(cid, cmd, data, size)
                        if packets is not None:
                            sent = try_send(packets)
                            if sent != len(packets):
                                await self._send_locked(packets[sent:])
                        if not pending.finished:
                            if self._watchdog is None or pending.deadline < self._watchdog_when:
                                self._arm_watchdog(pending.deadline)
                            future = pending.future = asyncio.Future(loop=loop)
                            await future
                            if pending.error is not None:
                                raise pending.error
                            assert pending.result is not None
                            return pending.result
                    else:
                        await self._send(cid, cmd, data)
                    return await self._wait(pending)
                except CtapError as e:
                    if not retry_busy or e.code != CtapError.ERR.CHANNEL_BUSY:
                        raise
                    now = self._clock()
                    if busy_until is None:
                        busy_until = now + timeout
                    elif now >= busy_until:
                        raise
                except anyio.get_cancelled_exc_class():
                    with anyio.CancelScope(shield=True), anyio.move_on_after(CANCEL_WAIT):
                        if self._closed is None and not pending.finished:
                            waiter = self._new_waiter(pending)
                            await self._send(cid, CTAPHID.CANCEL, b"")
                            await waiter
                    raise
                finally:
                    if self._pending.get(cid) is pending:
                        del self._pending[cid]
                await anyio.sleep(BUSY_RETRY_DELAY)
        finally:
            lock.release()
