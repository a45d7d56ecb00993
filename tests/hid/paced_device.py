"""A CTAPHID device on a UDP port, as a process of its own: each report ``pace`` seconds after the one before.

    python tests/hid/paced_device.py PACE

The sans-IO device core answers (INIT, PING, ...). It prints its port, then takes commands on stdin, one a line,
each acknowledged with "ok": ``pace SECONDS``; ``stall N`` (send only the first N reports of each longer answer;
``stall -1``: all). A process of its own, so that the host's event loop and the device never share a GIL: the
reports come at the device's pace, as from a real one.
"""

from __future__ import annotations

import socket
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from aioctap.hid.device_core import DeviceCore


def main() -> None:
    settings = {"pace": float(sys.argv[1]), "stall": -1.0}
    core = DeviceCore()
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    print(sock.getsockname()[1], flush=True)

    def serve() -> None:
        while True:
            data, addr = sock.recvfrom(2048)
            out, _ = core.receive(data, time.monotonic())
            stall = int(settings["stall"])
            if stall >= 0 and len(out) > 1:
                out = out[:stall]
            pace, due = settings["pace"], time.monotonic()
            for report in out:
                if pace:
                    due += pace
                    time.sleep(max(0.0, due - time.monotonic()))
                sock.sendto(report, addr)

    threading.Thread(target=serve, daemon=True).start()
    for line in sys.stdin:
        name, value = line.split()
        settings[name] = float(value)
        print("ok", flush=True)


if __name__ == "__main__":
    main()
