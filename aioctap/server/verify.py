"""Sans-IO WebAuthn verification: ``verify_registration`` (L3 §7.1) and ``verify_authentication`` (§7.2).

Both take the credential as the browser's ``toJSON()`` form (a dict or a JSON string), like
py_webauthn, and raise one :class:`~aioctap.server.errors.VerificationError` subclass per failed
check, with a message that names it.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from .. import cbor
from ..cose import CoseError, CoseKey
from ..webauthn import Aaguid, AuthenticatorData, CollectedClientData, WebAuthnDataError, websafe_decode
from .attestation import AttestationResult, AttestationType, TrustAnchors, verify_attestation
from .errors import (
    AttestationError,
    BackupFlagsError,
    ChallengeMismatchError,
    ClientDataTypeError,
    CredentialIdError,
    CrossOriginError,
    InvalidSignatureError,
    MalformedResponseError,
    OriginMismatchError,
    RpIdHashMismatchError,
    SignCountError,
    UnsupportedAlgorithmError,
    UserPresenceError,
    UserVerificationError,
)

__all__ = [
    "AuthenticationResult",
    "RegistrationResult",
    "parse_credential",
    "verify_authentication",
    "verify_registration",
]

DEFAULT_ALGORITHMS = (-7, -8, -35, -36, -37, -257)
MAX_CREDENTIAL_ID = 1023


@dataclass(frozen=True)
class RegistrationResult:
    """A verified registration: what to store for the credential."""

    credential_id: bytes
    credential_public_key: bytes  # COSE_Key, CBOR encoded
    sign_count: int
    aaguid: Aaguid
    fmt: str
    attestation_type: AttestationType
    trust_path: tuple[Any, ...]
    attestation_trusted: bool
    user_verified: bool
    user_present: bool
    backup_eligible: bool
    backup_state: bool
    transports: tuple[str, ...]
    extensions: dict[str, Any] | None
    alg: int


@dataclass(frozen=True)
class AuthenticationResult:
    """A verified assertion."""

    credential_id: bytes
    new_sign_count: int
    user_verified: bool
    user_present: bool
    backup_eligible: bool
    backup_state: bool
    user_handle: bytes | None
    possible_clone: bool = False
    extensions: dict[str, Any] | None = None


def parse_credential(credential: Mapping[str, Any] | str | bytes) -> dict[str, Any]:
    """The credential JSON as a dict; :class:`MalformedResponseError` if it is not a PublicKeyCredential."""
    if isinstance(credential, str | bytes):
        try:
            credential = json.loads(credential)
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
            raise MalformedResponseError("credential is not valid JSON") from None
    if not isinstance(credential, Mapping):
        raise MalformedResponseError("credential must be a JSON object")
    if credential.get("type") != "public-key":
        raise MalformedResponseError("credential.type must be 'public-key'")
    if not isinstance(credential.get("response"), Mapping):
        raise MalformedResponseError("credential.response must be an object")
    return dict(credential)


def _b64(obj: Mapping[str, Any], name: str, where: str = "response", required: bool = True) -> bytes | None:
    value = obj.get(name)
    if value is None:
        if required:
            raise MalformedResponseError(f"{where}.{name} is missing")
        return None
    try:
        return websafe_decode(value)
    except WebAuthnDataError:
        raise MalformedResponseError(f"{where}.{name} is not valid base64url") from None


def _ids(credential: Mapping[str, Any]) -> bytes:
    raw_id = _b64(credential, "rawId", "credential")
    assert raw_id is not None
    cid = credential.get("id")
    if not isinstance(cid, str):
        raise MalformedResponseError("credential.id is missing or not a string")
    try:
        same = websafe_decode(cid) == raw_id
    except WebAuthnDataError:
        raise MalformedResponseError("credential.id is not valid base64url") from None
    if not same:
        raise CredentialIdError("credential.id does not match credential.rawId")
    return raw_id


def _check_client_data(
    raw: bytes,
    expected_type: str,
    expected_challenge: bytes,
    expected_origin: str | Sequence[str],
    allow_cross_origin: bool,
) -> CollectedClientData:
    try:
        client_data = CollectedClientData(raw)
    except WebAuthnDataError as e:
        raise MalformedResponseError(f"clientDataJSON: {e}") from None
    if client_data.type != expected_type:
        raise ClientDataTypeError(f"clientDataJSON.type is {client_data.type!r}, expected {expected_type!r}")
    if not hmac.compare_digest(client_data.challenge, expected_challenge):
        raise ChallengeMismatchError("clientDataJSON.challenge does not match the expected challenge")
    origins = [expected_origin] if isinstance(expected_origin, str) else list(expected_origin)
    if client_data.origin not in origins:
        raise OriginMismatchError(f"clientDataJSON.origin {client_data.origin!r} is not an expected origin")
    if (client_data.cross_origin or client_data.top_origin is not None) and not allow_cross_origin:
        raise CrossOriginError("the ceremony ran in a cross-origin iframe, which this relying party does not allow")
    return client_data


@lru_cache(maxsize=64)
def _rp_hash(rp_id: str) -> bytes:
    return hashlib.sha256(rp_id.encode("utf-8")).digest()


def _check_auth_data(
    auth_data: AuthenticatorData, expected_rp_id: str | Iterable[str], require_uv: bool, require_up: bool
) -> None:
    rp_ids = [expected_rp_id] if isinstance(expected_rp_id, str) else list(expected_rp_id)
    if not any(hmac.compare_digest(auth_data.rp_id_hash, _rp_hash(r)) for r in rp_ids):
        raise RpIdHashMismatchError("authenticatorData.rpIdHash is not SHA-256 of the expected RP ID")
    if require_up and not auth_data.is_user_present():
        raise UserPresenceError("the authenticator did not report user presence (UP flag)")
    if require_uv and not auth_data.is_user_verified():
        raise UserVerificationError("user verification is required but the UV flag is not set")
    if auth_data.is_backed_up() and not auth_data.is_backup_eligible():
        raise BackupFlagsError("the BS flag is set while BE is not")


def verify_registration(
    credential: Mapping[str, Any] | str | bytes,
    *,
    expected_challenge: bytes,
    expected_origin: str | Sequence[str],
    expected_rp_id: str,
    require_user_verification: bool = False,
    require_user_presence: bool = True,
    trust_anchors: TrustAnchors | None = None,
    now: datetime.datetime | None = None,
    supported_algorithms: Sequence[int] = DEFAULT_ALGORITHMS,
    allow_cross_origin: bool = False,
) -> RegistrationResult:
    """Verify a registration response (WebAuthn L3 §7.1 "Registering a New Credential")."""
    cred = parse_credential(credential)
    raw_id = _ids(cred)
    response = cred["response"]
    client_data_raw = _b64(response, "clientDataJSON")
    att_obj_raw = _b64(response, "attestationObject")
    assert client_data_raw is not None and att_obj_raw is not None
    client_data = _check_client_data(
        client_data_raw, "webauthn.create", expected_challenge, expected_origin, allow_cross_origin
    )
    try:
        att_obj = cbor.loads(att_obj_raw, strict=False)
    except cbor.CborError as e:
        raise MalformedResponseError(f"attestationObject is not valid CBOR: {e}") from None
    if not isinstance(att_obj, dict):
        raise MalformedResponseError("attestationObject must be a CBOR map")
    fmt, att_stmt, auth_data_raw = att_obj.get("fmt"), att_obj.get("attStmt"), att_obj.get("authData")
    if not isinstance(fmt, str) or not isinstance(att_stmt, dict) or not isinstance(auth_data_raw, bytes):
        raise MalformedResponseError("attestationObject needs text fmt, map attStmt and byte-string authData")
    try:
        auth_data = AuthenticatorData(auth_data_raw)
    except WebAuthnDataError as e:
        raise MalformedResponseError(f"authenticatorData: {e}") from None
    _check_auth_data(auth_data, expected_rp_id, require_user_verification, require_user_presence)
    cred_data = auth_data.credential_data
    if cred_data is None:
        raise MalformedResponseError("authenticatorData has no attested credential data (AT flag)")
    if len(cred_data.credential_id) > MAX_CREDENTIAL_ID:
        raise CredentialIdError(f"credential ID longer than {MAX_CREDENTIAL_ID} bytes")
    if cred_data.credential_id != raw_id:
        raise CredentialIdError("the attested credential ID differs from credential.rawId")
    alg = cred_data.public_key.get(3)
    if alg not in supported_algorithms or alg not in CoseKey.supported_algorithms():
        raise UnsupportedAlgorithmError(f"credential public key algorithm {alg} is not accepted")
    try:
        att: AttestationResult = verify_attestation(
            fmt, att_stmt, auth_data, client_data.hash, trust_anchors=trust_anchors, now=now
        )
    except AttestationError:
        raise
    except (ValueError, TypeError, KeyError) as e:  # defensive: a format parser must never leak these
        raise AttestationError(f"attestation statement is malformed: {type(e).__name__}") from None
    transports = response.get("transports") or []
    if not isinstance(transports, list) or not all(isinstance(t, str) for t in transports):
        raise MalformedResponseError("response.transports must be an array of strings")
    return RegistrationResult(
        credential_id=cred_data.credential_id,
        credential_public_key=cbor.dumps(dict(cred_data.public_key)),
        sign_count=auth_data.counter,
        aaguid=cred_data.aaguid,
        fmt=fmt,
        attestation_type=att.type,
        trust_path=att.trust_path,
        attestation_trusted=att.trusted,
        user_verified=auth_data.is_user_verified(),
        user_present=auth_data.is_user_present(),
        backup_eligible=auth_data.is_backup_eligible(),
        backup_state=auth_data.is_backed_up(),
        transports=tuple(transports),
        extensions=auth_data.extensions,
        alg=int(alg),
    )


@lru_cache(maxsize=4096)
def _parse_key(cose: bytes) -> CoseKey:
    return CoseKey.from_bytes(cose)


def verify_authentication(
    credential: Mapping[str, Any] | str | bytes,
    *,
    expected_challenge: bytes,
    expected_origin: str | Sequence[str],
    expected_rp_id: str | Sequence[str],
    credential_public_key: bytes | CoseKey,
    credential_current_sign_count: int,
    require_user_verification: bool = False,
    require_user_presence: bool = True,
    allow_cross_origin: bool = False,
    reject_possible_clone: bool = True,
) -> AuthenticationResult:
    """Verify an assertion (WebAuthn L3 §7.2 "Verifying an Authentication Assertion").

    A signature counter that does not increase while either side is non-zero is a possible clone:
    rejected with :class:`SignCountError` (default), or flagged in ``possible_clone``.
    """
    cred = parse_credential(credential)
    raw_id = _ids(cred)
    response = cred["response"]
    client_data_raw = _b64(response, "clientDataJSON")
    auth_data_raw = _b64(response, "authenticatorData")
    signature = _b64(response, "signature")
    user_handle = _b64(response, "userHandle", required=False)
    assert client_data_raw is not None and auth_data_raw is not None and signature is not None
    _check_client_data(client_data_raw, "webauthn.get", expected_challenge, expected_origin, allow_cross_origin)
    try:
        auth_data = AuthenticatorData(auth_data_raw)
    except WebAuthnDataError as e:
        raise MalformedResponseError(f"authenticatorData: {e}") from None
    _check_auth_data(auth_data, expected_rp_id, require_user_verification, require_user_presence)
    try:
        key = (
            credential_public_key
            if isinstance(credential_public_key, CoseKey)
            else _parse_key(bytes(credential_public_key))
        )
    except CoseError as e:
        raise MalformedResponseError(f"stored credential public key is invalid: {e}") from None
    try:
        key.verify(auth_data_raw + hashlib.sha256(client_data_raw).digest(), signature)
    except CoseError:
        raise InvalidSignatureError("the assertion signature does not verify with the credential public key") from None
    new_count = auth_data.counter
    clone = (new_count != 0 or credential_current_sign_count != 0) and new_count <= credential_current_sign_count
    if clone and reject_possible_clone:
        raise SignCountError(
            f"signature counter {new_count} did not increase past {credential_current_sign_count}: possible clone"
        )
    return AuthenticationResult(
        credential_id=raw_id,
        new_sign_count=new_count,
        user_verified=auth_data.is_user_verified(),
        user_present=auth_data.is_user_present(),
        backup_eligible=auth_data.is_backup_eligible(),
        backup_state=auth_data.is_backed_up(),
        user_handle=user_handle,
        possible_clone=clone,
        extensions=auth_data.extensions,
    )
