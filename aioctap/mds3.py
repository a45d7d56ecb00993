"""python-fido2's ``fido2.mds3`` API over aioctap's FIDO Metadata Service support (:mod:`aioctap.server.mds`).

:func:`parse_blob` verifies a MDS3 BLOB with :func:`aioctap.server.mds.parse_metadata_blob` (the JWS signature, the
certificate chain up to the root given, at ``now``, and that ``nextUpdate`` has not passed) and returns its payload
as python-fido2's dataclasses (:class:`MetadataBlobPayload`, :class:`MetadataBlobPayloadEntry`,
:class:`MetadataStatement`, ...): attribute access gives the parsed values, item access the JSON members.
:class:`MdsAttestationVerifier` is python-fido2's :class:`~aioctap.attestation.AttestationVerifier` that finds the
root of an attestation in the metadata.

Stricter than python-fido2 (README "Coming from python-fido2"): a root certificate is required, and a BLOB whose
``nextUpdate`` has passed is refused unless ``allow_expired=True``.
"""

from __future__ import annotations

import base64
import binascii
import contextvars
import datetime
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Self

from cryptography import x509

from .attestation import Attestation, AttestationResult, AttestationVerifier, UntrustedAttestation
from .cbor import MAX_DEPTH
from .server.attestation._common import load_der
from .server.errors import AttestationError, AuthenticatorStatusError, MetadataError
from .server.mds import AuthenticatorStatus, MetadataBlob, MetadataEntry, key_identifier, parse_metadata_blob
from .webauthn import Aaguid, AttestationObject, AuthenticatorData

# isort: split
from ._webauthn_types import _JsonDataObject, _nested_deeper  # after .webauthn, which initialises it

__all__ = [
    "AuthenticatorStatus",
    "BiometricAccuracyDescriptor",
    "BiometricStatusReport",
    "CodeAccuracyDescriptor",
    "DisplayPngCharacteristicsDescriptor",
    "EcdaaTrustAnchor",
    "EntryFilter",
    "ExtensionDescriptor",
    "LookupFilter",
    "MdsAttestationVerifier",
    "MetadataBlobPayload",
    "MetadataBlobPayloadEntry",
    "MetadataStatement",
    "PatternAccuracyDescriptor",
    "RgbPaletteEntry",
    "RogueListEntry",
    "StatusReport",
    "VerificationMethodDescriptor",
    "Version",
    "filter_attestation_key_compromised",
    "filter_revoked",
    "parse_blob",
]


def _b64(value: object) -> bytes:
    if not isinstance(value, str):
        raise ValueError("expected a base64 string")
    try:
        return base64.b64decode(value, validate=True)
    except binascii.Error as e:
        raise ValueError(f"not base64: {e}") from None


def _b64_list(value: object) -> list[bytes]:
    if not isinstance(value, list):
        raise ValueError("expected an array of base64 strings")
    return [_b64(v) for v in value]


def _hex(value: object) -> bytes:
    if not isinstance(value, str):
        raise ValueError("expected a hex string")
    return bytes.fromhex(value)


def _hex_list(value: object) -> list[bytes]:
    if not isinstance(value, list):
        raise ValueError("expected an array of hex strings")
    return [_hex(v) for v in value]


def _date(value: object) -> datetime.date:
    if not isinstance(value, str):
        raise ValueError("expected an ISO date string")
    return datetime.date.fromisoformat(value)


def _aaguid(value: object) -> Aaguid:
    if not isinstance(value, str):
        raise ValueError("expected a UUID string")
    return Aaguid.parse(value)


def _float(value: object) -> float:
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise ValueError("expected a number")
    try:
        return float(value)
    except OverflowError:  # a JSON integer of hundreds of digits
        raise ValueError("number out of range") from None


def _json_object(value: object) -> dict[str, object]:
    """A JSON object kept as it is (authenticatorGetInfo: CTAP2 getInfo, nested no deeper than CBOR may be): item
    access walks it recursively."""
    if not isinstance(value, dict):
        raise ValueError("expected an object")
    if _nested_deeper(value):
        raise ValueError(f"nested deeper than {MAX_DEPTH} levels")
    return value


