"""End to end through the reader task, over the in-memory and the UDP backend."""

from __future__ import annotations

import struct
from collections.abc import AsyncIterator
from contextlib import aclosing, asynccontextmanager
from typing import Any

import anyio
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import aioctap
from aioctap.ctap import STATUS, CtapError, TransportError
from aioctap.hid.backends.memory import memory_pair
from aioctap.hid.backends.udp import UdpTransport
from aioctap.hid.device import CtapHidDevice
from aioctap.hid.device_side import CtapHidServer
from aioctap.hid.protocol import BROADCAST_CID, CTAPHID, CtapHidProtocolError, Reassembler, frame, parse_packet
from aioctap.hid.router import CtapHidTimeout, HidConnection
from aioctap.hid.transport import PacketTransport, TransportClosed

from .conftest import UdpDeviceEnd

BACKENDS = ["memory", "udp"]


@asynccontextmanager
async def memory_link(app: Any) -> AsyncIterator[tuple[HidConnection, CtapHidServer]]:
    host, dev = memory_pair()
    server = CtapHidServer(app)
    async with anyio.create_task_group() as tg:
        tg.start_soon(server.serve, dev)
        async with HidConnection.open(host) as conn:
            yield conn, server
        tg.cancel_scope.cancel()


@asynccontextmanager
async def echo_link(kind: str, app: Any) -> AsyncIterator[tuple[HidConnection, CtapHidServer]]:
    """``app`` behind the device-side server, reached through the real reader task over ``kind``."""
    if kind == "memory":
        async with memory_link(app) as link:
            yield link
        return
    server = CtapHidServer(app)
    async with anyio.create_task_group() as tg:
        host, port = await tg.start(server.serve_udp, "127.0.0.1", 0)
        async with HidConnection.open(UdpTransport(host, port)) as conn:
            yield conn, server
        tg.cancel_scope.cancel()


@asynccontextmanager
async def raw_link(kind: str) -> AsyncIterator[tuple[HidConnection, PacketTransport]]:
    """A host connection and the bare device end of its transport, for scripted devices."""
    dev_side: PacketTransport
    if kind == "memory":
        host, dev_side = memory_pair()
        transport: PacketTransport = host
    else:
        end = UdpDeviceEnd()
        dev_side = end
        transport = UdpTransport(*end.address)
    try:
        async with HidConnection.open(transport) as conn:
            yield conn, dev_side
    finally:
        await dev_side.aclose()


@pytest.mark.parametrize("size", [0, 1, 57, 58, 1024, 7609])
async def test_ping_sizes_memory(echo_app: Any, size: int) -> None:
    async with memory_link(echo_app) as (conn, _):
        dev = await CtapHidDevice.open(conn)
        data = bytes(i % 251 for i in range(size))
        assert await dev.ping(data) == data


@pytest.mark.parametrize("size", [0, 1, 57, 58, 1024, 7609])
async def test_ping_sizes_udp(udp_server: Any, echo_app: Any, size: int) -> None:
    async with udp_server(echo_app) as (host, port), aioctap.open_device(f"udp:{host}:{port}") as dev:
        data = bytes(i % 251 for i in range(size))
        assert await dev.ping(data) == data
        assert await dev.call(CTAPHID.CBOR, b"\x04") == b"\x00\x04"


@pytest.mark.parametrize("kind", BACKENDS)
async def test_64_channels_on_one_transport(echo_app: Any, kind: str) -> None:
    async with echo_link(kind, echo_app) as (conn, _):
        devices = [await CtapHidDevice.open(conn) for _ in range(64)]
        assert len({d.channel_id for d in devices}) == 64
        results: dict[int, bytes] = {}

        async def work(i: int, d: CtapHidDevice) -> None:
            for _ in range(3):
                results[i] = await d.ping(bytes([i]) * 300)

        with anyio.fail_after(10):
            async with anyio.create_task_group() as tg:
                for i, d in enumerate(devices):
                    tg.start_soon(work, i, d)
        assert results == {i: bytes([i]) * 300 for i in range(64)}
        assert conn.dropped_packets == 0


