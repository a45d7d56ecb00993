"""Attestation statement verification (WebAuthn L3 §8): none, packed (self and x5c), fido-u2f.

``verify_attestation(fmt, att_stmt, auth_data, client_data_hash, *, trust_anchors=None, now=None)``
returns an :class:`AttestationResult` or raises an :class:`~aioctap.server.errors.AttestationError`
subclass that names the failed check.
"""

from __future__ import annotations

import datetime
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.x509.oid import NameOID, ObjectIdentifier

from ...cose import ES256, CoseError
from ...webauthn import Aaguid, AuthenticatorData
from ..errors import AttestationError, UntrustedAttestationError

__all__ = ["AttestationResult", "AttestationType", "TrustAnchors", "verify_attestation"]

AAGUID_OID = ObjectIdentifier("1.3.6.1.4.1.45724.1.1.4")


class AttestationType(StrEnum):
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
        return [*self.roots, *self.by_format.get(fmt, []), *self.by_aaguid.get(bytes(aaguid), [])]

    @classmethod
    def from_pem(cls, *pems: bytes) -> TrustAnchors:
        return cls(roots=[c for pem in pems for c in x509.load_pem_x509_certificates(pem)])


@dataclass(frozen=True)
class AttestationResult:
    """What an attestation statement proved."""

    fmt: str
    type: AttestationType
    trust_path: tuple[x509.Certificate, ...]
    trusted: bool
    aaguid: Aaguid


def _cert_chain(att_stmt: Mapping[str, Any]) -> list[x509.Certificate]:
    x5c = att_stmt.get("x5c")
    if not isinstance(x5c, list) or not x5c or not all(isinstance(c, bytes) for c in x5c):
        raise AttestationError("attStmt.x5c must be a non-empty array of DER certificates")
    try:
        return [x509.load_der_x509_certificate(c) for c in x5c]
    except ValueError as e:
        raise AttestationError(f"attStmt.x5c holds an invalid certificate: {e}") from None


def _verify_with_cert(cert: x509.Certificate, alg: int, signature: bytes, data: bytes) -> None:
    key = cert.public_key()
    try:
        if isinstance(key, ec.EllipticCurvePublicKey):
            h = {-7: hashes.SHA256(), -35: hashes.SHA384(), -36: hashes.SHA512()}.get(alg)
            if h is None:
                raise AttestationError(f"attStmt.alg {alg} does not fit the certificate's EC key")
            key.verify(signature, data, ec.ECDSA(h))
        elif isinstance(key, rsa.RSAPublicKey):
            if alg == -257:
                key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
            elif alg == -37:
                key.verify(
                    signature, data, padding.PSS(padding.MGF1(hashes.SHA256()), padding.PSS.MAX_LENGTH), hashes.SHA256()
                )
            elif alg == -65535:
                key.verify(signature, data, padding.PKCS1v15(), hashes.SHA1())
            else:
                raise AttestationError(f"attStmt.alg {alg} does not fit the certificate's RSA key")
        elif isinstance(key, ed25519.Ed25519PublicKey) and alg == -8:
            key.verify(signature, data)
        else:
            raise AttestationError("attestation certificate key type is not supported")
    except InvalidSignature:
        raise AttestationError("attestation signature does not verify with the attestation certificate") from None
    except ValueError as e:
        raise AttestationError(f"malformed attestation signature: {e}") from None


def _check_validity(cert: x509.Certificate, now: datetime.datetime) -> None:
    if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
        raise AttestationError(
            f"certificate {cert.subject.rfc4514_string()!r} is not valid at {now.isoformat()} "
            f"(valid {cert.not_valid_before_utc.isoformat()} to {cert.not_valid_after_utc.isoformat()})"
        )


def _verify_chain(chain: Sequence[x509.Certificate], anchors: list[x509.Certificate], now: datetime.datetime) -> bool:
    """Check signatures and validity up the chain; True if it ends at one of ``anchors``."""
    for cert in chain:
        _check_validity(cert, now)
    for child, parent in itertools.pairwise(chain):
        try:
            child.verify_directly_issued_by(parent)
        except (ValueError, TypeError, InvalidSignature):
            raise AttestationError("attestation certificate chain is broken (a signature does not verify)") from None
    if not anchors:
        return False
    last = chain[-1]
    for anchor in anchors:
        if last == anchor:
            return True
        try:
            last.verify_directly_issued_by(anchor)
        except (ValueError, TypeError, InvalidSignature):
            continue
        _check_validity(anchor, now)
        return True
    raise UntrustedAttestationError("attestation certificate chain does not lead to a trusted root")


def _require_alg_sig(att_stmt: Mapping[str, Any]) -> tuple[int, bytes]:
    alg, sig = att_stmt.get("alg"), att_stmt.get("sig")
    if not isinstance(alg, int) or isinstance(alg, bool):
        raise AttestationError("attStmt.alg is missing or not an integer")
    if not isinstance(sig, bytes):
        raise AttestationError("attStmt.sig is missing or not a byte string")
    return alg, sig


