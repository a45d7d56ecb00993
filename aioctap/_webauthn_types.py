"""WebAuthn L3 dictionaries as python-fido2's ``fido2.webauthn`` dataclasses (re-exported by :mod:`aioctap.webauthn`).

Each dataclass is also a read-only ``Mapping`` in its WebAuthn JSON form (camelCase member names, byte strings
as base64url), so ``dict(options)`` is what a browser's ``PublicKeyCredential.parseCreationOptionsFromJSON``
takes, and ``Cls.from_dict(json_dict)`` reads that form back (L3 §5.1.8, §5.1.9, §5.1.10). Unknown enumeration
values are treated as missing, as WebAuthn says of every DOMString enumeration (§2.1.1).
"""

from __future__ import annotations

import dataclasses
import hashlib
import types
import typing
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol, Required, Self, TypedDict, get_type_hints

from . import cbor
from ._json import JSONValue
from ._redact import hide, redact
from .webauthn import (
    AttestationConveyancePreference,
    AttestedCredentialData,
    AuthenticatorAttachment,
    AuthenticatorData,
    AuthenticatorTransport,
    CollectedClientData,
    PublicKeyCredentialHint,
    PublicKeyCredentialType,
    ResidentKeyRequirement,
    UserVerificationRequirement,
    WebAuthnDataError,
    _StringEnum,
    websafe_decode,
    websafe_encode,
)


# The JSON forms of L3 §5.1.8-§5.1.10 (``parseCreationOptionsFromJSON``'s input, ``toJSON()``'s output): byte
# strings are base64url, enumerations their strings.
class _RpEntityJSON(TypedDict, total=False):
    id: str
    name: Required[str]


class PublicKeyCredentialUserEntityJSON(TypedDict):
    """§5.4.3 ``PublicKeyCredentialUserEntityJSON``."""

    id: str
    name: str
    displayName: str


class PublicKeyCredentialDescriptorJSON(TypedDict, total=False):
    """§5.8.3 ``PublicKeyCredentialDescriptorJSON``."""

    id: Required[str]
    type: Required[str]
    transports: list[str]


class _CredentialParametersJSON(TypedDict):
    type: str
    alg: int


class _AuthenticatorSelectionJSON(TypedDict, total=False):
    authenticatorAttachment: str
    residentKey: str
    requireResidentKey: bool
    userVerification: str


class PublicKeyCredentialCreationOptionsJSON(TypedDict, total=False):
    """§5.1.8 ``PublicKeyCredentialCreationOptionsJSON``: ``navigator.credentials.create()``'s ``publicKey``."""

    rp: Required[_RpEntityJSON]
    user: Required[PublicKeyCredentialUserEntityJSON]
    challenge: Required[str]
    pubKeyCredParams: Required[list[_CredentialParametersJSON]]
    timeout: int
    excludeCredentials: list[PublicKeyCredentialDescriptorJSON]
    authenticatorSelection: _AuthenticatorSelectionJSON
    hints: list[str]
    attestation: str
    attestationFormats: list[str]
    extensions: dict[str, JSONValue]


class PublicKeyCredentialRequestOptionsJSON(TypedDict, total=False):
    """§5.1.9 ``PublicKeyCredentialRequestOptionsJSON``: ``navigator.credentials.get()``'s ``publicKey``."""

    challenge: Required[str]
    timeout: int
    rpId: str
    allowCredentials: list[PublicKeyCredentialDescriptorJSON]
    userVerification: str
    hints: list[str]
    extensions: dict[str, JSONValue]


class AuthenticatorAttestationResponseJSON(TypedDict, total=False):
    """§5.2.1 ``AuthenticatorAttestationResponseJSON``."""

    clientDataJSON: Required[str]
    authenticatorData: Required[str]
    transports: Required[list[str]]
    publicKey: str
    publicKeyAlgorithm: Required[int]
    attestationObject: Required[str]


class AuthenticatorAssertionResponseJSON(TypedDict, total=False):
    """§5.2.2 ``AuthenticatorAssertionResponseJSON``."""

    clientDataJSON: Required[str]
    authenticatorData: Required[str]
    signature: Required[str]
    userHandle: str
    attestationObject: str


