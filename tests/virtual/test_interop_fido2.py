"""python-fido2 drives the software authenticator over real UDP sockets: the independent check."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anyio
import anyio.to_thread
import pytest
from fido2.attestation import PackedAttestation
from fido2.client import DefaultClientDataCollector, Fido2Client, UserInteraction
from fido2.ctap import CtapError as Fido2CtapError
from fido2.ctap1 import Ctap1
from fido2.ctap2 import ClientPin, Config, CredentialManagement, Ctap2, FPBioEnrollment, LargeBlobs
from fido2.ctap2.extensions import HmacSecretExtension
from fido2.webauthn import (
    PublicKeyCredentialCreationOptions,
    PublicKeyCredentialParameters,
    PublicKeyCredentialRequestOptions,
    PublicKeyCredentialRpEntity,
    PublicKeyCredentialUserEntity,
)

from aioctap.hid.device_side import CtapHidServer
from aioctap.interop import fido2_udp_device
from aioctap.virtual import VirtualAuthenticator
from aioctap.webauthn import websafe_decode

PIN = "12345678"


async def run_against_udp(auth: VirtualAuthenticator, fn: Callable[[Any], Any]) -> Any:
    server = CtapHidServer(auth)
    async with anyio.create_task_group() as tg:
        host, port = await tg.start(server.serve_udp, "127.0.0.1", 0)

        def drive() -> Any:
            dev = fido2_udp_device(host, port)
            try:
                return fn(dev)
            finally:
                dev.close()

        try:
            return await anyio.to_thread.run_sync(drive)
        finally:
            tg.cancel_scope.cancel()


async def test_info_make_credential_and_assertions() -> None:
    def drive(dev: Any) -> None:
        ctap = Ctap2(dev)
        info = ctap.info
        assert "FIDO_2_1" in info.versions and info.pin_uv_protocols == [2, 1]
        assert info.options["rk"] and info.options["credMgmt"]
        cdh = b"\x01" * 32
        for i in range(3):
            att = ctap.make_credential(
                cdh, {"id": "example.com", "name": "Ex"}, {"id": bytes([i]), "name": f"u{i}"},
                [{"type": "public-key", "alg": -8 if i == 1 else -7}], options={"rk": True},
            )  # fmt: skip
            # python-fido2's packed attestation verifier checks the signature and the certificate requirements
            PackedAttestation().verify(att.att_stmt, att.auth_data, cdh)
        assertions = ctap.get_assertions("example.com", cdh)
        assert len(assertions) == 3
        assert [a.user["id"] for a in assertions] == [b"\x02", b"\x01", b"\x00"]  # most recent first
        with pytest.raises(Fido2CtapError) as e:
            ctap.get_assertion("other.com", cdh)
        assert e.value.code == Fido2CtapError.ERR.NO_CREDENTIALS

    await run_against_udp(VirtualAuthenticator(), drive)


async def test_client_pin_credman_config_blobs_both_protocols() -> None:
    def drive(dev: Any) -> None:
        ctap = Ctap2(dev)
        from fido2.ctap2.pin import PinProtocolV1, PinProtocolV2

        for proto in (PinProtocolV1(), PinProtocolV2()):
            cp = ClientPin(ctap, proto)
            if not ctap.get_info().options.get("clientPin"):
                cp.set_pin(PIN)
            assert cp.get_pin_retries()[0] == 8
            with pytest.raises(Fido2CtapError) as e:
                cp.get_pin_token("wrong-pin")
            assert e.value.code == Fido2CtapError.ERR.PIN_INVALID
            token = cp.get_pin_token(PIN, ClientPin.PERMISSION.MAKE_CREDENTIAL, "example.com")
            cdh = b"\x02" * 32
            ctap.make_credential(
                cdh, {"id": "example.com"}, {"id": b"user-" + bytes([proto.VERSION]), "name": "n"},
                [{"type": "public-key", "alg": -7}], options={"rk": True},
                pin_uv_param=proto.authenticate(token, cdh), pin_uv_protocol=proto.VERSION,
            )  # fmt: skip
            token = cp.get_pin_token(PIN, ClientPin.PERMISSION.CREDENTIAL_MGMT)
            cm = CredentialManagement(ctap, proto, token)
            assert cm.get_metadata()[CredentialManagement.RESULT.EXISTING_CRED_COUNT] == proto.VERSION
            rps = cm.enumerate_rps()
            assert rps[0][CredentialManagement.RESULT.RP]["id"] == "example.com"
            creds = cm.enumerate_creds(rps[0][CredentialManagement.RESULT.RP_ID_HASH])
            assert len(creds) == proto.VERSION
            token = cp.get_pin_token(PIN, ClientPin.PERMISSION.LARGE_BLOB_WRITE)
            blobs = LargeBlobs(ctap, proto, token)
            key = b"k" * 32
            blobs.put_blob(key, b"hello large blob")
            assert blobs.get_blob(key) == b"hello large blob"
            token = cp.get_pin_token(PIN, ClientPin.PERMISSION.AUTHENTICATOR_CFG)
            config = Config(ctap, proto, token)
            config.set_min_pin_length(6)
            assert ctap.get_info().min_pin_length == 6

    await run_against_udp(VirtualAuthenticator(), drive)


async def test_bio_enrollment_and_uv_token() -> None:
    def drive(dev: Any) -> None:
        ctap = Ctap2(dev)
        cp = ClientPin(ctap)
        cp.set_pin(PIN)
        token = cp.get_pin_token(PIN, ClientPin.PERMISSION.BIO_ENROLL)
        bio = FPBioEnrollment(ctap, cp.protocol, token)
        assert bio.get_fingerprint_sensor_info()[FPBioEnrollment.RESULT.MAX_SAMPLES_REQUIRED] == 4
        template_id = bio.enroll().capture()
        context = bio.enroll()
        while (template_id := context.capture()) is None:
            pass
        # an unnamed template reports the name "": python-fido2 indexes templateFriendlyName
        assert bio.enumerate_enrollments() == {template_id: ""}
        bio.set_name(template_id, "right index")
        assert "right index" in bio.enumerate_enrollments().values()
        uv_token = cp.get_uv_token(ClientPin.PERMISSION.GET_ASSERTION, "example.com")
        assert len(uv_token) == 32

    await run_against_udp(VirtualAuthenticator(), drive)


async def test_fido2_client_with_hmac_secret() -> None:
    class PinInteraction(UserInteraction):  # type: ignore[misc]
        def request_pin(self, permissions: Any, rd_id: Any) -> str:
            return PIN

    def drive(dev: Any) -> None:
        ClientPin(Ctap2(dev)).set_pin(PIN)
        client = Fido2Client(
            dev,
            DefaultClientDataCollector("https://example.com"),
            user_interaction=PinInteraction(),
            extensions=[HmacSecretExtension(allow_hmac_secret=True)],
        )
        result = client.make_credential(
            PublicKeyCredentialCreationOptions(
                rp=PublicKeyCredentialRpEntity(name="Example", id="example.com"),
                user=PublicKeyCredentialUserEntity(name="alice", id=b"alice-id"),
                challenge=b"c" * 32,
                pub_key_cred_params=[PublicKeyCredentialParameters(type="public-key", alg=-7)],
                extensions={"hmacCreateSecret": True},
            )
        )
        assert result.client_extension_results["hmacCreateSecret"] is True
        cred_id = result.raw_id
        outputs = []
        for _ in range(2):
            got = client.get_assertion(
                PublicKeyCredentialRequestOptions(
                    challenge=b"d" * 32,
                    rp_id="example.com",
                    allow_credentials=[{"type": "public-key", "id": cred_id}],
                    extensions={"hmacGetSecret": {"salt1": b"s" * 32}},
                )
            ).get_response(0)
            output = got.client_extension_results["hmacGetSecret"]["output1"]
            outputs.append(websafe_decode(output) if isinstance(output, str) else output)
        assert outputs[0] == outputs[1] and len(outputs[0]) == 32

    await run_against_udp(VirtualAuthenticator(), drive)


async def test_ctap1_register_and_authenticate() -> None:
    def drive(dev: Any) -> None:
        ctap1 = Ctap1(dev)
        assert ctap1.get_version() == "U2F_V2"
        app, chal = b"a" * 32, b"c" * 32
        reg = ctap1.register(chal, app)
        reg.verify(app, chal)
        sig = ctap1.authenticate(chal, app, reg.key_handle)
        sig.verify(app, chal, reg.public_key)
        from fido2.ctap1 import ApduError

        with pytest.raises(ApduError) as e:
            ctap1.authenticate(chal, app, reg.key_handle, check_only=True)
        assert e.value.code == 0x6985
        with pytest.raises(ApduError) as e:
            ctap1.authenticate(chal, b"z" * 32, reg.key_handle)
        assert e.value.code == 0x6A80

    await run_against_udp(VirtualAuthenticator(), drive)


async def test_assertions_with_pin_algorithms_and_management() -> None:
    def drive(dev: Any) -> None:
        from fido2.cose import CoseKey as Fido2CoseKey

        ctap = Ctap2(dev)
        # ES256 ... PS256, ML-DSA-44/65/87, ESP256 and Ed25519 (RFC 9864)
        algorithms = (-7, -8, -257, -35, -36, -37, -48, -49, -50, -9, -19)
        assert [a["alg"] for a in ctap.info.algorithms or []] == list(algorithms)
        cp = ClientPin(ctap)
        cp.set_pin(PIN)
        cdh = b"\x03" * 32
        keys = {}
        for i, alg in enumerate(algorithms):
            token = cp.get_pin_token(PIN, ClientPin.PERMISSION.MAKE_CREDENTIAL, "example.com")
            att = ctap.make_credential(
                cdh, {"id": "example.com"}, {"id": bytes([i]), "name": f"u{i}", "displayName": f"U{i}"},
                [{"type": "public-key", "alg": alg}], options={"rk": True},
                pin_uv_param=cp.protocol.authenticate(token, cdh), pin_uv_protocol=cp.protocol.VERSION,
            )  # fmt: skip
            PackedAttestation().verify(att.att_stmt, att.auth_data, cdh)
            cred = att.auth_data.credential_data
            keys[cred.credential_id] = Fido2CoseKey.parse(cred.public_key)
        token = cp.get_pin_token(PIN, ClientPin.PERMISSION.GET_ASSERTION, "example.com")
        assertions = ctap.get_assertions(
            "example.com", cdh, pin_uv_param=cp.protocol.authenticate(token, cdh), pin_uv_protocol=cp.protocol.VERSION
        )
        assert [a.user["name"] for a in assertions] == [f"u{i}" for i in range(10, -1, -1)]  # with UV: the whole user
        for a in assertions:
            assert a.auth_data.is_user_verified()
            a.verify(cdh, keys[a.credential["id"]])
        token = cp.get_pin_token(PIN, ClientPin.PERMISSION.CREDENTIAL_MGMT)
        cm = CredentialManagement(ctap, cp.protocol, token)
        rp_hash = cm.enumerate_rps()[0][CredentialManagement.RESULT.RP_ID_HASH]
        creds = cm.enumerate_creds(rp_hash)
        cm.update_user_info(creds[0][CredentialManagement.RESULT.CREDENTIAL_ID], {"id": b"\x00", "name": "new"})
        cm.delete_cred(creds[1][CredentialManagement.RESULT.CREDENTIAL_ID])
        assert sorted(c[CredentialManagement.RESULT.USER]["name"] for c in cm.enumerate_creds(rp_hash)) == [
            "new", "u10", "u2", "u3", "u4", "u5", "u6", "u7", "u8", "u9",
        ]  # fmt: skip
        ctap.selection()
        ctap.reset()  # within 10 s of power-up
        assert not ctap.get_info().options["clientPin"]

    await run_against_udp(VirtualAuthenticator(), drive)


async def test_waiting_for_touch_with_keepalives() -> None:
    """python-fido2 sees UPNEEDED keepalives while the simulated user waits, then the (multi-packet) answer."""
    from aioctap.virtual import WaitForTouch

    policy = WaitForTouch(timeout=5)
    statuses: list[int] = []

    def drive(dev: Any) -> Any:
        ctap = Ctap2(dev)
        return ctap.make_credential(
            b"\x04" * 32, {"id": "example.com"}, {"id": b"u"}, [{"type": "public-key", "alg": -7}],
            on_keepalive=statuses.append,
        )  # fmt: skip

    async def touch_soon() -> None:
        while not policy.waiting:
            await anyio.sleep(0.01)
        await anyio.sleep(0.25)  # long enough for a few keepalives
        policy.touch()

    async with anyio.create_task_group() as tg:
        tg.start_soon(touch_soon)
        att = await run_against_udp(VirtualAuthenticator(policy=policy), drive)
    assert att.fmt == "packed" and att.auth_data.is_user_present()
    assert statuses and statuses[0] == 2  # STATUS_UPNEEDED
