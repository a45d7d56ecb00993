"""py_webauthn 2.x's data types (``webauthn.helpers.structs``, ``webauthn.helpers.cose``), field for field.

WebAuthn L3 §5.4 (creation options), §5.5 (request options), §5.8 (supporting dictionaries), §5.10
(supporting data structures) and §6.1 (authenticator data) under py_webauthn's Python names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from typing import Literal

# the WebAuthn enumerations py_webauthn spells as python-fido2 does: one definition
from ...webauthn import (
    AttestationConveyancePreference,
    AuthenticatorAttachment,
    PublicKeyCredentialHint,
    PublicKeyCredentialType,
    UserVerificationRequirement,
)

__all__ = [
    "AttestationConveyancePreference",
    "AttestationFormat",
    "AttestationObject",
    "AttestationStatement",
    "AttestedCredentialData",
    "AuthenticationCredential",
    "AuthenticatorAssertionResponse",
    "AuthenticatorAttachment",
    "AuthenticatorAttestationResponse",
    "AuthenticatorData",
    "AuthenticatorDataFlags",
    "AuthenticatorSelectionCriteria",
    "AuthenticatorTransport",
    "COSEAlgorithmIdentifier",
    "ClientDataType",
    "CollectedClientData",
    "CredentialDeviceType",
    "PublicKeyCredentialCreationOptions",
    "PublicKeyCredentialDescriptor",
    "PublicKeyCredentialHint",
    "PublicKeyCredentialParameters",
    "PublicKeyCredentialRequestOptions",
    "PublicKeyCredentialRpEntity",
    "PublicKeyCredentialType",
    "PublicKeyCredentialUserEntity",
    "RegistrationCredential",
    "ResidentKeyRequirement",
    "TokenBinding",
    "TokenBindingStatus",
    "UserVerificationRequirement",
]


class COSEAlgorithmIdentifier(IntEnum):
    """COSE algorithm identifiers (IANA COSE Algorithms registry; WebAuthn L3 §5.8.5)."""

    ECDSA_SHA_256 = -7
    EDDSA = -8
    ECDSA_SHA_512 = -36
    RSASSA_PSS_SHA_256 = -37
    RSASSA_PSS_SHA_384 = -38
    RSASSA_PSS_SHA_512 = -39
    RSASSA_PKCS1_v1_5_SHA_256 = -257
    RSASSA_PKCS1_v1_5_SHA_384 = -258
    RSASSA_PKCS1_v1_5_SHA_512 = -259
    RSASSA_PKCS1_v1_5_SHA_1 = -65535  # deprecated; accepted from old authenticators only
    ML_DSA_44 = -48  # named as in py_webauthn; verified when listed in supported_pub_key_algs
    ML_DSA_65 = -49
    ML_DSA_87 = -50


class AuthenticatorTransport(StrEnum):
    """L3 §5.8.4 AuthenticatorTransport."""

    USB = "usb"
    NFC = "nfc"
    BLE = "ble"
    SMART_CARD = "smart-card"
    INTERNAL = "internal"
    CABLE = "cable"
    HYBRID = "hybrid"


class ResidentKeyRequirement(StrEnum):
    """L3 §5.4.6 ResidentKeyRequirement."""

    DISCOURAGED = "discouraged"
    PREFERRED = "preferred"
    REQUIRED = "required"


class AttestationFormat(StrEnum):
    """Attestation statement format identifiers (L3 §8, IANA WebAuthn registry)."""

    PACKED = "packed"
    TPM = "tpm"
    ANDROID_KEY = "android-key"
    ANDROID_SAFETYNET = "android-safetynet"
    FIDO_U2F = "fido-u2f"
    APPLE = "apple"
    NONE = "none"


class ClientDataType(StrEnum):
    """L3 §5.8.1 CollectedClientData.type."""

    WEBAUTHN_CREATE = "webauthn.create"
    WEBAUTHN_GET = "webauthn.get"


class TokenBindingStatus(StrEnum):
    """WebAuthn L2 §5.8.1 TokenBindingStatus (dropped by L3; kept for py_webauthn's type)."""

    PRESENT = "present"
    SUPPORTED = "supported"


class CredentialDeviceType(StrEnum):
    """Single- or multi-device credential, from the BE flag (L3 §6.1.3)."""

    SINGLE_DEVICE = "single_device"
    MULTI_DEVICE = "multi_device"


@dataclass
class TokenBinding:
    """WebAuthn L2 §5.8.1 TokenBinding."""

    status: TokenBindingStatus
    id: str | None = None


@dataclass
class PublicKeyCredentialRpEntity:
    """L3 §5.4.2."""

    name: str
    id: str | None = None


@dataclass
class PublicKeyCredentialUserEntity:
    """L3 §5.4.3: ``id`` is the user handle (at most 64 bytes)."""

    id: bytes
    name: str
    display_name: str


@dataclass
class PublicKeyCredentialParameters:
    """L3 §5.3."""

    type: Literal["public-key"]
    alg: COSEAlgorithmIdentifier


@dataclass
class PublicKeyCredentialDescriptor:
    """L3 §5.8.3."""

    id: bytes
    type: Literal[PublicKeyCredentialType.PUBLIC_KEY] = PublicKeyCredentialType.PUBLIC_KEY
    transports: list[AuthenticatorTransport] | None = None


@dataclass
class AuthenticatorSelectionCriteria:
    """L3 §5.4.4."""

    authenticator_attachment: AuthenticatorAttachment | None = None
    resident_key: ResidentKeyRequirement | None = None
    require_resident_key: bool | None = False
    user_verification: UserVerificationRequirement | None = UserVerificationRequirement.PREFERRED


@dataclass
class CollectedClientData:
    """L3 §5.8.1, decoded."""

    type: ClientDataType
    challenge: bytes
    origin: str
    cross_origin: bool | None = None
    token_binding: TokenBinding | None = None


@dataclass
class PublicKeyCredentialCreationOptions:
    """L3 §5.4 PublicKeyCredentialCreationOptions."""

    rp: PublicKeyCredentialRpEntity
    user: PublicKeyCredentialUserEntity
    challenge: bytes
    pub_key_cred_params: list[PublicKeyCredentialParameters]
    timeout: int | None = None
    exclude_credentials: list[PublicKeyCredentialDescriptor] | None = None
    authenticator_selection: AuthenticatorSelectionCriteria | None = None
    hints: list[PublicKeyCredentialHint] | None = None
    attestation: AttestationConveyancePreference = AttestationConveyancePreference.NONE


@dataclass
class AuthenticatorAttestationResponse:
    """L3 §5.2.1, decoded from its JSON form."""

    client_data_json: bytes
    attestation_object: bytes
    transports: list[AuthenticatorTransport] | None = None


@dataclass
class RegistrationCredential:
    """L3 §5.1 PublicKeyCredential returned by create(), decoded from its JSON form."""

    id: str
    raw_id: bytes
    response: AuthenticatorAttestationResponse
    authenticator_attachment: AuthenticatorAttachment | None = None
    type: Literal[PublicKeyCredentialType.PUBLIC_KEY] = PublicKeyCredentialType.PUBLIC_KEY


@dataclass
class AttestationStatement:
    """Every member an attestation statement of L3 §8 may hold."""

    sig: bytes | None = None
    x5c: list[bytes] | None = None
    response: bytes | None = None
    alg: COSEAlgorithmIdentifier | None = None
    ver: str | None = None
    cert_info: bytes | None = None
    pub_area: bytes | None = None


@dataclass
class AuthenticatorDataFlags:
    """L3 §6.1 flags: UP, UV, BE, BS, AT, ED."""

    up: bool
    uv: bool
    be: bool
    bs: bool
    at: bool
    ed: bool


@dataclass
class AttestedCredentialData:
    """L3 §6.5.1."""

    aaguid: bytes
    credential_id: bytes
    credential_public_key: bytes


@dataclass
class AuthenticatorData:
    """L3 §6.1."""

    rp_id_hash: bytes
    flags: AuthenticatorDataFlags
    sign_count: int
    attested_credential_data: AttestedCredentialData | None = None
    extensions: bytes | None = None


@dataclass
class PublicKeyCredentialRequestOptions:
    """L3 §5.5 PublicKeyCredentialRequestOptions."""

    challenge: bytes
    timeout: int | None = None
    rp_id: str | None = None
    allow_credentials: list[PublicKeyCredentialDescriptor] | None = None
    user_verification: UserVerificationRequirement | None = UserVerificationRequirement.PREFERRED


@dataclass
class AuthenticatorAssertionResponse:
    """L3 §5.2.2, decoded from its JSON form."""

    client_data_json: bytes
    authenticator_data: bytes
    signature: bytes
    user_handle: bytes | None = None


@dataclass
class AuthenticationCredential:
    """L3 §5.1 PublicKeyCredential returned by get(), decoded from its JSON form."""

    id: str
    raw_id: bytes
    response: AuthenticatorAssertionResponse
    authenticator_attachment: AuthenticatorAttachment | None = None
    type: Literal[PublicKeyCredentialType.PUBLIC_KEY] = PublicKeyCredentialType.PUBLIC_KEY


@dataclass
class AttestationObject:
    """L3 §6.5: fmt, authData, attStmt, decoded."""

    fmt: AttestationFormat
    auth_data: AuthenticatorData
    att_stmt: AttestationStatement = field(default_factory=AttestationStatement)
