"""``aioctap virtual --udp`` as a process: driven over UDP, logs every command but no secret, SIGUSR1, reload."""

from __future__ import annotations

import hashlib
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

import aioctap
from aioctap.ctap import CtapError
from aioctap.ctap2 import ClientPin, Ctap2

PIN = "s3cret-PIN-4711"
CDH = hashlib.sha256(b"client data").digest()
P = ClientPin.PERMISSION

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGUSR1"), reason="needs POSIX signals")


@contextmanager
def authenticator_process(state: Path, log: Path, *extra: str) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    with log.open("wb") as log_file:
        proc = subprocess.Popen(
            [sys.executable, "-m", "aioctap", "virtual", "--udp", "127.0.0.1:0", "--state", str(state), *extra],
            stdout=log_file, stderr=log_file, env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 20
        while not (found := re.search(r"listening on (udp:127\.0\.0\.1:\d+)", log.read_text())):
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "the authenticator process did not start"
            time.sleep(0.05)
        address = found.group(1)
        yield proc, address
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


async def wait_for(log: Path, text: str) -> None:
    import anyio

    with anyio.fail_after(10):
        while text not in log.read_text():
            await anyio.sleep(0.02)


async def test_udp_process_logs_power_cycles_and_reloads(tmp_path: Path) -> None:
    state, log = tmp_path / "auth.state", tmp_path / "auth.log"
    with authenticator_process(state, log) as (proc, address):
        async with aioctap.open_device(address) as dev:
            ctap = await Ctap2.create(dev)
            assert "FIDO_2_1" in ctap.info.versions
            cp = ClientPin(ctap)
            await cp.set_pin(PIN)
            token = await cp.get_pin_token(PIN, P.MAKE_CREDENTIAL, "example.com")
            await ctap.make_credential(
                CDH, {"id": "example.com"}, {"id": b"alice", "name": "alice"}, [{"type": "public-key", "alg": -7}],
                options={"rk": True}, pin_uv_param=cp.protocol.authenticate(token, CDH), pin_uv_protocol=2,
            )  # fmt: skip
            for _ in range(3):
                with pytest.raises(CtapError):
                    await cp.get_pin_token("wrong-pin-0000")
            with pytest.raises(CtapError) as e:
                await cp.get_pin_token(PIN)
            assert e.value.code == CtapError.ERR.PIN_AUTH_BLOCKED
        proc.send_signal(signal.SIGUSR1)  # unplug, plug in: the block ends, channels are forgotten
        await wait_for(log, "power cycle")
        async with aioctap.open_device(address) as dev:
            ctap = await Ctap2.create(dev)
            cp = ClientPin(ctap)
            second = await cp.get_pin_token(PIN, P.GET_ASSERTION, "example.com")
            assert await cp.get_pin_retries() == (8, False)
    text = log.read_text()
    for line in ("getInfo -> OK", "clientPIN setPIN -> OK", "makeCredential -> OK",
                 "clientPIN getPinToken -> PIN_INVALID", "clientPIN getPinToken -> PIN_AUTH_BLOCKED",
                 "clientPIN getPinUvAuthTokenUsingPinWithPermissions -> OK", "power cycle (SIGUSR1)"):  # fmt: skip
        assert line in text, line
    for secret in (
        PIN,
        PIN.encode().hex(),
        token.hex(),
        second.hex(),
        hashlib.sha256(PIN.encode()).digest()[:16].hex(),
    ):
        assert secret not in text
    assert state.exists()
    # a new process on the same state file has the credential and the PIN
    with authenticator_process(state, tmp_path / "again.log") as (_, address):
        async with aioctap.open_device(address) as dev:
            ctap = await Ctap2.create(dev)
            cp = ClientPin(ctap)
            token = await cp.get_pin_token(PIN, P.GET_ASSERTION, "example.com")
            assertion = await ctap.get_assertion(
                "example.com", CDH, pin_uv_param=cp.protocol.authenticate(token, CDH), pin_uv_protocol=2
            )
            assert assertion.user is not None and assertion.user["name"] == "alice"


def test_unreadable_state_file_is_a_clear_error(tmp_path: Path) -> None:
    state = tmp_path / "auth.state"
    state.write_bytes(b"not a state file")
    result = subprocess.run(
        [sys.executable, "-m", "aioctap", "virtual", "--udp", "127.0.0.1:0", "--state", str(state)],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert result.returncode != 0
    message = " ".join(result.stderr.replace("│", " ").split())  # rich wraps it in a box
    assert "not an aioctap authenticator state file" in message


async def test_enterprise_rp_ids_option(tmp_path: Path) -> None:
    """``--enterprise-rp-id`` (repeatable) lists the RP IDs given vendor-facilitated enterprise attestation
    (CTAP 2.1 §7.1.1); platform-managed (§7.1.2) is for any RP ID. ``--no-enterprise-attestation``: no ep option."""
    from aioctap.ctap2 import Config

    log = tmp_path / "ep.log"
    ids = ("--enterprise-rp-id", "corp.example", "--enterprise-rp-id", "intranet.example")
    with authenticator_process(tmp_path / "ep.state", log, *ids) as (_, address):
        async with aioctap.open_device(address) as dev:
            ctap = await Ctap2.create(dev)
            assert ctap.info.options["ep"] is False
            await Config(ctap).enable_enterprise_attestation()
            user = {"id": b"u", "name": "u"}
            es256 = [{"type": "public-key", "alg": -7}]
            for rp_id, ep, expected in (
                ("corp.example", 1, True), ("intranet.example", 1, True), ("shop.example", 1, False),
                ("shop.example", 2, True),
            ):  # fmt: skip
                att = await ctap.make_credential(CDH, {"id": rp_id}, user, es256, enterprise_attestation=ep)
                assert bool(att.ep_att) is expected, (rp_id, ep)
    with authenticator_process(tmp_path / "no-ep.state", log, "--no-enterprise-attestation") as (_, address):
        async with aioctap.open_device(address) as dev:
            assert "ep" not in (await Ctap2.create(dev)).info.options
