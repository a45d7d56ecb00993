"""A process of N CTAPHID echo devices over UDP, for ``bench_transport.py``.

    python3 benchmarks/_echo_device.py --devices 64 [--delay-ms 1.0]

Each device is aioctap's sans-IO device core (:class:`aioctap.hid.device_side.DeviceCore`: INIT,
PING, ...) on its own UDP port of 127.0.0.1, one 64-byte report per datagram. The process prints
the ports as one JSON line, then serves until its stdin closes. It runs a bare ``select.epoll``
loop (no event loop) so that the device side costs little and the host is what gets measured.

``--delay-ms`` simulates a USB full-speed device: each device sends at most one report per
interval (the first one interval after the request is complete), like an interrupt endpoint
polled every millisecond. Reports are scheduled on a fixed grid so a late wake-up does not slow
the average rate down, and the loop waits for the next one to the microsecond (``select`` on the
epoll descriptor: ``epoll`` itself rounds its timeout up to a whole millisecond, which sent reports
up to 0.7 ms late and made the host's time to answer within the interval a lottery).
"""

from __future__ import annotations

import argparse
import heapq
import json
import os
import select
import socket
import sys
import threading
import time
from collections import deque
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aioctap.hid.device_side import DeviceCore
from aioctap.hid.protocol import CTAPHID

PING = CTAPHID.PING


class EchoDevice:
    """One device: PINGs echoed on a fast path, everything else through :class:`DeviceCore`.

    A PING's response is framed exactly like its request (same channel, command, length and
    split), so once the request is complete its reports are sent back as they came. That keeps
    the device process cheap, so that the host is what the benchmark measures.
    """

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.core = DeviceCore()
        self.ping: dict[int, tuple[int, list[bytes]]] = {}  # cid -> (bytes still expected, reports)
        self.queue: deque[tuple[bytes, object]] = deque()  # paced output
        self.next_send = 0.0

    def receive(self, data: bytes, now: float) -> list[bytes]:
        if len(data) >= 7:
            cid = int.from_bytes(data[:4], "big")
            kind = data[4]
            if kind == 0x80 | PING and cid in self.core._channels:
                length = (data[5] << 8) | data[6]
                if length <= len(data) - 7:
                    return [data]
                self.ping[cid] = (length - (len(data) - 7), [data])
                return []
            pending = self.ping.get(cid)
            if pending is not None and kind < 0x80:
                remaining, reports = pending
                reports.append(data)
                remaining -= len(data) - 5
                if remaining > 0:
                    self.ping[cid] = (remaining, reports)
                    return []
                del self.ping[cid]
                return reports
        out, _ = self.core.receive(data, now)
        return out


def serve(devices: int, delay: float, host: str = "127.0.0.1") -> None:
    # a bare epoll loop and a heap of send times: with 64 devices at 1 ms per report the device
    # process handles ~60,000 datagrams a second, and a selectors loop with an O(devices) scan per
    # wake-up made it, not the host, the bottleneck on two cores
    poller = select.epoll()
    echo: list[EchoDevice] = []
    by_fd: dict[int, int] = {}
    for i in range(devices):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
        s.bind((host, 0))
        s.setblocking(False)
        poller.register(s.fileno(), select.EPOLLIN)
        by_fd[s.fileno()] = i
        echo.append(EchoDevice(s))
    print(json.dumps([d.sock.getsockname()[1] for d in echo]), flush=True)

    def watch_stdin() -> None:
        sys.stdin.read()
        os._exit(0)

    threading.Thread(target=watch_stdin, daemon=True).start()

    due: list[tuple[float, int]] = []  # (next send time, device) of each device with paced output
    clock = time.monotonic
    while True:
        if not due:
            events = poller.poll()
        else:
            timeout = due[0][0] - clock()
            if timeout > 0:
                # epoll's timeout is in whole milliseconds, rounded up: a report due in 0.3 ms would go
                # out up to 0.7 ms late, out of the host's time to answer before the next interval.
                # select() on the epoll descriptor waits to the microsecond, like a device that sends
                # on the bus's frame clock.
                select.select([poller.fileno()], [], [], timeout)
            events = poller.poll(0)
        for fd, _ in events:
            i = by_fd[fd]
            device = echo[i]
            s = device.sock
            while True:
                try:
                    data, addr = s.recvfrom(2048)
                except (BlockingIOError, InterruptedError):
                    break
                except OSError:
                    continue
                now = clock()
                out = device.receive(data, now)
                if not out:
                    continue
                if delay <= 0:
                    for p in out:
                        try:
                            s.sendto(p, addr)
                        except OSError:
                            pass
                else:
                    if not device.queue:  # not in ``due`` yet
                        device.next_send = max(device.next_send, now) + delay
                        heapq.heappush(due, (device.next_send, i))
                    device.queue.extend([(p, addr) for p in out])
                # a whole request was answered: its host waits now, so the socket is most likely
                # empty; epoll reports it again if not (saves a failing recvfrom per request)
                break
        if due:
            now = clock()
            while due and due[0][0] <= now:
                _, i = heapq.heappop(due)
                device = echo[i]
                # one report per interval, on a fixed grid: a late wake-up sends what is due
                while device.queue and device.next_send <= now:
                    p, addr = device.queue.popleft()
                    try:
                        device.sock.sendto(p, addr)  # type: ignore[arg-type]
                    except OSError:
                        pass
                    device.next_send += delay
                if device.queue:
                    heapq.heappush(due, (device.next_send, i))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--devices", type=int, default=1)
    parser.add_argument("--delay-ms", type=float, default=0.0)
    args = parser.parse_args()
    serve(args.devices, args.delay_ms / 1000.0)


if __name__ == "__main__":
    main()
