"""python-fido2 2.2.1's own examples, ported by the minimal diff (examples/python_fido2/), run against aioctap.

Each runs against the software authenticator in memory (``aioctap.open_device("virtual")``), with a PIN where the
example asks for one (fed from the test through ``getpass``); ``credential.py`` also runs as a script against
``aioctap virtual --udp`` in another process; the Flask server example serves a registration and an authentication
to aioctap's client. The port's diff against upstream stays small (``test_the_port_is_a_minimal_diff``).
"""

from __future__ import annotations

import contextlib
import difflib
import importlib.util
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import aioctap
from aioctap import TransportError
from aioctap.client import WebAuthnClient
from aioctap.ctap2 import ClientPin, Ctap2
from aioctap.virtual.common import FEEDBACK

ROOT = Path(__file__).resolve().parent.parent
PORTED = ROOT / "examples" / "python_fido2"
PIN = "4321"
EXAMPLES = ["credential", "get_info", "cred_blob", "hmac_secret", "prf", "large_blobs", "resident_key",
            "bio_enrollment"]  # fmt: skip


def load(name: str, path: Path | None = None) -> ModuleType:
    """Import a ported example as a module (its directory first on sys.path, for ``exampleutils``)."""
    if str(PORTED) not in sys.path:
        sys.path.insert(0, str(PORTED))
    spec = importlib.util.spec_from_file_location(f"python_fido2_{name}", path or PORTED / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class PinPrompt:
    """A stand-in for ``getpass``: answers with the PIN and counts the prompts."""

    def __init__(self) -> None:
        self.prompts: list[str] = []

    def __call__(self, prompt: str = "Password: ") -> str:
        self.prompts.append(prompt)
        return PIN


@pytest.fixture
def pin_prompt(monkeypatch: pytest.MonkeyPatch) -> PinPrompt:
    prompt = PinPrompt()
    utils = load("exampleutils")
    monkeypatch.setitem(sys.modules, "exampleutils", utils)  # the one the examples import by name
    monkeypatch.setattr(utils, "getpass", prompt)
    return prompt


@contextlib.asynccontextmanager
async def virtual(pin: str | None = None) -> AsyncIterator[Any]:
    async with aioctap.open_device("virtual") as dev:
        if pin is not None:
            await ClientPin(await Ctap2(dev)).set_pin(pin)
        yield dev


async def test_credential(pin_prompt: PinPrompt, capsys: pytest.CaptureFixture[str]) -> None:
    async with virtual() as dev:
        await load("credential").main([dev])
    out = capsys.readouterr().out
    assert "New credential created!" in out and "Credential authenticated!" in out
    assert re.search(r"CLIENT DATA: b'\{\"type\":\"webauthn.get\"", out)
    assert "ATTESTATION OBJECT: AttestationObject(fmt='packed'" in out  # attestation="direct" kept it
    assert pin_prompt.prompts == []  # no PIN on the authenticator: nothing asked


async def test_credential_with_a_pin(pin_prompt: PinPrompt, capsys: pytest.CaptureFixture[str]) -> None:
    async with virtual(PIN) as dev:
        await load("credential").main([dev])
    assert "Credential authenticated!" in capsys.readouterr().out
    # UV discouraged, a non-discoverable credential and makeCredUvNotRqd (CTAP 2.1 §7.4): no PIN needed
    assert pin_prompt.prompts == []


async def test_get_info_closes_the_device(capsys: pytest.CaptureFixture[str]) -> None:
    async with virtual() as dev:
        await load("get_info").main([dev])
        with pytest.raises(TransportError):  # the example's dev.close()
            await Ctap2(dev).get_info()
    out = capsys.readouterr().out
    assert "CTAPHID protocol version: 2" in out
    assert "DEVICE INFO: Info(versions=['FIDO_2_0', 'FIDO_2_1'" in out
    assert "WINK sent!" in out
    assert dev.authenticator.winks == 1


async def test_cred_blob(pin_prompt: PinPrompt, capsys: pytest.CaptureFixture[str]) -> None:
    async with virtual(PIN) as dev:
        await load("cred_blob").main([dev])
    out = capsys.readouterr().out
    assert "New credential created, with the CredBlob extension." in out
    assert "Authenticated, got correct blob:" in out


async def test_hmac_secret(pin_prompt: PinPrompt, capsys: pytest.CaptureFixture[str]) -> None:
    async with virtual() as dev:
        await load("hmac_secret").main([dev])
    out = capsys.readouterr().out
    assert "New credential created, with HmacSecret" in out
    first = re.search(r"Authenticated, secret: ([0-9a-f]{64})", out)
    old, new = re.search(r"Old secret: ([0-9a-f]{64})", out), re.search(r"New secret: ([0-9a-f]{64})", out)
    assert first and old and new
    assert first.group(1) == old.group(1) != new.group(1)  # the same salt gives the same secret


async def test_prf(pin_prompt: PinPrompt, capsys: pytest.CaptureFixture[str]) -> None:
    async with virtual() as dev:
        await load("prf").main([dev])
    out = capsys.readouterr().out
    assert "New credential created, with PRF" in out
    first = re.search(r"Secret: ([A-Za-z0-9_-]{43})\n", out)
    old, new = re.search(r"Old secret: (\S+)", out), re.search(r"New secret: (\S+)", out)
    assert first and old and new
    assert first.group(1) == old.group(1) != new.group(1)


async def test_large_blobs_with_a_pin(pin_prompt: PinPrompt, capsys: pytest.CaptureFixture[str]) -> None:
    async with virtual(PIN) as dev:
        await load("large_blobs").main([dev])
    out = capsys.readouterr().out
    assert "Blob written!" in out
    assert "Read blob: b'Here is some data to store!'" in out
    assert pin_prompt.prompts == ["Enter PIN: "]


async def test_resident_key(pin_prompt: PinPrompt, capsys: pytest.CaptureFixture[str]) -> None:
    async with virtual(PIN) as dev:
        await load("resident_key").main([dev])
    out = capsys.readouterr().out
    assert pin_prompt.prompts == ["Enter PIN: "]  # a discoverable credential on a PIN-protected key; asked once
    assert "CredProps {'rk': True}" in out
    assert "USER ID: b'user_id'" in out
    assert "Credential authenticated!" in out


async def test_bio_enrollment(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    example = load("bio_enrollment")
    prompt = PinPrompt()
    monkeypatch.setattr(example, "getpass", prompt)
    async with virtual(PIN) as dev:
        dev.authenticator.sensor.script(FEEDBACK.FP_TOO_HIGH)  # one bad sample: CaptureError, then on
        await example.main([dev])
        ctap = await Ctap2(dev)
        assert ctap.info.options["bioEnroll"] is True
    out = capsys.readouterr().out
    assert prompt.prompts == ["Please enter PIN: "]
    assert "{}\n" in out  # enumerate_enrollments before: none
    assert "capture error: FP_TOO_HIGH" in out
    assert "Fingerprint registered successfully with ID:" in out


async def test_bio_enrollment_without_a_pin_exits(monkeypatch: pytest.MonkeyPatch) -> None:
    async with virtual() as dev:
        with pytest.raises(SystemExit) as e:
            await load("bio_enrollment").main([dev])
    assert e.value.code == 1


async def test_server_example_with_aioctap_client() -> None:
    """The Flask demo server (import lines changed only) registers and authenticates through aioctap's client."""
    pytest.importorskip("flask")
    server = load("server", PORTED / "server" / "server.py")
    http = server.app.test_client()
    async with virtual() as dev:
        client = WebAuthnClient(dev, "http://localhost:5000")
        assert http.post("/api/authenticate/begin").status_code == 404  # nothing registered yet
        options = http.post("/api/register/begin").get_json()
        assert set(options) == {"publicKey"}
        credential = await client.create(options)
        assert http.post("/api/register/complete", json=credential).get_json() == {"status": "OK"}
        options = http.post("/api/authenticate/begin").get_json()
        assertion = await client.get(options)
        assert http.post("/api/authenticate/complete", json=assertion).get_json() == {"status": "OK"}
        assert len(server.credentials) == 1
        # a replayed assertion: the state was consumed (session.pop), the example's handler fails (a 500)
        assert http.post("/api/authenticate/complete", json=assertion).status_code == 500


@contextlib.contextmanager
def udp_authenticator(tmp_path: Path) -> Iterator[str]:
    """``python -m aioctap virtual --udp 127.0.0.1:0`` as a process; yields its ``udp:`` address."""
    log = tmp_path / "authenticator.log"
    with log.open("w") as log_file:
        proc = subprocess.Popen(
            [sys.executable, "-m", "aioctap", "virtual", "--udp", "127.0.0.1:0", "--state", str(tmp_path / "state")],
            stdout=log_file, stderr=log_file, env={**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": str(ROOT)},
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 20
        while not (found := re.search(r"listening on (udp:127\.0\.0\.1:\d+)", log.read_text())):
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "the authenticator process did not start"
            time.sleep(0.05)
        yield found.group(1)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(10)


def test_credential_script_against_aioctap_virtual_udp(tmp_path: Path) -> None:
    with udp_authenticator(tmp_path) as address:
        result = subprocess.run(
            [sys.executable, str(PORTED / "credential.py")],
            capture_output=True, text=True, timeout=60, cwd=PORTED,
            env={**os.environ, "AIOCTAP_DEVICE": address, "PYTHONPATH": str(ROOT)},
        )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Credential authenticated!" in result.stdout
    assert "Traceback" not in result.stderr


def _code_lines(text: str, ported: bool = False) -> list[str]:
    """The lines of a script without indentation and blank lines (the port indents the body into main());
    for the port, with ``await`` and the aioctap package name taken back out."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if ported:
        lines = [line.replace("(await ", "(").replace("await ", "").replace("aioctap", "fido2") for line in lines]
    return lines


# what the port may change besides adding await and renaming the package: main() and run(main), the devices
# opened by aioctap.open_device in place of HID enumeration, Ctap2.create-free getInfo (await Ctap2(dev))
ALLOWED = re.compile(
    r"(async def main\(devices\):|if __name__ == \"__main__\":|run\(main\)|from exampleutils import .*|"
    r"from fido2\.hid import .*|.*\benumerate_devices\((devices)?\):|for dev in .*:|.*get_client\(.*|"
    r"\)+\.get_response\(0\)|result = \(?client\.get_assertion\(|import \w+|from fido2\.\S+ import .*|"
    r"yield dev|def enumerate_devices\(\):)$"
)


@pytest.mark.parametrize("name", EXAMPLES)
def test_the_port_is_a_minimal_diff(name: str) -> None:
    """Against python-fido2 2.2.1's example (the commit that added it unchanged): besides ``await`` and the
    package name, only ``async def main(devices)``, ``run(main)`` and the device list change."""
    upstream = subprocess.run(
        ["git", "log", "--diff-filter=A", "--format=%H", "--", f"examples/python_fido2/{name}.py"],
        capture_output=True, text=True, cwd=ROOT, check=True,
    ).stdout.split()  # fmt: skip
    if not upstream:
        pytest.skip("no git history here")
    original = subprocess.run(
        ["git", "show", f"{upstream[-1]}:examples/python_fido2/{name}.py"],
        capture_output=True, text=True, cwd=ROOT, check=True,
    ).stdout  # fmt: skip
    ported = (PORTED / f"{name}.py").read_text()
    changed = [
        line[1:]
        for line in difflib.unified_diff(_code_lines(original), _code_lines(ported, True), lineterm="", n=0)
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]
    assert [line for line in changed if not ALLOWED.match(line)] == []
    assert len(changed) <= 14, changed


def test_every_ported_example_is_tested() -> None:
    ported = {p.stem for p in PORTED.glob("*.py")} - {"exampleutils"}
    assert ported == set(EXAMPLES)
    assert (PORTED / "server" / "server.py").exists()
