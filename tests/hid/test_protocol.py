"""Sans-IO CTAPHID cores: framing, reassembly, the device-side state machine."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aioctap.ctap import STATUS
from aioctap.hid.device_side import Cancel, DeviceCore, Request
from aioctap.hid.protocol import (
    BROADCAST_CID,
    CTAPHID,
    HIDERR,
    CtapHidProtocolError,
    Reassembler,
    frame,
    max_message_size,
    parse_init_response,
    parse_packet,
)


def reassemble(packets: list[bytes], size: int = 64) -> bytes:
    r = Reassembler(size)
    for p in packets:
        msg = r.feed(parse_packet(p))
        if msg is not None:
            return msg.data
    raise AssertionError("incomplete")


def test_max_message_size() -> None:
    assert max_message_size(64) == 7609
    assert len(frame(1, CTAPHID.PING, b"x" * 7609)) == 129
    with pytest.raises(CtapHidProtocolError, match="exceeds"):
        frame(1, CTAPHID.PING, b"x" * 7610)


@pytest.mark.parametrize("n", [0, 1, 57, 58, 1024, 7609])
def test_frame_sizes(n: int) -> None:
    data = (bytes(range(256)) * 30)[:n]
    packets = frame(0x01020304, CTAPHID.PING, data)
    assert all(len(p) == 64 for p in packets)
    assert packets[0][:7] == bytes.fromhex("01020304") + bytes([0x81]) + n.to_bytes(2, "big")
    assert len(packets) == 1 + max(0, -(-(n - 57) // 59))
    assert reassemble(packets) == data


@settings(max_examples=200)
@given(st.binary(max_size=2000), st.sampled_from([8, 16, 64, 128]), st.integers(1, 0xFFFFFFFF))
def test_frame_then_reassemble_is_identity(data: bytes, size: int, cid: int) -> None:
    if len(data) > max_message_size(size):
        return
    assert reassemble(frame(cid, CTAPHID.CBOR, data, size), size) == data


def test_sequence_errors() -> None:
    r = Reassembler()
    with pytest.raises(CtapHidProtocolError, match="without an init"):
        r.feed(parse_packet(b"\0\0\0\1\0" + b"\0" * 59))
    packets = frame(1, CTAPHID.PING, b"x" * 200)
    r.feed(parse_packet(packets[0]))
    with pytest.raises(CtapHidProtocolError, match="sequence 1 where 0") as e:
        r.feed(parse_packet(packets[2]))
    assert e.value.hid_error == HIDERR.INVALID_SEQ
    with pytest.raises(CtapHidProtocolError, match="exceeds"):
        r.feed(parse_packet(b"\0\0\0\1\x81\x1d\xba" + b"\0" * 57))  # 7610 bytes


def test_short_packets() -> None:
    with pytest.raises(CtapHidProtocolError):
        parse_packet(b"\0\0\0")
    with pytest.raises(CtapHidProtocolError):
        parse_packet(b"\0\0\0\1\x81\0")
    with pytest.raises(CtapHidProtocolError):
        parse_init_response(b"\0" * 16)


@settings(max_examples=300)
@given(st.lists(st.binary(max_size=70), max_size=6))
def test_any_packets_give_message_or_typed_error(packets: list[bytes]) -> None:
    r = Reassembler()
    for raw in packets:
        try:
            r.feed(parse_packet(raw))
        except CtapHidProtocolError:
            pass


# -- device side ------------------------------------------------------------------------------


def init(core: DeviceCore, nonce: bytes = b"12345678") -> int:
    out, _ = core.receive(frame(BROADCAST_CID, CTAPHID.INIT, nonce)[0], 0.0)
    msg = reassemble(out)
    resp = parse_init_response(msg)
    assert resp.nonce == nonce
    return resp.channel_id


def error_code(out: list[bytes]) -> int:
    p = parse_packet(out[0])
    assert p.cmd == CTAPHID.ERROR
    return p.data[0]


def test_device_channels_and_busy() -> None:
    core = DeviceCore()
    a, b = init(core), init(core, b"abcdefgh")
    assert a != b
    out, events = core.receive(frame(a, CTAPHID.CBOR, b"\x04")[0], 0.0)
    assert out == [] and events == [Request(a, CTAPHID.CBOR, b"\x04")]
    out, _ = core.receive(frame(b, CTAPHID.PING, b"hi")[0], 0.0)
    assert error_code(out) == HIDERR.CHANNEL_BUSY
    out, events = core.receive(frame(a, CTAPHID.CANCEL, b"")[0], 0.0)
    assert events == [Cancel(a)]
    reply = core.respond(a, CTAPHID.CBOR, b"\x2d")
    assert reassemble(reply) == b"\x2d"
    out, _ = core.receive(frame(b, CTAPHID.PING, b"hi")[0], 0.0)
    assert reassemble(out) == b"hi"
    assert parse_packet(core.keepalive(a, STATUS.UPNEEDED)).data[0] == 2


def test_device_errors() -> None:
    core = DeviceCore()
    a = init(core)
    assert error_code(core.receive(frame(0x999, CTAPHID.PING, b"")[0], 0.0)[0]) == HIDERR.INVALID_CHANNEL
    assert error_code(core.receive(frame(a, 0x55, b"")[0], 0.0)[0]) == HIDERR.INVALID_CMD
    assert core.receive(frame(a, CTAPHID.MSG, b"\0\3\0\0")[0], 0.0)[1] == [Request(a, CTAPHID.MSG, b"\0\3\0\0")]
    core2 = DeviceCore()
    c = init(core2)
    packets = frame(c, CTAPHID.PING, b"x" * 200)
    assert core2.receive(packets[0], 0.0) == ([], [])
    assert error_code(core2.receive(packets[2], 0.1)[0]) == HIDERR.INVALID_SEQ
    assert core2.receive(packets[0], 0.2) == ([], [])
    assert core2.tick(0.3) == []
    assert error_code(core2.tick(1.0)) == HIDERR.MSG_TIMEOUT
    assert error_code(core2.receive(frame(c, CTAPHID.INIT, b"123")[0], 0.0)[0]) == HIDERR.INVALID_LEN


@settings(max_examples=300)
@given(st.lists(st.binary(min_size=0, max_size=64), max_size=8))
def test_device_core_never_crashes(packets: list[bytes]) -> None:
    core = DeviceCore()
    a = init(core)
    for raw in packets:
        out, _ = core.receive(a.to_bytes(4, "big") + raw[4:] if len(raw) > 8 else raw, 0.0)
        assert all(len(p) == 64 for p in out)
