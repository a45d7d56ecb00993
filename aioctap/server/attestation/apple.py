"""§8.8 Apple Anonymous attestation statement format."""

from __future__ import annotations

import hashlib
import hmac

from cryptography import x509
from cryptography.x509.oid import ObjectIdentifier

from ..errors import AttestationCertificateError, AttestationSignatureError
from . import _der
from ._common import (
    AttestationContext,
    AttestationType,
    FormatResult,
    cert_chain,
    key_matches_credential,
    verify_chain,
)

__all__ = ["APPLE_NONCE_OID", "apple_nonce", "verify_apple"]

APPLE_NONCE_OID = ObjectIdentifier("1.2.840.113635.100.8.2")


def apple_nonce(cert: x509.Certificate) -> bytes:
    """The nonce of the extension 1.2.840.113635.100.8.2: SEQUENCE { [1] EXPLICIT OCTET STRING }."""
    try:
        ext = cert.extensions.get_extension_for_oid(APPLE_NONCE_OID)
    except x509.ExtensionNotFound:
        raise AttestationCertificateError(
            "apple certificate lacks the nonce extension (1.2.840.113635.100.8.2)"
        ) from None
    except ValueError as e:
        raise AttestationCertificateError(f"apple certificate extensions do not parse: {e}") from None
    if not isinstance(ext.value, x509.UnrecognizedExtension):
        raise AttestationCertificateError("apple nonce extension has an unexpected form")
    seq = _der.parse_one(ext.value.value).expect(_der.UNIVERSAL, 16, "apple nonce extension")
    items = seq.children()
    if len(items) != 1:
        raise AttestationCertificateError("apple nonce extension must hold exactly one element")
    tagged = items[0].expect(_der.CONTEXT, 1, "apple nonce extension")
    return _der.read_octets(_der.parse_one(tagged.value), "apple nonce")


def verify_apple(ctx: AttestationContext) -> FormatResult:
    """The apple format (WebAuthn L3 §8.8): the leaf certificate's nonce extension is SHA-256 of authData ||
    clientDataHash and its key is the credential's."""
    chain = cert_chain(ctx.att_stmt)
    leaf = chain[0]
    if not hmac.compare_digest(apple_nonce(leaf), hashlib.sha256(ctx.signed_data).digest()):
        raise AttestationSignatureError("apple nonce is not SHA-256(authenticatorData || clientDataHash)")
    key_matches_credential(leaf, ctx.credential, "apple")
    trusted = verify_chain(chain, ctx.anchors, ctx.now)
    return FormatResult(AttestationType.ANON_CA, tuple(chain), trusted)
