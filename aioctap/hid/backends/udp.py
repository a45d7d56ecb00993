"""UDP packet transport: one report per datagram, the convention of authenticator simulators.

The device listens on a port (127.0.0.1:8111 by default) and replies to the sender's address.
The reader waits for readability and then drains the ready datagrams in one go: one wake-up for
a whole burst of continuation packets is what keeps the host's CPU cost per report low. Draining
stops after a one-report message (a short answer, a keepalive), which saves the failing ``recv``
per short round trip; the socket stays readable if more is queued. On asyncio
the socket stays registered with the loop (no add/remove of a reader per wait) and the loop's
callback does the draining; on other anyio backends ``anyio.wait_readable`` is used.
``send_packets`` sends the reports of one message without a coroutine per report, and
``try_send_packets`` without any (the router's fast path; it reports how many went);
``send_report`` is the socket's own ``send`` for a one-report message (no Python frame at all).

On asyncio the router gets its packets from the loop's callback directly (``set_receiver``),
without a wake-up of its reader task, and a datagram holding a whole short message on its own
(``set_report_receiver``), without a batch around it.

A device that sends the reports of a message slowly (a USB key's pace: one per millisecond) would wake the loop
once per report. On asyncio the transport learns that pace and, while such a message comes in, stops watching the
socket and drains it once when the rest should be there (see "A slow device's long message" below).
"""

from __future__ import annotations

import asyncio
import logging
import platform
import socket
import struct
import sys
import time
import weakref
from collections.abc import Callable, Sequence

import anyio

from ..transport import TransportClosed

__all__ = ["UdpEndpoint", "UdpTransport", "set_buffer_sizes"]

log = logging.getLogger(__name__)

MAX_BUFFERED = 4096  # reports drained ahead of the reader before the socket is left to the kernel
# a continuation report this long after the one before it (a USB key's pace is 1 ms) makes the device a slow one
SLOW_REPORT_GAP = 0.0003
MAX_SLEEP = 0.1  # the longest the socket goes unwatched while a slow device's message comes in
# the drain by timer serves event loops with at most this many UDP devices open: with more, one wake-up of the loop
# serves several busy devices anyway, and devices in step (all at one pace) are better drained as their reports come
# than all together after a wait (64 paced devices lost 2-10 % of their rate to the timers, by how many had them)
MAX_TIMED_DEVICES = 4
_devices_on: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, int] = weakref.WeakKeyDictionary()
# the kernel's arrival time of each datagram (a struct timeval), read by the drain after such a wait: the pace.
# Python's socket module does not export SO_TIMESTAMP; its value on Linux (but PA-RISC) and on macOS:
_SO_TIMESTAMP: int | None = getattr(socket, "SO_TIMESTAMP", None) or (
    29 if sys.platform == "linux" and not platform.machine().startswith("parisc")
    else 0x400 if sys.platform == "darwin" else None
)  # fmt: skip
_TIMEVAL = struct.Struct("@ll")
_STAMP_ROOM = socket.CMSG_SPACE(_TIMEVAL.size)  # ancillary room for one arrival time
SOCKET_BUFFER = 1 << 20  # a burst of 64 channels x 129 reports must not overflow the kernel's queue


def set_buffer_sizes(sock: socket.socket, size: int = SOCKET_BUFFER) -> None:
    """Ask for large socket buffers: UDP drops what does not fit, and CTAPHID has no retransmission."""
    for option in (socket.SO_RCVBUF, socket.SO_SNDBUF):
        try:
            sock.setsockopt(socket.SOL_SOCKET, option, size)
        except OSError:  # capped or refused by the system: keep its default
            pass


