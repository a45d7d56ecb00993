"""§8.4 Android Key attestation statement format.

The leaf certificate carries the Android Keystore KeyDescription extension (OID 1.3.6.1.4.1.11129.2.1.17);
it is parsed here from untrusted DER (:mod:`._der`).
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from cryptography import x509
from cryptography.x509.oid import ObjectIdentifier

from ..errors import AttestationCertificateError, AttestationSignatureError, MalformedAttestationError
from . import _der
from ._common import (
    AttestationContext,
    AttestationType,
    FormatResult,
    cert_chain,
    key_matches_credential,
    require_alg_sig,
    verify_chain,
    verify_with_cert,
)

__all__ = ["KEY_DESCRIPTION_OID", "AuthorizationList", "KeyDescription", "verify_android_key"]

KEY_DESCRIPTION_OID = ObjectIdentifier("1.3.6.1.4.1.11129.2.1.17")
KM_ORIGIN_GENERATED = 0
KM_PURPOSE_SIGN = 2
_TAG_PURPOSE, _TAG_ALL_APPLICATIONS, _TAG_ORIGIN = 1, 600, 702


@dataclass(frozen=True, slots=True)
class AuthorizationList:
    """The members of a Keymaster AuthorizationList that WebAuthn looks at."""

    purpose: tuple[int, ...] | None = None
    origin: int | None = None
    all_applications: bool = False

    @classmethod
    def parse(cls, tlv: _der.Tlv, what: str) -> AuthorizationList:
        """Parse a KeyMint AuthorizationList SEQUENCE (the fields WebAuthn L3 §8.4 checks); ``what`` names it in
        errors."""
        if tlv.cls != _der.UNIVERSAL or tlv.number != 16:
            raise MalformedAttestationError(f"{what} is not a DER SEQUENCE")
        purpose: tuple[int, ...] | None = None
        origin: int | None = None
        all_apps = False
        for item in tlv.children():
            if item.cls != _der.CONTEXT:
                raise MalformedAttestationError(f"{what} holds an element that is not context-tagged")
            if item.number == _TAG_PURPOSE:
                purpose = tuple(_der.read_set_of_integers(_der.parse_one(item.value), f"{what}.purpose"))
            elif item.number == _TAG_ORIGIN:
                origin = _der.read_integer(_der.parse_one(item.value), f"{what}.origin")
            elif item.number == _TAG_ALL_APPLICATIONS:
                all_apps = True
        return cls(purpose, origin, all_apps)


@dataclass(frozen=True, slots=True)
class KeyDescription:
    """KeyDescription ::= SEQUENCE { attestationVersion, attestationSecurityLevel, keymasterVersion,
    keymasterSecurityLevel, attestationChallenge, uniqueId, softwareEnforced, teeEnforced, ... }"""

    attestation_version: int
    attestation_security_level: int
    keymaster_version: int
    keymaster_security_level: int
    attestation_challenge: bytes
    unique_id: bytes
    software_enforced: AuthorizationList
    tee_enforced: AuthorizationList

    @classmethod
    def parse(cls, der: bytes) -> KeyDescription:
        """Parse the DER KeyDescription of the attestation extension (OID 1.3.6.1.4.1.11129.2.1.17)."""
        top = _der.parse_one(der)
        if top.cls != _der.UNIVERSAL or top.number != 16:
            raise MalformedAttestationError("KeyDescription is not a DER SEQUENCE")
        items = top.children()
        if len(items) < 8:
            raise MalformedAttestationError(f"KeyDescription has {len(items)} members, expected at least 8")
        return cls(
            _der.read_integer(items[0], "KeyDescription.attestationVersion"),
            _der.read_integer(items[1], "KeyDescription.attestationSecurityLevel"),
            _der.read_integer(items[2], "KeyDescription.keymasterVersion"),
            _der.read_integer(items[3], "KeyDescription.keymasterSecurityLevel"),
            _der.read_octets(items[4], "KeyDescription.attestationChallenge"),
            _der.read_octets(items[5], "KeyDescription.uniqueId"),
            AuthorizationList.parse(items[6], "KeyDescription.softwareEnforced"),
            AuthorizationList.parse(items[7], "KeyDescription.teeEnforced"),
        )


def key_description(cert: x509.Certificate) -> KeyDescription:
    try:
        ext = cert.extensions.get_extension_for_oid(KEY_DESCRIPTION_OID)
    except x509.ExtensionNotFound:
        raise AttestationCertificateError("android-key certificate lacks the key description extension") from None
    except ValueError as e:
        raise AttestationCertificateError(f"android-key certificate extensions do not parse: {e}") from None
    if not isinstance(ext.value, x509.UnrecognizedExtension):
        raise AttestationCertificateError("android-key key description extension has an unexpected form")
    return KeyDescription.parse(ext.value.value)


def verify_android_key(ctx: AttestationContext) -> FormatResult:
    """Verify an android-key statement; ``ctx.android_key_tee_only`` accepts only TEE-enforced keys (§8.4)."""
    alg, sig = require_alg_sig(ctx.att_stmt)
    chain = cert_chain(ctx.att_stmt)
    leaf = chain[0]
    verify_with_cert(leaf, alg, sig, ctx.signed_data, "android-key attestation")
    cred = ctx.credential
    key_matches_credential(leaf, cred, "android-key")
    desc = key_description(leaf)
    if not hmac.compare_digest(desc.attestation_challenge, ctx.client_data_hash):
        raise AttestationSignatureError("android-key attestationChallenge is not the clientDataHash")
    if desc.software_enforced.all_applications or desc.tee_enforced.all_applications:
        raise AttestationCertificateError("android-key authorization list has allApplications (key not scoped to RP)")
    lists = (desc.tee_enforced,) if ctx.android_key_tee_only else (desc.tee_enforced, desc.software_enforced)
    origins = {a.origin for a in lists if a.origin is not None}
    purposes = {p for a in lists for p in (a.purpose or ())}
    if origins != {KM_ORIGIN_GENERATED}:
        raise AttestationCertificateError("android-key origin is not KM_ORIGIN_GENERATED (key was imported)")
    if purposes != {KM_PURPOSE_SIGN}:
        raise AttestationCertificateError("android-key purpose is not exactly KM_PURPOSE_SIGN")
    trusted = verify_chain(chain, ctx.anchors, ctx.now)
    return FormatResult(AttestationType.BASIC, tuple(chain), trusted)
