"""The device side of CTAPHID as a sans-IO core: :class:`DeviceCore` (CTAP 2.1 §11.2).

The core allocates channels, answers INIT/PING/WINK/LOCK, reassembles requests, enforces one
transaction at a time (CHANNEL_BUSY for other channels), reports INVALID_SEQ, INVALID_CHANNEL,
INVALID_CMD, INVALID_LEN and MSG_TIMEOUT (for a message left incomplete), and frames responses and
keepalives. Time is a parameter; ``receive`` returns the reports to send and the events
(:class:`Request`, :class:`Cancel`, :class:`Abort`, :class:`Wink`) for the shell
(:class:`~aioctap.hid.device_side.CtapHidServer`), which runs the application.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from ..ctap import STATUS
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
    whole_message,
)

__all__ = ["MESSAGE_TIMEOUT", "Abort", "Cancel", "DeviceCore", "DeviceEvent", "Request", "Wink"]

MESSAGE_TIMEOUT = 0.5  # seconds between packets of one message before MSG_TIMEOUT


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
    """The host asked the device on ``cid`` to identify itself (CTAPHID_WINK, §11.2.9.2.1)."""

    cid: int


DeviceEvent = Request | Cancel | Abort | Wink

# type bytes of the init packets that take the fast path of DeviceCore.receive
_CAP_CBOR, _CAP_NMSG = int(CAPABILITY.CBOR), int(CAPABILITY.NMSG)
# the commands as plain ints: an IntEnum member lookup costs about 70 ns, several per request here
_PING, _INIT, _WINK, _LOCK = int(CTAPHID.PING), int(CTAPHID.INIT), int(CTAPHID.WINK), int(CTAPHID.LOCK)
_CBOR, _MSG = int(CTAPHID.CBOR), int(CTAPHID.MSG)
_APPLICATION_COMMANDS = frozenset((_CBOR, _MSG))
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
            return self._start_message(cid, cmd, length, raw[7:], now)
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
        if len(raw) < 7:  # (an init report shorter than its header)
            return [], []  # too short to even carry a channel id: nothing to answer to
        cid = int.from_bytes(raw[:4], "big")
        cmd = raw[4] & 0x7F  # (continuations were handled above)
        length = (raw[5] << 8) | raw[6]
        if cid == 0 or (cid != BROADCAST_CID and cid not in self._channels):
            return self._error(cid, HIDERR.INVALID_CHANNEL), []
        if cmd == CTAPHID.INIT:
            if length == 8 and len(raw) - 7 < 8:  # a report too small for the nonce
                return self._start_message(cid, cmd, length, raw[7:], now)
            return self._init(cid, raw[7:], length)
        if cid == BROADCAST_CID:
            return self._error(cid, HIDERR.INVALID_CHANNEL), []
        if cmd == CTAPHID.CANCEL:
            if self._busy == cid:
                return [], [Cancel(cid)]
            self._assembling.pop(cid, None)
            return [], []
        if self._lock_cid is not None and self._lock_cid != cid and now < self._lock_until:
            return self._error(cid, HIDERR.LOCK_REQUIRED), []
        if self._busy is not None or any(c != cid for c in self._assembling):  # this channel's request or another's
            return self._error(cid, HIDERR.CHANNEL_BUSY), []
        if cid in self._assembling:
            del self._assembling[cid]
            return self._error(cid, HIDERR.INVALID_SEQ), []
        return self._start_message(cid, cmd, length, raw[7:], now)

    def _start_message(
        self, cid: int, cmd: int, length: int, data: bytes, now: float
    ) -> tuple[list[bytes], list[DeviceEvent]]:
        """A message's init report, ``data`` what it holds after the header: dispatched if whole, else reassembled."""
        if length <= len(data):
            return self._dispatch(cid, cmd, data[:length], now)
        if length > self._max_length:
            return self._error(cid, HIDERR.INVALID_LEN), []
        reassembler = self._spare or Reassembler(self.packet_size)
        self._spare = None
        reassembler.begin(cid, cmd, length, data)
        self._assembling[cid] = _Assembly(reassembler, now)
        return [], []

    def receive_many(self, packets: Sequence[bytes], now: float) -> tuple[list[bytes], list[DeviceEvent]]:
        """:meth:`receive` for a batch of reports (a run of continuations of one channel in one step)."""
        out: list[bytes] = []
        events: list[DeviceEvent] = []
        i, n = 0, len(packets)
        while i < n:
            raw = packets[i]
            # a whole request in this batch (the in-memory transport's case), on an allocated channel of an idle
            # device that may take it at once (what _fast_request_channel says, written out)
            if i + 1 < n and len(raw) >= 7 and raw[4] in _FAST_INIT and self._busy is None and not self._assembling:
                cid = int.from_bytes(raw[:4], "big")
                lock = self._lock_cid
                if cid in self._channels and (lock is None or lock == cid or now >= self._lock_until):
                    whole = whole_message(packets, i)
                    if whole is not None:
                        data, i = whole
                        if len(data) <= self._max_length:
                            if i == n and not out and not events:  # the batch was this message: its outcome
                                return self._dispatch(cid, raw[4] & 0x7F, data, now)
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

    def _dispatch(self, cid: int, cmd: int, data: bytes, now: float) -> tuple[list[bytes], list[DeviceEvent]]:
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
        return frame(cid, cmd, data, self.packet_size)

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
