"""Attestation chains of the software authenticator.

Attestation: two chains, each made at first start from a root whose key signs one certificate and is then
thrown away. The batch chain signs packed (and U2F) attestations. The enterprise chain (CTAP 2.1 §7.1) has a
root of its own and a certificate whose subject carries a random serialNumber, so it names this one
authenticator; it signs enterprise attestations only. A state written before the enterprise chain existed
gets one when it is loaded, written back at once.
"""

from __future__ import annotations

import datetime
import os

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID, ObjectIdentifier

__all__ = ["load_attestation_key", "make_attestation", "make_enterprise_attestation"]

AAGUID_OID = ObjectIdentifier("1.3.6.1.4.1.45724.1.1.4")


def make_chain(
    aaguid: bytes, root_cn: str, leaf_cn: str, serial_number: str | None = None
) -> tuple[bytes, bytes, bytes]:
    """Generate (private key PKCS8, certificate DER, root certificate DER) of an attestation meeting WebAuthn
    §8.2.1 (packed attestation statement certificate requirements).

    The root's key signs the certificate and is then thrown away: nothing more is issued under that root.
    ``serial_number``: a subject serialNumber that makes the certificate name one authenticator.
    """
    now = datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=1)
    root_key = ec.generate_private_key(ec.SECP256R1())
    organization = [
        x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "aioctap"),
    ]
    root_name = x509.Name([*organization, x509.NameAttribute(NameOID.COMMON_NAME, root_cn)])
    root = (
        x509.CertificateBuilder()
        .subject_name(root_name)
        .issuer_name(root_name)
        .public_key(root_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=365 * 20))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .sign(root_key, hashes.SHA256())
    )
    subject = [
        *organization,
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "Authenticator Attestation"),
        x509.NameAttribute(NameOID.COMMON_NAME, leaf_cn),
    ]
    if serial_number is not None:
        subject.append(x509.NameAttribute(NameOID.SERIAL_NUMBER, serial_number))
    att_key = ec.generate_private_key(ec.SECP256R1())
    att = (
        x509.CertificateBuilder()
        .subject_name(x509.Name(subject))
        .issuer_name(root_name)
        .public_key(att_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=365 * 10))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.UnrecognizedExtension(AAGUID_OID, b"\x04\x10" + aaguid), critical=False)
        .sign(root_key, hashes.SHA256())
    )
    pkcs8 = att_key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return pkcs8, att.public_bytes(serialization.Encoding.DER), root.public_bytes(serialization.Encoding.DER)


def make_attestation(aaguid: bytes) -> tuple[bytes, bytes, bytes]:
    """The batch attestation: (private key PKCS8, certificate DER, root certificate DER)."""
    return make_chain(aaguid, "aioctap Virtual Authenticator Root CA", "aioctap Virtual Authenticator")


def make_enterprise_attestation(aaguid: bytes) -> tuple[bytes, bytes, bytes]:
    """The enterprise attestation (CTAP 2.1 §7.1): a chain of its own, under an enterprise root distinct from the
    batch root, whose certificate names this one authenticator (a random serialNumber, its own key)."""
    return make_chain(
        aaguid,
        "aioctap Virtual Authenticator Enterprise Root CA",
        "aioctap Virtual Authenticator (enterprise)",
        serial_number=os.urandom(16).hex(),
    )


def load_attestation_key(pkcs8: bytes) -> ec.EllipticCurvePrivateKey:
    """The attestation private key from its PKCS#8 DER."""
    key = serialization.load_der_private_key(pkcs8, None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise TypeError("the attestation key must be an EC key")
    return key
