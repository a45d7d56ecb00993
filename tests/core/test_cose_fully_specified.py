"""The fully-specified COSE algorithms (RFC 9864: ESP256 -9, ESP384 -51, ESP512 -52, Ed25519 -19, Ed448 -53) and
ES256K (-47, RFC 8812), python-fido2 2.2's classes of those names: keys round-trip, signatures verify, a key on the
wrong curve or of the wrong size is a CoseError, and the relying party accepts them once it offers them."""

from __future__ import annotations

import json
import os
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519

from aioctap import cbor
from aioctap.cose import (
    ES256,
    ES256K,
    ES384,
    ES512,
    ESP256,
    ESP384,
    ESP512,
    CoseError,
    CoseKey,
    Ed448,
    Ed25519,
    EdDSA,
    UnsupportedKey,
)

MSG = b"message to sign"

CASES: list[tuple[type[CoseKey], Any]] = [
    (ESP256, lambda: ec.generate_private_key(ec.SECP256R1())),
    (ESP384, lambda: ec.generate_private_key(ec.SECP384R1())),
    (ESP512, lambda: ec.generate_private_key(ec.SECP521R1())),
    (ES256K, lambda: ec.generate_private_key(ec.SECP256K1())),
    (Ed25519, ed25519.Ed25519PrivateKey.generate),
    (Ed448, ed448.Ed448PrivateKey.generate),
]
HASHES = {ESP256: hashes.SHA256(), ESP384: hashes.SHA384(), ESP512: hashes.SHA512(), ES256K: hashes.SHA256()}


def _sign(cls: type[CoseKey], private: Any, message: bytes) -> bytes:
    if cls in HASHES:
        return bytes(private.sign(message, ec.ECDSA(HASHES[cls])))
    return bytes(private.sign(message))


@pytest.mark.parametrize(("cls", "generate"), CASES, ids=[c.__name__ for c, _ in CASES])
def test_sign_verify_round_trip(cls: type[CoseKey], generate: Any) -> None:
    private = generate()
    key = cls.from_cryptography_key(private.public_key())
    assert key[3] == cls.ALGORITHM and CoseKey.for_alg(cls.ALGORITHM) is cls
    parsed = CoseKey.from_bytes(cbor.dumps(dict(key)))
    assert type(parsed) is cls and parsed == key
    parsed.verify(MSG, _sign(cls, private, MSG))
    with pytest.raises(CoseError):
        parsed.verify(MSG + b"!", _sign(cls, private, MSG))
    with pytest.raises(CoseError):
        cls.from_cryptography_key(ed25519.Ed25519PrivateKey.generate().public_key() if cls is Ed448 else object())


def test_fully_specified_keys_pin_their_curve() -> None:
    p256 = dict(ES256.from_cryptography_key(ec.generate_private_key(ec.SECP256R1()).public_key()))
    with pytest.raises(CoseError, match="crv 2"):
        CoseKey.parse({**p256, 3: ESP384.ALGORITHM, -1: 1})  # ESP384 names P-384 (crv 2); the key is P-256
    with pytest.raises(CoseError, match="crv 1"):
        CoseKey.parse({**p256, 3: ESP256.ALGORITHM, -1: 2})
    ed = dict(EdDSA.from_cryptography_key(ed25519.Ed25519PrivateKey.generate().public_key()))
    with pytest.raises(CoseError, match="Ed448"):
        CoseKey.parse({**ed, 3: Ed448.ALGORITHM})  # crv 6 (Ed25519) under Ed448's algorithm
    with pytest.raises(CoseError, match="57 bytes"):
        CoseKey.parse({**ed, 3: Ed448.ALGORITHM, -1: 7})
    with pytest.raises(CoseError, match="crv"):
        CoseKey.parse({**ed, 3: Ed25519.ALGORITHM, -1: 7})
    assert issubclass(ESP256, ES256) and issubclass(ESP384, ES384) and issubclass(ESP512, ES512)


def test_default_offers_are_unchanged() -> None:
    # the fully-specified algorithms verify but are offered only when the relying party names them (python-fido2's
    # CoseKey.supported_algorithms() does not list them either)
    assert not {-9, -19, -51, -52, -53, -47} & set(CoseKey.supported_algorithms())


def test_python_fido2_agrees_on_the_keys() -> None:
    fido2_cose = pytest.importorskip("fido2.cose")
    for cls, generate in CASES:
        private = generate()
        key = cls.from_cryptography_key(private.public_key())
        theirs = fido2_cose.CoseKey.parse(cbor.decode(cbor.encode(dict(key))))
        assert type(theirs).__name__ == cls.__name__ and dict(theirs) == dict(key)
        theirs.verify(MSG, _sign(cls, private, MSG))


def _registration(private: Any, alg: int, challenge: bytes) -> dict[str, Any]:
    """A 'none' attestation registration (the shape tests/server/test_verify.py builds) for an ESP256 key."""
    from aioctap.utils import sha256, websafe_encode

    rp_id, origin = "example.com", "https://example.com"
    cred_id = os.urandom(16)
    cose_key = cbor.dumps(dict(CoseKey.for_alg(alg).from_cryptography_key(private.public_key())))
    attested = bytes(16) + len(cred_id).to_bytes(2, "big") + cred_id + cose_key
    auth_data = sha256(rp_id.encode()) + bytes([0x45]) + (0).to_bytes(4, "big") + attested
    client_data = json.dumps(
        {"type": "webauthn.create", "challenge": websafe_encode(challenge), "origin": origin}
    ).encode()
    attestation_object = cbor.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
    return {
        "id": websafe_encode(cred_id),
        "rawId": websafe_encode(cred_id),
        "type": "public-key",
        "response": {
            "clientDataJSON": websafe_encode(client_data),
            "attestationObject": websafe_encode(attestation_object),
        },
    }


def test_relying_party_accepts_esp256_when_it_offers_it() -> None:
    from aioctap.server import verify_registration
    from aioctap.server.errors import UnsupportedAlgorithmError

    private = ec.generate_private_key(ec.SECP256R1())
    challenge = os.urandom(32)
    response = json.dumps(_registration(private, ESP256.ALGORITHM, challenge))
    kw: dict[str, Any] = {"expected_challenge": challenge, "expected_origin": "https://example.com",
                          "expected_rp_id": "example.com"}  # fmt: skip
    with pytest.raises(UnsupportedAlgorithmError):
        verify_registration(response, **kw)  # not offered by default
    result = verify_registration(response, **kw, supported_algorithms=[ESP256.ALGORITHM, -7])
    assert CoseKey.from_bytes(result.credential_public_key)[3] == ESP256.ALGORITHM


def test_for_name_is_python_fido2s() -> None:
    fido2_cose = pytest.importorskip("fido2.cose")
    for name in ("ES256", "ESP256", "ES384", "ESP384", "ES512", "ESP512", "ES256K", "EdDSA", "Ed25519", "Ed448",
                 "PS256", "RS256", "RS1", "MLDSA44"):  # fmt: skip
        ours, theirs = CoseKey.for_name(name), fido2_cose.CoseKey.for_name(name)
        assert ours.__name__ == theirs.__name__ == name and ours.ALGORITHM == theirs.ALGORITHM
    assert CoseKey.for_name("NoSuchAlg") is UnsupportedKey and CoseKey.for_name("CoseKey") is UnsupportedKey
