"""The device side of CTAPHID: a sans-IO core (:class:`DeviceCore`) and its anyio shell (:class:`CtapHidServer`).

The core allocates channels, answers INIT/PING/WINK/LOCK, reassembles requests, enforces one
transaction at a time (CHANNEL_BUSY for other channels), reports INVALID_SEQ, INVALID_CHANNEL,
INVALID_CMD, INVALID_LEN and MSG_TIMEOUT (for a message left incomplete), and frames responses and
keepalives. Time is a parameter. The shell feeds it packets from a transport or a UDP socket and
runs a :class:`CtapHidApplication` (the software authenticator, or a test echo) for CBOR and MSG.
"""

from __future__ import annotations

import logging
import socket
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import anyio
from anyio.abc import TaskGroup, TaskStatus

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
    parse_packet,
)
from .transport import PacketTransport, TransportClosed

__all__ = ["CtapHidApplication", "CtapHidServer", "DeviceCore", "Request"]

log = logging.getLogger(__name__)

MESSAGE_TIMEOUT = 0.5  # seconds between packets of one message before MSG_TIMEOUT
KEEPALIVE_INTERVAL = 0.1


class CtapHidApplication(Protocol):
    """What runs behind the device-side CTAPHID layer (the CTAP2/U2F engine)."""

    capabilities: int

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
class Wink:
    cid: int


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

    def power_cycle(self) -> None:
        """Forget every channel and transaction."""
        self._channels.clear()
        self._assembling.clear()
        self._busy = None
        self._lock_cid = None

    @property
    def busy_channel(self) -> int | None:
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

    def receive(self, raw: bytes, now: float) -> tuple[list[bytes], list[Request | Cancel | Wink]]:
        """Process one report from the host."""
        try:
            packet = parse_packet(raw)
        except CtapHidProtocolError:
            return [], []  # too short to even carry a channel id: nothing to answer to
        cid = packet.cid
        if packet.cmd is None:  # continuation
            assembly = self._assembling.get(cid)
            if assembly is None:
                return [], []  # spurious continuation packets are ignored (§11.2.4)
            try:
                message = assembly.reassembler.feed(packet)
            except CtapHidProtocolError as e:
                del self._assembling[cid]
                return self._error(cid, e.hid_error), []
            assembly.last = now
            if message is None:
                return [], []
            del self._assembling[cid]
            return self._dispatch(cid, message.cmd, message.data, now)

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

    def _init(self, cid: int, data: bytes, length: int) -> tuple[list[bytes], list[Request | Cancel | Wink]]:
        if length != 8 or len(data) < 8:
            return self._error(cid, HIDERR.INVALID_LEN), []
        nonce = data[:8]
        events: list[Request | Cancel | Wink] = []
        if cid == BROADCAST_CID:
            new_cid = self._allocate()
        else:  # resynchronise an existing channel: abort what it was doing
            new_cid = cid
            self._assembling.pop(cid, None)
            if self._busy == cid:
                events.append(Cancel(cid))
        response = InitResponse(nonce, new_cid, 2, self.device_version, int(self.capabilities))
        return self._reply(cid, CTAPHID.INIT, response.to_bytes()), events

    def _dispatch(
        self, cid: int, cmd: int, data: bytes, now: float
    ) -> tuple[list[bytes], list[Request | Cancel | Wink]]:
        if cmd == CTAPHID.PING:
            return self._reply(cid, cmd, data), []
        if cmd == CTAPHID.INIT:  # its nonce spanned several (small) reports
            return self._init(cid, data, len(data))
        if cmd == CTAPHID.WINK:
            if not self.capabilities & CAPABILITY.WINK:
                return self._error(cid, HIDERR.INVALID_CMD), []
            return self._reply(cid, cmd, b""), [Wink(cid)]
        if cmd == CTAPHID.LOCK:
            if len(data) != 1 or data[0] > 10:
                return self._error(cid, HIDERR.INVALID_PAR), []
            self._lock_cid = cid if data[0] else None
            self._lock_until = now + data[0]
            return self._reply(cid, cmd, b""), []
        if (cmd == CTAPHID.CBOR and self.capabilities & CAPABILITY.CBOR) or (
            cmd == CTAPHID.MSG and not self.capabilities & CAPABILITY.NMSG
        ):
            if cmd == CTAPHID.CBOR and not data:
                return self._error(cid, HIDERR.INVALID_LEN), []
            self._busy = cid
            return [], [Request(cid, cmd, data)]
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


