"""The device side of CTAPHID, its anyio shell: :class:`CtapHidServer` around the sans-IO
:class:`~aioctap.hid.device_core.DeviceCore`.

The shell feeds the core reports from a packet transport or a UDP endpoint
(:class:`~aioctap.hid.backends.udp.UdpEndpoint`) and runs a :class:`CtapHidApplication` (the
software authenticator, or a test echo) for CBOR and MSG requests. Every report it sends goes
through one ordered, synchronous outbox (:class:`_Outbox`): an answer's packets are never
interleaved with a KEEPALIVE, and a status change after the answer is dropped. On the in-memory
transport packets are processed in the sender's task as they arrive and requests run in one worker
task, so a round trip costs one or two event-loop turns.
"""

from __future__ import annotations

import asyncio
import logging
import struct
import time
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Generator, Sequence
from typing import Any, Protocol

import anyio
from anyio.abc import TaskStatus

from ..ctap import STATUS
from .backends.memory import MemoryTransport
from .backends.udp import UdpEndpoint
from .device_core import MESSAGE_TIMEOUT, Abort, Cancel, DeviceCore, DeviceEvent, Request, Wink
from .protocol import BROADCAST_CID, CTAPHID, CtapHidProtocolError
from .transport import NowaitSender, PacketTransport, ReportsPusher, TransportClosed, Wakeup

# DeviceCore and its events are re-exported: the core lived here before it had a module of its own
__all__ = [
    "MESSAGE_TIMEOUT",
    "Abort",
    "Cancel",
    "CtapHidApplication",
    "CtapHidServer",
    "DeviceCore",
    "DeviceEvent",
    "Request",
    "Wink",
]

log = logging.getLogger(__name__)

KEEPALIVE_INTERVAL = 0.1
_PROCESSING = STATUS.PROCESSING


class CtapHidApplication(Protocol):
    """What runs behind the device-side CTAPHID layer (the CTAP2/U2F engine)."""

    capabilities: int
    # Optional: an application with ``eager_start = True`` promises that ``handle`` enters no cancel
    # scope before its first wait, so that on asyncio a request may start in the task that delivered
    # it (and, when it never waits, be answered before the host's send returns). See CtapHidServer.

    async def handle(self, cmd: int, payload: bytes, set_status: Callable[[STATUS], None]) -> bytes:
        """Handle CTAPHID_CBOR (command byte + CBOR -> status byte + CBOR) or CTAPHID_MSG (APDU)."""
        ...

    def wink(self) -> None:
        """Identify the device (blink)."""
        ...

    def power_cycle(self) -> None:
        """Simulated unplug and replug."""
        ...


Address = Any  # None for a point-to-point transport, (host, port) for UDP


class _Outbox:
    """The device's reports in the order they were emitted, whatever the transport.

    ``emit`` is synchronous: it sends at once what it can (``send_now`` returns how many of the
    reports it sent before the transport would block) and queues the rest, and the writer task
    (:meth:`run`) sends the queue in order. Since every report goes through here synchronously, a
    message's packets are never interleaved with another report (a KEEPALIVE cannot land between
    a response's packets).
    """

    def __init__(
        self,
        send_now: Callable[[Sequence[bytes], Address], int] | None,
        send: Callable[[bytes, Address], Awaitable[None]],
        push: Callable[[Sequence[bytes]], int] | None = None,
    ) -> None:
        self._send_now = send_now
        self._send = send
        # (a point-to-point transport) send_now without the address: it may raise TransportClosed, which
        # counts as sent (the host went away; the receive side ends the serve loop)
        self._push = push
        self._queue: deque[tuple[bytes, Address]] = deque()
        self._wakeup = Wakeup()

    def emit(self, packets: Sequence[bytes], addr: Address) -> None:
        queue = self._queue
        if not queue:
            if self._push is not None:
                try:
                    sent = self._push(packets)
                except TransportClosed:
                    return
                if sent >= len(packets):
                    return
                packets = packets[sent:]
            elif self._send_now is not None:
                sent = self._send_now(packets, addr)
                if sent >= len(packets):
                    return
                packets = packets[sent:]
        queue.extend((p, addr) for p in packets)
        self._wakeup.set()

    async def run(self) -> None:
        queue = self._queue
        while True:
            while queue:
                packet, addr = queue[0]
                await self._send(packet, addr)
                queue.popleft()
            await self._wakeup.wait()


