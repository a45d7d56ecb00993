"""libfido2 (Yubico's C library, what OpenSSH's security keys use) against ``aioctap virtual --udp``.

``libfido2/harness.c`` is compiled against the system's libfido2 (Debian bookworm's libfido2-dev 1.12 in CI,
``.ci/run``) once per module; each scenario starts its own authenticator (``yubico/udp_authenticator.py``, shared
with the Yubico suite's plugin: started, waited for, stopped, every wait bounded) and runs the harness on it:
libfido2's own API and verifiers over custom UDP I/O, with the authenticator's process ID to power-cycle it
(SIGUSR1). The test requires exit status 0; a failure shows the harness's ``ok`` / ``FAIL`` lines and the
authenticator's log. The README ("libfido2") lists the scenarios.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

import aioctap

HERE = Path(__file__).parent
HARNESS_SOURCE = HERE / "libfido2" / "harness.c"
FIDO_HEADER = Path("/usr/include/fido.h")
HARNESS_TIMEOUT = 60.0  # the slowest scenario takes well under a second

# scenario -> the authenticator's --attestation (its other options: --reset-window -1, so fido_dev_reset works)
SCENARIOS = {
    "getinfo": "packed",
    "make-packed": "packed",
    "make-self": "self",
    "make-none": "none",
    "pin": "packed",
    "credman": "packed",
    "hmac-secret": "packed",
    "cred-protect": "packed",
    "cred-blob": "packed",
    "large-blob": "packed",
    "min-pin-length": "packed",
    "always-uv": "packed",
    "force-pin-change": "packed",
    "entattest": "packed",
    "reset": "packed",
    "u2f": "packed",
    "touch": "packed",
    "openssh": "packed",
    "bio": "packed",
}


def _udp_authenticator_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("udp_authenticator", HERE / "yubico" / "udp_authenticator.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory) -> Path:
    compiler = shutil.which("gcc") or shutil.which("cc")
    if compiler is None or not FIDO_HEADER.exists():
        pytest.skip("libfido2 is not installed (no gcc or no /usr/include/fido.h; CI installs libfido2-dev)")
    binary = tmp_path_factory.mktemp("libfido2") / "harness"
    built = subprocess.run(
        [compiler, "-std=c11", "-D_DEFAULT_SOURCE", "-Wall", "-Wextra", "-O1",
         "-o", str(binary), str(HARNESS_SOURCE), "-lfido2"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    if built.returncode != 0 and "-lfido2" in built.stderr and "cannot find" in built.stderr:
        pytest.skip(f"libfido2 is not installed (no library to link): {built.stderr.strip()}")
    assert built.returncode == 0, f"the harness does not compile:\n{built.stderr}"
    return binary


@pytest.fixture
def child_uses_this_checkout(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The authenticator process runs this checkout's aioctap, not an installed one."""
    root = str(Path(aioctap.__file__).resolve().parents[1])
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([root, *filter(None, [os.environ.get("PYTHONPATH")])]))
    yield


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_libfido2_scenario(scenario: str, harness: Path, tmp_path: Path, child_uses_this_checkout: None) -> None:
    udp = _udp_authenticator_module()
    log = tmp_path / "authenticator.log"
    authenticator = udp.VirtualUdpAuthenticator(["--reset-window", "-1", "--attestation", SCENARIOS[scenario]], log)
    try:
        env = {k: v for k, v in os.environ.items() if k != "FIDO_DEBUG"}
        try:
            run = subprocess.run(
                [str(harness), f"127.0.0.1:{authenticator.port}", scenario, str(authenticator.proc.pid)],
                capture_output=True, text=True, timeout=HARNESS_TIMEOUT, env=env,
            )  # fmt: skip
        except subprocess.TimeoutExpired as e:
            out = e.stdout.decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
            pytest.fail(f"the harness took more than {HARNESS_TIMEOUT} s:\n{out}\nauthenticator log:\n{udp_log(log)}")
    finally:
        authenticator.close()
    output = run.stdout + run.stderr
    assert run.returncode == 0, f"exit status {run.returncode}:\n{output}\nauthenticator log:\n{udp_log(log)}"
    assert f"{scenario}: 0 failed" in run.stdout and "FAIL" not in run.stdout, output


def udp_log(log: Path) -> str:
    return log.read_text(errors="replace")[-3000:] if log.exists() else ""
