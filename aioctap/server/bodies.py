"""The request and response bodies of the ``/fido2`` API, each declared once (FIDO conformance-server shape,
WebAuthn L3 §5.4 and §5.5 for the option dictionaries): the declarations validate what the handlers receive,
shape what they answer, and generate ``/openapi.json`` (:mod:`aioctap.server.openapi`)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import ConfigDict, Discriminator, Field, GetJsonSchemaHandler, Tag, TypeAdapter
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from ..webapi import Body, pattern_meaning

__all__ = [
    "REGISTRATION_ONLY",
    "Account",
    "AttestationOptionsRequest",
    "AuthenticationExtensionsClientInputs",
    "AuthenticatorSelectionCriteria",
    "CeremonyResult",
    "CredentialList",
    "CredentialRename",
    "CredentialSummary",
    "HmacGetSecret",
    "PublicKeyCredentialDescriptor",
    "ServerAuthenticatorAssertionResponse",
    "ServerAuthenticatorAttestationResponse",
    "ServerPublicKeyCredential",
    "ServerPublicKeyCredentialCreationOptionsRequest",
    "ServerPublicKeyCredentialCreationOptionsResponse",
    "ServerPublicKeyCredentialGetOptionsRequest",
    "ServerPublicKeyCredentialGetOptionsResponse",
    "ServerResponse",
    "is_authentication_request",
]

MAX_NAME = 256  # user names and display names
MAX_CREDENTIAL_NAME = 64

# base64url, with or without padding (what aioctap.webauthn.websafe_decode reads, minus its stray-padding quirks)
B64URL = pattern_meaning(
    r"^(?:[A-Za-z0-9_-]{4})*(?:[A-Za-z0-9_-]{2}(?:==?)?|[A-Za-z0-9_-]{3}=?)?$", "must be a base64url string"
)
SALT = pattern_meaning(r"^[A-Za-z0-9_-]{43}=?$", "must be 32 bytes, base64url (43 characters)")
# a user name (WebAuthn L3 §5.4.3: PRECIS UsernameCasePreserved, RFC 8265): no control character (C0, DEL, C1), no
# invisible formatting character (soft hyphen, bidi marks, overrides and isolates, zero-width characters, BOM), no
# white space at either end: none can make a name that displays like another's
_NOT_IN_NAME = r"\x00-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff"
USERNAME = pattern_meaning(
    rf"^(?:[^\s{_NOT_IN_NAME}](?:[^{_NOT_IN_NAME}]*[^\s{_NOT_IN_NAME}])?)?$",
    "must not contain control characters or invisible formatting characters, nor begin or end with white space",
)
# free text (display names, a credential's name): no C0, DEL or C1 control character, and no bidi embedding, override
# or isolate (U+202A-U+202E, U+2066-U+2069): one left open reorders the text shown after the name ("Trojan Source",
# CVE-2021-42574); PRECIS FreeformClass (RFC 8264, WebAuthn L3 §5.4.3's Nickname profile) disallows them too
TEXT = pattern_meaning(
    r"^[^\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]*$",
    "must not contain control characters nor bidi embeddings, overrides or isolates",
)

Base64Url = Annotated[str, Field(pattern=B64URL, description="base64url (unpadded in answers)")]
CredentialId = Annotated[str, Field(min_length=1, pattern=B64URL, description="base64url, not empty")]
UserVerification = Literal["required", "preferred", "discouraged"]
Transports = list[str]


class ServerResponse(Body):
    """Every answer of the API: ``status`` ok with an empty ``errorMessage``, or failed saying what was wrong."""

    status: Literal["ok", "failed"]
    errorMessage: str = Field(description="empty when status is ok, says what was wrong otherwise")


class HmacGetSecret(Body):
    """The hmacGetSecret extension's input (CTAP 2.1 §12.5): one or two 32-byte salts."""

    salt1: Annotated[str, Field(pattern=SALT)]
    salt2: Annotated[str, Field(pattern=SALT)] | None = None