def _packed(
    att_stmt: Mapping[str, Any], auth_data: AuthenticatorData, cdh: bytes, anchors: list[x509.Certificate], now: Any
) -> tuple[AttestationType, tuple[x509.Certificate, ...], bool]:
    """§8.2 packed."""
    alg, sig = _require_alg_sig(att_stmt)
    cred = auth_data.credential_data
    assert cred is not None
    data = bytes(auth_data) + cdh
    if "x5c" not in att_stmt:
        if alg != cred.public_key.get(3):
            raise AttestationError("self attestation alg differs from the credential public key's alg")
        try:
            cred.public_key.verify(data, sig)
        except CoseError:
            raise AttestationError("self attestation signature does not verify with the credential key") from None
        return AttestationType.SELF, (), False
    chain = _cert_chain(att_stmt)
    leaf = chain[0]
    _verify_with_cert(leaf, alg, sig, data)
    # §8.2.1 packed attestation statement certificate requirements
    if leaf.version != x509.Version.v3:
        raise AttestationError("packed attestation certificate must be X.509 version 3")
    subject = leaf.subject
    for oid, name in ((NameOID.COUNTRY_NAME, "C"), (NameOID.ORGANIZATION_NAME, "O"), (NameOID.COMMON_NAME, "CN")):
        if not subject.get_attributes_for_oid(oid):
            raise AttestationError(f"packed attestation certificate subject lacks {name}")
    ou = [a.value for a in subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)]
    if ou != ["Authenticator Attestation"]:
        raise AttestationError("packed attestation certificate subject OU must be 'Authenticator Attestation'")
    try:
        bc = leaf.extensions.get_extension_for_class(x509.BasicConstraints).value
        if bc.ca:
            raise AttestationError("packed attestation certificate must not be a CA (basic constraints CA true)")
    except x509.ExtensionNotFound:
        raise AttestationError("packed attestation certificate lacks basic constraints") from None
    try:
        ext = leaf.extensions.get_extension_for_oid(AAGUID_OID)
    except x509.ExtensionNotFound:
        ext = None
    if ext is not None:
        if ext.critical:
            raise AttestationError("the id-fido-gen-ce-aaguid extension must not be critical")
        raw = ext.value.value if isinstance(ext.value, x509.UnrecognizedExtension) else b""
        if raw[:2] != b"\x04\x10" or raw[2:] != bytes(cred.aaguid):
            raise AttestationError("the certificate's AAGUID extension differs from the authenticator data's AAGUID")
    trusted = _verify_chain(chain, anchors, now)
    return AttestationType.BASIC, tuple(chain), trusted


def _fido_u2f(
    att_stmt: Mapping[str, Any], auth_data: AuthenticatorData, cdh: bytes, anchors: list[x509.Certificate], now: Any
) -> tuple[AttestationType, tuple[x509.Certificate, ...], bool]:
    """§8.6 fido-u2f."""
    sig = att_stmt.get("sig")
    if not isinstance(sig, bytes):
        raise AttestationError("attStmt.sig is missing or not a byte string")
    chain = _cert_chain(att_stmt)
    if len(chain) != 1:
        raise AttestationError("fido-u2f x5c must hold exactly one certificate")
    key = chain[0].public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        raise AttestationError("fido-u2f attestation certificate key must be P-256")
    cred = auth_data.credential_data
    assert cred is not None
    if not isinstance(cred.public_key, ES256):
        raise AttestationError("fido-u2f credential public key must be ES256 (P-256)")
    public = b"\x04" + cred.public_key[-2] + cred.public_key[-3]
    data = b"\x00" + auth_data.rp_id_hash + cdh + cred.credential_id + public
    try:
        key.verify(sig, data, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise AttestationError("fido-u2f attestation signature does not verify") from None
    trusted = _verify_chain(chain, anchors, now)
    return AttestationType.BASIC, tuple(chain), trusted


FORMATS = {"packed": _packed, "fido-u2f": _fido_u2f}


def verify_attestation(
    fmt: str,
    att_stmt: Mapping[str, Any],
    auth_data: AuthenticatorData,
    client_data_hash: bytes,
    *,
    trust_anchors: TrustAnchors | None = None,
    now: datetime.datetime | None = None,
) -> AttestationResult:
    """Verify one attestation statement (WebAuthn L3 §7.1 steps 19-21)."""
    cred = auth_data.credential_data
    if cred is None:
        raise AttestationError("authenticator data has no attested credential data")
    if not isinstance(att_stmt, Mapping):
        raise AttestationError("attStmt must be a map")
    when = now or datetime.datetime.now(datetime.UTC)
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.UTC)
    if fmt == "none":
        if att_stmt:
            raise AttestationError("'none' attestation must have an empty attStmt")
        return AttestationResult(fmt, AttestationType.NONE, (), False, cred.aaguid)
    verifier = FORMATS.get(fmt)
    if verifier is None:
        raise AttestationError(f"unsupported attestation statement format {fmt!r}")
    anchors = trust_anchors.for_attestation(fmt, cred.aaguid) if trust_anchors else []
    kind, path, trusted = verifier(att_stmt, auth_data, client_data_hash, anchors, when)
    if trust_anchors is not None and kind is not AttestationType.SELF and not trusted:
        raise UntrustedAttestationError(f"no trust anchor was given for {fmt!r} attestation of this authenticator")
    return AttestationResult(fmt, kind, path, trusted, cred.aaguid)
