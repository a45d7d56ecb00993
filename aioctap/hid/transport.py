"""The packet transport protocol every CTAPHID backend implements (DESIGN.md)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Literal, Protocol

import anyio

from ..ctap import TransportError

__all__ = ["MessageTransport", "PacketTransport", "TransportClosed", "Wakeup"]


class TransportClosed(TransportError):
    """The transport reached its end (closed locally, device gone, socket closed)."""


class PacketTransport(Protocol):
    """Moves whole reports: ``packet_size`` bytes each (64 for full-speed USB HID).

    Optional extensions, looked up with ``getattr`` by the router and the device-side server:
    ``async send_packets(packets)`` (the reports of one message in one call),
    ``send_packets_nowait(packets)`` (send without waiting; the in-memory backend), and
    ``set_receiver(callback | None)``: hand arriving reports to ``callback(packets)`` as they
    arrive (in the sender's task for the in-memory backend, in the loop's readable callback for
    UDP) instead of returning them from ``receive_packets``, which then mostly waits for the end.
    The UDP backend also has ``try_send_packets(packets) -> int`` (send what fits now, without
    waiting), ``send_report`` (the socket's own send of one report, raising ``OSError``) and
    ``set_report_receiver(callback | None)`` (a whole one-report message on its own, as ``callback(report)``).
    """

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


class MessageTransport(PacketTransport, Protocol):
    """A :class:`PacketTransport` whose own reader thread groups reports into messages (the hid backend).

    Each ``receive_packets`` returns the reports of complete CTAPHID messages (CTAP 2.1 §11.2.4: an
    initialization report and the continuation reports its BCNT announces; a KEEPALIVE or ERROR report
    alone), and the thread wakes the event loop once per message, not once per report. When the framing
    is odd (a gap, a report of another channel or a new initialization report mid-message) it hands over
    what it has and the host's reassembly decides, so a batch may also hold part of a message.
    """

    #: always True: marks the transport as one that hands over whole messages
    reassembles_messages: Literal[True]

    def set_receiver(self, receiver: Callable[[Sequence[bytes]], None] | None) -> None:
        """Hand each batch to ``receiver(reports)`` in the event loop's thread, in the callback the reader
        thread schedules (one per message), instead of returning it from ``receive_packets``; ``None``
        goes back to ``receive_packets``. Batches not yet taken go to a new receiver at once."""
        ...


class Wakeup:
    """A reusable wake-up for one waiting task: ``set()`` from anywhere, ``await wait()`` in the task.

    A ``set()`` with nobody waiting is remembered until the next ``wait()``. On asyncio it waits on a
    bare future (the cheapest thing a task can wait on); elsewhere on an ``anyio.Event``.
    """

    __slots__ = ("_flag", "_waiter")

    def __init__(self) -> None:
        self._flag = False
        self._waiter: asyncio.Future[None] | anyio.Event | None = None

    def set(self) -> None:
        """Wake the waiting task, or the next one to ``wait()``; callable from any code in the loop's thread."""
        self._flag = True
        waiter = self._waiter
        if waiter is None:
            return
        if isinstance(waiter, asyncio.Future):
            if not waiter.done():
                waiter.set_result(None)
        else:
            waiter.set()

    async def wait(self) -> None:
        """Return once ``set()`` was called since the last ``wait()`` returned."""
        if not self._flag:
            waiter: asyncio.Future[None] | anyio.Event
            try:
                waiter = asyncio.get_running_loop().create_future()
            except RuntimeError:  # not asyncio (trio)
                waiter = anyio.Event()
            self._waiter = waiter
            try:
                await (waiter if isinstance(waiter, asyncio.Future) else waiter.wait())
            finally:
                self._waiter = None
        self._flag = False
