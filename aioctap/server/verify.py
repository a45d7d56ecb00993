"""Sans-IO WebAuthn verification: ``verify_registration`` (L3 §7.1) and ``verify_authentication`` (§7.2).

Both take the credential as the browser's ``toJSON()`` form (a dict or a JSON string), like
py_webauthn, and raise one :class:`~aioctap.server.errors.VerificationError` subclass per failed
check, with a message that names it.
"""

from __future__ import annotations

import binascii
import datetime
import hashlib
import hmac
import json
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, NamedTuple

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from .. import cbor
from ..cose import ES256, ES256K, ESP256, ESP384, ESP512, CoseError, CoseKey, Ed448, Ed25519
from ..webauthn import (
    _PAD,  # websafe_decode's tables: verify_authentication inlines it
    _URL_TO_STD,
    Aaguid,
    AuthenticatorData,
    CollectedClientData,
    CredentialIdLengthError,
    WebAuthnDataError,
    websafe_decode,
)
from .attestation import AttestationResult, AttestationType, TrustAnchors, verify_attestation
from .errors import (
    AttestationError,
    BackupFlagsError,
    ChallengeMismatchError,
    ClientDataTypeError,
    CredentialIdError,
    CrossOriginError,
    InvalidSignatureError,
    MalformedAttestationError,
    MalformedResponseError,
    OriginMismatchError,
    RpIdHashMismatchError,
    SignCountError,
    UnexpectedExtensionError,
    UnsupportedAlgorithmError,
    UntrustedAttestationError,
    UserHandleError,
    UserPresenceError,
    UserVerificationError,
)
from .mds import REJECTED_STATUSES, MetadataBlob

__all__ = [
    "AuthenticationResult",
    "RegistrationResult",
    "parse_credential",
    "verify_authentication",
    "verify_registration",
]

DEFAULT_ALGORITHMS = (-7, -8, -35, -36, -37, -257)
# what a relying party may offer: every algorithm aioctap.cose verifies (also the fully-specified ones, RFC 9864)
_VERIFIABLE = frozenset(
    (*CoseKey.supported_algorithms(), *(k.ALGORITHM for k in (ESP256, ESP384, ESP512, Ed25519, Ed448, ES256K)))
)
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
    trust_path: tuple[x509.Certificate, ...]
    attestation_trusted: bool
    user_verified: bool
    user_present: bool
    backup_eligible: bool
    backup_state: bool
    transports: tuple[str, ...]
    extensions: dict[str, object] | None
    alg: int
    attestation_object: bytes = b""  # the attestationObject as received, for later scrutiny

    @property
    def credential_type(self) -> str:
        """PublicKeyCredential.type: always "public-key" (L3 §5.8.2)."""
        return "public-key"

    @property
    def credential_device_type(self) -> str:
        """``"multi_device"`` when the credential may be backed up (BE, L3 §6.1.3), else ``"single_device"``."""
        return "multi_device" if self.backup_eligible else "single_device"

    @property
    def credential_backed_up(self) -> bool:
        """The BS flag: the credential is backed up now (L3 §6.1.3)."""
        return self.backup_state


class AuthenticationResult(NamedTuple):
    """A verified assertion (an immutable value; a NamedTuple because it is built once per sign-in and a
    frozen dataclass costs a few microseconds more on that hot path)."""

    credential_id: bytes
    new_sign_count: int
    user_verified: bool
    user_present: bool
    backup_eligible: bool
    backup_state: bool
    user_handle: bytes | None
    possible_clone: bool = False
    extensions: dict[str, object] | None = None

    @property
    def credential_device_type(self) -> str:
        """``"multi_device"`` when the credential may be backed up (BE, L3 §6.1.3), else ``"single_device"``."""
        return "multi_device" if self.backup_eligible else "single_device"

    @property
    def credential_backed_up(self) -> bool:
        """The BS flag: the credential is backed up now (L3 §6.1.3)."""
        return self.backup_state


