"""py_webauthn's ``parse_registration_options_json`` and ``parse_authentication_options_json``: options kept as
JSON (:func:`options_to_json`, e.g. in a session store) back into :mod:`.structs` (WebAuthn L3 §5.4, §5.5).

A missing or mistyped member is :class:`InvalidJSONStructure` (where py_webauthn would let a ``KeyError`` or
``AttributeError`` out for some shapes, this says which member is wrong)."""

from __future__ import annotations

import binascii
from collections.abc import Mapping
from enum import Enum
from typing import TypeVar

from .exceptions import InvalidAuthenticationOptions, InvalidJSONStructure, InvalidRegistrationOptions
from .helpers import JSONValue, _load_json, _string, base64url_to_bytes
from .structs import (
    AttestationConveyancePreference,
    AuthenticatorAttachment,
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    COSEAlgorithmIdentifier,
    PublicKeyCredentialCreationOptions,
    PublicKeyCredentialDescriptor,
    PublicKeyCredentialHint,
    PublicKeyCredentialParameters,
    PublicKeyCredentialRequestOptions,
    PublicKeyCredentialRpEntity,
    PublicKeyCredentialUserEntity,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

__all__ = ["parse_authentication_options_json", "parse_registration_options_json"]

_E = TypeVar("_E", bound=Enum)
_ALGS = frozenset(int(a) for a in COSEAlgorithmIdentifier)


def _enum(kind: type[_E], value: JSONValue, what: str, verb: str = "was") -> _E:
    try:
        return kind(value)
    except ValueError:
        raise InvalidJSONStructure(f"Options {what} {verb} invalid value") from None


def _timeout(value: JSONValue) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _descriptors(value: JSONValue, what: str) -> list[PublicKeyCredentialDescriptor] | None:
    if not isinstance(value, list):
        return None
    out = []
    for cred in value:
        if not isinstance(cred, Mapping):
            raise InvalidJSONStructure(f"Options {what} entry missing required id")
        descriptor = PublicKeyCredentialDescriptor(id=base64url_to_bytes(_string(cred, "id", f"Options {what} entry")))
        transports = cred.get("transports")
        if transports is not None:
            if not isinstance(transports, list):
                raise InvalidJSONStructure(f"Options {what} entry transports was not list")
            descriptor.transports = [
                _enum(AuthenticatorTransport, t, f"{what} entry transports", "had") for t in transports
            ]
        out.append(descriptor)
    return out


def _selection(value: JSONValue) -> AuthenticatorSelectionCriteria | None:
    if not isinstance(value, Mapping):
        return None
    attachment, resident_key = value.get("authenticatorAttachment"), value.get("residentKey")
    require, uv = value.get("requireResidentKey"), value.get("userVerification")
    if require is not None and not isinstance(require, bool):
        raise InvalidJSONStructure("Options authenticatorSelection requireResidentKey was invalid boolean")
    return AuthenticatorSelectionCriteria(
        authenticator_attachment=None
        if attachment is None
        else _enum(AuthenticatorAttachment, attachment, "authenticatorSelection attachment"),
        resident_key=None
        if resident_key is None
        else _enum(ResidentKeyRequirement, resident_key, "authenticatorSelection residentKey"),
        require_resident_key=bool(require),
        user_verification=UserVerificationRequirement.PREFERRED
        if uv is None
        else _enum(UserVerificationRequirement, uv, "authenticatorSelection userVerification"),
    )


def parse_registration_options_json(
    json_val: str | bytes | Mapping[str, JSONValue],
) -> PublicKeyCredentialCreationOptions:
    """:func:`options_to_json`'s output for creation options, back into :class:`PublicKeyCredentialCreationOptions`."""
    data = _load_json(json_val, "options", "Options were")
    rp, user = data.get("rp"), data.get("user")
    if not isinstance(rp, Mapping):
        raise InvalidJSONStructure("Options missing required rp")
    rp_id = rp.get("id")
    if rp_id is not None and not isinstance(rp_id, str):
        raise InvalidJSONStructure("Options rp.id present but not string")
    rp_name = _string(rp, "name", "Options rp")
    if not isinstance(user, Mapping):
        raise InvalidJSONStructure("Options missing required user")
    user_id = _string(user, "id", "Options user")
    user_name = _string(user, "name", "Options user")
    display_name = _string(user, "displayName", "Options user")
    attestation = _enum(AttestationConveyancePreference, _string(data, "attestation", "Options"), "attestation")
    selection = _selection(data.get("authenticatorSelection"))
    challenge = _string(data, "challenge", "Options")
    params = data.get("pubKeyCredParams")
    if not isinstance(params, list):
        raise InvalidJSONStructure("Options pubKeyCredParams was invalid value")
    algs = []
    for param in params:
        alg = param.get("alg") if isinstance(param, Mapping) else None
        if not isinstance(alg, int) or isinstance(alg, bool) or alg not in _ALGS:
            raise InvalidJSONStructure("Options pubKeyCredParams entry had invalid alg")
        algs.append(COSEAlgorithmIdentifier(alg))
    hints = data.get("hints")
    if hints is not None and not isinstance(hints, list):
        raise InvalidJSONStructure("Options hints was invalid value")
    try:
        return PublicKeyCredentialCreationOptions(
            rp=PublicKeyCredentialRpEntity(id=rp_id, name=rp_name),
            user=PublicKeyCredentialUserEntity(
                id=base64url_to_bytes(user_id), name=user_name, display_name=display_name
            ),
            attestation=attestation,
            authenticator_selection=selection,
            challenge=base64url_to_bytes(challenge),
            pub_key_cred_params=[PublicKeyCredentialParameters(type="public-key", alg=alg) for alg in algs],
            exclude_credentials=_descriptors(data.get("excludeCredentials"), "excludeCredentials"),
            timeout=_timeout(data.get("timeout")),
            hints=None if hints is None else [_enum(PublicKeyCredentialHint, h, "hints", "had") for h in hints],
        )
    except (binascii.Error, ValueError) as e:
        raise InvalidRegistrationOptions(f"Could not parse registration options from JSON data: {e}") from e


def parse_authentication_options_json(
    json_val: str | bytes | Mapping[str, JSONValue],
) -> PublicKeyCredentialRequestOptions:
    """:func:`options_to_json`'s output for request options, back into :class:`PublicKeyCredentialRequestOptions`."""
    data = _load_json(json_val, "options", "Options were")
    challenge = _string(data, "challenge", "Options")
    rp_id = data.get("rpId")
    uv = _string(data, "userVerification", "Options")
    try:
        return PublicKeyCredentialRequestOptions(
            challenge=base64url_to_bytes(challenge),
            timeout=_timeout(data.get("timeout")),
            rp_id=rp_id if isinstance(rp_id, str) else None,
            user_verification=_enum(UserVerificationRequirement, uv, "userVerification"),
            allow_credentials=_descriptors(data.get("allowCredentials"), "allowCredentials"),
        )
    except (binascii.Error, ValueError) as e:
        raise InvalidAuthenticationOptions(f"Could not parse authentication options from JSON data: {e}") from e
