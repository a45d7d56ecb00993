"""``aioctap virtual`` handles a SIGUSR1 (power cycle) sent the moment it says it is listening.

The "listening on udp:..." line is what scripts (and tests/interop/conftest.py) wait for; a SIGUSR1 sent right
after it must be a power cycle, not the signal's default action (which ends the process).
"""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path

LISTENING = b"listening on udp:"
POWER_CYCLE = b"power cycle (SIGUSR1)"
RUNS = 10


def _start(directory: Path, i: int) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if k != "AIOCTAP_VIRTUAL_KEY"}
    env["PYTHONUNBUFFERED"] = "1"
    return subprocess.Popen(
        [sys.executable, "-m", "aioctap", "virtual", "--udp", "127.0.0.1:0", "--state", str(directory / f"{i}.state"),
         "--attestation", "none", "--quiet"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, env=env,
    )  # fmt: skip


def test_sigusr1_right_after_the_listening_line_is_a_power_cycle(tmp_path: Path) -> None:
    procs = [_start(tmp_path, i) for i in range(RUNS)]  # started together: the runs overlap
    output = {p.pid: b"" for p in procs}
    signalled: set[int] = set()
    ended: set[int] = set()
    sel = selectors.DefaultSelector()
    try:
        for p in procs:
            assert p.stderr is not None
            os.set_blocking(p.stderr.fileno(), False)
            sel.register(p.stderr, selectors.EVENT_READ, p)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and any(
            POWER_CYCLE not in out and pid not in ended for pid, out in output.items()
        ):
            for key, _ in sel.select(timeout=0.5):
                p = key.data
                chunk = os.read(key.fd, 65536)
                if not chunk:  # the process closed stderr: it ended
                    sel.unregister(key.fileobj)
                    ended.add(p.pid)
                    continue
                output[p.pid] += chunk
                if p.pid not in signalled and LISTENING in output[p.pid]:
                    p.send_signal(signal.SIGUSR1)  # at once, as soon as the line is read
                    signalled.add(p.pid)
        for p in procs:
            text = output[p.pid].decode(errors="replace")
            assert p.pid in signalled, f"never said it was listening: {text}"
            assert p.poll() is None, f"ended (exit status {p.returncode}) on the SIGUSR1: {text}"
            assert POWER_CYCLE in output[p.pid], f"did not log the power cycle: {text}"
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            assert p.wait(timeout=20) == 0
    finally:
        sel.close()
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
            if p.stderr is not None:
                p.stderr.close()
