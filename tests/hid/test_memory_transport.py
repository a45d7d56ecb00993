"""The in-memory transport's send methods: checked reports from anyone, framed reports from the cores."""

from __future__ import annotations

import pytest

from aioctap.hid.backends.memory import memory_pair
from aioctap.hid.protocol import frame
from aioctap.hid.transport import TransportClosed


async def test_try_send_packets_checks_every_report_and_send_framed_delivers() -> None:
    host, device = memory_pair()
    received: list[list[bytes]] = []
    device.set_receiver(lambda packets: received.append(list(packets)))
    reports = frame(7, 0x10, bytes(150))
    with pytest.raises(ValueError, match="64 bytes"):
        host.try_send_packets([*reports[:-1], reports[-1][:-1]])
    with pytest.raises(ValueError, match="64 bytes"):
        host.try_send_packets((bytes(65),))
    assert received == []
    assert host.try_send_packets([bytearray(r) for r in reports]) == len(reports)
    assert host.send_framed(reports) == len(reports)
    assert received == [reports, reports]


async def test_send_framed_queues_without_a_receiver_and_raises_once_closed() -> None:
    host, device = memory_pair(buffer=3)
    reports = frame(7, 0x10, bytes(150))  # 3 reports
    assert host.send_framed(reports) == 3
    assert host.send_framed(reports) == 0  # the peer's queue is full
    assert await device.receive_packets() == reports
    await device.aclose()
    with pytest.raises(TransportClosed):
        host.send_framed(reports)
    with pytest.raises(TransportClosed):
        host.try_send_packets(reports)
