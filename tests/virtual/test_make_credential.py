"""authenticatorGetInfo and authenticatorMakeCredential (CTAP 2.1 §6.4, §6.1) of the software authenticator."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from fido2.attestation import PackedAttestation
from fido2.ctap2 import Info as Fido2Info
from fido2.webauthn import AuthenticatorData as Fido2AuthData

from aioctap import cbor
from aioctap.cose import CoseKey
from aioctap.ctap import CtapError
from aioctap.ctap2 import ClientPin, Config
from aioctap.virtual import DenyAll
from aioctap.webauthn import AuthenticatorData

ERR = CtapError.ERR
PIN = "4321abcd"
CDH = hashlib.sha256(b"client data").digest()
P = ClientPin.PERMISSION
RP = {"id": "example.com", "name": "Example"}


async def test_get_info_has_every_member(make_rig: Any) -> None:
    async with make_rig() as rig:
        status, info = await rig.raw(0x04)
        assert status == 0
        # CTAP 2.2 adds 23 uvCountSinceLastPinEntry, 24 longTouchForReset, 26 transportsForReset, 27
        # pinComplexityPolicy, 29 maxPINLength and 31 authenticatorConfigCommands; 25 encIdentifier and 30
        # encCredStoreState come with a persistent token, 28 pinComplexityPolicyURL with a policy (there is none)
        assert set(info) == set(range(1, 25)) | {26, 27, 29, 31}
        assert info[23] == 0 and info[24] is False and info[26] == ["usb"] and info[27] is False and info[29] == 63
        assert info[31] == [0x01, 0x02, 0x03, 0xFF]
        assert info[1] == ["FIDO_2_0", "FIDO_2_1", "U2F_V2"]
        assert info[6] == [2, 1]
        assert [a["alg"] for a in info[10]] == [-7, -8, -257, -35, -36, -37, -48, -49, -50, -9, -19]
        assert info[3] == rig.auth.state.aaguid and len(info[3]) == 16
        options = info[4]
        for name in ("rk", "up", "pinUvAuthToken", "credMgmt", "perCredMgmtRO", "largeBlobs", "authnrCfg",
                     "makeCredUvNotRqd"):  # fmt: skip
            assert options[name] is True, name
        for name in ("clientPin", "uv", "bioEnroll", "alwaysUv", "ep"):
            assert options[name] is False, name  # supported, not configured
        assert info[5] == 7609 and info[7] == 8 and info[8] == 128 and info[9] == ["usb"]
        assert info[11] == 4096 and info[12] is False and info[13] == 4 and info[15] == 32 and info[16] == 4
        assert info[20] == 50
        # both stacks parse it
        ours = await rig.ctap.get_info()
        assert ours.max_large_blob == 4096 and ours.remaining_disc_creds == 50 and ours.firmware_version == 0x10000
        theirs = Fido2Info.from_dict(info)
        assert theirs.max_rpids_for_min_pin == 4 and theirs.vendor_prototype_config_commands
        assert theirs.transports_for_reset == ["usb"] and theirs.authenticator_config_commands == [1, 2, 3, 0xFF]
        assert ours.max_pin_length == 63 and ours.authenticator_config_commands == [1, 2, 3, 0xFF]
        assert ours.enc_identifier is None and ours.enc_cred_store_state is None  # no persistent token yet


async def test_get_info_follows_configuration(make_rig: Any) -> None:
    async with make_rig() as rig:
        await rig.make(b"rk", options={"rk": True})
        assert (await rig.ctap.get_info()).remaining_disc_creds == 49
        cp = await rig.set_pin()
        proto, token = await rig.token(P.BIO_ENROLL)
        from aioctap.ctap2 import FPBioEnrollment

        async for _ in FPBioEnrollment(rig.ctap, proto, token).enroll():
            pass
        info = await rig.ctap.get_info()
        assert info.options["clientPin"] and info.options["uv"] and info.options["bioEnroll"]
        proto, token = await rig.token(P.AUTHENTICATOR_CFG, version=cp.protocol.VERSION)
        await Config(rig.ctap, proto, token).toggle_always_uv()
        info = await rig.ctap.get_info()
        assert info.options["alwaysUv"] and not info.options["makeCredUvNotRqd"]
        assert "U2F_V2" not in info.versions  # alwaysUv disables U2F


@pytest.mark.parametrize("alg", [-7, -8, -257, -35, -36, -37, -48, -49, -50, -9, -19])
async def test_algorithms_packed_attestation_and_assertion(make_rig: Any, alg: int) -> None:
    async with make_rig() as rig:
        att = await rig.make(key_params=[{"type": "public-key", "alg": -999}, {"type": "public-key", "alg": alg}])
        assert att.fmt == "packed"
        cred = att.auth_data.credential_data
        assert cred.public_key[3] == alg
        # python-fido2 checks the signature and the certificate requirements of packed attestation
        PackedAttestation().verify(att.att_stmt, Fido2AuthData(bytes(att.auth_data)), CDH)
        cert = x509.load_der_x509_certificate(att.att_stmt["x5c"][0])
        root = x509.load_der_x509_certificate(rig.auth.attestation_root)
        root_key = root.public_key()
        assert isinstance(root_key, ec.EllipticCurvePublicKey)
        root_key.verify(cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(hashes.SHA256()))
        assert cred.aaguid == rig.auth.state.aaguid
        assertion = await rig.ctap.get_assertion("example.com", CDH, [{"type": "public-key", "id": cred.credential_id}])
        assertion.verify(CDH, CoseKey.parse(dict(cred.public_key)))


@pytest.mark.parametrize("alg", [-35, -36, -37, -48, -49, -50, -9, -19])
async def test_more_algorithms_survive_a_restart_and_python_fido2_verifies_them(
    make_rig: Any, tmp_path: Any, alg: int
) -> None:
    """ES384 (P-384), ES512 (P-521), PS256, ML-DSA-44/65/87, ESP256 and Ed25519 (RFC 9864) credentials: made
    (self attestation: the largest responses, ML-DSA-87's included, fit maxMsgSize), used after a restart (EC, EdDSA
    and ML-DSA keys derived from the ID again, the RSA key read from the state file), their signatures checked by
    python-fido2's COSE classes (PS256: the salt as long as the key allows, which python-fido2 and py_webauthn verify
    with)."""
    from fido2.cose import CoseKey as Fido2CoseKey

    path = str(tmp_path / "auth.state")
    async with make_rig(path, attestation="self") as rig:
        for rk in (False, True):
            att = await rig.make(b"rk" if rk else b"plain", key_params=[{"type": "public-key", "alg": alg}],
                                 options={"rk": rk})  # fmt: skip
            assert att.att_stmt["alg"] == alg  # self attestation: signed with the credential's own key
            PackedAttestation().verify(att.att_stmt, Fido2AuthData(bytes(att.auth_data)), CDH)
        cred = att.auth_data.credential_data
    async with make_rig(path) as rig:
        allow = [{"type": "public-key", "id": cred.credential_id}]
        assertion = await rig.ctap.get_assertion("example.com", CDH, allow)
        Fido2CoseKey.parse(dict(cred.public_key)).verify(bytes(assertion.auth_data) + CDH, assertion.signature)
        assertion.verify(CDH, CoseKey.parse(dict(cred.public_key)))


def test_curve_orders_are_the_curves() -> None:
    """The P-384 and P-521 group orders the scalars are reduced into: n - 1 is a private key, n is not."""
    from aioctap.virtual.keys import _P384_ORDER, _P521_ORDER

    for order, curve in ((_P384_ORDER, ec.SECP384R1()), (_P521_ORDER, ec.SECP521R1())):
        ec.derive_private_key(order - 1, curve)
        with pytest.raises(ValueError):
            ec.derive_private_key(order, curve)


async def test_unsupported_algorithm_and_strict_parameters(make_rig: Any) -> None:
    async with make_rig() as rig:
        with pytest.raises(CtapError) as e:
            await rig.make(key_params=[{"type": "public-key", "alg": -47}])  # ES256K: not supported
        assert e.value.code == ERR.UNSUPPORTED_ALGORITHM
        good = {1: CDH, 2: {"id": "example.com"}, 3: {"id": b"u"}, 4: [{"type": "public-key", "alg": -7}]}
        cases: list[tuple[dict[int, Any], CtapError.ERR]] = [
            ({k: v for k, v in good.items() if k != 1}, ERR.MISSING_PARAMETER),
            ({**good, 1: "not bytes"}, ERR.CBOR_UNEXPECTED_TYPE),
            ({**good, 1: b"short"}, ERR.INVALID_LENGTH),
            ({**good, 2: {"name": "no id"}}, ERR.MISSING_PARAMETER),
            ({**good, 3: {"id": "text"}}, ERR.CBOR_UNEXPECTED_TYPE),
            ({**good, 3: {"id": b"x" * 65}}, ERR.INVALID_LENGTH),
            ({**good, 3: {"id": b"u", "name": 5}}, ERR.CBOR_UNEXPECTED_TYPE),
            ({**good, 4: [{"type": "public-key"}]}, ERR.MISSING_PARAMETER),
            ({**good, 4: ["x"]}, ERR.CBOR_UNEXPECTED_TYPE),
            ({**good, 5: [{"type": "public-key"}]}, ERR.MISSING_PARAMETER),
            ({**good, 7: {"rk": 1}}, ERR.CBOR_UNEXPECTED_TYPE),
            ({**good, 7: {"up": False}}, ERR.INVALID_OPTION),
            ({**good, 7: {"uv": True}}, ERR.INVALID_OPTION),  # no built-in UV enrolled
            ({**good, 6: {"credProtect": 7}}, ERR.INVALID_OPTION),
            ({**good, 6: {"largeBlobKey": True}}, ERR.INVALID_OPTION),  # needs rk
            ({**good, 8: b"\x00" * 16}, ERR.MISSING_PARAMETER),  # pinUvAuthProtocol missing
            ({**good, 8: b"\x00" * 16, 9: 3}, ERR.INVALID_PARAMETER),
            ({**good, 10: 1}, ERR.INVALID_PARAMETER),  # enterprise attestation not enabled
        ]
        for params, expected in cases:
            assert await rig.status(0x01, params) == expected, params
        # not canonical CBOR (map keys out of order), not a map, trailing bytes
        assert (await rig.raw(0x01, encoded=b"\xa2\x02\x01\x01\x01"))[0] == ERR.INVALID_CBOR
        assert (await rig.raw(0x01, encoded=b"\x80"))[0] == ERR.CBOR_UNEXPECTED_TYPE
        assert (await rig.raw(0x01, encoded=cbor.dumps(good) + b"\x00"))[0] == ERR.INVALID_CBOR
        assert rig.auth.state.sign_count == 0


async def test_attestation_formats() -> None:
    from aioctap.ctap2 import Ctap2
    from aioctap.virtual import VirtualAuthenticator, open_virtual_device

    for configured, expected_x5c in (("none", None), ("self", False)):
        async with open_virtual_device(authenticator=VirtualAuthenticator(attestation=configured)) as dev:
            ctap = await Ctap2.create(dev)
            att = await ctap.make_credential(
                CDH, {"id": "a.example"}, {"id": b"u"}, [{"type": "public-key", "alg": -8}]
            )
            if expected_x5c is None:
                assert att.fmt == "none" and att.att_stmt == {}
            else:
                assert att.fmt == "packed" and "x5c" not in att.att_stmt and att.att_stmt["alg"] == -8
                key = att.auth_data.credential_data.public_key
                key.verify(bytes(att.auth_data) + CDH, att.att_stmt["sig"])
    async with open_virtual_device() as dev:
        status = await dev.call(
            0x10,
            b"\x01"
            + cbor.dumps(
                {1: CDH, 2: {"id": "a"}, 3: {"id": b"u"}, 4: [{"type": "public-key", "alg": -7}], 11: ["tpm", "none"]}
            ),
        )
        assert status[0] == 0 and cbor.loads(status[1:])[1] == "none"  # attestationFormatsPreference


async def test_exclude_list_and_resident_replacement(make_rig: Any) -> None:
    async with make_rig() as rig:
        att = await rig.make(b"alice", options={"rk": True})
        cred_id = att.auth_data.credential_data.credential_id
        with pytest.raises(CtapError) as e:
            await rig.make(
                b"bob", exclude_list=[{"type": "public-key", "id": b"\x01" * 40}, {"type": "public-key", "id": cred_id}]
            )
        assert e.value.code == ERR.CREDENTIAL_EXCLUDED
        # another RP does not see it
        await rig.make(b"bob", rp_id="other.example", exclude_list=[{"type": "public-key", "id": cred_id}])
        # same user again replaces the discoverable credential
        await rig.make(b"alice", options={"rk": True})
        assert [c.user["id"] for c in rig.auth.state.credentials if c.rp_id == "example.com"] == [b"alice"]
        with pytest.raises(CtapError) as e:
            await rig.ctap.get_assertion("example.com", CDH, [{"type": "public-key", "id": cred_id}])
        assert e.value.code == ERR.NO_CREDENTIALS


async def test_exclude_list_ignores_cred_protect_3_without_uv(make_rig: Any) -> None:
    async with make_rig() as rig:
        att = await rig.make(b"u", extensions={"credProtect": 3})
        cred_id = att.auth_data.credential_data.credential_id
        again = await rig.make(b"u2", exclude_list=[{"type": "public-key", "id": cred_id}])
        assert again.auth_data.credential_data is not None


async def test_key_store_full(make_rig: Any) -> None:
    async with make_rig() as rig:
        for i in range(50):
            await rig.make(bytes([i]), options={"rk": True})
        with pytest.raises(CtapError) as e:
            await rig.make(b"one more", options={"rk": True})
        assert e.value.code == ERR.KEY_STORE_FULL
        await rig.make(bytes([3]), options={"rk": True})  # replacing one still works
        assert (await rig.ctap.get_info()).remaining_disc_creds == 0


async def test_uv_rules_with_pin(make_rig: Any) -> None:
    async with make_rig() as rig:
        with pytest.raises(CtapError) as e:  # the platform's "pick an authenticator" probe
            await rig.make(pin_uv_param=b"", pin_uv_protocol=2)
        assert e.value.code == ERR.PIN_NOT_SET
        await rig.set_pin()
        with pytest.raises(CtapError) as e:
            await rig.make(pin_uv_param=b"", pin_uv_protocol=2)
        assert e.value.code == ERR.PIN_INVALID
        # makeCredUvNotRqd: a non-discoverable credential needs no UV, a discoverable one does
        att = await rig.make(b"plain")
        assert not att.auth_data.is_user_verified()
        with pytest.raises(CtapError) as e:
            await rig.make(b"rk", options={"rk": True})
        assert e.value.code == ERR.PUAT_REQUIRED
        proto, token = await rig.token(P.MAKE_CREDENTIAL, "example.com")
        att = await rig.make(
            b"rk", options={"rk": True}, pin_uv_param=proto.authenticate(token, CDH), pin_uv_protocol=2
        )
        assert att.auth_data.is_user_verified() and att.auth_data.is_user_present()
        # after a use with user presence only largeBlobWrite stays: the token cannot make another credential
        with pytest.raises(CtapError) as e:
            await rig.make(b"rk2", options={"rk": True}, pin_uv_param=proto.authenticate(token, CDH), pin_uv_protocol=2)
        assert e.value.code == ERR.PIN_AUTH_INVALID
        # a getAssertion-only token cannot make credentials; a token for another RP neither
        for perms, rp_id in ((P.GET_ASSERTION, "example.com"), (P.MAKE_CREDENTIAL, "other.example")):
            proto, token = await rig.token(perms, rp_id)
            with pytest.raises(CtapError) as e:
                await rig.make(b"x", pin_uv_param=proto.authenticate(token, CDH), pin_uv_protocol=2)
            assert e.value.code == ERR.PIN_AUTH_INVALID
        # a wrong pinUvAuthParam
        proto, token = await rig.token(P.MAKE_CREDENTIAL, "example.com")
        with pytest.raises(CtapError) as e:
            await rig.make(b"x", pin_uv_param=proto.authenticate(token, b"other" * 8), pin_uv_protocol=2)
        assert e.value.code == ERR.PIN_AUTH_INVALID


async def test_built_in_uv_and_always_uv(make_rig: Any) -> None:
    async with make_rig() as rig:
        # alwaysUv without any UV configured: every credential needs a pinUvAuthToken
        await Config(rig.ctap).toggle_always_uv()
        with pytest.raises(CtapError) as e:
            await rig.make(b"u")
        assert e.value.code == ERR.PUAT_REQUIRED
    async with make_rig() as rig:
        await rig.set_pin()
        proto, token = await rig.token(P.BIO_ENROLL)
        from aioctap.ctap2 import FPBioEnrollment

        async for _ in FPBioEnrollment(rig.ctap, proto, token).enroll():
            pass
        att = await rig.make(b"u", options={"uv": True, "rk": True})
        assert att.auth_data.is_user_verified()
        rig.auth.sensor.match_results[:] = [False]
        with pytest.raises(CtapError) as e:
            await rig.make(b"u", options={"uv": True})
        assert e.value.code == ERR.UV_INVALID
        assert await rig.client_pin().get_uv_retries() == 7
        proto, token = await rig.token(P.AUTHENTICATOR_CFG)
        await Config(rig.ctap, proto, token).toggle_always_uv()
        att = await rig.make(b"v")  # alwaysUv with a fingerprint: built-in UV happens by itself
        assert att.auth_data.is_user_verified()
        assert await rig.client_pin().get_uv_retries() == 8


async def test_user_presence_denied(make_rig: Any) -> None:
    async with make_rig(policy=DenyAll()) as rig:
        with pytest.raises(CtapError) as e:
            await rig.make(b"u", options={"rk": True})
        assert e.value.code == ERR.OPERATION_DENIED
        assert rig.auth.state.credentials == [] and rig.auth.state.sign_count == 0


def _issued_by(cert_der: bytes, root_der: bytes) -> bool:
    """Whether the certificate's signature verifies under the root's key."""
    cert = x509.load_der_x509_certificate(cert_der)
    root_key = x509.load_der_x509_certificate(root_der).public_key()
    assert isinstance(root_key, ec.EllipticCurvePublicKey)
    try:
        root_key.verify(cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return False
    return cert.issuer == x509.load_der_x509_certificate(root_der).subject


def _serial_number(cert_der: bytes) -> str | None:
    names = x509.load_der_x509_certificate(cert_der).subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)
    return str(names[0].value) if names else None


async def test_enterprise_attestation(make_rig: Any) -> None:
    """CTAP 2.1 §7.1, §6.1.2 (enterpriseAttestation) and §6.11.1: an enterprise attestation is a packed statement
    whose certificate is not the batch one: it chains to a root of its own and names this one authenticator."""
    async with make_rig(enterprise_rp_ids={"corp.example"}) as rig:
        batch = await rig.make(rp_id="corp.example")
        with pytest.raises(CtapError) as e:  # not enabled yet
            await rig.make(rp_id="corp.example", enterprise_attestation=1)
        assert e.value.code == ERR.INVALID_PARAMETER
        await Config(rig.ctap).enable_enterprise_attestation()
        assert (await rig.ctap.get_info()).options["ep"]
        with pytest.raises(CtapError) as e:
            await rig.make(enterprise_attestation=3)
        assert e.value.code == ERR.INVALID_OPTION
        vendor = await rig.make(rp_id="corp.example", enterprise_attestation=1)  # on the vendor's list
        assert vendor.ep_att is True and vendor.fmt == "packed"
        unlisted = await rig.make(rp_id="shop.example", enterprise_attestation=1)  # not on it: regular attestation
        assert not unlisted.ep_att and unlisted.att_stmt["x5c"] == batch.att_stmt["x5c"]
        platform = await rig.make(rp_id="shop.example", enterprise_attestation=2)  # platform-managed
        assert platform.ep_att is True
        enterprise_cert = vendor.att_stmt["x5c"][0]
        assert platform.att_stmt["x5c"] == [enterprise_cert]
        assert enterprise_cert != batch.att_stmt["x5c"][0]
        for att in (vendor, platform, batch):  # signature and packed certificate requirements (WebAuthn §8.2.1)
            PackedAttestation().verify(att.att_stmt, Fido2AuthData(bytes(att.auth_data)), CDH)
        # the enterprise certificate chains to the enterprise root, not to the batch root, and the other way round
        assert _issued_by(enterprise_cert, rig.auth.enterprise_attestation_root)
        assert not _issued_by(enterprise_cert, rig.auth.attestation_root)
        assert _issued_by(batch.att_stmt["x5c"][0], rig.auth.attestation_root)
        assert not _issued_by(batch.att_stmt["x5c"][0], rig.auth.enterprise_attestation_root)
        serial = _serial_number(enterprise_cert)
        assert serial is not None and len(serial) == 32 and _serial_number(batch.att_stmt["x5c"][0]) is None
        # a reset disables enterprise attestation again (§7.1); the device's certificate stays what it is
        rig.clock.now = rig.auth.powered_up
        await rig.ctap.reset()
        assert (await rig.ctap.get_info()).options["ep"] is False
        with pytest.raises(CtapError) as e:
            await rig.make(rp_id="corp.example", enterprise_attestation=2)
        assert e.value.code == ERR.INVALID_PARAMETER
        await Config(rig.ctap).enable_enterprise_attestation()
        again = await rig.make(rp_id="corp.example", enterprise_attestation=2)
        assert again.att_stmt["x5c"] == [enterprise_cert]
    async with make_rig() as other:  # another authenticator: another enterprise certificate, another serial
        await Config(other.ctap).enable_enterprise_attestation()
        theirs = await other.make(enterprise_attestation=2)
        assert _serial_number(theirs.att_stmt["x5c"][0]) != serial
        unlisted = await other.make(rp_id="corp.example", enterprise_attestation=1)  # no vendor list by default
        assert not unlisted.ep_att
    async with make_rig(enterprise_attestation=False) as rig:
        assert "ep" not in (await rig.ctap.get_info()).options
        with pytest.raises(CtapError) as e:
            await Config(rig.ctap).enable_enterprise_attestation()
        assert e.value.code == ERR.INVALID_PARAMETER


@pytest.mark.parametrize("configured", ["none", "self"])
async def test_enterprise_attestation_is_the_full_chain_whatever_the_format(make_rig: Any, configured: str) -> None:
    """An authenticator configured for "none" or self attestation still answers an enterprise attestation with
    the enterprise certificate (the RP asked for it and the platform allowed it), and its regular ones as set."""
    async with make_rig(attestation=configured) as rig:
        await Config(rig.ctap).enable_enterprise_attestation()
        request = {1: CDH, 2: RP, 3: {"id": b"u"}, 4: [{"type": "public-key", "alg": -7}], 10: 2, 11: ["none"]}
        status, att = await rig.raw(0x01, request)  # attestationFormatsPreference (CTAP 2.2 §6.1) asks for none
        assert status == 0 and att[4] is True and att[1] == "packed"
        assert _issued_by(att[3]["x5c"][0], rig.auth.enterprise_attestation_root)
        regular = await rig.make()
        assert not regular.ep_att and "x5c" not in regular.att_stmt


async def test_extensions_at_registration(make_rig: Any) -> None:
    async with make_rig() as rig:
        att = await rig.make(
            b"u", options={"rk": True},
            extensions={"credProtect": 2, "credBlob": b"blob", "hmac-secret": True, "largeBlobKey": True,
                        "minPinLength": True},
        )  # fmt: skip
        assert att.auth_data.extensions == {"credProtect": 2, "credBlob": True, "hmac-secret": True}
        assert len(att.large_blob_key) == 32
        att = await rig.make(b"nonrk", extensions={"credBlob": b"x" * 33})
        assert att.auth_data.extensions == {"credBlob": False}
        # minPinLength is told only to the RP IDs configured with setMinPINLength
        await Config(rig.ctap).set_min_pin_length(min_pin_length=6, rp_ids=["example.com"])
        att = await rig.make(b"m", extensions={"minPinLength": True})
        assert att.auth_data.extensions == {"minPinLength": 6}
        att = await rig.make(b"m", rp_id="other.example", extensions={"minPinLength": True})
        assert att.auth_data.extensions is None


async def test_hmac_secret_mc_matches_get_assertion(make_rig: Any) -> None:
    async with make_rig() as rig:
        from aioctap.ctap2.extensions import HmacSecretExtension  # noqa: F401  (the host side lives there)

        cp = rig.client_pin(2)
        key_agreement, shared = await cp._get_shared_secret()
        salt = b"s" * 32
        salt_enc = cp.protocol.encrypt(shared, salt)
        hmac_in = {1: key_agreement, 2: salt_enc, 3: cp.protocol.authenticate(shared, salt_enc), 4: 2}
        att = await rig.make(b"u", extensions={"hmac-secret": True, "hmac-secret-mc": hmac_in})
        mc_output = cp.protocol.decrypt(shared, att.auth_data.extensions["hmac-secret-mc"])
        cred_id = att.auth_data.credential_data.credential_id
        assertion = await rig.ctap.get_assertion(
            "example.com", CDH, [{"type": "public-key", "id": cred_id}], extensions={"hmac-secret": hmac_in}
        )
        assert cp.protocol.decrypt(shared, assertion.auth_data.extensions["hmac-secret"]) == mc_output
        # a bad saltAuth is rejected before anything is stored
        before = rig.auth.state.to_bytes()
        bad = {**hmac_in, 3: b"\x00" * 32}
        with pytest.raises(CtapError) as e:
            await rig.make(b"v", options={"rk": True}, extensions={"hmac-secret": True, "hmac-secret-mc": bad})
        assert e.value.code == ERR.PIN_AUTH_INVALID
        assert rig.auth.state.to_bytes() == before
        with pytest.raises(CtapError) as e:  # hmac-secret-mc without hmac-secret
            await rig.make(b"v", extensions={"hmac-secret-mc": hmac_in})
        assert e.value.code == ERR.INVALID_OPTION


async def test_signature_counter_is_global_and_increasing(make_rig: Any) -> None:
    async with make_rig() as rig:
        counters = []
        for i in range(3):
            att = await rig.make(bytes([i]))
            counters.append(AuthenticatorData(bytes(att.auth_data)).counter)
        assert counters == sorted(counters) and len(set(counters)) == 3
