"""Persistent state of the software authenticator, and how it is kept at rest.

The state file is the whole state as CBOR, encrypted with AES-256-GCM under a wrapping key taken
from the environment variable ``AIOCTAP_VIRTUAL_KEY`` (64 hex digits) or from a key file beside the
state (``STATE.key``, created with mode 0600). It is written atomically: a temporary file in the
same directory, fsync, rename, fsync of the directory; a crash mid-write leaves the old file.

Credentials are stateless where the spec allows. A credential ID (version 2, 34 bytes) is

    version (0x02) | attributes (1 byte) | nonce (16 random bytes) | tag (16 bytes)

where the attributes byte holds the algorithm (bits 0-1 and 7: ES256, EdDSA, RS256, -, ES384, ES512, PS256, and
7 for ML-DSA, its parameter set in the nonce's first byte: 0, 1, 2 for ML-DSA-44, -65, -87), the credProtect level
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

Attestation: two chains, each made at first start from a root whose key signs one certificate and is then
thrown away. The batch chain signs packed (and U2F) attestations. The enterprise chain (CTAP 2.1 §7.1) has a
root of its own and a certificate whose subject carries a random serialNumber, so it names this one
authenticator; it signs enterprise attestations only. A state written before the enterprise chain existed
gets one when it is loaded, written back at once.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import os
import tempfile
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, mldsa, padding, rsa, utils
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.x509.oid import NameOID, ObjectIdentifier

from .. import cbor
from ..cose import ES256, ES384, ES512, MLDSA44, MLDSA65, MLDSA87, PS256, RS256, CoseKey, EdDSA
from . import encoding

__all__ = ["AuthenticatorState", "CredentialKey", "ResidentCredential", "StateError", "load_state", "save_state"]

STATE_MAGIC = b"AIOCTAP-VA1"
CRED_VERSION = 2  # the credential IDs made now (derived keys, module docstring); version 1 IDs still open
SEALED_CRED_VERSION = 1  # the earlier IDs: key and attributes sealed with AES-GCM
CRED_ID_LENGTH = 34
# attribute bits 0-1 and, as bit 2 of the index, bit 7: index 3 is never made, 7 is ML-DSA (_ML_DSA_ALGS)
_CRED_ALGS = (-7, -8, -257, None, -35, -36, -37, None)
_ML_DSA_INDEX = 7
_ML_DSA_ALGS = (-48, -49, -50)  # by the first byte of the ID's nonce
_RSA_ALGS = (-257, -37)
_P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
_P384_ORDER = int(
    "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF581A0DB248B0A77AECEC196ACCC52973", 16
)
_P521_ORDER = int(
    "01FF" + "FFFFFFFF" * 7 + "FFFFFFFA51868783BF2F966B7FCC0148F709A5D03BB5C9B8899C47AEBB6FB71E91386409", 16
)
# the group orders of P-384 and P-521 (SEC 2 §2.5.1, §2.6.1); tests/virtual check them against cryptography
AAGUID_OID = ObjectIdentifier("1.3.6.1.4.1.45724.1.1.4")
EMPTY_LARGE_BLOB_ARRAY = bytes.fromhex("80") + hashlib.sha256(bytes.fromhex("80")).digest()[:16]
# ES256, EdDSA, RS256, ES384, ES512, PS256, ML-DSA-44, ML-DSA-65, ML-DSA-87
SUPPORTED_ALGORITHMS = (-7, -8, -257, -35, -36, -37, -48, -49, -50)
KEY_CACHE_SIZE = 256
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


def _attributes(alg: int, cred_protect: int, hmac_secret: bool, resident: bool, third_party_payment: bool) -> int:
    """The attributes byte of a credential ID (module docstring)."""
    if (alg not in _CRED_ALGS and alg not in _ML_DSA_ALGS) or cred_protect not in (1, 2, 3):
        raise ValueError("a credential of an unknown algorithm or credProtect level")
    index = _ML_DSA_INDEX if alg in _ML_DSA_ALGS else _CRED_ALGS.index(alg)
    return (
        index & 3 | (index & 4) << 5 | cred_protect << 2 | hmac_secret << 4 | resident << 5 | third_party_payment << 6
    )


def _is_derived_id(credential_id: bytes) -> bool:
    """A version 2 credential ID (its key derived from it), as opposed to a version 1 sealed one."""
    return len(credential_id) == CRED_ID_LENGTH and credential_id[0] == CRED_VERSION


def _from_attributes(value: int, nonce_first: int) -> tuple[int, int, bool, bool, bool] | None:
    """(alg, credProtect, hmac-secret, discoverable, thirdPartyPayment) of an attributes byte (and the first byte of
    the nonce, which names the ML-DSA parameter set), None for one never made."""
    index = value & 3 | (value & 0x80) >> 5
    if index == _ML_DSA_INDEX:
        alg = _ML_DSA_ALGS[nonce_first] if nonce_first < len(_ML_DSA_ALGS) else None
    else:
        alg = _CRED_ALGS[index]
    if alg is None or not value & 0x0C:
        return None
    return alg, value >> 2 & 3, bool(value & 0x10), bool(value & 0x20), bool(value & 0x40)


class _CredentialKeys:
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
        if alg == -8 or alg in _ML_DSA_ALGS:
            return hmac.digest(self._seed, header + rp_id_hash, "sha256")
        wide = hmac.digest(self._seed, header + rp_id_hash, "sha512")
        if alg == -7:
            return (int.from_bytes(wide, "big") % (_P256_ORDER - 1) + 1).to_bytes(32, "big")
        _, _, size, order = _EC_ALGS[alg]
        if alg == -36:
            wide += hmac.digest(self._seed, header + rp_id_hash + b"\x01", "sha512")
        return (int.from_bytes(wide, "big") % (order - 1) + 1).to_bytes(size, "big")


class StateError(Exception):
    """The state file cannot be read (wrong wrapping key, corrupt, not a state file)."""


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
    _key: Any = field(default=None, repr=False, compare=False)
    _public: CoseKey | None = field(default=None, repr=False, compare=False)
    _public_cbor: bytes | None = field(default=None, repr=False, compare=False)

    def private_key(self) -> PrivateKey:
        """The private key as a ``cryptography`` object (built from ``private`` once, then cached)."""
        if self._key is not None:
            return self._key  # type: ignore[no-any-return]
        key: PrivateKey
        if self.alg == -8:
            key = ed25519.Ed25519PrivateKey.from_private_bytes(self.private)
        elif self.alg in _ML_DSA_KEYS:
            key = _ML_DSA_KEYS[self.alg].from_seed_bytes(self.private)
        elif self.alg in _RSA_ALGS:
            loaded = serialization.load_der_private_key(self.private, None)
            if not isinstance(loaded, rsa.RSAPrivateKey):
                raise StateError("RSA credential key is not an RSA key")
            key = loaded
        else:
            curve = _EC_ALGS[self.alg][0] if self.alg != -7 else _P256
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
        key = self._key if self._key is not None else self.private_key()
        alg = self.alg  # the key's type follows alg (private_key): no isinstance checks on the hot path
        if alg == -7:
            return cast(ec.EllipticCurvePrivateKey, key).sign(_sha256(message).digest(), _ECDSA_PREHASHED)
        if alg == -8:
            return cast(ed25519.Ed25519PrivateKey, key).sign(message)
        if alg == -257:
            return cast(rsa.RSAPrivateKey, key).sign(message, padding.PKCS1v15(), hashes.SHA256())
        if alg == -37:
            return cast(rsa.RSAPrivateKey, key).sign(message, _PSS, hashes.SHA256())
        if alg in _ML_DSA_KEYS:
            return cast(mldsa.MLDSA44PrivateKey, key).sign(message)
        return cast(ec.EllipticCurvePrivateKey, key).sign(message, _EC_ALGS[alg][1])

    @classmethod
    def derived(cls, alg: int, private: bytes, **attrs: Any) -> CredentialKey:
        """A new EC (``private``: the scalar), EdDSA or ML-DSA (the seed) credential's key, its ES256 public key
        computed."""
        key: PrivateKey
        public: CoseKey | None = None
        if alg == -8:
            key = ed25519.Ed25519PrivateKey.from_private_bytes(private)
        elif alg in _ML_DSA_KEYS:
            key = _ML_DSA_KEYS[alg].from_seed_bytes(private)
        elif alg == -7:
            key = ec.derive_private_key(int.from_bytes(private, "big"), _P256)
            point = key.public_key().public_numbers()
            public = ES256({1: 2, 3: -7, -1: 1, -2: point.x.to_bytes(32, "big"), -3: point.y.to_bytes(32, "big")})
        else:
            key = ec.derive_private_key(int.from_bytes(private, "big"), _EC_ALGS[alg][0])
        return cls(alg, private, _key=key, _public=public, **attrs)

    @classmethod
    def generate(cls, alg: int, **attrs: Any) -> CredentialKey:
        """A new key for COSE algorithm ``alg`` (-7 ES256, -8 EdDSA, -257 RS256, -37 PS256); ``attrs`` set the
        other fields."""
        key: ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey
        public: CoseKey | None = None
        if alg == -8:
            key = ed25519.Ed25519PrivateKey.generate()
            private = key.private_bytes_raw()
        elif alg in _RSA_ALGS:
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            private = key.private_bytes(
                serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        else:
            key = ec.generate_private_key(_P256)
            # one conversion gives both the scalar and the public point (each costs as much as the other)
            numbers = key.private_numbers()
            private = numbers.private_value.to_bytes(32, "big")
            point = numbers.public_numbers
            public = ES256({1: 2, 3: -7, -1: 1, -2: point.x.to_bytes(32, "big"), -3: point.y.to_bytes(32, "big")})
        return cls(alg, private, _key=key, _public=public, **attrs)

    def __repr__(self) -> str:
        return f"CredentialKey(alg={self.alg}, cred_protect={self.cred_protect}, resident={self.resident})"


@dataclass
class ResidentCredential:
    """A discoverable credential's entities and per-credential data (its key is in its ID)."""

    credential_id: bytes
    rp_id: str
    rp: dict[str, Any]
    user: dict[str, Any]
    created: int
    cred_protect: int = 1
    cred_blob: bytes | None = None
    large_blob_key: bytes | None = None
    public_key: dict[int, Any] = field(default_factory=dict)

    @property
    def rp_id_hash(self) -> bytes:
        """SHA-256 of the RP ID, as in authenticator data."""
        return hashlib.sha256(self.rp_id.encode()).digest()

    def __repr__(self) -> str:
        return f"ResidentCredential(rp_id={self.rp_id!r}, created={self.created}, cred_protect={self.cred_protect})"

    def to_cbor(self) -> dict[int, Any]:
        """The integer-keyed map the state file stores this credential as."""
        return {
            1: self.credential_id,
            2: self.rp_id,
            3: self.rp,
            4: self.user,
            5: self.created,
            6: self.cred_protect,
            7: self.cred_blob,
            8: self.large_blob_key,
            9: self.public_key,
        }

    @classmethod
    def from_cbor(cls, d: dict[int, Any]) -> ResidentCredential:
        """The credential :meth:`to_cbor` stored (no validation: :meth:`AuthenticatorState.from_bytes` does it)."""
        return cls(d[1], d[2], d[3], d[4], d[5], d[6], d.get(7), d.get(8), d.get(9) or {})


