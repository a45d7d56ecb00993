"""WebAuthn Level 3 data model shared by the client, the relying party and the software authenticator.

Binary structures (§6.1 authenticator data, §6.5.1 attested credential data) parse from bytes
with :class:`WebAuthnDataError` for anything malformed. The JSON (``toJSON``) forms of the
options and credentials live further down in this module.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import struct
import uuid
from collections.abc import Mapping
from dataclasses import FrozenInstanceError
from enum import IntFlag, StrEnum, unique
from typing import Self, overload

from . import cbor
from ._redact import redact
from .cose import ES256, CoseError, CoseKey

__all__ = [
    "Aaguid",
    "AttestationConveyancePreference",
    "AttestationObject",
    "AttestedCredentialData",
    "AuthenticationExtensionsClientOutputs",
    "AuthenticationResponse",
    "AuthenticationResponseJSON",
    "AuthenticatorAssertionResponse",
    "AuthenticatorAssertionResponseJSON",
    "AuthenticatorAttachment",
    "AuthenticatorAttestationResponse",
    "AuthenticatorAttestationResponseJSON",
    "AuthenticatorData",
    "AuthenticatorSelectionCriteria",
    "AuthenticatorTransport",
    "CollectedClientData",
    "CredentialCreationOptions",
    "CredentialIdLengthError",
    "CredentialRequestOptions",
    "JSONValue",
    "PublicKeyCredentialCreationOptions",
    "PublicKeyCredentialCreationOptionsJSON",
    "PublicKeyCredentialDescriptor",
    "PublicKeyCredentialDescriptorJSON",
    "PublicKeyCredentialHint",
    "PublicKeyCredentialParameters",
    "PublicKeyCredentialRequestOptions",
    "PublicKeyCredentialRequestOptionsJSON",
    "PublicKeyCredentialRpEntity",
    "PublicKeyCredentialType",
    "PublicKeyCredentialUserEntity",
    "PublicKeyCredentialUserEntityJSON",
    "RegistrationResponse",
    "RegistrationResponseJSON",
    "ResidentKeyRequirement",
    "UserVerificationRequirement",
    "WebAuthnDataError",
    "websafe_decode",
    "websafe_encode",
]


class WebAuthnDataError(ValueError):
    """WebAuthn data (authenticator data, client data, base64url, JSON member) is malformed."""


class CredentialIdLengthError(WebAuthnDataError):
    """An attested credential ID is longer than the 1023 bytes WebAuthn allows (L3 §7.1 step 24)."""


def websafe_encode(data: bytes) -> str:
    """base64url without padding (RFC 4648 §5), as WebAuthn JSON uses."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def websafe_decode(data: str | bytes) -> bytes:
    """Decode base64url with or without padding; :class:`WebAuthnDataError` on bad input."""
    if not isinstance(data, str):
        if not isinstance(data, bytes):
            raise WebAuthnDataError(f"expected a base64url string, got {type(data).__name__}")
        try:
            data = data.decode("ascii")
        except UnicodeDecodeError:
            raise WebAuthnDataError("base64url value is not ASCII") from None
    # One C-level pass (this runs several times per assertion): "-_" become "+/", while "+/" themselves,
    # not base64url, become "!" so that strict a2b_base64 rejects them along with any other stray character,
    # misplaced padding and impossible lengths.
    try:
        raw = (data + _PAD[len(data) & 3]).encode("ascii").translate(_URL_TO_STD)
        return binascii.a2b_base64(raw, strict_mode=True)
    except (binascii.Error, ValueError):
        raise WebAuthnDataError("value is not valid base64url") from None


_PAD = ("", "", "==", "=")
_URL_TO_STD = bytes.maketrans(b"-_+/", b"+/!!")


