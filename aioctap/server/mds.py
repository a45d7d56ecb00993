"""FIDO Metadata Service v3 (MDS3): the metadata BLOB, verified against its root, and lookups by AAGUID.

The BLOB is a JWT (compact JWS) whose header carries an ``x5c`` chain; :func:`parse_metadata_blob`
checks the signature, the chain up to a root the caller gives (the FIDO Alliance MDS root for the
real service, a test CA in tests) at ``now``, and ``nextUpdate``. Sans-IO: fetching the BLOB is the
caller's business. :meth:`MetadataBlob.trust_anchors` and :meth:`MetadataBlob.check_status` are what
``verify_registration(metadata=...)`` uses.
"""

from __future__ import annotations

import base64
import binascii
import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm

from ..webauthn import Aaguid, JSONValue, WebAuthnDataError, _StringEnum
from .attestation import TrustAnchors
from .attestation._common import verify_chain
from .attestation.android_safetynet import Jws
from .errors import AttestationError, AuthenticatorStatusError, MetadataError

__all__ = [
    "REJECTED_STATUSES",
    "AuthenticatorStatus",
    "MetadataBlob",
    "MetadataEntry",
    "StatusReport",
    "key_identifier",
    "parse_metadata_blob",
]


class AuthenticatorStatus(_StringEnum):
    """FIDO Metadata Service v3 §3.1.4 AuthenticatorStatus (``parse`` gives None for a status this version does not
    know). The ``...plus`` levels also have python-fido2's member names (``FIDO_CERTIFIED_L1plus``), as aliases."""

    NOT_FIDO_CERTIFIED = "NOT_FIDO_CERTIFIED"
    FIDO_CERTIFIED = "FIDO_CERTIFIED"
    USER_VERIFICATION_BYPASS = "USER_VERIFICATION_BYPASS"
    ATTESTATION_KEY_COMPROMISE = "ATTESTATION_KEY_COMPROMISE"
    USER_KEY_REMOTE_COMPROMISE = "USER_KEY_REMOTE_COMPROMISE"
    USER_KEY_PHYSICAL_COMPROMISE = "USER_KEY_PHYSICAL_COMPROMISE"
    UPDATE_AVAILABLE = "UPDATE_AVAILABLE"
    RETIRED = "RETIRED"
    REVOKED = "REVOKED"
    SELF_ASSERTION_SUBMITTED = "SELF_ASSERTION_SUBMITTED"
    FIDO_CERTIFIED_L1 = "FIDO_CERTIFIED_L1"
    FIDO_CERTIFIED_L1PLUS = "FIDO_CERTIFIED_L1plus"
    FIDO_CERTIFIED_L2 = "FIDO_CERTIFIED_L2"
    FIDO_CERTIFIED_L2PLUS = "FIDO_CERTIFIED_L2plus"
    FIDO_CERTIFIED_L3 = "FIDO_CERTIFIED_L3"
    FIDO_CERTIFIED_L3PLUS = "FIDO_CERTIFIED_L3plus"
    FIPS140_CERTIFIED_L1 = "FIPS140_CERTIFIED_L1"
    FIPS140_CERTIFIED_L2 = "FIPS140_CERTIFIED_L2"
    FIPS140_CERTIFIED_L3 = "FIPS140_CERTIFIED_L3"
    FIPS140_CERTIFIED_L4 = "FIPS140_CERTIFIED_L4"
    FIDO_CERTIFIED_L1plus = "FIDO_CERTIFIED_L1plus"  # python-fido2's names: aliases of the ...PLUS members
    FIDO_CERTIFIED_L2plus = "FIDO_CERTIFIED_L2plus"
    FIDO_CERTIFIED_L3plus = "FIDO_CERTIFIED_L3plus"


REJECTED_STATUSES = frozenset(
    {
        AuthenticatorStatus.REVOKED,
        AuthenticatorStatus.USER_VERIFICATION_BYPASS,
        AuthenticatorStatus.ATTESTATION_KEY_COMPROMISE,
        AuthenticatorStatus.USER_KEY_REMOTE_COMPROMISE,
        AuthenticatorStatus.USER_KEY_PHYSICAL_COMPROMISE,
    }
)


