"""CTAPHID framing (CTAP 2.1 §11.2): the sans-IO core shared by host and device sides.

Pure functions and small state machines: no I/O, no clock. A message is split into one
initialization packet (CID u32, CMD|0x80, BCNT u16, data) and up to 128 continuation packets
(CID u32, SEQ 0..127, data). At the usual 64-byte report size the largest message is
57 + 128 * 59 = 7609 bytes.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum, IntFlag

__all__ = [
    "BROADCAST_CID",
    "CAPABILITY",
    "CTAPHID",
    "HIDERR",
    "CtapHidProtocolError",
    "InitResponse",
    "Message",
    "Packet",
    "Reassembler",
    "error_payload",
    "frame",
    "max_message_size",
    "packet_header",
    "parse_init_response",
    "parse_packet",
    "whole_message",
]

BROADCAST_CID = 0xFFFFFFFF
DEFAULT_PACKET_SIZE = 64

_INIT_HEADER = struct.Struct(">IBH")  # channel id, 0x80 | command, payload length (§11.2.4)
_CONT_HEADER = struct.Struct(">IB")
_SEQ = tuple(bytes((seq,)) for seq in range(128))  # a continuation report's sequence byte


class CTAPHID(IntEnum):
    """CTAPHID commands (§11.2.9)."""

    PING = 0x01
    MSG = 0x03
    LOCK = 0x04
    INIT = 0x06
    WINK = 0x08
    CBOR = 0x10
    CANCEL = 0x11
    KEEPALIVE = 0x3B
    ERROR = 0x3F
    VENDOR_FIRST = 0x40
    VENDOR_LAST = 0x7F


class CAPABILITY(IntFlag):
    """Capability flags of the INIT response (§11.2.9.1.3)."""

    WINK = 0x01
    LOCK = 0x02  # deprecated, kept for completeness
    CBOR = 0x04
    NMSG = 0x08


class HIDERR(IntEnum):
    """CTAPHID_ERROR codes (§11.2.9.1.6)."""

    INVALID_CMD = 0x01
    INVALID_PAR = 0x02
    INVALID_LEN = 0x03
    INVALID_SEQ = 0x04
    MSG_TIMEOUT = 0x05
    CHANNEL_BUSY = 0x06
    LOCK_REQUIRED = 0x0A
    INVALID_CHANNEL = 0x0B
    OTHER = 0x7F


class CtapHidProtocolError(ValueError):
    """A CTAPHID packet or message is malformed (bad length, sequence, nonce...)."""

    def __init__(self, message: str, hid_error: HIDERR = HIDERR.OTHER) -> None:
        super().__init__(message)
        self.hid_error = hid_error


def max_message_size(packet_size: int = DEFAULT_PACKET_SIZE) -> int:
    """Largest payload one message can carry at ``packet_size``."""
    return (packet_size - 7) + 128 * (packet_size - 5)


def frame(cid: int, cmd: int, data: bytes, packet_size: int = DEFAULT_PACKET_SIZE) -> list[bytes]:
    """Split one message into packets of exactly ``packet_size`` bytes (zero padded)."""
    if not (0 <= cid <= 0xFFFFFFFF and 0 <= cmd <= 0x7F and packet_size >= 8):
        raise _frame_error(cid, cmd, packet_size)
    size = len(data)
    head = _INIT_HEADER.pack(cid, 0x80 | cmd, size)
    first = packet_size - 7
    if size <= first:
        return [(head + data).ljust(packet_size, b"\0")]
    rest = packet_size - 5
    if size - first > 128 * rest:
        raise CtapHidProtocolError(
            f"message of {size} bytes exceeds the {max_message_size(packet_size)}-byte maximum", HIDERR.INVALID_LEN
        )
    prefix = head[:4]  # the channel id; a continuation's header is it and the sequence number
    packets = [head + data[:first]]
    seq = 0
    for offset in range(first, size, rest):
        packets.append(prefix + _SEQ[seq] + data[offset : offset + rest])
        seq += 1  # noqa: SIM113  (a counter: enumerate measured slower here)
    packets[-1] = packets[-1].ljust(packet_size, b"\0")  # only the last one is short: padded, not the data first
    return packets


def _frame_error(cid: int, cmd: int, packet_size: int) -> CtapHidProtocolError:
    """Why :func:`frame` refuses its arguments (the first of them that is wrong)."""
    if not 0 <= cid <= 0xFFFFFFFF:
        return CtapHidProtocolError(f"channel id {cid} out of range")
    if not 0 <= cmd <= 0x7F:
        return CtapHidProtocolError(f"command 0x{cmd:x} out of range 0..0x7f")
    return CtapHidProtocolError(f"packet size {packet_size} is too small")


@dataclass(frozen=True, slots=True)
class Packet:
    """One parsed report: an init packet (``cmd`` set) or a continuation (``seq`` set)."""

    cid: int
    cmd: int | None
    seq: int | None
    length: int  # BCNT of an init packet, 0 for continuations
    data: bytes


def packet_header(packet: bytes) -> tuple[int, int]:
    """``(channel id, type byte)`` of a report: the type byte is ``0x80 | cmd`` or a sequence number."""
    if len(packet) < 5:
        raise CtapHidProtocolError(f"packet of {len(packet)} bytes is shorter than a header")
    return _CONT_HEADER.unpack_from(packet)


def parse_packet(packet: bytes) -> Packet:
    """Parse the header of one report."""
    cid, b = packet_header(packet)
    if b & 0x80:
        if len(packet) < 7:
            raise CtapHidProtocolError("init packet shorter than 7 bytes")
        return Packet(cid, b & 0x7F, None, (packet[5] << 8) | packet[6], packet[7:])
    return Packet(cid, None, b, 0, packet[5:])


@dataclass(frozen=True, slots=True)
class Message:
    """A complete, reassembled CTAPHID message."""

    cid: int
    cmd: int
    data: bytes


class Reassembler:
    """Reassembles the packets of one channel into a message, checking lengths and sequence numbers.

    ``feed`` returns the :class:`Message` once complete, ``None`` while more is needed, and raises
    :class:`CtapHidProtocolError` for a continuation without init, a wrong sequence number or a
    length past the maximum. After an error or a message the reassembler is ready for a new one.
    """

    def __init__(self, packet_size: int = DEFAULT_PACKET_SIZE) -> None:
        self.packet_size = packet_size
        self._max = max_message_size(packet_size)
        self._cmd: int | None = None
        self._cid = 0
        self._length = 0
        self._buf = bytearray()
        self._seq = 0

    @property
    def in_progress(self) -> bool:
        """True between an init packet and the end of its message."""
        return self._cmd is not None

    def reset(self) -> None:
        """Drop the message being assembled, if any."""
        self._cmd = None
        self._buf.clear()

    def begin(self, cid: int, cmd: int, length: int, data: bytes) -> None:
        """Start a message of ``length`` bytes (more than one init packet holds) with the init packet's data.

        What :meth:`feed` does with such an init packet, without a :class:`Packet`; the caller checked
        that ``length`` is within the maximum and beyond what ``data`` holds.
        """
        self._cmd, self._cid, self._length, self._seq = cmd, cid, length, 0
        self._buf = bytearray(data)

    def feed_continuation(self, packet: bytes) -> Message | None:
        """:meth:`feed` for one raw continuation report (at least 5 bytes, type byte < 0x80).

        The hot path of long messages: no intermediate :class:`Packet`.
        """
        if len(packet) < 5 or packet[4] & 0x80:
            raise CtapHidProtocolError("not a continuation packet")
        if self._cmd is None:
            raise CtapHidProtocolError("continuation packet without an init packet", HIDERR.INVALID_SEQ)
        seq = packet[4]
        if seq != self._seq:
            expected = self._seq
            self.reset()
            raise CtapHidProtocolError(f"continuation sequence {seq} where {expected} was expected", HIDERR.INVALID_SEQ)
        self._seq += 1
        buf = self._buf
        buf += packet[5 : 5 + self._length - len(buf)]
        if len(buf) >= self._length:
            msg = Message(self._cid, self._cmd, bytes(buf))
            self.reset()
            return msg
        return None

    def feed_continuations(self, packets: Sequence[bytes], start: int) -> tuple[Message | None, int]:
        """:meth:`feed_continuation` for the run of continuation reports at ``packets[start:]``.

        ``packets[start]`` must be a continuation report; the run ends at the first report that is
        not a continuation of the same channel, or with the message. Returns the message (or None)
        and the index of the first report not consumed. Errors as :meth:`feed_continuation`.
        """
        first = packets[start]
        if len(first) < 5 or first[4] & 0x80:
            raise CtapHidProtocolError("not a continuation packet")
        cmd = self._cmd
        if cmd is None:
            raise CtapHidProtocolError("continuation packet without an init packet", HIDERR.INVALID_SEQ)
        prefix = first[:4]
        buf, length, seq = self._buf, self._length, self._seq
        i, n = start, len(packets)
        while i < n:
            packet = packets[i]
            if len(packet) < 5 or packet[4] & 0x80 or packet[:4] != prefix:
                break
            if packet[4] != seq:
                self.reset()
                raise CtapHidProtocolError(
                    f"continuation sequence {packet[4]} where {seq} was expected", HIDERR.INVALID_SEQ
                )
            seq += 1
            i += 1
            buf += packet[5 : 5 + length - len(buf)]
            if len(buf) >= length:
                msg = Message(self._cid, cmd, bytes(buf))
                self.reset()
                return msg, i
        self._seq = seq
        return None, i

    def feed(self, packet: Packet) -> Message | None:
        """Add one packet; the :class:`Message` once complete, else None.

        Raises :class:`CtapHidProtocolError` (with the CTAPHID error to reply) for a message over the
        maximum length, an out-of-order sequence number or a stray continuation (CTAPHID §11.2.4).
        """
        if packet.cmd is not None:
            if packet.length > self._max:
                self.reset()
                raise CtapHidProtocolError(
                    f"message length {packet.length} exceeds the {self._max}-byte maximum", HIDERR.INVALID_LEN
                )
            if packet.length <= len(packet.data):  # a one-packet message (the common case)
                self.reset()
                return Message(packet.cid, packet.cmd, packet.data[: packet.length])
            self.begin(packet.cid, packet.cmd, packet.length, packet.data)  # (it holds less than the length)
            return None
        # a continuation: the same report, raw (what Packet took apart)
        if packet.seq is None or not 0 <= packet.seq < 0x80:  # (a Packet made by hand: parse_packet's never are)
            self.reset()
            raise CtapHidProtocolError(f"continuation packet with sequence number {packet.seq!r}", HIDERR.INVALID_SEQ)
        return self.feed_continuation(_CONT_HEADER.pack(packet.cid, packet.seq) + packet.data)


def whole_message(packets: Sequence[bytes], start: int) -> tuple[bytes, int] | None:
    """The payload of the message whose init packet is ``packets[start]``, when the batch holds all of it.

    Returns ``(data, index after its last packet)`` when ``packets[start]`` is an init packet and the
    continuation packets that follow are all there, in sequence, of the init packet's channel and size;
    otherwise None, and the caller feeds the packets to a :class:`Reassembler`, which knows what to make of
    them (a message spread over several batches, a wrong sequence number, another channel's packet between).
    The payload is what the Reassembler would give, in one join instead of one step per packet.
    """
    first = packets[start]
    size = len(first)
    if size < 8 or first[4] < 0x80:
        return None
    length = (first[5] << 8) | first[6]
    if length <= size - 7:
        return first[7 : 7 + length], start + 1
    rest = size - 5
    end = start + 1 + (length - size + 6 + rest) // rest  # after the continuations that hold the rest
    if end > len(packets) or end - start > 129:  # not all here, or more than 128 continuations
        return None
    prefix = first[:4]
    parts = [first[7:]]
    seq = 0
    for packet in packets[start + 1 : end]:  # one pass: check each continuation and take its data
        if len(packet) != size or packet[:5] != prefix + _SEQ[seq]:
            return None
        parts.append(packet[5:])
        seq += 1  # noqa: SIM113  (a counter: enumerate measured slower here)
    return b"".join(parts)[:length], end


@dataclass(frozen=True, slots=True)
class InitResponse:
    """Payload of a CTAPHID_INIT response (§11.2.9.1.3)."""

    nonce: bytes
    channel_id: int
    protocol_version: int
    device_version: tuple[int, int, int]
    capabilities: int

    def to_bytes(self) -> bytes:
        """The 17-byte CTAPHID_INIT response payload (CTAPHID §11.2.9.1.3)."""
        return self.nonce + struct.pack(
            ">IB3BB", self.channel_id, self.protocol_version, *self.device_version, self.capabilities
        )


def parse_init_response(payload: bytes) -> InitResponse:
    """Parse a 17-byte INIT response; the caller matches the nonce."""
    if len(payload) < 17:
        raise CtapHidProtocolError(f"INIT response of {len(payload)} bytes, expected 17", HIDERR.INVALID_LEN)
    cid, proto, major, minor, build, caps = struct.unpack_from(">IB3BB", payload, 8)
    return InitResponse(payload[:8], cid, proto, (major, minor, build), caps)


def error_payload(code: int) -> bytes:
    """Payload of a CTAPHID_ERROR message."""
    return bytes([code & 0xFF])
