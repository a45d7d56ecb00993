"""The packet transport protocol every CTAPHID backend implements (DESIGN.md)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from ..ctap import TransportError

__all__ = ["PacketTransport", "TransportClosed"]


class TransportClosed(TransportError):
    """The transport reached its end (closed locally, device gone, socket closed)."""


class PacketTransport(Protocol):
    """Moves whole reports: ``packet_size`` bytes each (64 for full-speed USB HID)."""

    packet_size: int

    async def send_packet(self, packet: bytes) -> None:
        """Send one report."""
        ...

    async def receive_packets(self) -> Sequence[bytes]:
        """Every report ready now, at least one; raises :class:`TransportClosed` at the end."""
        ...

    async def aclose(self) -> None:
        """Close the transport; a pending ``receive_packets`` raises :class:`TransportClosed`."""
        ...
