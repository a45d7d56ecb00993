"""The hidapi backend with the ``hid`` module replaced by a fake (there is no real key here).

The fake's devices are aioctap's device-side core behind hidapi's blocking API, so enumeration,
``list_devices``, ``open_device("hid:...")``, the reader thread and hot-plug run for real.
"""

from __future__ import annotations

import queue
import sys
import threading
from typing import Any

import anyio
import pytest

import aioctap
from aioctap.ctap import TransportError
from aioctap.hid.backends import hidapi
from aioctap.hid.backends.hidapi import DeviceChange, HidapiMissing, HotplugEvent
from aioctap.hid.device import CtapHidDevice, HidDescriptor
from aioctap.hid.device_side import DeviceCore

FIDO = {"usage_page": 0xF1D0, "usage": 0x01}


class FakeHandle:
    """hid.device(): writes go to a DeviceCore, reads come from its answers."""

    def __init__(self, fake: FakeHid) -> None:
        self.fake = fake
        self.core = DeviceCore()
        self.answers: queue.Queue[bytes] = queue.Queue()
        self.unplugged = threading.Event()
        self.silent = False  # swallow requests, like a key waiting for a touch
        self.closed = False

    def open_path(self, path: bytes) -> None:
        if path.decode() not in {d["path"].decode() for d in self.fake.devices}:
            raise OSError("open failed")
        self.fake.handles.append(self)

    def write(self, data: bytes) -> int:
        if self.unplugged.is_set():
            raise OSError("write error")
        assert data[0] == 0  # report id
        if self.silent:
            return len(data)
        out, _ = self.core.receive(bytes(data[1:]), 0.0)
        for p in out:
            self.answers.put(p)
        return len(data)

    def read(self, size: int, timeout_ms: int = 0) -> list[int]:
        if self.unplugged.is_set():
            raise OSError("read error")
        try:
            return list(self.answers.get(timeout=timeout_ms / 1000) if timeout_ms else self.answers.get_nowait())
        except queue.Empty:
            return []

    def close(self) -> None:
        self.closed = True


class FakeHid:
    """Stands in for the ``hid`` module."""

    def __init__(self) -> None:
        self.devices: list[dict[str, Any]] = [
            {"path": b"/dev/hidraw0", "vendor_id": 0x1050, "product_id": 0x0407, "product_string": "Key A", **FIDO},
            {"path": b"/dev/hidraw1", "vendor_id": 0x20A0, "product_id": 0x42B1, "serial_number": "42", **FIDO},
            {"path": b"/dev/hidraw2", "vendor_id": 0x046D, "product_id": 0xC31C, "usage_page": 1, "usage": 6},
        ]
        self.handles: list[FakeHandle] = []

    def enumerate(self) -> list[dict[str, Any]]:
        return list(self.devices)

    def device(self) -> FakeHandle:
        return FakeHandle(self)


@pytest.fixture
def fake_hid(monkeypatch: pytest.MonkeyPatch) -> FakeHid:
    fake = FakeHid()
    monkeypatch.setattr(hidapi, "_hid", lambda: fake)
    return fake


async def test_enumeration_keeps_fido_devices_only(fake_hid: FakeHid) -> None:
    descriptors = await hidapi.list_descriptors()
    assert [d.path for d in descriptors] == ["/dev/hidraw0", "/dev/hidraw1"]
    assert descriptors[0] == HidDescriptor("/dev/hidraw0", 0x1050, 0x0407, product_name="Key A")
    assert descriptors[1].serial_number == "42"


async def test_list_devices_opens_each_fido_device(fake_hid: FakeHid) -> None:
    paths = []
    async for device in CtapHidDevice.list_devices():
        assert isinstance(device, CtapHidDevice)
        async with device:
            assert await device.ping(b"x" * 100) == b"x" * 100
            assert device.descriptor is not None
            paths.append(device.descriptor.path)
    assert paths == ["/dev/hidraw0", "/dev/hidraw1"]
    assert len(fake_hid.handles) == 2 and all(h.closed for h in fake_hid.handles)


async def test_open_device_hid_address(fake_hid: FakeHid) -> None:
    async with aioctap.open_device("hid:/dev/hidraw1") as device:
        assert await device.ping(bytes(7609)) == bytes(7609)
    assert fake_hid.handles[0].closed
    with pytest.raises(OSError):
        async with aioctap.open_device("hid:/dev/nothing"):
            pass


async def test_unplug_fails_pending_and_later_calls(fake_hid: FakeHid) -> None:
    async with aioctap.open_device("hid:/dev/hidraw0") as device:
        handle = fake_hid.handles[0]
        handle.silent = True

        async def unplug() -> None:
            await anyio.sleep(0.2)
            handle.unplugged.set()

        async with anyio.create_task_group() as tg:
            tg.start_soon(unplug)
            with anyio.fail_after(2), pytest.raises(TransportError, match="unplugged"):
                await device.ping(b"waits")
        with pytest.raises(TransportError):
            await device.ping(b"late")


async def test_watch_devices_reports_arrivals_and_removals(fake_hid: FakeHid) -> None:
    events: list[tuple[HotplugEvent, str]] = []
    async with anyio.create_task_group() as tg:

        async def watch() -> None:
            async for event, descriptor in CtapHidDevice.watch_devices(interval=0.01):
                events.append((event, descriptor.path))

        tg.start_soon(watch)
        with anyio.fail_after(2):
            while len(events) < 2:
                await anyio.sleep(0.01)
            removed = fake_hid.devices.pop(0)
            fake_hid.devices.append({**removed, "path": b"/dev/hidraw9"})
            while len(events) < 4:
                await anyio.sleep(0.01)
        tg.cancel_scope.cancel()
    assert events[:2] == [(HotplugEvent.ADDED, "/dev/hidraw0"), (HotplugEvent.ADDED, "/dev/hidraw1")]
    assert sorted(events[2:4]) == sorted([(HotplugEvent.ADDED, "/dev/hidraw9"), (HotplugEvent.REMOVED, "/dev/hidraw0")])


async def test_watch_devices_with_another_enumeration() -> None:
    present = [HidDescriptor("a"), HidDescriptor("b")]
    watcher = hidapi.watch_devices(0.01, enumerate_devices=lambda: list(present))
    first = [await anext(watcher), await anext(watcher)]
    assert first == [
        DeviceChange(HotplugEvent.ADDED, HidDescriptor("a")),
        DeviceChange(HotplugEvent.ADDED, HidDescriptor("b")),
    ]
    present.pop()
    assert await anext(watcher) == (HotplugEvent.REMOVED, HidDescriptor("b"))
    await watcher.aclose()


async def test_missing_hidapi_names_the_system_library(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "hid", None)  # "import hid" now raises ImportError
    with pytest.raises(HidapiMissing, match="libhidapi-hidraw0"):
        async for _ in CtapHidDevice.list_devices():
            pass
    with pytest.raises(HidapiMissing, match="libhidapi-hidraw0"):
        async with aioctap.open_device("hid:/dev/hidraw0"):
            pass
    with pytest.raises(ImportError, match="apt-get install libhidapi-hidraw0"):
        await anext(CtapHidDevice.watch_devices())
