"""The async CTAP2 layers against the software authenticator, in memory and over real UDP sockets."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from contextlib import aclosing, asynccontextmanager
from typing import Any

import anyio
import pytest

import aioctap
from aioctap.ctap import CtapError
from aioctap.ctap2 import (
    ClientPin,
    Config,
    CredentialManagement,
    Ctap2,
    CtapResponseError,
    FPBioEnrollment,
    LargeBlobs,
    PinProtocolV1,
    PinProtocolV2,
)
from aioctap.hid.device import CtapHidDevice
from aioctap.hid.device_side import CtapHidServer
from aioctap.virtual import FEEDBACK, VirtualAuthenticator, WaitForTouch

PIN = "4321abcd"
CDH = hashlib.sha256(b"client data").digest()
RP = {"id": "example.com", "name": "Example"}
ES256 = [{"type": "public-key", "alg": -7}]


@asynccontextmanager
async def device(kind: str, auth: VirtualAuthenticator | None = None) -> AsyncIterator[CtapHidDevice]:
    auth = auth or VirtualAuthenticator()
    if kind == "memory":
        from aioctap.virtual import open_virtual_device

        async with open_virtual_device(authenticator=auth) as dev:
            yield dev
        return
    server = CtapHidServer(auth)
    async with anyio.create_task_group() as tg:
        host, port = await tg.start(server.serve_udp, "127.0.0.1", 0)
        async with aioctap.open_device(f"udp:{host}:{port}") as dev:
            yield dev
        tg.cancel_scope.cancel()


KINDS = ["memory", "udp"]


@pytest.mark.parametrize("kind", KINDS)
async def test_register_and_assertions_async_iterator(kind: str) -> None:
    async with device(kind) as dev:
        ctap = await Ctap2.create(dev)
        keys = {}
        for i in range(3):
            att = await ctap.make_credential(
                CDH, RP, {"id": bytes([i]), "name": f"user{i}"}, ES256, options={"rk": True}
            )
            assert att.fmt == "packed"
            cred = att.auth_data.credential_data
            assert cred is not None
            keys[cred.credential_id] = cred.public_key
        seen = []
        async with aclosing(ctap.get_assertions("example.com", CDH)) as assertions:
            async for a in assertions:
                a.verify(CDH, keys[a.credential["id"]])
                seen.append(a.user["id"] if a.user else None)
        assert seen == [b"\x02", b"\x01", b"\x00"]
        # abandoning the iteration after the first one is fine, and the device is still usable
        async for _ in ctap.get_assertions("example.com", CDH):
            break
        assert (await ctap.get_info()).versions


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("proto_cls", [PinProtocolV1, PinProtocolV2])
async def test_pin_lifecycle_and_errors(kind: str, proto_cls: type) -> None:
    async with device(kind) as dev:
        ctap = await Ctap2.create(dev)
        cp = ClientPin(ctap, proto_cls())
        await cp.set_pin(PIN)
        await ctap.get_info()
        assert ctap.info.options["clientPin"]
        with pytest.raises(CtapError) as e:
            await cp.set_pin(PIN)
        assert e.value.code == CtapError.ERR.NOT_ALLOWED
        for _ in range(2):
            with pytest.raises(CtapError) as e:
                await cp.get_pin_token("bad-pin")
            assert e.value.code == CtapError.ERR.PIN_INVALID
        with pytest.raises(CtapError) as e:
            await cp.get_pin_token("bad-pin")
        assert e.value.code == CtapError.ERR.PIN_AUTH_BLOCKED
        assert await cp.get_pin_retries() == (5, True)
        # blocked until power cycle
        with pytest.raises(CtapError) as e:
            await cp.get_pin_token(PIN)
        assert e.value.code == CtapError.ERR.PIN_AUTH_BLOCKED
        token = None
        if kind == "memory":
            dev.power_cycle()  # type: ignore[attr-defined]
            ctap = await Ctap2.create(await CtapHidDevice.open(dev.connection))
            cp = ClientPin(ctap, proto_cls())
            token = await cp.get_pin_token(PIN, ClientPin.PERMISSION.MAKE_CREDENTIAL, "example.com")
            assert await cp.get_pin_retries() == (8, False)
            await cp.change_pin(PIN, "new-pin-1")
            token = await cp.get_pin_token("new-pin-1", ClientPin.PERMISSION.MAKE_CREDENTIAL, "example.com")
            protocol = cp.protocol
            att = await ctap.make_credential(
                CDH, RP, {"id": b"u"}, ES256, pin_uv_param=protocol.authenticate(token, CDH),
                pin_uv_protocol=protocol.VERSION,
            )  # fmt: skip
            assert att.auth_data.is_user_verified()
            with pytest.raises(CtapError) as e:  # the token was bound to example.com
                await ctap.make_credential(
                    CDH, {"id": "other.org"}, {"id": b"u"}, ES256,
                    pin_uv_param=protocol.authenticate(token, CDH), pin_uv_protocol=protocol.VERSION,
                )  # fmt: skip
            assert e.value.code == CtapError.ERR.PIN_AUTH_INVALID


async def test_pin_blocked_after_8_failures() -> None:
    async with device("memory") as dev:
        ctap = await Ctap2.create(dev)
        cp = ClientPin(ctap)
        await cp.set_pin(PIN)
        codes = []
        for attempt in range(9):
            if attempt % 3 == 0 and attempt:
                dev.power_cycle()  # type: ignore[attr-defined]
                ctap = await Ctap2.create(await CtapHidDevice.open(dev.connection))
                cp = ClientPin(ctap)
            try:
                await cp.get_pin_token("nope-nope")
            except CtapError as e:
                codes.append(e.code)
        assert codes[-1] == CtapError.ERR.PIN_BLOCKED
        assert (await cp.get_pin_retries())[0] == 0


@pytest.mark.parametrize("kind", KINDS)
async def test_credential_management_async_iterators(kind: str) -> None:
    async with device(kind) as dev:
        ctap = await Ctap2.create(dev)
        cp = ClientPin(ctap)
        await cp.set_pin(PIN)
        for rp_id in ("a.example", "b.example"):
            for i in range(2):
                token = await cp.get_pin_token(PIN, ClientPin.PERMISSION.MAKE_CREDENTIAL, rp_id)
                await ctap.make_credential(
                    CDH, {"id": rp_id}, {"id": bytes([i]), "name": f"n{i}"}, ES256, options={"rk": True},
                    pin_uv_param=cp.protocol.authenticate(token, CDH), pin_uv_protocol=cp.protocol.VERSION,
                )  # fmt: skip
        token = await cp.get_pin_token(PIN, ClientPin.PERMISSION.CREDENTIAL_MGMT)
        cm = CredentialManagement(ctap, cp.protocol, token)
        meta = await cm.get_metadata()
        assert meta[CredentialManagement.RESULT.EXISTING_CRED_COUNT] == 4
        rp_ids = [rp[CredentialManagement.RESULT.RP]["id"] async for rp in cm.rps()]
        assert rp_ids == ["a.example", "b.example"]
        rp_hash = hashlib.sha256(b"a.example").digest()
        creds = [c async for c in cm.credentials(rp_hash)]
        assert [c[CredentialManagement.RESULT.USER]["name"] for c in creds] == ["n0", "n1"]
        cred_id = creds[0][CredentialManagement.RESULT.CREDENTIAL_ID]
        await cm.update_user_info(cred_id, {"id": b"\x00", "name": "renamed", "displayName": "R"})
        assert (await cm.enumerate_creds(rp_hash))[0][CredentialManagement.RESULT.USER]["name"] == "renamed"
        await cm.delete_cred(cred_id)
        assert len(await cm.enumerate_creds(rp_hash)) == 1
        # a wrong token is rejected
        bad = CredentialManagement(ctap, cp.protocol, b"\x00" * 32)
        with pytest.raises(CtapError) as e:
            await bad.get_metadata()
        assert e.value.code == CtapError.ERR.PIN_AUTH_INVALID
        assert [c async for c in cm.credentials(hashlib.sha256(b"none.example").digest())] == []


@pytest.mark.parametrize("kind", KINDS)
async def test_bio_enrollment_iterator_with_feedback(kind: str) -> None:
    auth = VirtualAuthenticator()
    auth.sensor.script(FEEDBACK.FP_TOO_HIGH, FEEDBACK.FP_GOOD, FEEDBACK.FP_POOR_QUALITY)
    async with device(kind, auth) as dev:
        ctap = await Ctap2.create(dev)
        cp = ClientPin(ctap)
        await cp.set_pin(PIN)
        token = await cp.get_pin_token(PIN, ClientPin.PERMISSION.BIO_ENROLL)
        bio = FPBioEnrollment(ctap, cp.protocol, token)
        info = await bio.get_fingerprint_sensor_info()
        assert await bio.get_modality() == FPBioEnrollment.MODALITY.FINGERPRINT
        assert info[FPBioEnrollment.RESULT.MAX_SAMPLES_REQUIRED] == 4
        samples = [s async for s in bio.enroll()]
        assert [s.feedback for s in samples] == [1, 0, 7, 0, 0, 0]
        assert [s.remaining for s in samples] == [4, 3, 3, 2, 1, 0]
        template_id = samples[-1].template_id
        assert template_id is not None
        await bio.set_name(template_id, "thumb")
        assert await bio.enumerate_enrollments() == {template_id: "thumb"}
        # abandoning an enrollment cancels it on the device
        async with aclosing(bio.enroll()) as it:
            async for _ in it:
                break
        auth.sensor.script("timeout")
        with pytest.raises(CtapError) as e:
            async for _ in bio.enroll():
                pass
        assert e.value.code == CtapError.ERR.USER_ACTION_TIMEOUT
        await bio.remove_enrollment(template_id)
        assert await bio.enumerate_enrollments() == {}


@pytest.mark.parametrize("kind", KINDS)
async def test_large_blobs_and_config(kind: str) -> None:
    async with device(kind) as dev:
        ctap = await Ctap2.create(dev)
        blobs = LargeBlobs(ctap)
        assert await blobs.read_blob_array() == []
        att = await ctap.make_credential(
            CDH, RP, {"id": b"u"}, ES256, options={"rk": True}, extensions={"largeBlobKey": True}
        )
        key = att.large_blob_key
        assert key is not None and len(key) == 32
        data = bytes(range(256)) * 12  # several fragments after compression? at least one full write
        await blobs.put_blob(key, data)
        assert await blobs.get_blob(key) == data
        assertion = await ctap.get_assertion("example.com", CDH, extensions={"largeBlobKey": True})
        assert assertion.large_blob_key == key
        await blobs.delete_blob(key)
        assert await blobs.get_blob(key) is None
        config = Config(ctap)
        await config.enable_enterprise_attestation()
        assert (await ctap.get_info()).options["ep"]
        att = await ctap.make_credential(CDH, RP, {"id": b"e"}, ES256, enterprise_attestation=1)
        assert not att.ep_att  # vendor-facilitated: example.com is not on the authenticator's list
        att = await ctap.make_credential(CDH, RP, {"id": b"e"}, ES256, enterprise_attestation=2)
        assert att.ep_att is True  # platform-managed
        await config.toggle_always_uv()
        assert (await ctap.get_info()).options["alwaysUv"]
        with pytest.raises(CtapError) as e:  # alwaysUv: config itself now needs a token
            await config.toggle_always_uv()
        assert e.value.code == CtapError.ERR.PUAT_REQUIRED


@pytest.mark.parametrize("kind", KINDS)
async def test_cancel_while_waiting_for_touch(kind: str) -> None:
    policy = WaitForTouch()
    auth = VirtualAuthenticator(policy=policy)
    async with device(kind, auth) as dev:
        ctap = await Ctap2.create(dev)
        statuses: list[Any] = []
        with anyio.move_on_after(0.4):
            await ctap.make_credential(CDH, RP, {"id": b"u"}, ES256, on_keepalive=statuses.append)
        assert statuses and statuses[0] == 2  # UPNEEDED
        assert not policy.waiting
        # cancelling the awaiting task from outside, mid-command, cancels it on the device too
        async with anyio.create_task_group() as tg:
            tg.start_soon(ctap.make_credential, CDH, RP, {"id": b"v", "name": "v"}, ES256, None, None, {"rk": True})
            with anyio.fail_after(5):
                while not policy.waiting:
                    await anyio.sleep(0.01)
            tg.cancel_scope.cancel()
        with anyio.fail_after(5):
            while policy.waiting:
                await anyio.sleep(0.01)
        assert auth.state.credentials == []  # the cancelled request left nothing behind
        async with anyio.create_task_group() as tg:
            tg.start_soon(ctap.selection)
            while not policy.waiting:
                await anyio.sleep(0.01)
            policy.touch()


async def test_errors_for_bad_requests() -> None:
    async with device("memory") as dev:
        ctap = await Ctap2.create(dev)
        with pytest.raises(CtapError) as e:
            await ctap.make_credential(CDH, RP, {"id": b"u"}, [{"type": "public-key", "alg": -999}])
        assert e.value.code == CtapError.ERR.UNSUPPORTED_ALGORITHM
        with pytest.raises(CtapError) as e:
            await ctap.get_assertion("example.com", CDH)
        assert e.value.code == CtapError.ERR.NO_CREDENTIALS
        att = await ctap.make_credential(CDH, RP, {"id": b"u"}, ES256)
        cred = att.auth_data.credential_data
        assert cred is not None
        with pytest.raises(CtapError) as e:
            await ctap.make_credential(
                CDH, RP, {"id": b"u2"}, ES256, exclude_list=[{"type": "public-key", "id": cred.credential_id}]
            )
        assert e.value.code == CtapError.ERR.CREDENTIAL_EXCLUDED
        raw = await dev.call(0x10, b"\x01\xa1\x01\x41")  # truncated CBOR
        assert raw == bytes([CtapError.ERR.INVALID_CBOR])
        raw = await dev.call(0x10, b"\x01\xa0")
        assert raw == bytes([CtapError.ERR.MISSING_PARAMETER])
        raw = await dev.call(0x10, b"\x02\xa2\x01\x05\x02\x40")
        assert raw == bytes([CtapError.ERR.CBOR_UNEXPECTED_TYPE])
        raw = await dev.call(0x10, b"\x55")
        assert raw == bytes([CtapError.ERR.INVALID_COMMAND])


async def test_abandoned_iterations_leave_the_device_usable() -> None:
    async with device("memory") as dev:
        auth: VirtualAuthenticator = dev.authenticator  # type: ignore[attr-defined]
        ctap = await Ctap2.create(dev)
        cp = ClientPin(ctap)
        await cp.set_pin(PIN)
        for rp_id in ("a.example", "b.example", "c.example"):
            token = await cp.get_pin_token(PIN, ClientPin.PERMISSION.MAKE_CREDENTIAL, rp_id)
            await ctap.make_credential(
                CDH, {"id": rp_id}, {"id": b"u"}, ES256, options={"rk": True},
                pin_uv_param=cp.protocol.authenticate(token, CDH), pin_uv_protocol=cp.protocol.VERSION,
            )  # fmt: skip
        cm = CredentialManagement(ctap, cp.protocol, await cp.get_pin_token(PIN, ClientPin.PERMISSION.CREDENTIAL_MGMT))
        async with aclosing(cm.rps()) as rps:
            async for rp in rps:
                assert rp[CredentialManagement.RESULT.TOTAL_RPS] == 3
                break
        assert len(await cm.enumerate_rps()) == 3  # a fresh enumeration after the abandoned one
        # an abandoned enrollment is cancelled on the device at once (aclosing), not just dropped
        bio = FPBioEnrollment(ctap, cp.protocol, await cp.get_pin_token(PIN, ClientPin.PERMISSION.BIO_ENROLL))
        async with aclosing(bio.enroll()) as samples:
            async for sample in samples:
                assert auth.manage._enrollment is not None and sample.remaining == 3
                break
        assert auth.manage._enrollment is None


async def test_large_blob_fragments_and_python_fido2_entries() -> None:
    from fido2.ctap2 import blob as their_blob

    async with device("memory") as dev:
        ctap = await Ctap2.create(dev)
        att = await ctap.make_credential(
            CDH, RP, {"id": b"u"}, ES256, options={"rk": True}, extensions={"largeBlobKey": True}
        )
        key = att.large_blob_key
        assert key is not None
        blobs = LargeBlobs(ctap)
        blobs.max_fragment_length = 100  # force many fragments each way
        data = hashlib.sha512(b"x").digest() * 20  # compressible, still several fragments encrypted
        random_data = bytes(range(256)) + hashlib.sha256(b"y").digest() * 8
        await blobs.put_blob(key, random_data)
        assert await blobs.get_blob(key) == random_data
        await blobs.put_blob(key, data)
        assert await blobs.get_blob(key) == data
        array = await blobs.read_blob_array()
        assert len(array) == 1 and set(array[0]) == {1, 2, 3}
        # entries are python-fido2's format both ways
        compressed, size = their_blob._lb_unpack(key, array[0])
        assert their_blob._decompress(compressed) == data and size == len(data)
        await blobs.write_blob_array([their_blob._lb_pack(key, b"from python-fido2")])
        assert await blobs.get_blob(key) == b"from python-fido2"
        assert await blobs.get_blob(b"\x01" * 32) is None


async def test_large_blobs_refuses_a_max_msg_size_without_room_for_a_fragment() -> None:
    import dataclasses

    async with device("memory") as dev:
        ctap = await Ctap2.create(dev)
        for size in (64, 40):  # maxMsgSize minus the 64 bytes of a largeBlobs request's other members
            ctap._info = dataclasses.replace(ctap.info, max_msg_size=size)
            with pytest.raises(CtapResponseError, match=f"maxMsgSize {size} leaves no room"):
                LargeBlobs(ctap)
        ctap._info = dataclasses.replace(ctap.info, max_msg_size=65)
        assert LargeBlobs(ctap).max_fragment_length == 1


def test_no_secret_in_reprs() -> None:
    from aioctap.ctap2.pin import PinProtocolError

    token = bytes(range(32))

    class Dummy:
        info = type("I", (), {"pin_uv_protocols": [2], "options": {}, "max_msg_size": 1024})()

    ctap: Any = Dummy()
    objects = [
        ClientPin(ctap),
        CredentialManagement(ctap, PinProtocolV2(), token),
        FPBioEnrollment(ctap, PinProtocolV2(), token),
        LargeBlobs(ctap, PinProtocolV2(), token),
        Config(ctap, PinProtocolV2(), token),
        PinProtocolV1(),
    ]
    for obj in objects:
        text = repr(obj)
        assert token.hex() not in text and repr(token) not in text and "\\x00\\x01" not in text
    try:
        PinProtocolV2().validate_token(b"secret-ish-token")
    except PinProtocolError as e:
        assert "secret" not in str(e)
