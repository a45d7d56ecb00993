"""``--json`` on every command that prints data: one JSON document with the shape README documents."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from aioctap.cli import app
from aioctap.otp import HOTP, TOTP, pos_confirmation
from aioctap.webauthn import websafe_decode

PIN = "97531bdf"
KEY = "JBSWY3DPEHPK3PXP"


def run_json(*args: str) -> Any:
    result = CliRunner().invoke(app, [*args, "--json"], env={"AIOCTAP_PIN": None, "AIOCTAP_DEVICE": None})
    assert result.exit_code == 0, result.output
    assert PIN not in result.stdout
    return json.loads(result.stdout)  # nothing but the document on standard output


@pytest.fixture
def device(tmp_path: Path) -> str:
    return f"virtual:{tmp_path / 'authenticator.state'}"


def test_devices_json(monkeypatch: pytest.MonkeyPatch) -> None:
    from aioctap.cli import devices

    async def one_hid() -> tuple[list[tuple[str, str, str]], str | None]:
        return [("hid:/dev/hidraw3", "1050:0407", "Fake Key")], None

    monkeypatch.setattr(devices, "_hid_descriptors", one_hid)
    assert run_json("devices") == {
        "devices": [{"address": "hid:/dev/hidraw3", "usb_id": "1050:0407", "product": "Fake Key"}],
        "note": None,
        "default": None,
    }


def test_info_pin_creds_blobs_bio_json(device: str) -> None:
    info = run_json("info", "-d", device)
    assert "FIDO_2_1" in info["versions"] and info["options"]["clientPin"] is False and "pin_retries" not in info
    assert len(info["aaguid"]) == 36 and info["min_pin_length"] == 4 and -7 in [a["alg"] for a in info["algorithms"]]
    CliRunner().invoke(app, ["pin", "set", "-d", device, "--new-pin", PIN])
    assert run_json("info", "-d", device)["pin_retries"] == 8
    assert run_json("pin", "retries", "-d", device) == {"pin_retries": 8, "power_cycle_required": False,
                                                        "uv_retries": None}  # fmt: skip
    created = CliRunner().invoke(app, ["creds", "create", "-u", "erin", "-d", device, "--pin", PIN])
    cred_id = created.stdout.split("example.com: ")[1].split()[0]
    listed = run_json("creds", "list", "-d", device, "--pin", PIN)
    assert listed["existing"] == 1 and isinstance(listed["remaining"], int)
    (cred,) = listed["credentials"]
    assert cred["credential_id"] == cred_id and cred["rp_id"] == "example.com" and cred["user_name"] == "erin"
    assert cred["display_name"] == "erin" and cred["large_blob_key"] is True and cred["cred_protect"] == 1
    assert len(websafe_decode(cred["user_id"])) == 16
    data = os.urandom(40)
    CliRunner().invoke(app, ["blobs", "put", cred_id, "-", "-d", device, "--pin", PIN], input=data)
    blob = run_json("blobs", "get", cred_id, "-d", device, "--pin", PIN)
    assert blob == {"credential_id": cred_id, "size": 40, "data": blob["data"]} and websafe_decode(blob["data"]) == data
    assert run_json("bio", "list", "-d", device, "--pin", PIN) == {"templates": []}
    out = CliRunner().invoke(app, ["bio", "enroll", "--name", "thumb", "-d", device, "--pin", PIN]).stdout
    template = out.rsplit("template id ", 1)[1].split()[0]
    assert run_json("bio", "list", "-d", device, "--pin", PIN) == {"templates": [{"template_id": template,
                                                                                  "name": "thumb"}]}  # fmt: skip
    assert isinstance(run_json("pin", "retries", "-d", device)["uv_retries"], int)  # a fingerprint now: uv=yes


def test_otp_code_json() -> None:
    t = 1_700_000_000
    assert run_json("otp", "code", KEY, "--time", str(t)) == {
        "type": "totp",
        "code": TOTP(KEY).generate(t).token,
        "counter": t // 30,
        "expires": (t // 30 + 1) * 30,
    }
    assert run_json("otp", "code", KEY, "--counter", "7") == {"type": "hotp", "code": HOTP(KEY).generate(7),
                                                             "counter": 7}  # fmt: skip
    taler = run_json("otp", "code", KEY, "--taler", "2", "--price", "EUR:2", "--time", str(t))
    assert taler["algorithm"] == 2 and taler["confirmation"] == pos_confirmation(KEY, 2, t, "EUR:2")
    assert [c["offset"] for c in taler["codes"]] == [-2, -1, 0, 1, 2]
    assert taler["codes"][2] == {"code": taler["confirmation"].split("\n")[2], "offset": 0, "from": t // 30 * 30}