@pytest.mark.parametrize("kind", BACKENDS)
async def test_16_devices_at_once(echo_app: Any, kind: str) -> None:
    apps = [type(echo_app)() for _ in range(16)]
    results: list[bytes] = []

    async def work(app: Any, i: int) -> None:
        async with echo_link(kind, app) as (conn, _):
            dev = await CtapHidDevice.open(conn)
            for _ in range(5):
                results.append(await dev.call(CTAPHID.CBOR, bytes([i]) * 100))
            assert await dev.ping(bytes([i]) * 1024) == bytes([i]) * 1024

    with anyio.fail_after(10):
        async with anyio.create_task_group() as hosts:
            for i, app in enumerate(apps):
                hosts.start_soon(work, app, i)
    assert sorted(results) == sorted(b"\x00" + bytes([i]) * 100 for i in range(16) for _ in range(5))


async def test_16_devices_through_open_device(echo_app: Any) -> None:
    apps = [type(echo_app)() for _ in range(16)]
    servers = [CtapHidServer(a) for a in apps]
    async with anyio.create_task_group() as tg:
        addrs = [await tg.start(s.serve_udp, "127.0.0.1", 0) for s in servers]
        results: list[bytes] = []

        async def work(addr: tuple[str, int], i: int) -> None:
            async with aioctap.open_device(f"udp:{addr[0]}:{addr[1]}") as dev:
                for _ in range(5):
                    results.append(await dev.call(CTAPHID.CBOR, bytes([i]) * 100))

        async with anyio.create_task_group() as hosts:
            for i, a in enumerate(addrs):
                hosts.start_soon(work, a, i)
        assert sorted(results) == sorted(b"\x00" + bytes([i]) * 100 for i in range(16) for _ in range(5))
        tg.cancel_scope.cancel()


@pytest.mark.parametrize("kind", BACKENDS)
async def test_cancel_while_keepalives_then_next_call_works(echo_app: Any, kind: str) -> None:
    async with echo_link(kind, echo_app) as (conn, _):
        dev = await CtapHidDevice.open(conn)
        statuses: list[STATUS] = []
        with anyio.move_on_after(0.5) as scope:
            await dev.call(CTAPHID.CBOR, b"\xfe", on_keepalive=statuses.append)
        assert scope.cancelled_caught
        assert statuses == [STATUS.UPNEEDED]  # repeated every 0.1 s, reported once per change of status
        # the cancelled call returned at once; the next one goes out when the cancelled answer came
        assert await dev.call(CTAPHID.CBOR, b"\x01") == b"\x00\x01"
        assert echo_app.cancelled == 1
        assert conn.channel_state(dev.channel_id) == "clean"


async def test_cancel_by_task_cancellation_over_udp(udp_server: Any, echo_app: Any) -> None:
    async with udp_server(echo_app) as (host, port), aioctap.open_device(f"udp:{host}:{port}") as dev:
        async with anyio.create_task_group() as tg:
            tg.start_soon(dev.call, CTAPHID.CBOR, b"\xfe")
            await anyio.sleep(0.3)
            tg.cancel_scope.cancel()
        assert await dev.call(CTAPHID.CBOR, b"\x02") == b"\x00\x02"
        assert echo_app.cancelled == 1


async def test_keepalives_extend_the_timeout(echo_app: Any) -> None:
    async with memory_link(echo_app) as (conn, _):
        dev = await CtapHidDevice.open(conn, timeout=0.25)
        assert await dev.call(CTAPHID.CBOR, b"\xfd") == b"\x00\xfd"


async def test_stream_call_yields_statuses(echo_app: Any) -> None:
    async with memory_link(echo_app) as (conn, _):
        dev = await CtapHidDevice.open(conn)
        stream = dev.stream_call(CTAPHID.CBOR, b"\xfd")
        seen = [s async for s in stream]
        assert seen == [STATUS.PROCESSING]
        assert stream.result == b"\x00\xfd"


