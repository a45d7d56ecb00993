"""CTAP 2.2 persistent pinUvAuthToken (``pcmr`` permission, ``perCredMgmtRO`` option): read-only credential
management that survives power cycles, and getInfo's encIdentifier / encCredStoreState, host and authenticator."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from aioctap import cbor
from aioctap.ctap import CtapError
from aioctap.ctap2 import ClientPin, Config, CredentialManagement, LargeBlobs

ERR = CtapError.ERR
CDH = hashlib.sha256(b"client data").digest()
P = ClientPin.PERMISSION
CM = CredentialManagement
PIN = "4321abcd"
RP_HASH = hashlib.sha256(b"example.com").digest()


async def make_rk(rig: Any, user_id: bytes, rp_id: str = "example.com") -> Any:
    proto, token = await rig.token(P.MAKE_CREDENTIAL, rp_id)
    return await rig.make(
        user_id, rp_id=rp_id, options={"rk": True}, pin_uv_param=proto.authenticate(token, CDH), pin_uv_protocol=2
    )


@pytest.mark.parametrize("version", [1, 2])
async def test_persistent_token_reads_across_power_cycles_and_never_writes(make_rig: Any, version: int) -> None:
    async with make_rig() as rig:
        assert (await rig.ctap.get_info()).options["perCredMgmtRO"] is True
        await rig.set_pin(PIN, version)
        first = await make_rk(rig, b"alice")
        proto, persistent = await rig.token(P.PERSISTENT_CREDENTIAL_MGMT, version=version)
        info = await rig.ctap.get_info()
        identifier = info.get_identifier(persistent)
        state_before = info.get_cred_store_state(persistent)
        assert identifier is not None and len(identifier) == 16 and state_before is not None
        assert info.enc_identifier != (await rig.ctap.get_info()).enc_identifier  # a fresh IV every time
        await make_rk(rig, b"bob")
        state_after = (await rig.ctap.get_info()).get_cred_store_state(persistent)
        assert state_after != state_before  # a discoverable credential more
        for cycle in (False, True):
            if cycle:
                await rig.power_cycle()
            cm = CM(rig.ctap, proto, persistent)
            assert (await cm.get_metadata())[CM.RESULT.EXISTING_CRED_COUNT] == 2
            rps = await cm.enumerate_rps()
            assert [r[CM.RESULT.RP]["id"] for r in rps] == ["example.com"]
            creds = await cm.enumerate_creds(RP_HASH)
            assert [c[CM.RESULT.USER]["id"] for c in creds] == [b"alice", b"bob"]
            descriptor = {"type": "public-key", "id": first.auth_data.credential_data.credential_id}
            with pytest.raises(CtapError) as e:  # read-only: no delete
                await cm.delete_cred(descriptor)
            assert e.value.code == ERR.PIN_AUTH_INVALID
            with pytest.raises(CtapError) as e:  # and no update
                await cm.update_user_info(descriptor, {"id": b"alice", "name": "renamed"})
            assert e.value.code == ERR.PIN_AUTH_INVALID
            info = await rig.ctap.get_info()
            assert info.get_cred_store_state(persistent) == state_after
            assert info.get_identifier(persistent) == identifier
        # asking again gives the same token: whoever holds it keeps reading
        assert (await rig.token(P.PERSISTENT_CREDENTIAL_MGMT, version=version))[1] == persistent
        # a regular cm token still writes, and the store state follows
        proto_cm, token_cm = await rig.token(P.CREDENTIAL_MGMT, version=version)
        await CM(rig.ctap, proto_cm, token_cm).delete_cred(descriptor)
        assert (await rig.ctap.get_info()).get_cred_store_state(persistent) not in (state_after, None)


async def test_persistent_token_is_good_for_nothing_else(make_rig: Any) -> None:
    async with make_rig() as rig:
        await rig.set_pin(PIN)
        proto, cfg = await rig.token(P.AUTHENTICATOR_CFG)
        _, persistent = await rig.token(P.PERSISTENT_CREDENTIAL_MGMT)
        assert rig.auth.pin.token is not None and rig.auth.pin.token.value == cfg  # the pinUvAuthToken stays
        with pytest.raises(CtapError) as e:
            await rig.make(pin_uv_param=proto.authenticate(persistent, CDH), pin_uv_protocol=2)
        assert e.value.code == ERR.PIN_AUTH_INVALID
        with pytest.raises(CtapError) as e:
            await rig.ctap.get_assertion("example.com", CDH, pin_uv_param=proto.authenticate(persistent, CDH),
                                         pin_uv_protocol=2)  # fmt: skip
        assert e.value.code == ERR.PIN_AUTH_INVALID
        with pytest.raises(CtapError) as e:
            await Config(rig.ctap, proto, persistent).toggle_always_uv()
        assert e.value.code == ERR.PIN_AUTH_INVALID
        with pytest.raises(CtapError) as e:
            await LargeBlobs(rig.ctap, proto, persistent).write_blob_array([])
        assert e.value.code == ERR.PIN_AUTH_INVALID
        await Config(rig.ctap, proto, cfg).toggle_always_uv()  # the acfg token still works


async def test_pcmr_is_asked_for_alone_and_ignores_the_rp_id(make_rig: Any) -> None:
    async with make_rig() as rig:
        cp = await rig.set_pin(PIN)
        for permissions in (P.PERSISTENT_CREDENTIAL_MGMT | P.CREDENTIAL_MGMT, P.PERSISTENT_CREDENTIAL_MGMT | 0x01):
            with pytest.raises(CtapError) as e:
                await cp.get_pin_token(PIN, permissions, "example.com")
            assert e.value.code == ERR.UNAUTHORIZED_PERMISSION
        token = await cp.get_pin_token(PIN, P.PERSISTENT_CREDENTIAL_MGMT, "example.com")
        await make_rk(rig, b"u", rp_id="other.example")
        rps = await CM(rig.ctap, cp.protocol, token).enumerate_rps()  # not bound to example.com
        assert [r[CM.RESULT.RP]["id"] for r in rps] == ["other.example"]
        with pytest.raises(CtapError) as e:  # 0x80: no such permission
            await cp.get_pin_token(PIN, P(0x40 | 0x80))
        assert e.value.code == ERR.UNAUTHORIZED_PERMISSION


async def test_a_new_pin_or_a_reset_ends_the_persistent_token(make_rig: Any) -> None:
    async with make_rig() as rig:
        cp = await rig.set_pin(PIN)
        _, persistent = await rig.token(P.PERSISTENT_CREDENTIAL_MGMT)
        identifier = (await rig.ctap.get_info()).get_identifier(persistent)
        await cp.change_pin(PIN, "another pin")
        info = await rig.ctap.get_info()
        assert info.enc_identifier is None and info.enc_cred_store_state is None
        with pytest.raises(CtapError) as e:
            await CM(rig.ctap, cp.protocol, persistent).get_metadata()
        assert e.value.code == ERR.PIN_AUTH_INVALID
        _, renewed = await rig.token(P.PERSISTENT_CREDENTIAL_MGMT, pin="another pin")
        assert renewed != persistent
        assert (await rig.ctap.get_info()).get_identifier(renewed) == identifier  # the same authenticator
        rig.clock.now = rig.auth.powered_up
        await rig.ctap.reset()
        assert (await rig.ctap.get_info()).enc_identifier is None
        assert rig.auth.state.persistent_token is None
        await rig.set_pin(PIN)
        _, after_reset = await rig.token(P.PERSISTENT_CREDENTIAL_MGMT)
        assert (await rig.ctap.get_info()).get_identifier(after_reset) != identifier  # a reset is a new identity


async def test_persistent_token_survives_a_restart(make_rig: Any, tmp_path: Path) -> None:
    path = tmp_path / "auth.state"
    async with make_rig(str(path)) as rig:
        await rig.set_pin(PIN)
        await make_rk(rig, b"alice")
        proto, persistent = await rig.token(P.PERSISTENT_CREDENTIAL_MGMT)
        identifier = (await rig.ctap.get_info()).get_identifier(persistent)
    async with make_rig(str(path)) as rig:
        assert (await rig.ctap.get_info()).get_identifier(persistent) == identifier
        assert (await CM(rig.ctap, proto, persistent).get_metadata())[CM.RESULT.EXISTING_CRED_COUNT] == 1


async def test_wire_format_of_the_encrypted_members(make_rig: Any) -> None:
    """encIdentifier = IV (16 bytes) || AES-128-CBC under HKDF-SHA-256(salt 32 zeros, the token, 16, "encIdentifier"),
    checked here with python-fido2's own Info.get_identifier (an independent implementation)."""
    from fido2.ctap2 import Info as Fido2Info

    async with make_rig() as rig:
        await rig.set_pin(PIN)
        _, persistent = await rig.token(P.PERSISTENT_CREDENTIAL_MGMT)
        _, raw = await rig.raw(0x04)
        assert len(raw[25]) == 32 and len(raw[30]) == 32
        theirs = Fido2Info.from_dict(raw)
        ours = await rig.ctap.get_info()
        assert theirs.get_identifier(persistent) == ours.get_identifier(persistent)
        assert ours.get_identifier(persistent) == rig.auth.state.device_identifier()
        assert theirs.get_cred_store_state(persistent) == rig.auth.state.cred_store_state()
        assert cbor.loads(cbor.dumps(raw)) == raw
