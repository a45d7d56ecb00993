"""§8.3 TPM attestation statement format.

``certInfo`` is a TPMS_ATTEST and ``pubArea`` a TPMT_PUBLIC (TPM 2.0 Library Part 2, §10.12.8 and
§12.2.4); both are parsed here from untrusted bytes with :class:`MalformedAttestationError` for anything
malformed. The AIK certificate requirements are §8.3.1.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from enum import IntEnum

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ObjectIdentifier

from ...cose import CoseError
from ...webauthn import AttestedCredentialData
from ..errors import AttestationCertificateError, AttestationSignatureError, MalformedAttestationError
from ._common import (
    AttestationContext,
    AttestationType,
    FormatResult,
    cert_chain,
    check_aaguid_extension,
    hash_for_alg,
    require_alg_sig,
    verify_chain,
    verify_with_cert,
)

__all__ = [
    "TPM_GENERATED_VALUE",
    "TPM_MANUFACTURERS",
    "TPM_ST_ATTEST_CERTIFY",
    "TpmAlg",
    "TpmEccCurve",
    "TpmTruncatedError",
    "TpmsAttest",
    "TpmtPublic",
    "check_aik_certificate",
    "verify_tpm",
]

TPM_GENERATED_VALUE = 0xFF544347
TPM_ST_ATTEST_CERTIFY = 0x8017
TCG_KP_AIK_CERTIFICATE = ObjectIdentifier("2.23.133.8.3")
TPM_MANUFACTURER_OID = ObjectIdentifier("2.23.133.2.1")
TPM_MODEL_OID = ObjectIdentifier("2.23.133.2.2")
TPM_VERSION_OID = ObjectIdentifier("2.23.133.2.3")

# TCG TPM Vendor ID Registry: the "id:XXXXXXXX" values of tcg-at-tpmManufacturer (FFFFF1D0: FIDO conformance).
TPM_MANUFACTURERS = frozenset(
    [
        "id:414D4400", "id:41544D4C", "id:4252434D", "id:4353434F", "id:464C5953", "id:524F4343", "id:474F4F47",
        "id:48504900", "id:48504500", "id:48495349", "id:49424D00", "id:49465800", "id:494E5443", "id:4C454E00",
        "id:4D534654", "id:4E534D20", "id:4E545A00", "id:4E544300", "id:51434F4D", "id:534D5343", "id:534D534E",
        "id:534E5300", "id:53544D20", "id:54584E00", "id:57454300", "id:53454345", "id:FFFFF1D0",
    ]
)  # fmt: skip


class TpmAlg(IntEnum):
    """TPM_ALG_ID values used by WebAuthn."""

    RSA = 0x0001
    SHA1 = 0x0004
    SHA256 = 0x000B
    SHA384 = 0x000C
    SHA512 = 0x000D
    NULL = 0x0010
    ECC = 0x0023


class TpmEccCurve(IntEnum):
    """TPM_ECC_CURVE identifiers (TPM 2.0 Part 2 §6.4) of the curves WebAuthn uses."""

    NIST_P256 = 0x0003
    NIST_P384 = 0x0004
    NIST_P521 = 0x0005


_NAME_HASHES: dict[int, str] = {
    TpmAlg.SHA1: "sha1", TpmAlg.SHA256: "sha256", TpmAlg.SHA384: "sha384", TpmAlg.SHA512: "sha512"
}  # fmt: skip
_CURVES: dict[int, type[ec.EllipticCurve]] = {
    TpmEccCurve.NIST_P256: ec.SECP256R1,
    TpmEccCurve.NIST_P384: ec.SECP384R1,
    TpmEccCurve.NIST_P521: ec.SECP521R1,
}
_COSE_CRV: dict[int, int] = {TpmEccCurve.NIST_P256: 1, TpmEccCurve.NIST_P384: 2, TpmEccCurve.NIST_P521: 3}


class TpmTruncatedError(MalformedAttestationError):
    """A TPM structure ends before a field it announces: ``need`` bytes were to be read at ``pos``, ``had`` remain."""

    def __init__(self, what: str, pos: int, need: int, had: int) -> None:
        super().__init__(f"{what}: truncated at byte {pos} (needed {need} more)")
        self.need, self.had = need, had


class _Reader:
    """Big-endian reader over TPM marshalled bytes; running short is a MalformedAttestationError."""

    __slots__ = ("data", "pos", "what")

    def __init__(self, data: bytes, what: str) -> None:
        self.data, self.pos, self.what = data, 0, what

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise TpmTruncatedError(self.what, self.pos, n, len(self.data) - self.pos)
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def uint(self, size: int) -> int:
        """An unsigned integer of ``size`` bytes (UINT16, UINT32, UINT64: 2, 4, 8)."""
        return int.from_bytes(self.take(size), "big")

    def tpm2b(self) -> bytes:
        return self.take(self.uint(2))

    def end(self) -> None:
        if self.pos != len(self.data):
            raise MalformedAttestationError(f"{self.what}: {len(self.data) - self.pos} trailing bytes")


@dataclass(frozen=True, slots=True)
class TpmsAttest:
    """TPMS_ATTEST with TPMS_CERTIFY_INFO (the only attested type WebAuthn accepts)."""

    magic: int
    type: int
    qualified_signer: bytes
    extra_data: bytes
    clock: int
    reset_count: int
    restart_count: int
    safe: bool
    firmware_version: int
    attested_name: bytes
    attested_qualified_name: bytes

    @classmethod
    def parse(cls, data: bytes) -> TpmsAttest:
        """Parse a TPMS_ATTEST structure (TPM 2.0 Part 2 §10.12.12), the ``certInfo`` of a tpm statement."""
        r = _Reader(data, "certInfo (TPMS_ATTEST)")
        magic, typ = r.uint(4), r.uint(2)
        if typ != TPM_ST_ATTEST_CERTIFY:
            # the union member depends on type; only certify has a known layout here
            raise MalformedAttestationError(f"certInfo.type is 0x{typ:04x}, expected TPM_ST_ATTEST_CERTIFY")
        signer, extra = r.tpm2b(), r.tpm2b()
        clock, reset, restart, safe = r.uint(8), r.uint(4), r.uint(4), r.take(1)[0]
        firmware = r.uint(8)
        name, qname = r.tpm2b(), r.tpm2b()
        r.end()
        return cls(magic, typ, signer, extra, clock, reset, restart, bool(safe), firmware, name, qname)


@dataclass(frozen=True, slots=True)
class TpmtPublic:
    """TPMT_PUBLIC for an RSA or ECC key."""

    type: int
    name_alg: int
    object_attributes: int
    auth_policy: bytes
    symmetric: int
    scheme: int
    key_bits: int = 0
    exponent: int = 0
    curve_id: int = 0
    kdf: int = 0
    unique: bytes = b""
    unique_y: bytes = b""

    @classmethod
    def parse(cls, data: bytes) -> TpmtPublic:
        """Parse a TPMT_PUBLIC structure (TPM 2.0 Part 2 §12.2.4), the ``pubArea`` of a tpm statement."""
        r = _Reader(data, "pubArea (TPMT_PUBLIC)")
        typ, name_alg, attrs, policy = r.uint(2), r.uint(2), r.uint(4), r.tpm2b()
        symmetric = r.uint(2)
        if symmetric != TpmAlg.NULL:
            raise MalformedAttestationError("pubArea.parameters.symmetric must be TPM_ALG_NULL for a signing key")
        scheme = r.uint(2)
        if scheme != TpmAlg.NULL:
            r.uint(2)  # the scheme's hashAlg
        if typ == TpmAlg.RSA:
            bits, exponent = r.uint(2), r.uint(4)
            unique = r.tpm2b()
            r.end()
            return cls(typ, name_alg, attrs, policy, symmetric, scheme, key_bits=bits, exponent=exponent, unique=unique)
        if typ == TpmAlg.ECC:
            curve, kdf = r.uint(2), r.uint(2)
            if kdf != TpmAlg.NULL:
                r.uint(2)
            x, y = r.tpm2b(), r.tpm2b()
            r.end()
            return cls(typ, name_alg, attrs, policy, symmetric, scheme, curve_id=curve, kdf=kdf, unique=x, unique_y=y)
        raise MalformedAttestationError(f"pubArea.type 0x{typ:04x} is neither TPM_ALG_RSA nor TPM_ALG_ECC")

    def matches(self, cred: AttestedCredentialData) -> bool:
        """Whether this public area holds the credential public key (§8.3.2 step 3)."""
        try:
            key = cred.public_key.public_key()
        except CoseError:
            return False
        if self.type == TpmAlg.RSA:
            if not isinstance(key, rsa.RSAPublicKey):
                return False
            pn = key.public_numbers()
            exponent = self.exponent or 65537
            return pn.n == int.from_bytes(self.unique, "big") and pn.e == exponent
        if not isinstance(key, ec.EllipticCurvePublicKey):
            return False
        curve = _CURVES.get(self.curve_id)
        if curve is None or not isinstance(key.curve, curve) or cred.public_key.get(-1) != _COSE_CRV.get(self.curve_id):
            return False
        en = key.public_numbers()
        return en.x == int.from_bytes(self.unique, "big") and en.y == int.from_bytes(self.unique_y, "big")


def tpm_name(pub_area: bytes, name_alg: int) -> bytes:
    """TPM2B_NAME digest form: nameAlg (u16) || H_nameAlg(pubArea)."""
    h = _NAME_HASHES.get(name_alg)
    if h is None:
        raise MalformedAttestationError(f"pubArea.nameAlg 0x{name_alg:04x} is not a supported hash")
    return name_alg.to_bytes(2, "big") + hashlib.new(h, pub_area).digest()


def check_aik_certificate(cert: x509.Certificate, aaguid: bytes) -> None:
    """§8.3.1 TPM attestation statement certificate requirements (the extended key usage tcg-kp-AIKCertificate is
    checked with the chain: ``verify_chain(..., eku=TCG_KP_AIK_CERTIFICATE)``)."""
    if cert.version != x509.Version.v3:
        raise AttestationCertificateError("TPM AIK certificate must be X.509 version 3")
    if len(cert.subject) != 0:
        raise AttestationCertificateError("TPM AIK certificate subject must be empty")
    try:
        exts = cert.extensions
        san = exts.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        raise AttestationCertificateError("TPM AIK certificate lacks the subject alternative name extension") from None
    except ValueError as e:
        raise AttestationCertificateError(f"TPM AIK certificate extensions do not parse: {e}") from None
    if not san.critical:
        raise AttestationCertificateError("TPM AIK certificate subject alternative name must be critical")
    attrs: dict[ObjectIdentifier, str] = {}
    for name in san.value.get_values_for_type(x509.DirectoryName):
        for attr in name:
            attrs[attr.oid] = attr.value if isinstance(attr.value, str) else attr.value.decode("latin-1")
    for oid, label in ((TPM_MANUFACTURER_OID, "tcg-at-tpmManufacturer"), (TPM_MODEL_OID, "tcg-at-tpmModel"),
                       (TPM_VERSION_OID, "tcg-at-tpmVersion")):  # fmt: skip
        if oid not in attrs:
            raise AttestationCertificateError(f"TPM AIK certificate subject alternative name lacks {label}")
    if attrs[TPM_MANUFACTURER_OID].upper().replace("ID:", "id:") not in TPM_MANUFACTURERS:
        raise AttestationCertificateError(f"TPM manufacturer {attrs[TPM_MANUFACTURER_OID]!r} is not a known TPM vendor")
    try:
        bc = exts.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        raise AttestationCertificateError("TPM AIK certificate lacks basic constraints") from None
    if bc.ca:
        raise AttestationCertificateError("TPM AIK certificate must not be a CA (basic constraints CA true)")
    check_aaguid_extension(cert, aaguid, "TPM AIK certificate")


def verify_tpm(ctx: AttestationContext) -> FormatResult:
    """The tpm format (WebAuthn L3 §8.3): the AIK-signed certInfo names pubArea, pubArea holds the credential key,
    the AIK certificate meets §8.3.1."""
    st = ctx.att_stmt
    if st.get("ver") != "2.0":
        raise MalformedAttestationError("TPM attStmt.ver must be '2.0'")
    alg, sig = require_alg_sig(st)
    cert_info_raw, pub_area_raw = st.get("certInfo"), st.get("pubArea")
    if not isinstance(cert_info_raw, bytes) or not isinstance(pub_area_raw, bytes):
        raise MalformedAttestationError("TPM attStmt.certInfo and attStmt.pubArea must be byte strings")
    if "ecdaaKeyId" in st:
        raise MalformedAttestationError("TPM ECDAA attestation is not supported (removed from WebAuthn)")
    chain = cert_chain(st)
    cred = ctx.credential
    pub_area = TpmtPublic.parse(pub_area_raw)
    if not pub_area.matches(cred):
        raise AttestationSignatureError("TPM pubArea does not hold the credential public key")
    cert_info = TpmsAttest.parse(cert_info_raw)
    if cert_info.magic != TPM_GENERATED_VALUE:
        raise AttestationSignatureError("TPM certInfo.magic is not TPM_GENERATED_VALUE")
    if not hmac.compare_digest(cert_info.extra_data, hash_for_alg(alg)(ctx.signed_data)):
        raise AttestationSignatureError("TPM certInfo.extraData is not the hash of authenticatorData || clientDataHash")
    if not hmac.compare_digest(cert_info.attested_name, tpm_name(pub_area_raw, pub_area.name_alg)):
        raise AttestationSignatureError("TPM certInfo.attested.name is not the name of pubArea")
    verify_with_cert(chain[0], alg, sig, cert_info_raw, "TPM certInfo")
    check_aik_certificate(chain[0], cred.aaguid)
    trusted = verify_chain(chain, ctx.anchors, ctx.now, eku=TCG_KP_AIK_CERTIFICATE)
    return FormatResult(AttestationType.ATT_CA, tuple(chain), trusted)
