"""credentialManagement, bioEnrollment, largeBlobs, config, selection and reset of the software authenticator."""

from __future__ import annotations

import hashlib
import struct
from typing import Any

import pytest

from aioctap import cbor
from aioctap.ctap import CtapError
from aioctap.ctap2 import ClientPin, Config, CredentialManagement, FPBioEnrollment, LargeBlobs
from aioctap.virtual import FEEDBACK, DenyAll

ERR = CtapError.ERR
CDH = hashlib.sha256(b"client data").digest()
P = ClientPin.PERMISSION
CM = CredentialManagement


async def make_rk(rig: Any, user_id: bytes, rp_id: str = "example.com", **kwargs: Any) -> Any:
    proto, token = await rig.token(P.MAKE_CREDENTIAL, rp_id)
    return await rig.make(
        user_id, rp_id=rp_id, options={"rk": True}, pin_uv_param=proto.authenticate(token, CDH), pin_uv_protocol=2,
        **kwargs,
    )  # fmt: skip


def cm_request(proto: Any, token: bytes, sub: int, sub_params: dict[int, Any] | None = None) -> dict[int, Any]:
    message = bytes([sub]) + (cbor.dumps(sub_params) if sub_params is not None else b"")
    request: dict[int, Any] = {1: sub, 3: proto.VERSION, 4: proto.authenticate(token, message)}
    if sub_params is not None:
        request[2] = sub_params
    return request


async def test_credential_management_every_subcommand(make_rig: Any) -> None:
    async with make_rig() as rig:
        await rig.set_pin()
        a1 = await make_rk(rig, b"a1", extensions={"credProtect": 2, "largeBlobKey": True})
        await make_rk(rig, b"a2")
        await make_rk(rig, b"b1", rp_id="b.example", key_params=[{"type": "public-key", "alg": -257}])
        proto, token = await rig.token(P.CREDENTIAL_MGMT)
        cm = CM(rig.ctap, proto, token)
        assert await cm.get_metadata() == {1: 3, 2: 47}
        rps = await cm.enumerate_rps()
        assert [r[CM.RESULT.RP]["id"] for r in rps] == ["b.example", "example.com"]
        assert rps[0][CM.RESULT.TOTAL_RPS] == 2
        rp_hash = hashlib.sha256(b"example.com").digest()
        creds = await cm.enumerate_creds(rp_hash)
        assert [c[CM.RESULT.USER]["id"] for c in creds] == [b"a1", b"a2"]
        assert creds[0][CM.RESULT.TOTAL_CREDENTIALS] == 2
        assert creds[0][CM.RESULT.CRED_PROTECT] == 2 and creds[0][CM.RESULT.LARGE_BLOB_KEY] == a1.large_blob_key
        assert creds[0][CM.RESULT.PUBLIC_KEY] == dict(a1.auth_data.credential_data.public_key)
        descriptor = creds[0][CM.RESULT.CREDENTIAL_ID]
        await cm.update_user_info(descriptor, {"id": b"a1", "name": "renamed"})
        assert (await cm.enumerate_creds(rp_hash))[0][CM.RESULT.USER] == {"id": b"a1", "name": "renamed"}
        with pytest.raises(CtapError) as e:  # the user handle cannot change
            await cm.update_user_info(descriptor, {"id": b"zz", "name": "x"})
        assert e.value.code == ERR.INVALID_PARAMETER
        await cm.delete_cred(descriptor)
        with pytest.raises(CtapError) as e:
            await rig.ctap.get_assertion("example.com", CDH, [descriptor])
        assert e.value.code == ERR.NO_CREDENTIALS
        proto, token = await rig.token(P.CREDENTIAL_MGMT)  # the assertion's touch left the token only lbw
        cm = CM(rig.ctap, proto, token)
        with pytest.raises(CtapError) as e:
            await cm.delete_cred(descriptor)
        assert e.value.code == ERR.NO_CREDENTIALS
        # deleting an RS256 credential forgets its RSA key too
        b_creds = await cm.enumerate_creds(hashlib.sha256(b"b.example").digest())
        assert len(rig.auth.state.rsa_keys) == 1
        await cm.delete_cred(b_creds[0][CM.RESULT.CREDENTIAL_ID])
        assert rig.auth.state.rsa_keys == {}
        assert await cm.get_metadata() == {1: 1, 2: 49}
        assert await cm.enumerate_creds(hashlib.sha256(b"b.example").digest()) == []  # NO_CREDENTIALS: none