# the JSON form of what each converter parses (item access gives the BLOB's encoding back)
_SERIALIZE: dict[Callable[[object], object], Callable[[Any], object]] = {
    _b64: lambda v: base64.b64encode(v).decode(),
    _b64_list: lambda vs: [base64.b64encode(v).decode() for v in vs],
    _hex: lambda v: v.hex(),
    _hex_list: lambda vs: [v.hex() for v in vs],
    _date: lambda v: v.isoformat(),
    _aaguid: str,
    _float: lambda v: v,
    _json_object: lambda v: v,
}


class _MdsObject(_JsonDataObject):
    """A MDS3 dictionary: the JSON members that are not base64url (dates, base64, hex, UUIDs) converted first, and
    given back in their MDS3 form by item access."""

    _CONVERT: ClassVar[Mapping[str, Callable[[object], object]]] = {}

    @classmethod
    def _parse_from_dict(cls, data: Mapping[str, object]) -> Self:
        converted = {k: cls._CONVERT[k](v) if k in cls._CONVERT and v is not None else v for k, v in data.items()}
        return super()._parse_from_dict(converted)

    def __getitem__(self, key: str) -> Any:
        parse = self._CONVERT.get(key)
        if parse is None:
            return super().__getitem__(key)
        return _SERIALIZE[parse](self._members()[key])


@dataclass(eq=False, frozen=True)
class Version(_MdsObject):
    """MDS3 Version (a UAF/U2F/FIDO2 protocol version)."""

    major: int
    minor: int


@dataclass(eq=False, frozen=True)
class RogueListEntry(_MdsObject):
    """MDS3 RogueListEntry: a compromised authenticator's secret key and the date it was found."""

    sk: bytes
    date: int

    _CONVERT: ClassVar[Mapping[str, Callable[[object], object]]] = {"sk": _b64}


@dataclass(eq=False, frozen=True)
class BiometricStatusReport(_MdsObject):
    """MDS3 BiometricStatusReport."""

    cert_level: int
    modality: str
    effective_date: datetime.date | None = None
    certification_descriptor: str | None = None
    certificate_number: str | None = None
    certification_policy_version: str | None = None
    certification_requirements_version: str | None = None

    _CONVERT: ClassVar[Mapping[str, Callable[[object], object]]] = {"effectiveDate": _date}


@dataclass(eq=False, frozen=True)
class CodeAccuracyDescriptor(_MdsObject):
    """MDS3 CodeAccuracyDescriptor (a PIN/passcode's strength)."""

    base: int
    min_length: int
    max_retries: int | None = None
    block_slowdown: int | None = None


@dataclass(eq=False, frozen=True)
class BiometricAccuracyDescriptor(_MdsObject):
    """MDS3 BiometricAccuracyDescriptor."""

    self_attested_frr: float | None = field(default=None, metadata={"name": "selfAttestedFRR"})
    self_attested_far: float | None = field(default=None, metadata={"name": "selfAttestedFAR"})
    iapar_threshold: float | None = field(default=None, metadata={"name": "iAPARThreshold"})
    max_templates: int | None = None
    max_retries: int | None = None
    block_slowdown: int | None = None

    _CONVERT: ClassVar[Mapping[str, Callable[[object], object]]] = {
        "selfAttestedFRR": _float,
        "selfAttestedFAR": _float,
        "iAPARThreshold": _float,
    }


@dataclass(eq=False, frozen=True)
class PatternAccuracyDescriptor(_MdsObject):
    """MDS3 PatternAccuracyDescriptor."""

    min_complexity: int
    max_retries: int | None = None
    block_slowdown: int | None = None


@dataclass(eq=False, frozen=True)
class VerificationMethodDescriptor(_MdsObject):
    """MDS3 VerificationMethodDescriptor: one user verification method and its accuracy."""

    user_verification_method: str | None = None
    ca_desc: CodeAccuracyDescriptor | None = None
    ba_desc: BiometricAccuracyDescriptor | None = None
    pa_desc: PatternAccuracyDescriptor | None = None