def _date(value: Any, what: str) -> datetime.date | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise MetadataError(f"{what} must be an ISO date string")
    try:
        return datetime.date.fromisoformat(value[:10])
    except ValueError:
        raise MetadataError(f"{what} {value!r} is not an ISO date") from None


def key_identifier(cert: x509.Certificate) -> bytes:
    """attestationCertificateKeyIdentifier: SHA-1 of the certificate's subjectPublicKey (RFC 5280 §4.2.1.2)."""
    try:
        return x509.SubjectKeyIdentifier.from_public_key(cert.public_key()).digest
    except (ValueError, TypeError, UnsupportedAlgorithm):
        return b""  # no key, no identifier: nothing in the metadata matches it


@dataclass(frozen=True)
class StatusReport:
    """One MDS3 StatusReport."""

    status: str
    effective_date: datetime.date | None = None

    @classmethod
    def parse(cls, obj: object) -> StatusReport:
        """Parse one MDS3 StatusReport object (FIDO Metadata Service §3.1.3); MetadataError when malformed."""
        if not isinstance(obj, Mapping) or not isinstance(obj.get("status"), str):
            raise MetadataError("statusReports entry must be an object with a string status")
        return cls(obj["status"], _date(obj.get("effectiveDate"), "statusReports.effectiveDate"))


@dataclass(frozen=True)
class MetadataEntry:
    """One MDS3 MetadataBLOBPayloadEntry."""

    aaguid: Aaguid | None
    attestation_certificate_key_identifiers: tuple[bytes, ...]
    metadata_statement: dict[str, JSONValue]
    status_reports: tuple[StatusReport, ...]
    time_of_last_status_change: datetime.date | None
    attestation_roots: tuple[x509.Certificate, ...] = field(default=(), repr=False)
    raw: Mapping[str, JSONValue] = field(default_factory=dict, repr=False, compare=False)
    """The entry's JSON object as the verified BLOB holds it (members this class does not parse included)."""

    @classmethod
    def parse(cls, obj: object) -> MetadataEntry:
        """Parse one MDS3 MetadataBLOBPayloadEntry (FIDO Metadata Service §3.1.1); MetadataError when malformed."""
        if not isinstance(obj, Mapping):
            raise MetadataError("metadata entry must be an object")
        aaguid: Aaguid | None = None
        if obj.get("aaguid") is not None:
            if not isinstance(obj["aaguid"], str):
                raise MetadataError("metadata entry aaguid must be a string")
            try:
                aaguid = Aaguid.parse(obj["aaguid"])
            except WebAuthnDataError:
                raise MetadataError(f"metadata entry aaguid {obj['aaguid']!r} is not a UUID") from None
        kids = obj.get("attestationCertificateKeyIdentifiers") or []
        if not isinstance(kids, list) or not all(isinstance(k, str) for k in kids):
            raise MetadataError("attestationCertificateKeyIdentifiers must be an array of hex strings")
        try:
            key_ids = tuple(bytes.fromhex(k) for k in kids)
        except ValueError:
            raise MetadataError("attestationCertificateKeyIdentifiers holds a non-hex value") from None
        statement = obj.get("metadataStatement") or {}
        if not isinstance(statement, dict):
            raise MetadataError("metadataStatement must be an object")
        roots_b64 = statement.get("attestationRootCertificates") or []
        if not isinstance(roots_b64, list) or not all(isinstance(r, str) for r in roots_b64):
            raise MetadataError("attestationRootCertificates must be an array of base64 strings")
        try:
            roots = tuple(x509.load_der_x509_certificate(base64.b64decode(r, validate=True)) for r in roots_b64)
        except (binascii.Error, ValueError, x509.InvalidVersion):
            raise MetadataError("attestationRootCertificates holds an invalid certificate") from None
        reports = obj.get("statusReports")
        if not isinstance(reports, list):
            raise MetadataError("metadata entry statusReports must be an array")
        return cls(
            aaguid,
            key_ids,
            statement,
            tuple(StatusReport.parse(r) for r in reports),
            _date(obj.get("timeOfLastStatusChange"), "timeOfLastStatusChange"),
            roots,
            dict(obj),
        )

    def status_at(self, now: datetime.date) -> str | None:
        """The status of the latest report already in effect at ``now`` (reports without a date count)."""
        current = [r for r in self.status_reports if r.effective_date is None or r.effective_date <= now]
        if not current:
            return None
        return max(current, key=lambda r: r.effective_date or datetime.date.min).status