def _crashed(request: Request) -> bytes:
    """Log the application's failure on ``request`` (the exception being handled) and answer with :func:`_failure`."""
    log.exception("authenticator failed on command 0x%02x", request.cmd)
    return _failure(request.cmd)


def _failure(cmd: int) -> bytes:
    """The answer to a request the application failed on: CTAP1_ERR_OTHER, or SW_UNKNOWN for an APDU."""
    return b"\x7f" if cmd == CTAPHID.CBOR else b"\x6f\x00"


def _not_serving(packets: Sequence[bytes], addr: Address) -> None:
    raise AssertionError("a report to send while the server does not serve")


class _Running:
    """A request the application is running: its cancel scope (made when first needed) and last status.

    Called with a status, it is the request's ``set_status``: the change is emitted at once, in order, so
    it cannot fall between the packets of the answer, and once the answer is out (the request no longer
    running) it is dropped.
    """

    __slots__ = ("_scope", "aborted", "addr", "cid", "server", "status")

    def __init__(self, server: CtapHidServer, cid: int, addr: Address) -> None:
        self._scope: anyio.CancelScope | None = None
        self.status = _PROCESSING
        self.aborted = False  # by INIT on its channel: it ends without an answer
        self.server = server
        self.cid = cid
        self.addr = addr

    def __call__(self, new: STATUS) -> None:
        server, cid = self.server, self.cid
        if new != self.status and server._running.get(cid) is self:
            self.status = new
            server._emit([server.core.keepalive(cid, new)], server._addresses.get(cid, self.addr))

    @property
    def scope(self) -> anyio.CancelScope:
        """The scope the request runs in (a request answered at once never needs one)."""
        if self._scope is None:
            self._scope = anyio.CancelScope()
        return self._scope


class _Started:
    """A request's coroutine that ran up to its first wait in another task; awaiting this goes on with it.

    What anyio lacks: a way to start a coroutine eagerly in the current task (as asyncio 3.12's
    eager task factory does) and let another task finish it. A request of the software
    authenticator that never waits is then answered before the host's send returns, without a
    worker wake-up: an in-memory getInfo through ``Ctap2`` took 71-76 us this way against 90-95 us
    started in the worker task (measured on this machine, same run).

    The coroutine yielded ``yielded`` (the future it waits for, or None for a bare checkpoint): that is
    handed to the awaiting task first, then what the task sends or throws goes into the coroutine until
    it returns, so the rest of the request runs as if the awaiting task had started it.
    """

    __slots__ = ("coro", "entry", "yielded")

    def __init__(self, coro: Coroutine[Any, Any, bytes], yielded: Any, entry: _Running) -> None:
        self.coro = coro
        self.yielded = yielded
        self.entry = entry

    def __await__(self) -> Generator[Any, Any, bytes]:
        coro, yielded = self.coro, self.yielded
        while True:
            try:
                try:
                    value = yield yielded
                except GeneratorExit:
                    coro.close()
                    raise
                except BaseException as exc:  # cancellation, mostly: the coroutine gets it where it waits
                    yielded = coro.throw(exc)
                else:
                    yielded = coro.send(value)
            except StopIteration as stop:  # the coroutine returned
                result: bytes = stop.value
                return result


