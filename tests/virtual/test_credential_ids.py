"""Credential IDs (aioctap/virtual/keys.py's docstring): version 2 IDs name a key derived from the master
key, bound to the RP ID hash by a tag; version 1 IDs (the key sealed with AES-GCM) still open."""

from __future__ import annotations

import hashlib
import os
from typing import Any

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from hypothesis import given, settings
from hypothesis import strategies as st

from aioctap import cbor
from aioctap.hid.protocol import CTAPHID
from aioctap.virtual import VirtualAuthenticator
from aioctap.virtual.keys import CRED_ID_LENGTH, CRED_VERSION, CredentialKey, CredentialKeys

from .test_caches import CDH, ERR, _assert, _call, _make, _no_status

RP_HASH = hashlib.sha256(b"example.com").digest()
ALG_BITS = {-7: 0, -8: 1, -257: 2}


def _forget(auth: VirtualAuthenticator) -> None:
    """Drop the opened keys, as a restart does: the next use opens the ID itself."""
    auth.state._key_cache.clear()


@pytest.mark.parametrize("alg", [-7, -8, -257])
async def test_ids_are_34_bytes_and_open_to_the_same_key(alg: int) -> None:
    auth = VirtualAuthenticator(attestation="none")
    cred_id, public = await _make(auth, "example.com", alg=alg)
    assert len(cred_id) == CRED_ID_LENGTH == 34 and cred_id[0] == CRED_VERSION == 2
    assert cred_id[1] == ALG_BITS[alg] | 1 << 2  # credProtect 1, no hmac-secret, not discoverable
    _forget(auth)
    assert await _assert(auth, "example.com", cred_id, public) == 0  # the derived key signs for the public key
    key = auth.state.open_credential(cred_id, RP_HASH)
    assert key is not None and key.public_key() == public


async def test_attributes_byte_carries_the_credential_options() -> None:
    auth = VirtualAuthenticator(attestation="none")
    params: dict[int, Any] = {1: CDH, 2: {"id": "example.com"}, 3: {"id": b"u", "name": "u"},
                              4: [{"type": "public-key", "alg": -8}], 6: {"credProtect": 3, "hmac-secret": True},
                              7: {"rk": True}}  # fmt: skip
    status, response = await _call(auth, 0x01, params)
    assert status == 0
    cred_id = auth.state.credentials[0].credential_id
    assert cred_id in response[2]
    assert cred_id[1] == 1 | 3 << 2 | 1 << 4 | 1 << 5
    _forget(auth)
    key = auth.state.open_credential(cred_id, RP_HASH)
    assert key is not None and (key.alg, key.cred_protect, key.hmac_secret, key.resident) == (-8, 3, True, True)


@pytest.mark.parametrize("alg", [-7, -8])
async def test_every_changed_byte_and_another_rp_fail(alg: int) -> None:
    auth = VirtualAuthenticator(attestation="none")
    cred_id, public = await _make(auth, "example.com", alg=alg)
    for i in range(len(cred_id)):
        for flip in (0x01, 0x80):
            changed = bytearray(cred_id)
            changed[i] ^= flip
            assert auth.state.open_credential(bytes(changed), RP_HASH) is None, (i, flip)
    for other in (cred_id[:-1], cred_id + b"\x00", b"\x02" + cred_id[2:]):
        assert auth.state.open_credential(other, RP_HASH) is None
    _forget(auth)
    assert await _assert(auth, "example.org", cred_id, None) == ERR.NO_CREDENTIALS
    assert await _assert(auth, "example.com", cred_id, public) == 0


