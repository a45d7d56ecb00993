"""Shared pieces of the attestation formats: result types, trust anchors, certificate and chain checks."""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, mldsa, padding, rsa
from cryptography.x509 import verification as xv
from cryptography.x509.oid import ObjectIdentifier

from ...cose import CoseError
from ...webauthn import Aaguid, AttestedCredentialData, AuthenticatorData
from ..errors import (
    AttestationCertificateError,
    AttestationSignatureError,
    MalformedAttestationError,
    UntrustedAttestationError,
)

__all__ = [
    "AAGUID_OID",
    "AttestationContext",
    "AttestationResult",
    "AttestationType",
    "FormatResult",
    "FormatVerifier",
    "TrustAnchors",
    "cert_chain",
    "check_aaguid_extension",
    "check_validity",
    "hash_for_alg",
    "key_matches_credential",
    "load_der",
    "public_key_of",
    "require_alg_sig",
    "verify_chain",
    "verify_with_cert",
]

AAGUID_OID = ObjectIdentifier("1.3.6.1.4.1.45724.1.1.4")  # id-fido-gen-ce-aaguid


class AttestationType(StrEnum):
    """WebAuthn L3 §6.5.4 attestation types."""

    NONE = "none"
    SELF = "self"
    BASIC = "basic"
    ATT_CA = "attca"
    ANON_CA = "anonca"


@dataclass
class TrustAnchors:
    """Root certificates trusted for attestation: for every format, per format, and per AAGUID."""

    roots: list[x509.Certificate] = field(default_factory=list)
    by_format: dict[str, list[x509.Certificate]] = field(default_factory=dict)
    by_aaguid: dict[bytes, list[x509.Certificate]] = field(default_factory=dict)

    def for_attestation(self, fmt: str, aaguid: bytes) -> list[x509.Certificate]:
        """The roots trusted for one attestation: the global ones, those of format ``fmt`` and those of ``aaguid``."""
        return [*self.roots, *self.by_format.get(fmt, []), *self.by_aaguid.get(bytes(aaguid), [])]

    @classmethod
    def from_pem(cls, *pems: bytes) -> TrustAnchors:
        """Anchors trusted for every format, from PEM data (each argument may hold several certificates)."""
        return cls(roots=[c for pem in pems for c in x509.load_pem_x509_certificates(pem)])

    def merged(self, other: TrustAnchors) -> TrustAnchors:
        """A new set holding the anchors of both."""
        by_format = {k: list(v) for k, v in self.by_format.items()}
        for k, v in other.by_format.items():
            by_format.setdefault(k, []).extend(v)
        by_aaguid = {k: list(v) for k, v in self.by_aaguid.items()}
        for kb, v in other.by_aaguid.items():
            by_aaguid.setdefault(kb, []).extend(v)
        return TrustAnchors([*self.roots, *other.roots], by_format, by_aaguid)


@dataclass(frozen=True)
class AttestationResult:
    """What an attestation statement proved."""

    fmt: str
    type: AttestationType
    trust_path: tuple[x509.Certificate, ...]
    trusted: bool
    aaguid: Aaguid


@dataclass(frozen=True)
class FormatResult:
    """A format verifier's answer: attestation type, trust path, and whether the path reached an anchor."""

    type: AttestationType
    trust_path: tuple[x509.Certificate, ...] = ()
    trusted: bool = False


@dataclass(frozen=True)
class AttestationContext:
    """Everything a format verifier needs (WebAuthn L3 §8 "verification procedure" inputs)."""

    att_stmt: Mapping[str, object]
    auth_data: AuthenticatorData
    client_data_hash: bytes
    anchors: list[x509.Certificate]
    now: datetime.datetime
    safetynet_max_age: datetime.timedelta = datetime.timedelta(seconds=60)
    android_key_tee_only: bool = False

    @property
    def credential(self) -> AttestedCredentialData:
        """The attested credential data; MalformedAttestationError when the authenticator data has none."""
        cred = self.auth_data.credential_data
        if cred is None:
            raise MalformedAttestationError("authenticator data has no attested credential data")
        return cred

    @property
    def signed_data(self) -> bytes:
        """authenticatorData || clientDataHash, what most formats sign."""
        return bytes(self.auth_data) + self.client_data_hash


