"""§8.5 Android SafetyNet attestation statement format: a JWS (RFC 7515 compact form) from Google Play Services."""

from __future__ import annotations

import base64
import binascii
import datetime
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any

from cryptography import x509

from ...cose import der_signature_from_raw
from ...webauthn import JSONValue
from ..errors import AttestationCertificateError, AttestationSignatureError, MalformedAttestationError
from ._common import AttestationContext, AttestationType, FormatResult, load_der, verify_chain, verify_with_cert

__all__ = ["SAFETYNET_HOSTNAME", "Jws", "verify_android_safetynet"]

SAFETYNET_HOSTNAME = "attest.android.com"
_JWS_ALGS = {"RS256": -257, "RS384": -258, "RS512": -259, "PS256": -37, "ES256": -7, "ES384": -35, "ES512": -36}
MAX_JWS = 4 * 1024 * 1024


def _b64url(part: str, what: str) -> bytes:
    if any(c not in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_" for c in part):
        raise MalformedAttestationError(f"{what} is not base64url")
    try:
        return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
    except (binascii.Error, ValueError):
        raise MalformedAttestationError(f"{what} is not base64url") from None


def _json_object(raw: bytes, what: str) -> dict[str, Any]:
    try:
        obj = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise MalformedAttestationError(f"{what} is not UTF-8 JSON") from None
    if not isinstance(obj, dict):
        raise MalformedAttestationError(f"{what} is not a JSON object")
    return obj


@dataclass(frozen=True)
class Jws:
    """A parsed compact JWS with an ``x5c`` header (as SafetyNet and FIDO MDS3 use)."""

    header: dict[str, JSONValue]
    payload: dict[str, JSONValue]
    signing_input: bytes
    signature: bytes
    alg: int
    x5c: tuple[bytes, ...]

    @classmethod
    def parse(cls, token: bytes | str, what: str = "JWS") -> Jws:
        """Parse a compact JWS (RFC 7515 §7.1) with an x5c header; MalformedAttestationError when malformed."""
        if isinstance(token, bytes):
            try:
                token = token.decode("ascii")
            except UnicodeDecodeError:
                raise MalformedAttestationError(f"{what} is not ASCII") from None
        if len(token) > MAX_JWS:
            raise MalformedAttestationError(f"{what} is too large")
        parts = token.split(".")
        if len(parts) != 3:
            raise MalformedAttestationError(f"{what} must have three dot-separated parts")
        header = _json_object(_b64url(parts[0], f"{what} header"), f"{what} header")
        payload = _json_object(_b64url(parts[1], f"{what} payload"), f"{what} payload")
        signature = _b64url(parts[2], f"{what} signature")
        alg = _JWS_ALGS.get(header.get("alg"))  # type: ignore[arg-type]
        if alg is None:
            raise MalformedAttestationError(f"{what} header alg {header.get('alg')!r} is not supported")
        x5c = header.get("x5c")
        if not isinstance(x5c, list) or not x5c or not all(isinstance(c, str) for c in x5c):
            raise MalformedAttestationError(f"{what} header x5c must be a non-empty array of base64 certificates")
        try:
            certs = tuple(base64.b64decode(c, validate=True) for c in x5c)
        except (binascii.Error, ValueError):
            raise MalformedAttestationError(f"{what} header x5c holds invalid base64") from None
        return cls(header, payload, f"{parts[0]}.{parts[1]}".encode("ascii"), signature, alg, certs)

    def certificates(self, what: str = "JWS") -> list[x509.Certificate]:
        """The x5c chain as X.509 certificates, leaf first."""
        return [load_der(c, f"{what} x5c") for c in self.x5c]

    def verify(self, cert: x509.Certificate, what: str = "JWS") -> None:
        """Check the signature with ``cert``'s key (ECDSA JWS signatures are r||s, RFC 7518 §3.4)."""
        sig = self.signature
        if self.alg in (-7, -35, -36):
            if len(sig) % 2 or not sig:
                raise AttestationSignatureError(f"{what} ECDSA signature has an odd length")
            sig = der_signature_from_raw(sig)
        verify_with_cert(cert, self.alg, sig, self.signing_input, what)


def _hostname_ok(cert: x509.Certificate) -> bool:
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        if SAFETYNET_HOSTNAME in san.get_values_for_type(x509.DNSName):
            return True
    except (x509.ExtensionNotFound, ValueError):
        pass
    cns = [a.value for a in cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)]
    return cns == [SAFETYNET_HOSTNAME]


def verify_android_safetynet(ctx: AttestationContext) -> FormatResult:
    """The android-safetynet format (WebAuthn L3 §8.5): a SafetyNet JWS whose nonce binds the data, signed by
    attest.android.com, fresh."""
    ver, response = ctx.att_stmt.get("ver"), ctx.att_stmt.get("response")
    if not isinstance(ver, str) or not ver:
        raise MalformedAttestationError("android-safetynet attStmt.ver must be a non-empty string")
    if not isinstance(response, bytes):
        raise MalformedAttestationError("android-safetynet attStmt.response must be a byte string")
    jws = Jws.parse(response, "SafetyNet response")
    payload = jws.payload
    nonce = base64.b64encode(hashlib.sha256(ctx.signed_data).digest()).decode("ascii")
    given = payload.get("nonce")
    if not isinstance(given, str) or not hmac.compare_digest(given, nonce):
        raise AttestationSignatureError("SafetyNet nonce is not base64(SHA-256(authenticatorData || clientDataHash))")
    if payload.get("ctsProfileMatch") is not True:
        raise AttestationCertificateError("SafetyNet ctsProfileMatch is not true (device failed compatibility check)")
    ts = payload.get("timestampMs")
    if not isinstance(ts, int) or isinstance(ts, bool):
        raise MalformedAttestationError("SafetyNet timestampMs is missing or not an integer")
    try:
        issued = datetime.datetime.fromtimestamp(ts / 1000, datetime.UTC)
    except (OverflowError, OSError, ValueError):
        raise MalformedAttestationError("SafetyNet timestampMs is out of range") from None
    if issued > ctx.now + datetime.timedelta(seconds=5) or ctx.now - issued > ctx.safetynet_max_age:
        raise AttestationSignatureError(
            f"SafetyNet timestampMs {issued.isoformat()} is not within {ctx.safetynet_max_age} "
            f"before {ctx.now.isoformat()}"
        )
    chain = jws.certificates("SafetyNet response")
    if not _hostname_ok(chain[0]):
        raise AttestationCertificateError(f"SafetyNet certificate is not issued to {SAFETYNET_HOSTNAME}")
    jws.verify(chain[0], "SafetyNet response")
    trusted = verify_chain(chain, ctx.anchors, ctx.now)
    return FormatResult(AttestationType.BASIC, tuple(chain), trusted)