async def silent_device(dev_side: Any) -> None:
    """Answers INIT (channels 1, 2, ...) and nothing else."""
    n = 0
    while True:
        try:
            batch = await dev_side.receive_packets()
        except TransportError:
            return
        for p in batch:
            cid, cmd = struct.unpack_from(">IB", p)
            if cmd & 0x7F == CTAPHID.INIT:
                n += 1
                payload = p[7:15] + struct.pack(">IB3BB", n, 2, 1, 0, 0, 5)
                await dev_side.send_packet(frame(cid, CTAPHID.INIT, payload)[0])


@pytest.mark.parametrize("kind", BACKENDS)
async def test_transport_loss_fails_all_pending(kind: str) -> None:
    async with raw_link(kind) as (conn, dev_side), anyio.create_task_group() as outer:
        outer.start_soon(silent_device, dev_side)
        devices = [await CtapHidDevice.open(conn) for _ in range(10)]
        errors: list[BaseException] = []

        async def work(d: CtapHidDevice) -> None:
            try:
                await d.call(CTAPHID.CBOR, b"\xfe")
            except Exception as e:
                errors.append(e)

        with anyio.fail_after(3):
            async with anyio.create_task_group() as tg:
                for d in devices:
                    tg.start_soon(work, d)
                await anyio.sleep(0.2)
                # memory: the device end goes away; UDP: the host's socket is closed under the reader
                await (dev_side.aclose() if kind == "memory" else conn.transport.aclose())
        assert len(errors) == 10
        assert all(type(e) is TransportClosed for e in errors)  # the transport ended: one error type, a TransportError
        assert len({str(e) for e in errors}) == 1  # one clear error, the same for every call
        assert conn.closed
        t0 = anyio.current_time()
        for d in devices[:3]:
            with pytest.raises(TransportError):
                await d.ping(b"late")
        with pytest.raises(TransportError):
            await CtapHidDevice.open(conn)
        assert anyio.current_time() - t0 < 0.1  # later calls fail fast
        outer.cancel_scope.cancel()


@pytest.mark.parametrize("kind", BACKENDS)
async def test_unknown_channel_packets_are_dropped(kind: str) -> None:
    async with raw_link(kind) as (conn, dev_side), anyio.create_task_group() as tg:

        async def fake_device() -> None:
            reassembler = Reassembler()
            while True:
                for p in await dev_side.receive_packets():
                    cid, cmd = struct.unpack_from(">IB", p)
                    message = reassembler.feed(parse_packet(p))
                    if message is None:
                        continue
                    if cmd & 0x7F == CTAPHID.INIT:
                        nonce = p[7:15]
                        payload = nonce + struct.pack(">IB3BB", 7, 2, 1, 0, 0, 5)
                        # noise first: an answer with the wrong nonce, then a stray channel
                        await dev_side.send_packet(frame(cid, CTAPHID.INIT, b"x" * 8 + payload[8:])[0])
                        await dev_side.send_packet(frame(99, CTAPHID.PING, b"noise")[0])
                        await dev_side.send_packet(frame(cid, CTAPHID.INIT, payload)[0])
                    else:
                        # real traffic interleaved with packets for channels nobody uses
                        real = frame(cid, CTAPHID.PING, message.data)
                        noise = frame(99, CTAPHID.PING, b"n" * 200)
                        for q, r in zip(real, noise, strict=False):
                            await dev_side.send_packet(r)
                            await dev_side.send_packet(b"\x00\x00\x00\x63\x05" + b"\0" * 59)  # stray continuation
                            await dev_side.send_packet(q)
                        for q in real[len(noise) :]:
                            await dev_side.send_packet(q)

        tg.start_soon(fake_device)
        with anyio.fail_after(3):
            dev = await CtapHidDevice.open(conn)
            assert dev.channel_id == 7
            assert await dev.ping(b"real") == b"real"
            long = bytes(range(256)) * 4
            assert await dev.ping(long) == long
        assert conn.dropped_packets >= 2 + 2 + 4 * 2
        tg.cancel_scope.cancel()


