"""The software authenticator's state file: encrypted at rest, written atomically, reloaded intact."""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path
from typing import Any

import pytest

import aioctap
from aioctap import cbor
from aioctap.ctap2 import ClientPin, Ctap2
from aioctap.virtual import StateError, VirtualAuthenticator
from aioctap.virtual.storage import load_state, save_state

CDH = hashlib.sha256(b"client data").digest()
PIN = "4321abcd"
P = ClientPin.PERMISSION


async def test_reload_keeps_everything(make_rig: Any, tmp_path: Path) -> None:
    path = tmp_path / "auth.state"
    async with make_rig(str(path)) as rig:
        await rig.set_pin()
        proto, token = await rig.token(P.MAKE_CREDENTIAL, "example.com")
        rk = await rig.make(
            b"alice", options={"rk": True}, extensions={"credBlob": b"cb", "largeBlobKey": True},
            key_params=[{"type": "public-key", "alg": -257}],
            pin_uv_param=proto.authenticate(token, CDH), pin_uv_protocol=2,
        )  # fmt: skip
        plain = await rig.make(b"bob", key_params=[{"type": "public-key", "alg": -8}])
        await rig.make(b"carol")
        state = rig.auth.state
        before = state.to_bytes()
        assert state.pin_retries == 8 and state.sign_count == 3
    assert path.exists() and stat.S_IMODE(os.stat(str(path) + ".key").st_mode) == 0o600
    async with make_rig(str(path)) as rig:
        assert rig.auth.state.to_bytes() == before
        proto, token = await rig.token(P.GET_ASSERTION, "example.com")  # the PIN survived
        a = await rig.ctap.get_assertion(
            "example.com", CDH, pin_uv_param=proto.authenticate(token, CDH), pin_uv_protocol=2,
            extensions={"credBlob": True, "largeBlobKey": True},
        )  # fmt: skip
        a.verify(CDH, rk.auth_data.credential_data.public_key)
        assert a.user["name"] == "n-616c696365" and a.auth_data.extensions == {"credBlob": b"cb"}
        assert a.large_blob_key == rk.large_blob_key and a.auth_data.counter == 4
        b = await rig.ctap.get_assertion(
            "example.com", CDH, [{"type": "public-key", "id": plain.auth_data.credential_data.credential_id}]
        )
        b.verify(CDH, plain.auth_data.credential_data.public_key)


async def test_nothing_secret_in_plain_text(make_rig: Any, tmp_path: Path) -> None:
    path = tmp_path / "auth.state"
    async with make_rig(str(path)) as rig:
        await rig.set_pin()
        await rig.token(P.PERSISTENT_CREDENTIAL_MGMT)
        state = rig.auth.state
        assert state.enterprise_key is not None and state.persistent_token is not None
        secrets = [state.master_key, state.attestation_key[-32:], state.pin_hash, PIN.encode(),
                   state.enterprise_key[-32:], state.persistent_token]  # fmt: skip
    data = path.read_bytes()
    for secret in secrets:
        assert secret is not None and secret not in data
    assert b"example" not in data and repr(state).count(state.master_key.hex()) == 0


async def test_wrapping_key_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "auth.state"
    monkeypatch.setenv("AIOCTAP_VIRTUAL_KEY", "11" * 32)
    auth = VirtualAuthenticator(path)
    aaguid = auth.state.aaguid
    assert not Path(str(path) + ".key").exists()
    assert VirtualAuthenticator(path).state.aaguid == aaguid
    monkeypatch.setenv("AIOCTAP_VIRTUAL_KEY", "22" * 32)
    with pytest.raises(StateError, match="wrong wrapping key"):
        VirtualAuthenticator(path)
    monkeypatch.setenv("AIOCTAP_VIRTUAL_KEY", "not hex")
    with pytest.raises(StateError, match="64 hexadecimal digits"):
        VirtualAuthenticator(path)


def test_corrupt_and_foreign_files(tmp_path: Path) -> None:
    path = tmp_path / "auth.state"
    VirtualAuthenticator(path)
    data = bytearray(path.read_bytes())
    data[-1] ^= 1
    path.write_bytes(bytes(data))
    with pytest.raises(StateError, match="corrupted"):
        load_state(path)
    path.write_bytes(b"something else entirely")
    with pytest.raises(StateError, match="not an aioctap authenticator state file"):
        load_state(path)
    (tmp_path / "k.state.key").write_bytes(b"short")
    (tmp_path / "k.state").write_bytes(b"AIOCTAP-VA1" + bytes(40))
    with pytest.raises(StateError, match="exactly 32 bytes"):
        load_state(tmp_path / "k.state")


