"""aioctap.server.py_webauthn against the real py_webauthn (``webauthn``): the same inputs give the same
options JSON, the same parsed credentials, and the same accept/reject and result fields, over a full
ceremony with the software authenticator and over hypothesis-mutated assertions and registrations."""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import os
import struct
import uuid
from enum import Enum
from types import ModuleType
from typing import Any

import pytest
import webauthn as real
import webauthn.helpers as real_helpers
import webauthn.helpers.exceptions as real_exc
import webauthn.helpers.structs as real_structs
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aioctap import cbor
from aioctap.client import WebAuthnClient
from aioctap.cose import CoseKey
from aioctap.ctap2 import ClientPin, Ctap2
from aioctap.server import py_webauthn as ours
from aioctap.server.errors import InvalidSignatureError, SignCountError, UserVerificationError
from aioctap.virtual import VirtualAuthenticator, open_virtual_device
from aioctap.webauthn import websafe_decode, websafe_encode

ORIGIN = "https://example.com"
RP_ID = "example.com"


def plain(value: Any) -> Any:
    """A dataclass or enum of either library as plain values, to compare across the two."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


class Rejected:
    """A refusal: equal to another when some py_webauthn exception class is raised by both (ours may be
    raised as two of py_webauthn's at once, e.g. InvalidBackupFlags and InvalidAuthenticationResponse)."""

    def __init__(self, error: Exception) -> None:
        self.kinds = {c.__name__ for c in type(error).__mro__ if c.__name__.startswith("Invalid")}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Rejected) and bool(self.kinds & other.kinds)

    def __repr__(self) -> str:
        return f"Rejected({sorted(self.kinds)})"


def outcome(call: Any) -> Any:
    try:
        return plain(call())
    except (real_exc.WebAuthnException, ours.WebAuthnException) as e:
        return Rejected(e)


# -- a whole ceremony with the software authenticator, as a py_webauthn relying party writes it ------------


def options_pair(lib: ModuleType, structs: ModuleType, challenge: bytes, user_id: bytes, **kw: Any) -> Any:
    return lib.generate_registration_options(
        rp_id=RP_ID, rp_name="Example", user_name="alice", user_id=user_id, challenge=challenge,
        authenticator_selection=structs.AuthenticatorSelectionCriteria(
            resident_key=structs.ResidentKeyRequirement.REQUIRED,
            user_verification=structs.UserVerificationRequirement.PREFERRED,
        ),
        attestation=structs.AttestationConveyancePreference.DIRECT,
        supported_pub_key_algs=[structs_alg(lib, -7), structs_alg(lib, -8)],
        **kw,
    )  # fmt: skip


def structs_alg(lib: ModuleType, alg: int) -> Any:
    return (ours.COSEAlgorithmIdentifier if lib is ours else real_helpers.cose.COSEAlgorithmIdentifier)(alg)