async def test_an_attributes_byte_never_made_fails_even_with_a_valid_tag() -> None:
    auth = VirtualAuthenticator(attestation="none")
    keys = CredentialKeys(auth.state.master_key)
    made = 0
    for attributes in range(256):
        header = bytes([CRED_VERSION, attributes, 0xFF]) + os.urandom(15)  # 0xFF: no ML-DSA parameter set
        key = auth.state.open_credential(header + keys.tag(header, RP_HASH), RP_HASH)
        # the algorithm index is bits 0-1 plus bit 7: ES256, EdDSA, ES384, ES512 derive their key; RS256 (2) and
        # PS256 (6) have none kept under a random nonce; 3 is never made, 7 (ML-DSA) not with this nonce
        index = attributes & 3 | (attributes & 0x80) >> 5
        valid = index in (0, 1, 4, 5) and attributes >> 2 & 3 != 0 and not attributes & 0x20
        assert (key is not None) == valid, hex(attributes)
        assert key is None or key.third_party_payment == bool(attributes & 0x40)
        assert key is None or key.alg == (-7, -8, None, None, -35, -36)[index]
        made += key is not None
    # ES256/EdDSA/ES384/ES512 x credProtect 1-3 x hmac-secret x thirdPartyPayment, non-discoverable only
    assert made == 4 * 3 * 2 * 2
    # index 7: the nonce's first byte names the ML-DSA parameter set; 0-2 are ML-DSA-44/65/87, no other
    for first in range(256):
        header = bytes([CRED_VERSION, 0x80 | 3 | 1 << 2, first]) + os.urandom(15)
        key = auth.state.open_credential(header + keys.tag(header, RP_HASH), RP_HASH)
        assert (key.alg if key is not None else None) == {0: -48, 1: -49, 2: -50}.get(first), first


async def test_discoverable_ids_need_their_credential_and_rsa_keys_are_dropped() -> None:
    auth = VirtualAuthenticator(attestation="none")
    cred_id, public = await _make(auth, "example.com", alg=-257, rk=True)
    assert len(auth.state.rsa_keys) == 1 and cred_id[2:18] in auth.state.rsa_keys
    auth.state.delete_resident(auth.state.credentials[0])
    assert auth.state.rsa_keys == {}
    assert auth.state.open_credential(cred_id, RP_HASH) is None
    assert await _assert(auth, "example.com", cred_id, public) == ERR.NO_CREDENTIALS


@pytest.mark.parametrize("alg", [-7, -8, -257])
async def test_version_1_ids_still_open(alg: int) -> None:
    """An ID made before version 2 (the key and attributes sealed with AES-GCM under the master key)."""
    auth = VirtualAuthenticator(attestation="none")
    new = CredentialKey.generate(alg, cred_protect=2)
    private = new.private
    if alg == -257:
        private = os.urandom(16)
        auth.state.rsa_keys[private] = new.private
    nonce = os.urandom(12)
    payload = cbor.dumps({1: alg, 2: private, 3: 2, 4: False, 5: False})
    cred_id = b"\x01" + nonce + AESGCM(auth.state.master_key).encrypt(nonce, payload, RP_HASH)
    assert 58 <= len(cred_id) <= 74
    assert await _assert(auth, "example.com", cred_id, new.public_key()) == 0
    key = auth.state.open_credential(cred_id, RP_HASH)
    assert key is not None and key.cred_protect == 2
    assert await _assert(auth, "example.org", cred_id, None) == ERR.NO_CREDENTIALS


async def test_a_get_assertion_fits_two_reports_out_and_three_back() -> None:
    """With one allowList entry (RP ID up to 13 characters) the request takes two 64-byte reports and the
    ES256 response (DER signature up to 72 bytes) three; with 74-byte IDs they took three and four."""
    auth = VirtualAuthenticator(attestation="none")
    cred_id, _ = await _make(auth, "bench.example")
    request = b"\x02" + cbor.dumps({1: "bench.example", 2: CDH, 3: [{"type": "public-key", "id": cred_id}]})
    assert len(request) <= 57 + 59
    for _ in range(20):
        response = await auth.handle(CTAPHID.CBOR, request, _no_status)
        assert response[0] == 0 and len(response) <= 57 + 2 * 59


@settings(max_examples=300, deadline=None)
@given(st.binary(min_size=0, max_size=80), st.sampled_from([b"\x01", b"\x02", b""]))
def test_arbitrary_ids_never_open(data: bytes, version: bytes) -> None:
    state = _STATE.state
    assert state.open_credential(version + data, RP_HASH) is None


_STATE = VirtualAuthenticator(attestation="none")
