"""Bridges to python-fido2 (optional): drive aioctap's UDP authenticator from python-fido2's blocking host.

python-fido2 has no UDP transport of its own; :func:`fido2_udp_device` gives it one, so that its
``CtapHidDevice``, ``Ctap2``, ``Fido2Client`` and ``Ctap1`` can talk to ``aioctap virtual --udp`` (or
any simulator that follows the one-report-per-datagram convention). Needs ``pip install fido2``.
"""

from __future__ import annotations

import socket
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fido2.hid import CtapHidDevice

__all__ = ["UdpCtapHidConnection", "fido2_udp_device"]


def _base() -> Any:
    try:
        from fido2.hid.base import CtapHidConnection
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("python-fido2 is needed for this bridge: pip install fido2") from e
    return CtapHidConnection


class UdpCtapHidConnection(_base()):  # type: ignore[misc]
    """A python-fido2 ``CtapHidConnection`` over UDP: one 64-byte report per datagram."""

    def __init__(self, host: str, port: int, *, packet_size: int = 64, timeout: float = 5.0) -> None:
        self.packet_size = packet_size
        self._sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.settimeout(timeout)
        self._sock.connect((host, port))

    def read_packet(self) -> bytes:
        """Receive one report (datagrams of another size are dropped); ``socket.timeout`` after ``timeout``."""
        while True:
            data = self._sock.recv(2048)
            if len(data) == self.packet_size:
                return data

    def write_packet(self, data: bytes) -> None:
        """Send one report, zero-padded or truncated to ``packet_size``."""
        self._sock.send(data.ljust(self.packet_size, b"\0")[: self.packet_size])

    def close(self) -> None:
        """Close the socket."""
        self._sock.close()


def fido2_udp_device(host: str, port: int, *, timeout: float = 5.0) -> CtapHidDevice:
    """A python-fido2 ``CtapHidDevice`` talking to ``host:port`` over UDP."""
    from fido2.hid import CtapHidDevice
    from fido2.hid.base import HidDescriptor

    descriptor = HidDescriptor(f"udp:{host}:{port}", 0, 0, 64, 64, "aioctap UDP", None)
    return CtapHidDevice(descriptor, UdpCtapHidConnection(host, port, timeout=timeout))
