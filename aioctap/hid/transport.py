"""The packet transport protocol every CTAPHID backend implements (DESIGN.md)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Literal, Protocol, runtime_checkable

import anyio

from ..ctap import TransportError

__all__ = [
    "MessageTransport",
    "NowaitSender",
    "PacketTransport",
    "RawReportSender",
    "ReportPusher",
    "ReportReceiver",
    "ReportsPusher",
    "ReportsReceiver",
    "TransportClosed",
    "Wakeup",
]

ReportsReceiver = Callable[[Sequence[bytes]], object]
ReportReceiver = Callable[[bytes], bool]


class TransportClosed(TransportError):
    """The transport reached its end (closed locally, device gone, socket closed)."""


class PacketTransport(Protocol):
    """Moves whole reports: ``packet_size`` bytes each (64 for full-speed USB HID).

    A backend may also implement the extensions below, each a Protocol of its own that the shells
    test for once, with ``isinstance``, when they take the transport: :class:`NowaitSender`,
    :class:`RawReportSender`, :class:`ReportsPusher` and :class:`ReportPusher`.
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


@runtime_checkable
class NowaitSender(Protocol):
    """Sends without waiting (UDP, in-memory): what the host shell uses for every send it can."""

    def try_send_packets(self, packets: Sequence[bytes]) -> int:
        """Send reports now; return how many went (fewer only while the buffer is full)."""
        ...


@runtime_checkable
class RawReportSender(Protocol):
    """(UDP) ``send_report(report)``: the socket's own send of one report; raises ``OSError`` when it
    cannot send (then :meth:`NowaitSender.try_send_packets` sends it or says why not)."""

    send_report: Callable[[bytes], object]


@runtime_checkable
class ReportsPusher(Protocol):
    """Hands arriving reports to a receiver as they arrive (in-memory: in the sender's task; UDP on
    asyncio: in the loop's readable callback; hid: once per complete message, from its reader thread
    through the event loop) instead of returning them from ``receive_packets``."""

    def set_receiver(self, receiver: ReportsReceiver | None) -> None:
        """Deliver arriving reports to ``receiver(reports)``; ``None`` goes back to ``receive_packets``."""
        ...


@runtime_checkable
class ReportPusher(Protocol):
    """(UDP, with :class:`ReportsPusher`) each datagram is offered on its own first."""

    def set_report_receiver(self, receiver: ReportReceiver | None) -> None:
        """Offer each datagram to ``receiver(report)`` first, without a batch around it: one it
        takes (returns True) is done with; the rest go on as without it."""
        ...


@runtime_checkable
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

    What anyio lacks: ``anyio.Event`` is one-shot (no ``clear``), so a loop that waits again and
    again needs a new event per wait and a way not to lose a ``set()`` that comes between two
    waits. Measured on asyncio, one hand-off from a producer task to a waiting consumer: 4.3 us
    with ``Wakeup``, 7-9.6 us with a new ``anyio.Event`` per wait.
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
