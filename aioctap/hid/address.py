"""``aioctap.open_device(address)``: one async context manager for every kind of device."""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from .device import CtapHidDevice, HidDescriptor
from .router import HidConnection

__all__ = ["open_device", "parse_address"]

ADDRESS_FORMATS = "udp:HOST:PORT, hid:PATH, virtual or virtual:STATE_FILE"


def parse_address(address: str) -> tuple[str, str]:
    """Split an address into (kind, rest); ValueError naming the accepted formats."""
    kind, _, rest = address.partition(":")
    kind = kind.lower()
    if kind == "virtual" or (kind == "hid" and rest):
        return kind, rest
    if kind == "udp":
        host, sep, port = rest.rpartition(":")
        if sep and host and port.isdigit() and 0 < int(port) < 65536:
            return kind, rest
    raise ValueError(f"bad device address {address!r}: use {ADDRESS_FORMATS}")


@asynccontextmanager
async def open_device(address: str, *, timeout: float = 5.0) -> AsyncIterator[CtapHidDevice]:
    """Open the device at ``address`` (``udp:HOST:PORT``, ``hid:PATH``, ``virtual``, ``virtual:STATE_FILE``).

    An async context manager: ``async with open_device(address) as device:``. The device, its connection and
    its reader task are closed on exit; the body's own exception comes out as itself.

    Raises:
        ValueError: ``address`` has none of the forms above (the message names them).
        aioctap.hid.CtapHidTimeout: the device did not answer CTAPHID_INIT within ``timeout`` seconds.
        aioctap.hid.backends.hidapi.HidapiMissing: a ``hid:`` address without the hidapi system library.
        aioctap.virtual.StateError: a ``virtual:STATE_FILE`` that cannot be read or decrypted.
        OSError: the HID device or the UDP socket cannot be opened.
    """
    kind, rest = parse_address(address)
    if kind == "virtual":
        virtual = importlib.import_module("aioctap.virtual")
        async with virtual.open_virtual_device(rest or None) as device:
            yield device
        return
    if kind == "udp":
        from .backends.udp import UdpTransport

        host, _, port = rest.rpartition(":")
        transport = UdpTransport(host.strip("[]"), int(port))
        async with HidConnection.open(transport) as connection:
            yield await CtapHidDevice.open(connection, HidDescriptor(path=address), timeout=timeout)
        return
    from .backends.hidapi import HidapiDevice

    async with HidapiDevice(HidDescriptor(path=rest), timeout=timeout) as device:
        yield device