class Aaguid(bytes):
    """The 16-byte Authenticator Attestation GUID."""

    NONE: Aaguid

    def __new__(cls, data: bytes) -> Aaguid:
        if len(data) != 16:
            raise WebAuthnDataError(f"AAGUID must be 16 bytes, got {len(data)}")
        return super().__new__(cls, data)

    def __bool__(self) -> bool:
        return self != b"\0" * 16

    def __str__(self) -> str:
        return str(uuid.UUID(bytes=bytes(self)))

    def __repr__(self) -> str:
        return f"Aaguid({str(self)!r})"

    @classmethod
    def parse(cls, value: str) -> Aaguid:
        """From the UUID string form."""
        try:
            return cls(uuid.UUID(value).bytes)
        except ValueError:
            raise WebAuthnDataError(f"not a UUID: {value!r}") from None


Aaguid.NONE = Aaguid(b"\0" * 16)


_ATTESTED_HEAD = struct.Struct(">16sH")  # aaguid, credentialIdLength


class AttestedCredentialData(bytes):
    """§6.5.1: aaguid || credentialIdLength (u16) || credentialId || credentialPublicKey (COSE).

    As python-fido2's, the encoded bytes with parsed members: ``AttestedCredentialData(data)`` parses them (all of
    ``data``; bad bytes raise :class:`WebAuthnDataError`, a ``ValueError``), and
    ``AttestedCredentialData(aaguid, credential_id, public_key)`` encodes the members. Immutable; equal when the
    bytes are.
    """

    aaguid: Aaguid
    credential_id: bytes
    public_key: CoseKey

    @overload
    def __new__(cls, data: bytes, /) -> AttestedCredentialData: ...
    @overload
    def __new__(cls, aaguid: bytes, credential_id: bytes, public_key: CoseKey) -> AttestedCredentialData: ...
    def __new__(
        cls, aaguid: bytes, credential_id: bytes | None = None, public_key: CoseKey | None = None
    ) -> AttestedCredentialData:
        if credential_id is None and public_key is None:
            if not isinstance(aaguid, bytes | bytearray | memoryview):
                raise WebAuthnDataError(f"attested credential data must be bytes, got {type(aaguid).__name__}")
            parsed, rest = cls.unpack_from(aaguid)
            if rest:
                raise WebAuthnDataError(f"{len(rest)} unexpected trailing bytes after the attested credential data")
            return parsed
        if credential_id is None or public_key is None:
            raise TypeError("AttestedCredentialData takes its bytes or aaguid, credential_id and public_key")
        if len(credential_id) > 0xFFFF:
            raise CredentialIdLengthError(f"credential ID of {len(credential_id)} bytes does not fit its length")
        aaguid = aaguid if isinstance(aaguid, Aaguid) else Aaguid(aaguid)
        data = aaguid + struct.pack(">H", len(credential_id)) + credential_id + cbor.dumps(dict(public_key))
        return cls._of(data, aaguid, bytes(credential_id), public_key)

    @classmethod
    def _of(cls, data: bytes, aaguid: Aaguid, credential_id: bytes, public_key: CoseKey) -> AttestedCredentialData:
        obj = bytes.__new__(cls, data)
        obj.__dict__.update(aaguid=aaguid, credential_id=credential_id, public_key=public_key)
        return obj

    def __setattr__(self, name: str, value: object) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}")

    def __repr__(self) -> str:
        return (
            f"AttestedCredentialData(aaguid={self.aaguid!r}, credential_id={self.credential_id!r}, "
            f"public_key={self.public_key!r})"
        )

    __str__ = __repr__  # not bytes' own str()

    @classmethod
    def create(cls, aaguid: bytes, credential_id: bytes, public_key: CoseKey) -> AttestedCredentialData:
        """Build from its parts (WebAuthn L3 §6.5.1): AAGUID, credential ID and COSE public key."""
        return cls(Aaguid(aaguid), credential_id, public_key)

    @classmethod
    def from_ctap1(cls, key_handle: bytes, public_key: bytes) -> AttestedCredentialData:
        """From a U2F registration (FIDO U2F Raw Message Formats §4.3): zero AAGUID, the key handle as credential
        ID, the 65-byte uncompressed P-256 point as an ES256 COSE key (WebAuthn L3 §8.6 step 3)."""
        return cls(Aaguid.NONE, key_handle, ES256.from_raw(public_key))

    @classmethod
    def unpack_from(cls, data: bytes) -> tuple[AttestedCredentialData, bytes]:
        """Parse from the start of ``data``; return it and the remaining bytes."""
        if len(data) < 18:
            raise WebAuthnDataError("attested credential data shorter than 18 bytes")
        aaguid, cred_len = _ATTESTED_HEAD.unpack_from(data)
        end = 18 + cred_len
        if len(data) < end:
            raise WebAuthnDataError("credential ID runs past the end of the attested credential data")
        if cred_len > 1023:
            raise CredentialIdLengthError(f"credential ID of {cred_len} bytes exceeds 1023")
        try:
            key_obj, rest = cbor.decode_from(data[end:], strict=False)
            key = CoseKey.parse(key_obj)
        except (cbor.CborError, CoseError) as e:
            raise WebAuthnDataError(f"invalid credential public key: {e}") from None
        # the AAGUID is 16 bytes by construction: skip Aaguid's own length check
        size = len(data) - len(rest)
        return cls._of(data[:size], bytes.__new__(Aaguid, aaguid), bytes(data[18:end]), key), rest


