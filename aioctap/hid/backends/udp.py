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
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Callable, Sequence

import anyio

from ..transport import TransportClosed

__all__ = ["UdpEndpoint", "UdpTransport", "set_buffer_sizes"]

log = logging.getLogger(__name__)

MAX_BUFFERED = 4096  # reports drained ahead of the reader before the socket is left to the kernel
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
        self._closed = False
        # asyncio fast path: the socket stays registered with the loop, whose callback drains it
        self._loop: asyncio.AbstractEventLoop | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._ready: list[bytes] = []
        self._error: TransportClosed | None = None
        self._paused = False
        self._receiver: Callable[[Sequence[bytes]], object] | None = None
        self._report_receiver: Callable[[bytes], bool] | None = None
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
        if self._closed:
            raise TransportClosed("UDP transport closed")
        size = self.packet_size
        sock = self._sock
        send = sock.send
        for packet in packets:
            if len(packet) != size:
                raise ValueError(f"packet must be {size} bytes, got {len(packet)}")
            while True:
                try:
                    send(packet)
                    break
                except BlockingIOError:
                    await anyio.wait_writable(sock)
                except ConnectionRefusedError:
                    return  # nobody listening (yet): the call times out like a silent device
                except OSError as e:
                    raise TransportClosed(f"UDP send failed: {e}") from None

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
        turn of the loop (or of ``wait_readable``) gets the rest.
        """
        recv = self._sock.recv
        size = self.packet_size
        while True:
            try:
                data = recv(2048)
            except (BlockingIOError, InterruptedError):
                return
            except ConnectionRefusedError:
                continue  # an ICMP "port unreachable" for an earlier datagram: the device is not there
            except OSError as e:
                raise TransportClosed(f"UDP receive failed: {e}") from None
            if len(data) == size:
                packets.append(data)
                if data[4] & 0x80 and ((data[5] << 8) | data[6]) <= size - 7:
                    # a whole one-report message (a short answer, a keepalive): hand it over now
                    # rather than pay a failing recv; the loop calls back if more is queued
                    return

    def _on_readable(self) -> None:
        """Loop callback: drain the socket; hand the packets to the receiver, or wake the reader."""
        receiver = self._receiver
        if receiver is not None and not self._ready:
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
            try:
                receiver(ready)
            except Exception:  # the router's bug must not stop the loop's callback
                log.exception("UDP receiver failed")
        waiter = self._waiter
        if waiter is not None:
            if not waiter.done() and (self._ready or self._error):
                waiter.set_result(None)
        elif len(self._ready) >= MAX_BUFFERED and self._loop is not None and not self._paused:
            # nobody reads: stop draining and let the kernel buffer (and drop) instead of growing
            self._paused = True
            self._loop.remove_reader(self._sock.fileno())

    async def receive_packets(self) -> Sequence[bytes]:
        """Every datagram ready now, at least one; raises :class:`TransportClosed` once closed."""
        if self._loop is None:
            try:
                self._loop = asyncio.get_running_loop()  # own socket: register it on first use
                self._loop.add_reader(self._sock.fileno(), self._on_readable)
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