@dataclass(frozen=True)
class MetadataBlob:
    """A verified MDS3 BLOB payload."""

    no: int
    next_update: datetime.date
    legal_header: str
    entries: tuple[MetadataEntry, ...]

    def __post_init__(self) -> None:
        by_aaguid = {bytes(e.aaguid): e for e in self.entries if e.aaguid is not None}
        by_kid = {k: e for e in self.entries for k in e.attestation_certificate_key_identifiers}
        object.__setattr__(self, "_by_aaguid", by_aaguid)
        object.__setattr__(self, "_by_kid", by_kid)

    def entry_for_aaguid(self, aaguid: bytes) -> MetadataEntry | None:
        """The entry of a FIDO2 authenticator model by its AAGUID, or None."""
        return cast("MetadataEntry | None", self.__dict__["_by_aaguid"].get(bytes(aaguid)))

    def entry_for_key_identifier(self, key_id: bytes) -> MetadataEntry | None:
        """The entry of a U2F authenticator model by attestation certificate key identifier, or None."""
        return cast("MetadataEntry | None", self.__dict__["_by_kid"].get(bytes(key_id)))

    def entry_for(self, aaguid: bytes, certificate: x509.Certificate | None = None) -> MetadataEntry | None:
        """By AAGUID, else (U2F authenticators have none) by the attestation certificate's key identifier."""
        entry = self.entry_for_aaguid(aaguid) if any(aaguid) else None
        if entry is None and certificate is not None:
            entry = self.entry_for_key_identifier(key_identifier(certificate))
        return entry

    def trust_anchors(self, entry: MetadataEntry) -> TrustAnchors:
        """The entry's attestationRootCertificates as trust anchors for every format."""
        return TrustAnchors(roots=list(entry.attestation_roots))

    @staticmethod
    def check_status(entry: MetadataEntry, now: datetime.date, rejected: frozenset[str] = REJECTED_STATUSES) -> None:
        """:class:`AuthenticatorStatusError` if the entry's current status is revoked or compromised."""
        status = entry.status_at(now)
        if status in rejected:
            who = str(entry.aaguid) if entry.aaguid is not None else "this U2F authenticator"
            raise AuthenticatorStatusError(f"FIDO metadata reports {who} as {status}")


def parse_metadata_blob(
    token: bytes | str,
    roots: x509.Certificate | Sequence[x509.Certificate],
    *,
    now: datetime.datetime | None = None,
    allow_expired: bool = False,
) -> MetadataBlob:
    """Verify a MDS3 BLOB (JWT) against ``roots`` at ``now`` and parse its payload.

    :class:`MetadataError` if the JWT is malformed, its signature or chain does not verify, or (unless
    ``allow_expired``) ``nextUpdate`` has passed.
    """
    when = now or datetime.datetime.now(datetime.UTC)
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.UTC)
    anchors = [roots] if isinstance(roots, x509.Certificate) else list(roots)
    if not anchors:
        raise MetadataError("a MDS3 root certificate is needed to verify the metadata BLOB")
    try:
        jws = Jws.parse(token, "metadata BLOB")
        chain = jws.certificates("metadata BLOB")
        jws.verify(chain[0], "metadata BLOB")
        verify_chain(chain, anchors, when)
    except AttestationError as e:
        raise MetadataError(str(e)) from None
    payload = jws.payload
    no, next_update, legal = payload.get("no"), payload.get("nextUpdate"), payload.get("legalHeader", "")
    if not isinstance(no, int) or isinstance(no, bool):
        raise MetadataError("metadata BLOB payload 'no' must be an integer")
    nu = _date(next_update, "metadata BLOB nextUpdate")
    if nu is None:
        raise MetadataError("metadata BLOB payload lacks nextUpdate")
    if not allow_expired and when.date() > nu:
        raise MetadataError(f"metadata BLOB is stale: nextUpdate {nu.isoformat()} has passed")
    entries = payload.get("entries")
    if not isinstance(entries, list):
        raise MetadataError("metadata BLOB payload 'entries' must be an array")
    if not isinstance(legal, str):
        raise MetadataError("metadata BLOB legalHeader must be a string")
    return MetadataBlob(no, nu, legal, tuple(MetadataEntry.parse(e) for e in entries))
