"""The UDP backend and a device that sends its reports slowly (a USB key's pace: one per millisecond).

The transport learns the pace and, while a slow device's long message comes in, leaves the socket alone and
drains it once when the rest should be there (``UdpTransport._track``). These tests drive the real socket and
router against a device in a thread (the sans-IO device core, each report sent ``pace`` after the one before).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import anyio
import pytest

from aioctap.hid.backends.udp import UdpTransport
from aioctap.hid.device import CtapHidDevice
from aioctap.hid.device_core import DeviceCore
from aioctap.hid.host_core import CtapHidTimeout
from aioctap.hid.router import HidConnection

pytestmark = pytest.mark.asyncio_only(reason="the pace is learned by the asyncio fast path (add_reader, timers)")


class PacedDevice:
    """A CTAPHID device on a UDP port, in a thread: each report ``pace`` seconds after the one before."""

    def __init__(self, pace: float) -> None:
        self.pace = pace
        self.stall_after: int | None = None  # send only this many reports of each answer, then nothing
        self.core = DeviceCore()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.05)
        self.port: int = self.sock.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                data, addr = self.sock.recvfrom(2048)
            except TimeoutError:
                continue
            out, _ = self.core.receive(data, time.monotonic())
            if self.stall_after is not None and len(out) > 1:
                out = out[: self.stall_after]
            due = time.monotonic()
            for report in out:
                if self.pace:
                    due += self.pace
                    time.sleep(max(0.0, due - time.monotonic()))
                self.sock.sendto(report, addr)

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.sock.close()


class CountingTransport(UdpTransport):
    """Counts the loop's wake-ups for the socket and the times it was left alone."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.wakes = 0
        self.sleeps = 0

    def _on_readable(self) -> None:
        self.wakes += 1
        super()._on_readable()

    def _sleep(self, delay: float) -> None:
        self.sleeps += 1
        super()._sleep(delay)


@pytest.fixture
def device() -> Iterator[PacedDevice]:
    dev = PacedDevice(pace=0.001)
    yield dev
    dev.close()


async def test_a_slow_devices_long_answers_come_whole_with_a_few_wakes_each(device: PacedDevice) -> None:
    transport = CountingTransport("127.0.0.1", device.port)
    async with HidConnection.open(transport) as conn:
        dev = await CtapHidDevice.open(conn)
        data = bytes(range(256)) * 4  # 1024 bytes: 18 reports each way
        assert await dev.ping(data) == data  # learns the pace
        wakes = transport.wakes
        for _ in range(4):
            assert await dev.ping(data) == data
        # one wake-up per report (17 continuation reports each) without the pace; with it, about two
        assert transport.wakes - wakes <= 4 * 6
        assert transport.sleeps >= 4
        assert 0.0005 < transport._pace < 0.01


async def test_a_device_that_turns_fast_is_drained_at_once_again(device: PacedDevice) -> None:
    transport = CountingTransport("127.0.0.1", device.port)
    async with HidConnection.open(transport) as conn:
        dev = await CtapHidDevice.open(conn)
        data = bytes(1024)
        for _ in range(2):
            await dev.ping(data)
        assert transport._pace > 0
        device.pace = 0.0
        sleeps = transport.sleeps
        for _ in range(5):
            assert await dev.ping(data) == data
        # the first answer after the change is drained once, on the old pace: the kernel's arrival times of its
        # reports say they came at once, and the device is fast again
        assert transport.sleeps - sleeps <= 2
        assert transport._pace == 0.0


async def test_a_device_that_stops_in_the_middle_of_an_answer_times_out_and_recovers(device: PacedDevice) -> None:
    transport = CountingTransport("127.0.0.1", device.port)
    async with HidConnection.open(transport) as conn:
        dev = await CtapHidDevice.open(conn, timeout=0.3)
        data = bytes(1024)
        await dev.ping(data)
        device.stall_after = 5  # the rest of each answer never comes
        with pytest.raises(CtapHidTimeout):
            await dev.ping(data)
        device.stall_after = None
        assert await dev.ping(data) == data  # the channel was resynchronized; the socket is watched again
    assert transport._timer is None
    assert transport._sock.fileno() == -1


async def test_closing_while_the_socket_is_left_alone_cancels_the_drain(device: PacedDevice) -> None:
    transport = CountingTransport("127.0.0.1", device.port)
    async with HidConnection.open(transport) as conn:
        dev = await CtapHidDevice.open(conn)
        await dev.ping(bytes(1024))
        with anyio.move_on_after(0.005):  # cancelled while the answer comes in (CTAPHID_CANCEL is sent)
            await dev.ping(bytes(1024))
    assert transport._timer is None
    assert transport._sock.fileno() == -1