@pytest.mark.parametrize("kind", BACKENDS)
async def test_garbage_from_device_fails_only_that_call(kind: str) -> None:
    async with raw_link(kind) as (conn, dev_side), anyio.create_task_group() as tg:
        mode = ["init"]

        async def fake_device() -> None:
            while True:
                for p in await dev_side.receive_packets():
                    cid, cmd = struct.unpack_from(">IB", p)
                    if cmd & 0x7F == CTAPHID.INIT:
                        # channel 7 for the device under test, 8 for a bystander
                        n = 7 if mode[0] == "init" else 8
                        payload = p[7:15] + struct.pack(">IB3BB", n, 2, 1, 0, 0, 5)
                        await dev_side.send_packet(frame(cid, CTAPHID.INIT, payload)[0])
                    elif cid == 8 or mode[0] == "ok":
                        for q in frame(cid, CTAPHID.PING, p[7 : 7 + 2]):
                            await dev_side.send_packet(q)
                    elif mode[0] == "badseq":
                        packets = frame(cid, CTAPHID.PING, b"y" * 200)
                        await dev_side.send_packet(packets[0])
                        await dev_side.send_packet(packets[2])
                    elif mode[0] == "toolong":
                        await dev_side.send_packet(struct.pack(">IBH", cid, 0x81, 7610) + b"\0" * 57)
                    elif mode[0] == "contnoinit":
                        await dev_side.send_packet(struct.pack(">IB", cid, 0) + b"\0" * 59)
                    elif mode[0] == "wrongcmd":
                        await dev_side.send_packet(frame(cid, CTAPHID.WINK, b"")[0])
                    elif mode[0] == "error":
                        await dev_side.send_packet(frame(cid, CTAPHID.ERROR, b"\x0b")[0])

        tg.start_soon(fake_device)
        dev = await CtapHidDevice.open(conn, timeout=0.3)
        mode[0] = "bystander"
        bystander = await CtapHidDevice.open(conn, timeout=0.3)
        assert bystander.channel_id == 8
        for bad, message in [
            ("badseq", "sequence"),
            ("toolong", "exceeds"),
            ("wrongcmd", "answer of command 0x08"),
        ]:
            mode[0] = bad
            with anyio.fail_after(1), pytest.raises(CtapHidProtocolError, match=message):
                await dev.ping(b"yy")
            assert await bystander.ping(b"ok") == b"ok"  # only the affected call failed
        mode[0] = "contnoinit"  # a stray continuation is dropped, not taken for an answer
        with anyio.fail_after(1), pytest.raises(CtapHidTimeout):
            await dev.ping(b"yy")
        assert await bystander.ping(b"ok") == b"ok"
        mode[0] = "error"
        with pytest.raises(CtapError) as e:
            await dev.ping(b"zz")
        assert e.value.code == CtapError.ERR.INVALID_CHANNEL
        mode[0] = "silent"
        t0 = anyio.current_time()
        with anyio.fail_after(1), pytest.raises(CtapHidTimeout):
            await dev.ping(b"zz")
        assert 0.25 <= anyio.current_time() - t0 < 0.6  # no hang past the call's timeout
        mode[0] = "ok"
        assert await dev.ping(b"ok") == b"ok"
        tg.cancel_scope.cancel()


async def test_init_with_wrong_nonce_or_no_answer_times_out() -> None:
    async with raw_link("memory") as (conn, dev_side), anyio.create_task_group() as tg:

        async def wrong_nonce_device() -> None:
            while True:
                for _ in await dev_side.receive_packets():
                    payload = b"wrongnon" + struct.pack(">IB3BB", 5, 2, 1, 0, 0, 5)
                    await dev_side.send_packet(frame(BROADCAST_CID, CTAPHID.INIT, payload)[0])

        tg.start_soon(wrong_nonce_device)
        t0 = anyio.current_time()
        with anyio.fail_after(1), pytest.raises(CtapHidTimeout):
            await CtapHidDevice.open(conn, timeout=0.2)
        assert anyio.current_time() - t0 < 0.5
        assert conn.dropped_packets >= 1
        tg.cancel_scope.cancel()
    async with raw_link("udp") as (conn, _):  # a UDP port where nothing answers at all
        with anyio.fail_after(1), pytest.raises(CtapHidTimeout):
            await CtapHidDevice.open(conn, timeout=0.2)