async def test_credential_management_enumeration_state_and_auth(make_rig: Any) -> None:
    async with make_rig() as rig:
        await rig.set_pin()
        for i in range(3):
            await make_rk(rig, bytes([i]), rp_id=f"rp{i}.example")
        proto, token = await rig.token(P.CREDENTIAL_MGMT)
        assert await rig.status(0x0A, {1: 0x03}) == ERR.NOT_ALLOWED  # next without begin
        status, first = await rig.raw(0x0A, cm_request(proto, token, 0x02))
        assert status == 0 and first[5] == 3
        status, second = await rig.raw(0x0A, {1: 0x03})
        assert status == 0 and second[3]["id"] == "rp1.example"
        await rig.ctap.get_info()  # another command ends the enumeration
        assert await rig.status(0x0A, {1: 0x03}) == ERR.NOT_ALLOWED
        # the preview command code 0x41 is the same command
        status, meta = await rig.raw(0x41, cm_request(proto, token, 0x01))
        assert status == 0 and meta == {1: 3, 2: 47}
        assert await rig.status(0x0A, {1: 0x01}) == ERR.PUAT_REQUIRED
        assert await rig.status(0x0A, {1: 0x01, 4: b"\x00" * 32}) == ERR.MISSING_PARAMETER  # no protocol
        assert await rig.status(0x0A, cm_request(proto, b"\x01" * 32, 0x01)) == ERR.PIN_AUTH_INVALID
        assert await rig.status(0x0A, cm_request(proto, token, 0x09)) == ERR.INVALID_SUBCOMMAND
        assert await rig.status(0x0A, cm_request(proto, token, 0x04)) == ERR.MISSING_PARAMETER
        # a token without cm
        proto2, mc_token = await rig.token(P.MAKE_CREDENTIAL, "rp0.example")
        assert await rig.status(0x0A, cm_request(proto2, mc_token, 0x01)) == ERR.PIN_AUTH_INVALID
        # a token bound to one RP: only that RP's credentials
        cp = rig.client_pin()
        token = await cp.get_pin_token("4321abcd", P.CREDENTIAL_MGMT, "rp1.example")
        assert await rig.status(0x0A, cm_request(cp.protocol, token, 0x01)) == ERR.PIN_AUTH_INVALID
        assert await rig.status(0x0A, cm_request(cp.protocol, token, 0x02)) == ERR.PIN_AUTH_INVALID
        rp1 = {1: hashlib.sha256(b"rp1.example").digest()}
        rp2 = {1: hashlib.sha256(b"rp2.example").digest()}
        assert await rig.status(0x0A, cm_request(cp.protocol, token, 0x04, rp1)) == ERR.SUCCESS
        assert await rig.status(0x0A, cm_request(cp.protocol, token, 0x04, rp2)) == ERR.PIN_AUTH_INVALID


async def test_bio_enrollment_with_scripted_sensor(make_rig: Any) -> None:
    async with make_rig() as rig:
        await rig.set_pin()
        proto, token = await rig.token(P.BIO_ENROLL)
        bio = FPBioEnrollment(rig.ctap, proto, token)
        assert await bio.get_modality() == 1
        info = await bio.get_fingerprint_sensor_info()
        assert info == {1: 1, 2: 1, 3: 4, 8: 32}
        rig.auth.sensor.script(FEEDBACK.FP_TOO_HIGH, FEEDBACK.FP_GOOD, FEEDBACK.FP_TOO_FAST, FEEDBACK.FP_POOR_QUALITY)
        samples = [s async for s in bio.enroll()]
        assert [(s.feedback, s.remaining) for s in samples] == [(1, 4), (0, 3), (5, 3), (7, 3), (0, 2), (0, 1), (0, 0)]
        first = samples[-1].template_id
        assert first is not None
        await bio.set_name(first, "left thumb")
        async for _ in bio.enroll():
            pass
        enrolled = await bio.enumerate_enrollments()
        assert len(enrolled) == 2 and enrolled[first] == "left thumb"
        with pytest.raises(CtapError) as e:
            await bio.set_name(first, "x" * 33)
        assert e.value.code == ERR.INVALID_LENGTH
        rig.auth.sensor.script(FEEDBACK.FP_GOOD, "timeout")  # the user lifts the finger mid-enrollment
        with pytest.raises(CtapError) as e:
            async for _ in bio.enroll():
                pass
        assert e.value.code == ERR.USER_ACTION_TIMEOUT
        await bio.remove_enrollment(first)
        assert list(await bio.enumerate_enrollments()) != [first]
        with pytest.raises(CtapError) as e:
            await bio.remove_enrollment(first)
        assert e.value.code == ERR.INVALID_OPTION
        # the preview command code 0x40
        message = bytes([1, 0x04])
        request = {1: 1, 2: 0x04, 4: 2, 5: proto.authenticate(token, message)}
        status, listed = await rig.raw(0x40, request)
        assert status == 0 and len(listed[7]) == 1
        for _ in range(4):
            async for _ in bio.enroll():
                pass
        with pytest.raises(CtapError) as e:
            await bio.enroll_begin()
        assert e.value.code == ERR.FP_DATABASE_FULL
        sub_params = {1: b"\x00\x00"}
        message = bytes([1, 0x02]) + cbor.dumps(sub_params)
        request = {1: 1, 2: 0x02, 3: sub_params, 4: 2, 5: proto.authenticate(token, message)}
        assert await rig.status(0x09, request) == ERR.NOT_ALLOWED  # no enrollment going on
        assert await rig.status(0x09, {1: 1, 2: 0x02, 3: sub_params}) == ERR.PUAT_REQUIRED
        assert await rig.status(0x09, {1: 2, 2: 0x07}) == ERR.INVALID_PARAMETER  # not a fingerprint modality
        assert await rig.status(0x09, {1: 1, 2: 0x04}) == ERR.PUAT_REQUIRED


