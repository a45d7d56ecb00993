"""USB HID transport through the ``hid`` package (hidapi), plus enumeration and hot-plug.

``hid`` is imported lazily: without the system library the error names the package to install.
Blocking reads run in one worker thread per handle, never on the event loop.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Callable, Sequence
from enum import StrEnum
from typing import Any, NamedTuple

import anyio
import anyio.to_thread

from ..device import CtapHidDevice, HidDescriptor
from ..router import HidConnection
from ..transport import TransportClosed

__all__ = [
    "DeviceChange",
    "HidapiMissing",
    "HidapiTransport",
    "HotplugEvent",
    "list_descriptors",
    "open_hid_device",
    "watch_devices",
]

FIDO_USAGE_PAGE = 0xF1D0
FIDO_USAGE = 0x01


class HidapiMissing(ImportError):
    """The hidapi system library (or the ``hid`` package) is not installed."""


def _hid() -> Any:
    try:
        import hid
    except ImportError as e:
        raise HidapiMissing(
            "the hid backend needs the system hidapi library: install it with "
            "'apt-get install libhidapi-hidraw0' (Debian/Ubuntu), 'brew install hidapi' (macOS) "
            f"or your system's hidapi package ({e})"
        ) from None
    return hid


def _enumerate() -> list[HidDescriptor]:
    out = []
    for info in _hid().enumerate():
        if info.get("usage_page") == FIDO_USAGE_PAGE and info.get("usage") == FIDO_USAGE:
            path = info.get("path", b"")
            out.append(
                HidDescriptor(
                    path=path.decode() if isinstance(path, bytes) else str(path),
                    vid=int(info.get("vendor_id", 0)),
                    pid=int(info.get("product_id", 0)),
                    product_name=info.get("product_string") or None,
                    serial_number=info.get("serial_number") or None,
                )
            )
    return out


async def list_descriptors() -> list[HidDescriptor]:
    """FIDO HID devices currently plugged in (usage page 0xF1D0)."""
    return await anyio.to_thread.run_sync(_enumerate)


class HidapiTransport:
    """A hidapi handle as a :class:`~aioctap.hid.transport.PacketTransport`."""

    def __init__(self, handle: Any, packet_size: int = 64) -> None:
        self.packet_size = packet_size
        self._handle = handle
        self._closed = threading.Event()
        self._limiter = anyio.CapacityLimiter(1)  # one worker thread per handle

    @classmethod
    def open(cls, path: str, packet_size: int = 64) -> HidapiTransport:
        """Open the HID device at ``path`` (blocking: call it from a worker thread)."""
        handle = _hid().device()
        handle.open_path(path.encode())
        return cls(handle, packet_size)

    async def send_packet(self, packet: bytes) -> None:
        """Send one report, prefixed with report id 0; :class:`TransportClosed` once unplugged or closed."""
        if self._closed.is_set():
            raise TransportClosed("HID device closed")
        try:
            # report id 0 prefix; writes are short and non-blocking in practice
            written = self._handle.write(b"\0" + packet)
        except (OSError, ValueError) as e:
            raise TransportClosed(f"HID write failed (device unplugged?): {e}") from None
        if written < 0:
            raise TransportClosed("HID write failed (device unplugged?)")

    def _read(self) -> list[bytes]:
        packets: list[bytes] = []
        while not self._closed.is_set():
            data = self._handle.read(self.packet_size, 100)
            if data:
                packets.append(bytes(data))
                # drain whatever else is ready without waiting
                while more := self._handle.read(self.packet_size, 0):
                    packets.append(bytes(more))
                return packets
        raise TransportClosed("HID device closed")

    async def receive_packets(self) -> Sequence[bytes]:
        """Every report ready now, at least one, read in the handle's worker thread."""
        try:
            return await anyio.to_thread.run_sync(self._read, limiter=self._limiter)
        except (OSError, ValueError) as e:
            raise TransportClosed(f"HID read failed (device unplugged?): {e}") from None

    async def aclose(self) -> None:
        """Close the handle once the reader thread has left ``hid.read``; idempotent."""
        if not self._closed.is_set():
            self._closed.set()
            async with self._limiter:  # wait for the reader thread to leave hid.read
                self._handle.close()


async def open_hid_device(descriptor: HidDescriptor) -> CtapHidDevice:
    """Open a HID device with its own connection and reader task (closed with the device)."""
    transport = await anyio.to_thread.run_sync(HidapiTransport.open, descriptor.path)
    cm = HidConnection.open(transport)
    connection = await cm.__aenter__()
    try:
        device = await CtapHidDevice.open(connection, descriptor)
    except BaseException:
        await cm.__aexit__(None, None, None)
        raise

    async def close() -> None:
        await cm.__aexit__(None, None, None)

    device._on_close = close
    return device


class HotplugEvent(StrEnum):
    """What happened to a device; compares equal to ``"added"`` / ``"removed"``."""

    ADDED = "added"
    REMOVED = "removed"


class DeviceChange(NamedTuple):
    """One hot-plug event: unpacks as ``(event, descriptor)``."""

    event: HotplugEvent
    descriptor: HidDescriptor


async def watch_devices(
    interval: float = 0.5,
    *,
    enumerate_devices: Callable[[], Sequence[HidDescriptor]] | None = None,
) -> AsyncIterator[DeviceChange]:
    """Async iterator of hot-plug events: ADDED for devices present at start and each arrival, REMOVED on unplug.

    Polls the enumeration every ``interval`` seconds (in a worker thread); ``enumerate_devices``
    replaces hidapi's enumeration (tests, other backends).
    """
    enum_fn = enumerate_devices or _enumerate
    known: dict[str, HidDescriptor] = {}
    while True:
        current = {d.path: d for d in await anyio.to_thread.run_sync(enum_fn)}
        for path, d in current.items():
            if path not in known:
                yield DeviceChange(HotplugEvent.ADDED, d)
        for path, d in known.items():
            if path not in current:
                yield DeviceChange(HotplugEvent.REMOVED, d)
        known = current
        await anyio.sleep(interval)