_AUTH_DATA_HEAD = struct.Struct(">32sBI")  # rpIdHash, flags, signCount


class AuthenticatorData(bytes):
    """§6.1 authenticator data: rpIdHash (32) || flags (1) || signCount (u32) || [attested cred] || [ext]."""

    class FLAG(IntFlag):
        """The flags byte's bits (WebAuthn L3 §6.1): UP, UV, BE, BS, AT, ED."""

        UP = 0x01
        UV = 0x04
        BE = 0x08
        BS = 0x10
        AT = 0x40
        ED = 0x80

        # python-fido2 aliases
        USER_PRESENT = 0x01
        USER_VERIFIED = 0x04
        BACKUP_ELIGIBILITY = 0x08
        BACKUP_STATE = 0x10
        ATTESTED = 0x40
        EXTENSION_DATA = 0x80

    rp_id_hash: bytes
    flags: int
    counter: int
    credential_data: AttestedCredentialData | None
    extensions: dict[str, object] | None

    def __new__(cls, data: bytes) -> AuthenticatorData:
        if type(data) is not bytes and not isinstance(data, bytes | bytearray | memoryview):
            # (bytes(37) would be 37 zero bytes: valid-looking authenticator data)
            raise WebAuthnDataError(f"authenticator data must be a byte string, got {type(data).__name__}")
        obj = super().__new__(cls, data)
        size = len(obj)
        if size < 37:
            raise WebAuthnDataError(f"authenticator data must be at least 37 bytes, got {size}")
        # the fixed head in one unpack (this runs for every assertion, on both sides)
        rp_id_hash, flags, counter = _AUTH_DATA_HEAD.unpack_from(obj)
        obj.rp_id_hash = rp_id_hash
        obj.flags = flags
        obj.counter = counter
        obj.credential_data = None
        obj.extensions = None
        if not flags & 0xC0:  # neither AT nor ED (plain ints: IntFlag arithmetic is slow on the assertion path)
            if size != 37:
                raise WebAuthnDataError(f"{size - 37} unexpected trailing bytes in authenticator data")
            return obj
        rest = obj[37:]
        if flags & 0x40:  # AT
            obj.credential_data, rest = AttestedCredentialData.unpack_from(rest)
        if flags & 0x80:  # ED
            try:
                ext, rest = cbor.decode_from(rest, strict=False)
            except cbor.CborError as e:
                raise WebAuthnDataError(f"invalid extensions in authenticator data: {e}") from None
            if not isinstance(ext, dict) or not all(isinstance(k, str) for k in ext):
                raise WebAuthnDataError("authenticator data extensions must be a map with text keys")
            obj.extensions = ext
        if rest:
            raise WebAuthnDataError(f"{len(rest)} unexpected trailing bytes in authenticator data")
        return obj

    @classmethod
    def create(
        cls,
        rp_id_hash: bytes,
        flags: int,
        counter: int,
        credential_data: bytes | AttestedCredentialData = b"",
        extensions: Mapping[str, object] | None = None,
    ) -> AuthenticatorData:
        """Build authenticator data; AT/ED flags must agree with what is given."""
        data = rp_id_hash + struct.pack(">BI", flags, counter) + bytes(credential_data)
        if extensions is not None:
            data += cbor.dumps(extensions)
        return cls(data)

    def is_user_present(self) -> bool:
        """The UP flag (WebAuthn L3 §6.1): the user was present."""
        return bool(self.flags & 0x01)

    def is_user_verified(self) -> bool:
        """The UV flag (WebAuthn L3 §6.1): the user was verified."""
        return bool(self.flags & 0x04)

    def is_backup_eligible(self) -> bool:
        """The BE flag (WebAuthn L3 §6.1): the credential may be backed up (a multi-device credential)."""
        return bool(self.flags & 0x08)

    def is_backed_up(self) -> bool:
        """The BS flag (WebAuthn L3 §6.1): the credential is backed up now."""
        return bool(self.flags & 0x10)

    def is_attested(self) -> bool:
        """The AT flag (WebAuthn L3 §6.1): attested credential data follows the counter."""
        return bool(self.flags & 0x40)

    def has_extension_data(self) -> bool:
        """The ED flag (WebAuthn L3 §6.1): extension outputs (a CBOR map) end the data."""
        return bool(self.flags & 0x80)

    def __repr__(self) -> str:
        return (
            f"AuthenticatorData(rp_id_hash={self.rp_id_hash.hex()}, flags=0x{self.flags:02x}, "
            f"counter={self.counter}, credential_data={self.credential_data!r}, "
            f"extensions={redact(self.extensions)!r})"  # a getAssertion's credBlob output is the blob itself
        )

    __str__ = __repr__  # not bytes' own str(), which shows the raw bytes (a credBlob output among them)


