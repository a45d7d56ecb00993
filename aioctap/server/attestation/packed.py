"""§8.2 Packed attestation statement format (self attestation and x5c)."""

from __future__ import annotations

from cryptography import x509
from cryptography.x509.oid import NameOID

from ...cose import CoseError
from ..errors import AttestationCertificateError, AttestationSignatureError
from ._common import (
    AttestationContext,
    AttestationType,
    FormatResult,
    cert_chain,
    check_aaguid_extension,
    require_alg_sig,
    verify_chain,
    verify_with_cert,
)

__all__ = ["check_packed_certificate", "verify_packed"]


def check_packed_certificate(cert: x509.Certificate, aaguid: bytes) -> None:
    """§8.2.1 packed attestation statement certificate requirements."""
    if cert.version != x509.Version.v3:
        raise AttestationCertificateError("packed attestation certificate must be X.509 version 3")
    subject = cert.subject
    for oid, name in ((NameOID.COUNTRY_NAME, "C"), (NameOID.ORGANIZATION_NAME, "O"), (NameOID.COMMON_NAME, "CN")):
        if not subject.get_attributes_for_oid(oid):
            raise AttestationCertificateError(f"packed attestation certificate subject lacks {name}")
    ou = [a.value for a in subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)]
    if ou != ["Authenticator Attestation"]:
        raise AttestationCertificateError("packed attestation certificate OU is not 'Authenticator Attestation'")
    try:
        bc = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        raise AttestationCertificateError("packed attestation certificate lacks basic constraints") from None
    except ValueError as e:
        raise AttestationCertificateError(f"packed attestation certificate extensions do not parse: {e}") from None
    if bc.ca:
        raise AttestationCertificateError("packed attestation certificate must not be a CA (basic constraints CA true)")
    check_aaguid_extension(cert, aaguid, "packed attestation certificate")


def verify_packed(ctx: AttestationContext) -> FormatResult:
    """The packed format (WebAuthn L3 §8.2): full attestation with an x5c chain, or self attestation by the
    credential key."""
    alg, sig = require_alg_sig(ctx.att_stmt)
    cred = ctx.credential
    if "x5c" not in ctx.att_stmt:
        if alg != cred.public_key.get(3):
            raise AttestationSignatureError("self attestation alg differs from the credential public key's alg")
        try:
            cred.public_key.verify(ctx.signed_data, sig)
        except CoseError:
            raise AttestationSignatureError("self attestation signature does not verify with the credential") from None
        return FormatResult(AttestationType.SELF)
    chain = cert_chain(ctx.att_stmt)
    verify_with_cert(chain[0], alg, sig, ctx.signed_data, "packed attestation")
    check_packed_certificate(chain[0], cred.aaguid)
    trusted = verify_chain(chain, ctx.anchors, ctx.now)
    return FormatResult(AttestationType.BASIC, tuple(chain), trusted)