class _PublicKeyCredentialJSON(TypedDict, total=False):
    id: Required[str]
    rawId: Required[str]
    authenticatorAttachment: str
    clientExtensionResults: Required[dict[str, object]]
    type: Required[str]


class RegistrationResponseJSON(_PublicKeyCredentialJSON, total=False):
    """§5.1 ``RegistrationResponseJSON``: ``navigator.credentials.create()``'s credential, ``toJSON()``-ed."""

    response: Required[AuthenticatorAttestationResponseJSON]


class AuthenticationResponseJSON(_PublicKeyCredentialJSON, total=False):
    """§5.1 ``AuthenticationResponseJSON``: ``navigator.credentials.get()``'s credential, ``toJSON()``-ed."""

    response: Required[AuthenticatorAssertionResponseJSON]


class _U2fRegistration(Protocol):
    """A CTAP1 registration's members (:class:`aioctap.ctap1.RegistrationData`)."""

    public_key: bytes
    key_handle: bytes
    certificate: bytes
    signature: bytes


def _camel(name: str) -> str:
    first, *rest = name.split("_")
    return first + "".join(p.title() for p in rest)


def _optional_inner(t: Any) -> Any:
    """``X`` for ``X | None``; ``t`` otherwise."""
    if isinstance(t, types.UnionType) or typing.get_origin(t) is typing.Union:
        args = [a for a in typing.get_args(t) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return t


def _nested_deeper(value: object, limit: int = cbor.MAX_DEPTH) -> bool:
    """Whether JSON-like ``value`` has containers nested more than ``limit`` deep (checked without recursion: what
    passes can be walked recursively, as item access and repr do)."""
    level = [value]
    for _ in range(limit + 1):
        level = [
            v
            for c in level
            if isinstance(c, Mapping | list | tuple)
            for v in (c.values() if isinstance(c, Mapping) else c)
        ]
        if not level:
            return False
    return True


def _parse_value(t: Any, value: Any) -> Any:
    """``value`` (JSON form or already the right type) as the annotated type ``t``."""
    t = _optional_inner(t)
    if t is Any or t is object:
        return value
    origin = typing.get_origin(t)
    if origin is not None and isinstance(origin, type):
        if issubclass(origin, Mapping):
            if not isinstance(value, Mapping):
                raise TypeError(f"expected an object, got {type(value).__name__}")
            key_t, value_t = typing.get_args(t)
            return {_parse_value(key_t, k): _parse_value(value_t, v) for k, v in value.items()}
        if issubclass(origin, Sequence):
            if isinstance(value, str | bytes) or not isinstance(value, Sequence):
                raise TypeError(f"expected a list, got {type(value).__name__}")
            (item_t,) = typing.get_args(t)
            return [_parse_value(item_t, v) for v in value]
    if not isinstance(t, type):
        return value
    if isinstance(value, t):
        return value
    if issubclass(t, AuthenticationExtensionsClientOutputs) and isinstance(value, Mapping):
        if _nested_deeper(value):  # a browser's JSON: item access and repr walk it recursively
            raise ValueError(f"extension outputs nested deeper than {cbor.MAX_DEPTH} levels")
        return t(value)
    if issubclass(t, _StringEnum):
        return t.parse(value)
    if issubclass(t, bytes):
        raw = websafe_decode(value) if isinstance(value, str) else value
        if not isinstance(raw, bytes | bytearray | memoryview):
            raise TypeError(f"expected bytes or base64url, got {type(value).__name__}")
        return t(bytes(raw))
    if issubclass(t, _JsonDataObject):
        return t.from_dict(value)
    raise TypeError(f"expected {t.__name__}, got {type(value).__name__}")


def _json_value(value: Any) -> Any:
    """A member's JSON form: base64url for bytes, dicts for data objects and mappings, lists for sequences."""
    if isinstance(value, _StringEnum):
        return value.value
    if isinstance(value, bytes):
        return websafe_encode(value)
    if isinstance(value, Mapping):
        return {k: _json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_value(v) for v in value]
    return value


class _JsonDataObject(Mapping[str, Any]):
    """A frozen dataclass whose members are also a Mapping in their WebAuthn JSON form (python-fido2's shape).

    Attribute access gives the rich values (bytes, enums, nested dataclasses); item access the JSON form.
    """

    __dataclass_fields__: ClassVar[dict[str, dataclasses.Field[Any]]]

    def __post_init__(self) -> None:
        hints = get_type_hints(type(self))
        for f in dataclasses.fields(self):
            value = getattr(self, f.name, None)
            if value is None or not f.init:
                continue
            try:
                parsed = _parse_value(hints[f.name], value)
            except (TypeError, ValueError, KeyError, WebAuthnDataError) as e:
                raise ValueError(f"{type(self).__name__}.{f.name}: {e}") from None
            object.__setattr__(self, f.name, parsed)

    def __repr__(self) -> str:  # used by the subclasses declared with repr=False (those that may hold a secret)
        members = ", ".join(
            f"{f.name}={hide(self._key(f), getattr(self, f.name, None))!r}" for f in dataclasses.fields(self) if f.repr
        )
        return f"{type(self).__name__}({members})"

    @classmethod
    def _key(cls, f: dataclasses.Field[Any]) -> str:
        return str(f.metadata.get("name") or _camel(f.name))

    def _members(self) -> dict[str, Any]:
        return {
            self._key(f): getattr(self, f.name)
            for f in dataclasses.fields(self)
            if getattr(self, f.name, None) is not None
        }

    def __iter__(self) -> Iterator[str]:
        return iter(self._members())

    def __len__(self) -> int:
        return len(self._members())

    def __getitem__(self, key: str) -> Any:
        return _json_value(self._members()[key])  # KeyError(key) for a member that is absent

    @classmethod
    def from_dict(cls, data: Mapping[str, object] | Self) -> Self:
        """Parse the JSON form (camelCase members, base64url byte strings); an instance is returned as it is."""
        if isinstance(data, cls):
            return data
        if not isinstance(data, Mapping):
            raise TypeError(f"{cls.__name__}.from_dict needs a mapping, got {type(data).__name__}")
        return cls._parse_from_dict(data)

    @classmethod
    def _parse_from_dict(cls, data: Mapping[str, object]) -> Self:
        fields = (f for f in dataclasses.fields(cls) if f.init)
        kwargs = {f.name: value for f in fields if (value := data.get(cls._key(f))) is not None}
        try:
            return cls(**kwargs)
        except TypeError as e:  # a required member missing
            raise ValueError(f"{cls.__name__}: {e}") from None


class AttestationObject(bytes):
    """The attestation object (WebAuthn L3 §6.5): CBOR ``{fmt, attStmt, authData}``, as bytes with parsed members."""

    fmt: str
    auth_data: AuthenticatorData
    att_stmt: Mapping[str, object]

    def __new__(cls, data: bytes) -> AttestationObject:
        obj = super().__new__(cls, data)
        try:
            decoded = cbor.loads(bytes(obj), strict=False)
        except cbor.CborError as e:
            raise WebAuthnDataError(f"attestation object is not valid CBOR: {e}") from None
        if not isinstance(decoded, dict):
            raise WebAuthnDataError("attestation object must be a CBOR map")
        fmt, auth_data, att_stmt = decoded.get("fmt"), decoded.get("authData"), decoded.get("attStmt")
        if not isinstance(fmt, str) or not isinstance(auth_data, bytes) or not isinstance(att_stmt, dict):
            raise WebAuthnDataError("attestation object needs fmt (text), authData (bytes) and attStmt (map)")
        obj.fmt = fmt
        obj.auth_data = AuthenticatorData(auth_data)
        obj.att_stmt = att_stmt
        return obj

    @classmethod
    def create(cls, fmt: str, auth_data: AuthenticatorData, att_stmt: Mapping[str, object]) -> AttestationObject:
        """Encode one from its members."""
        return cls(cbor.dumps({"fmt": fmt, "attStmt": dict(att_stmt), "authData": bytes(auth_data)}))

    @classmethod
    def from_ctap1(cls, app_param: bytes, registration: _U2fRegistration) -> AttestationObject:
        """A "fido-u2f" attestation object (WebAuthn L3 §8.6) from a CTAP1 registration for ``app_param``."""
        auth_data = AuthenticatorData.create(
            app_param,
            AuthenticatorData.FLAG.AT | AuthenticatorData.FLAG.UP,
            0,
            AttestedCredentialData.from_ctap1(registration.key_handle, registration.public_key),
        )
        return cls.create("fido-u2f", auth_data, {"x5c": [registration.certificate], "sig": registration.signature})

    def __repr__(self) -> str:
        return f"AttestationObject(fmt={self.fmt!r}, auth_data={self.auth_data!r}, att_stmt=...)"

    __str__ = __repr__


@dataclass(eq=False, frozen=True, kw_only=True)
class PublicKeyCredentialRpEntity(_JsonDataObject):
    """§5.4.2."""

    name: str
    id: str | None = None

    @property
    def id_hash(self) -> bytes | None:
        """SHA-256 of the RP ID (the authenticator data's rpIdHash), None without an id."""
        return hashlib.sha256(self.id.encode("utf-8")).digest() if self.id else None


@dataclass(eq=False, frozen=True, kw_only=True)
class PublicKeyCredentialUserEntity(_JsonDataObject):
    """§5.4.3 (name and displayName optional, as CTAP2 allows)."""

    name: str | None = None
    id: bytes
    display_name: str | None = None


@dataclass(eq=False, frozen=True, kw_only=True)
class PublicKeyCredentialParameters(_JsonDataObject):
    """§5.3."""

    type: PublicKeyCredentialType
    alg: int


@dataclass(eq=False, frozen=True, kw_only=True)
class PublicKeyCredentialDescriptor(_JsonDataObject):
    """§5.8.3."""

    type: PublicKeyCredentialType
    id: bytes
    transports: Sequence[AuthenticatorTransport] | None = None


@dataclass(eq=False, frozen=True, kw_only=True)
class AuthenticatorSelectionCriteria(_JsonDataObject):
    """§5.4.4: ``residentKey`` wins over ``requireResidentKey``, which is kept in step with it."""

    authenticator_attachment: AuthenticatorAttachment | None = None
    resident_key: ResidentKeyRequirement | None = None
    user_verification: UserVerificationRequirement | None = None
    require_resident_key: bool | None = False

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.resident_key is None:
            rk = ResidentKeyRequirement.REQUIRED if self.require_resident_key else ResidentKeyRequirement.DISCOURAGED
            object.__setattr__(self, "resident_key", rk)
        object.__setattr__(self, "require_resident_key", self.resident_key == ResidentKeyRequirement.REQUIRED)


@dataclass(eq=False, frozen=True, kw_only=True)
class PublicKeyCredentialCreationOptions(_JsonDataObject):
    """§5.4."""

    rp: PublicKeyCredentialRpEntity
    user: PublicKeyCredentialUserEntity
    challenge: bytes
    pub_key_cred_params: Sequence[PublicKeyCredentialParameters]
    timeout: int | None = None
    exclude_credentials: Sequence[PublicKeyCredentialDescriptor] | None = None
    authenticator_selection: AuthenticatorSelectionCriteria | None = None
    hints: Sequence[PublicKeyCredentialHint] | None = None
    attestation: AttestationConveyancePreference | None = None
    attestation_formats: Sequence[str] | None = None
    extensions: Mapping[str, object] | None = None


@dataclass(eq=False, frozen=True, kw_only=True)
class PublicKeyCredentialRequestOptions(_JsonDataObject):
    """§5.5."""

    challenge: bytes
    timeout: int | None = None
    rp_id: str | None = None
    allow_credentials: Sequence[PublicKeyCredentialDescriptor] | None = None
    user_verification: UserVerificationRequirement | None = None
    hints: Sequence[PublicKeyCredentialHint] | None = None
    extensions: Mapping[str, object] | None = None


@dataclass(eq=False, frozen=True, kw_only=True)
class AuthenticatorAttestationResponse(_JsonDataObject):
    """§5.2.1 (the members python-fido2 keeps: clientDataJSON and attestationObject)."""

    client_data: CollectedClientData = field(metadata={"name": "clientDataJSON"})
    attestation_object: AttestationObject


@dataclass(eq=False, frozen=True, kw_only=True)
class AuthenticatorAssertionResponse(_JsonDataObject):
    """§5.2.2."""

    client_data: CollectedClientData = field(metadata={"name": "clientDataJSON"})
    authenticator_data: AuthenticatorData
    signature: bytes
    user_handle: bytes | None = None


class _RichOutput(Mapping[str, Any]):
    """An extension output map read by attribute: ``.output1``, ``.results.first`` (bytes), ``.enabled``."""

    def __init__(self, members: Mapping[str, object]) -> None:
        self._members = dict(members)

    def __iter__(self) -> Iterator[str]:
        return iter(self._members)

    def __len__(self) -> int:
        return len(self._members)

    def __getitem__(self, key: str) -> Any:
        return _json_value(self._members[key])

    def __getattr__(self, key: str) -> Any:
        if key.startswith("_"):
            raise AttributeError(key)
        value = self._members.get(_camel(key))
        return _RichOutput(value) if isinstance(value, Mapping) and not isinstance(value, _JsonDataObject) else value

    def __repr__(self) -> str:
        return f"{type(self).__name__}({redact(dict(self))!r})"


class AuthenticationExtensionsClientOutputs(_RichOutput):
    """Client extension outputs (§5.1, ``getClientExtensionResults()``).

    Item access gives the JSON form (byte strings as base64url); attribute access, by snake_case name, the rich
    form python-fido2 gives: ``outputs.hmac_get_secret.output1`` is bytes, ``outputs.prf.results.first`` too.
    """

    def __init__(self, outputs: Mapping[str, object] | None = None) -> None:
        super().__init__({k: v for k, v in (outputs or {}).items() if v is not None})

    def __repr__(self) -> str:
        return repr(redact(dict(self)))


@dataclass(eq=False, frozen=True, kw_only=True)
class _PublicKeyCredential(_JsonDataObject):
    """§5.1 ``PublicKeyCredential``: what create() and get() share (the subclass narrows ``response``)."""

    id: str = field(init=False)
    raw_id: bytes
    response: _JsonDataObject
    authenticator_attachment: AuthenticatorAttachment | None = None
    client_extension_results: AuthenticationExtensionsClientOutputs = field(
        default_factory=AuthenticationExtensionsClientOutputs
    )
    type: PublicKeyCredentialType = PublicKeyCredentialType.PUBLIC_KEY

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "id", websafe_encode(self.raw_id))

    @classmethod
    def _parse_from_dict(cls, data: Mapping[str, object]) -> Self:
        # ``id`` must equal ``rawId`` (both base64url in the JSON form, §5.1.8)
        if "id" in data and data.get("id") != data.get("rawId"):
            raise ValueError("id does not match rawId")
        return super()._parse_from_dict(data)


@dataclass(eq=False, frozen=True, kw_only=True)
class RegistrationResponse(_PublicKeyCredential):
    """§5.1 ``PublicKeyCredential`` from create(), in its RegistrationResponseJSON shape (§5.1.8)."""

    response: AuthenticatorAttestationResponse


@dataclass(eq=False, frozen=True, kw_only=True)
class AuthenticationResponse(_PublicKeyCredential):
    """§5.1 ``PublicKeyCredential`` from get(), in its AuthenticationResponseJSON shape (§5.1.9)."""

    response: AuthenticatorAssertionResponse


@dataclass(eq=False, frozen=True, kw_only=True)
class CredentialCreationOptions(_JsonDataObject):
    """Credential Management's ``CredentialCreationOptions``: ``{"publicKey": ...}``."""

    public_key: PublicKeyCredentialCreationOptions


@dataclass(eq=False, frozen=True, kw_only=True)
class CredentialRequestOptions(_JsonDataObject):
    """Credential Management's ``CredentialRequestOptions``: ``{"publicKey": ...}``."""

    public_key: PublicKeyCredentialRequestOptions
