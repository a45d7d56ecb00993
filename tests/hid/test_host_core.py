"""HostCore, the sans-IO host side of CTAPHID: its rules one by one, then driven against DeviceCore
over a network that loses, duplicates, delays and garbles reports (CTAP 2.1 §11.2)."""

from __future__ import annotations

import itertools
import struct
from collections.abc import Sequence

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aioctap.ctap import CtapError
from aioctap.hid.device_side import DeviceCore
from aioctap.hid.host_core import (
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
from aioctap.hid.protocol import BROADCAST_CID, CTAPHID, CtapHidProtocolError, frame, max_message_size


def counter_random() -> object:
    """Deterministic nonces: 8-byte big-endian counters."""
    counter = itertools.count(1)
    return lambda n: next(counter).to_bytes(n, "big")


def init_answer(cid: int, nonce: bytes, new_cid: int) -> bytes:
    return frame(cid, CTAPHID.INIT, nonce + struct.pack(">IB3BB", new_cid, 2, 1, 0, 0, 5))[0]


def allocated(core: HostCore, new_cid: int = 7, now: float = 0.0) -> int:
    nonce, reports = core.allocate_channel(now, 1.0)
    assert len(reports) == 1 and reports[0][:5] == b"\xff\xff\xff\xff\x86"
    out, events = core.receive(init_answer(BROADCAST_CID, nonce, new_cid), now)
    assert not out
    assert len(events) == 1 and isinstance(events[0], Allocated)
    assert events[0].init.channel_id == new_cid
    return new_cid


def cmd_of(report: bytes) -> int:
    return report[4] & 0x7F


def test_allocation_matches_the_nonce_and_refuses_reserved_channel_ids() -> None:
    core = HostCore(random=counter_random())  # type: ignore[arg-type]
    nonce, _ = core.allocate_channel(0.0, 1.0)
    _, events = core.receive(init_answer(BROADCAST_CID, b"otherone", 5), 0.0)
    assert isinstance(events[0], Dropped)  # someone else's INIT answer
    for reserved in (0, BROADCAST_CID):
        nonce, _ = core.allocate_channel(0.0, 1.0)
        _, events = core.receive(init_answer(BROADCAST_CID, nonce, reserved), 0.0)
        assert isinstance(events[0], AllocationFailed)
        assert isinstance(events[0].error, CtapHidProtocolError)
        assert "reserved channel id" in str(events[0].error)
        assert core.channel_state(reserved) == "unknown"
    # a short INIT answer is a protocol error too
    nonce, _ = core.allocate_channel(0.0, 1.0)
    _, events = core.receive(frame(BROADCAST_CID, CTAPHID.INIT, nonce + b"\0\0\0\x07")[0], 0.0)
    assert isinstance(events[0], AllocationFailed) and isinstance(events[0].error, CtapHidProtocolError)


def test_allocation_times_out() -> None:
    core = HostCore()
    nonce, _ = core.allocate_channel(10.0, 0.5)
    assert core.next_deadline == 10.5
    assert core.handle_timer(10.4) == ([], [])
    _, events = core.handle_timer(10.5)
    assert len(events) == 1 and isinstance(events[0], AllocationFailed) and events[0].nonce == nonce
    assert isinstance(events[0].error, CtapHidTimeout)
    assert core.next_deadline is None


def test_error_packet_without_a_code_is_a_protocol_error_and_resynchronizes() -> None:
    core = HostCore(random=counter_random())  # type: ignore[arg-type]
    cid = allocated(core)
    core.send(cid, CTAPHID.CBOR, b"\x04", 0.0, 1.0)
    empty_error = struct.pack(">IBH", cid, 0x80 | CTAPHID.ERROR, 0).ljust(64, b"\0")
    out, events = core.receive(empty_error, 0.0)
    assert len(events) == 1 and isinstance(events[0], Failed)
    assert isinstance(events[0].error, CtapHidProtocolError) and "without an error code" in str(events[0].error)
    assert [cmd_of(r) for r in out] == [CTAPHID.INIT] and out[0][:4] == cid.to_bytes(4, "big")
    assert core.channel_state(cid) == "resyncing"
    # an ERROR with a code fails the transaction with CtapError and leaves the channel clean
    core.receive(init_answer(cid, out[0][7:15], cid), 0.0)
    core.send(cid, CTAPHID.CBOR, b"\x04", 0.0, 1.0)
    out, events = core.receive(frame(cid, CTAPHID.ERROR, b"\x0b")[0], 0.0)
    assert not out and isinstance(events[0], Failed) and isinstance(events[0].error, CtapError)
    assert events[0].error.code == CtapError.ERR.INVALID_CHANNEL
    assert core.channel_state(cid) == "clean"


def test_keepalives_extend_the_deadline_and_are_reported_once_per_status() -> None:
    core = HostCore()
    cid = allocated(core)
    core.send(cid, CTAPHID.CBOR, b"\x01", 0.0, 1.0)
    statuses = []
    for t, status in [(0.5, 2), (1.2, 2), (1.9, 1), (2.5, 1)]:
        _, events = core.receive(frame(cid, CTAPHID.KEEPALIVE, bytes([status]))[0], t)
        statuses += [e.status for e in events if isinstance(e, KeepAlive)]
        assert core.handle_timer(t)[1] == []
    assert statuses == [2, 1]
    _, events = core.handle_timer(3.5)  # one second after the last keepalive
    assert isinstance(events[0], Failed) and isinstance(events[0].error, CtapHidTimeout)


def test_a_late_answer_after_a_timeout_never_reaches_the_next_call() -> None:
    core = HostCore(random=counter_random())  # type: ignore[arg-type]
    cid = allocated(core)
    core.send(cid, CTAPHID.PING, b"first", 0.0, 1.0)
    out, events = core.handle_timer(1.0)
    assert isinstance(events[0], Failed) and isinstance(events[0].error, CtapHidTimeout)
    assert [cmd_of(r) for r in out] == [CTAPHID.CANCEL, CTAPHID.INIT]  # §11.2.9.1.5, §11.2.9.1.3
    nonce = out[1][7:15]
    # the next call waits for the channel: nothing goes out yet
    assert core.send(cid, CTAPHID.PING, b"second", 1.1, 1.0) == ()
    # the late answer of the first call arrives: discarded
    out2, events = core.receive(frame(cid, CTAPHID.PING, b"first")[0], 1.2)
    assert not out2 and all(isinstance(e, Dropped) for e in events)
    # the INIT answer cleans the channel and the waiting request goes out
    out3, events = core.receive(init_answer(cid, nonce, cid), 1.3)
    assert events == [Cleaned(cid)] and len(out3) == 1 and out3[0][7:13] == b"second"
    _, events = core.receive(frame(cid, CTAPHID.PING, b"second")[0], 1.4)
    assert events == [Answer(cid, b"second")]


def test_resync_without_answer_fails_the_waiting_call_and_tries_again_for_the_next() -> None:
    core = HostCore(random=counter_random())  # type: ignore[arg-type]
    cid = allocated(core)
    core.send(cid, CTAPHID.PING, b"a", 0.0, 1.0)
    core.handle_timer(1.0)  # timeout: resync
    assert core.send(cid, CTAPHID.PING, b"b", 1.0, 1.0) == ()
    out, events = core.handle_timer(2.0)  # the waiting call's deadline: it fails
    assert isinstance(events[0], Failed)
    out, events = core.handle_timer(5.0)  # the resync gave up: the channel is dirty
    assert core.channel_state(cid) == "dirty"
    out = core.send(cid, CTAPHID.PING, b"c", 5.0, 1.0)  # the next call resynchronizes first
    assert [cmd_of(r) for r in out] == [CTAPHID.INIT]
    out, _ = core.receive(init_answer(cid, out[0][7:15], cid), 5.1)
    assert out[0][7:8] == b"c"


def test_cancel_discards_the_cancelled_answer_then_sends_the_next_request() -> None:
    core = HostCore(random=counter_random())  # type: ignore[arg-type]
    cid = allocated(core)
    core.send(cid, CTAPHID.CBOR, b"\x01", 0.0, 5.0)
    out = core.cancel(cid, 0.1)
    assert [cmd_of(r) for r in out] == [CTAPHID.CANCEL]
    assert core.channel_state(cid) == "cancelling"
    assert core.send(cid, CTAPHID.CBOR, b"\x02", 0.2, 5.0) == ()
    assert core.receive(frame(cid, CTAPHID.KEEPALIVE, b"\x02")[0], 0.3) == ((), [])
    out, events = core.receive(frame(cid, CTAPHID.CBOR, b"\x2d")[0], 0.4)  # KEEPALIVE_CANCEL
    assert events == [Cleaned(cid)] and out[0][7] == 0x02
    _, events = core.receive(frame(cid, CTAPHID.CBOR, b"\x00ok")[0], 0.5)
    assert events == [Answer(cid, b"\x00ok")]


def test_cancel_without_answer_resynchronizes() -> None:
    core = HostCore(random=counter_random(), cancel_wait=0.5)  # type: ignore[arg-type]
    cid = allocated(core)
    core.send(cid, CTAPHID.CBOR, b"\x01", 0.0, 5.0)
    core.cancel(cid, 0.0)
    out, events = core.handle_timer(0.5)
    assert events == [] and [cmd_of(r) for r in out] == [CTAPHID.INIT]
    assert core.channel_state(cid) == "resyncing"


def test_channel_busy_is_retried_until_the_timeout() -> None:
    core = HostCore(busy_retry_delay=0.1)
    cid = allocated(core)
    request = core.send(cid, CTAPHID.CBOR, b"\x01", 0.0, 1.0, retry_busy=True)
    busy = frame(cid, CTAPHID.ERROR, b"\x06")[0]
    assert core.receive(busy, 0.0) == ((), [])
    assert core.handle_timer(0.05) == ([], [])
    assert core.handle_timer(0.1) == (list(request), [])
    core.receive(busy, 0.5)
    core.handle_timer(0.6)
    _, events = core.receive(busy, 1.0)  # a second of busy answers: give up with the device's error
    assert isinstance(events[0], Failed) and isinstance(events[0].error, CtapError)
    assert events[0].error.code == CtapError.ERR.CHANNEL_BUSY
    # without retry_busy the first busy answer fails the call
    core.send(cid, CTAPHID.CBOR, b"\x01", 2.0, 1.0)
    _, events = core.receive(busy, 2.0)
    assert isinstance(events[0], Failed)


def test_wrong_command_and_sequence_fail_the_call_and_resynchronize() -> None:
    core = HostCore()
    cid = allocated(core)
    core.send(cid, CTAPHID.PING, b"x", 0.0, 1.0)
    out, events = core.receive(frame(cid, CTAPHID.WINK, b"")[0], 0.0)
    assert isinstance(events[0], Failed) and "answer of command 0x08" in str(events[0].error)
    assert [cmd_of(r) for r in out] == [CTAPHID.INIT]
    core2 = HostCore()
    cid = allocated(core2)
    core2.send(cid, CTAPHID.PING, b"y" * 200, 0.0, 1.0)
    packets = frame(cid, CTAPHID.PING, b"y" * 200)
    core2.receive(packets[0], 0.0)
    out, events = core2.receive(packets[2], 0.0)
    assert isinstance(events[0], Failed) and "sequence" in str(events[0].error)


def test_stray_reports_are_dropped() -> None:
    core = HostCore()
    cid = allocated(core)
    for report in [b"\0\0\0\x07", frame(99, CTAPHID.PING, b"x")[0], frame(cid, CTAPHID.PING, b"x")[0]]:
        _, events = core.receive(report, 0.0)
        assert len(events) == 1 and isinstance(events[0], Dropped)
    core.send(cid, CTAPHID.PING, b"x", 0.0, 1.0)
    _, events = core.receive(struct.pack(">IB", cid, 0).ljust(64, b"\0"), 0.0)  # continuation, no init
    assert isinstance(events[0], Dropped)
    assert core.channel_state(cid) == "busy"


def test_requests_the_core_refuses() -> None:
    core = HostCore()
    cid = allocated(core)
    with pytest.raises(CtapHidProtocolError):
        core.send(BROADCAST_CID, CTAPHID.PING, b"", 0.0, 1.0)
    with pytest.raises(CtapHidProtocolError):
        core.send(0, CTAPHID.PING, b"", 0.0, 1.0)
    with pytest.raises(CtapHidProtocolError):
        core.send(cid, CTAPHID.KEEPALIVE, b"", 0.0, 1.0)
    with pytest.raises(CtapHidProtocolError):
        core.send(cid, CTAPHID.PING, bytes(max_message_size() + 1), 0.0, 1.0)
    core.send(cid, CTAPHID.PING, b"", 0.0, 1.0)
    with pytest.raises(RuntimeError):
        core.send(cid, CTAPHID.PING, b"", 0.0, 1.0)


reports_st = st.lists(
    st.one_of(
        st.binary(min_size=0, max_size=70),
        st.builds(
            lambda cid, cmd, data: frame(cid, cmd, data),
            st.sampled_from([7, 8, BROADCAST_CID]),
            st.sampled_from([CTAPHID.PING, CTAPHID.CBOR, CTAPHID.KEEPALIVE, CTAPHID.ERROR]),
            st.binary(max_size=300),
        ).flatmap(lambda packets: st.just(packets)),
    ).map(lambda x: x if isinstance(x, list) else [x]),
    max_size=8,
)


@settings(max_examples=200, deadline=None)
@given(reports_st)
def test_receive_many_agrees_with_receive_one_at_a_time(batches: list[list[bytes]]) -> None:
    reports = [r for batch in batches for r in batch]
    cores = []
    for _ in range(2):
        core = HostCore(random=counter_random())  # type: ignore[arg-type]
        allocated(core, 7)
        allocated(core, 8)
        core.send(7, CTAPHID.PING, b"a" * 100, 0.0, 1.0)
        core.send(8, CTAPHID.CBOR, b"\x01", 0.0, 1.0)
        cores.append(core)
    one: list[HostEvent] = []
    sent_one: list[bytes] = []
    for r in reports:
        out, events = cores[0].receive(r, 0.0)
        one += events
        sent_one += out
    out, many = cores[1].receive_many(reports, 0.0) if reports else ((), [])
    assert [type(e) for e in many if not isinstance(e, Dropped)] == [type(e) for e in one if not isinstance(e, Dropped)]
    assert [e for e in many if isinstance(e, Answer)] == [e for e in one if isinstance(e, Answer)]
    assert list(out) == sent_one
    assert cores[0].channel_state(7) == cores[1].channel_state(7)


def outcomes(events: list[HostEvent]) -> list[tuple[object, ...]]:
    """Events other than Dropped, comparable (an exception equals only itself)."""
    return [
        (type(e), e.cid, type(e.error), str(e.error)) if isinstance(e, Failed) else (e,)
        for e in events
        if not isinstance(e, Dropped)
    ]


@settings(max_examples=300, deadline=None)
@given(reports_st, st.lists(st.booleans(), min_size=1))
def test_receive_answer_agrees_with_receive(batches: list[list[bytes]], fast: list[bool]) -> None:
    """The fast path (a one-report answer handed back with its token, no event) does what receive does:
    the same answers, reports to send, channel states and deadlines; other reports it leaves alone."""
    reports = [r for batch in batches for r in batch]
    general = HostCore(random=counter_random())  # type: ignore[arg-type]
    quick = HostCore(random=counter_random())  # type: ignore[arg-type]
    requests = {7: (CTAPHID.PING, b"a" * 100), 8: (CTAPHID.CBOR, b"\x01")}
    for core in (general, quick):
        allocated(core, 7)
        allocated(core, 8)
    pending: set[int] = set()
    for i, r in enumerate([b"", *reports]):
        for cid, (cmd, data) in requests.items():  # a new request on every channel that is free
            if cid not in pending and general.channel_state(cid) in ("clean", "dirty"):
                assert general.send(cid, cmd, data, i, 1.0) == quick.send(cid, cmd, data, i, 1.0, token=cid)
                pending.add(cid)
        if not r:
            continue
        out, events = general.receive(r, i)
        taken = quick.receive_answer(r) if fast[i % len(fast)] else None
        if taken is None:
            quick_out, quick_events = quick.receive(r, i)
        else:
            token, data = taken
            assert token is not None
            quick_out, quick_events = (), [Answer(token, data)]
            assert len(r) == 64 and r[4] & 0x80 and (r[5] << 8 | r[6]) <= 57
        assert list(quick_out) == list(out)
        assert outcomes(quick_events) == outcomes(events)
        assert quick.next_deadline == general.next_deadline
        for cid in requests:
            assert quick.channel_state(cid) == general.channel_state(cid)
        pending -= {e.cid for e in events if isinstance(e, Answer | Failed)}


# -- HostCore against DeviceCore over a hostile network --------------------------------------


class Network:
    """Two queues of reports in flight; the test decides what is delivered, lost, doubled or late."""

    def __init__(self) -> None:
        self.to_device: list[bytes] = []
        self.to_host: list[bytes] = []


request_st = st.tuples(st.just("request"), st.integers(0, 2), st.integers(0, 400))
deliver_device_st = st.tuples(st.just("deliver_device"), st.integers(1, 20), st.just(0))
deliver_host_st = st.tuples(st.just("deliver_host"), st.integers(1, 20), st.integers(0, 1))  # 1: the fast path
time_st = st.tuples(st.just("time"), st.integers(1, 30), st.just(0))
actions = st.lists(
    st.one_of(  # the common steps listed more than once: drawn more often
        request_st,
        request_st,
        deliver_device_st,
        deliver_device_st,
        deliver_host_st,
        deliver_host_st,
        time_st,
        time_st,
        st.tuples(st.just("cancel"), st.integers(0, 2), st.just(0)),
        st.tuples(st.just("lose"), st.booleans().map(int), st.integers(0, 30)),
        st.tuples(st.just("duplicate"), st.booleans().map(int), st.integers(0, 30)),
        st.tuples(st.just("garbage"), st.integers(0, 2), st.integers(0, 255)),
    ),
    max_size=60,
)


# A duplicated report that holds a whole request or answer cannot be told from a new one: CTAPHID has
# no transaction ids, so no host could (and neither USB nor a loopback socket duplicates reports).
# Continuations, keepalives and INITs can be duplicated; late reports are reports that arrive after
# time has passed (USB and loopback UDP keep each direction in order, and so does this network).
DUPLICABLE = {CTAPHID.KEEPALIVE, CTAPHID.INIT}


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(actions)
def test_host_core_against_device_core(steps: list[tuple[str, int, int]]) -> None:
    """No answer ever reaches the wrong call, every call ends once, and a healed network works again.

    Three channels; each request is a PING whose payload names it, so an answer handed to any call
    but its own would be seen. The device's core answers PINGs itself.
    """
    host = HostCore(random=counter_random(), cancel_wait=0.3)  # type: ignore[arg-type]
    device = DeviceCore(message_timeout=0.5)
    net = Network()
    now = 0.0
    timeout = 1.0
    outstanding: dict[int, bytes] = {}  # cid -> payload of its pending call
    outcomes: dict[bytes, str] = {}
    serial = itertools.count()

    def host_out(out: Sequence[bytes]) -> None:
        net.to_device += out

    def host_events(events: list[HostEvent]) -> None:
        for e in events:
            if isinstance(e, Answer):
                assert e.cid in outstanding, "an answer with no call waiting"
                assert e.data == outstanding[e.cid], "an answer handed to the wrong call"
                outcomes[outstanding.pop(e.cid)] = "answer"
            elif isinstance(e, Failed):
                assert e.cid in outstanding, "a failure with no call waiting"
                assert isinstance(e.error, CtapHidTimeout | CtapError | CtapHidProtocolError)
                outcomes[outstanding.pop(e.cid)] = "failed"

    def deliver_device(n: int) -> None:
        for _ in range(min(n, len(net.to_device))):
            out, _ = device.receive(net.to_device.pop(0), now)
            net.to_host += out

    def deliver_host(n: int, fast: int = 0) -> None:
        for _ in range(min(n, len(net.to_host))):
            report = net.to_host.pop(0)
            answer = host.receive_answer(report) if fast else None
            if answer is not None:  # the fast path: the token (the channel here) and the answer
                token, data = answer
                assert token is not None
                host_events([Answer(token, data)])
                continue
            out, events = host.receive(report, now)
            host_out(out)
            host_events(events)

    def settle() -> None:
        for _ in range(200):
            if not net.to_device and not net.to_host:
                return
            deliver_device(100)
            deliver_host(100, 1)

    channels = []
    for _ in range(3):
        _, out = host.allocate_channel(now, timeout)
        host_out(out)
        deliver_device(10)
        _, events = host.receive_many(net.to_host, now)
        net.to_host.clear()
        assert isinstance(events[0], Allocated)
        channels.append(events[0].init.channel_id)

    for action, a, b in steps:
        if action == "request":
            cid = channels[a]
            if cid in outstanding:
                continue
            payload = b"%d:" % next(serial) + bytes(b)
            outstanding[cid] = payload
            host_out(host.send(cid, CTAPHID.PING, payload, now, timeout, token=cid))
        elif action == "cancel":
            cid = channels[a]
            if cid in outstanding:
                outcomes[outstanding.pop(cid)] = "cancelled"
                host_out(host.cancel(cid, now))
        elif action == "deliver_device":
            deliver_device(a)
        elif action == "deliver_host":
            deliver_host(a, b)
        else:
            queue = net.to_device if a else net.to_host
            if action == "garbage":
                net.to_host.append(bytes([b]) * (b % 70))
                # a forged report of another command, or an ERROR without a code (a well-formed PING
                # answer or ERROR cannot be told from the device's own: no host could)
                forged = [CTAPHID.WINK, CTAPHID.CBOR, CTAPHID.MSG, CTAPHID.KEEPALIVE, CTAPHID.ERROR][b % 5]
                data = b"" if forged == CTAPHID.ERROR else bytes([b]) * (b % 100)
                net.to_host.append(frame(channels[a], forged, data)[0])
            elif queue:
                i = b % len(queue)
                if action == "lose":
                    queue.pop(i)
                elif action == "duplicate":
                    report = queue[i]
                    if len(report) < 7 or not report[4] & 0x80 or cmd_of(report) in DUPLICABLE:
                        queue.insert(i, report)
            if action == "time":
                now += a / 20
                net.to_host += device.tick(now)
                out, events = host.handle_timer(now)
                host_out(out)
                host_events(events)

    # the network heals: everything still pending ends, then every channel works again
    for _ in range(20):
        settle()
        now += 0.5
        net.to_host += device.tick(now)
        out, events = host.handle_timer(now)
        host_out(out)
        host_events(events)
    assert not outstanding, "a call that never ended"
    for cid in channels:
        payload = b"final %d" % cid
        outstanding[cid] = payload
        host_out(host.send(cid, CTAPHID.PING, payload, now, timeout, token=cid))
        settle()
        assert outcomes.get(payload) == "answer", (host.channel_state(cid), outcomes.get(payload))


def test_keepalives_extend_a_call_for_at_most_max_keepalive_time(monkeypatch: pytest.MonkeyPatch) -> None:
    from aioctap.hid import host_core

    assert host_core.MAX_KEEPALIVE_TIME == 600.0
    monkeypatch.setattr(host_core, "MAX_KEEPALIVE_TIME", 10.0)
    core = HostCore()
    cid = allocated(core)
    core.send(cid, CTAPHID.CBOR, b"\x01", 0.0, 1.0)
    t = 0.5
    while t < 10.0:  # a device that keeps alive for ever (UPNEEDED, nobody touches and it never gives up)
        core.receive(frame(cid, CTAPHID.KEEPALIVE, b"\x02")[0], t)
        assert core.handle_timer(t)[1] == []
        t += 0.5
    core.receive(frame(cid, CTAPHID.KEEPALIVE, b"\x02")[0], 10.3)  # past the limit: no longer extends
    _, events = core.handle_timer(10.5)  # 10 s after the first keepalive, though only 0.2 s after the last
    assert isinstance(events[0], Failed) and isinstance(events[0].error, CtapHidTimeout)
    assert "keepalives for 10 s" in str(events[0].error)
    assert core.channel_state(cid) != "busy"  # cancelled on the device, being resynchronized
    # a new call starts a new limit
    core2 = HostCore()
    cid2 = allocated(core2)
    core2.send(cid2, CTAPHID.CBOR, b"\x01", 0.0, 1.0)
    core2.receive(frame(cid2, CTAPHID.KEEPALIVE, b"\x02")[0], 0.5)
    assert core2.handle_timer(1.4)[1] == []
    _, events = core2.handle_timer(1.6)  # silence after a keepalive: the usual timeout and its message
    assert isinstance(events[0].error, CtapHidTimeout) and "within 1 s" in str(events[0].error)
