"""``aioctap devices|info|pin|creds|bio|blobs|config|reset`` through typer's CliRunner, against the software
authenticator persisted in a state file (``virtual:STATE_FILE``) and one served over UDP."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import anyio
import anyio.from_thread
import pytest
from typer.testing import CliRunner

from aioctap.cli import app
from aioctap.client import WebAuthnClient
from aioctap.hid.address import open_device
from aioctap.hid.device_side import CtapHidServer
from aioctap.hid.protocol import CAPABILITY
from aioctap.virtual import FEEDBACK, VirtualAuthenticator
from aioctap.webauthn import websafe_encode

PIN = "2468zxcv"
NEW_PIN = "1357asdf"


@pytest.fixture
def device(tmp_path: Path) -> str:
    return f"virtual:{tmp_path / 'authenticator.state'}"


def cli(*args: str, input: str | None = None, **env: str) -> Any:
    result = CliRunner().invoke(
        app, list(args), input=input, env={"AIOCTAP_PIN": None, "AIOCTAP_DEVICE": None, "COLUMNS": "200", **env}
    )
    assert PIN not in result.output and NEW_PIN not in result.output  # no PIN is ever printed
    return result


def ok(*args: str, input: str | None = None, **env: str) -> str:
    result = cli(*args, input=input, **env)
    assert result.exit_code == 0, result.output
    return str(result.output)


def make_credentials(device: str, users: list[str], large_blob: bool = False, pin: str | None = PIN) -> list[str]:
    """Register discoverable credentials for example.com with the WebAuthn client; their ids."""

    async def main() -> list[str]:
        async with open_device(device) as dev:
            client = WebAuthnClient(dev, "https://example.com", pin=pin)
            ids = []
            for name in users:
                reg = await client.create(
                    {
                        "rp": {"id": "example.com", "name": "Example"},
                        "user": {"id": websafe_encode(name.encode()), "name": name, "displayName": name.title()},
                        "challenge": websafe_encode(os.urandom(32)),
                        "pubKeyCredParams": [{"type": "public-key", "alg": -7}],
                        "authenticatorSelection": {"residentKey": "required"},
                        "extensions": {"largeBlob": {"support": "required"}} if large_blob else {},
                    }
                )
                ids.append(reg["id"])
            return ids

    return anyio.run(main)


def test_devices_and_default_device(monkeypatch: pytest.MonkeyPatch, device: str) -> None:
    from aioctap.cli import devices

    async def no_hid() -> tuple[list[tuple[str, str, str]], str | None]:
        return [], "hidapi not found"

    monkeypatch.setattr(devices, "_hid_descriptors", no_hid)
    out = ok("devices")
    assert "No FIDO HID device found" in out and "virtual:STATE_FILE" in out and "udp:HOST:PORT" in out
    result = cli("info")
    assert result.exit_code == 1 and "pass --device ADDRESS" in result.output and "hidapi not found" in result.output

    async def one_hid() -> tuple[list[tuple[str, str, str]], str | None]:
        return [(device, "1050:0407", "Fake Key")], None

    monkeypatch.setattr(devices, "_hid_descriptors", one_hid)
    assert "1050:0407" in ok("devices") and device in ok("devices")
    assert "FIDO_2_1" in ok("info")  # the first listed device is the default
    result = cli("info", "--device", "nonsense:1")
    assert result.exit_code == 1 and "udp:HOST:PORT" in result.output


def test_info_over_udp() -> None:
    server = CtapHidServer(VirtualAuthenticator())
    with anyio.from_thread.start_blocking_portal() as portal:
        future, (host, port) = portal.start_task(server.serve_udp, "127.0.0.1", 0)
        try:
            out = ok("info", "--device", f"udp:{host}:{port}")
            assert "FIDO_2_1" in out and "hmac-secret" in out and "pin_retries" not in out
        finally:
            future.cancel()


def test_u2f_only_device_is_explained() -> None:
    auth = VirtualAuthenticator()
    auth.capabilities = CAPABILITY.WINK
    server = CtapHidServer(auth)
    with anyio.from_thread.start_blocking_portal() as portal:
        future, (host, port) = portal.start_task(server.serve_udp, "127.0.0.1", 0)
        try:
            result = cli("info", "--device", f"udp:{host}:{port}")
            assert result.exit_code == 1 and "U2F-only (U2F_V2)" in result.output
        finally:
            future.cancel()


def test_pin_set_change_retries(device: str) -> None:
    assert "no PIN is set" in cli("pin", "retries", "-d", device).output
    out = ok("pin", "set", "-d", device, input=f"{PIN}\n{PIN}\n")  # asked twice, without echo
    assert "PIN set." in out and "New PIN" in out
    assert "already set" in cli("pin", "set", "-d", device, "--new-pin", NEW_PIN).output
    assert "PIN retries left: 8" in ok("pin", "retries", "-d", device)
    result = cli("pin", "change", "-d", device, "--pin", "wrong-pin", "--new-pin", NEW_PIN)
    assert result.exit_code == 1 and "PIN_INVALID: wrong PIN" in result.output and "wrong-pin" not in result.output
    assert "PIN retries left: 7" in ok("pin", "retries", "-d", device)
    assert "PIN changed." in ok("pin", "change", "-d", device, AIOCTAP_PIN=PIN, AIOCTAP_NEW_PIN=NEW_PIN)
    assert "PIN retries left: 8" in ok("pin", "retries", "-d", device)
    assert "at least 4" in cli("pin", "change", "-d", device, "--pin", NEW_PIN, "--new-pin", "123").output
    out = ok("pin", "change", "-d", device, input=f"{NEW_PIN}\n{PIN}\n{PIN}\n")  # old PIN prompted too
    assert "PIN:" in out and "PIN changed." in out


def test_creds_list_update_delete(device: str) -> None:
    ok("pin", "set", "-d", device, "--new-pin", PIN)
    alice, bob = make_credentials(device, ["alice", "bob"])
    out = ok("creds", "list", "-d", device, "--pin", PIN)
    assert "alice" in out and "Bob" in out and alice in out and bob in out and "2 discoverable credentials" in out
    ok("creds", "update", alice, "--name", "alice2", "--display-name", "Alice Two", "-d", device, "--pin", PIN)
    out = ok("creds", "list", "-d", device, "--pin", PIN)
    assert "alice2" in out and "Alice Two" in out
    assert "Credential deleted." in ok("creds", "delete", bob, "--yes", "-d", device, "--pin", PIN)
    out = ok("creds", "list", "-d", device, AIOCTAP_PIN=PIN)
    assert bob not in out and "1 discoverable credential, room for" in out
    result = cli("creds", "delete", bob, "-y", "-d", device, "--pin", PIN)
    assert result.exit_code == 1 and "NO_CREDENTIALS" in result.output
    assert cli("creds", "delete", "!!", "-y", "-d", device).exit_code == 2
    assert cli("creds", "delete", alice, "-d", device, "--pin", PIN, input="n\n").exit_code == 1  # not confirmed
    assert alice in ok("creds", "list", "-d", device, "--pin", PIN)
    out = ok("creds", "list", "-d", device, input=f"{PIN}\n")
    assert "PIN:" in out and alice in out


def test_creds_need_a_pin(device: str) -> None:
    result = cli("creds", "list", "-d", device)
    assert result.exit_code == 1 and "aioctap pin set" in result.output
    ok("pin", "set", "-d", device, "--new-pin", PIN)
    result = cli("creds", "list", "-d", device, input="")  # no PIN given: the prompt meets end of input
    assert result.exit_code == 1 and "Aborted" in result.output


def test_blobs(device: str, tmp_path: Path) -> None:
    ok("pin", "set", "-d", device, "--new-pin", PIN)
    (cred,) = make_credentials(device, ["carol"], large_blob=True)
    (plain,) = make_credentials(device, ["dave"])
    data = os.urandom(700)
    (tmp_path / "in.bin").write_bytes(data)
    assert "700 bytes stored" in ok("blobs", "put", cred, str(tmp_path / "in.bin"), "-d", device, "--pin", PIN)
    ok("blobs", "get", cred, "-o", str(tmp_path / "out.bin"), "-d", device, "--pin", PIN)
    assert (tmp_path / "out.bin").read_bytes() == data
    result = CliRunner().invoke(app, ["blobs", "put", cred, "-", "-d", device, "--pin", PIN], input="from stdin")
    assert result.exit_code == 0
    assert CliRunner().invoke(app, ["blobs", "get", cred, "-d", device, "--pin", PIN]).stdout_bytes == b"from stdin"
    assert cli("blobs", "delete", cred, "-d", device, "--pin", PIN, input="n\n").exit_code == 1  # not confirmed
    assert CliRunner().invoke(app, ["blobs", "get", cred, "-d", device, "--pin", PIN]).stdout_bytes == b"from stdin"
    ok("blobs", "delete", cred, "-y", "-d", device, "--pin", PIN)
    assert "no large blob" in cli("blobs", "get", cred, "-d", device, "--pin", PIN).output
    assert "no largeBlobKey" in cli("blobs", "get", plain, "-d", device, "--pin", PIN).output


def test_bio_enroll_list_rename_delete(device: str) -> None:
    ok("pin", "set", "-d", device, "--new-pin", PIN)
    out = ok("bio", "enroll", "--name", "thumb", "-d", device, "--pin", PIN)
    assert "enrolled" in out and "4/4" in out
    template_id = out.rsplit("template id ", 1)[1].split()[0]
    bytes.fromhex(template_id)
    assert "thumb" in ok("bio", "list", "-d", device, "--pin", PIN)
    ok("bio", "rename", template_id, "index", "-d", device, "--pin", PIN)
    out = ok("bio", "list", "-d", device, "--pin", PIN)
    assert "index" in out and "thumb" not in out
    assert "bioEnroll=yes" in ok("info", "-d", device) and "uv=yes" in ok("info", "-d", device)
    assert cli("bio", "delete", template_id, "-d", device, "--pin", PIN, input="n\n").exit_code == 1  # not confirmed
    assert template_id in ok("bio", "list", "-d", device, "--pin", PIN)
    ok("bio", "delete", template_id, "--yes", "-d", device, "--pin", PIN)
    assert template_id not in ok("bio", "list", "-d", device, "--pin", PIN)
    result = cli("bio", "delete", template_id, "-y", "-d", device, "--pin", PIN)  # unknown now
    assert result.exit_code == 1 and f"no fingerprint with template id {template_id}" in result.output
    assert "aioctap bio list" in result.output and "INVALID_OPTION" not in result.output
    result = cli("bio", "rename", "00ff", "x", "-d", device, "--pin", PIN)
    assert result.exit_code == 1 and "no fingerprint with template id 00ff" in result.output
    assert cli("bio", "delete", "zz", "-d", device).exit_code == 2


def test_bio_enroll_shows_each_sample_over_udp() -> None:
    auth = VirtualAuthenticator()
    auth.sensor.script(FEEDBACK.FP_TOO_HIGH, FEEDBACK.FP_GOOD, FEEDBACK.FP_POOR_QUALITY)
    server = CtapHidServer(auth)
    with anyio.from_thread.start_blocking_portal() as portal:
        future, (host, port) = portal.start_task(server.serve_udp, "127.0.0.1", 0)
        try:
            address = f"udp:{host}:{port}"
            ok("pin", "set", "-d", address, "--new-pin", PIN)
            out = ok("bio", "enroll", "-d", address, "--pin", PIN)
            assert "enrolled" in out and "template id" in out
            lines = [line for line in out.splitlines() if line.startswith("sample ")]
            assert lines == [
                "sample FP_TOO_HIGH: 4 more needed",
                "sample FP_GOOD: 3 more needed",
                "sample FP_POOR_QUALITY: 3 more needed",
                "sample FP_GOOD: 2 more needed",
                "sample FP_GOOD: 1 more needed",
                "sample FP_GOOD: 0 more needed",
            ]
            assert len(auth.state.templates) == 1
        finally:
            future.cancel()


def test_config(device: str) -> None:
    ok("config", "min-pin-length", "6", "--rp-id", "example.com", "-d", device, input="y\n")  # no PIN: no token
    assert re.search(r"min_pin_length\s*│\s*6\s", ok("info", "-d", device))
    assert "at least 6" in cli("pin", "set", "-d", device, "--new-pin", "12345").output
    ok("pin", "set", "-d", device, "--new-pin", PIN)
    assert "enabled" in ok("config", "enterprise-attestation", "-d", device, "--pin", PIN)
    assert "ep=yes" in ok("info", "-d", device)
    ok("config", "always-uv", "on", "-d", device, "--pin", PIN)
    assert "alwaysUv=yes" in ok("info", "-d", device)
    ok("config", "always-uv", "on", "-d", device, "--pin", PIN)  # already on: nothing to toggle
    assert "alwaysUv=yes" in ok("info", "-d", device)
    ok("config", "always-uv", "off", "-d", device, "--pin", PIN)
    assert "alwaysUv=no" in ok("info", "-d", device)
    assert cli("config", "always-uv", "maybe", "-d", device).exit_code == 2


def test_reset(device: str) -> None:
    ok("pin", "set", "-d", device, "--new-pin", PIN)
    make_credentials(device, ["erin"])
    assert cli("reset", "-d", device, input="n\n").exit_code == 1
    assert "erin" in ok("creds", "list", "-d", device, "--pin", PIN)
    assert "was reset" in ok("reset", "-d", device, input="y\n")
    assert "clientPin=no" in ok("info", "-d", device)
    assert "no PIN is set" in cli("pin", "retries", "-d", device).output


def test_min_pin_length_above_the_current_pin_warns_and_says_to_change_it(device: str) -> None:
    ok("pin", "set", "-d", device, "--new-pin", PIN)  # 8 characters
    assert cli("config", "min-pin-length", "10", "-d", device, "--pin", PIN, input="n\n").exit_code == 1
    out = ok("config", "min-pin-length", "10", "-y", "-d", device, "--pin", PIN)
    assert "Minimum PIN length: 10" in out
    assert "warning: the current PIN is shorter than the new minimum" in out and "aioctap pin change" in out
    result = cli("creds", "list", "-d", device, "--pin", PIN)
    assert result.exit_code == 1 and "wants a new PIN first" in result.output
    assert "hint: run 'aioctap pin change'" in result.output and "does not meet" not in result.output
    assert "at least 10" in cli("pin", "change", "-d", device, "--pin", PIN, "--new-pin", NEW_PIN).output
    ok("pin", "change", "-d", device, "--pin", PIN, "--new-pin", "0123456789")
    assert "0 discoverable credentials" in ok("creds", "list", "-d", device, "--pin", "0123456789")
    out = ok("config", "min-pin-length", "--force-change", "-d", device, "--pin", "0123456789")
    assert "warning: a PIN change was forced" in out
    assert "wants a new PIN first" in cli("config", "min-pin-length", "-d", device, "--pin", "0123456789").output


def test_creds_create_with_extensions_then_blobs(device: str, tmp_path: Path) -> None:
    ok("pin", "set", "-d", device, "--new-pin", PIN)
    out = ok("creds", "create", "-u", "alice", "--cred-blob", "hi", "--cred-protect", "required", "-d", device,
             "--pin", PIN)  # fmt: skip
    cred = re.search(r"Credential created for 'alice' at example.com: (\S+)", out)
    assert cred is not None, out
    assert "largeBlob yes, hmac-secret yes, credBlob stored, credProtect required, discoverable yes" in out
    assert f"try: aioctap blobs put {cred.group(1)} FILE" in out
    (tmp_path / "in.bin").write_bytes(b"blob data")
    assert "9 bytes stored" in ok("blobs", "put", cred.group(1), str(tmp_path / "in.bin"), "-d", device, "--pin", PIN)
    got = CliRunner().invoke(app, ["blobs", "get", cred.group(1), "-d", device, "--pin", PIN])
    assert got.exit_code == 0 and got.stdout_bytes == b"blob data"
    listed = ok("creds", "list", "-d", device, "--pin", PIN)
    assert cred.group(1) in listed and re.search(r"alice .* 3 ", listed)  # credProtect level 3
    out = ok("creds", "create", "-u", "bob", "--no-large-blob", "--no-hmac-secret", "-d", device, "--pin", PIN)
    assert "extensions: discoverable yes" in out and "try:" not in out
    ok("creds", "create", "-u", "alice", "-d", device, "--pin", PIN)  # the same user again replaces it
    assert "2 discoverable credentials" in ok("creds", "list", "-d", device, "--pin", PIN)
    assert cli("creds", "create", "-u", "x", "--cred-protect", "sometimes", "-d", device).exit_code == 2


def test_help_shows_readable_types() -> None:
    commands = (["creds", "create"], ["config", "min-pin-length"], ["otp", "code"], ["virtual"], ["blobs", "get"], [])
    for args in commands:
        out = ok(*args, "--help")
        assert not re.search(r"<(bool|str|int|float|list\[str\]|path)>", out), out
        assert "TEXT" in out or "INTEGER" in out or args == []
