"""The device-side shell: the order of the reports it sends, and in-memory delivery."""

from __future__ import annotations

import socket
import struct
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

import anyio
import pytest

from aioctap.ctap import STATUS, TransportError
from aioctap.hid.backends.memory import memory_pair
from aioctap.hid.device import CtapHidDevice
from aioctap.hid.device_side import CtapHidApplication, CtapHidServer
from aioctap.hid.protocol import BROADCAST_CID, CAPABILITY, CTAPHID, frame
from aioctap.hid.router import HidConnection
from aioctap.hid.transport import TransportClosed

ANSWER = bytes(i % 251 for i in range(1000))  # 17 reports at 64 bytes


class StatusThenAnswer:
    """Changes its status (as right after a touch) and answers at once with a long message."""

    capabilities: int = CAPABILITY.CBOR

    def __init__(self) -> None:
        self.after_answer: Callable[[STATUS], None] | None = None

    async def handle(self, cmd: int, payload: bytes, set_status: Callable[[STATUS], None]) -> bytes:
        set_status(STATUS.UPNEEDED)
        await anyio.lowlevel.checkpoint()
        set_status(STATUS.PROCESSING)
        set_status(STATUS.UPNEEDED)
        self.after_answer = set_status
        return b"\x00" + ANSWER

    def wink(self) -> None:
        pass

    def power_cycle(self) -> None:
        pass


def check_order(packets: list[bytes], cid: int, count: int = 17) -> None:
    """Every KEEPALIVE comes before the answer's first report; the answer's reports are contiguous."""
    kinds = [p[4] for p in packets if struct.unpack_from(">I", p)[0] == cid]
    keepalive = 0x80 | CTAPHID.KEEPALIVE
    start = kinds.index(0x80 | CTAPHID.CBOR)
    assert keepalive in kinds[:start]
    assert kinds[start + 1 :] == list(range(len(kinds) - start - 1)), kinds
    assert len(kinds) - start == count


@asynccontextmanager
async def raw_memory_host(
    app: CtapHidApplication,
) -> AsyncIterator[tuple[Callable[[bytes], Awaitable[None]], list[bytes]]]:
    host, dev = memory_pair()
    server = CtapHidServer(app)
    received: list[bytes] = []
    async with anyio.create_task_group() as tg:
        tg.start_soon(server.serve, dev)

        async def send(packet: bytes) -> None:
            await host.send_packet(packet)

        async def read() -> None:
            while True:
                received.extend(await host.receive_packets())

        tg.start_soon(read)
        yield send, received
        tg.cancel_scope.cancel()


async def answer_order_memory() -> None:
    app = StatusThenAnswer()
    async with raw_memory_host(app) as (send, received):
        await send(frame(BROADCAST_CID, CTAPHID.INIT, b"12345678")[0])
        with anyio.fail_after(2):
            while not received:
                await anyio.sleep(0.001)
        cid = struct.unpack_from(">I", received[0], 15)[0]
        for p in frame(cid, CTAPHID.CBOR, b"\x01"):
            await send(p)
        with anyio.fail_after(2):
            while not any(p[4] == 15 for p in received):  # the answer's last report
                await anyio.sleep(0.001)
        await anyio.sleep(0.02)  # a stray keepalive would arrive now
        assert app.after_answer is not None
        app.after_answer(STATUS.PROCESSING)  # after the answer: dropped
        await anyio.sleep(0.02)
        check_order(received, cid)
        assert received[-1][4] == 15  # nothing after the answer's last report


async def test_keepalive_never_interleaves_the_answer_memory() -> None:
    for _ in range(5):
        await answer_order_memory()


async def test_keepalive_never_interleaves_the_answer_udp() -> None:
    app = StatusThenAnswer()
    server = CtapHidServer(app)
    async with anyio.create_task_group() as tg:
        addr = await tg.start(server.serve_udp, "127.0.0.1", 0)
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.setblocking(False)
        try:
            sock.connect(addr)
            received: list[bytes] = []

            async def read_until(count: int) -> None:
                with anyio.fail_after(2):
                    while len(received) < count:
                        await anyio.wait_readable(sock)
                        while True:
                            try:
                                received.append(sock.recv(2048))
                            except BlockingIOError:
                                break

            sock.send(frame(BROADCAST_CID, CTAPHID.INIT, b"12345678")[0])
            await read_until(1)
            cid = struct.unpack_from(">I", received[0], 15)[0]
            for _ in range(3):
                del received[:]
                for p in frame(cid, CTAPHID.CBOR, b"\x01"):
                    sock.send(p)
                await read_until(18)
                await anyio.sleep(0.02)
                check_order(received, cid)
        finally:
            sock.close()
        tg.cancel_scope.cancel()


