"""No secret in a repr: hmac-secret salts and outputs, PRF values, large blobs and their key, credBlob."""

from __future__ import annotations

from aioctap.client._core import Assertions, Registration
from aioctap.ctap2.base import AssertionResponse, AttestationResponse
from aioctap.ctap2.extensions import (
    AuthenticatorExtensionsLargeBlobInputs,
    AuthenticatorExtensionsLargeBlobOutputs,
    AuthenticatorExtensionsPRFInputs,
    AuthenticatorExtensionsPRFOutputs,
    AuthenticatorExtensionsPRFValues,
    HMACGetSecretInput,
    HMACGetSecretOutput,
)
from aioctap.webauthn import AuthenticationExtensionsClientOutputs, AuthenticatorData, websafe_encode

SECRET = b"S3CRET-S3CRET-S3CRET-S3CRET-0123"  # 32 bytes
SECRET2 = b"0THER-0THER-0THER-0THER-0THER-01"


def assert_hidden(text: str) -> None:
    for s in (SECRET, SECRET2):
        assert s.decode() not in text
        assert websafe_encode(s) not in text
        assert s.hex() not in text
        assert repr(s) not in text


def shown(obj: object) -> None:
    assert_hidden(repr(obj))
    assert_hidden(str(obj))


def test_extension_data_classes_hide_their_secrets() -> None:
    values = AuthenticatorExtensionsPRFValues(first=SECRET, second=SECRET2)
    for obj in (
        HMACGetSecretInput(SECRET, SECRET2),
        HMACGetSecretOutput(SECRET, SECRET2),
        values,
        AuthenticatorExtensionsPRFInputs(eval=values, eval_by_credential={"Y3JlZA": values}),
        AuthenticatorExtensionsPRFOutputs(enabled=True, results=values),
        AuthenticatorExtensionsLargeBlobInputs(write=SECRET),
        AuthenticatorExtensionsLargeBlobOutputs(supported=True, blob=SECRET),
    ):
        shown(obj)
    # what is not secret stays visible, and the size of what is
    assert repr(values) == "AuthenticatorExtensionsPRFValues(first=<hidden: 32 bytes>, second=<hidden: 32 bytes>)"
    assert "enabled=True" in repr(AuthenticatorExtensionsPRFOutputs(enabled=True, results=values))
    # attribute and item access are unchanged
    assert HMACGetSecretOutput(SECRET).output1 == SECRET
    assert HMACGetSecretOutput(SECRET)["output1"] == websafe_encode(SECRET)


def test_client_extension_results_hide_their_secrets() -> None:
    outputs = AuthenticationExtensionsClientOutputs(
        {
            "prf": AuthenticatorExtensionsPRFOutputs(results=AuthenticatorExtensionsPRFValues(first=SECRET)),
            "hmacGetSecret": {"output1": SECRET, "output2": websafe_encode(SECRET2)},
            "largeBlob": {"blob": websafe_encode(SECRET)},
            "getCredBlob": websafe_encode(SECRET2),
            "credProps": {"rk": True},
        }
    )
    shown(outputs)
    shown(outputs.hmac_get_secret)
    assert "'rk': True" in repr(outputs)
    assert outputs.hmac_get_secret.output1 == SECRET  # the values themselves are untouched
    assert outputs["largeBlob"]["blob"] == websafe_encode(SECRET)


def _auth_data() -> AuthenticatorData:
    return AuthenticatorData.create(b"\x01" * 32, AuthenticatorData.FLAG.UP, 1)


def test_ctap_responses_hide_the_large_blob_key() -> None:
    attestation = AttestationResponse("none", _auth_data(), {}, large_blob_key=SECRET)
    assertion = AssertionResponse({"type": "public-key", "id": b"c"}, _auth_data(), b"sig", large_blob_key=SECRET2)
    shown(attestation)
    shown(assertion)
    assert attestation.large_blob_key == SECRET


def test_client_results_hide_the_extension_secrets() -> None:
    assertion = AssertionResponse({"type": "public-key", "id": b"c"}, _auth_data(), b"sig", large_blob_key=SECRET)
    result = Assertions(
        None,  # type: ignore[arg-type]
        [assertion],
        [{"hmacGetSecret": {"output1": websafe_encode(SECRET)}, "largeBlob": {"blob": websafe_encode(SECRET2)}}],
    )
    shown(result)
    attestation = AttestationResponse("none", _auth_data(), {}, large_blob_key=SECRET)
    registration = Registration(
        None,  # type: ignore[arg-type]
        attestation,
        None,  # type: ignore[arg-type]
        {"prf": {"enabled": True, "results": {"first": websafe_encode(SECRET)}}},
    )
    shown(registration)
    assert "'enabled': True" in repr(registration)


def test_command_families_hide_their_pin_uv_auth_token() -> None:
    from types import SimpleNamespace

    from aioctap.ctap2 import Config, CredentialManagement, Ctap2, LargeBlobs
    from aioctap.ctap2.pin import PinProtocolV2

    ctap = Ctap2.__new__(Ctap2)  # no device is needed to build the command families
    ctap._info = SimpleNamespace(max_msg_size=1024)  # type: ignore[assignment]
    for family in (
        CredentialManagement(ctap, PinProtocolV2(), SECRET),
        Config(ctap, PinProtocolV2(), SECRET),
        LargeBlobs(ctap, PinProtocolV2(), SECRET),
    ):
        shown(family)
        assert family.pin_uv is not None
        shown(family.pin_uv)
        shown((family.pin_uv,))  # a tuple's repr uses its members' repr
        assert family.pin_uv.token == SECRET
    assert "<hidden: 32 bytes>" in repr(CredentialManagement(ctap, PinProtocolV2(), SECRET).pin_uv)


def test_authenticator_data_hides_a_cred_blob_output() -> None:
    import struct

    from aioctap import cbor

    flags = AuthenticatorData.FLAG.UP | AuthenticatorData.FLAG.ED
    raw = b"\x01" * 32 + bytes([flags]) + struct.pack(">I", 1) + cbor.dumps({"credBlob": SECRET})
    auth_data = AuthenticatorData(raw)
    assert auth_data.extensions == {"credBlob": SECRET}
    shown(auth_data)
    assertion = AssertionResponse({"type": "public-key", "id": b"c"}, auth_data, b"sig")
    shown(assertion)
    made = AuthenticatorData(raw[:37] + cbor.dumps({"credBlob": True}))
    assert "'credBlob': True" in repr(made)  # makeCredential's output says whether it was stored: not a secret
