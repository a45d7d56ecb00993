"""PIN/UV auth protocols 1 and 2 cross-checked against python-fido2's implementation."""

from __future__ import annotations

import os

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from fido2.ctap2 import pin as fido2_pin

from aioctap.cose import EcdhEsHkdf256
from aioctap.ctap2.pin import PinProtocolError, PinProtocolV1, PinProtocolV2

PAIRS = [(PinProtocolV1, fido2_pin.PinProtocolV1), (PinProtocolV2, fido2_pin.PinProtocolV2)]


@pytest.mark.parametrize(("ours", "theirs"), PAIRS)
def test_kdf_authenticate_decrypt_match_python_fido2(ours: type, theirs: type) -> None:
    a, b = ours(), theirs()
    z = os.urandom(32)
    assert a.kdf(z) == b.kdf(z)
    key = a.kdf(z)
    msg = os.urandom(48)
    assert a.authenticate(key, msg) == b.authenticate(key, msg)
    pt = os.urandom(64)
    assert b.decrypt(key, a.encrypt(key, pt)) == pt
    assert a.decrypt(key, b.encrypt(key, pt)) == pt


@pytest.mark.parametrize(("ours", "theirs"), PAIRS)
def test_encapsulate_both_sides_agree(ours: type, theirs: type) -> None:
    """Our host encapsulation against an authenticator key, and python-fido2's against ours."""
    proto = ours()
    device_key = ec.generate_private_key(ec.SECP256R1())
    device_cose = dict(EcdhEsHkdf256.from_cryptography_key(device_key.public_key()))
    platform_cose, shared = proto.encapsulate(device_cose)
    assert platform_cose[3] == -25 and platform_cose[1] == 2
    assert proto.ecdh(device_key, platform_cose) == shared
    their_platform, their_shared = theirs().encapsulate(device_cose)
    assert proto.ecdh(device_key, dict(their_platform)) == their_shared


def test_v1_spec_shapes() -> None:
    p = PinProtocolV1()
    key = p.kdf(b"z" * 32)
    assert len(key) == 32
    assert len(p.authenticate(key, b"m")) == 16
    assert p.encrypt(key, b"\0" * 16) == p.encrypt(key, b"\0" * 16)  # zero IV: deterministic
    with pytest.raises(PinProtocolError):
        p.validate_token(b"\0" * 8)


def test_v2_spec_shapes() -> None:
    p = PinProtocolV2()
    key = p.kdf(b"z" * 32)
    assert len(key) == 64  # HMAC key || AES key
    assert len(p.authenticate(key, b"m")) == 32
    c1, c2 = p.encrypt(key, b"\0" * 16), p.encrypt(key, b"\0" * 16)
    assert c1 != c2 and len(c1) == 32  # random IV prefixed
    with pytest.raises(PinProtocolError):
        p.decrypt(key, b"short")
    with pytest.raises(PinProtocolError):
        p.validate_token(b"\0" * 16)


def test_bad_peer_key() -> None:
    with pytest.raises(PinProtocolError):
        PinProtocolV2().encapsulate({1: 2, 3: -25, -1: 1, -2: b"\1" * 32, -3: b"\2" * 32})
    with pytest.raises(PinProtocolError):
        PinProtocolV2().encapsulate({1: 1, -1: 6, -2: b"\0" * 32})
