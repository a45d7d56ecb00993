"""py_webauthn's ``verify_registration_response`` and ``verify_authentication_response`` on aioctap's sans-IO
verification (:func:`aioctap.server.verify_registration`, :func:`aioctap.server.verify_authentication`).

Keywords, defaults and result fields are py_webauthn's; every failed check raises py_webauthn's exception with
aioctap's typed :class:`~aioctap.server.VerificationError` as ``__cause__``.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from cryptography import x509

from ... import cbor
from ..attestation import TrustAnchors
from ..errors import (
    AttestationError,
    BackupFlagsError,
    ChallengeMismatchError,
    ClientDataTypeError,
    InvalidSignatureError,
    OriginMismatchError,
    RpIdHashMismatchError,
    SignCountError,
    UnsupportedAlgorithmError,
    UnsupportedAttestationFormatError,
    UserPresenceError,
    UserVerificationError,
    VerificationError,
)
from ..verify import verify_authentication, verify_registration
from .exceptions import (
    InvalidAuthenticationBackupFlags,
    InvalidAuthenticationResponse,
    InvalidRegistrationBackupFlags,
    InvalidRegistrationCBOR,
    InvalidRegistrationResponse,
)
from .helpers import (
    JSONValue,
    bytes_to_base64url,
    parse_authentication_credential_json,
    parse_registration_credential_json,
)
from .known_roots import KNOWN_ROOTS
from .options import default_supported_pub_key_algs
from .structs import (
    AttestationFormat,
    AuthenticationCredential,
    COSEAlgorithmIdentifier,
    CredentialDeviceType,
    PublicKeyCredentialType,
    RegistrationCredential,
)

__all__ = [
    "VerifiedAuthentication",
    "VerifiedRegistration",
    "verify_authentication_response",
    "verify_registration_response",
]


@dataclass
class VerifiedRegistration:
    """A verified registration, py_webauthn's fields: what to store for the credential."""

    credential_id: bytes
    credential_public_key: bytes  # the COSE_Key exactly as in authenticator data
    sign_count: int
    aaguid: str
    fmt: AttestationFormat | str  # a str only for a format added with aioctap.server.register_format
    credential_type: PublicKeyCredentialType
    user_verified: bool
    attestation_object: bytes
    credential_device_type: CredentialDeviceType
    credential_backed_up: bool


@dataclass
class VerifiedAuthentication:
    """A verified authentication, py_webauthn's fields."""

    credential_id: bytes
    new_sign_count: int
    credential_device_type: CredentialDeviceType
    credential_backed_up: bool
    user_verified: bool


_FORMATS = frozenset(f.value for f in AttestationFormat)

_COMMON: dict[type[VerificationError], str] = {
    ClientDataTypeError: "Unexpected client data type",
    ChallengeMismatchError: "Client data challenge was not expected challenge",
    OriginMismatchError: "Unexpected client data origin",
    RpIdHashMismatchError: "Unexpected RP ID hash",
}
#: py_webauthn's message for each failed check; aioctap's own message follows it
_REGISTRATION_MESSAGES: dict[type[VerificationError], str] = {
    **_COMMON,
    UserPresenceError: "User presence was required, but was not present during attestation",
    UserVerificationError: "User verification is required but user was not verified during attestation",
    UnsupportedAlgorithmError: "Unsupported credential public key alg",
    UnsupportedAttestationFormatError: "Unsupported attestation type",
    AttestationError: "Attestation statement could not be verified",
}
_AUTHENTICATION_MESSAGES: dict[type[VerificationError], str] = {
    **_COMMON,
    UserPresenceError: "User was not present during authentication",
    UserVerificationError: "User verification is required but user was not verified during authentication",
    SignCountError: "Response sign count was not greater than current count",
    InvalidSignatureError: "Could not verify authentication signature",
}


def _message(error: VerificationError, messages: Mapping[type[VerificationError], str]) -> str:
    for cls in type(error).__mro__:
        if cls in messages:
            return f"{messages[cls]}: {error}"
    return str(error)


def _check_id_and_type(credential: RegistrationCredential | AuthenticationCredential, error: type[Exception]) -> None:
    if bytes_to_base64url(credential.raw_id) != credential.id:
        raise error("id and raw_id were not equivalent")
    if credential.type != PublicKeyCredentialType.PUBLIC_KEY:
        raise error(f'Unexpected credential type "{credential.type}", expected "public-key"')


def _raw_public_key(attestation_object: bytes) -> bytes:
    """The credentialPublicKey's own bytes in the attested credential data (L3 §6.5.1), not a re-encoding."""
    decoded = cbor.loads(attestation_object, strict=False)
    if not isinstance(decoded, dict):
        raise TypeError("the attestation object is not a CBOR map")
    auth_data = decoded["authData"]
    start = 37 + 18 + int.from_bytes(auth_data[53:55], "big")
    _, rest = cbor.decode_from(auth_data[start:], strict=False)
    return bytes(auth_data[start : len(auth_data) - len(rest)])


def _anchors(fmt: object, pem_roots: Mapping[AttestationFormat, Sequence[bytes]] | None) -> TrustAnchors | None:
    """py_webauthn's rule: a chain is checked when roots are known for the format (given, or built in for
    android-key, android-safetynet and apple); then it must reach one of them."""
    if not isinstance(fmt, str):
        return None
    # keys are AttestationFormat members or plain strings: a StrEnum member equals its value
    given = next((roots for key, roots in (pem_roots or {}).items() if key == fmt), None) or ()
    pems = [*given, *KNOWN_ROOTS.get(fmt, ())]
    if not pems:
        return None
    try:
        roots = [c for pem in pems for c in x509.load_pem_x509_certificates(bytes(pem))]
    except ValueError as e:
        raise InvalidRegistrationResponse(f"a root certificate for {fmt!r} is not valid PEM: {e}") from None
    return TrustAnchors(by_format={fmt: roots})


