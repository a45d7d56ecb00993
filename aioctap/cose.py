"""COSE keys (RFC 9052/9053) as used by WebAuthn and CTAP2.

A :class:`CoseKey` is a ``dict`` of COSE key parameters (integer labels) with ``verify``.
``CoseKey.parse`` picks the class by the ``alg`` (3) member; malformed keys raise
:class:`CoseError`, never ``KeyError``/``TypeError``.

The fully-specified algorithms of RFC 9864 (:class:`ESP256`, :class:`ESP384`, :class:`ESP512`, :class:`Ed25519`,
:class:`Ed448`) are python-fido2 2.2's classes of those names: ESP256 is ES256 with its curve fixed by the algorithm
(P-256; ESP384 P-384, ESP512 P-521), Ed25519 is EdDSA on Ed25519 (the only EdDSA curve aioctap takes for -8).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, Self, TypeVar

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, mldsa, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from . import cbor

__all__ = [
    "ES256",
    "ES256K",
    "ES384",
    "ES512",
    "ESP256",
    "ESP384",
    "ESP512",
    "MLDSA44",
    "MLDSA65",
    "MLDSA87",
    "PS256",
    "RS1",
    "RS256",
    "CoseError",
    "CoseKey",
    "EcdhEsHkdf256",
    "Ed448",
    "Ed25519",
    "EdDSA",
    "UnsupportedKey",
]


class CoseError(ValueError):
    """A COSE key is malformed or a signature does not verify."""


_K = TypeVar("_K")


MlDsaPublicKey = mldsa.MLDSA44PublicKey | mldsa.MLDSA65PublicKey | mldsa.MLDSA87PublicKey
PublicKey = (
    ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey | ed448.Ed448PublicKey | rsa.RSAPublicKey | MlDsaPublicKey
)


class CoseKey(dict[int, Any]):
    """A COSE_Key map. Subclasses exist per algorithm; ``ALGORITHM`` is the COSE alg id."""

    ALGORITHM: ClassVar[int] = 0
    _SIGNATURE: ClassVar[str] = ""  # the signature scheme, for errors; empty: this class cannot verify
    _registry: ClassVar[dict[int, type[CoseKey]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # only classes that name their own algorithm register: a subclass of ES256 (say, a test double)
        # must not take over parsing of every ES256 key
        if "ALGORITHM" in cls.__dict__ and cls.ALGORITHM:
            CoseKey._registry[cls.ALGORITHM] = cls

    def verify(self, message: bytes, signature: bytes) -> None:
        """Verify ``signature`` over ``message``; raise :class:`CoseError` if it does not verify."""
        if not self._SIGNATURE:
            raise CoseError(f"verification not supported for COSE algorithm {self.get(3)!r}")
        public_key = self.public_key()
        try:
            self._verify(public_key, message, signature)
        except InvalidSignature:
            raise CoseError("signature does not verify") from None
        except ValueError as e:  # malformed DER
            raise CoseError(f"malformed {self._SIGNATURE} signature: {e}") from None

    def _verify(self, public_key: Any, message: bytes, signature: bytes) -> None:
        """``cryptography``'s verify call for this algorithm (raises InvalidSignature)."""
        public_key.verify(signature, message)

    def public_key(self) -> PublicKey:
        """The key as a ``cryptography`` public key object."""
        raise CoseError(f"no public key form for COSE algorithm {self.get(3)!r}")

    @classmethod
    def from_cryptography_key(cls, public_key: object) -> CoseKey:
        """The COSE key (RFC 9052 §7) of a ``cryptography`` public key; a key of the wrong type raises CoseError."""
        raise CoseError(f"{cls.__name__} cannot be built from {type(public_key).__name__}")

    @classmethod
    def for_alg(cls, alg: int) -> type[CoseKey]:
        """The class for COSE algorithm ``alg`` (:class:`UnsupportedKey` if unknown)."""
        return CoseKey._registry.get(alg, UnsupportedKey)

    @classmethod
    def for_name(cls, name: str) -> type[CoseKey]:
        """The class of the algorithm named ``name`` (its class name, as python-fido2's ``for_name``: ``"ES256"``,
        ``"EdDSA"``, ``"ESP256"``); :class:`UnsupportedKey` if none has that name."""
        return next((k for k in CoseKey._registry.values() if k.__name__ == name), UnsupportedKey)

    @classmethod
    def supported_algorithms(cls) -> list[int]:
        """Signature algorithms offered by default, in preference order.

        Every one of them verifies. The fully-specified algorithms (RFC 9864: ESP256, ESP384, ESP512, Ed25519,
        Ed448) and ES256K verify too but are not listed, as in python-fido2: a relying party offers them by
        naming them."""
        return [a for a in (-7, -8, -35, -36, -37, -257, -48, -49, -50, -65535) if a in CoseKey._registry]

    @staticmethod
    def parse(cose: object) -> CoseKey:
        """Build the right :class:`CoseKey` subclass from a decoded COSE_Key map."""
        if not isinstance(cose, dict):
            raise CoseError("COSE key must be a CBOR map")
        alg = cose.get(3)
        if not isinstance(alg, int) or isinstance(alg, bool):
            raise CoseError("COSE key has no integer alg (3) member")
        key = CoseKey.for_alg(alg)(cose)
        key._validate()
        return key

    @staticmethod
    def from_bytes(data: bytes) -> CoseKey:
        """Parse a CBOR-encoded COSE_Key."""
        try:
            return CoseKey.parse(cbor.loads(data, strict=False))
        except cbor.CborError as e:
            raise CoseError(f"COSE key is not valid CBOR: {e}") from None

    def _validate(self) -> None:
        """Check member types; subclasses check their parameters."""

    def _member(self, label: int, kind: type, name: str, length: int | None = None) -> Any:
        value = self.get(label)
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
            raise CoseError(f"COSE key member {name} ({label}) missing or not {kind.__name__}")
        if length is not None and isinstance(value, bytes) and len(value) != length:
            raise CoseError(f"COSE key member {name} ({label}) must be {length} bytes, got {len(value)}")
        return value

    def _has(self, label: int, value: int) -> bool:
        """Whether member ``label`` is the integer ``value`` (CBOR true is not 1)."""
        member = self.get(label)
        return isinstance(member, int) and not isinstance(member, bool) and member == value

    def _cached_key(self, what: str, load: Callable[[Self], _K]) -> _K:
        """``load(self)``'s key, made once per COSE key; a malformed one raises CoseError."""
        cached = self.__dict__.get("_pub")
        if cached is None:
            try:
                cached = self.__dict__["_pub"] = load(self)
            except (ValueError, KeyError, TypeError) as e:
                raise CoseError(f"invalid {what} public key: {e}") from None
        return cached


