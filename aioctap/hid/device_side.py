"""The device side of CTAPHID: a sans-IO core (:class:`DeviceCore`) and its anyio shell (:class:`CtapHidServer`).

The core allocates channels, answers INIT/PING/WINK/LOCK, reassembles requests, enforces one
transaction at a time (CHANNEL_BUSY for other channels), reports INVALID_SEQ, INVALID_CHANNEL,
INVALID_CMD, INVALID_LEN and MSG_TIMEOUT (for a message left incomplete), and frames responses and
keepalives. Time is a parameter. The shell feeds it packets from a transport or a UDP socket and
runs a :class:`CtapHidApplication` (the software authenticator, or a test echo) for CBOR and MSG.

Every report the shell sends goes through one ordered, synchronous outbox (:class:`_Outbox`):
an answer's packets are never interleaved with a KEEPALIVE, and a status change after the answer
is dropped. On the in-memory transport packets are processed in the sender's task as they arrive
and requests run in one worker task, so a round trip costs one or two event-loop turns.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import struct
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Generator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import anyio
from anyio.abc import TaskStatus

from ..ctap import STATUS
from .backends.udp import set_buffer_sizes
from .protocol import (
    BROADCAST_CID,
    CAPABILITY,
    CTAPHID,
    HIDERR,
    CtapHidProtocolError,
    InitResponse,
    Reassembler,
    frame,
    max_message_size,
    parse_packet,
    whole_message,
)
from .transport import NowaitSender, PacketTransport, ReportsPusher, TransportClosed, Wakeup

__all__ = ["CtapHidApplication", "CtapHidServer", "DeviceCore", "Request"]

log = logging.getLogger(__name__)

MESSAGE_TIMEOUT = 0.5  # seconds between packets of one message before MSG_TIMEOUT
KEEPALIVE_INTERVAL = 0.1


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


@dataclass(frozen=True, slots=True)
class Request:
    """A complete CBOR or MSG request the application must answer with :meth:`DeviceCore.respond`."""

    cid: int
    cmd: int
    data: bytes


@dataclass(frozen=True, slots=True)
class Cancel:
    """The host cancelled the running request on ``cid``."""

    cid: int


@dataclass(frozen=True, slots=True)
class Abort:
    """INIT on ``cid`` resynchronized it (§11.2.9.1.3): its running request ends without an answer."""

    cid: int


@dataclass(frozen=True, slots=True)
class Wink:
    cid: int


DeviceEvent = Request | Cancel | Abort | Wink

# type bytes of the init packets that take the fast path of DeviceCore.receive
_CAP_CBOR, _CAP_NMSG = int(CAPABILITY.CBOR), int(CAPABILITY.NMSG)
# the commands as plain ints: an IntEnum member lookup costs about 70 ns, several per request here
_PING, _INIT, _WINK, _LOCK = int(CTAPHID.PING), int(CTAPHID.INIT), int(CTAPHID.WINK), int(CTAPHID.LOCK)
_CBOR, _MSG = int(CTAPHID.CBOR), int(CTAPHID.MSG)
_APPLICATION_COMMANDS = frozenset((_CBOR, _MSG))
_PROCESSING = STATUS.PROCESSING
_FAST_INIT = frozenset((0x80 | CTAPHID.CBOR, 0x80 | CTAPHID.MSG, 0x80 | CTAPHID.PING))


@dataclass(slots=True)
class _Assembly:
    reassembler: Reassembler
    last: float


@dataclass
class DeviceCore:
    """Device-side CTAPHID state machine. ``receive`` returns (packets to send, events)."""

    capabilities: int = CAPABILITY.WINK | CAPABILITY.CBOR
    packet_size: int = 64
    device_version: tuple[int, int, int] = (1, 0, 0)
    message_timeout: float = MESSAGE_TIMEOUT
    _next_cid: int = 1
    _channels: set[int] = field(default_factory=set)
    _assembling: dict[int, _Assembly] = field(default_factory=dict)
    _busy: int | None = None  # channel whose request the application is running
    _lock_cid: int | None = None
    _lock_until: float = 0.0
    _spare: Reassembler | None = None  # a finished message's reassembler, for the next one
    _max_length: int = 0

    def __post_init__(self) -> None:
        self._max_length = max_message_size(self.packet_size)

    def power_cycle(self) -> None:
        """Forget every channel and transaction."""
        self._channels.clear()
        self._assembling.clear()
        self._busy = None
        self._lock_cid = None

    @property
    def busy_channel(self) -> int | None:
        """The channel whose request the application is running, or None when idle."""
        return self._busy

    def _error(self, cid: int, code: HIDERR) -> list[bytes]:
        return frame(cid, CTAPHID.ERROR, bytes([code]), self.packet_size)

    def _reply(self, cid: int, cmd: int, data: bytes) -> list[bytes]:
        return frame(cid, cmd, data, self.packet_size)

    def _allocate(self) -> int:
        cid = self._next_cid
        self._next_cid = self._next_cid + 1 if self._next_cid < 0xFFFFFFFE else 1
        self._channels.add(cid)
        return cid

    def _other_busy(self, cid: int) -> bool:
        if self._busy is not None and self._busy != cid:
            return True
        return any(c != cid for c in self._assembling)

    def _fast_request_channel(self, raw: bytes, now: float) -> int | None:
        """The channel of ``raw`` when it starts a CBOR, MSG or PING request the idle device may take at once."""
        if len(raw) >= 7 and raw[4] in _FAST_INIT and self._busy is None and not self._assembling:
            cid = int.from_bytes(raw[:4], "big")
            if cid in self._channels and (self._lock_cid is None or self._lock_cid == cid or now >= self._lock_until):
                return cid
        return None

    def receive(self, raw: bytes, now: float) -> tuple[list[bytes], list[DeviceEvent]]:
        """Process one report from the host."""
        cid = self._fast_request_channel(raw, now)
        if cid is not None:  # the hot path: a request starting on an allocated channel of an idle device
            cmd = raw[4] & 0x7F
            length = (raw[5] << 8) | raw[6]
            if length <= len(raw) - 7:
                return self._dispatch(cid, cmd, raw[7 : 7 + length], now)
            if length <= self._max_length:
                reassembler = self._spare or Reassembler(self.packet_size)
                self._spare = None
                reassembler.begin(cid, cmd, length, raw[7:])
                self._assembling[cid] = _Assembly(reassembler, now)
                return [], []
        if len(raw) >= 5 and not raw[4] & 0x80:  # continuation (the hot path of long messages)
            cid = int.from_bytes(raw[:4], "big")
            assembly = self._assembling.get(cid)
            if assembly is None:
                return [], []  # spurious continuation packets are ignored (§11.2.4)
            try:
                message = assembly.reassembler.feed_continuation(raw)
            except CtapHidProtocolError as e:
                del self._assembling[cid]
                return self._error(cid, e.hid_error), []
            assembly.last = now
            if message is None:
                return [], []
            del self._assembling[cid]
            self._spare = assembly.reassembler
            return self._dispatch(cid, message.cmd, message.data, now)
        try:
            packet = parse_packet(raw)
        except CtapHidProtocolError:
            return [], []  # too short to even carry a channel id: nothing to answer to
        cid = packet.cid
        if packet.cmd is None:  # not reached: continuations were handled above
            return [], []
        cmd = packet.cmd
        if cid == 0 or (cid != BROADCAST_CID and cid not in self._channels):
            return self._error(cid, HIDERR.INVALID_CHANNEL), []
        if cmd == CTAPHID.INIT:
            if packet.length == 8 and len(packet.data) < 8:  # a report too small for the nonce
                reassembler = Reassembler(self.packet_size)
                reassembler.feed(packet)
                self._assembling[cid] = _Assembly(reassembler, now)
                return [], []
            return self._init(cid, packet.data, packet.length)
        if cid == BROADCAST_CID:
            return self._error(cid, HIDERR.INVALID_CHANNEL), []
        if cmd == CTAPHID.CANCEL:
            if self._busy == cid:
                return [], [Cancel(cid)]
            self._assembling.pop(cid, None)
            return [], []
        if self._lock_cid is not None and self._lock_cid != cid and now < self._lock_until:
            return self._error(cid, HIDERR.LOCK_REQUIRED), []
        if self._other_busy(cid):
            return self._error(cid, HIDERR.CHANNEL_BUSY), []
        if self._busy == cid:
            return self._error(cid, HIDERR.CHANNEL_BUSY), []
        if cid in self._assembling:
            del self._assembling[cid]
            return self._error(cid, HIDERR.INVALID_SEQ), []
        reassembler = Reassembler(self.packet_size)
        try:
            message = reassembler.feed(packet)
        except CtapHidProtocolError as e:
            return self._error(cid, e.hid_error), []
        if message is None:
            self._assembling[cid] = _Assembly(reassembler, now)
            return [], []
        return self._dispatch(cid, message.cmd, message.data, now)

    def receive_many(
        self, packets: Sequence[bytes], now: float
    ) -> tuple[list[bytes], list[DeviceEvent]]:
        """:meth:`receive` for a batch of reports (a run of continuations of one channel in one step)."""
        out: list[bytes] = []
        events: list[DeviceEvent] = []
        i, n = 0, len(packets)
        while i < n:
            raw = packets[i]
            if i + 1 < n:
                cid = self._fast_request_channel(raw, now)
                if cid is not None:  # a whole request in this batch (the in-memory transport's case)
                    whole = whole_message(packets, i)
                    if whole is not None:
                        data, i = whole
                        if len(data) <= self._max_length:
                            more, new = self._dispatch(cid, raw[4] & 0x7F, data, now)
                            out += more
                            events += new
                            continue
            if i + 1 < n and len(raw) >= 5 and not raw[4] & 0x80:
                cid = int.from_bytes(raw[:4], "big")
                assembly = self._assembling.get(cid)
                if assembly is not None and assembly.reassembler.in_progress:
                    try:
                        message, i = assembly.reassembler.feed_continuations(packets, i)
                    except CtapHidProtocolError as e:
                        del self._assembling[cid]
                        out += self._error(cid, e.hid_error)
                        i += 1
                        continue
                    assembly.last = now
                    if message is not None:
                        del self._assembling[cid]
                        self._spare = assembly.reassembler
                        more, new = self._dispatch(cid, message.cmd, message.data, now)
                        out += more
                        events += new
                    continue
            more, new = self.receive(raw, now)
            out += more
            events += new
            i += 1
        return out, events

    def _init(self, cid: int, data: bytes, length: int) -> tuple[list[bytes], list[DeviceEvent]]:
        if length != 8 or len(data) < 8:
            return self._error(cid, HIDERR.INVALID_LEN), []
        nonce = data[:8]
        events: list[DeviceEvent] = []
        if cid == BROADCAST_CID:
            new_cid = self._allocate()
        else:  # resynchronise an existing channel: abort what it was doing, and never answer it
            new_cid = cid
            self._assembling.pop(cid, None)
            if self._busy == cid:
                self._busy = None
                events.append(Abort(cid))
        response = InitResponse(nonce, new_cid, 2, self.device_version, int(self.capabilities))
        return self._reply(cid, CTAPHID.INIT, response.to_bytes()), events

    def _dispatch(
        self, cid: int, cmd: int, data: bytes, now: float
    ) -> tuple[list[bytes], list[DeviceEvent]]:
        if cmd in _APPLICATION_COMMANDS:
            capabilities = int(self.capabilities)  # an IntFlag's & costs more than the rest of this step
            if (cmd == _CBOR and capabilities & _CAP_CBOR) or (cmd == _MSG and not capabilities & _CAP_NMSG):
                if cmd == _CBOR and not data:
                    return self._error(cid, HIDERR.INVALID_LEN), []
                self._busy = cid
                return [], [Request(cid, cmd, data)]
            return self._error(cid, HIDERR.INVALID_CMD), []
        if cmd == _PING:
            return self._reply(cid, cmd, data), []
        if cmd == _INIT:  # its nonce spanned several (small) reports
            return self._init(cid, data, len(data))
        if cmd == _WINK:
            if not self.capabilities & CAPABILITY.WINK:
                return self._error(cid, HIDERR.INVALID_CMD), []
            return self._reply(cid, cmd, b""), [Wink(cid)]
        if cmd == _LOCK:
            if len(data) != 1 or data[0] > 10:
                return self._error(cid, HIDERR.INVALID_PAR), []
            self._lock_cid = cid if data[0] else None
            self._lock_until = now + data[0]
            return self._reply(cid, cmd, b""), []
        return self._error(cid, HIDERR.INVALID_CMD), []

    def respond(self, cid: int, cmd: int, data: bytes) -> list[bytes]:
        """Frame the application's answer to the running request and end the transaction."""
        if self._busy == cid:
            self._busy = None
        return self._reply(cid, cmd, data)

    def keepalive(self, cid: int, status: STATUS) -> bytes:
        """One KEEPALIVE report for the running request."""
        return frame(cid, CTAPHID.KEEPALIVE, bytes([status]), self.packet_size)[0]

    def tick(self, now: float) -> list[bytes]:
        """MSG_TIMEOUT for messages left incomplete for longer than ``message_timeout``."""
        out: list[bytes] = []
        for cid, assembly in list(self._assembling.items()):
            if now - assembly.last > self.message_timeout:
                del self._assembling[cid]
                out += self._error(cid, HIDERR.MSG_TIMEOUT)
        return out


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
    ) -> None:
        self._send_now = send_now
        self._send = send
        self._queue: deque[tuple[bytes, Address]] = deque()
        self._wakeup = Wakeup()

    def emit(self, packets: Sequence[bytes], addr: Address) -> None:
        queue = self._queue
        if not queue and self._send_now is not None:
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