async def test_status_changes_reach_the_host_in_order() -> None:
    app = StatusThenAnswer()
    host, dev = memory_pair()
    server = CtapHidServer(app)
    async with anyio.create_task_group() as tg:
        tg.start_soon(server.serve, dev)
        async with HidConnection.open(host) as conn:
            device = await CtapHidDevice.open(conn)
            seen: list[STATUS] = []
            assert await device.call(CTAPHID.CBOR, b"\x01", on_keepalive=seen.append) == b"\x00" + ANSWER
            assert seen == [STATUS.UPNEEDED, STATUS.PROCESSING, STATUS.UPNEEDED]
            assert conn.dropped_packets == 0
        tg.cancel_scope.cancel()


async def test_periodic_keepalives_come_before_the_answer(echo_app: Any) -> None:
    """The ticker's KEEPALIVEs (every 0.1 s while the request runs) stop before the answer starts."""
    payload = b"\xfd" + bytes(1500)  # EchoApp: answers after 0.35 s; 1502 bytes = 26 reports
    async with raw_memory_host(echo_app) as (send, received):
        await send(frame(BROADCAST_CID, CTAPHID.INIT, b"12345678")[0])
        with anyio.fail_after(2):
            while not received:
                await anyio.sleep(0.001)
        cid = struct.unpack_from(">I", received[0], 15)[0]
        for p in frame(cid, CTAPHID.CBOR, payload):
            await send(p)
        with anyio.fail_after(3):
            while not any(p[4] == 24 for p in received):
                await anyio.sleep(0.005)
        await anyio.sleep(0.25)  # a late ticker keepalive would arrive now
        keepalives = [p for p in received if p[4] == 0x80 | CTAPHID.KEEPALIVE]
        assert len(keepalives) >= 2
        check_order(received, cid, count=26)
        assert received[-1][4] == 24


class Recorder:
    """Counts its calls; answers with ``size`` bytes."""

    capabilities: int = CAPABILITY.CBOR

    def __init__(self, size: int = 10) -> None:
        self.calls = 0
        self.size = size

    async def handle(self, cmd: int, payload: bytes, set_status: Callable[[STATUS], None]) -> bytes:
        self.calls += 1
        return b"\x00" + bytes(self.size)

    def wink(self) -> None:
        pass

    def power_cycle(self) -> None:
        pass


async def raw_answer(received: list[bytes], cid: int) -> tuple[int, bytes]:
    from aioctap.hid.protocol import Reassembler, parse_packet

    with anyio.fail_after(2):
        while True:
            reassembler = Reassembler()
            for p in received:
                if struct.unpack_from(">I", p)[0] == cid and p[4] != 0x80 | CTAPHID.KEEPALIVE:
                    message = reassembler.feed(parse_packet(p))
                    if message is not None:
                        return message.cmd, message.data
            await anyio.sleep(0.002)


async def raw_channel(send: Callable[[bytes], Awaitable[None]], received: list[bytes]) -> int:
    await send(frame(BROADCAST_CID, CTAPHID.INIT, b"12345678")[0])
    with anyio.fail_after(2):
        while not received:
            await anyio.sleep(0.001)
    cid: int = struct.unpack_from(">I", received.pop(0), 15)[0]
    return cid


class Waiter(Recorder):
    """Counts its calls, waits once (a checkpoint), counts the calls that got past the wait."""

    eager_start = True

    def __init__(self) -> None:
        super().__init__()
        self.finished = 0

    async def handle(self, cmd: int, payload: bytes, set_status: Callable[[STATUS], None]) -> bytes:
        self.calls += 1
        await anyio.sleep(0)
        self.finished += 1
        return b"\x00" + bytes(self.size)


@pytest.mark.asyncio_only(reason="eager start of requests (eager_start) is asyncio's: on trio they start in the worker")
async def test_cancel_before_the_request_started() -> None:
    """A CANCEL that comes before the worker goes on with a request (started at once, now waiting)."""
    app = Waiter()
    async with raw_memory_host(app) as (send, received):
        cid = await raw_channel(send, received)
        await send(frame(cid, CTAPHID.CBOR, b"\x01")[0])
        await send(frame(cid, CTAPHID.CANCEL, b"")[0])  # the worker has not had a turn yet
        assert await raw_answer(received, cid) == (CTAPHID.CBOR, b"\x2d")  # CTAP2_ERR_KEEPALIVE_CANCEL
        await anyio.sleep(0.02)
        assert (app.calls, app.finished) == (1, 0)
        del received[:]
        await send(frame(cid, CTAPHID.CBOR, b"\x01")[0])  # the channel is free again
        assert await raw_answer(received, cid) == (CTAPHID.CBOR, b"\x00" + bytes(10))
        assert (app.calls, app.finished) == (2, 1)