class CtapHidServer:
    """Serves a :class:`CtapHidApplication` over CTAPHID (a packet transport or UDP).

    Packets are processed synchronously as they arrive (in the sender's task on the in-memory
    transport); CBOR and MSG requests run one at a time in one worker task, the core guaranteeing
    that at most one is in flight (CHANNEL_BUSY for the others).
    """

    def __init__(self, app: CtapHidApplication, *, packet_size: int = 64) -> None:
        self.app = app
        self.core = DeviceCore(capabilities=app.capabilities, packet_size=packet_size)
        #: every report goes out through this: the serving outbox's ``emit``
        self._emit: Callable[[Sequence[bytes], Address], None] = _not_serving
        self._addresses: dict[int, Address] = {}
        self._running: dict[int, _Running] = {}
        self._requests: deque[tuple[Request, Address, _Started | None]] = deque()
        self._request_ready = Wakeup()
        self._worker_idle = False  # the worker waits for a request: one arriving may run at once
        self._eager = False  # asyncio: requests start in the task that delivered them (see _start)
        self._clock: Callable[[], float] = anyio.current_time

    def power_cycle(self) -> None:
        """Simulate unplugging and plugging in: channels are forgotten, the application restarts."""
        for running in self._running.values():
            running.scope.cancel()
        self._running.clear()
        for _, _, started in self._requests:
            if started is not None:
                started.coro.close()
        self._requests.clear()
        self.core.power_cycle()
        self.app.power_cycle()

    async def serve(self, transport: PacketTransport) -> None:
        """Serve until the transport closes."""

        async def send(packet: bytes, _addr: Address) -> None:
            try:
                await transport.send_packet(packet)
            except TransportClosed:
                pass  # the host went away; the receive side ends the serve loop

        push: Callable[[Sequence[bytes]], int] | None = None
        if isinstance(transport, NowaitSender):
            push = transport.try_send_packets
            if isinstance(transport, MemoryTransport) and transport.packet_size == self.core.packet_size:
                push = transport.send_framed  # the core framed them at its size: not checked again

        async def receive() -> Sequence[tuple[bytes, Address]]:
            return [(p, None) for p in await transport.receive_packets()]

        set_receiver = transport.set_receiver if isinstance(transport, ReportsPusher) else None
        try:
            await self._serve(_Outbox(None, send, push), receive, set_receiver)
        finally:
            if set_receiver is not None:
                set_receiver(None)

    async def serve_udp(
        self,
        host: str = "127.0.0.1",
        port: int = 8111,
        *,
        task_status: TaskStatus[tuple[str, int]] = anyio.TASK_STATUS_IGNORED,
    ) -> None:
        """Serve one 64-byte report per datagram on ``host:port``; replies go to each channel's sender.

        ``task_status.started`` reports the bound address (use port 0 for a free port).
        """
        endpoint = UdpEndpoint(host, port, packet_size=self.core.packet_size)

        def send_now(packets: Sequence[bytes], addr: Address) -> int:
            return endpoint.try_send_to(packets, addr) if addr is not None else len(packets)

        async def send(packet: bytes, addr: Address) -> None:
            if addr is not None:
                await endpoint.send_to(packet, addr)

        task_status.started(endpoint.address)
        try:
            await self._serve(_Outbox(send_now, send), endpoint.receive_from, None)
        finally:
            endpoint.close()

    async def _serve(
        self,
        outbox: _Outbox,
        receive: Callable[[], Awaitable[Sequence[tuple[bytes, Address]]]],
        set_receiver: Callable[[Callable[[Sequence[bytes]], None] | None], None] | None,
    ) -> None:
        try:
            loop = asyncio.get_running_loop()
            # asyncio's own loops tell time with time.monotonic(): called without their Python frame
            self._clock = time.monotonic if type(loop).time is asyncio.BaseEventLoop.time else loop.time
            self._eager = bool(getattr(self.app, "eager_start", False))
        except RuntimeError:  # not asyncio
            self._clock = anyio.current_time
        async with anyio.create_task_group() as tg:
            self._emit = outbox.emit
            tg.start_soon(outbox.run)
            tg.start_soon(self._ticker)
            tg.start_soon(self._worker)
            if set_receiver is not None:
                set_receiver(self._on_memory_packets)
            try:
                while True:
                    try:
                        batch = await receive()
                    except TransportClosed:
                        return
                    for packet, addr in batch:
                        self._on_packet(packet, addr)
            finally:
                tg.cancel_scope.cancel()

    def _on_memory_packets(self, packets: Sequence[bytes]) -> None:
        """Receiver of a point-to-point transport: every channel's host is the one peer."""
        out, events = self.core.receive_many(packets, self._clock())
        if out:
            self._emit(out, None)
        self._on_events(events, None)

    def _on_packet(self, packet: bytes, addr: Address) -> None:
        out, events = self.core.receive(packet, self._clock())
        (cid,) = struct.unpack_from(">I", packet) if len(packet) >= 4 else (None,)
        if cid is not None and cid != BROADCAST_CID:
            self._addresses[cid] = addr
        if out:
            # INIT on the broadcast channel is answered to its sender; everything else to the channel's host
            self._emit(out, addr)
        self._on_events(events, addr)

    def _on_events(self, events: list[DeviceEvent], addr: Address) -> None:
        for event in events:
            if isinstance(event, Request):
                if self._eager and self._worker_idle and not self._requests and not self._running:
                    self._start(event, addr)
                else:
                    self._requests.append((event, addr, None))
                    self._request_ready.set()
            elif isinstance(event, Cancel | Abort):
                running = self._running.get(event.cid)
                if running is not None:
                    running.aborted = isinstance(event, Abort)
                    running.scope.cancel()  # also a request started at once, waiting for the worker
                    continue
                for item in self._requests:  # cancelled before the worker started it
                    if item[0].cid == event.cid:
                        self._requests.remove(item)
                        if isinstance(event, Cancel):
                            self._answer(item[0], item[1], None)
                        break
            else:
                try:
                    self.app.wink()
                except Exception:
                    log.exception("wink failed")

    async def _ticker(self) -> None:
        while True:
            await anyio.sleep(KEEPALIVE_INTERVAL)
            for p in self.core.tick(self._clock()):
                (cid,) = struct.unpack_from(">I", p)
                self._emit([p], self._addresses.get(cid))
            for cid, running in list(self._running.items()):
                self._emit([self.core.keepalive(cid, running.status)], self._addresses.get(cid))

    async def _worker(self) -> None:
        """Run the queued requests, one at a time."""
        requests = self._requests
        while True:
            while requests:
                request, addr, started = requests.popleft()
                await self._run(request, addr, started)
            self._worker_idle = True
            try:
                await self._request_ready.wait()
            finally:
                self._worker_idle = False

    def _start(self, request: Request, addr: Address) -> None:
        """Run ``request`` at once, in the task that delivered it, up to the application's first wait.

        Most commands of the software authenticator never wait (the user approves at once), so the
        answer goes out before the host's send returns: no worker wake-up, no event-loop turn. A
        request that does wait goes on in the worker, inside its cancel scope (:class:`_Started`).
        Only for applications with ``eager_start``: what runs here must not enter a cancel scope
        before its first wait (a scope belongs to the task that entered it); the software
        authenticator yields once before it calls a user presence policy that may wait.
        """
        entry, coro = self._begin(request, addr)
        result: bytes | None
        try:
            yielded = coro.send(None)
        except StopIteration as stop:
            result = stop.value
        except Exception:
            result = _crashed(request)
        else:
            self._requests.append((request, addr, _Started(coro, yielded, entry)))
            self._request_ready.set()
            return
        self._finish(request, addr, entry, result)

    async def _run(self, request: Request, addr: Address, started: _Started | None = None) -> None:
        work: Awaitable[bytes]
        if started is None:
            entry, work = self._begin(request, addr)
        else:
            entry, work = started.entry, started
        result: bytes | None = None
        with entry.scope:
            try:
                result = await work
            except Exception:
                result = _crashed(request)
        self._finish(request, addr, entry, result)

    def _begin(self, request: Request, addr: Address) -> tuple[_Running, Coroutine[Any, Any, bytes]]:
        """Register ``request`` as running and make the application's coroutine for it (not started)."""
        entry = self._running[request.cid] = _Running(self, request.cid, addr)
        return entry, self.app.handle(request.cmd, request.data, entry)

    def _finish(self, request: Request, addr: Address, entry: _Running, result: bytes | None) -> None:
        """``request`` is no longer running: answer it (``result`` None: it was cancelled)."""
        if self._running.get(request.cid) is entry:
            del self._running[request.cid]
        if not entry.aborted:
            self._answer(request, addr, result)

    def _answer(self, request: Request, addr: Address, result: bytes | None) -> None:
        """Send the answer to ``request`` (``None``: it was cancelled) and end its transaction."""
        cid = request.cid
        if result is None:  # cancelled by CTAPHID_CANCEL (or INIT resync)
            if self.core.busy_channel != cid:
                return  # power cycle: the channel is gone
            result = b"\x2d" if request.cmd == CTAPHID.CBOR else b"\x69\x85"
        try:
            packets = self.core.respond(cid, request.cmd, result)
        except CtapHidProtocolError:  # an answer longer than one message can carry
            log.error("answer of %d bytes to command 0x%02x is too long for CTAPHID", len(result), request.cmd)
            packets = self.core.respond(cid, request.cmd, _failure(request.cmd))
        self._emit(packets, self._addresses.get(cid, addr))
