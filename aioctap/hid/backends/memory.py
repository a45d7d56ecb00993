"""In-process packet transport, for tests, benchmarks, the demo and the software authenticator.

Two :class:`MemoryTransport` ends share nothing but references to each other. A packet sent on one
end is either queued for the other end's ``receive_packets`` or, when the other end registered a
receiver with :meth:`MemoryTransport.set_receiver`, handed to that receiver at once, in the
sender's task. The router and the device-side server both register one, so a request, its answer
and the wake-up of the waiting call cost no event-loop turn of their own (the in-memory PING round
trip went from about ten loop turns to one; see ``benchmarks/bench_transport.py``).
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterable, Sequence

from ..transport import ReportsReceiver, TransportClosed, Wakeup

__all__ = ["MemoryTransport", "memory_pair"]

log = logging.getLogger(__name__)


class MemoryTransport:
    """One end of an in-memory link; see :func:`memory_pair`."""

    def __init__(self, packet_size: int = 64, buffer: int = 1024) -> None:
        self.packet_size = packet_size
        self.buffer = buffer
        self._peer: MemoryTransport | None = None
        self._queue: deque[bytes] = deque()
        self._receiver: ReportsReceiver | None = None
        self._closed = False
        self._arrived = Wakeup()  # packets queued, or the link closed
        self._space = Wakeup()  # the queue was drained

    def _check(self, packets: Iterable[bytes]) -> list[bytes]:
        if self._closed:
            raise TransportClosed("in-memory transport closed")
        peer = self._peer
        if peer is None or peer._closed:
            raise TransportClosed("in-memory transport closed by the other end")
        size = self.packet_size
        if type(packets) is list:  # what the router and the device core send: kept as it is when all fit
            for packet in packets:
                if type(packet) is not bytes or len(packet) != size:
                    break
            else:
                return packets
        out = [packet if type(packet) is bytes else bytes(packet) for packet in packets]
        for packet in out:
            if len(packet) != size:
                raise ValueError(f"packet must be {size} bytes, got {len(packet)}")
        return out

    def set_receiver(self, receiver: ReportsReceiver | None) -> None:
        """Deliver arriving packets to ``receiver(packets)`` in the sender's task instead of queueing.

        Each call hands over the reports of one send (one message, usually). Packets already
        queued are delivered at once. ``None`` goes back to queueing. A receiver must not block;
        an exception it raises is logged and the packets dropped.
        """
        self._receiver = receiver
        if receiver is not None and self._queue:
            packets = list(self._queue)
            self._queue.clear()
            self._space.set()
            self._deliver(packets)

    def _deliver(self, packets: Sequence[bytes]) -> None:
        receiver = self._receiver
        if receiver is None:
            self._queue.extend(packets)
            self._arrived.set()
            return
        try:
            receiver(packets)
        except Exception:  # the other end's bug must not break this end's send
            log.exception("in-memory receiver failed")

    def send_packets_nowait(self, packets: Sequence[bytes]) -> None:
        """Send reports now, never waiting (the peer's queue may grow past ``buffer``)."""
        checked = self._check(packets)
        assert self._peer is not None
        self._peer._deliver(checked)

    def try_send_packets(self, packets: Sequence[bytes]) -> int:
        """Send reports without waiting; return how many went (none while the peer's queue is full).

        The router's fast path: no coroutine and no send lock. With a receiver on the other end
        (the device-side server), the answer may have arrived by the time this returns.
        """
        return self.send_framed(self._check(packets))

    def send_framed(self, packets: Sequence[bytes]) -> int:
        """:meth:`try_send_packets` for reports a CTAPHID core framed at this transport's ``packet_size``.

        They are not checked again (the router and the device-side server, whose cores framed them,
        send through this; anything else through :meth:`try_send_packets`, which checks every report).
        """
        peer = self._peer
        if self._closed or peer is None or peer._closed:
            return len(self._check(packets))  # raises TransportClosed
        if peer._receiver is None and len(peer._queue) >= peer.buffer:
            return 0
        peer._deliver(packets)
        return len(packets)

    async def send_packet(self, packet: bytes) -> None:
        """Send one report to the peer (see :meth:`send_packets`)."""
        await self.send_packets((packet,))

    async def send_packets(self, packets: Sequence[bytes]) -> None:
        """Send the reports of one message; waits only while the peer's queue holds ``buffer`` reports."""
        checked = self._check(packets)
        peer = self._peer
        assert peer is not None
        while peer._receiver is None and len(peer._queue) >= peer.buffer:
            await peer._space.wait()
            checked = self._check(checked)
        peer._deliver(checked)

    async def receive_packets(self) -> Sequence[bytes]:
        """Every queued report, at least one; with a receiver set, waits until the link closes."""
        while True:
            if self._queue:
                packets = list(self._queue)
                self._queue.clear()
                self._space.set()
                return packets
            if self._closed or self._peer is None or self._peer._closed:
                raise TransportClosed("in-memory transport closed")
            await self._arrived.wait()

    async def aclose(self) -> None:
        """Close this end; both ends' pending waits wake up and raise :class:`TransportClosed`."""
        if self._closed:
            return
        self._closed = True
        self._receiver = None
        self._queue.clear()
        for end in (self, self._peer):
            if end is not None:
                end._arrived.set()
                end._space.set()


def memory_pair(packet_size: int = 64, buffer: int = 1024) -> tuple[MemoryTransport, MemoryTransport]:
    """Two connected transports: ``(host_side, device_side)``."""
    a = MemoryTransport(packet_size, buffer)
    b = MemoryTransport(packet_size, buffer)
    a._peer, b._peer = b, a
    return a, b