@pytest.mark.asyncio_only(reason="eager start of requests (eager_start) is asyncio's: on trio they start in the worker")
async def test_request_answered_before_the_send_returns() -> None:
    """An application that never waits is run in the sender's task: the answer is there when send returns."""
    app = Recorder()
    app.eager_start = True  # type: ignore[attr-defined]
    async with raw_memory_host(app) as (send, received):
        cid = await raw_channel(send, received)
        await send(frame(cid, CTAPHID.CBOR, b"\x01")[0])
        assert app.calls == 1
        assert await raw_answer(received, cid) == (CTAPHID.CBOR, b"\x00" + bytes(10))


class Failing(Recorder):
    eager_start = True

    async def handle(self, cmd: int, payload: bytes, set_status: Callable[[STATUS], None]) -> bytes:
        self.calls += 1
        if self.calls == 1:
            raise RuntimeError("boom before any wait")
        await anyio.sleep(0)
        raise RuntimeError("boom after a wait")


async def test_application_failure_before_and_after_its_first_wait() -> None:
    app = Failing()
    async with raw_memory_host(app) as (send, received):
        cid = await raw_channel(send, received)
        for _ in range(2):
            del received[:]
            await send(frame(cid, CTAPHID.CBOR, b"\x01")[0])
            assert await raw_answer(received, cid) == (CTAPHID.CBOR, b"\x7f")  # CTAP1_ERR_OTHER


class Blocked(Recorder):
    """Waits for an event that never comes; records how its coroutine ended."""

    eager_start = True

    def __init__(self) -> None:
        super().__init__()
        self.closed = 0

    async def handle(self, cmd: int, payload: bytes, set_status: Callable[[STATUS], None]) -> bytes:
        self.calls += 1
        try:
            await anyio.Event().wait()
        except GeneratorExit:
            self.closed += 1
            raise
        return b"\x00"


@pytest.mark.asyncio_only(reason="eager start of requests (eager_start) is asyncio's: on trio they start in the worker")
async def test_power_cycle_closes_a_started_request_still_queued() -> None:
    app = Blocked()
    server = CtapHidServer(app)
    host, device_side = memory_pair()
    async with anyio.create_task_group() as tg:
        tg.start_soon(server.serve, device_side)
        await anyio.sleep(0.01)
        await host.send_packets(frame(BROADCAST_CID, CTAPHID.INIT, b"12345678"))
        (answer,) = await host.receive_packets()
        cid = struct.unpack_from(">I", answer, 15)[0]
        await host.send_packets(frame(cid, CTAPHID.CBOR, b"\x01"))  # started, now waiting in the queue
        assert app.calls == 1
        server.power_cycle()  # before the worker's turn
        assert app.closed == 1
        tg.cancel_scope.cancel()


async def test_answer_too_long_for_ctaphid_is_an_error_not_a_crash() -> None:
    app = Recorder(size=8000)
    async with raw_memory_host(app) as (send, received):
        cid = await raw_channel(send, received)
        await send(frame(cid, CTAPHID.CBOR, b"\x01")[0])
        assert await raw_answer(received, cid) == (CTAPHID.CBOR, b"\x7f")  # CTAP1_ERR_OTHER
        del received[:]
        app.size = 10
        await send(frame(cid, CTAPHID.CBOR, b"\x01")[0])  # the server still runs
        assert await raw_answer(received, cid) == (CTAPHID.CBOR, b"\x00" + bytes(10))


# -- the in-memory transport -------------------------------------------------------------------


async def test_memory_receiver_gets_packets_in_the_senders_task() -> None:
    a, b = memory_pair()
    got: list[bytes] = []
    await a.send_packet(bytes(64))  # queued: no receiver yet
    b.set_receiver(got.extend)  # the queue is handed over at once
    assert got == [bytes(64)]
    await a.send_packets([b"\x01" * 64, b"\x02" * 64])
    assert got[1:] == [b"\x01" * 64, b"\x02" * 64]
    b.set_receiver(None)
    a.send_packets_nowait([b"\x03" * 64])
    assert got[3:] == [] and list(await b.receive_packets()) == [b"\x03" * 64]


async def test_memory_receiver_failure_is_contained() -> None:
    a, b = memory_pair()

    def broken(packets: Sequence[bytes]) -> None:
        raise RuntimeError("receiver bug")

    b.set_receiver(broken)
    await a.send_packet(bytes(64))  # logged, not raised into the sender
    b.set_receiver(None)
    await a.send_packet(b"\x01" * 64)
    assert list(await b.receive_packets()) == [b"\x01" * 64]