class ScriptedTransport:
    """Host-side transport whose device answers every message with the packets a test scripts.

    Unlike the real backends it lets any bytes through (short, long, empty reports).
    """

    packet_size = 64

    def __init__(self, script: list[list[bytes]]) -> None:
        self.script = script
        self._send, self._receive = anyio.create_memory_object_stream[list[bytes]](100)

    async def send_packet(self, packet: bytes) -> None:
        cid, cmd = struct.unpack_from(">IB", packet)
        if cmd & 0x80:
            if cmd & 0x7F == CTAPHID.INIT:
                payload = packet[7:15] + struct.pack(">IB3BB", 7, 2, 1, 0, 0, 5)
                await self._send.send(frame(cid, CTAPHID.INIT, payload))
            elif cmd & 0x7F != CTAPHID.CANCEL and self.script:  # CANCEL has no answer of its own
                await self._send.send(self.script.pop(0))

    async def receive_packets(self) -> list[bytes]:
        try:
            return await self._receive.receive()
        except (anyio.EndOfStream, anyio.ClosedResourceError):
            raise TransportError("closed") from None

    async def aclose(self) -> None:
        self._send.close()
        self._receive.close()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(st.binary(max_size=80), max_size=5), min_size=1, max_size=4))
async def test_any_device_bytes_give_a_result_or_a_typed_error(script: list[list[bytes]]) -> None:
    transport = ScriptedTransport([list(s) for s in script] + [frame(7, CTAPHID.PING, b"ok")])
    async with HidConnection.open(transport) as conn:
        dev = await CtapHidDevice.open(conn)  # (a 20 ms INIT timed out now and then on a loaded machine)
        dev.timeout = 0.02  # a scripted answer that is no answer at all times out quickly
        for _ in script:
            with anyio.fail_after(1):
                try:
                    await dev.call(CTAPHID.PING, b"ok")
                except (CtapHidProtocolError, CtapError, CtapHidTimeout):
                    pass
        # the reader task survived: the last scripted answer is a good one
        dev.timeout = 0.5
        with anyio.fail_after(1):
            assert await dev.call(CTAPHID.PING, b"ok") == b"ok"


async def test_wink_and_lock(echo_app: Any) -> None:
    async with memory_link(echo_app) as (conn, _):
        a = await CtapHidDevice.open(conn)
        b = await CtapHidDevice.open(conn)
        await a.wink()
        assert echo_app.winks == 1
        await a.lock(5)
        with pytest.raises(CtapError) as e:
            await b.ping(b"x")
        assert e.value.code == CtapError.ERR.LOCK_REQUIRED
        await a.lock(0)
        assert await b.ping(b"x") == b"x"


async def test_power_cycle_forgets_channels(echo_app: Any) -> None:
    async with memory_link(echo_app) as (conn, server):
        a = await CtapHidDevice.open(conn)
        server.power_cycle()
        assert echo_app.power_cycles == 1
        with pytest.raises(CtapError) as e:
            await a.ping(b"x")
        assert e.value.code == CtapError.ERR.INVALID_CHANNEL


def test_bad_addresses() -> None:
    from aioctap.hid.address import parse_address

    for bad in ("", "usb:x", "udp:host", "udp:host:99999", "hid:"):
        with pytest.raises(ValueError, match="udp:HOST:PORT"):
            parse_address(bad)
    assert parse_address("udp:127.0.0.1:8111") == ("udp", "127.0.0.1:8111")
    assert parse_address("virtual:/tmp/x") == ("virtual", "/tmp/x")


# -- keepalives -----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", BACKENDS)
async def test_on_keepalive_once_per_change_of_status(echo_app: Any, kind: str) -> None:
    async with echo_link(kind, echo_app) as (conn, _):
        dev = await CtapHidDevice.open(conn, timeout=0.2)  # shorter than the call: keepalives extend it
        statuses: list[STATUS] = []
        assert await dev.call(CTAPHID.CBOR, b"\xfc", on_keepalive=statuses.append) == b"\x00\xfc"
        assert statuses == [STATUS.UPNEEDED, STATUS.PROCESSING]