@dataclass(eq=False, frozen=True)
class RgbPaletteEntry(_MdsObject):
    """MDS3 rgbPaletteEntry."""

    r: int
    g: int
    b: int


@dataclass(eq=False, frozen=True)
class DisplayPngCharacteristicsDescriptor(_MdsObject):
    """MDS3 DisplayPNGCharacteristicsDescriptor."""

    width: int
    height: int
    bit_depth: int
    color_type: int
    compression: int
    filter: int
    interlace: int
    plte: Sequence[RgbPaletteEntry] | None = None


@dataclass(eq=False, frozen=True)
class EcdaaTrustAnchor(_MdsObject):
    """MDS3 EcdaaTrustAnchor (ECDAA is no longer part of WebAuthn; kept for the metadata's sake)."""

    x: str = field(metadata={"name": "X"})
    y: str = field(metadata={"name": "Y"})
    c: str
    sx: str
    sy: str
    g1_curve: str = field(metadata={"name": "G1Curve"})


@dataclass(eq=False, frozen=True)
class StatusReport(_MdsObject):
    """MDS3 StatusReport (``status`` is None for a status this version does not know)."""

    status: AuthenticatorStatus
    effective_date: datetime.date | None = None
    authenticator_version: int | None = None
    batch_certificate: bytes | None = None
    certificate: bytes | None = None
    url: str | None = None
    certification_descriptor: str | None = None
    certificate_number: str | None = None
    certification_policy_version: str | None = None
    certification_profiles: Sequence[str] | None = None
    certification_requirements_version: str | None = None
    sunset_date: datetime.date | None = None
    fips_revision: int | None = None
    fips_physical_security_level: int | None = None

    _CONVERT: ClassVar[Mapping[str, Callable[[object], object]]] = {
        "effectiveDate": _date,
        "batchCertificate": _b64,
        "certificate": _b64,
        "sunsetDate": _date,
    }


@dataclass(eq=False, frozen=True)
class ExtensionDescriptor(_MdsObject):
    """MDS3 ExtensionDescriptor."""

    fail_if_unknown: bool = field(metadata={"name": "fail_if_unknown"})
    id: str
    tag: int | None = None
    data: str | None = None


@dataclass(eq=False, frozen=True)
class MetadataStatement(_MdsObject):
    """MDS3 MetadataStatement: an authenticator model's description, capabilities and attestation roots."""

    description: str
    authenticator_version: int
    schema: int
    upv: Sequence[Version]
    attestation_types: Sequence[str]
    user_verification_details: Sequence[Sequence[VerificationMethodDescriptor]]
    key_protection: Sequence[str]
    matcher_protection: Sequence[str]
    attachment_hint: Sequence[str]
    tc_display: Sequence[str]
    attestation_root_certificates: Sequence[bytes]
    legal_header: str | None = None
    aaid: str | None = None
    aaguid: Aaguid | None = None
    attestation_certificate_key_identifiers: Sequence[bytes] | None = None
    friendly_names: Mapping[str, str] | None = None
    alternative_descriptions: Mapping[str, str] | None = None
    protocol_family: str | None = None
    authentication_algorithms: Sequence[str] | None = None
    public_key_alg_and_encodings: Sequence[str] | None = None
    is_key_restricted: bool | None = None
    is_fresh_user_verification_required: bool | None = None
    crypto_strength: int | None = None
    operating_env: str | None = None
    tc_display_content_type: str | None = None
    tc_display_png_characteristics: Sequence[DisplayPngCharacteristicsDescriptor] | None = field(
        default=None, metadata={"name": "tcDisplayPNGCharacteristics"}
    )
    ecdaa_trust_anchors: Sequence[EcdaaTrustAnchor] | None = None
    icon: str | None = None
    icon_dark: str | None = None
    provider_logo_light: str | None = None
    provider_logo_dark: str | None = None
    supported_extensions: Sequence[ExtensionDescriptor] | None = None
    multi_device_credential_support: str | None = None
    authenticator_get_info: Mapping[str, object] | None = None
    cx_config_url: str | None = field(default=None, metadata={"name": "cxConfigURL"})

    _CONVERT: ClassVar[Mapping[str, Callable[[object], object]]] = {
        "attestationRootCertificates": _b64_list,
        "aaguid": _aaguid,
        "attestationCertificateKeyIdentifiers": _hex_list,
        "authenticatorGetInfo": _json_object,
    }


