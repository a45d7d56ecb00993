"""Sans-IO CTAPHID cores: framing, reassembly, the device-side state machine."""

from __future__ import annotations

import random
from collections.abc import Callable

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
    Message,
    Packet,
    Reassembler,
    frame,
    max_message_size,
    parse_init_response,
    parse_packet,
    whole_message,
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


def test_a_hand_made_continuation_packet_without_a_valid_sequence_number_is_refused() -> None:
    packets = frame(1, CTAPHID.PING, b"x" * 200)
    for seq in (None, 0x80, -1):
        r = Reassembler()
        r.feed(parse_packet(packets[0]))
        with pytest.raises(CtapHidProtocolError, match=f"sequence number {seq!r}") as e:
            r.feed(Packet(1, None, seq, 0, packets[1][5:]))
        assert e.value.hid_error == HIDERR.INVALID_SEQ
        assert not r.in_progress  # the message is dropped, as for any other sequence error


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


# -- properties over the whole message range -------------------------------------------------------


def payload(n: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(n)


@settings(max_examples=150)
@given(st.integers(8, 128), st.data())
def test_framing_identity_any_report_size_and_length(size: int, data: st.DataObject) -> None:
    limit = max_message_size(size)
    n = data.draw(st.one_of(st.integers(0, limit), st.sampled_from([0, 1, size - 7, size - 6, limit])))
    message = payload(n, n)
    packets = frame(0xCAFE0001, CTAPHID.CBOR, message, size)
    assert all(len(p) == size for p in packets)
    assert len(packets) <= 129
    assert reassemble(packets, size) == message


@settings(max_examples=60)
@given(st.integers(0, 7609), st.integers(0, 2**32 - 1))
def test_framing_identity_at_64_bytes(n: int, seed: int) -> None:
    message = payload(n, seed)
    assert reassemble(frame(1, CTAPHID.PING, message)) == message


@settings(max_examples=60)
@given(st.integers(8, 128), st.data())
def test_device_core_echoes_any_ping(size: int, data: st.DataObject) -> None:
    """Host framing -> device core -> device framing -> host reassembly is the identity."""
    n = data.draw(st.integers(0, max_message_size(size)))
    core = DeviceCore(packet_size=size)
    nonce = b"\x01" * 8
    out: list[bytes] = []
    for p in frame(BROADCAST_CID, CTAPHID.INIT, nonce, size):
        out += core.receive(p, 0.0)[0]
    cid = parse_init_response(reassemble(out, size)).channel_id
    message = payload(n, size)
    out = []
    for p in frame(cid, CTAPHID.PING, message, size):
        out += core.receive(p, 0.0)[0]
    assert all(len(p) == size for p in out)
    assert reassemble(out, size) == message


@settings(max_examples=300)
@given(st.lists(st.binary(max_size=70), max_size=8), st.sampled_from([8, 64]))
def test_host_core_any_bytes_message_or_typed_error(packets: list[bytes], size: int) -> None:
    r = Reassembler(size)
    for raw in packets:
        try:
            message = r.feed(parse_packet(raw))
        except CtapHidProtocolError as e:
            assert isinstance(e.hid_error, HIDERR)
            assert str(e)
            continue
        if message is not None:
            assert len(message.data) <= max_message_size(size)
            assert 0 <= message.cmd <= 0x7F
            assert not r.in_progress


@given(st.binary(max_size=40))
def test_init_response_parser_any_bytes(raw: bytes) -> None:
    try:
        response = parse_init_response(raw)
    except CtapHidProtocolError as e:
        assert len(raw) < 17 and "INIT response" in str(e)
    else:
        assert response.to_bytes() == raw[:17]


@settings(max_examples=300)
@given(
    st.lists(
        st.tuples(st.sampled_from(["own", "other", "broadcast", "raw"]), st.binary(max_size=70), st.floats(0, 2)),
        max_size=12,
    )
)
def test_device_core_any_bytes_answer_or_ignore(steps: list[tuple[str, bytes, float]]) -> None:
    """Whatever arrives, the device core answers with well-formed reports or ignores it; never raises."""
    core = DeviceCore()
    own = init(core)
    now = 0.0
    for kind, raw, dt in steps:
        now += dt
        if kind == "own":
            raw = own.to_bytes(4, "big") + raw[4:]
        elif kind == "other":
            raw = (own + 1).to_bytes(4, "big") + raw[4:]
        elif kind == "broadcast":
            raw = BROADCAST_CID.to_bytes(4, "big") + raw[4:]
        raw = raw[:64]
        out, events = core.receive(raw, now)
        out += core.tick(now)
        for p in out:
            assert len(p) == 64
            parsed = parse_packet(p)
            if parsed.cmd == CTAPHID.ERROR:
                assert parsed.data[0] in set(HIDERR)
        for event in events:
            if isinstance(event, Request):
                core.respond(event.cid, event.cmd, b"\x00")


@settings(max_examples=200)
@given(st.lists(st.binary(max_size=70), max_size=8))
def test_feed_continuation_agrees_with_feed(packets: list[bytes]) -> None:
    """The raw fast path and the parsed path give the same messages and the same errors."""
    fast, slow = Reassembler(), Reassembler()
    for raw in packets:
        try:
            expected: object = slow.feed(parse_packet(raw))
        except CtapHidProtocolError as e:
            expected = (type(e), e.hid_error)
        try:
            if len(raw) >= 5 and not raw[4] & 0x80:
                got: object = fast.feed_continuation(raw)
            else:
                got = fast.feed(parse_packet(raw))
        except CtapHidProtocolError as e:
            got = (type(e), e.hid_error)
        assert got == expected


def _outcome(call: Callable[[], object]) -> object:
    try:
        return call()
    except CtapHidProtocolError as e:
        return (type(e), e.hid_error)


_CIDS = st.sampled_from([b"\x00\x00\x00\x01", b"\x00\x00\x00\x02"])
_REPORT = st.one_of(
    st.binary(max_size=70),
    st.builds(lambda cid, seq, body: cid + bytes([seq]) + body, _CIDS, st.integers(0, 3), st.binary(max_size=59)),
    st.builds(
        lambda cid, n, body: cid + bytes([0x81, 0, n]) + body, _CIDS, st.integers(0, 200), st.binary(max_size=57)
    ),
)


@settings(max_examples=300)
@given(st.lists(_REPORT, max_size=12))
def test_feed_continuations_agrees_with_one_at_a_time(packets: list[bytes]) -> None:
    """The batch path yields the same messages as single feeds, and fails where they fail."""

    def feed_one(r: Reassembler, raw: bytes) -> object:
        if len(raw) >= 5 and not raw[4] & 0x80:
            return _outcome(lambda: r.feed_continuation(raw))
        return _outcome(lambda: r.feed(parse_packet(raw)))

    single, batch = Reassembler(), Reassembler()
    expected = [feed_one(single, raw) for raw in packets]
    got: list[object] = []
    i = 0
    while i < len(packets):
        raw = packets[i]
        if len(raw) >= 5 and not raw[4] & 0x80 and batch.in_progress:
            try:
                message, end = batch.feed_continuations(packets, i)
            except CtapHidProtocolError as e:
                got.append((type(e), e.hid_error))
                i += 1
                continue
            assert end > i
            got.append(message)
            i = end
            continue
        got.append(feed_one(batch, raw))
        i += 1
    assert [m for m in got if isinstance(m, Message)] == [m for m in expected if isinstance(m, Message)]
    assert any(isinstance(m, tuple) for m in got) == any(isinstance(m, tuple) for m in expected)


@settings(max_examples=200)
@given(st.lists(_REPORT, max_size=12))
def test_device_receive_many_agrees_with_receive(packets: list[bytes]) -> None:
    """A batch gives the device core the same answers and events as its reports one at a time."""
    one, many = DeviceCore(), DeviceCore()
    for core in (one, many):
        core.receive(frame(BROADCAST_CID, CTAPHID.INIT, b"12345678")[0], 0.0)
        core.receive(frame(BROADCAST_CID, CTAPHID.INIT, b"abcdefgh")[0], 0.0)
    out: list[bytes] = []
    events: list[object] = []
    for raw in packets:
        o, e = one.receive(raw, 1.0)
        out += o
        events += e
    assert many.receive_many(packets, 1.0) == (out, events)


@given(st.integers(8, 128), st.integers(1, 0xFFFFFFFE), st.integers(0, 0x7F), st.data())
def test_whole_message_of_a_framed_message(size: int, cid: int, cmd: int, data: st.DataObject) -> None:
    payload = data.draw(st.binary(max_size=min(max_message_size(size), 3000)))
    packets = frame(cid, cmd, payload, size)
    prefix = data.draw(st.lists(st.binary(max_size=size), max_size=2))
    assert whole_message([*prefix, *packets, b"junk"], len(prefix)) == (payload, len(prefix) + len(packets))
    if len(packets) > 1:  # one report short, or a continuation out of sequence: not whole
        assert whole_message(packets[:-1], 0) is None
        assert whole_message([packets[0], *packets[2:], packets[1]], 0) is None or len(packets) == 2


@settings(max_examples=300)
@given(st.lists(_REPORT, min_size=1, max_size=12))
def test_whole_message_agrees_with_the_reassembler(packets: list[bytes]) -> None:
    """Whenever the one-join path takes a message, the reassembler gives the same one from the same reports."""
    whole = whole_message(packets, 0)
    if whole is None:
        return
    data, end = whole
    reassembler = Reassembler()
    messages = []
    for raw in packets[:end]:
        if len(raw) >= 5 and not raw[4] & 0x80:
            messages.append(reassembler.feed_continuation(raw))
        else:
            messages.append(reassembler.feed(parse_packet(raw)))
    assert messages[-1] is not None and messages[-1].data == data
    assert all(m is None for m in messages[:-1])