class UnsupportedKey(CoseKey):
    """A COSE key with an algorithm this library does not implement."""


class _EcKey(CoseKey):
    _SIGNATURE = "ECDSA"
    _CURVE: ClassVar[type[ec.EllipticCurve]] = ec.SECP256R1
    _CRV: ClassVar[int] = 1
    _ECDSA: ClassVar[ec.ECDSA] = ec.ECDSA(hashes.SHA256())
    _SIZE: ClassVar[int] = 32

    def _validate(self) -> None:
        if not self._has(1, 2):
            raise CoseError("EC2 COSE key must have kty (1) = 2")
        if not self._has(-1, self._CRV):
            raise CoseError(f"COSE key for alg {self.ALGORITHM} must use crv {self._CRV}, got {self.get(-1)!r}")
        self._member(-2, bytes, "x", self._SIZE)
        self._member(-3, bytes, "y", self._SIZE)

    def public_key(self) -> ec.EllipticCurvePublicKey:
        return self._cached_key("EC", _EcKey._point)

    def _point(self) -> ec.EllipticCurvePublicKey:
        try:
            return ec.EllipticCurvePublicKey.from_encoded_point(self._CURVE(), self.to_raw())
        except ValueError:  # x and y have their sizes (_validate): what is left to be wrong is the point itself
            raise ValueError(f"the point (x, y) is not on the curve {self._CURVE.name}") from None

    def _verify(self, public_key: Any, message: bytes, signature: bytes) -> None:
        public_key.verify(signature, message, self._ECDSA)

    @classmethod
    def from_cryptography_key(cls, public_key: object) -> CoseKey:
        if not isinstance(public_key, ec.EllipticCurvePublicKey) or not isinstance(public_key.curve, cls._CURVE):
            raise CoseError(f"{cls.__name__} needs an EC key on {cls._CURVE.name}")
        return cls.from_raw(public_key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint))

    @classmethod
    def from_raw(cls, raw: bytes) -> CoseKey:
        """From an uncompressed SEC1 point (0x04 || x || y), as in U2F."""
        if len(raw) != 1 + 2 * cls._SIZE or raw[0] != 4:
            raise CoseError(f"expected a {1 + 2 * cls._SIZE}-byte uncompressed EC point")
        return cls({1: 2, 3: cls.ALGORITHM, -1: cls._CRV, -2: raw[1 : 1 + cls._SIZE], -3: raw[1 + cls._SIZE :]})

    def to_raw(self) -> bytes:
        """The uncompressed SEC1 point."""
        return b"\x04" + bytes(self[-2]) + bytes(self[-3])