FormatVerifier = Callable[[AttestationContext], FormatResult]


def cert_chain(att_stmt: Mapping[str, Any], name: str = "x5c") -> list[x509.Certificate]:
    x5c = att_stmt.get(name)
    if not isinstance(x5c, list) or not x5c or not all(isinstance(c, bytes) for c in x5c):
        raise MalformedAttestationError(f"attStmt.{name} must be a non-empty array of DER certificates")
    if len(x5c) > 16:
        raise MalformedAttestationError(f"attStmt.{name} holds more than 16 certificates")
    return [load_der(c, f"attStmt.{name}") for c in x5c]


def load_der(der: bytes, where: str) -> x509.Certificate:
    try:
        cert = x509.load_der_x509_certificate(der)
        # parse the extensions now (cryptography parses them lazily): a certificate with a duplicate or
        # malformed extension is invalid (RFC 5280 §4.2) and must not crash a later check
        cert.extensions  # noqa: B018
    except (ValueError, x509.InvalidVersion, x509.DuplicateExtension, x509.UnsupportedGeneralNameType) as e:
        raise MalformedAttestationError(f"{where} holds an invalid certificate: {e}") from None
    return cert


def require_alg_sig(att_stmt: Mapping[str, Any]) -> tuple[int, bytes]:
    alg, sig = att_stmt.get("alg"), att_stmt.get("sig")
    if not isinstance(alg, int) or isinstance(alg, bool):
        raise MalformedAttestationError("attStmt.alg is missing or not an integer")
    if not isinstance(sig, bytes):
        raise MalformedAttestationError("attStmt.sig is missing or not a byte string")
    return alg, sig


# the hash of each COSE signature algorithm: ECDSA, RSASSA-PKCS1-v1_5, RSASSA-PSS, EdDSA (SHA-512, for TPM extraData)
_HASHES: dict[int, hashes.HashAlgorithm] = {
    -7: hashes.SHA256(), -35: hashes.SHA384(), -36: hashes.SHA512(),
    -257: hashes.SHA256(), -258: hashes.SHA384(), -259: hashes.SHA512(), -65535: hashes.SHA1(),
    -37: hashes.SHA256(), -38: hashes.SHA384(), -39: hashes.SHA512(), -8: hashes.SHA512(),
}  # fmt: skip
_EC_ALGS, _RSA_PKCS1_ALGS = (-7, -35, -36), (-257, -258, -259, -65535)
# ML-DSA-44/65/87 (COSE -48/-49/-50): the certificate key's parameter set must be the one alg names
_MLDSA_KEYS: dict[int, type[mldsa.MLDSA44PublicKey | mldsa.MLDSA65PublicKey | mldsa.MLDSA87PublicKey]] = {
    -48: mldsa.MLDSA44PublicKey, -49: mldsa.MLDSA65PublicKey, -50: mldsa.MLDSA87PublicKey,
}  # fmt: skip


def hash_for_alg(alg: int) -> Callable[[bytes], bytes]:
    """The hash function of a COSE signature algorithm (for TPM extraData)."""
    h = _HASHES.get(alg)
    if h is None:
        raise AttestationSignatureError(f"attStmt.alg {alg} is not a supported signature algorithm")
    return lambda data: hashlib.new(h.name, data).digest()


def public_key_of(cert: x509.Certificate, what: str = "attestation") -> Any:
    """The certificate's public key; a SubjectPublicKeyInfo that does not parse is a typed error."""
    try:
        return cert.public_key()
    except (ValueError, UnsupportedAlgorithm) as e:
        raise MalformedAttestationError(f"{what} certificate has an invalid or unsupported public key: {e}") from None