async def test_keepalive_iterator_yields_each_change(echo_app: Any) -> None:
    async with memory_link(echo_app) as (conn, _):
        dev = await CtapHidDevice.open(conn)
        stream = dev.stream_call(CTAPHID.CBOR, b"\xfc")
        assert [s async for s in stream] == [STATUS.UPNEEDED, STATUS.PROCESSING]
        assert stream.result == b"\x00\xfc"


async def test_keepalive_iterator_left_midway_cancels_the_call(echo_app: Any) -> None:
    async with memory_link(echo_app) as (conn, _):
        dev = await CtapHidDevice.open(conn)
        async with aclosing(aiter(dev.stream_call(CTAPHID.CBOR, b"\xfe"))) as statuses:
            async for status in statuses:
                assert status == STATUS.UPNEEDED
                break
        with anyio.fail_after(2):
            while echo_app.cancelled == 0:
                await anyio.sleep(0.01)
        assert await dev.call(CTAPHID.CBOR, b"\x03") == b"\x00\x03"


async def test_keepalive_iterator_raises_the_call_error(echo_app: Any) -> None:
    async with memory_link(echo_app) as (conn, server):
        dev = await CtapHidDevice.open(conn)
        server.power_cycle()  # the channel is gone: INVALID_CHANNEL
        with pytest.raises(CtapError) as e:
            async for _ in dev.stream_call(CTAPHID.CBOR, b"\x01"):
                pass
        assert e.value.code == CtapError.ERR.INVALID_CHANNEL


# -- device side through its shell ----------------------------------------------------------------


async def test_device_channel_busy_while_another_channel_runs(echo_app: Any) -> None:
    async with memory_link(echo_app) as (conn, _):
        a = await CtapHidDevice.open(conn)
        b = await CtapHidDevice.open(conn, timeout=0.2)
        async with anyio.create_task_group() as tg:
            tg.start_soon(a.call, CTAPHID.CBOR, b"\xfe")
            await anyio.sleep(0.05)
            with pytest.raises(CtapError) as e:
                await conn.transact(b.channel_id, CTAPHID.PING, b"x")
            assert e.value.code == CtapError.ERR.CHANNEL_BUSY
            with pytest.raises(CtapError) as e:  # CtapHidDevice.call retries BUSY until its timeout
                await b.ping(b"x")
            assert e.value.code == CtapError.ERR.CHANNEL_BUSY
            tg.cancel_scope.cancel()
        assert await b.ping(b"x") == b"x"


async def raw_init(host: Any) -> int:
    await host.send_packet(frame(BROADCAST_CID, CTAPHID.INIT, b"12345678")[0])
    (answer,) = await host.receive_packets()
    return int(struct.unpack_from(">I", answer, 15)[0])


async def test_device_msg_timeout_and_invalid_seq(echo_app: Any) -> None:
    host, dev = memory_pair()
    server = CtapHidServer(echo_app)
    async with anyio.create_task_group() as tg:
        tg.start_soon(server.serve, dev)
        cid = await raw_init(host)
        packets = frame(cid, CTAPHID.PING, b"z" * 200)
        # a message left incomplete: MSG_TIMEOUT after the device's message timeout (0.5 s)
        await host.send_packet(packets[0])
        t0 = anyio.current_time()
        with anyio.fail_after(2):
            (answer,) = await host.receive_packets()
        assert answer[:7] == struct.pack(">IBH", cid, 0x80 | CTAPHID.ERROR, 1)
        assert answer[7] == 0x05  # ERR_MSG_TIMEOUT
        assert anyio.current_time() - t0 >= 0.4
        # a continuation out of sequence: INVALID_SEQ at once
        await host.send_packet(packets[0])
        await host.send_packet(packets[2])
        with anyio.fail_after(1):
            (answer,) = await host.receive_packets()
        assert answer[4] == 0x80 | CTAPHID.ERROR and answer[7] == 0x04  # ERR_INVALID_SEQ
        # and the channel works afterwards
        for p in packets:
            await host.send_packet(p)
        got = Reassembler()
        message = None
        with anyio.fail_after(1):
            while message is None:
                for p in await host.receive_packets():
                    message = got.feed(parse_packet(p))
        assert message.data == b"z" * 200
        tg.cancel_scope.cancel()