async def test_a_py_webauthn_relying_party_runs_on_aioctap() -> None:
    challenge, user_id = os.urandom(32), os.urandom(16)
    options = options_pair(ours, ours, challenge, user_id)
    their_options = options_pair(real, real_structs, challenge, user_id)
    assert ours.options_to_json(options) == real.options_to_json(their_options)
    async with open_virtual_device(authenticator=VirtualAuthenticator()) as dev:
        await ClientPin(await Ctap2.create(dev)).set_pin("4321")  # user verification by PIN
        client = WebAuthnClient(dev, ORIGIN, pin="4321")
        credential = await client.create(json.loads(ours.options_to_json(options)))
        kw: dict[str, Any] = {"expected_challenge": challenge, "expected_rp_id": RP_ID, "expected_origin": ORIGIN}
        reg = ours.verify_registration_response(credential=json.dumps(credential), **kw)
        their_reg = real.verify_registration_response(credential=json.dumps(credential), **kw)
        assert plain(reg) == plain(their_reg)
        assert reg.fmt == ours.AttestationFormat.PACKED and reg.credential_device_type == "single_device"
        assert str(uuid.UUID(reg.aaguid)) == reg.aaguid != "00000000-0000-0000-0000-000000000000"
        auth_challenge = os.urandom(32)
        request = ours.generate_authentication_options(
            rp_id=RP_ID, challenge=auth_challenge,
            allow_credentials=[ours.PublicKeyCredentialDescriptor(id=reg.credential_id)],
            user_verification=ours.UserVerificationRequirement.REQUIRED,
        )  # fmt: skip
        their_request = real.generate_authentication_options(
            rp_id=RP_ID, challenge=auth_challenge,
            allow_credentials=[real_structs.PublicKeyCredentialDescriptor(id=reg.credential_id)],
            user_verification=real_structs.UserVerificationRequirement.REQUIRED,
        )  # fmt: skip
        assert ours.options_to_json(request) == real.options_to_json(their_request)
        assertion = await client.get(json.loads(ours.options_to_json(request)))
    akw: dict[str, Any] = {
        "expected_challenge": auth_challenge, "expected_rp_id": RP_ID, "expected_origin": ORIGIN,
        "credential_public_key": reg.credential_public_key, "credential_current_sign_count": reg.sign_count,
        "require_user_verification": True,
    }  # fmt: skip
    auth = ours.verify_authentication_response(credential=assertion, **akw)
    assert plain(auth) == plain(real.verify_authentication_response(credential=assertion, **akw))
    assert auth.new_sign_count > reg.sign_count and auth.user_verified
    parsed = ours.parse_authentication_credential_json(assertion)
    assert plain(parsed) == plain(real_helpers.parse_authentication_credential_json(assertion))
    assert plain(ours.parse_registration_credential_json(credential)) == plain(
        real_helpers.parse_registration_credential_json(credential)
    )
    # a replay of the same assertion: the counter did not grow
    akw["credential_current_sign_count"] = auth.new_sign_count
    with pytest.raises(ours.InvalidAuthenticationResponse, match="sign count") as info:
        ours.verify_authentication_response(credential=assertion, **akw)
    assert isinstance(info.value.__cause__, SignCountError)


# -- assertions, mutated: both libraries accept the same ones, with the same results ------------------------

KEY = ec.generate_private_key(ec.SECP256R1())
COSE = cbor.dumps(dict(CoseKey.for_alg(-7).from_cryptography_key(KEY.public_key())))


def assertion(
    challenge: bytes, *, flags: int, counter: int, origin: str = ORIGIN, rp_id: str = RP_ID,
    typ: str = "webauthn.get", flip: bool = False, user_handle: bytes | None = b"u1",
) -> dict[str, Any]:  # fmt: skip
    client_data = json.dumps({"type": typ, "challenge": websafe_encode(challenge), "origin": origin}).encode()
    auth_data = hashlib.sha256(rp_id.encode()).digest() + struct.pack(">BI", flags, counter)
    signature = KEY.sign(auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(ec.hashes.SHA256()))
    if flip:
        signature = signature[:-1] + bytes([signature[-1] ^ 1])
    response = {"clientDataJSON": websafe_encode(client_data), "authenticatorData": websafe_encode(auth_data),
                "signature": websafe_encode(signature)}  # fmt: skip
    if user_handle is not None:
        response["userHandle"] = websafe_encode(user_handle)
    cid = websafe_encode(b"cred-1")
    return {"id": cid, "rawId": cid, "type": "public-key", "response": response, "clientExtensionResults": {}}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    flags=st.sampled_from([0x00, 0x01, 0x04, 0x05, 0x08, 0x09, 0x0D, 0x10, 0x11, 0x15, 0x19, 0x1D, 0x03, 0x21]),
    counter=st.sampled_from([0, 1, 5, 6, 2**32 - 1]),
    stored=st.sampled_from([0, 4, 5, 6]),
    same_challenge=st.booleans(),
    origin=st.sampled_from([ORIGIN, "https://evil.example", "https://example.com:8443"]),
    rp_id=st.sampled_from([RP_ID, "evil.example"]),
    typ=st.sampled_from(["webauthn.get", "webauthn.create"]),
    flip=st.booleans(),
    require_uv=st.booleans(),
    as_text=st.booleans(),
    user_handle=st.sampled_from([b"u1", None]),
)
def test_assertions_accepted_and_refused_alike(
    flags: int, counter: int, stored: int, same_challenge: bool, origin: str, rp_id: str, typ: str,
    flip: bool, require_uv: bool, as_text: bool, user_handle: bytes | None,
) -> None:  # fmt: skip
    challenge = b"challenge-0123456789abcdef"
    cred: Any = assertion(
        challenge if same_challenge else b"another challenge", flags=flags, counter=counter, origin=origin,
        rp_id=rp_id, typ=typ, flip=flip, user_handle=user_handle,
    )  # fmt: skip
    if as_text:
        cred = json.dumps(cred)
    kw: dict[str, Any] = {
        "expected_challenge": challenge, "expected_rp_id": RP_ID, "expected_origin": [ORIGIN, "https://x.test"],
        "credential_public_key": COSE, "credential_current_sign_count": stored,
        "require_user_verification": require_uv,
    }  # fmt: skip
    a = outcome(lambda: ours.verify_authentication_response(credential=cred, **kw))
    b = outcome(lambda: real.verify_authentication_response(credential=cred, **kw))
    assert a == b