def parse_credential(credential: Mapping[str, object] | str | bytes) -> Mapping[str, object]:
    """The credential JSON as a dict; :class:`MalformedResponseError` if it is not a PublicKeyCredential."""
    if isinstance(credential, (str, bytes)):
        try:
            credential = json.loads(credential)
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
            raise MalformedResponseError("credential is not valid JSON") from None
    # type(...) is dict first: an ABC isinstance check costs more than the rest of this function
    if type(credential) is not dict and not isinstance(credential, Mapping):
        raise MalformedResponseError("credential must be a JSON object")
    if credential.get("type") != "public-key":
        raise MalformedResponseError("credential.type must be 'public-key'")
    response = credential.get("response")
    if type(response) is not dict and not isinstance(response, Mapping):
        raise MalformedResponseError("credential.response must be an object")
    return credential


def _decode(value: Any, what: str) -> bytes:
    """``value`` decoded from base64url; :class:`MalformedResponseError` naming ``what`` if it is not that."""
    try:
        return websafe_decode(value)
    except WebAuthnDataError:
        raise MalformedResponseError(f"{what} is not valid base64url") from None


def _b64(obj: Mapping[str, Any], name: str, where: str = "response") -> bytes:
    value = obj.get(name)
    if value is None:
        raise MalformedResponseError(f"{where}.{name} is missing")
    return _decode(value, f"{where}.{name}")


def _ids(credential: Mapping[str, Any]) -> bytes:
    """credential.rawId, decoded, after checking that credential.id names the same bytes."""
    raw_str, cid = credential.get("rawId"), credential.get("id")
    if type(raw_str) is str and raw_str == cid:  # the usual case: one decode
        return _decode(raw_str, "credential.rawId")
    raw_id = _b64(credential, "rawId", "credential")
    if not isinstance(cid, str):
        raise MalformedResponseError("credential.id is missing or not a string")
    if _decode(cid, "credential.id") != raw_id:
        raise CredentialIdError("credential.id does not match credential.rawId")
    return raw_id


def _check_cross_origin(
    top: str | None, allow_cross_origin: bool, expected_top_origin: str | Sequence[str] | None
) -> None:
    """§7.1 step 10 / §7.2 step 14: a ceremony in a cross-origin iframe, only when allowed and from an expected top."""
    if not allow_cross_origin:
        raise CrossOriginError("the ceremony ran in a cross-origin iframe, which this relying party does not allow")
    if top is not None and expected_top_origin is not None:
        tops = [expected_top_origin] if isinstance(expected_top_origin, str) else list(expected_top_origin)
        if top not in tops:
            raise CrossOriginError(f"clientDataJSON.topOrigin {top!r} is not an expected top origin")


_json_decode = json.JSONDecoder().decode
_a2b = binascii.a2b_base64
_STD_TO_URL = bytes.maketrans(b"+/", b"-_")  # websafe_encode inlined on the hot path (the expected challenge)
# members whose presence after the prefix sends a response to the full JSON parse
_PREFIX_MEMBERS = (b'"type"', b'"challenge"', b'"origin"', b'"crossOrigin"', b'"topOrigin"', b"\\")


def _check_challenge(challenge: str, expected_challenge: bytes) -> None:
    """§7.1 step 8 / §7.2 step 12: C.challenge equals base64url(expected challenge), spelled exactly so
    (RFC 4648 §5 without "=" padding, WebAuthn §3): a padded or otherwise re-spelled encoding is refused."""
    expected = binascii.b2a_base64(expected_challenge, newline=False).translate(_STD_TO_URL).rstrip(b"=")
    if hmac.compare_digest(challenge.encode("utf-8", "surrogatepass"), expected):
        return
    _decode(challenge, "clientDataJSON.challenge")
    raise ChallengeMismatchError("clientDataJSON.challenge does not match the expected challenge")


@lru_cache(maxsize=256)
def _json_string(value: str) -> bytes | None:
    """The JSON serialization of ``value`` as browsers write it (CCDToString), or None if it needs escapes."""
    encoded = json.dumps(value, ensure_ascii=False).encode("utf-8")
    return encoded if encoded == b'"' + value.encode("utf-8") + b'"' else None