def verify_with_cert(
    cert: x509.Certificate, alg: int, signature: bytes, data: bytes, what: str = "attestation"
) -> None:
    """Verify ``signature`` over ``data`` with the certificate's key under COSE algorithm ``alg``."""
    key = public_key_of(cert, what)
    try:
        if isinstance(key, ec.EllipticCurvePublicKey):
            if alg not in _EC_ALGS:
                raise AttestationSignatureError(f"{what}: alg {alg} does not fit the certificate's EC key")
            key.verify(signature, data, ec.ECDSA(_HASHES[alg]))
        elif isinstance(key, rsa.RSAPublicKey):
            if alg in _RSA_PKCS1_ALGS:
                key.verify(signature, data, padding.PKCS1v15(), _HASHES[alg])
            elif alg == -37:
                pss = padding.PSS(padding.MGF1(hashes.SHA256()), padding.PSS.AUTO)
                key.verify(signature, data, pss, hashes.SHA256())
            else:
                raise AttestationSignatureError(f"{what}: alg {alg} does not fit the certificate's RSA key")
        elif isinstance(key, ed25519.Ed25519PublicKey) and alg == -8:
            key.verify(signature, data)
        elif alg in _MLDSA_KEYS and isinstance(key, _MLDSA_KEYS[alg]):
            key.verify(signature, data)  # FIPS 204, empty context (draft-ietf-cose-dilithium)
        else:
            raise AttestationSignatureError(f"{what}: certificate key type {type(key).__name__} is not supported")
    except InvalidSignature:
        raise AttestationSignatureError(f"{what} signature does not verify with the attestation certificate") from None
    except ValueError as e:
        raise AttestationSignatureError(f"{what}: malformed signature: {e}") from None


def key_matches_credential(cert: x509.Certificate, cred: AttestedCredentialData, what: str) -> None:
    """The certificate's subject public key is the credential public key (android-key, apple)."""
    try:
        same = cred.public_key.public_key() == public_key_of(cert, what)
    except CoseError:
        same = False
    if not same:
        raise AttestationCertificateError(f"{what}: the certificate public key differs from the credential public key")


def check_validity(cert: x509.Certificate, now: datetime.datetime) -> None:
    if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
        raise AttestationCertificateError(
            f"certificate {cert.subject.rfc4514_string()!r} is not valid at {now.isoformat()} "
            f"(valid {cert.not_valid_before_utc.isoformat()} to {cert.not_valid_after_utc.isoformat()})"
        )


# -- chains: cryptography's path validation (RFC 5280 §6) with the attestation formats' extension policies ----------
#
# cryptography.x509.verification checks, whatever the extension policies: the signatures up the chain, each
# certificate's validity at ``now``, issuer/subject name chaining, pathLenConstraint (RFC 5280 §4.2.1.9) and the
# chain depth, the signature algorithms and key sizes of the Web PKI profile. Its default policies are the CA/B
# Forum's for TLS: an end-entity certificate must have a subjectAltName and the serverAuth or clientAuth EKU.
# Attestation certificates are not TLS certificates (a TPM AIK certificate's subject is empty; a packed one has no
# SAN and no EKU), so each format gets the policies below instead: what RFC 5280 asks of a CA and an end entity,
# and the extended key usage the format requires (WebAuthn L3 §8.3.1: tcg-kp-AIKCertificate for tpm). Relaxed
# against the TLS defaults, on purpose: no SAN required, EKU only where the format names one, no
# authorityKeyIdentifier/subjectKeyIdentifier required, extensions' criticality as the issuer chose. A critical
# certificatePolicies extension (Microsoft's TPM AIK certificates have one) is accepted: the relying party has no
# policy requirement (RFC 5280 §6.1.1 (c): initial-policy-set any-policy), so any policy satisfies it.


def _ca_basic_constraints(policy: xv.Policy, cert: x509.Certificate, bc: x509.BasicConstraints) -> None:
    if not bc.ca:  # RFC 5280 §6.1.4 (k): an issuer's basicConstraints must say cA
        raise ValueError(f"certificate {cert.subject.rfc4514_string()!r} issues certificates but is not a CA")


def _ca_key_usage(policy: xv.Policy, cert: x509.Certificate, ku: x509.KeyUsage | None) -> None:
    if ku is not None and not ku.key_cert_sign:  # RFC 5280 §4.2.1.3, §6.1.4 (n)
        raise ValueError(f"CA certificate {cert.subject.rfc4514_string()!r} keyUsage lacks keyCertSign")


def _ee_basic_constraints(policy: xv.Policy, cert: x509.Certificate, bc: x509.BasicConstraints | None) -> None:
    if bc is not None and bc.ca:
        raise ValueError("the attestation certificate must not be a CA certificate")


def _ee_key_usage(policy: xv.Policy, cert: x509.Certificate, ku: x509.KeyUsage | None) -> None:
    if ku is not None and not ku.digital_signature:  # the attestation key signs (RFC 5280 §4.2.1.3)
        raise ValueError("the attestation certificate's keyUsage lacks digitalSignature")