async def test_large_blobs(make_rig: Any) -> None:
    async with make_rig() as rig:
        empty = bytes.fromhex("80") + hashlib.sha256(b"\x80").digest()[:16]
        status, got = await rig.raw(0x0C, {1: 100, 3: 0})
        assert status == 0 and got == {1: empty}
        assert await LargeBlobs(rig.ctap).read_blob_array() == []
        array = cbor.dumps([{1: b"x" * 30, 2: b"n" * 12, 3: 10}])
        blob = array + hashlib.sha256(array).digest()[:16]
        # in fragments, not protected: no token needed
        assert await rig.status(0x0C, {2: blob[:20], 3: 0, 4: len(blob)}) == ERR.SUCCESS
        assert await rig.status(0x0C, {2: blob[20:30], 3: 25}) == ERR.INVALID_SEQ
        assert await rig.status(0x0C, {2: blob[20:], 3: 20}) == ERR.SUCCESS
        assert (await rig.raw(0x0C, {1: 1000, 3: 0}))[1] == {1: blob}
        assert (await rig.raw(0x0C, {1: 5, 3: 3}))[1] == {1: blob[3:8]}
        corrupt = array + b"\x00" * 16
        assert await rig.status(0x0C, {2: corrupt, 3: 0, 4: len(corrupt)}) == ERR.INTEGRITY_FAILURE
        assert rig.auth.state.large_blob_array == blob
        assert await rig.status(0x0C, {2: b"x", 3: 0, 4: 4097}) == ERR.LARGE_BLOB_STORAGE_FULL
        assert await rig.status(0x0C, {2: b"x", 3: 0, 4: 5}) == ERR.INVALID_PARAMETER  # shorter than a trailer
        assert await rig.status(0x0C, {2: b"x", 3: 0}) == ERR.INVALID_PARAMETER  # length missing at offset 0
        assert await rig.status(0x0C, {1: 10, 2: b"x", 3: 0}) == ERR.INVALID_PARAMETER  # get and set
        assert await rig.status(0x0C, {1: 10, 3: len(blob) + 1}) == ERR.INVALID_PARAMETER
        assert await rig.status(0x0C, {1: 8000, 3: 0}) == ERR.INVALID_LENGTH
        assert await rig.status(0x0C, {1: 10}) == ERR.MISSING_PARAMETER
        # protected: pinUvAuthParam over 32x0xff || 0x0c 0x00 || uint32LE(offset) || SHA-256(fragment)
        await rig.set_pin()
        assert await rig.status(0x0C, {2: blob, 3: 0, 4: len(blob)}) == ERR.PUAT_REQUIRED
        proto, token = await rig.token(P.LARGE_BLOB_WRITE)
        message = b"\xff" * 32 + b"\x0c\x00" + struct.pack("<I", 0) + hashlib.sha256(empty).digest()
        good = {2: empty, 3: 0, 4: len(empty), 5: proto.authenticate(token, message), 6: 2}
        proto_cm, cm_token = await rig.token(P.CREDENTIAL_MGMT)
        wrong_perm = {**good, 5: proto_cm.authenticate(cm_token, message)}
        assert await rig.status(0x0C, wrong_perm) == ERR.PIN_AUTH_INVALID
        proto, token = await rig.token(P.LARGE_BLOB_WRITE)
        assert await rig.status(0x0C, {**good, 5: proto.authenticate(token, message)}) == ERR.SUCCESS
        assert rig.auth.state.large_blob_array == empty


