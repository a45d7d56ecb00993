"""Attestation statement verification (WebAuthn L3 §8), one module per format and a registry.

``verify_attestation(fmt, att_stmt, auth_data, client_data_hash, *, trust_anchors=None, now=None)``
returns an :class:`AttestationResult` or raises an :class:`~aioctap.server.errors.AttestationError`
subclass that names the failed check. Formats: none, packed, tpm, android-key, android-safetynet,
fido-u2f, apple (:data:`FORMATS`; :func:`register_format` adds one).
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm

from ...webauthn import AuthenticatorData
from ..errors import (
    AttestationError,
    MalformedAttestationError,
    UnsupportedAttestationFormatError,
    UntrustedAttestationError,
)
from ._common import (
    AAGUID_OID,
    AttestationContext,
    AttestationResult,
    AttestationType,
    FormatResult,
    FormatVerifier,
    TrustAnchors,
)
from .android_key import verify_android_key
from .android_safetynet import verify_android_safetynet
from .apple import verify_apple
from .fido_u2f import verify_fido_u2f
from .none import verify_none
from .packed import verify_packed
from .tpm import verify_tpm

__all__ = [
    "AAGUID_OID",
    "FORMATS",
    "AttestationContext",
    "AttestationResult",
    "AttestationType",
    "FormatResult",
    "FormatVerifier",
    "TrustAnchors",
    "register_format",
    "verify_attestation",
]

FORMATS: dict[str, FormatVerifier] = {
    "none": verify_none,
    "packed": verify_packed,
    "tpm": verify_tpm,
    "android-key": verify_android_key,
    "android-safetynet": verify_android_safetynet,
    "fido-u2f": verify_fido_u2f,
    "apple": verify_apple,
}


def register_format(fmt: str, verifier: FormatVerifier) -> None:
    """Add (or replace) the verifier of an attestation statement format identifier (IANA registry name)."""
    FORMATS[fmt] = verifier


def verify_attestation(
    fmt: str,
    att_stmt: Mapping[str, object],
    auth_data: AuthenticatorData,
    client_data_hash: bytes,
    *,
    trust_anchors: TrustAnchors | None = None,
    now: datetime.datetime | None = None,
    safetynet_max_age: datetime.timedelta = datetime.timedelta(seconds=60),
    android_key_tee_only: bool = False,
) -> AttestationResult:
    """Verify one attestation statement (WebAuthn L3 §7.1 steps 20-22).

    With ``trust_anchors`` given, an attestation other than self/none whose chain does not reach one of
    them raises :class:`UntrustedAttestationError`; without, the chain is checked for consistency only and
    ``trusted`` is False.
    """
    cred = auth_data.credential_data
    if cred is None:
        raise MalformedAttestationError("authenticator data has no attested credential data")
    if not isinstance(att_stmt, Mapping):
        raise MalformedAttestationError("attStmt must be a map")
    verifier = FORMATS.get(fmt)
    if verifier is None:
        raise UnsupportedAttestationFormatError(f"unsupported attestation statement format {fmt!r}")
    when = now or datetime.datetime.now(datetime.UTC)
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.UTC)
    anchors = trust_anchors.for_attestation(fmt, cred.aaguid) if trust_anchors else []
    ctx = AttestationContext(
        att_stmt, auth_data, client_data_hash, anchors, when, safetynet_max_age, android_key_tee_only
    )
    try:
        res = verifier(ctx)
    except AttestationError:
        raise
    except (ValueError, TypeError, UnsupportedAlgorithm, x509.InvalidVersion) as e:
        # cryptography parses certificate fields lazily; a malformed field surfaces as one of these
        raise MalformedAttestationError(f"{fmt} attestation statement is malformed: {e}") from None
    if trust_anchors is not None and res.type not in (AttestationType.SELF, AttestationType.NONE) and not res.trusted:
        raise UntrustedAttestationError(f"no trust anchor was given for {fmt!r} attestation of this authenticator")
    return AttestationResult(fmt, res.type, res.trust_path, res.trusted, cred.aaguid)