class ES256(_EcKey):
    """ECDSA with SHA-256 on P-256."""

    ALGORITHM = -7


class ESP256(ES256):
    """ECDSA with SHA-256 on P-256, fully specified (RFC 9864 §2.1): the same key and signature as ES256."""

    ALGORITHM = -9


class ES384(_EcKey):
    """ECDSA with SHA-384 on P-384."""

    ALGORITHM = -35
    _CURVE = ec.SECP384R1
    _CRV = 2
    _ECDSA = ec.ECDSA(hashes.SHA384())
    _SIZE = 48


class ESP384(ES384):
    """ECDSA with SHA-384 on P-384, fully specified (RFC 9864 §2.1)."""

    ALGORITHM = -51


class ES512(_EcKey):
    """ECDSA with SHA-512 on P-521."""

    ALGORITHM = -36
    _CURVE = ec.SECP521R1
    _CRV = 3
    _ECDSA = ec.ECDSA(hashes.SHA512())
    _SIZE = 66


class ESP512(ES512):
    """ECDSA with SHA-512 on P-521, fully specified (RFC 9864 §2.1)."""

    ALGORITHM = -52


class ES256K(_EcKey):
    """ECDSA with SHA-256 on secp256k1 (RFC 8812 §3.2, crv 8)."""

    ALGORITHM = -47
    _CURVE = ec.SECP256K1
    _CRV = 8


class EcdhEsHkdf256(_EcKey):
    """ECDH-ES + HKDF-256 P-256 key: the CTAP2 PIN/UV key agreement key (alg -25)."""

    ALGORITHM = -25

    def verify(self, message: bytes, signature: bytes) -> None:
        """Always raises CoseError: a key agreement key does not sign."""
        raise CoseError("ECDH-ES+HKDF-256 keys do not sign")


class EdDSA(CoseKey):
    """EdDSA with Ed25519 (OKP, crv 6)."""

    ALGORITHM = -8
    _SIGNATURE = "Ed25519"

    def _validate(self) -> None:
        if not self._has(1, 1) or not self._has(-1, 6):
            raise CoseError("EdDSA COSE key must have kty (1) = 1 (OKP) and crv (-1) = 6 (Ed25519)")
        self._member(-2, bytes, "x", 32)

    def public_key(self) -> ed25519.Ed25519PublicKey:
        """The key as a ``cryptography`` Ed25519 public key (cached)."""
        return self._cached_key("Ed25519", lambda key: ed25519.Ed25519PublicKey.from_public_bytes(key[-2]))

    @classmethod
    def from_cryptography_key(cls, public_key: object) -> CoseKey:
        """The OKP COSE key (RFC 9053 §7.2) of an Ed25519 public key."""
        if not isinstance(public_key, ed25519.Ed25519PublicKey):
            raise CoseError("EdDSA needs an Ed25519 key")
        return cls({1: 1, 3: cls.ALGORITHM, -1: 6, -2: public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)})


class Ed25519(EdDSA):
    """Ed25519, fully specified (RFC 9864 §2.2): the same key and signature as EdDSA on crv 6."""

    ALGORITHM = -19


class Ed448(CoseKey):
    """Ed448, fully specified (RFC 9864 §2.2; OKP, crv 7)."""

    ALGORITHM = -53
    _SIGNATURE = "Ed448"

    def _validate(self) -> None:
        if not self._has(1, 1) or not self._has(-1, 7):
            raise CoseError("Ed448 COSE key must have kty (1) = 1 (OKP) and crv (-1) = 7 (Ed448)")
        self._member(-2, bytes, "x", 57)

    def public_key(self) -> ed448.Ed448PublicKey:
        """The key as a ``cryptography`` Ed448 public key (cached)."""
        return self._cached_key("Ed448", lambda key: ed448.Ed448PublicKey.from_public_bytes(key[-2]))

    @classmethod
    def from_cryptography_key(cls, public_key: object) -> CoseKey:
        """The OKP COSE key (RFC 9053 §7.2) of an Ed448 public key."""
        if not isinstance(public_key, ed448.Ed448PublicKey):
            raise CoseError("Ed448 needs an Ed448 key")
        return cls({1: 1, 3: cls.ALGORITHM, -1: 7, -2: public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)})


