"""py_webauthn's helpers: base64url, AAGUID text, random challenges and user handles, backup flags,
options to JSON, and the credentials' JSON forms parsed into :mod:`.structs` (WebAuthn L3 §5.1 toJSON)."""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from ...webauthn import JSONValue, websafe_encode
from .exceptions import (
    InvalidAuthenticationResponse,
    InvalidBackupFlags,
    InvalidJSONStructure,
    InvalidRegistrationResponse,
)
from .structs import (
    AuthenticationCredential,
    AuthenticatorAssertionResponse,
    AuthenticatorAttachment,
    AuthenticatorAttestationResponse,
    AuthenticatorDataFlags,
    AuthenticatorTransport,
    CredentialDeviceType,
    PublicKeyCredentialCreationOptions,
    PublicKeyCredentialDescriptor,
    PublicKeyCredentialRequestOptions,
    PublicKeyCredentialType,
    RegistrationCredential,
)

__all__ = [
    "JSONValue",
    "ParsedBackupFlags",
    "aaguid_to_string",
    "base64url_to_bytes",
    "bytes_to_base64url",
    "generate_challenge",
    "generate_user_handle",
    "options_to_json",
    "options_to_json_dict",
    "parse_authentication_credential_json",
    "parse_backup_flags",
    "parse_registration_credential_json",
]


def base64url_to_bytes(val: str) -> bytes:
    """Decode base64url (RFC 4648 §5) as py_webauthn does: padding optional, standard base64's "+/" read too,
    other characters skipped (``urlsafe_b64decode`` without validation). aioctap's own verification
    (:func:`aioctap.server.verify_registration`) is strict instead."""
    return base64.urlsafe_b64decode(f"{val}===")


def bytes_to_base64url(val: bytes) -> str:
    """base64url without padding, as WebAuthn's JSON forms write binary members."""
    return websafe_encode(bytes(val))


def aaguid_to_string(val: bytes) -> str:
    """An AAGUID (L3 §6.5.1) as its UUID text, e.g. ``"adce0002-35bc-c60a-648b-0b25f1f05503"``."""
    if len(val) != 16:
        raise ValueError(f"AAGUID was {len(val)} bytes, expected 16 bytes")
    return str(uuid.UUID(bytes=bytes(val)))


def generate_challenge() -> bytes:
    """64 random bytes (L3 §13.4.3: at least 16)."""
    return secrets.token_bytes(64)


def generate_user_handle() -> bytes:
    """64 random bytes, the user handle L3 §14.6.1 recommends."""
    return secrets.token_bytes(64)


@dataclass
class ParsedBackupFlags:
    """The BE and BS flags as py_webauthn reports them."""

    credential_device_type: CredentialDeviceType
    credential_backed_up: bool


def parse_backup_flags(flags: AuthenticatorDataFlags) -> ParsedBackupFlags:
    """BE set: a multi-device credential; BS without BE is :class:`InvalidBackupFlags` (L3 §6.1.3)."""
    device_type = CredentialDeviceType.MULTI_DEVICE if flags.be else CredentialDeviceType.SINGLE_DEVICE
    if not flags.be and flags.bs:
        raise InvalidBackupFlags(
            "Single-device credential indicated that it was backed up, which should be impossible."
        )
    return ParsedBackupFlags(device_type, flags.bs)


def _descriptor(cred: PublicKeyCredentialDescriptor, encode: Callable[[bytes], str]) -> dict[str, JSONValue]:
    out: dict[str, JSONValue] = {"id": encode(cred.id), "type": cred.type.value}
    if cred.transports:
        out["transports"] = [t.value for t in cred.transports]
    return out


def options_to_json_dict(
    options: PublicKeyCredentialCreationOptions | PublicKeyCredentialRequestOptions,
    bytes_encoder: Callable[[bytes], str] = bytes_to_base64url,
) -> dict[str, JSONValue]:
    """The options as the JSON dict of L3 §5.1.8/§5.1.9 (parseCreationOptionsFromJSON's input), py_webauthn's layout."""
    if isinstance(options, PublicKeyCredentialCreationOptions):
        rp: dict[str, JSONValue] = {"name": options.rp.name}
        if options.rp.id:
            rp["id"] = options.rp.id
        reg: dict[str, JSONValue] = {
            "rp": rp,
            "user": {
                "id": bytes_encoder(options.user.id),
                "name": options.user.name,
                "displayName": options.user.display_name,
            },
            "challenge": bytes_encoder(options.challenge),
            "pubKeyCredParams": [{"type": p.type, "alg": int(p.alg)} for p in options.pub_key_cred_params],
        }
        if options.timeout is not None:
            reg["timeout"] = options.timeout
        if options.exclude_credentials is not None:
            reg["excludeCredentials"] = [_descriptor(c, bytes_encoder) for c in options.exclude_credentials]
        if options.authenticator_selection is not None:
            sel = options.authenticator_selection
            selection: dict[str, JSONValue] = {}
            if sel.authenticator_attachment is not None:
                selection["authenticatorAttachment"] = sel.authenticator_attachment.value
            if sel.resident_key is not None:
                selection["residentKey"] = sel.resident_key.value
            if sel.require_resident_key is not None:
                selection["requireResidentKey"] = sel.require_resident_key
            if sel.user_verification is not None:
                selection["userVerification"] = sel.user_verification.value
            reg["authenticatorSelection"] = selection
        if options.attestation is not None:
            reg["attestation"] = options.attestation.value
        if options.hints is not None:
            reg["hints"] = [h.value for h in options.hints]
        return reg
    if isinstance(options, PublicKeyCredentialRequestOptions):
        auth: dict[str, JSONValue] = {"challenge": bytes_encoder(options.challenge)}
        if options.timeout is not None:
            auth["timeout"] = options.timeout
        if options.rp_id is not None:
            auth["rpId"] = options.rp_id
        if options.allow_credentials is not None:
            auth["allowCredentials"] = [_descriptor(c, bytes_encoder) for c in options.allow_credentials]
        if options.user_verification:
            auth["userVerification"] = options.user_verification.value
        return auth
    raise TypeError(
        "Options was not instance of PublicKeyCredentialCreationOptions or PublicKeyCredentialRequestOptions"
    )