class CollectedClientData(bytes):
    """§5.8.1 client data: the exact JSON bytes, with parsed members."""

    class TYPE(StrEnum):
        """The ``type`` member's values (WebAuthn L3 §5.8.1)."""

        CREATE = "webauthn.create"
        GET = "webauthn.get"

    type: str
    challenge: bytes
    origin: str
    cross_origin: bool
    top_origin: str | None
    data: dict[str, JSONValue]

    def __new__(cls, data: bytes) -> CollectedClientData:
        obj = super().__new__(cls, data)
        try:
            parsed = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as e:
            raise WebAuthnDataError(f"clientDataJSON is not valid UTF-8 JSON: {e}") from None
        if not isinstance(parsed, dict):
            raise WebAuthnDataError("clientDataJSON must be a JSON object")
        for member in ("type", "challenge", "origin"):
            if not isinstance(parsed.get(member), str):
                raise WebAuthnDataError(f"clientDataJSON member {member!r} missing or not a string")
        cross = parsed.get("crossOrigin", False)
        if not isinstance(cross, bool):
            raise WebAuthnDataError("clientDataJSON member 'crossOrigin' must be a boolean")
        top = parsed.get("topOrigin")
        if top is not None and not isinstance(top, str):
            raise WebAuthnDataError("clientDataJSON member 'topOrigin' must be a string")
        obj.type = parsed["type"]
        obj.challenge = websafe_decode(parsed["challenge"])
        obj.origin = parsed["origin"]
        obj.cross_origin = cross
        obj.top_origin = top
        obj.data = parsed
        return obj

    @classmethod
    def create(
        cls, type: str, challenge: bytes | str, origin: str, cross_origin: bool = False, **kwargs: JSONValue
    ) -> CollectedClientData:
        """Serialize as a browser does (members in the order of §5.8.1.1); a str challenge is already base64url."""
        members: dict[str, JSONValue] = {
            "type": type,
            "challenge": challenge if isinstance(challenge, str) else websafe_encode(challenge),
            "origin": origin,
            "crossOrigin": cross_origin,
        }
        members.update(kwargs)
        return cls(json.dumps(members, separators=(",", ":")).encode())

    @property
    def b64(self) -> str:
        """The JSON bytes as base64url (the clientDataJSON member of a response's JSON form)."""
        return websafe_encode(self)

    @property
    def hash(self) -> bytes:
        """SHA-256 of the JSON bytes (clientDataHash)."""
        return hashlib.sha256(self).digest()

    def __repr__(self) -> str:
        return f"CollectedClientData({bytes(self).decode('utf-8', 'replace')!r})"