def _matches_limited_verification(raw: bytes, expected_challenge: bytes, expected_origin: str | Sequence[str]) -> bool:
    """WebAuthn L3 §5.8.1.2 limited verification: the client data starts with exactly the bytes a browser
    writes for this type, challenge and origin, with crossOrigin false, and nothing later redefines them.

    True means the full checks would pass; False means "not sure": the caller runs the full JSON checks.
    """
    origins = (expected_origin,) if isinstance(expected_origin, str) else expected_origin
    challenge = binascii.b2a_base64(expected_challenge, newline=False).translate(_STD_TO_URL).rstrip(b"=")
    head = b'{"type":"webauthn.get","challenge":"' + challenge + b'","origin":'
    if not raw.startswith(head):
        return False
    for origin in origins:
        quoted = _json_string(origin)
        if quoted is None:
            continue
        prefix = head + quoted + b',"crossOrigin":false'
        if raw == prefix + b"}":  # exactly what browsers send
            return True
        if raw.startswith(prefix):
            rest = raw[len(prefix) :]
            if rest == b"}":
                return True
            return rest[:1] == b"," and rest.endswith(b"}") and not any(m in rest for m in _PREFIX_MEMBERS)
    return False


def _check_client_data(
    client_data: bytes | Mapping[str, object],
    expected_type: str,
    expected_challenge: bytes,
    expected_origin: str | Sequence[str],
    allow_cross_origin: bool,
    expected_top_origin: str | Sequence[str] | None,
) -> None:
    """§7.1 steps 7-10 / §7.2 steps 11-14: type, challenge, origin and cross-origin of the client data, as JSON
    bytes (§7.2 when the limited verification prefix did not match) or as CollectedClientData parsed it (§7.1)."""
    if isinstance(client_data, bytes):
        try:
            client_data = _json_decode(client_data.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
            raise MalformedResponseError("clientDataJSON is not valid UTF-8 JSON") from None
        if not isinstance(client_data, dict):
            raise MalformedResponseError("clientDataJSON must be a JSON object")
    typ, challenge, origin = client_data.get("type"), client_data.get("challenge"), client_data.get("origin")
    if not isinstance(typ, str) or not isinstance(challenge, str) or not isinstance(origin, str):
        raise MalformedResponseError("clientDataJSON needs string members type, challenge and origin")
    if typ != expected_type:
        raise ClientDataTypeError(f"clientDataJSON.type is {typ!r}, expected {expected_type!r}")
    _check_challenge(challenge, expected_challenge)
    if origin != expected_origin and (isinstance(expected_origin, str) or origin not in expected_origin):
        raise OriginMismatchError(f"clientDataJSON.origin {origin!r} is not an expected origin")
    cross, top = client_data.get("crossOrigin", False), client_data.get("topOrigin")
    if cross is not False or top is not None:
        if not isinstance(cross, bool) or (top is not None and not isinstance(top, str)):
            raise MalformedResponseError("clientDataJSON.crossOrigin must be a boolean and topOrigin a string")
        _check_cross_origin(top, allow_cross_origin, expected_top_origin)


@lru_cache(maxsize=64)
def _rp_hash(rp_id: str) -> bytes:
    return hashlib.sha256(rp_id.encode("utf-8")).digest()


_UP, _UV, _BE, _BS = 0x01, 0x04, 0x08, 0x10
_sha256 = hashlib.sha256


def _check_flags(
    rp_id_hash: bytes, flags: int, expected_rp_id: str | Iterable[str], require_uv: bool, require_up: bool
) -> None:
    """§7.1 steps 13-16 / §7.2 steps 15-18: rpIdHash, UP, UV, and BS only with BE."""
    # rpIdHash is public (SHA-256 of the RP ID): a plain comparison is fine here
    if isinstance(expected_rp_id, str):
        if rp_id_hash != _rp_hash(expected_rp_id):
            raise RpIdHashMismatchError("authenticatorData.rpIdHash is not SHA-256 of the expected RP ID")
    elif not any(rp_id_hash == _rp_hash(r) for r in expected_rp_id):
        raise RpIdHashMismatchError("authenticatorData.rpIdHash is not SHA-256 of any expected RP ID")
    if require_up and not flags & _UP:
        raise UserPresenceError("the authenticator did not report user presence (UP flag)")
    if require_uv and not flags & _UV:
        raise UserVerificationError("user verification is required but the UV flag is not set")
    if flags & _BS and not flags & _BE:
        raise BackupFlagsError("the BS flag is set while BE is not")


def verify_registration(
    credential: Mapping[str, object] | str | bytes,
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
    expected_top_origin: str | Sequence[str] | None = None,
    metadata: MetadataBlob | None = None,
    rejected_statuses: frozenset[str] = REJECTED_STATUSES,
    require_attestation: bool = False,
    safetynet_max_age: datetime.timedelta = datetime.timedelta(seconds=60),
    android_key_tee_only: bool = False,
    allowed_extensions: Collection[str] | None = None,
) -> RegistrationResult:
    """Verify a registration response (WebAuthn L3 §7.1 "Registering a New Credential").

    ``trust_anchors`` (per format and AAGUID) and ``metadata`` (a verified FIDO MDS3 BLOB, whose roots are
    added to the anchors of the AAGUID and whose revoked/compromised statuses are rejected) make a chain that
    reaches no anchor an :class:`UntrustedAttestationError`; ``require_attestation`` also rejects none and
    self attestation. ``now`` is the time for certificate validity (default: the current time).
    ``allowed_extensions``, when given, names the extensions whose outputs may appear (step 19).
    Synchronous (sans-IO): nothing is awaited.

    Raises:
        aioctap.server.errors.VerificationError: the subclass of the failed check: MalformedResponseError,
            ClientDataTypeError, ChallengeMismatchError, OriginMismatchError, CrossOriginError,
            RpIdHashMismatchError, UserPresenceError, UserVerificationError, BackupFlagsError, CredentialIdError,
            UnsupportedAlgorithmError, UnexpectedExtensionError, or an AttestationError (malformed, bad
            signature or certificate, unsupported format, untrusted chain, revoked authenticator status).
    """
    cred: Mapping[str, Any] = parse_credential(credential)
    raw_id = _ids(cred)
    response = cred["response"]
    client_data_raw = _b64(response, "clientDataJSON")
    att_obj_raw = _b64(response, "attestationObject")
    try:
        client_data = CollectedClientData(client_data_raw)
    except WebAuthnDataError as e:
        raise MalformedResponseError(f"clientDataJSON: {e}") from None
    _check_client_data(
        client_data.data, "webauthn.create", expected_challenge, expected_origin, allow_cross_origin,
        expected_top_origin,
    )  # fmt: skip
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
    except CredentialIdLengthError as e:
        raise CredentialIdError(f"authenticatorData: {e}") from None
    except WebAuthnDataError as e:
        raise MalformedResponseError(f"authenticatorData: {e}") from None
    _check_flags(
        auth_data.rp_id_hash, auth_data.flags, expected_rp_id, require_user_verification, require_user_presence
    )
    cred_data = auth_data.credential_data
    if cred_data is None:
        raise MalformedResponseError("authenticatorData has no attested credential data (AT flag)")
    if len(cred_data.credential_id) > MAX_CREDENTIAL_ID:
        raise CredentialIdError(f"credential ID longer than {MAX_CREDENTIAL_ID} bytes")
    if cred_data.credential_id != raw_id:
        raise CredentialIdError("the attested credential ID differs from credential.rawId")
    if allowed_extensions is not None:
        _check_extensions(cred, auth_data.extensions, allowed_extensions)
    alg = cred_data.public_key.get(3)
    if alg not in supported_algorithms or alg not in _VERIFIABLE:
        raise UnsupportedAlgorithmError(f"credential public key algorithm {alg} is not accepted")
    when = now or datetime.datetime.now(datetime.UTC)  # a naive time is UTC: verify_attestation says so
    if metadata is not None:
        entry = metadata.entry_for(cred_data.aaguid, _leaf_certificate(att_stmt))
        if entry is not None:
            metadata.check_status(entry, when.date(), rejected_statuses)
            mds_anchors = metadata.trust_anchors(entry)
            trust_anchors = mds_anchors if trust_anchors is None else trust_anchors.merged(mds_anchors)
        elif trust_anchors is None:
            trust_anchors = TrustAnchors()  # in metadata mode, an unknown authenticator is untrusted
    try:
        att: AttestationResult = verify_attestation(
            fmt, att_stmt, auth_data, client_data.hash, trust_anchors=trust_anchors, now=when,
            safetynet_max_age=safetynet_max_age, android_key_tee_only=android_key_tee_only,
        )  # fmt: skip
    except AttestationError:
        raise
    except (ValueError, TypeError, KeyError, IndexError) as e:  # defensive: a format parser must never leak these
        raise MalformedAttestationError(f"attestation statement is malformed: {type(e).__name__}") from None
    if require_attestation and att.type in (AttestationType.NONE, AttestationType.SELF):
        raise UntrustedAttestationError(
            f"{att.type.value} attestation is not accepted: a trusted attestation is required"
        )
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
        attestation_object=att_obj_raw,
    )