class CtapHidServer:
    """Serves a :class:`CtapHidApplication` over CTAPHID (a packet transport or UDP)."""

    def __init__(self, app: CtapHidApplication, *, packet_size: int = 64) -> None:
        self.app = app
        self.core = DeviceCore(capabilities=app.capabilities, packet_size=packet_size)
        self._send: Callable[[bytes, Address], Any] | None = None
        self._addresses: dict[int, Address] = {}
        self._running: dict[int, tuple[anyio.CancelScope, list[STATUS]]] = {}
        self._tg: TaskGroup | None = None

    def power_cycle(self) -> None:
        """Simulate unplugging and plugging in: channels are forgotten, the application restarts."""
        for scope, _ in self._running.values():
            scope.cancel()
        self._running.clear()
        self.core.power_cycle()
        self.app.power_cycle()

    async def serve(self, transport: PacketTransport) -> None:
        """Serve until the transport closes."""

        async def send(packet: bytes, _addr: Address) -> None:
            try:
                await transport.send_packet(packet)
            except TransportClosed:
                pass  # the host went away; the receive side ends the serve loop

        async def receive() -> Sequence[tuple[bytes, Address]]:
            return [(p, None) for p in await transport.receive_packets()]

        await self._serve(send, receive)

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

        async def send(packet: bytes, addr: Address) -> None:
            if addr is not None:
                try:
                    sock.sendto(packet, addr)
                except BlockingIOError:
                    await anyio.wait_writable(sock)
                    sock.sendto(packet, addr)
                except OSError as e:
                    log.debug("UDP send failed: %s", e)

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
            await self._serve(send, receive)
        finally:
            sock.close()

    async def _serve(
        self,
        send: Callable[[bytes, Address], Any],
        receive: Callable[[], Any],
    ) -> None:
        async with anyio.create_task_group() as tg:
            self._tg = tg
            self._send = send
            tg.start_soon(self._ticker)
            try:
                while True:
                    try:
                        batch = await receive()
                    except TransportClosed:
                        return
                    for packet, addr in batch:
                        await self._on_packet(packet, addr)
            finally:
                tg.cancel_scope.cancel()

    async def _on_packet(self, packet: bytes, addr: Address) -> None:
        assert self._send is not None and self._tg is not None
        out, events = self.core.receive(packet, anyio.current_time())
        (cid,) = struct.unpack_from(">I", packet) if len(packet) >= 4 else (None,)
        if cid is not None and cid != BROADCAST_CID:
            self._addresses[cid] = addr
        for p in out:
            # INIT on the broadcast channel is answered to its sender; everything else to the channel's host
            await self._send(p, addr)
        for event in events:
            if isinstance(event, Request):
                self._tg.start_soon(self._run, event, addr)
            elif isinstance(event, Cancel):
                running = self._running.get(event.cid)
                if running is not None:
                    running[0].cancel()
            else:
                self.app.wink()

    async def _ticker(self) -> None:
        assert self._send is not None
        while True:
            await anyio.sleep(KEEPALIVE_INTERVAL)
            for p in self.core.tick(anyio.current_time()):
                (cid,) = struct.unpack_from(">I", p)
                await self._send(p, self._addresses.get(cid))
            for cid, (_, status) in list(self._running.items()):
                await self._send(self.core.keepalive(cid, status[0]), self._addresses.get(cid))

    async def _run(self, request: Request, addr: Address) -> None:
        assert self._send is not None and self._tg is not None
        status = [STATUS.PROCESSING]
        tg = self._tg
        send = self._send

        def set_status(new: STATUS) -> None:
            if new != status[0]:
                status[0] = new
                tg.start_soon(send, self.core.keepalive(request.cid, new), addr)

        result: bytes | None = None
        with anyio.CancelScope() as scope:
            self._running[request.cid] = (scope, status)
            try:
                result = await self.app.handle(request.cmd, request.data, set_status)
            except Exception:
                log.exception("authenticator failed on command 0x%02x", request.cmd)
                result = b"\x7f" if request.cmd == CTAPHID.CBOR else b"\x6f\x00"
        if self._running.get(request.cid, (None,))[0] is scope:
            del self._running[request.cid]
        if result is None:  # cancelled by CTAPHID_CANCEL (or INIT resync)
            if self.core.busy_channel != request.cid:
                return  # power cycle: the channel is gone
            result = b"\x2d" if request.cmd == CTAPHID.CBOR else b"\x69\x85"
        for p in self.core.respond(request.cid, request.cmd, result):
            await self._send(p, self._addresses.get(request.cid, addr))