# WebAuthn's DOMString enumerations (python-fido2's names; py_webauthn's structs use them too)
class _StringEnum(StrEnum):
    """A WebAuthn DOMString enumeration (§2.1.1): ``str(member)`` is its value."""

    @classmethod
    def parse(cls, value: object) -> Self | None:
        """The member for ``value``, or None for a value this version does not know (ignored, as the spec says)."""
        try:
            return cls(value)  # type: ignore[arg-type]  # any value: an unknown one is None
        except ValueError:
            return None


@unique
class AttestationConveyancePreference(_StringEnum):
    """§5.4.7."""

    NONE = "none"
    INDIRECT = "indirect"
    DIRECT = "direct"
    ENTERPRISE = "enterprise"


@unique
class UserVerificationRequirement(_StringEnum):
    """§5.8.6."""

    REQUIRED = "required"
    PREFERRED = "preferred"
    DISCOURAGED = "discouraged"


@unique
class ResidentKeyRequirement(_StringEnum):
    """§5.4.6."""

    REQUIRED = "required"
    PREFERRED = "preferred"
    DISCOURAGED = "discouraged"


@unique
class AuthenticatorAttachment(_StringEnum):
    """§5.4.5."""

    PLATFORM = "platform"
    CROSS_PLATFORM = "cross-platform"


@unique
class AuthenticatorTransport(_StringEnum):
    """§5.8.4."""

    USB = "usb"
    NFC = "nfc"
    BLE = "ble"
    SMART_CARD = "smart-card"
    HYBRID = "hybrid"
    INTERNAL = "internal"


@unique
class PublicKeyCredentialType(_StringEnum):
    """§5.8.2."""

    PUBLIC_KEY = "public-key"


@unique
class PublicKeyCredentialHint(_StringEnum):
    """§5.8.7."""

    SECURITY_KEY = "security-key"
    CLIENT_DEVICE = "client-device"
    HYBRID = "hybrid"


# python-fido2's dictionaries (their module imports the binary types above)
from ._json import JSONValue  # noqa: E402
from ._webauthn_types import (  # noqa: E402
    AttestationObject,
    AuthenticationExtensionsClientOutputs,
    AuthenticationResponse,
    AuthenticationResponseJSON,
    AuthenticatorAssertionResponse,
    AuthenticatorAssertionResponseJSON,
    AuthenticatorAttestationResponse,
    AuthenticatorAttestationResponseJSON,
    AuthenticatorSelectionCriteria,
    CredentialCreationOptions,
    CredentialRequestOptions,
    PublicKeyCredentialCreationOptions,
    PublicKeyCredentialCreationOptionsJSON,
    PublicKeyCredentialDescriptor,
    PublicKeyCredentialDescriptorJSON,
    PublicKeyCredentialParameters,
    PublicKeyCredentialRequestOptions,
    PublicKeyCredentialRequestOptionsJSON,
    PublicKeyCredentialRpEntity,
    PublicKeyCredentialUserEntity,
    PublicKeyCredentialUserEntityJSON,
    RegistrationResponse,
    RegistrationResponseJSON,
)
