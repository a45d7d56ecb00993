"""Credential IDs and their keys (the software authenticator's key derivation).

Credentials are stateless where the spec allows. A credential ID (version 2, 34 bytes) is

    version (0x02) | attributes (1 byte) | nonce (16 random bytes) | tag (16 bytes)

where the attributes byte holds the algorithm (bits 0-1 and 7: ES256, EdDSA, RS256, 3, ES384, ES512, PS256, and
7 for ML-DSA, its parameter set in the nonce's first byte: 0, 1, 2 for ML-DSA-44, -65, -87; 3 for the fully-specified
ESP256 and Ed25519 of RFC 9864, 0 and 1 in the nonce's first byte, keys as ES256's and EdDSA's), the credProtect level
(bits 2-3), hmac-secret (bit 4), discoverable (bit 5) and thirdPartyPayment (bit 6, CTAP 2.2), and the tag is
HMAC-SHA-256 under a key derived from the master key over the first 18 bytes and the RP ID hash, truncated to 16
bytes. The private key is derived from the same 18 bytes and the RP ID hash under a second derived key (the P-256
and P-384 scalars from 64 bytes of HMAC-SHA-512 reduced into [1, n-1], the P-521 one from 128, the Ed25519 and
ML-DSA seeds from HMAC-SHA-256); an RSA (RS256, PS256) key is kept in the state under the nonce. So an ID names its
key without carrying it, a forged or altered ID or one used with another RP fails the tag, and a reset (a new master
key) ends every ID at once. Short IDs matter on the wire: a getAssertion request with one allowList entry
and its response each fit one 64-byte report fewer than with the version-1 IDs (58 to 74 bytes: the
key and attributes sealed with AES-256-GCM), which the authenticator still opens.
Discoverable credentials additionally keep their user and RP entities in the state.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from typing import Any, TypedDict, Unpack, cast

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, mldsa, padding, rsa, utils
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ..cose import ES256, ES384, ES512, ESP256, MLDSA44, MLDSA65, MLDSA87, PS256, RS256, CoseKey, Ed25519, EdDSA
from . import encoding
from .common import StateError

__all__ = ["CRED_ID_LENGTH", "CRED_VERSION", "SUPPORTED_ALGORITHMS", "CredentialAttributes", "CredentialKey"]

CRED_VERSION = 2  # the credential IDs made now (derived keys, module docstring); version 1 IDs still open
SEALED_CRED_VERSION = 1  # the earlier IDs: key and attributes sealed with AES-GCM
CRED_ID_LENGTH = 34
# attribute bits 0-1 and, as bit 2 of the index, bit 7: index 3 is the fully-specified algorithms, 7 ML-DSA, each
# naming its member by the first byte of the ID's nonce (NONCE_NAMED)
_CRED_ALGS = (-7, -8, -257, None, -35, -36, -37, None)
_ML_DSA_INDEX = 7
ML_DSA_ALGS = (-48, -49, -50)
FULLY_SPECIFIED_ALGS = (-9, -19)  # ESP256, Ed25519 (RFC 9864): the keys and signatures of ES256 and EdDSA
NONCE_NAMED = {3: FULLY_SPECIFIED_ALGS, _ML_DSA_INDEX: ML_DSA_ALGS}
_P256_ALGS = (-7, -9)  # ES256, ESP256
_ED25519_ALGS = (-8, -19)  # EdDSA (on Ed25519), Ed25519
RSA_ALGS = (-257, -37)
_P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
_P384_ORDER = int(
    "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF581A0DB248B0A77AECEC196ACCC52973", 16
)
_P521_ORDER = int(
    "01FF" + "FFFFFFFF" * 7 + "FFFFFFFA51868783BF2F966B7FCC0148F709A5D03BB5C9B8899C47AEBB6FB71E91386409", 16
)
# the group orders of P-384 and P-521 (SEC 2 §2.5.1, §2.6.1); tests/virtual check them against cryptography
# ES256, EdDSA, RS256, ES384, ES512, PS256, ML-DSA-44, ML-DSA-65, ML-DSA-87, ESP256, Ed25519
SUPPORTED_ALGORITHMS = (-7, -8, -257, -35, -36, -37, -48, -49, -50, -9, -19)
# ES256 signs SHA-256(message) given as a digest: the same signature, but hashlib's hash of the short
# authenticatorData || clientDataHash costs less than OpenSSL's digest context set up in the sign call
_ECDSA_PREHASHED = ec.ECDSA(utils.Prehashed(hashes.SHA256()))
_P256 = ec.SECP256R1()
# the other ECDSA algorithms: curve, signature algorithm, scalar size and the order scalars are reduced into
_EC_ALGS: dict[int, tuple[ec.EllipticCurve, ec.ECDSA, int, int]] = {
    -35: (ec.SECP384R1(), ec.ECDSA(hashes.SHA384()), 48, _P384_ORDER),
    -36: (ec.SECP521R1(), ec.ECDSA(hashes.SHA512()), 66, _P521_ORDER),
}
# PS256 signs with the longest salt the key allows, which python-fido2's and py_webauthn's verifiers require
_PSS = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.MAX_LENGTH)
_COSE_TYPES: dict[int, type[CoseKey]] = {
    -7: ES256, -8: EdDSA, -257: RS256, -35: ES384, -36: ES512, -37: PS256, -48: MLDSA44, -49: MLDSA65, -50: MLDSA87,
    -9: ESP256, -19: Ed25519,
}  # fmt: skip
_ML_DSA_KEYS: dict[int, type[mldsa.MLDSA44PrivateKey | mldsa.MLDSA65PrivateKey | mldsa.MLDSA87PrivateKey]] = {
    -48: mldsa.MLDSA44PrivateKey, -49: mldsa.MLDSA65PrivateKey, -50: mldsa.MLDSA87PrivateKey,
}  # fmt: skip
PrivateKey = (
    ec.EllipticCurvePrivateKey
    | ed25519.Ed25519PrivateKey
    | rsa.RSAPrivateKey
    | mldsa.MLDSA44PrivateKey
    | mldsa.MLDSA65PrivateKey
    | mldsa.MLDSA87PrivateKey
)
_sha256 = hashlib.sha256


def nonce_first(alg: int) -> int | None:
    """The first byte of the nonce of a credential ID of ``alg`` when the ID names ``alg`` by it (module docstring)."""
    for algs in NONCE_NAMED.values():
        if alg in algs:
            return algs.index(alg)
    return None


def attributes_byte(alg: int, cred_protect: int, hmac_secret: bool, resident: bool, third_party_payment: bool) -> int:
    """The attributes byte of a credential ID (module docstring)."""
    named = [index for index, algs in NONCE_NAMED.items() if alg in algs]
    if (alg not in _CRED_ALGS and not named) or cred_protect not in (1, 2, 3):
        raise ValueError("a credential of an unknown algorithm or credProtect level")
    index = named[0] if named else _CRED_ALGS.index(alg)
    return (
        index & 3 | (index & 4) << 5 | cred_protect << 2 | hmac_secret << 4 | resident << 5 | third_party_payment << 6
    )


def is_derived_id(credential_id: bytes) -> bool:
    """A version 2 credential ID (its key derived from it), as opposed to a version 1 sealed one."""
    return len(credential_id) == CRED_ID_LENGTH and credential_id[0] == CRED_VERSION


def from_attributes(value: int, nonce_first: int) -> tuple[int, int, bool, bool, bool] | None:
    """(alg, credProtect, hmac-secret, discoverable, thirdPartyPayment) of an attributes byte (and the first byte of
    the nonce, which names an ML-DSA parameter set or a fully-specified algorithm), None for one never made."""
    index = value & 3 | (value & 0x80) >> 5
    named = NONCE_NAMED.get(index)
    if named is None:
        alg = _CRED_ALGS[index]
    elif nonce_first < len(named):
        alg = named[nonce_first]
    else:
        return None
    if alg is None or not value & 0x0C:
        return None
    return alg, value >> 2 & 3, bool(value & 0x10), bool(value & 0x20), bool(value & 0x40)


class CredentialKeys:
    """What credential IDs are made and checked with, derived once per master key (module docstring)."""

    __slots__ = ("_mac", "_seed", "cipher", "master_key")

    def __init__(self, master_key: bytes) -> None:
        self.master_key = master_key
        self._mac = hmac.new(master_key, b"aioctap credential ID tag", hashlib.sha256).digest()
        self._seed = hmac.new(master_key, b"aioctap credential private key", hashlib.sha256).digest()
        self.cipher = AESGCM(master_key)  # version 1 IDs

    def tag(self, header: bytes, rp_id_hash: bytes) -> bytes:
        return hmac.digest(self._mac, header + rp_id_hash, "sha256")[:16]

    def private(self, alg: int, header: bytes, rp_id_hash: bytes) -> bytes:
        """The Ed25519 or ML-DSA seed, or the P-256 / P-384 scalar (64 bytes reduced: no bias worth the name), or
        the P-521 one (128 bytes reduced)."""
        if alg in _ED25519_ALGS or alg in ML_DSA_ALGS:
            return hmac.digest(self._seed, header + rp_id_hash, "sha256")
        wide = hmac.digest(self._seed, header + rp_id_hash, "sha512")
        if alg in _P256_ALGS:
            return (int.from_bytes(wide, "big") % (_P256_ORDER - 1) + 1).to_bytes(32, "big")
        _, _, size, order = _EC_ALGS[alg]
        if alg == -36:
            wide += hmac.digest(self._seed, header + rp_id_hash + b"\x01", "sha512")
        return (int.from_bytes(wide, "big") % (order - 1) + 1).to_bytes(size, "big")


def _es256(point: ec.EllipticCurvePublicNumbers) -> ES256:
    """The ES256 COSE_Key of a P-256 public point."""
    return ES256({1: 2, 3: -7, -1: 1, -2: point.x.to_bytes(32, "big"), -3: point.y.to_bytes(32, "big")})


class CredentialAttributes(TypedDict, total=False):
    """The attributes a credential ID carries beside its algorithm (module docstring)."""

    cred_protect: int
    hmac_secret: bool
    resident: bool
    third_party_payment: bool


@dataclass
class CredentialKey:
    """What a credential ID seals: the private key and the attributes needed at assertion time.

    ``private`` is the EC scalar (P-256: 32 bytes, P-384: 48, P-521: 66) or the Ed25519 or ML-DSA seed (32
    bytes), or for RS256 and PS256 the PKCS#8 DER of the RSA key (kept in the state under the credential ID's nonce).
    """

    alg: int
    private: bytes
    cred_protect: int = 1
    hmac_secret: bool = False
    resident: bool = False
    third_party_payment: bool = False  # CTAP 2.2 thirdPartyPayment: enabled for third-party payments
    _key: PrivateKey | None = field(default=None, repr=False, compare=False)
    _public: CoseKey | None = field(default=None, repr=False, compare=False)
    _public_cbor: bytes | None = field(default=None, repr=False, compare=False)

    def private_key(self) -> PrivateKey:
        """The private key as a ``cryptography`` object (built from ``private`` once, then cached)."""
        if self._key is not None:
            return self._key
        key: PrivateKey
        if self.alg in _ED25519_ALGS:
            key = ed25519.Ed25519PrivateKey.from_private_bytes(self.private)
        elif self.alg in _ML_DSA_KEYS:
            key = _ML_DSA_KEYS[self.alg].from_seed_bytes(self.private)
        elif self.alg in RSA_ALGS:
            loaded = serialization.load_der_private_key(self.private, None)
            if not isinstance(loaded, rsa.RSAPrivateKey):
                raise StateError("RSA credential key is not an RSA key")
            key = loaded
        else:
            curve = _P256 if self.alg in _P256_ALGS else _EC_ALGS[self.alg][0]
            key = ec.derive_private_key(int.from_bytes(self.private, "big"), curve)
        self._key = key
        return key

    def public_key(self) -> CoseKey:
        """The public key as a COSE_Key (of the type ``alg`` names) for the attested credential data.

        Computed once and shared: copy it before changing it.
        """
        if self._public is None:
            self._public = _COSE_TYPES[self.alg].from_cryptography_key(self.private_key().public_key())
        return self._public

    def public_key_cbor(self) -> bytes:
        """The COSE_Key of :meth:`public_key` as canonical CBOR (computed once)."""
        if self._public_cbor is None:
            self._public_cbor = encoding.cose_key(self.public_key())
        return self._public_cbor

    def sign(self, message: bytes) -> bytes:
        """Sign ``message`` with ``alg``: ECDSA (DER) P-256/SHA-256, P-384/SHA-384 or P-521/SHA-512, Ed25519,
        RSASSA-PKCS1-v1_5/SHA-256, RSASSA-PSS/SHA-256 or ML-DSA (an empty context)."""
        key: Any = self._key if self._key is not None else self.private_key()
        alg = self.alg  # the key's type follows alg (private_key): no isinstance checks nor casts on the hot path
        if alg == -7 or alg == -9:
            signature: bytes = key.sign(_sha256(message).digest(), _ECDSA_PREHASHED)
            return signature
        if alg == -8 or alg == -19:
            signature = key.sign(message)
            return signature
        if alg == -257:
            return cast(rsa.RSAPrivateKey, key).sign(message, padding.PKCS1v15(), hashes.SHA256())
        if alg == -37:
            return cast(rsa.RSAPrivateKey, key).sign(message, _PSS, hashes.SHA256())
        if alg in _ML_DSA_KEYS:
            return cast(mldsa.MLDSA44PrivateKey, key).sign(message)
        return cast(ec.EllipticCurvePrivateKey, key).sign(message, _EC_ALGS[alg][1])

    @classmethod
    def derived(cls, alg: int, private: bytes, **attrs: Unpack[CredentialAttributes]) -> CredentialKey:
        """A new EC (``private``: the scalar), EdDSA or ML-DSA (the seed) credential's key, its ES256 public key
        computed."""
        credential = cls(alg, private, **attrs)
        key = credential.private_key()  # built at once, as private_key() builds it
        if alg == -7:
            credential._public = _es256(cast(ec.EllipticCurvePrivateKey, key).public_key().public_numbers())
        return credential

    @classmethod
    def generate(cls, alg: int, **attrs: Unpack[CredentialAttributes]) -> CredentialKey:
        """A new key for COSE algorithm ``alg`` (-7 ES256 or -9 ESP256, -8 EdDSA or -19 Ed25519, -257 RS256, -37
        PS256); ``attrs`` set the other fields."""
        key: ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey
        public: CoseKey | None = None
        if alg in _ED25519_ALGS:
            key = ed25519.Ed25519PrivateKey.generate()
            private = key.private_bytes_raw()
        elif alg in RSA_ALGS:
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            private = key.private_bytes(
                serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        else:
            key = ec.generate_private_key(_P256)
            # one conversion gives both the scalar and the public point (each costs as much as the other)
            numbers = key.private_numbers()
            private = numbers.private_value.to_bytes(32, "big")
            public = _es256(numbers.public_numbers) if alg == -7 else None  # (ESP256's: made when asked for)
        return cls(alg, private, _key=key, _public=public, **attrs)

    def __repr__(self) -> str:
        return f"CredentialKey(alg={self.alg}, cred_protect={self.cred_protect}, resident={self.resident})"
