"""The UDP backend's fast paths: sending without waiting, and draining up to a whole short message."""

from __future__ import annotations

import socket
from collections.abc import Sequence
from typing import Any

import anyio
import pytest

from aioctap.hid.backends.udp import UdpTransport
from aioctap.hid.device import CtapHidDevice
from aioctap.hid.device_side import CtapHidServer
from aioctap.hid.protocol import CTAPHID, frame
from aioctap.hid.router import HidConnection
from aioctap.hid.transport import TransportClosed


class _FullAfter:
    """A socket stand-in whose send buffer is full after ``room`` datagrams."""

    def __init__(self, room: int) -> None:
        self.room = room
        self.sent: list[bytes] = []

    def send(self, data: bytes) -> int:
        if len(self.sent) >= self.room:
            raise BlockingIOError
        self.sent.append(data)
        return len(data)


async def test_try_send_packets_stops_when_the_socket_buffer_is_full() -> None:
    transport = UdpTransport("127.0.0.1", 9)
    real = transport._sock
    try:
        fake = _FullAfter(2)
        transport._sock = fake  # type: ignore[assignment]
        packets = frame(0x01020304, CTAPHID.PING, bytes(200), 64)
        assert len(packets) == 4
        assert transport.try_send_packets(packets) == 2
        assert fake.sent == packets[:2]
        with pytest.raises(ValueError, match="64 bytes"):
            transport.try_send_packets([b"short"])
    finally:
        transport._sock = real
        await transport.aclose()
    with pytest.raises(TransportClosed):
        transport.try_send_packets(packets)


class _OneReportAtATime(UdpTransport):
    """``try_send_packets`` sends at most one report: the router must send the rest in order."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.partial_sends = 0

    def try_send_packets(self, packets: Sequence[bytes]) -> int:
        if len(packets) > 1:
            self.partial_sends += 1
        return super().try_send_packets(packets[:1])


async def test_message_that_does_not_fit_at_once_is_finished_under_the_send_lock(echo_app: Any) -> None:
    server = CtapHidServer(echo_app)
    async with anyio.create_task_group() as tg:
        host, port = await tg.start(server.serve_udp, "127.0.0.1", 0)
        transport = _OneReportAtATime(host, port)
        async with HidConnection.open(transport) as conn:
            devices = [await CtapHidDevice.open(conn) for _ in range(4)]
            results: dict[int, bytes] = {}

            async def ping(i: int) -> None:
                data = bytes([i]) * 1000  # 18 reports, sent interleaved with the other channels' turns
                results[i] = await devices[i].ping(data)

            async with anyio.create_task_group() as calls:
                for i in range(len(devices)):
                    calls.start_soon(ping, i)
            assert results == {i: bytes([i]) * 1000 for i in range(len(devices))}
            assert transport.partial_sends >= 1  # the rest went in order through the writer task
        tg.cancel_scope.cancel()


async def test_a_burst_of_short_answers_is_drained_over_several_turns() -> None:
    """Draining stops after each one-report message; the loop calls back for the rest."""
    device = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    device.bind(("127.0.0.1", 0))
    transport = UdpTransport(*device.getsockname()[:2])
    try:
        transport._sock.send(bytes(64))  # let the device learn the host's address
        _, host_addr = device.recvfrom(64)
        answers = [frame(0x10 + i, CTAPHID.PING, bytes([i]), 64)[0] for i in range(5)]
        answers.append(frame(0x20, CTAPHID.PING, bytes(100), 64)[0])  # an init report of a long message
        for a in answers:
            device.sendto(a, host_addr)
        with anyio.fail_after(5):
            received = list(await transport.receive_packets())
        assert received == answers[:1]  # the first short answer alone: no failing recv after it
        with anyio.fail_after(5):
            while len(received) < len(answers):
                received.extend(await transport.receive_packets())
        assert received == answers
    finally:
        await transport.aclose()
        device.close()


@pytest.mark.asyncio_only(
    reason="the receiver callbacks are the asyncio path (add_reader); trio reads in the reader task"
)
async def test_each_datagram_is_offered_to_the_report_receiver_and_the_rest_goes_in_batches() -> None:
    """What the router gets on asyncio: each datagram offered on its own first; one it does not take
    goes on as without a report receiver (a whole short message as a batch of one, a long one as a
    batch, a datagram that is not a report dropped)."""
    device = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    device.bind(("127.0.0.1", 0))
    transport = UdpTransport(*device.getsockname()[:2])
    batches: list[list[bytes]] = []
    offered: list[bytes] = []
    taken: list[bytes] = []
    short = frame(0x10, CTAPHID.PING, b"hi", 64)[0]
    keepalive = frame(0x10, CTAPHID.KEEPALIVE, b"\x02", 64)[0]
    long = frame(0x20, CTAPHID.PING, bytes(range(100)), 64)

    def take(report: bytes) -> bool:
        offered.append(report)
        if report == short:
            taken.append(report)
            return True
        return False

    transport.set_receiver(lambda reports: batches.append(list(reports)))
    transport.set_report_receiver(take)
    try:
        async with anyio.create_task_group() as tg:
            tg.start_soon(transport.receive_packets)  # registers the socket with the loop, then waits
            transport._sock.send(bytes(64))  # let the device learn the host's address
            _, host_addr = device.recvfrom(64)
            for datagram in (b"not a report", short, keepalive):
                device.sendto(datagram, host_addr)
            with anyio.fail_after(5):
                while not batches:
                    await anyio.sleep(0.001)
            for report in long:
                device.sendto(report, host_addr)
            with anyio.fail_after(5):
                while sum(len(b) for b in batches) < 1 + len(long):
                    await anyio.sleep(0.001)
            tg.cancel_scope.cancel()
        assert taken == [short]
        assert offered[:3] == [b"not a report", short, keepalive] and offered[3] == long[0]
        assert batches[0] == [keepalive]
        assert [r for batch in batches[1:] for r in batch] == long
    finally:
        await transport.aclose()
        device.close()


async def test_a_failed_raw_send_falls_back_to_try_send_packets(echo_app: Any) -> None:
    """``send_report`` raising OSError (an ICMP error, a full buffer) is not the end of the call."""
    server = CtapHidServer(echo_app)
    async with anyio.create_task_group() as tg:
        host, port = await tg.start(server.serve_udp, "127.0.0.1", 0)
        transport = UdpTransport(host, port)
        failures = [ConnectionRefusedError(), BlockingIOError()]
        raw_send = transport.send_report

        def flaky_send(report: bytes) -> object:
            if failures:
                raise failures.pop()
            return raw_send(report)

        transport.send_report = flaky_send
        async with HidConnection.open(transport) as conn:
            device = await CtapHidDevice.open(conn)
            assert conn._send_report is flaky_send
            assert await device.ping(b"one") == b"one"
            assert await device.ping(b"two") == b"two"
            assert not failures
            assert await device.ping(b"three") == b"three"
        with pytest.raises(TransportClosed):
            transport.try_send_packets([bytes(64)])
        tg.cancel_scope.cancel()
