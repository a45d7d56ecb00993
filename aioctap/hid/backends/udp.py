"""UDP packet transport: one report per datagram, the convention of authenticator simulators.

The device listens on a port (127.0.0.1:8111 by default) and replies to the sender's address.
The reader waits for readability and then drains every ready datagram in one go: one wake-up for
a whole burst of continuation packets is what keeps the host's CPU cost per report low.
"""

from __future__ import annotations

import socket
from collections.abc import Sequence

import anyio

from ..transport import TransportClosed

__all__ = ["UdpTransport"]


class UdpTransport:
    """Host side of a UDP link to ``(host, port)``."""

    def __init__(self, host: str, port: int, *, packet_size: int = 64) -> None:
        self.packet_size = packet_size
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)
        if not infos:
            raise OSError(f"cannot resolve {host}:{port}")
        family, _, _, _, addr = infos[0]
        self._sock = socket.socket(family, socket.SOCK_DGRAM)
        self._sock.setblocking(False)
        self._sock.connect(addr)
        self._closed = False

    async def send_packet(self, packet: bytes) -> None:
        if self._closed:
            raise TransportClosed("UDP transport closed")
        if len(packet) != self.packet_size:
            raise ValueError(f"packet must be {self.packet_size} bytes, got {len(packet)}")
        while True:
            try:
                self._sock.send(packet)
                return
            except BlockingIOError:
                await anyio.wait_writable(self._sock)
            except ConnectionRefusedError:
                return  # nobody listening (yet): the call times out like a silent device
            except OSError as e:
                raise TransportClosed(f"UDP send failed: {e}") from None

    async def receive_packets(self) -> Sequence[bytes]:
        while True:
            if self._closed:
                raise TransportClosed("UDP transport closed")
            try:
                await anyio.wait_readable(self._sock)
            except (anyio.ClosedResourceError, OSError, ValueError):
                raise TransportClosed("UDP transport closed") from None
            packets: list[bytes] = []
            while True:
                try:
                    data = self._sock.recv(2048)
                except (BlockingIOError, InterruptedError):
                    break
                except ConnectionRefusedError:
                    continue
                except OSError as e:
                    raise TransportClosed(f"UDP receive failed: {e}") from None
                if len(data) == self.packet_size:
                    packets.append(data)
            if packets:
                return packets

    async def aclose(self) -> None:
        if not self._closed:
            self._closed = True
            try:
                anyio.notify_closing(self._sock)
            except (ValueError, OSError):
                pass
            self._sock.close()
