"""Shared pieces of the attestation formats: result types, trust anchors, certificate and chain checks."""

from __future__ import annotations

import datetime
import hashlib
import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
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

    att_stmt: Mapping[str, Any]
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


_EC_HASHES: dict[int, hashes.HashAlgorithm] = {-7: hashes.SHA256(), -35: hashes.SHA384(), -36: hashes.SHA512()}


def hash_for_alg(alg: int) -> Callable[[bytes], bytes]:
    """The hash function of a COSE signature algorithm (for TPM extraData)."""
    name = {-7: "sha256", -257: "sha256", -37: "sha256", -35: "sha384", -258: "sha384", -38: "sha384",
            -36: "sha512", -259: "sha512", -39: "sha512", -65535: "sha1", -8: "sha512"}.get(alg)  # fmt: skip
    if name is None:
        raise AttestationSignatureError(f"attStmt.alg {alg} is not a supported signature algorithm")
    return lambda data: hashlib.new(name, data).digest()


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
            h = _EC_HASHES.get(alg)
            if h is None:
                raise AttestationSignatureError(f"{what}: alg {alg} does not fit the certificate's EC key")
            key.verify(signature, data, ec.ECDSA(h))
        elif isinstance(key, rsa.RSAPublicKey):
            if alg == -257:
                key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
            elif alg == -258:
                key.verify(signature, data, padding.PKCS1v15(), hashes.SHA384())
            elif alg == -259:
                key.verify(signature, data, padding.PKCS1v15(), hashes.SHA512())
            elif alg == -37:
                pss = padding.PSS(padding.MGF1(hashes.SHA256()), padding.PSS.AUTO)
                key.verify(signature, data, pss, hashes.SHA256())
            elif alg == -65535:
                key.verify(signature, data, padding.PKCS1v15(), hashes.SHA1())
            else:
                raise AttestationSignatureError(f"{what}: alg {alg} does not fit the certificate's RSA key")
        elif isinstance(key, ed25519.Ed25519PublicKey) and alg == -8:
            key.verify(signature, data)
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


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return cert.version is x509.Version.v1  # v1 roots predate extensions
    except ValueError:
        return False


def _issued_by(child: x509.Certificate, parent: x509.Certificate) -> bool:
    try:
        child.verify_directly_issued_by(parent)
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
        return False
    return True


def verify_chain(
    chain: Sequence[x509.Certificate], anchors: Sequence[x509.Certificate], now: datetime.datetime
) -> bool:
    """Check validity at ``now``, signatures and CA flags up ``chain``; True if it reaches one of ``anchors``.

    With no anchors, the chain is only checked for internal consistency (False). With anchors that the chain
    does not reach, :class:`UntrustedAttestationError`.
    """
    for cert in chain:
        check_validity(cert, now)
    for child, parent in itertools.pairwise(chain):
        if not _issued_by(child, parent):
            raise AttestationCertificateError(
                f"attestation chain is broken: {child.subject.rfc4514_string()!r} is not signed by the next certificate"
            )
        if not _is_ca(parent):
            raise AttestationCertificateError(
                f"attestation chain certificate {parent.subject.rfc4514_string()!r} is not a CA"
            )
    if not anchors:
        return False
    for cert in chain:
        for anchor in anchors:
            if cert == anchor:
                return True
            if _issued_by(cert, anchor):
                if not _is_ca(anchor):
                    continue
                check_validity(anchor, now)
                return True
    raise UntrustedAttestationError("attestation certificate chain does not lead to a trusted root")


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