async def test_config(make_rig: Any) -> None:
    async with make_rig() as rig:
        config = Config(rig.ctap)
        await config.set_min_pin_length(min_pin_length=6, rp_ids=["a.example", "b.example"])
        with pytest.raises(CtapError) as e:  # it only goes up
            await config.set_min_pin_length(min_pin_length=5)
        assert e.value.code == ERR.PIN_POLICY_VIOLATION
        with pytest.raises(CtapError) as e:  # at most maxRPIDsForSetMinPINLength
            await config.set_min_pin_length(rp_ids=[f"{i}.example" for i in range(5)])
        assert e.value.code == ERR.PIN_POLICY_VIOLATION
        with pytest.raises(CtapError) as e:
            await config.set_min_pin_length(force_change_pin=True)
        assert e.value.code == ERR.PIN_NOT_SET
        info = await rig.ctap.get_info()
        assert info.min_pin_length == 6
        cp = rig.client_pin()
        with pytest.raises(CtapError) as e:
            await cp.set_pin("12345")
        assert e.value.code == ERR.PIN_POLICY_VIOLATION
        await rig.set_pin("123456")
        with pytest.raises(CtapError) as e:  # protected: a token with acfg is needed
            await config.toggle_always_uv()
        assert e.value.code == ERR.PUAT_REQUIRED
        proto, token = await rig.token(P.AUTHENTICATOR_CFG, pin="123456")
        config = Config(rig.ctap, proto, token)
        await config.toggle_always_uv()
        await config.toggle_always_uv()
        assert not (await rig.ctap.get_info()).options["alwaysUv"]
        proto, token = await rig.token(P.CREDENTIAL_MGMT, pin="123456")
        with pytest.raises(CtapError) as e:
            await Config(rig.ctap, proto, token).enable_enterprise_attestation()
        assert e.value.code == ERR.PIN_AUTH_INVALID
        # vendorPrototype: the one vendor command advertised in getInfo identifies the authenticator
        proto, token = await rig.token(P.AUTHENTICATOR_CFG, pin="123456")
        vendor_id = (await rig.ctap.get_info()).vendor_prototype_config_commands[0]
        sub_params = {1: vendor_id}
        message = b"\xff" * 32 + b"\x0d\xff" + cbor.dumps(sub_params)
        winks = rig.auth.winks
        request = {1: 0xFF, 2: sub_params, 3: 2, 4: proto.authenticate(token, message)}
        assert await rig.status(0x0D, request) == ERR.SUCCESS
        assert rig.auth.winks == winks + 1
        message = b"\xff" * 32 + b"\x0d\x07"
        assert await rig.status(0x0D, {1: 7, 3: 2, 4: proto.authenticate(token, message)}) == ERR.INVALID_SUBCOMMAND


async def test_selection_and_reset(make_rig: Any) -> None:
    async with make_rig() as rig:
        await rig.ctap.selection()
        await rig.set_pin()
        await make_rk(rig, b"u")
        rig.clock.now += 11  # more than 10 s after power-up
        with pytest.raises(CtapError) as e:
            await rig.ctap.reset()
        assert e.value.code == ERR.NOT_ALLOWED
        await rig.power_cycle()
        rig.auth.policy = DenyAll()
        with pytest.raises(CtapError) as e:
            await rig.ctap.selection()
        assert e.value.code == ERR.OPERATION_DENIED
        with pytest.raises(CtapError) as e:
            await rig.ctap.reset()
        assert e.value.code == ERR.OPERATION_DENIED
        from aioctap.virtual import ApproveAll

        rig.auth.policy = ApproveAll()
        aaguid = rig.auth.state.aaguid
        await rig.ctap.reset()
        info = await rig.ctap.get_info()
        assert not info.options["clientPin"] and info.remaining_disc_creds == 50 and info.aaguid == aaguid
        assert rig.auth.state.credentials == []
    async with make_rig(reset_window=None) as rig:
        rig.clock.now += 3600
        await rig.ctap.reset()


async def test_unknown_command_and_empty_payload(make_rig: Any) -> None:
    async with make_rig() as rig:
        assert await rig.status(0x03) == ERR.INVALID_COMMAND
        assert await rig.status(0x20) == ERR.INVALID_COMMAND
        assert await rig.auth.handle(0x10, b"", lambda s: None) == bytes([ERR.INVALID_LENGTH])