class _MlDsaKey(CoseKey):
    """ML-DSA (FIPS 204) public key: kty AKP (7) and the encoded public key in ``pub`` (-1)
    (draft-ietf-cose-dilithium); signatures are over the message itself with an empty context."""

    _SIGNATURE = "ML-DSA"
    _PUBLIC: ClassVar[type[mldsa.MLDSA44PublicKey | mldsa.MLDSA65PublicKey | mldsa.MLDSA87PublicKey]]
    _SIZE: ClassVar[int]

    def _validate(self) -> None:
        if not self._has(1, 7):
            raise CoseError("ML-DSA COSE key must have kty (1) = 7 (AKP)")
        self._member(-1, bytes, "pub", self._SIZE)

    def public_key(self) -> MlDsaPublicKey:
        """The key as a ``cryptography`` ML-DSA public key (cached)."""
        return self._cached_key("ML-DSA", lambda key: key._PUBLIC.from_public_bytes(key[-1]))

    @classmethod
    def from_cryptography_key(cls, public_key: object) -> CoseKey:
        """The AKP COSE key of an ML-DSA public key of this parameter set."""
        if not isinstance(public_key, cls._PUBLIC):
            raise CoseError(f"{cls.__name__} needs an {cls._PUBLIC.__name__}")
        return cls({1: 7, 3: cls.ALGORITHM, -1: public_key.public_bytes_raw()})


class MLDSA44(_MlDsaKey):
    """ML-DSA-44 (COSE -48)."""

    ALGORITHM = -48
    _PUBLIC = mldsa.MLDSA44PublicKey
    _SIZE = 1312


class MLDSA65(_MlDsaKey):
    """ML-DSA-65 (COSE -49)."""

    ALGORITHM = -49
    _PUBLIC = mldsa.MLDSA65PublicKey
    _SIZE = 1952


class MLDSA87(_MlDsaKey):
    """ML-DSA-87 (COSE -50)."""

    ALGORITHM = -50
    _PUBLIC = mldsa.MLDSA87PublicKey
    _SIZE = 2592


class _RsaKey(CoseKey):
    _SIGNATURE = "RSA"
    _HASH: ClassVar[type[hashes.HashAlgorithm]] = hashes.SHA256
    _PADDING: ClassVar[padding.AsymmetricPadding] = padding.PKCS1v15()

    def _validate(self) -> None:
        if not self._has(1, 3):
            raise CoseError("RSA COSE key must have kty (1) = 3")
        n = self._member(-1, bytes, "n")
        e = self._member(-2, bytes, "e")
        if not n or not e or len(n) > 2048:
            raise CoseError("RSA COSE key has an empty or oversized modulus/exponent")

    def public_key(self) -> rsa.RSAPublicKey:
        return self._cached_key("RSA", _RsaKey._load)

    def _load(self) -> rsa.RSAPublicKey:
        return rsa.RSAPublicNumbers(int.from_bytes(self[-2], "big"), int.from_bytes(self[-1], "big")).public_key()

    def _verify(self, public_key: Any, message: bytes, signature: bytes) -> None:
        public_key.verify(signature, message, self._PADDING, self._HASH())

    @classmethod
    def from_cryptography_key(cls, public_key: object) -> CoseKey:
        if not isinstance(public_key, rsa.RSAPublicKey):
            raise CoseError(f"{cls.__name__} needs an RSA key")
        pn = public_key.public_numbers()
        return cls({1: 3, 3: cls.ALGORITHM, -1: _unsigned(pn.n), -2: _unsigned(pn.e)})


def _unsigned(value: int) -> bytes:
    """A positive integer big-endian in as few bytes as it needs (an RSA key's n and e, RFC 8230 §4)."""
    return value.to_bytes((value.bit_length() + 7) // 8, "big")


class RS256(_RsaKey):
    """RSASSA-PKCS1-v1_5 with SHA-256."""

    ALGORITHM = -257


class PS256(_RsaKey):
    """RSASSA-PSS with SHA-256."""

    ALGORITHM = -37
    # verification accepts any salt length (signers use the digest length or the maximum)
    _PADDING = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.AUTO)


class RS1(_RsaKey):
    """RSASSA-PKCS1-v1_5 with SHA-1 (legacy TPM attestations only)."""

    ALGORITHM = -65535
    _HASH = hashes.SHA1


def der_signature_from_raw(raw: bytes) -> bytes:
    """Convert an IEEE P1363 (r||s) ECDSA signature to DER."""
    half = len(raw) // 2
    return encode_dss_signature(int.from_bytes(raw[:half], "big"), int.from_bytes(raw[half:], "big"))