def _check_extensions(
    credential: Mapping[str, Any], authenticator: Mapping[str, Any] | None, allowed: Collection[str]
) -> None:
    """§7.1 step 19 / §7.2 step 20: every extension output is one the relying party asked for."""
    client = credential.get("clientExtensionResults")
    if client is None:
        client = {}
    if not isinstance(client, Mapping):
        raise MalformedResponseError("credential.clientExtensionResults must be an object")
    for where, outputs in (("clientExtensionResults", client), ("authenticator data", authenticator or {})):
        unexpected = sorted(str(k) for k in outputs if k not in allowed)
        if unexpected:
            raise UnexpectedExtensionError(f"{where} holds extension outputs that were not requested: {unexpected}")


def _leaf_certificate(att_stmt: Mapping[str, Any]) -> x509.Certificate | None:
    x5c = att_stmt.get("x5c")
    if isinstance(x5c, list) and x5c and isinstance(x5c[0], bytes):
        try:
            return x509.load_der_x509_certificate(x5c[0])
        except (ValueError, x509.InvalidVersion):
            return None  # the format verifier reports it
    return None


_ECDSA_SHA256 = ec.ECDSA(hashes.SHA256())


@lru_cache(maxsize=4096)
def _stored_key(cose: bytes) -> tuple[CoseKey, Callable[[bytes, bytes, ec.ECDSA], None] | None]:
    """A stored COSE key, parsed once, and for ES256 the bound ``verify`` of its cryptography key, which the
    hot path calls directly instead of going through :meth:`CoseKey.verify`."""
    key = CoseKey.from_bytes(cose)
    if type(key) is ES256:
        pub = key.public_key()  # raises CoseError for a point not on the curve
        return key, pub.verify
    return key, None


