"""The UDP backend and a device that sends its reports slowly (a USB key's pace: one per millisecond).

The transport learns the pace and, while a slow device's long message comes in, leaves the socket alone and
drains it once when the rest should be there (``UdpTransport._track``). These tests drive the real socket and
router against a device process (the sans-IO device core, each report sent ``pace`` after the one before).
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Iterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import anyio
import pytest

from aioctap.hid.backends import udp
from aioctap.hid.backends.udp import SLOW_REPORT_GAP, UdpTransport
from aioctap.hid.device import CtapHidDevice
from aioctap.hid.host_core import CtapHidTimeout
from aioctap.hid.router import HidConnection

pytestmark = pytest.mark.asyncio_only(reason="the pace is learned by the asyncio fast path (add_reader, timers)")


class PacedDevice:
    """``paced_device.py`` in a process of its own (see there): each report ``pace`` seconds after the one before."""

    def __init__(self, pace: float) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("paced_device.py")), str(pace)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self._stdin, self._stdout = self.proc.stdin, self.proc.stdout
        self.port = int(self._stdout.readline())

    def set(self, name: str, value: float) -> None:
        self._stdin.write(f"{name} {value}\n")
        self._stdin.flush()
        assert self._stdout.readline().strip() == "ok"

    def close(self) -> None:
        self._stdin.close()
        self.proc.wait(5)


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
        assert SLOW_REPORT_GAP < transport._pace < 0.01  # learned: 1 ms, give or take the loop's lateness


async def test_a_device_that_turns_fast_is_drained_at_once_again(device: PacedDevice) -> None:
    transport = CountingTransport("127.0.0.1", device.port)
    async with HidConnection.open(transport) as conn:
        dev = await CtapHidDevice.open(conn)
        data = bytes(1024)
        for _ in range(2):
            await dev.ping(data)
        assert transport._pace > 0
        device.set("pace", 0.0)
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
        device.set("stall", 5)  # the rest of each answer never comes
        with pytest.raises(CtapHidTimeout):
            await dev.ping(data)
        device.set("stall", -1)
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
    assert udp._devices_on.get(asyncio.get_running_loop(), 0) == 0  # the loop's count of UDP devices open


async def test_with_more_devices_on_the_loop_than_max_timed_devices_each_report_is_watched(
    device: PacedDevice,
) -> None:
    loop = asyncio.get_running_loop()
    async with AsyncExitStack() as stack:
        transports, devs = [], []
        for count in range(1, udp.MAX_TIMED_DEVICES + 2):
            transports.append(CountingTransport("127.0.0.1", device.port))
            conn = await stack.enter_async_context(HidConnection.open(transports[-1]))
            devs.append(await CtapHidDevice.open(conn))
            assert udp._devices_on[loop] == count
        for dev in devs:
            await dev.ping(bytes(1024))
        for transport, dev in zip(transports, devs, strict=True):
            wakes = transport.wakes
            assert await dev.ping(bytes(1024)) == bytes(1024)
            # one wake-up per report (about 2 with the drain by timer): one too many devices for it on this loop
            assert transport.wakes - wakes >= 10
    assert udp._devices_on.get(loop, 0) == 0