def _ee_eku(required: ObjectIdentifier) -> Callable[[xv.Policy, x509.Certificate, x509.ExtendedKeyUsage], None]:
    def check(policy: xv.Policy, cert: x509.Certificate, eku: x509.ExtendedKeyUsage) -> None:
        if required not in eku:
            raise ValueError(f"the attestation certificate's extendedKeyUsage lacks {required.dotted_string}")

    return check


def _extension_policies(eku: ObjectIdentifier | None) -> tuple[xv.ExtensionPolicy, xv.ExtensionPolicy]:
    """(CA policy, end-entity policy) for a chain whose leaf must carry ``eku`` (None: no EKU requirement)."""
    agnostic = xv.Criticality.AGNOSTIC
    ca = (
        xv.ExtensionPolicy.permit_all()
        .require_present(x509.BasicConstraints, agnostic, _ca_basic_constraints)
        .may_be_present(x509.KeyUsage, agnostic, _ca_key_usage)
        .may_be_present(x509.CertificatePolicies, agnostic, None)
    )
    ee = (
        xv.ExtensionPolicy.permit_all()
        .may_be_present(x509.BasicConstraints, agnostic, _ee_basic_constraints)
        .may_be_present(x509.KeyUsage, agnostic, _ee_key_usage)
        .may_be_present(x509.CertificatePolicies, agnostic, None)
    )
    if eku is not None:
        ee = ee.require_present(x509.ExtendedKeyUsage, agnostic, _ee_eku(eku))
    return ca, ee


def _path(
    chain: Sequence[x509.Certificate],
    anchors: Sequence[x509.Certificate],
    now: datetime.datetime,
    eku: ObjectIdentifier | None,
) -> None:
    """A valid path from ``chain[0]`` through ``chain`` to one of ``anchors``, or VerificationError."""
    ca_policy, ee_policy = _extension_policies(eku)
    verifier = (
        xv.PolicyBuilder()
        .store(xv.Store(list(anchors)))
        .time(now)
        .max_chain_depth(len(chain))
        .extension_policies(ca_policy=ca_policy, ee_policy=ee_policy)
        .build_client_verifier()
    )
    verifier.verify(chain[0], list(chain[1:]))


def verify_chain(
    chain: Sequence[x509.Certificate],
    anchors: Sequence[x509.Certificate],
    now: datetime.datetime,
    *,
    eku: ObjectIdentifier | None = None,
) -> bool:
    """Validate ``chain`` (leaf first) at ``now`` with RFC 5280 path validation; True if it reaches one of ``anchors``.

    With no anchors, the chain is only checked for internal consistency, as if its last certificate were trusted
    (False). With anchors that the chain does not reach, :class:`UntrustedAttestationError`. ``eku``: the extended
    key usage the attestation format requires of the leaf.
    """
    for cert in chain:
        check_validity(cert, now)
    try:
        _path(chain, chain[-1:], now, eku)
    except xv.VerificationError as e:
        raise AttestationCertificateError(f"attestation certificate chain is not valid: {e}") from None
    if not anchors:
        return False
    try:
        _path(chain, anchors, now, eku)
    except xv.VerificationError as e:
        raise UntrustedAttestationError(f"attestation certificate chain does not lead to a trusted root: {e}") from None
    return True


def check_aaguid_extension(cert: x509.Certificate, aaguid: bytes, what: str) -> None:
    """If the id-fido-gen-ce-aaguid extension is present, it is non-critical and holds the AAGUID."""
    try:
        ext = cert.extensions.get_extension_for_oid(AAGUID_OID)
    except x509.ExtensionNotFound:
        return
    except ValueError as e:
        raise AttestationCertificateError(f"{what}: certificate extensions do not parse: {e}") from None
    if ext.critical:
        raise AttestationCertificateError(f"{what}: the id-fido-gen-ce-aaguid extension must not be critical")
    raw = ext.value.value if isinstance(ext.value, x509.UnrecognizedExtension) else b""
    if raw[:2] != b"\x04\x10" or raw[2:] != bytes(aaguid):
        raise AttestationCertificateError(
            f"{what}: the certificate's AAGUID extension differs from the authenticator data's AAGUID"
        )
