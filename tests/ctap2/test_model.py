"""One CTAP2 model for both sides: the host (aioctap.ctap2) and the software authenticator (aioctap.virtual)
use the very same objects, and the pinUvAuthParam messages are the spec's bytes."""

from __future__ import annotations

import hashlib
import struct

import aioctap.ctap2.bio as host_bio
import aioctap.ctap2.blob as host_blob
import aioctap.ctap2.config as host_config
import aioctap.ctap2.credman as host_credman
import aioctap.virtual as virtual
import aioctap.virtual.client_pin as virtual_client_pin
import aioctap.virtual.common as virtual_common
import aioctap.virtual.credentials as virtual_credentials
import aioctap.virtual.engine as virtual_engine
import aioctap.virtual.manage as virtual_manage
from aioctap import cbor
from aioctap.ctap import CtapError
from aioctap.ctap2 import ClientPin, Config, CredentialManagement, Ctap2, FPBioEnrollment, PinProtocolV2, model
from aioctap.virtual import VirtualAuthenticator, open_virtual_device


def test_host_and_authenticator_share_the_objects() -> None:
    assert Ctap2.CMD is model.CMD is virtual_engine.CMD
    assert model.ERR is CtapError.ERR is virtual_common.ERR
    assert ClientPin.PERMISSION is model.PERMISSION is virtual_client_pin.PERMISSION is virtual_credentials.PERMISSION
    assert virtual_manage.PERMISSION is model.PERMISSION
    assert ClientPin.CMD is model.ClientPinCmd is virtual_client_pin.ClientPinCmd
    assert FPBioEnrollment.FEEDBACK is model.FEEDBACK is virtual.FEEDBACK is virtual_manage.FEEDBACK
    assert FPBioEnrollment.CMD is model.BioCmd is virtual_manage.BioCmd
    assert CredentialManagement.CMD is model.CredMgmtCmd is virtual_manage.C
    assert CredentialManagement.RESULT is model.CredMgmtResult is virtual_manage.R
    assert Config.CMD is model.ConfigCmd is virtual_manage.ConfigCmd
    assert virtual_engine.COMMAND_NAMES is model.COMMAND_NAMES
    assert virtual_engine.OPTION is model.OPTION
    for name in ("large_blobs_message", "config_message", "credential_management_message", "bio_enrollment_message"):
        builder = getattr(model, name)
        assert getattr(virtual_manage, name) is builder
        host = {
            "large_blobs_message": host_blob,
            "config_message": host_config,
            "credential_management_message": host_credman,
            "bio_enrollment_message": host_bio,
        }[name]
        assert getattr(host, name) is builder


def test_fp_database_full_on_both_sides() -> None:
    assert virtual.FEEDBACK.FP_DATABASE_FULL == 0x0C == FPBioEnrollment.FEEDBACK.FP_DATABASE_FULL


def test_commands_every_authenticator_command_is_named() -> None:
    assert set(model.COMMAND_NAMES) == set(model.CMD)


def test_messages_are_the_spec_bytes() -> None:
    fragment = b"x" * 100
    assert model.large_blobs_message(0x01020304, fragment) == (
        b"\xff" * 32 + b"\x0c\x00" + bytes([4, 3, 2, 1]) + hashlib.sha256(fragment).digest()
    )
    assert model.large_blobs_message(7, b"") == b"\xff" * 32 + b"\x0c\x00" + struct.pack("<I", 7) + (
        hashlib.sha256(b"").digest()
    )
    params = {1: 6, 2: ["a.example"]}
    assert model.config_message(3, params) == b"\xff" * 32 + b"\x0d\x03" + cbor.dumps(params)
    assert model.config_message(2, None) == b"\xff" * 32 + b"\x0d\x02"
    assert model.config_message(3, {}) == b"\xff" * 32 + b"\x0d\x03\xa0"  # a present empty map is authenticated
    assert model.credential_management_message(4, {1: b"h" * 32}) == b"\x04" + cbor.dumps({1: b"h" * 32})
    assert model.credential_management_message(1, None) == b"\x01"
    assert model.bio_enrollment_message(1, 2, {1: b"id"}) == b"\x01\x02" + cbor.dumps({1: b"id"})
    assert model.bio_enrollment_message(1, 4, None) == b"\x01\x04"


async def test_config_with_a_present_empty_params_map() -> None:
    """python-fido2's Config sends (and authenticates) subCommandParams {} for set_min_pin_length() without
    arguments; the authenticator used to leave the empty map out of the message it checked (PIN_AUTH_INVALID)."""
    async with open_virtual_device(authenticator=VirtualAuthenticator()) as dev:
        ctap = await Ctap2.create(dev)
        proto = PinProtocolV2()
        client_pin = ClientPin(ctap, proto)
        await client_pin.set_pin("12345678")
        token = await client_pin.get_pin_token("12345678", ClientPin.PERMISSION.AUTHENTICATOR_CFG)
        sub = model.ConfigCmd.SET_MIN_PIN_LENGTH
        param = proto.authenticate(token, model.config_message(sub, {}))
        assert await ctap.send_cbor(Ctap2.CMD.CONFIG, {1: sub, 2: {}, 3: proto.VERSION, 4: param}) == {}