async def test_memory_bad_size_and_close() -> None:
    a, b = memory_pair()
    with pytest.raises(ValueError, match="64 bytes"):
        await a.send_packet(b"short")
    b.set_receiver(lambda p: None)
    async with anyio.create_task_group() as tg:
        ended: list[BaseException] = []

        async def wait_end() -> None:
            try:
                await b.receive_packets()
            except TransportClosed as e:
                ended.append(e)

        tg.start_soon(wait_end)
        await anyio.sleep(0.01)
        await a.aclose()
    assert len(ended) == 1 and isinstance(ended[0], TransportError)
    with pytest.raises(TransportClosed):
        await b.send_packet(bytes(64))
    with pytest.raises(TransportClosed):
        await a.send_packet(bytes(64))


async def test_memory_backpressure_without_receiver() -> None:
    a, b = memory_pair(buffer=4)
    done = anyio.Event()

    async def flood() -> None:
        for i in range(10):
            await a.send_packet(bytes([i]) * 64)
        done.set()

    got: list[bytes] = []
    async with anyio.create_task_group() as tg:
        tg.start_soon(flood)
        await anyio.sleep(0.01)
        assert not done.is_set()  # blocked at 4 queued reports
        with anyio.fail_after(2):
            while len(got) < 10:
                got.extend(await b.receive_packets())
    assert got == [bytes([i]) * 64 for i in range(10)]


async def test_in_memory_device_still_yields_to_other_tasks() -> None:
    """A PING answered during the send still lets the loop run, so timeouts can fire."""
    from aioctap.hid.protocol import CAPABILITY as CAP

    class Echo:
        capabilities: int = CAP.CBOR

        async def handle(self, cmd: int, payload: bytes, set_status: Callable[[STATUS], None]) -> bytes:
            return b"\x00" + payload

        def wink(self) -> None:
            pass

        def power_cycle(self) -> None:
            pass

    host, dev = memory_pair()
    server = CtapHidServer(Echo())
    async with anyio.create_task_group() as tg:
        tg.start_soon(server.serve, dev)
        async with HidConnection.open(host) as conn:
            device = await CtapHidDevice.open(conn)
            count = 0
            with anyio.move_on_after(0.05):
                while True:
                    await device.ping(b"x")
                    count += 1
            assert count > 0
        tg.cancel_scope.cancel()


class PlainTransport:
    """Only the PacketTransport protocol (no push delivery, no nowait send): the shell's generic path."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.packet_size = inner.packet_size
        self.sent = 0

    async def send_packet(self, packet: bytes) -> None:
        self.sent += 1
        await anyio.lowlevel.checkpoint()  # a send that really yields, like a slow device link
        await self.inner.send_packet(packet)

    async def receive_packets(self) -> Sequence[bytes]:
        packets: Sequence[bytes] = await self.inner.receive_packets()
        return packets

    async def aclose(self) -> None:
        await self.inner.aclose()


async def test_server_over_a_plain_transport_keeps_the_order() -> None:
    app = StatusThenAnswer()
    host, dev = memory_pair()
    plain = PlainTransport(dev)
    server = CtapHidServer(app)
    async with anyio.create_task_group() as tg:
        tg.start_soon(server.serve, plain)
        async with HidConnection.open(host) as conn:
            device = await CtapHidDevice.open(conn)
            for _ in range(3):
                seen: list[STATUS] = []
                assert await device.call(CTAPHID.CBOR, b"\x01", on_keepalive=seen.append) == b"\x00" + ANSWER
                assert seen == [STATUS.UPNEEDED, STATUS.PROCESSING, STATUS.UPNEEDED]
            assert await device.ping(bytes(3000)) == bytes(3000)
            assert conn.dropped_packets == 0
        assert plain.sent > 3 * 17
        tg.cancel_scope.cancel()


async def test_calls_answered_during_the_send_still_yield_to_the_loop() -> None:
    """An in-memory device answers before the send returns; a tight loop of calls must not starve the loop."""
    from aioctap.virtual import open_virtual_device

    ticks = 0
    calls = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await anyio.sleep(0)
            ticks += 1

    async with open_virtual_device() as dev, anyio.create_task_group() as tg:
        tg.start_soon(ticker)
        with anyio.move_on_after(0.05):  # the timeout fires: the loop ran
            while True:
                await dev.call(CTAPHID.PING, b"x")
                calls += 1
        tg.cancel_scope.cancel()
    assert calls > 10
    assert ticks > 5  # the other task ran during the loop of calls
