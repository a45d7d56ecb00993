"""python-fido2's ``Fido2Server`` API on aioctap (``aioctap.server.Fido2Server``), and the WebAuthn dataclasses.

Options are compared member by member with python-fido2 2.2.1's for the same inputs; responses come from aioctap's
client and the in-memory authenticator; every failed check is a ValueError naming it, as python-fido2's are.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import fido2.server
import fido2.utils
import fido2.webauthn
import pytest

import aioctap.utils
from aioctap.client import DefaultClientDataCollector, Fido2Client
from aioctap.server import Fido2Server, to_descriptor
from aioctap.virtual import open_virtual_device
from aioctap.webauthn import (
    AttestationObject,
    AuthenticationResponse,
    AuthenticatorData,
    AuthenticatorSelectionCriteria,
    CredentialCreationOptions,
    PublicKeyCredentialCreationOptions,
    PublicKeyCredentialDescriptor,
    PublicKeyCredentialRequestOptions,
    PublicKeyCredentialRpEntity,
    PublicKeyCredentialUserEntity,
    RegistrationResponse,
    ResidentKeyRequirement,
    UserVerificationRequirement,
    websafe_encode,
)

RP = {"id": "example.com", "name": "Example RP"}
USER = {"id": b"user_id", "name": "A. User"}
CHALLENGE = bytes(range(32))


@asynccontextmanager
async def client() -> AsyncIterator[Fido2Client]:
    async with open_virtual_device() as dev:
        yield await Fido2Client(dev, DefaultClientDataCollector("https://example.com"))


def test_import_path_and_constructor_defaults() -> None:
    server = Fido2Server(RP)
    assert (
        server.rp == PublicKeyCredentialRpEntity(name="Example RP", id="example.com") or server.rp.id == "example.com"
    )
    assert server.attestation is None and server.timeout is None
    assert [p.alg for p in server.allowed_algorithms][:1] == [-7]
    with pytest.raises(ValueError):
        Fido2Server({"name": "no id"})


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"user_verification": "discouraged", "authenticator_attachment": "cross-platform"},
        {"resident_key_requirement": "required", "user_verification": "required"},
        {"resident_key_requirement": "preferred"},
    ],
)
def test_register_begin_options_equal_python_fido2s(kwargs: dict[str, Any]) -> None:
    ours, our_state = Fido2Server(RP, attestation="direct").register_begin(USER, challenge=CHALLENGE, **kwargs)
    theirs, their_state = fido2.server.Fido2Server(RP, attestation="direct").register_begin(
        USER, challenge=CHALLENGE, **kwargs
    )
    mine, reference = dict(ours), json.loads(json.dumps(dict(theirs)))
    mine["publicKey"].pop("pubKeyCredParams")
    reference["publicKey"].pop("pubKeyCredParams")  # each library lists the algorithms it can verify
    assert json.loads(json.dumps(mine)) == reference
    assert json.loads(json.dumps(our_state)) == json.loads(json.dumps(their_state))


def test_authenticate_begin_options_equal_python_fido2s() -> None:
    cred = PublicKeyCredentialDescriptor(type="public-key", id=b"\x01" * 16)  # type: ignore[arg-type]
    for args in ([], [[cred]]):
        ours, _ = Fido2Server(RP).authenticate_begin(*args, user_verification="required", challenge=CHALLENGE)
        their_cred = [fido2.webauthn.PublicKeyCredentialDescriptor.from_dict(dict(cred))] if args else None
        theirs, _ = fido2.server.Fido2Server(RP).authenticate_begin(
            their_cred, user_verification="required", challenge=CHALLENGE
        )
        assert json.loads(json.dumps(dict(ours))) == json.loads(json.dumps(dict(theirs)))


def test_custom_challenge_checks() -> None:
    with pytest.raises(ValueError, match=">= 16"):
        Fido2Server(RP).register_begin(USER, challenge=b"short")
    with pytest.raises(TypeError):
        Fido2Server(RP).authenticate_begin(challenge="not bytes")  # type: ignore[arg-type]


async def test_register_and_authenticate_complete() -> None:
    server = Fido2Server(RP, attestation="direct")
    seen: list[tuple[str, bytes]] = []
    server._verify_attestation = lambda att, cdh: seen.append((att.fmt, cdh))
    async with client() as c:
        options, state = server.register_begin(USER, resident_key_requirement="required")
        assert isinstance(options, CredentialCreationOptions)
        json.dumps(state)  # goes into a session cookie
        result = await c.make_credential(options["publicKey"])
        auth_data = server.register_complete(state, json.loads(json.dumps(dict(result))))
        assert isinstance(auth_data, AuthenticatorData) and auth_data.credential_data is not None
        assert seen == [("packed", result.response.client_data.hash)]
        credentials = [auth_data.credential_data]
        # excludeCredentials from stored credentials
        options, _ = server.register_begin(USER, credentials)
        assert options.public_key.exclude_credentials is not None
        assert options.public_key.exclude_credentials[0].id == credentials[0].credential_id
        options, state = server.authenticate_begin(credentials)
        response = (await c.get_assertion(options["publicKey"])).get_response(0)
        assert server.authenticate_complete(state, credentials, response) is credentials[0]
        assert (
            server.authenticate_complete(state, credentials, json.loads(json.dumps(dict(response)))) is credentials[0]
        )


async def _registration(server: Fido2Server, **kwargs: Any) -> tuple[Any, RegistrationResponse]:
    async with client() as c:
        options, state = server.register_begin(USER, **kwargs)
        return state, await c.make_credential(options["publicKey"])


def _with_client_data(response: RegistrationResponse, **members: Any) -> dict[str, Any]:
    data = json.loads(bytes(response.response.client_data))
    data.update(members)
    out = json.loads(json.dumps(dict(response)))
    out["response"]["clientDataJSON"] = websafe_encode(json.dumps(data).encode())
    return out


async def test_register_complete_refusals() -> None:
    server = Fido2Server(RP)
    state, result = await _registration(server)
    cases = {
        "Incorrect type": _with_client_data(result, type="webauthn.get"),
        "Invalid origin": _with_client_data(result, origin="https://evil.example"),
        "Wrong challenge": _with_client_data(result, challenge=websafe_encode(b"x" * 32)),
        "Cross-origin": _with_client_data(result, crossOrigin=True, topOrigin="https://framing.example"),
    }
    for message, response in cases.items():
        with pytest.raises(ValueError, match=message):
            server.register_complete(state, response)
    with pytest.raises(ValueError, match="Wrong RP ID hash"):
        Fido2Server({"id": "login.example.com", "name": "x"}, verify_origin=lambda o: True).register_complete(
            state, result
        )
    forged = json.loads(json.dumps(dict(result)))
    forged["id"] = websafe_encode(b"other")
    with pytest.raises(ValueError, match="id does not match rawId"):
        server.register_complete(state, forged)
    with pytest.raises(ValueError, match="User verification required"):  # the UV flag is off: no PIN, no UV
        server.register_complete({**state, "user_verification": "required"}, result)
    assert server.register_complete(state, result).credential_data is not None  # and the response itself is fine


async def test_authenticate_complete_refusals() -> None:
    server = Fido2Server(RP)
    async with client() as c:
        options, state = server.register_begin(USER)
        cred = server.register_complete(state, await c.make_credential(options["publicKey"])).credential_data
        assert cred is not None
        options, state = server.authenticate_begin([cred])
        response = (await c.get_assertion(options["publicKey"])).get_response(0)
    with pytest.raises(ValueError, match="Unknown credential ID"):
        server.authenticate_complete(state, [], response)
    data = json.loads(json.dumps(dict(response)))
    signature = bytearray(response.response.signature)
    signature[-1] ^= 1
    data["response"]["signature"] = websafe_encode(bytes(signature))
    with pytest.raises(ValueError, match="Invalid signature"):
        server.authenticate_complete(state, [cred], data)
    with pytest.raises(ValueError, match="Wrong challenge"):
        server.authenticate_complete(server.authenticate_begin([cred])[1], [cred], response)


def test_dataclasses_json_round_trip_and_python_fido2_agreement() -> None:
    options = PublicKeyCredentialCreationOptions(
        rp=PublicKeyCredentialRpEntity(name="Example", id="example.com"),
        user=PublicKeyCredentialUserEntity(id=b"\xff\x00", name="u", display_name="U"),
        challenge=CHALLENGE,
        pub_key_cred_params=[{"type": "public-key", "alg": -7}],  # type: ignore[list-item]
        authenticator_selection=AuthenticatorSelectionCriteria(require_resident_key=True),
        extensions={"credProps": True},
    )
    as_json = json.loads(json.dumps(dict(options)))
    assert as_json["user"] == {"id": "_wA", "name": "u", "displayName": "U"}
    assert as_json["authenticatorSelection"] == {"residentKey": "required", "requireResidentKey": True}
    theirs = fido2.webauthn.PublicKeyCredentialCreationOptions.from_dict(as_json)
    assert json.loads(json.dumps(dict(theirs))) == as_json
    again = PublicKeyCredentialCreationOptions.from_dict(as_json)
    assert again.user.id == b"\xff\x00" and again.authenticator_selection is not None
    assert again.authenticator_selection.resident_key is ResidentKeyRequirement.REQUIRED
    # an unknown enumeration value is ignored (WebAuthn §2.1.1), as in python-fido2
    request = PublicKeyCredentialRequestOptions.from_dict({"challenge": "AAAA", "userVerification": "sometimes"})
    assert request.user_verification is None
    assert UserVerificationRequirement.parse("required") is UserVerificationRequirement.REQUIRED
    assert str(UserVerificationRequirement.REQUIRED) == "required"
    with pytest.raises(ValueError):
        PublicKeyCredentialUserEntity.from_dict({"name": "no id"})
    assert dataclasses.is_dataclass(options)


async def test_responses_parse_from_python_fido2s_json_and_back() -> None:
    async with client() as c:
        options, _ = Fido2Server(RP).register_begin(USER)
        result = await c.make_credential(options["publicKey"])
    theirs = fido2.webauthn.RegistrationResponse.from_dict(json.loads(json.dumps(dict(result))))
    ours = RegistrationResponse.from_dict(json.loads(json.dumps(dict(theirs))))
    assert ours.raw_id == result.raw_id
    assert isinstance(ours.response.attestation_object, AttestationObject)
    assert bytes(ours.response.attestation_object) == bytes(result.response.attestation_object)
    with pytest.raises(ValueError):
        AuthenticationResponse.from_dict({"rawId": "AAAA"})  # no response member


def test_to_descriptor_and_utils_match_python_fido2() -> None:
    from aioctap.cose import ES256
    from aioctap.webauthn import AttestedCredentialData, AuthenticatorTransport

    point = b"\x04" + (1).to_bytes(32, "big") + (2).to_bytes(32, "big")  # not on the curve: a key is not checked here
    cred = AttestedCredentialData.create(
        bytes(16), b"cred-id", ES256({1: 2, 3: -7, -1: 1, -2: point[1:33], -3: point[33:]})
    )
    descriptor = to_descriptor(cred, ["usb", "nfc", "carrier-pigeon"])
    assert descriptor.id == b"cred-id" and descriptor.transports == [
        AuthenticatorTransport.USB,
        AuthenticatorTransport.NFC,
    ]
    assert dict(descriptor) == {"type": "public-key", "id": websafe_encode(b"cred-id"), "transports": ["usb", "nfc"]}
    for data in (b"", b"\x00", b"\xfb\xff", bytes(range(256))):
        assert aioctap.utils.websafe_encode(data) == fido2.utils.websafe_encode(data)
        assert aioctap.utils.websafe_decode(fido2.utils.websafe_encode(data)) == data
    for value, minlen in ((0, -1), (1, 4), (0x10000, 2), (2**64 + 5, -1)):
        assert aioctap.utils.int2bytes(value, minlen) == fido2.utils.int2bytes(value, minlen)
        assert aioctap.utils.bytes2int(aioctap.utils.int2bytes(value)) == value
    assert aioctap.utils.sha256(b"abc") == fido2.utils.sha256(b"abc")
    assert aioctap.utils.hmac_sha256(b"k", b"m") == fido2.utils.hmac_sha256(b"k", b"m")


def test_attestation_object_from_ctap1_is_python_fido2s_bytes() -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    from aioctap.ctap1 import RegistrationData

    point = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    )
    registration = RegistrationData(public_key=point, key_handle=b"\x07" * 40, certificate=b"cert", signature=b"sig")
    app_param = bytes(range(32))
    ours = AttestationObject.from_ctap1(app_param, registration)
    assert bytes(ours) == bytes(fido2.webauthn.AttestationObject.from_ctap1(app_param, registration))
    assert ours.fmt == "fido-u2f" and ours.auth_data.credential_data is not None
    assert ours.auth_data.credential_data.credential_id == b"\x07" * 40