def options_to_json(options: PublicKeyCredentialCreationOptions | PublicKeyCredentialRequestOptions) -> str:
    """:func:`options_to_json_dict` as a JSON string (for ``PublicKeyCredential.parse*OptionsFromJSON``)."""
    return json.dumps(options_to_json_dict(options))


def _load_json(
    json_val: str | bytes | Mapping[str, JSONValue], what: str = "credential", not_object: str = "Credential was"
) -> Mapping[str, JSONValue]:
    """``json_val`` (JSON text or already a mapping) as a mapping; :class:`InvalidJSONStructure` otherwise."""
    if isinstance(json_val, str | bytes):
        try:
            json_val = json.loads(json_val)
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
            raise InvalidJSONStructure(f"Unable to decode {what} as JSON") from None
    if not isinstance(json_val, Mapping):
        raise InvalidJSONStructure(f"{not_object} not a JSON object")
    return json_val


def _string(obj: Mapping[str, JSONValue], name: str, where: str) -> str:
    """``obj[name]`` if it is a string; else :class:`InvalidJSONStructure`: "``where`` missing required ``name``"."""
    value = obj.get(name)
    if not isinstance(value, str):
        raise InvalidJSONStructure(f"{where} missing required {name}")
    return value


def _common(data: Mapping[str, JSONValue]) -> tuple[str, str, Mapping[str, JSONValue], str]:
    cred_id = _string(data, "id", "Credential")
    raw_id = _string(data, "rawId", "Credential")
    response = data.get("response")
    if not isinstance(response, Mapping):
        raise InvalidJSONStructure("Credential missing required response")
    return cred_id, raw_id, response, _string(response, "clientDataJSON", "Credential response")


def _type_and_attachment(data: Mapping[str, JSONValue]) -> AuthenticatorAttachment | None:
    if data.get("type") != PublicKeyCredentialType.PUBLIC_KEY.value:
        raise InvalidJSONStructure("Credential had unexpected type")
    attachment = data.get("authenticatorAttachment")
    if not isinstance(attachment, str):
        return None
    try:
        return AuthenticatorAttachment(attachment)
    except ValueError:
        raise InvalidJSONStructure("Credential had unexpected authenticatorAttachment") from None


def parse_registration_credential_json(json_val: str | bytes | Mapping[str, JSONValue]) -> RegistrationCredential:
    """create()'s credential in its JSON form (L3 §5.1 RegistrationResponseJSON) as a :class:`RegistrationCredential`.

    A missing or mistyped member is :class:`InvalidJSONStructure`; a member that is not base64url
    :class:`InvalidRegistrationResponse`. Unknown transports are dropped (L3 §5.8.4: clients ignore them too).
    """
    data = _load_json(json_val)
    cred_id, raw_id, response, client_data = _common(data)
    attestation_object = _string(response, "attestationObject", "Credential response")
    attachment = _type_and_attachment(data)
    transports: list[AuthenticatorTransport] | None = None
    listed = response.get("transports")
    if isinstance(listed, list):
        transports = [AuthenticatorTransport(t) for t in listed if t in _TRANSPORTS]
    try:
        return RegistrationCredential(
            id=cred_id,
            raw_id=base64url_to_bytes(raw_id),
            response=AuthenticatorAttestationResponse(
                client_data_json=base64url_to_bytes(client_data),
                attestation_object=base64url_to_bytes(attestation_object),
                transports=transports,
            ),
            authenticator_attachment=attachment,
        )
    except (binascii.Error, ValueError) as e:
        raise InvalidRegistrationResponse(f"Could not parse registration credential from JSON data: {e}") from e


_TRANSPORTS = frozenset(t.value for t in AuthenticatorTransport)


def parse_authentication_credential_json(
    json_val: str | bytes | Mapping[str, JSONValue],
) -> AuthenticationCredential:
    """get()'s credential in its JSON form (L3 §5.1 AuthenticationResponseJSON) as an AuthenticationCredential."""
    data = _load_json(json_val)
    cred_id, raw_id, response, client_data = _common(data)
    authenticator_data = _string(response, "authenticatorData", "Credential response")
    signature = _string(response, "signature", "Credential response")
    attachment = _type_and_attachment(data)
    user_handle = response.get("userHandle")
    if user_handle is not None and not isinstance(user_handle, str):
        raise InvalidJSONStructure("Credential response had unexpected userHandle")
    try:
        return AuthenticationCredential(
            id=cred_id,
            raw_id=base64url_to_bytes(raw_id),
            response=AuthenticatorAssertionResponse(
                client_data_json=base64url_to_bytes(client_data),
                authenticator_data=base64url_to_bytes(authenticator_data),
                signature=base64url_to_bytes(signature),
                user_handle=None if user_handle is None else base64url_to_bytes(user_handle),
            ),
            authenticator_attachment=attachment,
        )
    except (binascii.Error, ValueError) as e:
        raise InvalidAuthenticationResponse(f"Could not parse authentication credential from JSON data: {e}") from e