class AuthenticationExtensionsClientInputs(Body):
    """Client extension inputs (WebAuthn L3 §5.7.1, the conformance API's list); other extensions pass through."""

    model_config = ConfigDict(extra="allow")

    appid: str | None = None
    appidExclude: str | None = None
    uvm: bool | None = None
    credProps: bool | None = None
    credentialProtectionPolicy: (
        Literal[
            "userVerificationOptional",
            "userVerificationOptionalWithCredentialIDList",
            "userVerificationRequired",
        ]
        | None
    ) = None
    enforceCredentialProtectionPolicy: bool | None = None
    hmacCreateSecret: bool | None = None
    hmacGetSecret: HmacGetSecret | None = None


class AuthenticatorSelectionCriteria(Body):
    """WebAuthn L3 §5.4.4."""

    authenticatorAttachment: Literal["platform", "cross-platform"] | None = None
    requireResidentKey: bool | None = None
    residentKey: Literal["discouraged", "preferred", "required"] | None = None
    userVerification: UserVerification | None = None


class ServerPublicKeyCredentialCreationOptionsRequest(Body):
    """Start a registration (the conformance API's ServerPublicKeyCredentialCreationOptionsRequest)."""

    username: Annotated[str, Field(min_length=1, max_length=MAX_NAME, pattern=USERNAME)]
    displayName: Annotated[str, Field(max_length=MAX_NAME, pattern=TEXT)] | None = None
    authenticatorSelection: AuthenticatorSelectionCriteria | None = None
    attestation: Literal["none", "indirect", "direct", "enterprise"] | None = None
    extensions: AuthenticationExtensionsClientInputs | None = None


class ServerPublicKeyCredentialGetOptionsRequest(Body):
    """Start an authentication; an empty or absent ``username`` asks for a discoverable-credential sign-in."""

    username: Annotated[str, Field(max_length=MAX_NAME, pattern=USERNAME)] | None = None
    userVerification: UserVerification | None = None
    extensions: AuthenticationExtensionsClientInputs | None = None


# /fido2/attestation/options also starts an authentication (as nevisFIDO does): a body with none of these members
REGISTRATION_ONLY = ("displayName", "authenticatorSelection", "attestation")


def is_authentication_request(data: object) -> bool:
    """True when a body sent to /fido2/attestation/options asks for an authentication: it names none of
    the registration-only members (``displayName``, ``authenticatorSelection``, ``attestation``)."""
    return isinstance(data, dict) and not any(name in data for name in REGISTRATION_ONLY)


def _options_kind(data: object) -> str:
    return "@authentication" if is_authentication_request(data) else "@registration"


