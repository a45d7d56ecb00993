"""Attestation statement formats (WebAuthn L3 §8) against chains made here with ``cryptography``.

Every format gets a statement that verifies and then one mutation per check, each expecting the typed
error of that check. Real-device statements are in test_attestation_vectors.py.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import os
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

from aioctap.cose import ES256, ES384, CoseKey
from aioctap.server import AttestationType, TrustAnchors, verify_attestation
from aioctap.server.attestation import FORMATS, FormatResult, register_format
from aioctap.server.errors import (
    AttestationCertificateError,
    AttestationError,
    AttestationSignatureError,
    MalformedAttestationError,
    UnsupportedAttestationFormatError,
    UntrustedAttestationError,
)
from aioctap.webauthn import AttestedCredentialData, AuthenticatorData

NOW = datetime.datetime(2026, 6, 1, tzinfo=datetime.UTC)
AAGUID = bytes.fromhex("f8a011f38c0a4d15800617111f9edc7d")
RP_HASH = hashlib.sha256(b"example.com").digest()
CDH = hashlib.sha256(b"client data").digest()

TPM_MANUFACTURER, TPM_MODEL, TPM_VERSION = (ObjectIdentifier(f"2.23.133.2.{i}") for i in (1, 2, 3))
AIK_EKU = ObjectIdentifier("2.23.133.8.3")
AAGUID_OID = ObjectIdentifier("1.3.6.1.4.1.45724.1.1.4")
KEY_DESCRIPTION_OID = ObjectIdentifier("1.3.6.1.4.1.11129.2.1.17")
APPLE_NONCE_OID = ObjectIdentifier("1.2.840.113635.100.8.2")


# ---------------------------------------------------------------- certificates


def _name(**attrs: str) -> x509.Name:
    oids = {
        "C": NameOID.COUNTRY_NAME,
        "O": NameOID.ORGANIZATION_NAME,
        "OU": NameOID.ORGANIZATIONAL_UNIT_NAME,
        "CN": NameOID.COMMON_NAME,
    }
    return x509.Name([x509.NameAttribute(oids[k], v) for k, v in attrs.items()])


@dataclass
class Ca:
    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate


def issue(
    subject: x509.Name,
    public_key: Any,
    issuer: Ca | None,
    *,
    ca: bool | None = False,
    extensions: Iterable[tuple[x509.ExtensionType, bool]] = (),
    not_before: datetime.datetime = NOW - datetime.timedelta(days=30),
    not_after: datetime.datetime = NOW + datetime.timedelta(days=30),
    key: ec.EllipticCurvePrivateKey | None = None,
) -> x509.Certificate:
    signer_key = issuer.key if issuer else key
    assert signer_key is not None
    b = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.cert.subject if issuer else subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
    )
    if ca is not None:
        b = b.add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    for ext, critical in extensions:
        b = b.add_extension(ext, critical=critical)
    return b.sign(signer_key, hashes.SHA256())


def make_ca(cn: str, parent: Ca | None = None, ca: bool = True) -> Ca:
    key = ec.generate_private_key(ec.SECP256R1())
    return Ca(key, issue(_name(CN=cn), key.public_key(), parent, ca=ca, key=key))


ROOT = make_ca("Test Attestation Root")
INTERMEDIATE = make_ca("Test Attestation Intermediate", ROOT)
OTHER_ROOT = make_ca("Some Other Root")
ANCHORS = TrustAnchors(roots=[ROOT.cert])
EMPTY_NAME = x509.Name([])


def der(c: x509.Certificate) -> bytes:
    return c.public_bytes(serialization.Encoding.DER)


def aaguid_ext(value: bytes = AAGUID, critical: bool = False) -> tuple[x509.ExtensionType, bool]:
    return x509.UnrecognizedExtension(AAGUID_OID, b"\x04\x10" + value), critical


# ---------------------------------------------------------------- authenticator data


@dataclass
class Credential:
    key: ec.EllipticCurvePrivateKey
    cose: CoseKey
    auth_data: AuthenticatorData


def make_credential(curve: ec.EllipticCurve | None = None, aaguid: bytes = AAGUID) -> Credential:
    key = ec.generate_private_key(curve or ec.SECP256R1())
    cose_cls = ES384 if isinstance(key.curve, ec.SECP384R1) else ES256
    cose = cose_cls.from_cryptography_key(key.public_key())
    cred = AttestedCredentialData.create(aaguid, b"credential-" + os.urandom(8), cose)
    return Credential(key, cose, AuthenticatorData.create(RP_HASH, 0x41, 0, cred))


CRED = make_credential()


def verify(fmt: str, att_stmt: dict[str, Any], cred: Credential = CRED, **kw: Any) -> Any:
    kw.setdefault("now", NOW)
    return verify_attestation(fmt, att_stmt, cred.auth_data, CDH, **kw)


def expect(
    error: type[AttestationError], fmt: str, att_stmt: dict[str, Any], cred: Credential = CRED, **kw: Any
) -> str:
    with pytest.raises(error) as e:
        verify(fmt, att_stmt, cred, **kw)
    message = str(e.value)
    assert message
    return message


def sign(key: ec.EllipticCurvePrivateKey, data: bytes) -> bytes:
    return key.sign(data, ec.ECDSA(hashes.SHA256()))


# ---------------------------------------------------------------- none and registry


def test_none_and_unknown_format() -> None:
    res = verify("none", {})
    assert res.type is AttestationType.NONE and not res.trusted and res.aaguid == AAGUID
    expect(MalformedAttestationError, "none", {"x5c": []})
    expect(UnsupportedAttestationFormatError, "tpm-2", {})
    assert verify("none", {}, trust_anchors=ANCHORS).type is AttestationType.NONE  # nothing to trust


def test_register_format() -> None:
    register_format("x-test", lambda ctx: FormatResult(AttestationType.SELF))
    try:
        assert verify("x-test", {}).type is AttestationType.SELF
    finally:
        del FORMATS["x-test"]


# ---------------------------------------------------------------- packed


def packed_leaf(subject: x509.Name | None = None, issuer: Ca = INTERMEDIATE, **kw: Any) -> tuple[Any, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = subject or _name(C="US", O="Example", OU="Authenticator Attestation", CN="Example Key")
    kw.setdefault("extensions", [aaguid_ext()])
    return key, issue(subject, key.public_key(), issuer, **kw)


def packed_stmt(key: Any, chain: list[x509.Certificate], cred: Credential = CRED, alg: int = -7) -> dict[str, Any]:
    return {"alg": alg, "sig": sign(key, bytes(cred.auth_data) + CDH), "x5c": [der(c) for c in chain]}


def test_packed_full_attestation() -> None:
    key, leaf = packed_leaf()
    stmt = packed_stmt(key, [leaf, INTERMEDIATE.cert])
    res = verify("packed", stmt, trust_anchors=ANCHORS)
    assert res.type is AttestationType.BASIC and res.trusted and res.trust_path[0] == leaf
    assert not verify("packed", stmt).trusted  # no anchors: chain checked, not trusted
    # the root may be in x5c, and an intermediate may be the anchor
    assert verify("packed", packed_stmt(key, [leaf, INTERMEDIATE.cert, ROOT.cert]), trust_anchors=ANCHORS).trusted
    assert verify("packed", stmt, trust_anchors=TrustAnchors(roots=[INTERMEDIATE.cert])).trusted
    assert verify("packed", stmt, trust_anchors=TrustAnchors(by_format={"packed": [ROOT.cert]})).trusted
    assert verify("packed", stmt, trust_anchors=TrustAnchors(by_aaguid={AAGUID: [ROOT.cert]})).trusted
    expect(UntrustedAttestationError, "packed", stmt, trust_anchors=TrustAnchors(by_format={"tpm": [ROOT.cert]}))
    expect(UntrustedAttestationError, "packed", stmt, trust_anchors=TrustAnchors(roots=[OTHER_ROOT.cert]))
    expect(UntrustedAttestationError, "packed", stmt, trust_anchors=TrustAnchors())


def test_packed_checks_each_fail() -> None:
    key, leaf = packed_leaf()
    chain = [leaf, INTERMEDIATE.cert]
    good = packed_stmt(key, chain)
    expect(MalformedAttestationError, "packed", {**good, "alg": "ES256"})
    expect(MalformedAttestationError, "packed", {**good, "sig": "x"})
    expect(MalformedAttestationError, "packed", {**good, "x5c": []})
    expect(MalformedAttestationError, "packed", {**good, "x5c": [b"\x30\x03\x02\x01\x01"]})
    expect(AttestationSignatureError, "packed", {**good, "sig": sign(key, b"other data")})
    expect(AttestationSignatureError, "packed", {**good, "sig": b"\x30\x00"})
    expect(AttestationSignatureError, "packed", {**good, "alg": -257})  # RSA alg with an EC certificate
    assert "not valid at" in expect(AttestationCertificateError, "packed", good, now=NOW + datetime.timedelta(days=60))
    expect(AttestationCertificateError, "packed", good, now=NOW - datetime.timedelta(days=60))
    # §8.2.1 certificate requirements, one at a time
    for subject in (
        _name(O="Example", OU="Authenticator Attestation", CN="k"),
        _name(C="US", OU="Authenticator Attestation", CN="k"),
        _name(C="US", O="Example", OU="Authenticator Attestation"),
        _name(C="US", O="Example", OU="Other", CN="k"),
    ):
        k, bad = packed_leaf(subject)
        expect(AttestationCertificateError, "packed", packed_stmt(k, [bad, INTERMEDIATE.cert]))
    for kw in (
        {"ca": True},
        {"ca": None},
        {"extensions": [aaguid_ext(b"\x01" * 16)]},
        {"extensions": [aaguid_ext(critical=True)]},
    ):
        k, bad = packed_leaf(**kw)
        expect(AttestationCertificateError, "packed", packed_stmt(k, [bad, INTERMEDIATE.cert]))
    k, no_aaguid = packed_leaf(extensions=[])
    assert verify("packed", packed_stmt(k, [no_aaguid, INTERMEDIATE.cert]), trust_anchors=ANCHORS).trusted
    # chain: wrong order / not the issuer, and an issuer that is not a CA
    expect(AttestationCertificateError, "packed", packed_stmt(key, [leaf, OTHER_ROOT.cert]))
    not_ca = make_ca("Not a CA", ROOT, ca=False)
    k, leaf2 = packed_leaf(issuer=not_ca)
    expect(AttestationCertificateError, "packed", packed_stmt(k, [leaf2, not_ca.cert]))
    k, leaf3 = packed_leaf(issuer=not_ca)
    expect(
        UntrustedAttestationError, "packed", packed_stmt(k, [leaf3]), trust_anchors=TrustAnchors(roots=[not_ca.cert])
    )


def _sub_ca(cn: str, parent: Ca, *extensions: tuple[x509.ExtensionType, bool], path_length: int | None = None) -> Ca:
    key = ec.generate_private_key(ec.SECP256R1())
    bc = (x509.BasicConstraints(ca=True, path_length=path_length), True)
    return Ca(key, issue(_name(CN=cn), key.public_key(), parent, ca=None, extensions=[bc, *extensions]))


def _key_usage(**set_bits: bool) -> tuple[x509.ExtensionType, bool]:
    names = ["digital_signature", "content_commitment", "key_encipherment", "data_encipherment", "key_agreement",
             "key_cert_sign", "crl_sign"]  # fmt: skip
    bits = {name: set_bits.get(name, False) for name in names}
    return x509.KeyUsage(**bits, encipher_only=False, decipher_only=False), True


def test_chain_path_length_and_key_usage() -> None:
    """RFC 5280 path validation (cryptography's): pathLenConstraint, a CA's keyCertSign, the leaf's digitalSignature."""
    # pathLen 0 on the first intermediate: it may issue only end-entity certificates, not another CA
    capped = _sub_ca("Capped Intermediate", ROOT, path_length=0)
    below = _sub_ca("Below the cap", capped)
    k, leaf = packed_leaf(issuer=below)
    message = expect(AttestationCertificateError, "packed", packed_stmt(k, [leaf, below.cert, capped.cert]))
    assert "not valid" in message
    k, leaf = packed_leaf(issuer=capped)  # directly under the capped CA: fine
    assert verify("packed", packed_stmt(k, [leaf, capped.cert]), trust_anchors=ANCHORS).trusted
    roomy = _sub_ca("Roomy Intermediate", ROOT, path_length=1)
    below_roomy = _sub_ca("Below the roomy one", roomy)
    k, leaf = packed_leaf(issuer=below_roomy)
    assert verify("packed", packed_stmt(k, [leaf, below_roomy.cert, roomy.cert]), trust_anchors=ANCHORS).trusted
    # a CA whose keyUsage lacks keyCertSign may not issue certificates
    no_cert_sign = _sub_ca("No keyCertSign", ROOT, _key_usage(digital_signature=True, crl_sign=True))
    k, leaf = packed_leaf(issuer=no_cert_sign)
    assert "keyCertSign" in expect(AttestationCertificateError, "packed", packed_stmt(k, [leaf, no_cert_sign.cert]))
    cert_sign = _sub_ca("With keyCertSign", ROOT, _key_usage(key_cert_sign=True, crl_sign=True))
    k, leaf = packed_leaf(issuer=cert_sign)
    assert verify("packed", packed_stmt(k, [leaf, cert_sign.cert]), trust_anchors=ANCHORS).trusted
    # the attestation key signs: a leaf keyUsage without digitalSignature is refused, with it accepted
    k, leaf = packed_leaf(extensions=[aaguid_ext(), _key_usage(key_agreement=True)])
    assert "digitalSignature" in expect(
        AttestationCertificateError, "packed", packed_stmt(k, [leaf, INTERMEDIATE.cert])
    )
    k, leaf = packed_leaf(extensions=[aaguid_ext(), _key_usage(digital_signature=True)])
    assert verify("packed", packed_stmt(k, [leaf, INTERMEDIATE.cert]), trust_anchors=ANCHORS).trusted


def test_packed_self_attestation() -> None:
    stmt = {"alg": -7, "sig": sign(CRED.key, bytes(CRED.auth_data) + CDH)}
    res = verify("packed", stmt, trust_anchors=ANCHORS)  # self attestation needs no anchor
    assert res.type is AttestationType.SELF and res.trust_path == () and not res.trusted
    expect(AttestationSignatureError, "packed", {**stmt, "alg": -8})
    expect(AttestationSignatureError, "packed", {**stmt, "sig": sign(CRED.key, b"x")})
    p384 = make_credential(ec.SECP384R1())
    sig = p384.key.sign(bytes(p384.auth_data) + CDH, ec.ECDSA(hashes.SHA384()))
    assert verify("packed", {"alg": -35, "sig": sig}, p384).type is AttestationType.SELF


# ---------------------------------------------------------------- fido-u2f


def u2f_stmt(key: Any, cert: x509.Certificate, cred: Credential = CRED) -> dict[str, Any]:
    cd = cred.auth_data.credential_data
    assert cd is not None
    data = b"\x00" + RP_HASH + CDH + cd.credential_id + b"\x04" + cd.public_key[-2] + cd.public_key[-3]
    return {"sig": sign(key, data), "x5c": [der(cert)]}


def test_fido_u2f() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    cert = issue(_name(CN="U2F Key"), key.public_key(), ROOT, ca=None)
    stmt = u2f_stmt(key, cert)
    res = verify("fido-u2f", stmt, trust_anchors=ANCHORS)
    assert res.type is AttestationType.BASIC and res.trusted
    expect(MalformedAttestationError, "fido-u2f", {**stmt, "sig": None})
    expect(MalformedAttestationError, "fido-u2f", {**stmt, "x5c": [der(cert), der(ROOT.cert)]})
    expect(AttestationSignatureError, "fido-u2f", {**stmt, "sig": sign(key, b"x")})
    p384_key = ec.generate_private_key(ec.SECP384R1())
    p384_cert = issue(_name(CN="U2F"), p384_key.public_key(), ROOT, ca=None)
    expect(AttestationCertificateError, "fido-u2f", {**stmt, "x5c": [der(p384_cert)]})
    p384 = make_credential(ec.SECP384R1())
    expect(AttestationSignatureError, "fido-u2f", stmt, p384)
    expect(UntrustedAttestationError, "fido-u2f", stmt, trust_anchors=TrustAnchors(roots=[OTHER_ROOT.cert]))


# ---------------------------------------------------------------- tpm


def tpm2b(data: bytes) -> bytes:
    return struct.pack(">H", len(data)) + data


def pub_area(cred: Credential, name_alg: int = 0x000B, curve: int = 0x0003, kdf: int = 0x0010) -> bytes:
    nums = cred.key.public_key().public_numbers()
    size = (cred.key.curve.key_size + 7) // 8
    params = struct.pack(">HHHH", 0x0010, 0x0018, 0x000B, curve)  # symmetric NULL, scheme ECDSA(SHA256), curve
    params += struct.pack(">H", kdf) + (b"\x00\x0b" if kdf != 0x0010 else b"")
    unique = tpm2b(nums.x.to_bytes(size, "big")) + tpm2b(nums.y.to_bytes(size, "big"))
    return struct.pack(">HHI", 0x0023, name_alg, 0x00060472) + tpm2b(b"") + params + unique


def cert_info(pub: bytes, extra: bytes, magic: int = 0xFF544347, typ: int = 0x8017, name: bytes | None = None) -> bytes:
    name = name if name is not None else b"\x00\x0b" + hashlib.sha256(pub).digest()
    return (
        struct.pack(">IH", magic, typ)
        + tpm2b(b"\x00\x0bsigner")
        + tpm2b(extra)
        + struct.pack(">QIIB", 1234, 1, 2, 1)
        + struct.pack(">Q", 0x2000)
        + tpm2b(name)
        + tpm2b(b"\x00\x0bqualified")
    )


def aik_cert(
    key: Any,
    *,
    subject: x509.Name = EMPTY_NAME,
    manufacturer: str = "id:494E5443",
    san_attrs: tuple[ObjectIdentifier, ...] = (TPM_MANUFACTURER, TPM_MODEL, TPM_VERSION),
    san_critical: bool = True,
    eku: list[ObjectIdentifier] | None = None,
    ca: bool | None = False,
    extra: Iterable[tuple[x509.ExtensionType, bool]] = (),
) -> x509.Certificate:
    values = {TPM_MANUFACTURER: manufacturer, TPM_MODEL: "Model 1", TPM_VERSION: "id:00020000"}
    dn = x509.Name([x509.RelativeDistinguishedName([x509.NameAttribute(o, values[o])]) for o in san_attrs])
    exts: list[tuple[x509.ExtensionType, bool]] = [
        (x509.SubjectAlternativeName([x509.DirectoryName(dn)]), san_critical),
        *extra,
    ]
    if eku is None or eku:
        exts.append((x509.ExtendedKeyUsage(eku or [AIK_EKU]), False))
    return issue(subject, key.public_key(), INTERMEDIATE, ca=ca, extensions=exts)


def tpm_stmt(
    aik: Any,
    cert: x509.Certificate,
    cred: Credential = CRED,
    *,
    pub: bytes | None = None,
    info: bytes | None = None,
    **over: Any,
) -> dict[str, Any]:
    pub = pub if pub is not None else pub_area(cred)
    extra = hashlib.sha256(bytes(cred.auth_data) + CDH).digest()
    info = info if info is not None else cert_info(pub, extra)
    stmt = {
        "ver": "2.0",
        "alg": -7,
        "x5c": [der(cert), der(INTERMEDIATE.cert)],
        "sig": sign(aik, info),
        "certInfo": info,
        "pubArea": pub,
    }
    stmt.update(over)
    return stmt


AIK = ec.generate_private_key(ec.SECP256R1())


def test_tpm_verifies() -> None:
    stmt = tpm_stmt(AIK, aik_cert(AIK))
    res = verify("tpm", stmt, trust_anchors=ANCHORS)
    assert res.type is AttestationType.ATT_CA and res.trusted and len(res.trust_path) == 2
    with_aaguid = aik_cert(AIK, extra=[aaguid_ext()])
    assert verify("tpm", tpm_stmt(AIK, with_aaguid), trust_anchors=ANCHORS).trusted
    assert verify("tpm", tpm_stmt(AIK, aik_cert(AIK), pub=pub_area(CRED, kdf=0x0020))).type is AttestationType.ATT_CA


def test_tpm_checks_each_fail() -> None:
    cert = aik_cert(AIK)
    good_pub = pub_area(CRED)
    extra = hashlib.sha256(bytes(CRED.auth_data) + CDH).digest()
    expect(MalformedAttestationError, "tpm", tpm_stmt(AIK, cert, ver="1.2"))
    expect(MalformedAttestationError, "tpm", tpm_stmt(AIK, cert, certInfo="x"))
    expect(MalformedAttestationError, "tpm", tpm_stmt(AIK, cert, ecdaaKeyId=b"k"))
    expect(MalformedAttestationError, "tpm", tpm_stmt(AIK, cert, pub=good_pub[:-3]))  # truncated TPMT_PUBLIC
    expect(MalformedAttestationError, "tpm", tpm_stmt(AIK, cert, pub=good_pub + b"\0"))  # trailing bytes
    other = make_credential()
    expect(AttestationSignatureError, "tpm", tpm_stmt(AIK, cert, pub=pub_area(other)))  # pubArea is another key
    expect(AttestationSignatureError, "tpm", tpm_stmt(AIK, cert, pub=pub_area(CRED, curve=0x0004)))  # wrong curve
    expect(MalformedAttestationError, "tpm", tpm_stmt(AIK, cert, pub=pub_area(CRED, name_alg=0x0099)))
    expect(AttestationSignatureError, "tpm", tpm_stmt(AIK, cert, info=cert_info(good_pub, extra, magic=0xFF544348)))
    expect(MalformedAttestationError, "tpm", tpm_stmt(AIK, cert, info=cert_info(good_pub, extra, typ=0x8018)))
    expect(AttestationSignatureError, "tpm", tpm_stmt(AIK, cert, info=cert_info(good_pub, b"\0" * 32)))
    expect(
        AttestationSignatureError,
        "tpm",
        tpm_stmt(AIK, cert, info=cert_info(good_pub, extra, name=b"\0\x0b" + b"\1" * 32)),
    )
    expect(MalformedAttestationError, "tpm", tpm_stmt(AIK, cert, info=cert_info(good_pub, extra)[:-1]))
    expect(AttestationSignatureError, "tpm", {**tpm_stmt(AIK, cert), "sig": sign(AIK, b"other")})
    # §8.3.1 AIK certificate requirements
    bad_certs = [
        aik_cert(AIK, subject=_name(CN="not empty")),
        aik_cert(AIK, san_attrs=(TPM_MANUFACTURER, TPM_MODEL)),
        aik_cert(AIK, san_attrs=(TPM_MODEL, TPM_VERSION)),
        aik_cert(AIK, san_critical=False),
        aik_cert(AIK, manufacturer="id:12345678"),
        aik_cert(AIK, eku=[]),
        aik_cert(AIK, eku=[ExtendedKeyUsageOID.SERVER_AUTH]),
        aik_cert(AIK, eku=[ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE]),  # §8.3.1: MUST contain 2.23.133.8.3
        aik_cert(AIK, ca=True),
        aik_cert(AIK, ca=None),
        aik_cert(AIK, extra=[aaguid_ext(b"\x02" * 16)]),
    ]
    for bad in bad_certs:
        expect(AttestationCertificateError, "tpm", tpm_stmt(AIK, bad))
    no_san = issue(
        x509.Name([]), AIK.public_key(), INTERMEDIATE, extensions=[(x509.ExtendedKeyUsage([AIK_EKU]), False)]
    )
    expect(AttestationCertificateError, "tpm", tpm_stmt(AIK, no_san))
    expect(UntrustedAttestationError, "tpm", tpm_stmt(AIK, cert), trust_anchors=TrustAnchors(roots=[OTHER_ROOT.cert]))


# ---------------------------------------------------------------- android-key


def tlv(tag: bytes, content: bytes) -> bytes:
    n = len(content)
    length = (
        bytes([n])
        if n < 0x80
        else bytes([0x80 | ((n.bit_length() + 7) // 8)]) + n.to_bytes((n.bit_length() + 7) // 8, "big")
    )
    return tag + length + content


def integer(v: int) -> bytes:
    return tlv(b"\x02", v.to_bytes(max(1, (v.bit_length() + 8) // 8), "big", signed=True))


def ctx_tag(number: int) -> bytes:
    """Context-specific constructed tag (EXPLICIT), high-tag-number form when needed."""
    if number < 31:
        return bytes([0xA0 | number])
    groups = []
    while number:
        groups.append(number & 0x7F)
        number >>= 7
    return bytes([0xBF]) + bytes(g | 0x80 for g in reversed(groups[1:])) + bytes([groups[0]])


def auth_list(purpose: list[int] | None = None, origin: int | None = None, all_apps: bool = False) -> bytes:
    body = b""
    if purpose is not None:
        body += tlv(ctx_tag(1), tlv(b"\x31", b"".join(integer(p) for p in purpose)))
    if all_apps:
        body += tlv(ctx_tag(600), b"\x05\x00")
    if origin is not None:
        body += tlv(ctx_tag(702), integer(origin))
    return tlv(b"\x30", body)


def key_description(challenge: bytes = CDH, sw: bytes | None = None, tee: bytes | None = None) -> bytes:
    sw = sw if sw is not None else auth_list()
    tee = tee if tee is not None else auth_list([2], 0)
    return tlv(
        b"\x30",
        integer(3)
        + tlv(b"\x0a", b"\x01")
        + integer(4)
        + tlv(b"\x0a", b"\x01")
        + tlv(b"\x04", challenge)
        + tlv(b"\x04", b"")
        + sw
        + tee,
    )


def android_key_stmt(desc: bytes | None, cred: Credential = CRED, key: Any = None) -> dict[str, Any]:
    key = key or cred.key
    exts = [] if desc is None else [(x509.UnrecognizedExtension(KEY_DESCRIPTION_OID, desc), False)]
    leaf = issue(_name(CN="Android Keystore Key"), key.public_key(), INTERMEDIATE, ca=None, extensions=exts)
    return {"alg": -7, "sig": sign(key, bytes(cred.auth_data) + CDH), "x5c": [der(leaf), der(INTERMEDIATE.cert)]}


def test_android_key() -> None:
    res = verify("android-key", android_key_stmt(key_description()), trust_anchors=ANCHORS)
    assert res.type is AttestationType.BASIC and res.trusted
    sw_only = key_description(sw=auth_list([2], 0), tee=auth_list())
    assert verify("android-key", android_key_stmt(sw_only)).type is AttestationType.BASIC
    expect(AttestationCertificateError, "android-key", android_key_stmt(sw_only), android_key_tee_only=True)
    expect(AttestationSignatureError, "android-key", android_key_stmt(key_description(challenge=b"\0" * 32)))
    expect(AttestationCertificateError, "android-key", android_key_stmt(key_description(tee=auth_list([2], 0, True))))
    expect(AttestationCertificateError, "android-key", android_key_stmt(key_description(sw=auth_list(all_apps=True))))
    expect(AttestationCertificateError, "android-key", android_key_stmt(key_description(tee=auth_list([2], 2))))
    expect(AttestationCertificateError, "android-key", android_key_stmt(key_description(tee=auth_list([2, 3], 0))))
    expect(AttestationCertificateError, "android-key", android_key_stmt(key_description(tee=auth_list([3], 0))))
    expect(AttestationCertificateError, "android-key", android_key_stmt(None))
    expect(MalformedAttestationError, "android-key", android_key_stmt(b"\x30\x03\x02\x01"))
    expect(MalformedAttestationError, "android-key", android_key_stmt(tlv(b"\x30", integer(3))))
    other_key = ec.generate_private_key(ec.SECP256R1())
    expect(AttestationCertificateError, "android-key", android_key_stmt(key_description(), key=other_key))
    good = android_key_stmt(key_description())
    expect(AttestationSignatureError, "android-key", {**good, "sig": sign(CRED.key, b"x")})
    expect(UntrustedAttestationError, "android-key", good, trust_anchors=TrustAnchors(roots=[OTHER_ROOT.cert]))


# ---------------------------------------------------------------- android-safetynet


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


SN_KEY = ec.generate_private_key(ec.SECP256R1())


def safetynet_cert(hostname: str = "attest.android.com", san: bool = True) -> x509.Certificate:
    exts = [(x509.SubjectAlternativeName([x509.DNSName(hostname)]), False)] if san else []
    return issue(_name(CN=hostname), SN_KEY.public_key(), INTERMEDIATE, ca=None, extensions=exts)


def safetynet_stmt(
    cred: Credential = CRED,
    *,
    cert: x509.Certificate | None = None,
    payload: dict[str, Any] | None = None,
    header: dict[str, Any] | None = None,
    key: Any = SN_KEY,
    nonce_data: bytes | None = None,
) -> dict[str, Any]:
    cert = cert or safetynet_cert()
    nonce = base64.b64encode(hashlib.sha256(nonce_data or bytes(cred.auth_data) + CDH).digest()).decode()
    body = {
        "nonce": nonce,
        "timestampMs": int(NOW.timestamp() * 1000) - 1000,
        "ctsProfileMatch": True,
        "basicIntegrity": True,
        **(payload or {}),
    }
    head = {
        "alg": "ES256",
        "x5c": [base64.b64encode(der(c)).decode() for c in (cert, INTERMEDIATE.cert)],
        **(header or {}),
    }
    signing_input = f"{b64u(json.dumps(head).encode())}.{b64u(json.dumps(body).encode())}"
    r, s = decode_dss_signature(key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256())))
    jws = f"{signing_input}.{b64u(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"
    return {"ver": "12345", "response": jws.encode()}


def test_android_safetynet() -> None:
    res = verify("android-safetynet", safetynet_stmt(), trust_anchors=ANCHORS)
    assert res.type is AttestationType.BASIC and res.trusted
    assert verify("android-safetynet", safetynet_stmt(cert=safetynet_cert(san=False))).type is AttestationType.BASIC
    expect(MalformedAttestationError, "android-safetynet", {**safetynet_stmt(), "ver": ""})
    expect(MalformedAttestationError, "android-safetynet", {**safetynet_stmt(), "response": "text"})
    expect(MalformedAttestationError, "android-safetynet", {"ver": "1", "response": b"a.b"})
    expect(MalformedAttestationError, "android-safetynet", {"ver": "1", "response": b"e30.e30.!!"})
    expect(MalformedAttestationError, "android-safetynet", safetynet_stmt(header={"alg": "none"}))
    expect(MalformedAttestationError, "android-safetynet", safetynet_stmt(header={"x5c": ["%%%"]}))
    expect(MalformedAttestationError, "android-safetynet", safetynet_stmt(payload={"timestampMs": "soon"}))
    expect(AttestationSignatureError, "android-safetynet", safetynet_stmt(nonce_data=b"other"))
    expect(AttestationCertificateError, "android-safetynet", safetynet_stmt(payload={"ctsProfileMatch": False}))
    old = int((NOW - datetime.timedelta(minutes=5)).timestamp() * 1000)
    expect(AttestationSignatureError, "android-safetynet", safetynet_stmt(payload={"timestampMs": old}))
    assert (
        verify(
            "android-safetynet",
            safetynet_stmt(payload={"timestampMs": old}),
            safetynet_max_age=datetime.timedelta(minutes=10),
        ).trusted
        is False
    )
    future = int((NOW + datetime.timedelta(minutes=5)).timestamp() * 1000)
    expect(AttestationSignatureError, "android-safetynet", safetynet_stmt(payload={"timestampMs": future}))
    expect(AttestationCertificateError, "android-safetynet", safetynet_stmt(cert=safetynet_cert("evil.example")))
    expect(AttestationSignatureError, "android-safetynet", safetynet_stmt(key=ec.generate_private_key(ec.SECP256R1())))
    expect(
        UntrustedAttestationError,
        "android-safetynet",
        safetynet_stmt(),
        trust_anchors=TrustAnchors(roots=[OTHER_ROOT.cert]),
    )


# ---------------------------------------------------------------- apple


def apple_stmt(
    cred: Credential = CRED, nonce: bytes | None = None, key: Any = None, ext: bytes | None = None
) -> dict[str, Any]:
    nonce = nonce if nonce is not None else hashlib.sha256(bytes(cred.auth_data) + CDH).digest()
    value = ext if ext is not None else tlv(b"\x30", tlv(b"\xa1", tlv(b"\x04", nonce)))
    exts = [(x509.UnrecognizedExtension(APPLE_NONCE_OID, value), False)] if value else []
    leaf = issue(_name(CN="apple leaf"), (key or cred.key).public_key(), INTERMEDIATE, ca=False, extensions=exts)
    return {"x5c": [der(leaf), der(INTERMEDIATE.cert)]}


def test_apple() -> None:
    res = verify("apple", apple_stmt(), trust_anchors=ANCHORS)
    assert res.type is AttestationType.ANON_CA and res.trusted
    expect(AttestationSignatureError, "apple", apple_stmt(nonce=b"\0" * 32))
    expect(AttestationCertificateError, "apple", apple_stmt(ext=b""))
    expect(MalformedAttestationError, "apple", apple_stmt(ext=b"\x30\x05\xa1\x03\x04"))
    expect(MalformedAttestationError, "apple", apple_stmt(ext=tlv(b"\x30", tlv(b"\xa2", tlv(b"\x04", b"n")))))
    expect(AttestationCertificateError, "apple", apple_stmt(key=ec.generate_private_key(ec.SECP256R1())))
    expect(MalformedAttestationError, "apple", {"x5c": "x"})
    expect(UntrustedAttestationError, "apple", apple_stmt(), trust_anchors=TrustAnchors(roots=[OTHER_ROOT.cert]))


@pytest.mark.parametrize("fmt", sorted(set(FORMATS) - {"none"}))
def test_every_format_rejects_garbage_statements(fmt: str) -> None:
    garbage: list[dict[str, Any]] = [
        {},
        {"x5c": None, "alg": None, "sig": None},
        {"x5c": [b""], "alg": -7, "sig": b""},
        {"ver": "2.0", "response": b"", "certInfo": b"", "pubArea": b"", "alg": -7, "sig": b"", "x5c": [b"\x30"]},
    ]
    for stmt in garbage:
        with pytest.raises(AttestationError):
            verify(fmt, stmt)


def test_certificate_with_an_invalid_public_key_is_a_typed_error() -> None:
    """A SubjectPublicKeyInfo that does not parse (here an EC point of type 0x05) is rejected, not a ValueError."""
    key, leaf = packed_leaf()
    raw = der(leaf)
    point = b"\x03\x42\x00\x04"
    assert raw.count(point) == 1
    broken = raw.replace(point, b"\x03\x42\x00\x05")
    stmt = {**packed_stmt(key, [leaf]), "x5c": [broken]}
    for fmt in ("packed", "fido-u2f", "android-key", "apple", "tpm"):
        with pytest.raises(AttestationError):
            verify(fmt, {**stmt, "ver": "2.0"}, trust_anchors=ANCHORS)


def test_certificate_with_an_invalid_version_is_a_typed_error() -> None:
    """cryptography raises x509.InvalidVersion (not a ValueError) for a version field outside v1..v3."""
    key, leaf = packed_leaf()
    raw = der(leaf)
    version = b"\xa0\x03\x02\x01\x02"
    assert raw.count(version) == 1
    stmt = {**packed_stmt(key, [leaf]), "x5c": [raw.replace(version, b"\xa0\x03\x02\x01\x5a")]}
    for fmt in ("packed", "fido-u2f", "android-key", "apple"):
        with pytest.raises(MalformedAttestationError, match="invalid certificate"):
            verify(fmt, stmt)