def test_authentication_errors_keep_the_check_as_cause() -> None:
    challenge = os.urandom(16)
    kw: dict[str, Any] = {"expected_challenge": challenge, "expected_rp_id": RP_ID, "expected_origin": ORIGIN,
                          "credential_public_key": COSE, "credential_current_sign_count": 0}  # fmt: skip
    with pytest.raises(ours.InvalidAuthenticationResponse, match="Could not verify authentication signature") as e:
        ours.verify_authentication_response(credential=assertion(challenge, flags=5, counter=1, flip=True), **kw)
    assert isinstance(e.value.__cause__, InvalidSignatureError)
    with pytest.raises(ours.InvalidAuthenticationResponse, match="User verification is required") as e:
        ours.verify_authentication_response(
            credential=assertion(challenge, flags=1, counter=1), **kw, require_user_verification=True
        )
    assert isinstance(e.value.__cause__, UserVerificationError)
    with pytest.raises(ours.InvalidBackupFlags):
        ours.verify_authentication_response(credential=assertion(challenge, flags=0x11, counter=1), **kw)


# -- registrations from the software authenticator, mutated ------------------------------------------------


@pytest.fixture(scope="module")
def registration() -> tuple[dict[str, Any], bytes]:
    import anyio

    async def run() -> tuple[dict[str, Any], bytes]:
        challenge = os.urandom(32)
        async with open_virtual_device(authenticator=VirtualAuthenticator()) as dev:
            options = ours.generate_registration_options(
                rp_id=RP_ID, rp_name="Example", user_name="bob", challenge=challenge,
                attestation=ours.AttestationConveyancePreference.NONE,
            )  # fmt: skip
            created = await WebAuthnClient(dev, ORIGIN).create(json.loads(ours.options_to_json(options)))
        return created, challenge

    return anyio.run(run)


def with_auth_data(cred: dict[str, Any], flags: int | None = None, rp_id: str | None = None) -> dict[str, Any]:
    cred = copy.deepcopy(cred)
    obj = cbor.loads(websafe_decode(cred["response"]["attestationObject"]), strict=False)
    auth_data = bytearray(obj["authData"])
    if rp_id is not None:
        auth_data[:32] = hashlib.sha256(rp_id.encode()).digest()
    if flags is not None:
        auth_data[32] = flags | (auth_data[32] & 0x40)  # keep AT: the credential data follows
    obj["authData"] = bytes(auth_data)
    cred["response"]["attestationObject"] = websafe_encode(cbor.dumps(obj))
    return cred


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(
    flags=st.sampled_from([None, 0x00, 0x01, 0x05, 0x04, 0x0D, 0x19, 0x11]),
    rp_id=st.sampled_from([None, "evil.example"]),
    same_challenge=st.booleans(),
    origin=st.sampled_from([ORIGIN, "https://evil.example"]),
    require_uv=st.booleans(),
    require_up=st.booleans(),
    algs=st.sampled_from([None, [-7], [-8, -257]]),
)
def test_registrations_accepted_and_refused_alike(
    registration: tuple[dict[str, Any], bytes], flags: int | None, rp_id: str | None, same_challenge: bool,
    origin: str, require_uv: bool, require_up: bool, algs: list[int] | None,
) -> None:  # fmt: skip
    created, challenge = registration
    cred = with_auth_data(created, flags, rp_id)
    kw: dict[str, Any] = {
        "expected_challenge": challenge if same_challenge else b"x" + challenge, "expected_rp_id": RP_ID,
        "expected_origin": origin, "require_user_verification": require_uv, "require_user_presence": require_up,
    }  # fmt: skip
    ours_kw, their_kw = dict(kw), dict(kw)
    if algs is not None:
        ours_kw["supported_pub_key_algs"] = [ours.COSEAlgorithmIdentifier(a) for a in algs]
        their_kw["supported_pub_key_algs"] = [real_helpers.cose.COSEAlgorithmIdentifier(a) for a in algs]
    a = outcome(lambda: ours.verify_registration_response(credential=cred, **ours_kw))
    b = outcome(lambda: real.verify_registration_response(credential=cred, **their_kw))
    assert a == b