class _TellsByRegistrationMembers:
    """The JSON Schema of the union below says what its discriminator does: a creation request names at least one
    registration-only member, a get request none (so a body is valid under exactly one branch)."""

    def __get_pydantic_json_schema__(self, schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        out = handler(schema)
        registration, authentication = out.pop("oneOf")
        names_one = {"anyOf": [{"required": [name]} for name in REGISTRATION_ONLY]}
        names_none = {"properties": {name: False for name in REGISTRATION_ONLY}}
        out["oneOf"] = [{"allOf": [registration, names_one]}, {"allOf": [authentication, names_none]}]
        return out


AttestationOptionsRequest: TypeAdapter[
    ServerPublicKeyCredentialCreationOptionsRequest | ServerPublicKeyCredentialGetOptionsRequest
] = TypeAdapter(
    Annotated[
        Annotated[ServerPublicKeyCredentialCreationOptionsRequest, Tag("@registration")]
        | Annotated[ServerPublicKeyCredentialGetOptionsRequest, Tag("@authentication")],
        Discriminator(_options_kind),
        _TellsByRegistrationMembers(),
    ]
)
"""The body of /fido2/attestation/options: a creation request, or a get request (see is_authentication_request)."""


class ServerAuthenticatorAttestationResponse(Body):
    """AuthenticatorAttestationResponse in JSON (WebAuthn L3 §5.2.1)."""

    clientDataJSON: Base64Url
    attestationObject: Base64Url
    transports: Transports | None = None


class ServerAuthenticatorAssertionResponse(Body):
    """AuthenticatorAssertionResponse in JSON (WebAuthn L3 §5.2.2)."""

    clientDataJSON: Base64Url
    authenticatorData: Base64Url
    signature: Base64Url
    userHandle: Base64Url | None = None


class ServerPublicKeyCredential(Body):
    """A registration's or an authentication's PublicKeyCredential in JSON (``rawId`` defaults to ``id``)."""

    id: CredentialId
    rawId: CredentialId | None = None
    type: Literal["public-key"]
    response: ServerAuthenticatorAttestationResponse | ServerAuthenticatorAssertionResponse
    getClientExtensionResults: dict[str, object] | None = None
    clientExtensionResults: dict[str, object] | None = None
    fido2SessionId: str | None = Field(
        default=None, description="the session of the options response (or the fido2-session cookie)"
    )


class PublicKeyCredentialDescriptor(Body):
    """WebAuthn L3 §5.8.3."""

    type: Literal["public-key"]
    id: Base64Url
    transports: Transports | None = None


class PublicKeyCredentialRpEntity(Body):
    """WebAuthn L3 §5.4.2."""

    id: str | None = None
    name: str


class PublicKeyCredentialUserEntity(Body):
    """WebAuthn L3 §5.4.3."""

    id: Base64Url
    name: str
    displayName: str


class PublicKeyCredentialParameters(Body):
    """WebAuthn L3 §5.3."""

    type: Literal["public-key"]
    alg: int


class ServerPublicKeyCredentialCreationOptionsResponse(ServerResponse):
    """PublicKeyCredentialCreationOptions in JSON, with the ceremony's session id."""

    rp: PublicKeyCredentialRpEntity
    user: PublicKeyCredentialUserEntity
    challenge: Base64Url
    pubKeyCredParams: list[PublicKeyCredentialParameters]
    timeout: int | None = Field(default=None, description="milliseconds")
    excludeCredentials: list[PublicKeyCredentialDescriptor] | None = None
    authenticatorSelection: AuthenticatorSelectionCriteria | None = None
    attestation: str | None = None
    extensions: AuthenticationExtensionsClientInputs | None = None
    fido2SessionId: str = Field(description="references the ceremony state; single use")


class ServerPublicKeyCredentialGetOptionsResponse(ServerResponse):
    """PublicKeyCredentialRequestOptions in JSON, with the ceremony's session id."""

    challenge: Base64Url
    timeout: int | None = Field(default=None, description="milliseconds")
    rpId: str | None = None
    allowCredentials: list[PublicKeyCredentialDescriptor] | None = None
    userVerification: UserVerification | None = None
    extensions: AuthenticationExtensionsClientInputs | None = None
    fido2SessionId: str = Field(description="references the ceremony state; single use")


class CeremonyResult(ServerResponse):
    """A completed registration or authentication: whose, and which credential."""

    username: str
    credentialId: Base64Url


class CredentialSummary(Body):
    """What a credential's owner sees of it (no public key, no counter)."""

    id: Base64Url
    name: Annotated[str, Field(max_length=MAX_CREDENTIAL_NAME)]
    created: float | None = Field(description="seconds since the epoch")
    lastUsed: float | None = Field(description="seconds since the epoch")
    aaguid: str
    transports: Transports
    backupEligible: bool
    backupState: bool


class CredentialList(ServerResponse):
    """The signed-in user's passkeys."""

    credentials: list[CredentialSummary]


class Account(ServerResponse):
    """The signed-in user: user name, display name and passkeys."""

    username: str
    displayName: str
    credentials: list[CredentialSummary]


class CredentialRename(Body):
    """A passkey's new name (empty: no name)."""

    name: Annotated[str, Field(max_length=MAX_CREDENTIAL_NAME, pattern=TEXT)]