@dataclass(eq=False, frozen=True)
class MetadataBlobPayloadEntry(_MdsObject):
    """MDS3 MetadataBLOBPayloadEntry: one authenticator model's statement and status reports."""

    status_reports: Sequence[StatusReport]
    time_of_last_status_change: datetime.date
    aaid: str | None = None
    aaguid: Aaguid | None = None
    attestation_certificate_key_identifiers: Sequence[bytes] | None = None
    metadata_statement: MetadataStatement | None = None
    biometric_status_reports: Sequence[BiometricStatusReport] | None = None
    rogue_list_url: str | None = field(default=None, metadata={"name": "rogueListURL"})
    rogue_list_hash: bytes | None = None

    _CONVERT: ClassVar[Mapping[str, Callable[[object], object]]] = {
        "timeOfLastStatusChange": _date,
        "aaguid": _aaguid,
        "attestationCertificateKeyIdentifiers": _hex_list,
        "rogueListHash": _hex,
    }


@dataclass(eq=False, frozen=True)
class MetadataBlobPayload(_MdsObject):
    """The payload of a verified MDS3 BLOB."""

    legal_header: str
    no: int
    next_update: datetime.date
    entries: Sequence[MetadataBlobPayloadEntry]

    _CONVERT: ClassVar[Mapping[str, Callable[[object], object]]] = {"nextUpdate": _date}


EntryFilter = Callable[[MetadataBlobPayloadEntry], bool]
"""A predicate over metadata entries: False leaves the entry out of lookups."""

LookupFilter = Callable[[MetadataBlobPayloadEntry, Sequence[bytes]], bool]
"""A predicate over an entry and an attestation's trust path (DER): False fails that attestation."""


def filter_revoked(entry: MetadataBlobPayloadEntry) -> bool:
    """False for an entry with a REVOKED status report (MdsAttestationVerifier's default entry filter)."""
    return not any(r.status == AuthenticatorStatus.REVOKED for r in entry.status_reports)


def filter_attestation_key_compromised(entry: MetadataBlobPayloadEntry, certificate_chain: Sequence[bytes]) -> bool:
    """False when a status report marks a certificate of the chain as ATTESTATION_KEY_COMPROMISE."""
    return not any(
        r.status == AuthenticatorStatus.ATTESTATION_KEY_COMPROMISE and r.certificate in certificate_chain
        for r in entry.status_reports
    )


def parse_blob(
    blob: bytes,
    trust_root: bytes | None,
    *,
    now: datetime.datetime | None = None,
    allow_expired: bool = False,
) -> MetadataBlobPayload:
    """Verify a MDS3 BLOB against the DER root certificate ``trust_root`` and parse its payload.

    The verification is :func:`aioctap.server.mds.parse_metadata_blob`'s (signature, chain at ``now``,
    ``nextUpdate`` unless ``allow_expired``): :class:`~aioctap.server.errors.MetadataError` when it fails, and when
    ``trust_root`` is None (python-fido2 then parses the BLOB unverified; aioctap does not).
    """
    if trust_root is None:
        raise MetadataError("a MDS3 root certificate is needed to verify the metadata BLOB")
    try:
        root = load_der(trust_root, "MDS3 root")
    except AttestationError as e:
        raise MetadataError(str(e)) from None
    verified = parse_metadata_blob(blob, root, now=now, allow_expired=allow_expired)
    try:
        return MetadataBlobPayload(
            verified.legal_header,
            verified.no,
            verified.next_update,
            [MetadataBlobPayloadEntry.from_dict(e.raw) for e in verified.entries],
        )
    except (ValueError, TypeError) as e:
        raise MetadataError(f"metadata BLOB entry is malformed: {e}") from None


_last_entry: contextvars.ContextVar[MetadataBlobPayloadEntry | None] = contextvars.ContextVar("_last_entry")