# -- options and parsing ------------------------------------------------------------------------------------


selections = st.builds(
    dict,
    authenticator_attachment=st.sampled_from([None, "platform", "cross-platform"]),
    resident_key=st.sampled_from([None, "discouraged", "preferred", "required"]),
    user_verification=st.sampled_from([None, "required", "preferred", "discouraged"]),
)


transports = st.lists(st.sampled_from(["usb", "nfc", "ble", "internal", "hybrid"]), max_size=3, unique=True)


@settings(max_examples=150, deadline=None)
@given(
    selection=st.none() | selections,
    attestation=st.sampled_from(["none", "indirect", "direct", "enterprise"]),
    excluded=st.lists(st.tuples(st.binary(min_size=1, max_size=40), transports), max_size=3),
    hints=st.none() | st.lists(st.sampled_from(["security-key", "client-device", "hybrid"]), max_size=3, unique=True),
    timeout=st.integers(1, 600_000),
    display=st.none() | st.text(min_size=1, max_size=10),
    algs=st.lists(st.sampled_from([-7, -8, -36, -37, -257]), min_size=1, max_size=5, unique=True),
)
def test_registration_options_json_like_py_webauthn(
    selection: dict[str, str | None] | None, attestation: str, excluded: list[tuple[bytes, list[str]]],
    hints: list[str] | None, timeout: int, display: str | None, algs: list[int],
) -> None:  # fmt: skip
    challenge, user_id = b"0123456789abcdef", b"user-handle"

    def build(lib: ModuleType, s: ModuleType) -> str:
        sel = None
        if selection is not None:
            sel = s.AuthenticatorSelectionCriteria(
                authenticator_attachment=selection["authenticator_attachment"] and s.AuthenticatorAttachment(
                    selection["authenticator_attachment"]),
                resident_key=selection["resident_key"] and s.ResidentKeyRequirement(selection["resident_key"]),
                user_verification=selection["user_verification"] and s.UserVerificationRequirement(
                    selection["user_verification"]),
            )  # fmt: skip
        options = lib.generate_registration_options(
            rp_id=RP_ID, rp_name="Example", user_name="alice", user_id=user_id, user_display_name=display,
            challenge=challenge, timeout=timeout, attestation=s.AttestationConveyancePreference(attestation),
            authenticator_selection=sel,
            exclude_credentials=[s.PublicKeyCredentialDescriptor(id=i, transports=[s.AuthenticatorTransport(t)
                                 for t in ts] or None) for i, ts in excluded],
            supported_pub_key_algs=[structs_alg(lib, a) for a in algs],
            hints=None if hints is None else [s.PublicKeyCredentialHint(h) for h in hints],
        )  # fmt: skip
        return str(lib.options_to_json(options))

    text = build(ours, ours)
    assert text == build(real, real_structs)
    parsed = ours.parse_registration_options_json(text)
    assert plain(parsed) == plain(real_helpers.parse_registration_options_json(text))
    if selection is None or selection["user_verification"] is not None:  # else parsing fills in "preferred"
        assert ours.options_to_json(parsed) == text


