"""Every script in examples/ runs against the software authenticator: imported and awaited, and as a script."""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType

import httpx
import pytest

from aioctap import STATUS
from aioctap.hid.backends.hidapi import HotplugEvent
from aioctap.otp import pos_confirmation

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


def load(name: str) -> ModuleType:
    """Import examples/<name>.py as a module (examples/ is not a package)."""
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def run_script(name: str, *args: str) -> str:
    proc = subprocess.run(
        [sys.executable, str(EXAMPLES / f"{name}.py"), *args],
        capture_output=True,
        text=True,
        timeout=30,
        env=_env(),
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc.stdout


def test_every_example_is_tested() -> None:
    tested = {"many_devices", "enumerate_credentials", "keepalive_status", "starlette_app", "hotplug_watch"}
    assert {p.stem for p in EXAMPLES.glob("*.py")} == tested


async def test_many_devices_first_touch_wins(capsys: pytest.CaptureFixture[str]) -> None:
    example = load("many_devices")
    # main() itself fails (TimeoutError) if a losing authenticator still waits for a touch afterwards
    assert await example.main(devices=8, touch=5, delay=0.05) == 5
    out = capsys.readouterr().out
    assert "authenticator #5 answered" in out
    assert "keep-alives seen by the winner: UPNEEDED → PROCESSING" in out
    assert "the other 7 authenticators were cancelled" in out


async def test_many_devices_rejects_a_bad_touch_index() -> None:
    with pytest.raises(ValueError, match="touch"):
        await load("many_devices").main(devices=2, touch=2)


async def test_enumerate_credentials(capsys: pytest.CaptureFixture[str]) -> None:
    found = await load("enumerate_credentials").main()
    assert sorted(found) == [("example.com", "alice"), ("example.com", "bob"), ("shop.example.org", "alice")]
    out = capsys.readouterr().out
    assert "3 discoverable credential(s), room for" in out
    assert "1234" not in out  # the PIN is not printed


async def test_keepalive_status_streams_upneeded_then_processing(capsys: pytest.CaptureFixture[str]) -> None:
    shown = await load("keepalive_status").main(touch_after=0.25)
    assert shown[0] == STATUS.UPNEEDED
    assert shown[-1] == STATUS.PROCESSING
    out = capsys.readouterr().out
    assert out.index("touch your security key") < out.index("the user touches") < out.index("working")
    assert "authenticator answered: selected" in out


async def test_starlette_app_self_test(tmp_path: Path) -> None:
    results = await load("starlette_app").main(db=f"sqlite:///{tmp_path / 'rp.sqlite3'}", run_self_test=True)
    assert results is not None
    assert results["health"] == "ok"
    assert results["registered"] == "ok"
    assert results["signed_in"] == "ok"
    assert results["pos_device_added"] == 204
    now = time.time()
    # the code for the current 30 s step, computed independently (either side of a step boundary)
    expected = {
        code
        for t in (now - 30, now)
        for code in (pos_confirmation("JBSWY3DPEHPK3PXP", 2, t, "EUR:2.50") or "").split("\n")
    }
    assert results["pos_code"] in expected


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_starlette_app_serves_with_uvicorn() -> None:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, str(EXAMPLES / "starlette_app.py"), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**_env(), "AIOCTAP_ADMIN_TOKEN": "secret-token:test"},
        cwd=ROOT,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/health", timeout=1)
                break
            except httpx.TransportError:
                assert proc.poll() is None, "the example exited"
                assert time.monotonic() < deadline, "the example did not start serving"
                time.sleep(0.1)
        assert health.json() == {"status": "ok", "store": "MemoryStore"}
        assert "/fido2/attestation/options" in httpx.get(f"http://127.0.0.1:{port}/openapi.json").json()["paths"]
        devices = httpx.get(
            f"http://127.0.0.1:{port}/merchant/private/otp-devices",
            headers={"Authorization": "Bearer secret-token:test"},
        )
        assert devices.status_code == 200 and devices.json() == {"otp_devices": []}
        unauthorized = httpx.get(f"http://127.0.0.1:{port}/merchant/private/otp-devices")
        assert unauthorized.status_code == 401
    finally:
        proc.terminate()
        proc.wait(timeout=10)


async def test_hotplug_watch_fake(capsys: pytest.CaptureFixture[str]) -> None:
    events = await load("hotplug_watch").main(seconds=0.8, fake=True, interval=0.05)
    seen = [(e.event, e.descriptor.product_name) for e in events]
    assert seen == [
        (HotplugEvent.ADDED, "YubiKey 5 (simulated)"),
        (HotplugEvent.ADDED, "SoloKey (simulated)"),
        (HotplugEvent.REMOVED, "YubiKey 5 (simulated)"),
    ]
    assert "removed YubiKey 5 (simulated) 1050:0407 at /dev/hidraw3" in capsys.readouterr().out


async def test_hotplug_watch_real_devices_ends_after_the_given_time() -> None:
    started = time.monotonic()
    events = await load("hotplug_watch").main(seconds=0.3, interval=0.05)
    assert time.monotonic() - started < 5
    assert all(e.event in (HotplugEvent.ADDED, HotplugEvent.REMOVED) for e in events)


@pytest.mark.parametrize(
    ("name", "args", "expected"),
    [
        ("many_devices", ["--devices", "3", "--touch", "1", "--delay", "0.05"], "authenticator #1 answered"),
        ("enumerate_credentials", [], "shop.example.org"),
        ("keepalive_status", ["--touch-after", "0.1"], "authenticator answered: selected"),
        ("starlette_app", ["--self-test"], "signed_in         ok"),
        ("hotplug_watch", ["--fake", "--seconds", "0.5", "--interval", "0.03"], "removed YubiKey"),
    ],
)
def test_example_runs_as_a_script(name: str, args: list[str], expected: str) -> None:
    assert expected in run_script(name, *args)
