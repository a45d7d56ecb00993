"""One ``aioctap virtual --udp 127.0.0.1:0`` process for a test: started, waited for until it listens (its port
read from the log), power-cycled with SIGUSR1 and stopped, every wait bounded.

Used by the Yubico device-suite plugin (``aioctap_device_plugin.py``, beside it on ``PYTHONPATH``) and by
``tests/virtual/test_libfido2.py`` (loaded from this path). The child runs whatever ``aioctap`` its
``PYTHONPATH`` finds; ``AIOCTAP_VIRTUAL_KEY`` is dropped from its environment.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

POWER_CYCLE_LINE = "power cycle (SIGUSR1)"


class VirtualUdpAuthenticator:
    """One ``aioctap virtual --udp`` process, pluggable and unpluggable."""

    def __init__(self, extra_args: list[str], log_file: Path) -> None:
        self.log_file = log_file
        env = {k: v for k, v in os.environ.items() if k != "AIOCTAP_VIRTUAL_KEY"}
        env["PYTHONUNBUFFERED"] = "1"
        with log_file.open("wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "aioctap", "virtual", "--udp", "127.0.0.1:0", "--quiet", *extra_args],
                stdout=log, stderr=log, stdin=subprocess.DEVNULL, env=env,
            )  # fmt: skip
        deadline = time.monotonic() + 30
        while not (found := re.search(r"listening on udp:127\.0\.0\.1:(\d+)", self.log())):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.close()
                raise RuntimeError(f"aioctap virtual did not start: {self.log()}")
            time.sleep(0.02)
        self.port = int(found.group(1))
        self.generation = 0
        self.plugged = True

    def log(self) -> str:
        return self.log_file.read_text(errors="replace")

    @property
    def path(self) -> str:
        """The device path of the current plug-in (a new one after each unplug, as USB re-enumerates)."""
        return f"udp:127.0.0.1:{self.port}#{self.generation}"

    def unplug(self) -> None:
        """Power off: SIGUSR1, waiting until the process has handled it; the device leaves the listing."""
        if not self.plugged:
            return
        seen = self.log().count(POWER_CYCLE_LINE)
        self.proc.send_signal(signal.SIGUSR1)
        deadline = time.monotonic() + 10
        while self.log().count(POWER_CYCLE_LINE) <= seen:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"aioctap virtual did not power-cycle: {self.log()}")
            time.sleep(0.005)
        self.plugged = False

    def plug(self) -> None:
        """Power on again, under a new device path."""
        if not self.plugged:
            self.generation += 1
            self.plugged = True

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
