"""End to end through the reader task, over the in-memory and the UDP backend."""

from __future__ import annotations

import struct
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import pytest

import aioctap
from aioctap.ctap import STATUS, CtapError, TransportError
from aioctap.hid.backends.memory import memory_pair
from aioctap.hid.device import CtapHidDevice
from aioctap.hid.device_side import CtapHidServer
from aioctap.hid.protocol import CTAPHID, frame
from aioctap.hid.router import CtapHidTimeout, HidConnection


@asynccontextmanager
async def memory_link(app: Any) -> AsyncIterator[tuple[HidConnection, CtapHidServer]]:
    host, dev = memory_pair()
    server = CtapHidServer(app)
    async with anyio.create_task_group() as tg:
        tg.start_soon(server.serve, dev)
        async with HidConnection.open(host) as conn:
            yield conn, server
        tg.cancel_scope.cancel()


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


async def test_64_channels_on_one_transport(echo_app: Any) -> None:
    async with memory_link(echo_app) as (conn, _):
        devices = [await CtapHidDevice.open(conn) for _ in range(64)]
        assert len({d.channel_id for d in devices}) == 64
        results: dict[int, bytes] = {}

        async def work(i: int, d: CtapHidDevice) -> None:
            results[i] = await d.ping(bytes([i]) * 300)

        async with anyio.create_task_group() as tg:
            for i, d in enumerate(devices):
                tg.start_soon(work, i, d)
        assert results == {i: bytes([i]) * 300 for i in range(64)}


async def test_16_devices_over_udp(echo_app: Any) -> None:
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


async def test_cancel_while_keepalives_then_next_call_works(echo_app: Any) -> None:
    async with memory_link(echo_app) as (conn, _):
        dev = await CtapHidDevice.open(conn)
        statuses: list[STATUS] = []
        with anyio.move_on_after(0.5) as scope:
            await dev.call(CTAPHID.CBOR, b"\xfe", on_keepalive=statuses.append)
        assert scope.cancelled_caught
        assert statuses == [STATUS.UPNEEDED]  # once per change of status
        assert echo_app.cancelled == 1
        assert await dev.call(CTAPHID.CBOR, b"\x01") == b"\x00\x01"


async def test_cancel_by_task_cancellation_over_udp(udp_server: Any, echo_app: Any) -> None:
    async with udp_server(echo_app) as (host, port), aioctap.open_device(f"udp:{host}:{port}") as dev:
        async with anyio.create_task_group() as tg:
            tg.start_soon(dev.call, CTAPHID.CBOR, b"\xfe")
            await anyio.sleep(0.3)
            tg.cancel_scope.cancel()
        assert echo_app.cancelled == 1
        assert await dev.call(CTAPHID.CBOR, b"\x02") == b"\x00\x02"


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


async def test_transport_loss_fails_all_pending() -> None:
    host, dev_side = memory_pair()
    async with HidConnection.open(host) as conn, anyio.create_task_group() as outer:
        outer.start_soon(silent_device, dev_side)
        devices = [await CtapHidDevice.open(conn) for _ in range(10)]
        errors: list[BaseException] = []

        async def work(d: CtapHidDevice) -> None:
            try:
                await d.call(CTAPHID.CBOR, b"\xfe")
            except TransportError as e:
                errors.append(e)

        async with anyio.create_task_group() as tg:
            for d in devices:
                tg.start_soon(work, d)
            await anyio.sleep(0.2)
            await dev_side.aclose()
        assert len(errors) == 10
        with pytest.raises(TransportError):
            await devices[0].ping(b"late")
        outer.cancel_scope.cancel()


async def test_unknown_channel_packets_are_dropped() -> None:
    host, dev_side = memory_pair()
    async with HidConnection.open(host) as conn, anyio.create_task_group() as tg:

        async def fake_device() -> None:
            while True:
                for p in await dev_side.receive_packets():
                    cid, cmd = struct.unpack_from(">IB", p)
                    if cmd & 0x7F == CTAPHID.INIT:
                        nonce = p[7:15]
                        payload = nonce + struct.pack(">IB3BB", 7, 2, 1, 0, 0, 5)
                        # noise first: an answer with the wrong nonce, then a stray channel
                        await dev_side.send_packet(frame(cid, CTAPHID.INIT, b"x" * 8 + payload[8:])[0])
                        await dev_side.send_packet(frame(99, CTAPHID.PING, b"noise")[0])
                        await dev_side.send_packet(frame(cid, CTAPHID.INIT, payload)[0])
                    else:
                        await dev_side.send_packet(frame(99, CTAPHID.PING, b"noise")[0])
                        await dev_side.send_packet(b"\x00\x00\x00\x63\x05" + b"\0" * 59)  # stray continuation
                        for q in frame(cid, CTAPHID.PING, b"real"):
                            await dev_side.send_packet(q)

        tg.start_soon(fake_device)
        dev = await CtapHidDevice.open(conn)
        assert dev.channel_id == 7
        assert await dev.ping(b"real") == b"real"
        assert conn.dropped_packets >= 3
        tg.cancel_scope.cancel()


async def test_garbage_from_device_fails_only_that_call() -> None:
    host, dev_side = memory_pair()
    async with HidConnection.open(host) as conn, anyio.create_task_group() as tg:
        mode = ["init"]

        async def fake_device() -> None:
            while True:
                for p in await dev_side.receive_packets():
                    cid, cmd = struct.unpack_from(">IB", p)
                    if cmd & 0x7F == CTAPHID.INIT:
                        payload = p[7:15] + struct.pack(">IB3BB", 7, 2, 1, 0, 0, 5)
                        await dev_side.send_packet(frame(cid, CTAPHID.INIT, payload)[0])
                    elif mode[0] == "badseq":
                        packets = frame(cid, CTAPHID.PING, b"y" * 200)
                        await dev_side.send_packet(packets[0])
                        await dev_side.send_packet(packets[2])
                    elif mode[0] == "toolong":
                        await dev_side.send_packet(struct.pack(">IBH", cid, 0x81, 7610) + b"\0" * 57)
                    elif mode[0] == "contnoinit":
                        await dev_side.send_packet(struct.pack(">IB", cid, 0) + b"\0" * 59)
                    elif mode[0] == "error":
                        await dev_side.send_packet(frame(cid, CTAPHID.ERROR, b"\x06")[0])
                    elif mode[0] == "ok":
                        for q in frame(cid, CTAPHID.PING, p[7 : 7 + 2]):
                            await dev_side.send_packet(q)

        tg.start_soon(fake_device)
        dev = await CtapHidDevice.open(conn, timeout=0.3)
        for bad in ("badseq", "toolong", "contnoinit"):
            mode[0] = bad
            with pytest.raises(ValueError):  # CtapHidProtocolError
                await dev.ping(b"yy")
        mode[0] = "error"
        with pytest.raises(CtapError) as e:
            await dev.ping(b"zz")
        assert e.value.code == CtapError.ERR.CHANNEL_BUSY
        mode[0] = "silent"
        with pytest.raises(CtapHidTimeout):
            await dev.ping(b"zz")
        mode[0] = "ok"
        assert await dev.ping(b"ok") == b"ok"
        tg.cancel_scope.cancel()


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