def _make_chain(
    aaguid: bytes, root_cn: str, leaf_cn: str, serial_number: str | None = None
) -> tuple[bytes, bytes, bytes]:
    """Generate (private key PKCS8, certificate DER, root certificate DER) of an attestation meeting WebAuthn
    §8.2.1 (packed attestation statement certificate requirements).

    The root's key signs the certificate and is then thrown away: nothing more is issued under that root.
    ``serial_number``: a subject serialNumber that makes the certificate name one authenticator.
    """
    now = datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=1)
    root_key = ec.generate_private_key(ec.SECP256R1())
    root_name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "aioctap"),
            x509.NameAttribute(NameOID.COMMON_NAME, root_cn),
        ]
    )
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
        x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "aioctap"),
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


def _make_attestation(aaguid: bytes) -> tuple[bytes, bytes, bytes]:
    """The batch attestation: (private key PKCS8, certificate DER, root certificate DER)."""
    return _make_chain(aaguid, "aioctap Virtual Authenticator Root CA", "aioctap Virtual Authenticator")


def _make_enterprise_attestation(aaguid: bytes) -> tuple[bytes, bytes, bytes]:
    """The enterprise attestation (CTAP 2.1 §7.1): a chain of its own, under an enterprise root distinct from the
    batch root, whose certificate names this one authenticator (a random serialNumber, its own key)."""
    return _make_chain(
        aaguid,
        "aioctap Virtual Authenticator Enterprise Root CA",
        "aioctap Virtual Authenticator (enterprise)",
        serial_number=os.urandom(16).hex(),
    )


