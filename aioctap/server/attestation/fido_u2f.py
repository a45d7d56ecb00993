"""§8.6 FIDO U2F attestation statement format."""

from __future__ import annotations

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from ...cose import ES256
from ..errors import AttestationCertificateError, AttestationSignatureError, MalformedAttestationError
from ._common import AttestationContext, AttestationType, FormatResult, cert_chain, public_key_of, verify_chain

__all__ = ["verify_fido_u2f"]


def verify_fido_u2f(ctx: AttestationContext) -> FormatResult:
    """The fido-u2f format (WebAuthn L3 §8.6): a U2F signature by the one attestation certificate over the U2F
    registration data."""
    sig = ctx.att_stmt.get("sig")
    if not isinstance(sig, bytes):
        raise MalformedAttestationError("attStmt.sig is missing or not a byte string")
    chain = cert_chain(ctx.att_stmt)
    if len(chain) != 1:
        raise MalformedAttestationError("fido-u2f x5c must hold exactly one certificate")
    key = public_key_of(chain[0], "fido-u2f attestation")
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        raise AttestationCertificateError("fido-u2f attestation certificate key must be P-256")
    cred = ctx.credential
    if not isinstance(cred.public_key, ES256):
        raise AttestationSignatureError("fido-u2f credential public key must be ES256 (P-256)")
    public = b"\x04" + cred.public_key[-2] + cred.public_key[-3]
    data = b"\x00" + ctx.auth_data.rp_id_hash + ctx.client_data_hash + cred.credential_id + public
    try:
        key.verify(sig, data, ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, ValueError):
        raise AttestationSignatureError("fido-u2f attestation signature does not verify") from None
    trusted = verify_chain(chain, ctx.anchors, ctx.now)
    return FormatResult(AttestationType.BASIC, tuple(chain), trusted)