def test_crash_mid_write_keeps_the_old_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "auth.state"
    auth = VirtualAuthenticator(path)
    old = path.read_bytes()
    auth.state.sign_count = 99

    def crash(*_: Any) -> None:
        raise OSError("disk gone")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk gone"):
        save_state(auth.state, path)
    monkeypatch.undo()
    assert path.read_bytes() == old
    assert {p.name for p in tmp_path.iterdir()} == {"auth.state", "auth.state.key"}  # no temporary left
    assert load_state(path).sign_count == 0
    save_state(auth.state, path)
    assert load_state(path).sign_count == 99


async def test_written_only_when_changed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "auth.state"
    from aioctap.virtual import engine

    writes: list[Path] = []
    real = engine.save_state

    def counting(state: Any, p: Any, data: bytes | None = None) -> None:
        assert data is None or data == state.to_bytes()  # what the engine hands over is the state as it is
        writes.append(p)
        real(state, p, data)

    monkeypatch.setattr(engine, "save_state", counting)
    async with aioctap.open_device(f"virtual:{path}") as dev:
        ctap = await Ctap2.create(dev)
        await ctap.get_info()
        await ctap.get_info()
        assert writes == []
        await ctap.make_credential(CDH, {"id": "example.com"}, {"id": b"u"}, [{"type": "public-key", "alg": -7}])
        assert len(writes) == 1
    assert load_state(path).sign_count == 1


async def test_no_secret_in_reprs(make_rig: Any) -> None:
    async with make_rig() as rig:
        await rig.set_pin()
        proto, token = await rig.token(P.MAKE_CREDENTIAL, "example.com")
        att = await rig.make(
            b"u", options={"rk": True}, extensions={"largeBlobKey": True, "credBlob": b"secret-blob"},
            pin_uv_param=proto.authenticate(token, CDH), pin_uv_protocol=2,
        )  # fmt: skip
        auth = rig.auth
        cred_id = att.auth_data.credential_data.credential_id
        key = auth.state.open_credential(cred_id, hashlib.sha256(b"example.com").digest())
        _, persistent = await rig.token(P.PERSISTENT_CREDENTIAL_MGMT)
        texts = [repr(x) for x in (auth, auth.state, auth.pin, auth.pin.token, key, *auth.state.credentials)]
        assert auth.state.enterprise_key is not None
        secrets = [token, auth.state.master_key, att.large_blob_key, b"secret-blob", key.private, auth.state.pin_hash,
                   persistent, auth.state.enterprise_key[-32:]]  # fmt: skip
        for text in texts:
            for secret in secrets:
                assert secret.hex() not in text and repr(secret) not in text, text


async def test_a_state_from_before_enterprise_attestation_gets_its_chain_on_load(tmp_path: Path) -> None:
    """A state file written before enterprise attestation existed (no members 21-23) still loads: the enterprise
    key, certificate and root are made then and written at once (atomically, like every write), so every later
    start uses the same certificate. The batch attestation and everything else stay as they were."""
    path = tmp_path / "old.state"
    state = load_state(path)
    state.sign_count = 7
    old_map = cbor.loads(state.to_bytes())
    for member in (21, 22, 23):
        del old_map[member]
    save_state(state, path, cbor.dumps(old_map))  # what an earlier aioctap wrote
    writes: list[Path] = []
    real_replace = os.replace

    def counting_replace(src: Any, dst: Any) -> None:
        writes.append(Path(dst))
        real_replace(src, dst)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(os, "replace", counting_replace)
        upgraded = load_state(path)
    assert writes == [path]  # completed and saved in one atomic write
    assert upgraded.enterprise_key and upgraded.enterprise_cert and upgraded.enterprise_root
    assert upgraded.sign_count == 7 and upgraded.attestation_cert == state.attestation_cert
    assert upgraded.master_key == state.master_key and upgraded.enterprise_cert != state.enterprise_cert
    again = load_state(path)
    assert again.to_bytes() == upgraded.to_bytes()  # the next start reads what was written: no new chain
    async with aioctap.open_device(f"virtual:{path}") as dev:
        assert dev.authenticator.enterprise_attestation_root == upgraded.enterprise_root  # type: ignore[attr-defined]


def test_enterprise_members_of_the_wrong_type_are_refused(tmp_path: Path) -> None:
    state = load_state(tmp_path / "a.state")
    bad = cbor.loads(state.to_bytes())
    bad[22] = "not a certificate"
    with pytest.raises(StateError, match="not a valid authenticator state"):
        type(state).from_bytes(cbor.dumps(bad))
