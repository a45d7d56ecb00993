"""``aioctap demo``: in process (typer's CliRunner), as a real subprocess, and against a UDP authenticator."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from aioctap.cli import app
from aioctap.ctap2 import FPBioEnrollment

ROOT = Path(__file__).resolve().parent.parent
STEPS = [
    "start the relying-party server",
    "open the authenticator",
    "set a PIN",
    "register through the HTTP API",
    "sign in",
    "list credentials (credential management)",
    "enroll a fingerprint",
    "enroll and verify a TOTP code",
    "replay the TOTP code",
    "Taler POS confirmation code",
]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _check_success(output: str) -> None:
    for number, name in enumerate(STEPS, 1):
        assert f"✓ {number}. {name}:" in output, f"step {name!r} missing from:\n{output}"
    assert "✗" not in output
    assert re.search(r"demo finished in \d+\.\d s", output)
    assert "UsedTokenError" in output  # the replayed code was refused
    assert re.search(r"confirmation code (?:0|[1-9]\d{0,7})\b", output)


def test_demo_in_process() -> None:
    result = CliRunner().invoke(app, ["demo"])
    assert result.exit_code == 0, result.output
    _check_success(result.output)
    assert re.search(r"enrolled in \d+ touches, 1 retried: FP_TOO_HIGH", result.output)  # the scripted bad sample


def test_demo_failing_step_is_named_in_red_and_exits_1() -> None:
    result = CliRunner().invoke(app, ["demo", "--price", "EUR-4"])
    assert result.exit_code == 1, result.output
    assert "✗ 10. Taler POS confirmation code failed: amount must be CURRENCY:VALUE" in result.output
    assert "AmountError" not in result.output  # no Python class name
    assert "demo failed at step 'Taler POS confirmation code'" in result.output
    assert "✓ 9. replay the TOTP code" in result.output  # the steps before it ran
    assert "Traceback" not in result.output


def test_demo_skips_bio_without_bio_enroll(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(FPBioEnrollment, "is_supported", staticmethod(lambda info: False))
    result = CliRunner().invoke(app, ["demo"])
    assert result.exit_code == 0, result.output
    assert "- 7. enroll a fingerprint: skipped (the authenticator has no bioEnroll)" in result.output
    assert "✓ 10. Taler POS confirmation code" in result.output


def test_demo_as_a_subprocess() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "aioctap", "demo"], capture_output=True, text=True, timeout=60, env=_env(), cwd=ROOT
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    _check_success(proc.stdout)
    assert "Traceback" not in proc.stderr


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def udp_authenticator() -> Iterator[str]:
    """``python3 -m aioctap virtual --udp 127.0.0.1:PORT`` as a process; yields its address."""
    port = _free_udp_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "aioctap", "virtual", "--udp", f"127.0.0.1:{port}", "--quiet"],
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
        cwd=ROOT,
    )
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()  # the one warning it logs once it listens
        assert "listening on udp:" in line, line
        yield f"udp:127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _demo(*args: Any) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["demo", *args])
    return result.exit_code, result.output


def test_demo_against_a_udp_authenticator(udp_authenticator: str) -> None:
    code, output = _demo("--device", udp_authenticator, "--pin", "314159")
    assert code == 0, output
    _check_success(output)
    assert "authenticator at " + udp_authenticator in output
    assert "314159" not in output  # the PIN is never printed

    # now the device has a PIN: without --pin the demo says what to do
    code, output = _demo("--device", udp_authenticator)
    assert code == 1, output
    assert "✗ 3. set a PIN failed" in output and "pass it with --pin" in output

    # a wrong PIN is refused at the PIN step
    code, output = _demo("--device", udp_authenticator, "--pin", "271828")
    assert code == 1, output
    assert "refused the PIN given with --pin (PIN_INVALID" in output

    # with the right PIN it runs again; the device now holds both runs' credentials
    code, output = _demo("--device", udp_authenticator, "--pin", "314159")
    assert code == 0, output
    assert "already has a PIN" in output
    assert "2 discoverable credentials" in output


def test_demo_runs_again_on_the_same_authenticator_without_a_pin(udp_authenticator: str) -> None:
    code, output = _demo("--device", udp_authenticator)
    assert code == 0, output
    assert "PIN set with ClientPin.set_pin" in output and "1234, the demo's default" in output  # says which PIN
    code, output = _demo("--device", udp_authenticator)  # the second run reuses the PIN the first one set
    assert code == 0, output
    assert "already has a PIN; the demo's default PIN 1234 (set by an earlier run) works" in output
    assert "2 discoverable credentials" in output


def test_demo_interrupted_exits_130_without_traceback() -> None:
    # udp port 9 (discard): nobody answers, so the demo waits at "open the authenticator" until interrupted
    proc = subprocess.Popen(
        [sys.executable, "-m", "aioctap", "demo", "--device", "udp:127.0.0.1:9"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
        cwd=ROOT,
    )
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith("✓ 1. start the relying-party server"):
                break
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, out + err
    assert "demo interrupted" in out
    assert "Traceback" not in err