def verify_authentication(
    credential: Mapping[str, object] | str | bytes,
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
    expected_top_origin: str | Sequence[str] | None = None,
    allowed_credential_ids: Sequence[bytes] | None = None,
    expected_user_handle: bytes | None = None,
    credential_backup_eligible: bool | None = None,
    allowed_extensions: Collection[str] | None = None,
) -> AuthenticationResult:
    """Verify an assertion (WebAuthn L3 §7.2 "Verifying an Authentication Assertion").

    A signature counter that does not increase while either side is non-zero is a possible clone:
    rejected with :class:`SignCountError` (default), or flagged in ``possible_clone``.
    ``allowed_credential_ids`` is the request's allowCredentials (step 5), ``expected_user_handle`` the
    handle of the user that owns the credential (step 6), ``credential_backup_eligible`` the stored BE flag,
    ``allowed_extensions`` the extensions whose outputs may appear (step 20).
    Synchronous (sans-IO): nothing is awaited.

    Raises:
        aioctap.server.errors.VerificationError: the subclass of the failed check: MalformedResponseError,
            ClientDataTypeError, ChallengeMismatchError, OriginMismatchError, CrossOriginError,
            RpIdHashMismatchError, UserPresenceError, UserVerificationError, BackupFlagsError, CredentialIdError,
            UserHandleError, InvalidSignatureError, SignCountError (a possible clone), UnexpectedExtensionError.
    """
    cred: Mapping[str, Any] = parse_credential(credential)
    raw_id = _ids(cred)
    response = cred["response"]
    try:  # the common case in one go, websafe_decode inlined; on any problem, member by member for the message
        cd, ad, sig, uh = response["clientDataJSON"], response["authenticatorData"], response["signature"], None
        client_data_raw = _a2b((cd + _PAD[len(cd) & 3]).encode("ascii").translate(_URL_TO_STD), strict_mode=True)
        auth_data_raw = _a2b((ad + _PAD[len(ad) & 3]).encode("ascii").translate(_URL_TO_STD), strict_mode=True)
        signature = _a2b((sig + _PAD[len(sig) & 3]).encode("ascii").translate(_URL_TO_STD), strict_mode=True)
        uh = response.get("userHandle")
        user_handle = (
            None
            if uh is None
            else _a2b((uh + _PAD[len(uh) & 3]).encode("ascii").translate(_URL_TO_STD), strict_mode=True)
        )
    except (KeyError, TypeError, AttributeError, ValueError):  # binascii.Error and UnicodeError are ValueErrors
        client_data_raw = _b64(response, "clientDataJSON")
        auth_data_raw = _b64(response, "authenticatorData")
        signature = _b64(response, "signature")
        user_handle = None if response.get("userHandle") is None else _b64(response, "userHandle")
    if allowed_credential_ids is not None and raw_id not in allowed_credential_ids:
        raise CredentialIdError("the credential is not one of the allowCredentials of the request")
    if expected_user_handle is not None and user_handle is not None and user_handle != expected_user_handle:
        raise UserHandleError("response.userHandle is not the handle of the credential's owner")
    if not _matches_limited_verification(client_data_raw, expected_challenge, expected_origin):
        _check_client_data(
            client_data_raw, "webauthn.get", expected_challenge, expected_origin, allow_cross_origin,
            expected_top_origin,
        )  # fmt: skip
    # §6.1 authenticator data; an assertion usually carries no extensions: 37 bytes, parsed inline
    if len(auth_data_raw) == 37 and not auth_data_raw[32] & 0xC0:
        flags = auth_data_raw[32]
        new_count = int.from_bytes(auth_data_raw[33:37], "big")
        extensions = None
    else:
        try:
            auth_data = AuthenticatorData(auth_data_raw)
        except WebAuthnDataError as e:
            raise MalformedResponseError(f"authenticatorData: {e}") from None
        flags, new_count, extensions = auth_data.flags, auth_data.counter, auth_data.extensions
    _check_flags(auth_data_raw[:32], flags, expected_rp_id, require_user_verification, require_user_presence)
    if credential_backup_eligible is not None and bool(flags & _BE) != credential_backup_eligible:
        raise BackupFlagsError("the BE flag differs from the credential's stored backup eligibility")
    if allowed_extensions is not None:
        _check_extensions(cred, extensions, allowed_extensions)
    try:
        if isinstance(credential_public_key, CoseKey):
            key, ec_verify = credential_public_key, None
        else:
            key, ec_verify = _stored_key(bytes(credential_public_key))
    except CoseError as e:
        raise MalformedResponseError(f"stored credential public key is invalid: {e}") from None
    message = auth_data_raw + _sha256(client_data_raw).digest()
    try:
        if ec_verify is not None:
            ec_verify(signature, message, _ECDSA_SHA256)
        else:
            key.verify(message, signature)
    except (CoseError, InvalidSignature, ValueError):
        raise InvalidSignatureError("the assertion signature does not verify with the credential public key") from None
    clone = (new_count != 0 or credential_current_sign_count != 0) and new_count <= credential_current_sign_count
    if clone and reject_possible_clone:
        raise SignCountError(
            f"signature counter {new_count} did not increase past {credential_current_sign_count}: possible clone"
        )
    return AuthenticationResult(  # positional: the field order of AuthenticationResult
        raw_id,
        new_count,
        bool(flags & _UV),
        bool(flags & _UP),
        bool(flags & _BE),
        bool(flags & _BS),
        user_handle,
        clone,
        extensions,
    )