def verify_registration_response(
    *,
    credential: str | bytes | Mapping[str, JSONValue] | RegistrationCredential,
    expected_challenge: bytes,
    expected_rp_id: str,
    expected_origin: str | Sequence[str],
    require_user_presence: bool = True,
    require_user_verification: bool = False,
    supported_pub_key_algs: Sequence[COSEAlgorithmIdentifier] = default_supported_pub_key_algs,
    pem_root_certs_bytes_by_fmt: Mapping[AttestationFormat, Sequence[bytes]] | None = None,
    now: datetime.datetime | None = None,
) -> VerifiedRegistration:
    """Verify create()'s response (WebAuthn L3 §7.1); :class:`InvalidRegistrationResponse` names the failed check.

    ``now`` (an aioctap addition) is the time at which attestation certificates must be valid
    (default: the current time).
    """
    if not isinstance(credential, RegistrationCredential):
        credential = parse_registration_credential_json(credential)
    _check_id_and_type(credential, InvalidRegistrationResponse)
    response = credential.response
    attestation_object = bytes(response.attestation_object)
    try:
        decoded = cbor.loads(attestation_object, strict=False)
    except cbor.CborError as e:
        raise InvalidRegistrationCBOR(f"attestationObject was malformed: {e}") from e
    fmt = decoded.get("fmt") if isinstance(decoded, dict) else None
    as_json: dict[str, JSONValue] = {
        "id": credential.id,
        "rawId": credential.id,
        "type": "public-key",
        "response": {
            "clientDataJSON": bytes_to_base64url(response.client_data_json),
            "attestationObject": bytes_to_base64url(attestation_object),
            "transports": [t.value for t in response.transports or []],
        },
    }
    try:
        result = verify_registration(
            as_json,
            expected_challenge=bytes(expected_challenge),
            expected_origin=expected_origin,
            expected_rp_id=expected_rp_id,
            require_user_verification=require_user_verification,
            require_user_presence=require_user_presence,
            supported_algorithms=[int(alg) for alg in supported_pub_key_algs],
            trust_anchors=_anchors(fmt, pem_root_certs_bytes_by_fmt),
            now=now,
        )
    except BackupFlagsError as e:
        raise InvalidRegistrationBackupFlags(str(e)) from e
    except VerificationError as e:
        raise InvalidRegistrationResponse(_message(e, _REGISTRATION_MESSAGES)) from e
    return VerifiedRegistration(
        credential_id=result.credential_id,
        credential_public_key=_raw_public_key(attestation_object),
        sign_count=result.sign_count,
        aaguid=str(result.aaguid),
        fmt=AttestationFormat(result.fmt) if result.fmt in _FORMATS else result.fmt,
        credential_type=PublicKeyCredentialType.PUBLIC_KEY,
        user_verified=result.user_verified,
        attestation_object=attestation_object,
        credential_device_type=CredentialDeviceType(result.credential_device_type),
        credential_backed_up=result.credential_backed_up,
    )


def verify_authentication_response(
    *,
    credential: str | bytes | Mapping[str, JSONValue] | AuthenticationCredential,
    expected_challenge: bytes,
    expected_rp_id: str,
    expected_origin: str | Sequence[str],
    credential_public_key: bytes,
    credential_current_sign_count: int,
    require_user_verification: bool = False,
) -> VerifiedAuthentication:
    """Verify get()'s response (WebAuthn L3 §7.2); :class:`InvalidAuthenticationResponse` names the failed check.

    A signature counter that does not grow while either side is non-zero is refused (a possible clone);
    BS without BE is :class:`InvalidBackupFlags` (and an InvalidAuthenticationResponse).
    """
    if not isinstance(credential, AuthenticationCredential):
        credential = parse_authentication_credential_json(credential)
    _check_id_and_type(credential, InvalidAuthenticationResponse)
    response = credential.response
    member: dict[str, JSONValue] = {
        "clientDataJSON": bytes_to_base64url(response.client_data_json),
        "authenticatorData": bytes_to_base64url(response.authenticator_data),
        "signature": bytes_to_base64url(response.signature),
    }
    if response.user_handle is not None:
        member["userHandle"] = bytes_to_base64url(response.user_handle)
    as_json: dict[str, JSONValue] = {
        "id": credential.id,
        "rawId": credential.id,
        "type": "public-key",
        "response": member,
    }
    try:
        result = verify_authentication(
            as_json,
            expected_challenge=bytes(expected_challenge),
            expected_origin=expected_origin,
            expected_rp_id=expected_rp_id,
            credential_public_key=bytes(credential_public_key),
            credential_current_sign_count=credential_current_sign_count,
            require_user_verification=require_user_verification,
        )
    except BackupFlagsError as e:
        raise InvalidAuthenticationBackupFlags(str(e)) from e
    except VerificationError as e:
        raise InvalidAuthenticationResponse(_message(e, _AUTHENTICATION_MESSAGES)) from e
    return VerifiedAuthentication(
        credential_id=result.credential_id,
        new_sign_count=result.new_sign_count,
        credential_device_type=CredentialDeviceType(result.credential_device_type),
        credential_backed_up=result.credential_backed_up,
        user_verified=result.user_verified,
    )