@settings(max_examples=100, deadline=None)
@given(
    allowed=st.lists(st.binary(min_size=1, max_size=40), max_size=3),
    uv=st.sampled_from(["required", "preferred", "discouraged"]),
    timeout=st.integers(1, 600_000),
)
def test_authentication_options_json_like_py_webauthn(allowed: list[bytes], uv: str, timeout: int) -> None:
    def build(lib: ModuleType, s: ModuleType) -> str:
        return str(lib.options_to_json(lib.generate_authentication_options(
            rp_id=RP_ID, challenge=b"c" * 32, timeout=timeout,
            allow_credentials=[s.PublicKeyCredentialDescriptor(id=i) for i in allowed],
            user_verification=s.UserVerificationRequirement(uv),
        )))  # fmt: skip

    text = build(ours, ours)
    assert text == build(real, real_structs)
    parsed = ours.parse_authentication_options_json(text)
    assert plain(parsed) == plain(real_helpers.parse_authentication_options_json(text))
    assert ours.options_to_json(parsed) == text


def either(call: Any) -> Any:
    """The result, or "refused" for any exception (py_webauthn lets KeyError/AttributeError out for some shapes,
    where aioctap raises InvalidJSONStructure)."""
    try:
        return plain(call())
    except Exception:
        return "refused"