class _Running:
    """A request the application is running: its cancel scope (made when first needed) and last status."""

    __slots__ = ("_scope", "aborted", "status")

    def __init__(self) -> None:
        self._scope: anyio.CancelScope | None = None
        self.status = _PROCESSING
        self.aborted = False  # by INIT on its channel: it ends without an answer

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
                value = yield yielded
            except GeneratorExit:
                coro.close()
                raise
            except BaseException as exc:  # cancellation, mostly: the coroutine gets it where it waits
                try:
                    yielded = coro.throw(exc)
                except StopIteration as stop:
                    result: bytes = stop.value
                    return result
            else:
                try:
                    yielded = coro.send(value)
                except StopIteration as stop:
                    result = stop.value
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
        self._outbox: _Outbox | None = None
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

        send_now: Callable[[Sequence[bytes], Address], int] | None = None
        if isinstance(transport, NowaitSender):
            try_send = transport.try_send_packets

            def send_now(packets: Sequence[bytes], _addr: Address) -> int:
                try:
                    return try_send(packets)
                except TransportClosed:
                    return len(packets)  # the host went away; the receive side ends the serve loop

        async def receive() -> Sequence[tuple[bytes, Address]]:
            return [(p, None) for p in await transport.receive_packets()]

        set_receiver = transport.set_receiver if isinstance(transport, ReportsPusher) else None
        try:
            await self._serve(_Outbox(send_now, send), receive, set_receiver)
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
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_DGRAM)
        set_buffer_sizes(sock)
        sock.setblocking(False)
        sock.bind((host, port))
        size = self.core.packet_size

        def send_now(packets: Sequence[bytes], addr: Address) -> int:
            if addr is not None:
                for i, packet in enumerate(packets):
                    try:
                        sock.sendto(packet, addr)
                    except BlockingIOError:
                        return i
                    except OSError as e:
                        log.debug("UDP send failed: %s", e)
            return len(packets)

        async def send(packet: bytes, addr: Address) -> None:
            while not send_now((packet,), addr):
                await anyio.wait_writable(sock)

        async def receive() -> Sequence[tuple[bytes, Address]]:
            while True:
                await anyio.wait_readable(sock)
                out: list[tuple[bytes, Address]] = []
                while True:
                    try:
                        data, addr = sock.recvfrom(2048)
                    except (BlockingIOError, InterruptedError):
                        break
                    except ConnectionRefusedError:
                        continue
                    if len(data) == size:
                        out.append((data, addr))
                if out:
                    return out

        task_status.started(sock.getsockname()[:2])
        try:
            await self._serve(_Outbox(send_now, send), receive, None)
        finally:
            sock.close()

    async def _serve(
        self,
        outbox: _Outbox,
        receive: Callable[[], Awaitable[Sequence[tuple[bytes, Address]]]],
        set_receiver: Callable[[Callable[[Sequence[bytes]], None] | None], None] | None,
    ) -> None:
        try:
            self._clock = asyncio.get_running_loop().time
            self._eager = bool(getattr(self.app, "eager_start", False))
        except RuntimeError:  # not asyncio
            self._clock = anyio.current_time
        async with anyio.create_task_group() as tg:
            self._outbox = outbox
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

    def _emit(self, packets: Sequence[bytes], addr: Address) -> None:
        assert self._outbox is not None
        self._outbox.emit(packets, addr)

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

    def _status_setter(self, cid: int, entry: _Running, addr: Address) -> Callable[[STATUS], None]:
        def set_status(new: STATUS) -> None:
            # emitted at once, in order: it cannot fall between the packets of the answer, and
            # once the answer is out (the request no longer running) it is dropped
            if new != entry.status and self._running.get(cid) is entry:
                entry.status = new
                self._emit([self.core.keepalive(cid, new)], self._addresses.get(cid, addr))

        return set_status

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
        entry = _Running()
        self._running[request.cid] = entry
        return entry, self.app.handle(request.cmd, request.data, self._status_setter(request.cid, entry, addr))

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