# -- the generic (non-asyncio) path of the shell --------------------------------------------------


@pytest.fixture
def generic_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the router and the UDP backend believe no asyncio loop runs: they take the anyio path
    (events, a cancel scope per wait, ``wait_readable``) that other anyio backends use."""
    import types

    from aioctap.hid import router
    from aioctap.hid.backends import udp

    def no_loop() -> None:
        raise RuntimeError("no running event loop")

    stub = types.SimpleNamespace(get_running_loop=no_loop)
    monkeypatch.setattr(router, "asyncio", stub)
    monkeypatch.setattr(udp, "asyncio", stub)


@pytest.mark.usefixtures("generic_path")
@pytest.mark.parametrize("kind", BACKENDS)
async def test_transport_generic_anyio_path(kind: str) -> None:
    from .conftest import EchoApp

    app = EchoApp()
    async with echo_link(kind, app) as (conn, _):
        assert conn._loop is None
        dev = await CtapHidDevice.open(conn, timeout=0.3)
        assert await dev.ping(bytes(range(256)) * 4) == bytes(range(256)) * 4
        statuses: list[STATUS] = []
        assert await dev.call(CTAPHID.CBOR, b"\xfd", on_keepalive=statuses.append) == b"\x00\xfd"
        assert statuses == [STATUS.PROCESSING]
        with anyio.move_on_after(0.3):
            await dev.call(CTAPHID.CBOR, b"\xfe")
        assert await dev.call(CTAPHID.CBOR, b"\x01") == b"\x00\x01"
        assert app.cancelled == 1
    async with raw_link(kind) as (conn, dev_side), anyio.create_task_group() as tg:
        tg.start_soon(silent_device, dev_side)
        dev = await CtapHidDevice.open(conn, timeout=0.2)
        with anyio.fail_after(1), pytest.raises(CtapHidTimeout):
            await dev.ping(b"nobody answers")
        await (dev_side.aclose() if kind == "memory" else conn.transport.aclose())
        with anyio.fail_after(1), pytest.raises(TransportError):
            await dev.ping(b"gone")
        tg.cancel_scope.cancel()


@pytest.mark.parametrize("kind", BACKENDS)
async def test_calls_on_one_channel_queue_in_order(kind: str, echo_app: Any) -> None:
    """One channel, many tasks: each call gets its own answer, one at a time, in the order they came;
    a queued caller that is cancelled leaves the queue and the others go on."""
    async with echo_link(kind, echo_app) as (conn, _):
        dev = await CtapHidDevice.open(conn)
        done: list[int] = []

        async def caller(i: int, payload: bytes) -> None:
            assert await dev.call(CTAPHID.CBOR, payload) == b"\x00" + payload
            done.append(i)

        async with anyio.create_task_group() as tg:
            tg.start_soon(caller, 0, b"\xfd")  # holds the channel for 0.35 s
            await anyio.sleep(0.05)
            doomed = anyio.CancelScope()

            async def cancelled_caller() -> None:
                with doomed:
                    await caller(99, b"\x63")

            tg.start_soon(cancelled_caller)
            for i in range(1, 11):
                tg.start_soon(caller, i, bytes([i]))
                await anyio.sleep(0)
            await anyio.sleep(0.05)
            doomed.cancel()  # queued behind call 0: never sent
        assert done == list(range(11))
        # a free channel again: taken at once, and a call waiting behind it still gets its turn
        async with anyio.create_task_group() as tg:
            tg.start_soon(caller, 11, b"\xfd")
            await anyio.sleep(0.05)
            tg.start_soon(caller, 12, b"\x0c")
        assert done[-2:] == [11, 12]