class UdpTransport:
    """Host side of a UDP link to ``(host, port)``: a connected socket of its own.

    Tried and dropped (round 2): one unconnected host socket per event loop shared by every UDP
    transport, demultiplexed by source address. With a 0-byte PING it saved 3-5 % of the host CPU
    with 16 and 64 devices but cost 6 % with one (``sendto`` on an unconnected socket), and with
    64 devices sending 7609-byte answers at once (8,256 reports in flight) the one shared receive
    buffer overflowed and lost reports, which CTAPHID cannot recover from. Separate sockets give
    every device its own kernel buffer.
    """

    def __init__(self, host: str, port: int, *, packet_size: int = 64) -> None:
        self.packet_size = packet_size
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)
        if not infos:
            raise OSError(f"cannot resolve {host}:{port}")
        family, _, _, _, addr = infos[0]
        self._sock = socket.socket(family, socket.SOCK_DGRAM)
        set_buffer_sizes(self._sock)
        self._sock.setblocking(False)
        self._sock.connect(addr)
        self._stamped = False  # the kernel stamps each datagram's arrival (SO_TIMESTAMP)
        if _SO_TIMESTAMP is not None:
            try:
                self._sock.setsockopt(socket.SOL_SOCKET, _SO_TIMESTAMP, 1)
                self._stamped = True
            except OSError:
                pass
        self._closed = False
        # asyncio fast path: the socket stays registered with the loop, whose callback drains it
        self._loop: asyncio.AbstractEventLoop | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._ready: list[bytes] = []
        self._error: TransportClosed | None = None
        self._paused = False
        self._receiver: Callable[[Sequence[bytes]], object] | None = None
        self._report_receiver: Callable[[bytes], bool] | None = None
        # the message coming in (CTAP 2.1 §11.2.4): payload bytes still to come and when its last report came; the
        # device's pace (seconds per report, 0 for a device that sends at once); the timer that drains the socket
        # while it is not watched (see _track)
        self._remaining = 0
        self._last_report = 0.0
        self._pace = 0.0
        self._timer: asyncio.TimerHandle | None = None
        self._timed = False  # _on_readable runs from the timer
        self._stamps: list[float] = []  # arrival times of the first two continuation reports of the timer's drain
        self._due = 0.0  # when the timer should fire
        self._lateness = 0.0  # how late the timer fired, on average (seconds)
        self._after_timer = False  # the last batch was the timer's drain
        #: the socket's own ``send`` for one report, for the router's hot path: no Python frame.
        #: It raises ``OSError`` when the report cannot go (a full buffer, an ICMP error, a closed
        #: socket); :meth:`try_send_packets` then sends it or says why not.
        self.send_report: Callable[[bytes], object] = self._sock.send

    def set_receiver(self, receiver: Callable[[Sequence[bytes]], object] | None) -> None:
        """(asyncio) Hand datagrams to ``receiver(packets)`` from the loop's readable callback.

        Saves the reader task's wake-up per burst: the router routes each report as the loop
        drains the socket. Packets not handed over (before ``receive_packets`` first runs, or on
        another anyio backend) still come out of ``receive_packets``.
        """
        self._receiver = receiver

    def set_report_receiver(self, receiver: Callable[[bytes], bool] | None) -> None:
        """(asyncio, with :meth:`set_receiver`) Offer each datagram to ``receiver(report)`` first, on
        its own, without a batch around it (the router takes a one-report answer there); what it does
        not take (returns False) goes on as without it."""
        self._report_receiver = receiver

    async def send_packet(self, packet: bytes) -> None:
        """Send one report as one datagram (see :meth:`send_packets`)."""
        await self.send_packets((packet,))

    async def send_packets(self, packets: Sequence[bytes]) -> None:
        """Send the reports of one message in one go (waits only if the socket buffer is full)."""
        sent = self.try_send_packets(packets)
        while sent < len(packets):  # the socket buffer is full: the rest goes once there is room
            await anyio.wait_writable(self._sock)
            sent += self.try_send_packets(packets[sent:])

    def try_send_packets(self, packets: Sequence[bytes]) -> int:
        """Send reports without waiting; return how many went (fewer only when the socket buffer is full).

        The router's fast path: no coroutine and no send lock when every report fits at once.
        """
        if self._closed:
            raise TransportClosed("UDP transport closed")
        size = self.packet_size
        send = self._sock.send
        sent = 0
        for packet in packets:
            if len(packet) != size:
                raise ValueError(f"packet must be {size} bytes, got {len(packet)}")
            try:
                send(packet)
            except BlockingIOError:
                return sent
            except ConnectionRefusedError:
                return len(packets)  # nobody listening (yet): the call times out like a silent device
            except OSError as e:
                raise TransportClosed(f"UDP send failed: {e}") from None
            sent += 1
        return sent

    def _drain(self, packets: list[bytes]) -> None:
        """Append the datagrams ready now to ``packets`` (non-blocking).

        Stops after a one-report message: the socket stays readable if more is queued, so the next
        turn of the loop (or of ``wait_readable``) gets the rest. After the slow-device timer, the first
        two continuation reports are read with their arrival times, which go to ``_stamps`` (see _track).
        """
        stamping = self._timed and self._stamped
        recv, recvmsg, size = self._sock.recv, self._sock.recvmsg, self.packet_size
        while True:
            try:
                if stamping:
                    data, ancillary, _, _ = recvmsg(2048, _STAMP_ROOM)
                else:
                    data = recv(2048)
            except (BlockingIOError, InterruptedError):
                return
            except ConnectionRefusedError:
                continue  # an ICMP "port unreachable" for an earlier datagram: the device is not there
            except OSError as e:
                raise TransportClosed(f"UDP receive failed: {e}") from None
            if len(data) == size:
                packets.append(data)
                if data[4] & 0x80:
                    if ((data[5] << 8) | data[6]) <= size - 7:
                        # a whole one-report message (a short answer, a keepalive): hand it over now
                        # rather than pay a failing recv; the loop calls back if more is queued
                        return
                elif stamping:
                    for _, kind, value in ancillary:
                        if kind == _SO_TIMESTAMP and len(value) >= _TIMEVAL.size:
                            seconds, microseconds = _TIMEVAL.unpack_from(value)
                            self._stamps.append(seconds + microseconds * 1e-6)
                    stamping = len(self._stamps) < 2

    def _on_readable(self) -> None:
        """Loop callback: drain the socket; hand the packets to the receiver, or wake the reader."""
        receiver = self._receiver
        if receiver is not None and not self._ready and not self._timed:
            # the common case first: one datagram holding a whole message (a short answer, a
            # keepalive) goes straight to the receiver, without the list that draining builds
            try:
                data = self._sock.recv(2048)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                pass  # an ICMP error (consumed) or a broken socket: the draining below deals with it
            else:
                try:
                    report_receiver = self._report_receiver
                    if report_receiver is not None and report_receiver(data):
                        return  # taken (a one-report answer)
                    size = self.packet_size
                    if len(data) != size:
                        return  # not a report: dropped, as draining drops it; the loop calls back if more is queued
                    if data[4] & 0x80 and ((data[5] << 8) | data[6]) <= size - 7:
                        receiver((data,))
                        return
                except Exception:  # the router's bug must not stop the loop's callback
                    log.exception("UDP receiver failed")
                    return
                self._ready.append(data)  # part of a longer message: drain the rest with it
        ready = self._ready
        try:
            self._drain(ready)
        except TransportClosed as e:
            self._error = e
            assert self._loop is not None
            self._loop.remove_reader(self._sock.fileno())
        receiver = self._receiver
        if receiver is not None and ready:
            self._ready = []
            delay = self._track(ready)
            try:
                receiver(ready)
            except Exception:  # the router's bug must not stop the loop's callback
                log.exception("UDP receiver failed")
            if delay and self._error is None and not self._closed:
                self._sleep(delay)
        waiter = self._waiter
        if waiter is not None:
            if not waiter.done() and (self._ready or self._error):
                waiter.set_result(None)
        elif len(self._ready) >= MAX_BUFFERED and self._loop is not None and not self._paused:
            # nobody reads: stop draining and let the kernel buffer (and drop) instead of growing
            self._paused = True
            self._loop.remove_reader(self._sock.fileno())

    # -- A slow device's long message --------------------------------------------------------------------------
    # Woken once per datagram, the event loop costs about three times the CPU of a blocking read: with 64-byte
    # datagrams 1 ms apart, a bare asyncio reader callback takes 52-62 us per datagram, a blocking recv 17-23 us.
    # A device sending one report per millisecond (a USB key's pace) would cost that for each continuation report
    # of a long answer. So the transport learns the device's pace from the reports that come alone, and while a
    # message from a slow device comes in it stops watching the socket and drains it once, when the rest should be
    # there: one wake-up for all but its last report or so, which is watched for as before, so that the answer is
    # not late. The pace is kept up to date by the kernel's arrival times of the reports the timer's drain finds
    # (SO_TIMESTAMP; where the system has none, by the last reports, watched for): a device that turns fast is
    # drained at once again from its next message on. A device that sends its reports at once
    # never gets there: a drain that finds two or more continuation reports waiting says so.
    # Tried first: a thread that reads the rest of the message (as the hid backend's reader thread does) cost
    # 1.5x python-fido2's CPU on a paced 1024-byte PING; this timer about 0.9-1.0x.

    def _track(self, reports: Sequence[bytes]) -> float:
        """Follow the message coming in through ``reports`` (reports of ``packet_size``, just drained) and learn
        the device's pace; how long to leave the socket alone before draining again (0: watch it)."""
        size = self.packet_size
        before = remaining = self._remaining
        continuations = 0
        for report in reports:
            if report[4] & 0x80:  # an initialization report: BCNT says how much follows it
                remaining, continuations = ((report[5] << 8) | report[6]) - (size - 7), 0
            elif remaining > 0:
                remaining -= size - 5
                continuations += 1
        now = time.monotonic()
        if not self._timed:
            if continuations >= 2:
                self._pace = 0.0  # a burst waited: the device sends at once
            elif continuations == 1 and before > 0 and len(reports) == 1 and not self._after_timer:
                gap = now - self._last_report  # one continuation report, alone: the device's pace
                self._pace = gap if gap > SLOW_REPORT_GAP else 0.0
        elif len(self._stamps) >= 2:  # the kernel says how far apart two reports came while the socket was left
            gap = self._stamps[1] - self._stamps[0]
            self._pace = (self._pace + gap) / 2 if gap > SLOW_REPORT_GAP else 0.0
        self._stamps.clear()
        # (after the timer's drain, the time to the next report says how late the timer was, not the pace)
        self._after_timer = self._timed
        self._remaining, self._last_report = max(remaining, 0), now
        if remaining <= 0 or not self._pace:
            return 0.0
        # drained a quarter of an interval before the last report is due, less how late this loop's timers come
        # (a millisecond when idle, several with 64 busy devices): most often all but the last report are there
        # then, and the socket is watched for the rest, so that the answer is not late
        delay = (-(-remaining // (size - 5)) - 0.75) * self._pace - self._lateness
        if delay < self._pace:
            return 0.0  # about one report to come: watched for
        return min(delay, MAX_SLEEP)

    def _sleep(self, delay: float) -> None:
        """Stop watching the socket; drain it after ``delay`` seconds."""
        loop = self._loop
        assert loop is not None
        if self._timer is None:
            if _devices_on[loop] > MAX_TIMED_DEVICES:
                return
            loop.remove_reader(self._sock.fileno())
        else:
            self._timer.cancel()
        self._due = loop.time() + delay
        self._timer = loop.call_at(self._due, self._wake)

    def _wake(self) -> None:
        """(timer) Watch the socket again and drain what came meanwhile (which may leave it alone again)."""
        self._timer = None
        assert self._loop is not None
        if self._closed:  # (aclose cancels the timer; this is for a timer that fired in the same turn)
            return
        self._lateness += (max(self._loop.time() - self._due, 0.0) - self._lateness) / 8
        self._loop.add_reader(self._sock.fileno(), self._on_readable)
        self._timed = True
        try:
            self._on_readable()
        finally:
            self._timed = False

    async def receive_packets(self) -> Sequence[bytes]:
        """Every datagram ready now, at least one; raises :class:`TransportClosed` once closed."""
        if self._loop is None:
            try:
                self._loop = asyncio.get_running_loop()  # own socket: register it on first use
                self._loop.add_reader(self._sock.fileno(), self._on_readable)
                _devices_on[self._loop] = _devices_on.get(self._loop, 0) + 1
            except (RuntimeError, NotImplementedError):  # not asyncio, or a loop without add_reader
                self._loop = None
                return await self._receive_generic()
        while True:
            if self._closed:
                raise TransportClosed("UDP transport closed")
            if self._error is not None:
                raise self._error
            if self._ready:
                packets, self._ready = self._ready, []
                if self._paused:
                    self._paused = False
                    self._loop.add_reader(self._sock.fileno(), self._on_readable)
                return packets
            self._waiter = self._loop.create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None

    async def _receive_generic(self) -> Sequence[bytes]:
        # wait for readability, then drain every ready datagram in one go
        while True:
            if self._closed:
                raise TransportClosed("UDP transport closed")
            try:
                await anyio.wait_readable(self._sock)
            except (anyio.ClosedResourceError, OSError, ValueError):
                raise TransportClosed("UDP transport closed") from None
            packets: list[bytes] = []
            self._drain(packets)
            if packets:
                return packets

    async def aclose(self) -> None:
        """Stop reading and close the socket; a pending ``receive_packets`` raises :class:`TransportClosed`."""
        if not self._closed:
            self._closed = True
            if self._loop is not None:
                if self._timer is not None:
                    self._timer.cancel()
                    self._timer = None
                _devices_on[self._loop] -= 1
                self._loop.remove_reader(self._sock.fileno())
                if self._waiter is not None and not self._waiter.done():
                    self._waiter.set_result(None)
            else:
                try:
                    anyio.notify_closing(self._sock)
                except (ValueError, OSError):
                    pass
            self._sock.close()


Address = tuple[str, int]


class UdpEndpoint:
    """Device side of the UDP convention: a bound socket whose every report is answered to its sender.

    What :class:`~aioctap.hid.device_side.CtapHidServer` serves UDP through (``aioctap virtual --udp``,
    the test and benchmark devices). Reports of another size than ``packet_size`` are dropped;
    ``port`` 0 binds a free port (:attr:`address` tells which).
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 8111, *, packet_size: int = 64) -> None:
        self.packet_size = packet_size
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._sock = socket.socket(family, socket.SOCK_DGRAM)
        try:
            set_buffer_sizes(self._sock)
            self._sock.setblocking(False)
            self._sock.bind((host, port))
        except BaseException:
            self._sock.close()
            raise

    @property
    def address(self) -> Address:
        """The bound ``(host, port)``."""
        host, port = self._sock.getsockname()[:2]
        return host, port

    def try_send_to(self, packets: Sequence[bytes], addr: Address) -> int:
        """Send reports to ``addr`` without waiting; how many went (fewer only when the buffer is full).

        A report the system refuses for another reason (the host went away) counts as sent: UDP has
        no delivery to wait for, and CTAPHID's timeouts deal with what is lost.
        """
        send = self._sock.sendto
        for i, packet in enumerate(packets):
            try:
                send(packet, addr)
            except BlockingIOError:
                return i
            except OSError as e:
                log.debug("UDP send to %s failed: %s", addr, e)
        return len(packets)

    async def send_to(self, packet: bytes, addr: Address) -> None:
        """Send one report to ``addr``, waiting while the socket buffer is full."""
        while not self.try_send_to((packet,), addr):
            await anyio.wait_writable(self._sock)

    async def receive_from(self) -> list[tuple[bytes, Address]]:
        """Every report ready now with its sender, at least one (waits for readability, then drains)."""
        size = self.packet_size
        recvfrom = self._sock.recvfrom
        while True:
            await anyio.wait_readable(self._sock)
            out: list[tuple[bytes, Address]] = []
            while True:
                try:
                    data, addr = recvfrom(2048)
                except (BlockingIOError, InterruptedError):
                    break
                except ConnectionRefusedError:  # an ICMP error for an earlier reply: that host went away
                    continue
                if len(data) == size:
                    out.append((data, addr[:2]))
            if out:
                return out

    def close(self) -> None:
        """Close the socket."""
        self._sock.close()