options_members = st.fixed_dictionaries(
    {"challenge": st.sampled_from(["Y2hhbGxlbmdl", 5])},
    optional={
        "rp": st.sampled_from([{"id": RP_ID, "name": "E"}, {"name": "E"}, {"id": 3, "name": "E"}, {"id": RP_ID}, []]),
        "user": st.sampled_from([{"id": "dQ", "name": "a", "displayName": "A"}, {"id": "dQ", "name": "a"}, "u"]),
        "attestation": st.sampled_from(["none", "direct", "weird", 1]),
        "authenticatorSelection": st.sampled_from(
            [{}, {"residentKey": "required", "requireResidentKey": True}, {"userVerification": "maybe"},
             {"authenticatorAttachment": "platform"}, {"requireResidentKey": "yes"}, None]
        ),
        "pubKeyCredParams": st.sampled_from([[{"type": "public-key", "alg": -7}], [{"alg": 12345}], [], {}]),
        "excludeCredentials": st.sampled_from([[{"id": "YQ"}], [{"id": "YQ", "transports": ["usb", "x"]}],
                                               [{"id": 1}], [{"id": "YQ", "transports": "usb"}], None]),
        "allowCredentials": st.sampled_from([[{"id": "YQ", "transports": ["nfc"]}], [{"nope": 1}], None]),
        "timeout": st.sampled_from([60000, "60000", None]),
        "hints": st.sampled_from([["hybrid"], ["x"], "hybrid", None]),
        "rpId": st.sampled_from([RP_ID, 7, None]),
        "userVerification": st.sampled_from(["required", "sometimes", None]),
    },
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(options_members)
def test_options_json_parsed_like_py_webauthn(data: dict[str, Any]) -> None:
    for ours_fn, their_fn in (
        (ours.parse_registration_options_json, real_helpers.parse_registration_options_json),
        (ours.parse_authentication_options_json, real_helpers.parse_authentication_options_json),
    ):
        assert either(lambda: ours_fn(data)) == either(lambda: their_fn(data))  # noqa: B023
        assert either(lambda: ours_fn(json.dumps(data))) == either(lambda: their_fn(json.dumps(data)))  # noqa: B023
        try:
            ours_fn(data)
        except ours.WebAuthnException:
            pass  # a refusal is always one of py_webauthn's exceptions, never KeyError or AttributeError


def test_option_defaults_are_py_webauthn_2s() -> None:
    options = ours.generate_registration_options(rp_id=RP_ID, rp_name="Example", user_name="alice")
    assert len(options.user.id) == 64 and len(options.challenge) == 64 and options.user.display_name == "alice"
    assert [int(p.alg) for p in options.pub_key_cred_params] == [-7, -8, -36, -37, -257]
    assert options.timeout == 60000 and options.attestation == "none" and options.exclude_credentials == []
    request = ours.generate_authentication_options(rp_id=RP_ID)
    assert request.user_verification == "preferred" and len(request.challenge) == 64
    with pytest.raises(ValueError, match="64 bytes"):
        ours.generate_registration_options(rp_id=RP_ID, rp_name="E", user_name="a", user_id=b"x" * 65)
    for missing in ("rp_id", "rp_name", "user_name"):
        kw = {"rp_id": RP_ID, "rp_name": "E", "user_name": "a", missing: ""}
        with pytest.raises(ValueError, match=missing):
            ours.generate_registration_options(**kw)


credential_members = st.fixed_dictionaries(
    {},
    optional={
        "id": st.sampled_from(["Y3JlZA", 5]),
        "rawId": st.sampled_from(["Y3JlZA", "Y3JlZA==", None]),
        "type": st.sampled_from(["public-key", "password", None]),
        "authenticatorAttachment": st.sampled_from(["platform", "cross-platform", "car", 3]),
        "response": st.fixed_dictionaries(
            {},
            optional={
                "clientDataJSON": st.sampled_from(["e30", 1]),
                "attestationObject": st.sampled_from(["oA", None]),
                "authenticatorData": st.sampled_from(["AAAA", None]),
                "signature": st.sampled_from(["MEUCIQ", []]),
                "userHandle": st.sampled_from(["dTE", None, 7]),
                "transports": st.sampled_from([["usb", "nfc"], ["usb", "teleport"], "usb"]),
            },
        ),
    },
)


@settings(max_examples=300, deadline=None)
@given(credential_members)
def test_credential_json_parsed_like_py_webauthn(data: dict[str, Any]) -> None:
    for ours_fn, their_fn in (
        (ours.parse_registration_credential_json, real_helpers.parse_registration_credential_json),
        (ours.parse_authentication_credential_json, real_helpers.parse_authentication_credential_json),
    ):
        assert outcome(lambda: ours_fn(data)) == outcome(lambda: their_fn(data))  # noqa: B023
        text = json.dumps(data)
        assert outcome(lambda: ours_fn(text)) == outcome(lambda: their_fn(text))  # noqa: B023


def test_base64url_and_aaguid_helpers_like_py_webauthn() -> None:
    for text in ("", "AA", "AAA", "AAAA", "-_-_", "+/+/", "YQ==", "Y Q", "..."):
        assert ours.base64url_to_bytes(text) == real_helpers.base64url_to_bytes(text)
    for data in (b"", b"\xff\xfe", os.urandom(33)):
        assert ours.bytes_to_base64url(data) == real_helpers.bytes_to_base64url(data)
    aaguid = os.urandom(16)
    assert ours.aaguid_to_string(aaguid) == real_helpers.aaguid_to_string(aaguid)
    with pytest.raises(ValueError):
        ours.aaguid_to_string(b"short")


@pytest.mark.parametrize(("be", "bs"), [(False, False), (True, False), (True, True), (False, True)])
def test_backup_flags_like_py_webauthn(be: bool, bs: bool) -> None:
    mine = ours.AuthenticatorDataFlags(up=True, uv=False, be=be, bs=bs, at=False, ed=False)
    theirs = real_structs.AuthenticatorDataFlags(up=True, uv=False, be=be, bs=bs, at=False, ed=False)
    assert outcome(lambda: ours.parse_backup_flags(mine)) == outcome(lambda: real_helpers.parse_backup_flags(theirs))


def test_every_name_a_py_webauthn_user_imports() -> None:
    names = (
        set(real.__all__)
        | set(real_helpers.__all__)
        | {n for n in dir(real_structs) if not n.startswith("_") and isinstance(getattr(real_structs, n), type)}
        | {n for n in dir(real_exc) if n.startswith("Invalid") or n == "WebAuthnException"}
    )
    internal = {  # py_webauthn's internals for its own verifiers, not part of what its README documents
        "byteslike_to_bytes", "decode_credential_public_key", "decoded_public_key_to_cryptography", "encode_cbor",
        "hash_by_alg", "parse_attestation_object", "parse_authenticator_data", "parse_cbor",
        "parse_client_data_json", "validate_certificate_chain", "verify_safetynet_timestamp", "verify_signature",
        "Enum", "Optional", "List",
        "Literal", "InvalidPublicKeyStructure", "InvalidTPMPubAreaStructure", "InvalidTPMCertInfoStructure",
        "InvalidCertificateChain", "InvalidAuthenticatorDataStructure", "InvalidAttestationObjectStructure",
        "COSEAlgorithmIdentifier",
    }  # fmt: skip
    missing = sorted(n for n in names - internal if not hasattr(ours, n))
    assert missing == []


async def test_pem_root_certs_by_format_like_py_webauthn() -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    authenticator = VirtualAuthenticator()
    root = x509.load_der_x509_certificate(authenticator.attestation_root).public_bytes(Encoding.PEM)
    foreign = ec.generate_private_key(ec.SECP256R1())
    import datetime

    name = x509.Name([x509.NameAttribute(x509.oid.NameOID.COMMON_NAME, "Not the issuer")])
    now = datetime.datetime.now(datetime.UTC)
    other_root = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(foreign.public_key())
        .serial_number(1).not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(foreign, ec.hashes.SHA256()).public_bytes(Encoding.PEM)
    )  # fmt: skip
    challenge = os.urandom(32)
    async with open_virtual_device(authenticator=authenticator) as dev:
        options = ours.generate_registration_options(
            rp_id=RP_ID, rp_name="Example", user_name="carol", challenge=challenge,
            attestation=ours.AttestationConveyancePreference.DIRECT,
        )  # fmt: skip
        created = await WebAuthnClient(dev, ORIGIN).create(json.loads(ours.options_to_json(options)))
    kw: dict[str, Any] = {"credential": created, "expected_challenge": challenge, "expected_rp_id": RP_ID,
                          "expected_origin": ORIGIN}  # fmt: skip
    for roots, accepted in (([root], True), ([other_root], False), ([other_root, root], True), ([], True)):
        a = outcome(lambda: ours.verify_registration_response(
            **kw, pem_root_certs_bytes_by_fmt={ours.AttestationFormat.PACKED: roots}))  # noqa: B023  # fmt: skip
        b = outcome(lambda: real.verify_registration_response(
            **kw, pem_root_certs_bytes_by_fmt={real_structs.AttestationFormat.PACKED: roots}))  # noqa: B023  # fmt: skip
        assert a == b and isinstance(a, dict) is accepted, roots


