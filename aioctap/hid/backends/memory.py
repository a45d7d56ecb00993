"""In-process packet transport: a pair of queues, for tests, benchmarks and the demo."""

from __future__ import annotations

from collections.abc import Sequence

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from ..transport import TransportClosed

__all__ = ["MemoryTransport", "memory_pair"]


class MemoryTransport:
    """One end of an in-memory link; see :func:`memory_pair`."""

    def __init__(
        self,
        send: MemoryObjectSendStream[bytes],
        receive: MemoryObjectReceiveStream[bytes],
        packet_size: int,
    ) -> None:
        self.packet_size = packet_size
        self._send = send
        self._receive = receive

    async def send_packet(self, packet: bytes) -> None:
        if len(packet) != self.packet_size:
            raise ValueError(f"packet must be {self.packet_size} bytes, got {len(packet)}")
        try:
            await self._send.send(bytes(packet))
        except (anyio.BrokenResourceError, anyio.ClosedResourceError):
            raise TransportClosed("in-memory transport closed") from None

    async def receive_packets(self) -> Sequence[bytes]:
        try:
            packets = [await self._receive.receive()]
        except (anyio.EndOfStream, anyio.ClosedResourceError, anyio.BrokenResourceError):
            raise TransportClosed("in-memory transport closed") from None
        while True:
            try:
                packets.append(self._receive.receive_nowait())
            except (anyio.WouldBlock, anyio.EndOfStream, anyio.ClosedResourceError, anyio.BrokenResourceError):
                return packets

    async def aclose(self) -> None:
        await self._send.aclose()
        await self._receive.aclose()


def memory_pair(packet_size: int = 64, buffer: int = 1024) -> tuple[MemoryTransport, MemoryTransport]:
    """Two connected transports: ``(host_side, device_side)``."""
    a_send, b_receive = anyio.create_memory_object_stream[bytes](buffer)
    b_send, a_receive = anyio.create_memory_object_stream[bytes](buffer)
    return MemoryTransport(a_send, a_receive, packet_size), MemoryTransport(b_send, b_receive, packet_size)