@dataclass
class AuthenticatorState:
    """Everything that survives a power cycle."""

    aaguid: bytes
    master_key: bytes
    attestation_key: bytes
    attestation_cert: bytes
    attestation_root: bytes
    sign_count: int = 0
    credential_seq: int = 0
    credentials: list[ResidentCredential] = field(default_factory=list)
    pin_hash: bytes | None = None
    pin_code_points: int = 0
    pin_retries: int = 8
    uv_retries: int = 8
    min_pin_length: int = 4
    min_pin_length_rp_ids: list[str] = field(default_factory=list)
    force_pin_change: bool = False
    always_uv: bool = False
    ep_enabled: bool = False
    large_blob_array: bytes = EMPTY_LARGE_BLOB_ARRAY
    templates: dict[bytes, str] = field(default_factory=dict)
    rsa_keys: dict[bytes, bytes] = field(default_factory=dict)  # handle -> PKCS#8 DER of RS256 credentials
    # enterprise attestation (§7.1): key, certificate naming this authenticator, root; None in a state written
    # before aioctap had it, until add_enterprise_attestation() (load_state does it, and saves)
    enterprise_key: bytes | None = None
    enterprise_cert: bytes | None = None
    enterprise_root: bytes | None = None
    # CTAP 2.2 persistentPinUvAuthToken (pcmr permission): made when first asked for, gone with a new PIN or a reset
    persistent_token: bytes | None = None
    uv_count_since_pin: int = 0  # CTAP 2.2 getInfo uvCountSinceLastPinEntry: built-in UV attempts since the PIN
    # (rp_id_hash, credential ID) -> the key it seals: tuples of bytes hash from their items' cached hashes
    _key_cache: OrderedDict[tuple[bytes, bytes], CredentialKey] = field(
        default_factory=OrderedDict, repr=False, compare=False
    )
    _sealer: _CredentialKeys | None = field(default=None, repr=False, compare=False)

    @classmethod
    def new(cls) -> AuthenticatorState:
        """A new authenticator: random AAGUID and master key, a fresh attestation key, certificate and root."""
        aaguid = uuid.uuid4().bytes
        key, cert, root = _make_attestation(aaguid)
        state = cls(aaguid, os.urandom(32), key, cert, root)
        state.add_enterprise_attestation()
        return state

    def add_enterprise_attestation(self) -> bool:
        """Make the enterprise attestation key, certificate and root if the state has none (one written by an
        earlier version); True when it made them (the state must be saved)."""
        if self.enterprise_key is not None and self.enterprise_cert is not None and self.enterprise_root is not None:
            return False
        self.enterprise_key, self.enterprise_cert, self.enterprise_root = _make_enterprise_attestation(self.aaguid)
        return True

    def __repr__(self) -> str:
        return (
            f"AuthenticatorState(aaguid={self.aaguid.hex()}, credentials={len(self.credentials)}, "
            f"pin_set={self.pin_hash is not None}, templates={len(self.templates)})"
        )

    def reset(self) -> None:
        """authenticatorReset: new master key (every credential ID stops working), no PIN, defaults (enterprise
        attestation disabled again, §7.1); the attestation keys and certificates are the device's and stay."""
        fresh = AuthenticatorState(
            self.aaguid, os.urandom(32), self.attestation_key, self.attestation_cert, self.attestation_root,
            enterprise_key=self.enterprise_key, enterprise_cert=self.enterprise_cert,
            enterprise_root=self.enterprise_root,
        )  # fmt: skip
        self.__dict__.update(fresh.__dict__)

    # -- credential IDs --------------------------------------------------------------------------

    def _credential_keys(self) -> _CredentialKeys:
        """The keys derived from the current master key (once per master key, not per credential)."""
        keys = self._sealer
        if keys is None or keys.master_key is not self.master_key:
            self._key_cache.clear()  # keys opened under another master key (one assigned directly, say)
            keys = self._sealer = _CredentialKeys(self.master_key)
        return keys

    def new_credential(
        self,
        alg: int,
        rp_id_hash: bytes,
        *,
        cred_protect: int = 1,
        hmac_secret: bool = False,
        resident: bool = False,
        third_party_payment: bool = False,
    ) -> tuple[bytes, CredentialKey]:
        """A new credential for this RP: its ID and key.

        The key of an EC or EdDSA credential is derived from its ID; an RSA (RS256, PS256) key is generated and
        kept in the state under the ID's nonce.
        """
        attributes = _attributes(alg, cred_protect, hmac_secret, resident, third_party_payment)
        if alg in _ML_DSA_ALGS:  # the nonce's first byte names the parameter set (module docstring)
            header = bytes([CRED_VERSION, attributes, _ML_DSA_ALGS.index(alg)]) + os.urandom(15)
        else:
            header = bytes([CRED_VERSION, attributes]) + os.urandom(16)
        keys = self._credential_keys()
        credential_id = header + keys.tag(header, rp_id_hash)
        attrs = {
            "cred_protect": cred_protect, "hmac_secret": hmac_secret, "resident": resident,
            "third_party_payment": third_party_payment,
        }  # fmt: skip
        if alg in _RSA_ALGS:
            key = CredentialKey.generate(alg, **attrs)
            self.rsa_keys[header[2:]] = key.private
        else:
            key = CredentialKey.derived(alg, keys.private(alg, header, rp_id_hash), **attrs)
        self._remember(rp_id_hash, credential_id, key)  # the new credential is used next (getAssertion, hmac)
        return credential_id, key

    def _keys(self) -> OrderedDict[tuple[bytes, bytes], CredentialKey]:
        """The cache of opened credential IDs, emptied whenever the master key is not the one it was filled under."""
        if self._sealer is None or self._sealer.master_key is not self.master_key:
            self._credential_keys()
        return self._key_cache

    def open_credential(self, credential_id: bytes, rp_id_hash: bytes) -> CredentialKey | None:
        """The key sealed in ``credential_id`` for this RP, or None if it is not one of ours."""
        key = self._open(credential_id, rp_id_hash)
        if key is not None and key.resident and self.find_resident(credential_id) is None:
            return None  # a deleted discoverable credential
        return key

    def open_resident(self, credential: ResidentCredential, rp_id_hash: bytes) -> CredentialKey | None:
        """:meth:`open_credential` for a discoverable credential known to be in the state (no second search)."""
        return self._open(credential.credential_id, rp_id_hash)

    def _open(self, credential_id: bytes, rp_id_hash: bytes) -> CredentialKey | None:
        """The key sealed in ``credential_id`` for this RP, from the cache or unsealed (and remembered)."""
        key = self._keys().get((rp_id_hash, credential_id))
        if key is None:
            key = self._unseal(credential_id, rp_id_hash)
            if key is not None:
                self._remember(rp_id_hash, credential_id, key)
        return key

    def _remember(self, rp_id_hash: bytes, credential_id: bytes, key: CredentialKey) -> None:
        cache = self._keys()
        if len(cache) >= KEY_CACHE_SIZE:
            cache.popitem(last=False)  # the oldest (an OrderedDict: a plain dict's first item gets slow to find)
        cache[(rp_id_hash, credential_id)] = key

    def _unseal(self, credential_id: bytes, rp_id_hash: bytes) -> CredentialKey | None:
        """Open a credential ID of either version; None for anything that is not one of ours."""
        if _is_derived_id(credential_id):
            attributes = _from_attributes(credential_id[1], credential_id[2])
            keys = self._credential_keys()
            header = credential_id[:18]
            if attributes is None or not hmac.compare_digest(keys.tag(header, rp_id_hash), credential_id[18:]):
                return None
            alg, cred_protect, hmac_secret, resident, payment = attributes
            if alg in _RSA_ALGS:
                private = self.rsa_keys.get(header[2:])
                if private is None:
                    return None
                return CredentialKey(alg, private, cred_protect, hmac_secret, resident, payment)
            private = keys.private(alg, header, rp_id_hash)
            return CredentialKey(alg, private, cred_protect, hmac_secret, resident, payment)
        d = self._open_sealed(credential_id, rp_id_hash)
        if d is None:
            return None
        try:
            private = d[2]
            if d[1] == -257:
                private = self.rsa_keys[private]
            return CredentialKey(d[1], private, d[3], d[4], d[5])
        except Exception:  # any failure means: not a credential of this authenticator
            return None

    def _open_sealed(self, credential_id: bytes, rp_id_hash: bytes) -> dict[Any, Any] | None:
        """What a version 1 credential ID seals, or None."""
        if len(credential_id) < 1 + 12 + 16 or credential_id[0] != SEALED_CRED_VERSION:
            return None
        try:
            nonce, sealed = credential_id[1:13], credential_id[13:]
            d = cbor.loads(self._credential_keys().cipher.decrypt(nonce, sealed, rp_id_hash))
        except Exception:  # any failure means: not a credential of this authenticator
            return None
        return d if isinstance(d, dict) else None

    def delete_resident(self, credential: ResidentCredential) -> None:
        """Forget a discoverable credential (and its RSA key, if it is an RS256 one)."""
        self.credentials.remove(credential)
        self._key_cache.clear()
        cid = credential.credential_id
        if _is_derived_id(cid):
            attributes = _from_attributes(cid[1], cid[2])
            if attributes is not None and attributes[0] in _RSA_ALGS:
                self.rsa_keys.pop(cid[2:18], None)
            return
        d = self._open_sealed(cid, credential.rp_id_hash)
        if d is not None and d.get(1) == -257 and isinstance(handle := d.get(2), bytes):
            self.rsa_keys.pop(handle, None)

    @staticmethod
    def third_party_payment(credential_id: bytes) -> bool:
        """Whether a credential ID made here is enabled for third-party payments (attributes bit 6; a version 1
        ID never is)."""
        return _is_derived_id(credential_id) and bool(credential_id[1] & 0x40)

    def find_resident(self, credential_id: bytes) -> ResidentCredential | None:
        """The discoverable credential with this ID, or None."""
        for c in self.credentials:
            if c.credential_id == credential_id:
                return c
        return None

    def cred_random(self, credential_id: bytes, with_uv: bool) -> bytes:
        """hmac-secret CredRandomWithUV / CredRandomWithoutUV, derived so non-resident credentials need no state."""
        label = b"hmac-secret-uv" if with_uv else b"hmac-secret-nouv"
        return hmac.new(self.master_key, label + credential_id, hashlib.sha256).digest()

    def device_identifier(self) -> bytes:
        """The 16-byte identifier getInfo's encIdentifier carries (CTAP 2.2 §6.4): derived from the master key, so
        it stays until a reset and a reset makes a new one (nothing identifies the authenticator across owners)."""
        return hmac.new(self.master_key, b"aioctap device identifier", hashlib.sha256).digest()[:16]

    def cred_store_state(self) -> bytes:
        """The 16 bytes getInfo's encCredStoreState carries (CTAP 2.2 §6.4): a MAC of every discoverable
        credential's stored members, so it changes whenever one is made, updated or deleted (and comes back to
        an earlier value only with the very same credentials)."""
        stored = cbor.dumps([c.to_cbor() for c in self.credentials])
        return hmac.new(self.master_key, b"aioctap credential store state" + stored, hashlib.sha256).digest()[:16]

    def next_sign_count(self) -> int:
        """Increment the global signature counter and return it (one counter for every credential)."""
        self.sign_count += 1
        return self.sign_count

    # -- serialization ----------------------------------------------------------------------------

    def to_bytes(self) -> bytes:
        """The state as CBOR (unencrypted: :func:`save_state` wraps it); secrets included, keep it private."""
        return cbor.dumps(
            {
                1: self.aaguid,
                2: self.master_key,
                3: self.attestation_key,
                4: self.attestation_cert,
                5: self.attestation_root,
                6: self.sign_count,
                7: self.credential_seq,
                8: [c.to_cbor() for c in self.credentials],
                9: self.pin_hash,
                10: self.pin_code_points,
                11: self.pin_retries,
                12: self.uv_retries,
                13: self.min_pin_length,
                14: self.min_pin_length_rp_ids,
                15: self.force_pin_change,
                16: self.always_uv,
                17: self.ep_enabled,
                18: self.large_blob_array,
                19: [[k, v] for k, v in self.templates.items()],
                20: [[k, v] for k, v in self.rsa_keys.items()],
                21: self.enterprise_key,
                22: self.enterprise_cert,
                23: self.enterprise_root,
                24: self.persistent_token,
                25: self.uv_count_since_pin,
            }
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> AuthenticatorState:
        """Parse what :meth:`to_bytes` wrote; :class:`StateError` when it is not a valid state."""
        try:
            d = cbor.loads(data, strict=False)
            return cls(
                d[1], d[2], d[3], d[4], d[5], d[6], d[7],
                [ResidentCredential.from_cbor(c) for c in d[8]],
                d.get(9), d[10], d[11], d[12], d[13], list(d[14]), d[15], d[16], d[17], d[18],
                {bytes(k): str(v) for k, v in d[19]},
                {bytes(k): bytes(v) for k, v in d.get(20, [])},
                _optional_bytes(d.get(21)), _optional_bytes(d.get(22)), _optional_bytes(d.get(23)),
                _optional_bytes(d.get(24)), int(d.get(25, 0)),
            )  # fmt: skip
        except (cbor.CborError, KeyError, TypeError, ValueError, IndexError) as e:
            raise StateError(f"state is not a valid authenticator state: {type(e).__name__}") from None


def _optional_bytes(value: Any) -> bytes | None:
    if value is not None and not isinstance(value, bytes):
        raise TypeError("expected a byte string")
    return value


def _wrapping_key(path: Path) -> bytes:
    env = os.environ.get("AIOCTAP_VIRTUAL_KEY")
    if env:
        try:
            key = bytes.fromhex(env)
        except ValueError:
            key = b""
        if len(key) != 32:
            raise StateError("AIOCTAP_VIRTUAL_KEY must be 64 hexadecimal digits (a 256-bit key)")
        return key
    key_path = path.with_name(path.name + ".key")
    if key_path.exists():
        key = key_path.read_bytes()
        if len(key) != 32:
            raise StateError(f"key file {key_path} must hold exactly 32 bytes")
        return key
    key = os.urandom(32)
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(key)
        f.flush()
        os.fsync(f.fileno())
    return key


def load_state(path: str | os.PathLike[str]) -> AuthenticatorState:
    """Load the state from ``path``, or create (and save) a new one if the file does not exist."""
    p = Path(path)
    if not p.exists():
        state = AuthenticatorState.new()
        save_state(state, p)
        return state
    blob = p.read_bytes()
    if not blob.startswith(STATE_MAGIC) or len(blob) < len(STATE_MAGIC) + 12 + 16:
        raise StateError(f"{p} is not an aioctap authenticator state file")
    nonce = blob[len(STATE_MAGIC) : len(STATE_MAGIC) + 12]
    wrapping_key = _wrapping_key(p)
    try:
        plain = AESGCM(wrapping_key).decrypt(nonce, blob[len(STATE_MAGIC) + 12 :], STATE_MAGIC)
    except Exception:
        raise StateError(f"cannot decrypt {p}: wrong wrapping key or corrupted file") from None
    state = AuthenticatorState.from_bytes(plain)
    if state.add_enterprise_attestation():  # a state from before enterprise attestation: complete it, atomically
        save_state(state, p)
    return state


def save_state(state: AuthenticatorState, path: str | os.PathLike[str], data: bytes | None = None) -> None:
    """Encrypt and write atomically (temporary file, fsync, rename, fsync the directory).

    ``data``: ``state.to_bytes()`` when the caller has it already (it is not encoded twice then).
    """
    p = Path(path)
    if data is None:
        data = state.to_bytes()
    nonce = os.urandom(12)
    blob = STATE_MAGIC + nonce + AESGCM(_wrapping_key(p)).encrypt(nonce, data, STATE_MAGIC)
    fd, tmp = tempfile.mkstemp(prefix=p.name + ".", suffix=".tmp", dir=p.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(blob)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(p.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