@pytest.mark.parametrize(
    "change",
    [{"attStmt": {"sig": b"x"}}, {"attStmt": {"alg": -7}}, {"fmt": "packed"}, {"fmt": "tpm"}, {"fmt": "fido-u2f"},
     {"fmt": "made-up"}, {"fmt": 7}, {}],
)  # fmt: skip
def test_attestation_statements_judged_alike(
    registration: tuple[dict[str, Any], bytes], change: dict[str, Any]
) -> None:
    created, challenge = registration
    cred = copy.deepcopy(created)
    obj = cbor.loads(websafe_decode(cred["response"]["attestationObject"]), strict=False)
    obj.update(change)
    cred["response"]["attestationObject"] = websafe_encode(cbor.dumps(obj))
    kw: dict[str, Any] = {"credential": cred, "expected_challenge": challenge, "expected_rp_id": RP_ID,
                          "expected_origin": ORIGIN}  # fmt: skip
    a = outcome(lambda: ours.verify_registration_response(**kw))
    assert a == outcome(lambda: real.verify_registration_response(**kw))
    assert isinstance(a, dict) is (change == {})


def test_att_stmt_must_be_a_map(registration: tuple[dict[str, Any], bytes]) -> None:
    """The one difference found here: an attStmt that is an array passes py_webauthn's "none" check (it only
    looks for members); WebAuthn L3 §6.5.4 makes attStmt a map, and aioctap refuses anything else."""
    created, challenge = registration
    cred = copy.deepcopy(created)
    obj = cbor.loads(websafe_decode(cred["response"]["attestationObject"]), strict=False)
    obj["attStmt"] = []
    cred["response"]["attestationObject"] = websafe_encode(cbor.dumps(obj))
    kw: dict[str, Any] = {"credential": cred, "expected_challenge": challenge, "expected_rp_id": RP_ID,
                          "expected_origin": ORIGIN}  # fmt: skip
    assert isinstance(outcome(lambda: real.verify_registration_response(**kw)), dict)
    with pytest.raises(ours.InvalidRegistrationResponse, match="attStmt"):
        ours.verify_registration_response(**kw)