class MdsAttestationVerifier(AttestationVerifier):
    """An AttestationVerifier whose roots are the MDS3 metadata's: the entry of the authenticator (by AAGUID, else
    by the key identifier of a trust path certificate) gives the attestation root certificates.

    ``entry_filter`` leaves entries out of every lookup (default: :func:`filter_revoked`); ``attestation_filter``
    fails the verification of an attestation whose entry and trust path it refuses (default:
    :func:`filter_attestation_key_compromised`; it is not applied by the ``find_entry_by_*`` methods). Passing
    None removes a filter. Whatever the filters, an attestation whose entry's latest status in effect is revoked or
    compromised (:data:`aioctap.server.mds.REJECTED_STATUSES`) is :class:`~aioctap.attestation.UntrustedAttestation`,
    as in aioctap's own ceremonies.
    """

    def __init__(
        self,
        blob: MetadataBlobPayload,
        entry_filter: EntryFilter | None = filter_revoked,
        attestation_filter: LookupFilter | None = filter_attestation_key_compromised,
        attestation_types: Sequence[Attestation] | None = None,
    ) -> None:
        super().__init__(attestation_types)
        self._attestation_filter = attestation_filter
        entries = [e for e in blob.entries if entry_filter is None or entry_filter(e)]
        self._aaguid_table = {bytes(e.aaguid): e for e in entries if e.aaguid}
        self._ski_table = {ski: e for e in entries for ski in e.attestation_certificate_key_identifiers or []}

    def find_entry_by_aaguid(self, aaguid: bytes) -> MetadataBlobPayloadEntry | None:
        """The entry of an AAGUID, or None (the attestation filter is not applied)."""
        return self._aaguid_table.get(bytes(aaguid))

    def find_entry_by_chain(self, certificate_chain: Sequence[bytes]) -> MetadataBlobPayloadEntry | None:
        """The entry listing the key identifier of a certificate of the chain (DER), or None (no attestation filter)."""
        for der in certificate_chain:
            try:
                ski = key_identifier(load_der(der, "certificate chain"))
            except AttestationError:
                continue
            if ski in self._ski_table:
                return self._ski_table[ski]
        return None

    def ca_lookup(self, attestation_result: AttestationResult, auth_data: AuthenticatorData) -> bytes | None:
        """The metadata's attestation root whose subject issued the trust path's last certificate, or None."""
        cred = auth_data.credential_data
        if cred is None or not attestation_result.trust_path:
            return None
        if cred.aaguid:
            entry = self.find_entry_by_aaguid(cred.aaguid)
        else:
            entry = self.find_entry_by_chain(attestation_result.trust_path)
        if entry is None or entry.metadata_statement is None:
            return None
        if self._attestation_filter is not None and not self._attestation_filter(entry, attestation_result.trust_path):
            return None
        try:  # aioctap's rule too: the latest status in effect must not be revoked or compromised
            MetadataBlob.check_status(MetadataEntry.parse(dict(entry)), datetime.datetime.now(datetime.UTC).date())
        except (AuthenticatorStatusError, MetadataError) as e:  # MetadataError: an entry built by hand, malformed
            raise UntrustedAttestation(str(e)) from e
        try:
            issuer = load_der(attestation_result.trust_path[-1], "trust path").issuer
        except AttestationError:
            return None
        for root in entry.metadata_statement.attestation_root_certificates:
            try:
                subject = x509.load_der_x509_certificate(root).subject
            except ValueError:
                continue
            if subject == issuer:
                _last_entry.set(entry)
                return root
        return None

    def find_entry(
        self, attestation_object: AttestationObject, client_data_hash: bytes
    ) -> MetadataBlobPayloadEntry | None:
        """The entry of a verified attestation (its trust path leads to one of the entry's roots and it passes the
        attestation filter), or None when it is untrusted."""
        token = _last_entry.set(None)
        try:
            self.verify_attestation(attestation_object, client_data_hash)
            return _last_entry.get()
        except UntrustedAttestation:
            return None
        finally:
            _last_entry.reset(token)
