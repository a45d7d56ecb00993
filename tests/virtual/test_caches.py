"""The authenticator's caches (unsealed keys, RP ID hashes, the sealing cipher) never change an answer."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from aioctap import cbor
from aioctap.cose import CoseKey
from aioctap.ctap import STATUS, CtapError
from aioctap.hid.protocol import CTAPHID
from aioctap.virtual import VirtualAuthenticator
from aioctap.virtual.state import KEY_CACHE_SIZE
from aioctap.webauthn import AuthenticatorData

ERR = CtapError.ERR
CDH = hashlib.sha256(b"client data").digest()


def _no_status(_: STATUS) -> None:
    pass


async def _call(auth: VirtualAuthenticator, code: int, params: dict[int, Any]) -> tuple[int, Any]:
    response = await auth.handle(CTAPHID.CBOR, bytes([code]) + cbor.dumps(params), _no_status)
    return response[0], cbor.loads(response[1:]) if len(response) > 1 else None


async def _make(auth: VirtualAuthenticator, rp_id: str, alg: int = -7, rk: bool = False) -> tuple[bytes, CoseKey]:
    params: dict[int, Any] = {1: CDH, 2: {"id": rp_id}, 3: {"id": b"user"}, 4: [{"type": "public-key", "alg": alg}]}
    if rk:
        params[7] = {"rk": True}
    status, response = await _call(auth, 0x01, params)
    assert status == 0
    data = AuthenticatorData(response[2])
    assert data.rp_id_hash == hashlib.sha256(rp_id.encode()).digest()
    assert data.credential_data is not None
    return data.credential_data.credential_id, data.credential_data.public_key


async def _assert(auth: VirtualAuthenticator, rp_id: str, cred_id: bytes | None, public: CoseKey | None) -> int:
    """getAssertion for ``cred_id`` (None: discoverable); checks the signature with ``public``; the status."""
    params: dict[int, Any] = {1: rp_id, 2: CDH}
    if cred_id is not None:
        params[3] = [{"type": "public-key", "id": cred_id}]
    status, response = await _call(auth, 0x02, params)
    if status == 0:
        assert public is not None
        data = AuthenticatorData(response[2])
        assert data.rp_id_hash == hashlib.sha256(rp_id.encode()).digest()
        public.verify(response[2] + CDH, response[3])
    return status


async def test_evicted_keys_are_unsealed_again() -> None:
    auth = VirtualAuthenticator(attestation="none")
    made = [await _make(auth, "example.com", alg=-8 if i % 2 else -7) for i in range(KEY_CACHE_SIZE + 20)]
    assert len(auth.state._key_cache) == KEY_CACHE_SIZE
    # the first ones left the cache: they are opened from their IDs again, and still sign with the right key
    for cred_id, public in made[:3] + made[-3:]:
        assert await _assert(auth, "example.com", cred_id, public) == 0
    assert len(auth.state._key_cache) == KEY_CACHE_SIZE
    # a cached key is bound to its RP ID like an unsealed one
    assert await _assert(auth, "other.example", made[-1][0], None) == ERR.NO_CREDENTIALS
    assert await _assert(auth, "other.example", made[0][0], None) == ERR.NO_CREDENTIALS


async def test_many_rp_ids_each_get_their_own_hash() -> None:
    auth = VirtualAuthenticator(attestation="none")
    made = {f"rp{i}.example": await _make(auth, f"rp{i}.example") for i in range(80)}  # more than the cache holds
    for rp_id, (cred_id, public) in list(made.items())[::7]:
        assert await _assert(auth, rp_id, cred_id, public) == 0


async def test_reset_drops_cached_keys_and_cipher() -> None:
    auth = VirtualAuthenticator(attestation="none", reset_window=None)
    old_id, old_public = await _make(auth, "example.com")
    resident_id, resident_public = await _make(auth, "example.com", rk=True)
    assert await _assert(auth, "example.com", old_id, old_public) == 0
    assert await _assert(auth, "example.com", None, resident_public) == 0
    assert (await _call(auth, 0x07, {}))[0] == 0
    assert await _assert(auth, "example.com", old_id, None) == ERR.NO_CREDENTIALS
    assert await _assert(auth, "example.com", resident_id, None) == ERR.NO_CREDENTIALS
    assert await _assert(auth, "example.com", None, None) == ERR.NO_CREDENTIALS
    new_id, new_public = await _make(auth, "example.com")
    assert await _assert(auth, "example.com", new_id, new_public) == 0


async def test_deleted_discoverable_credential_stays_deleted_in_the_cache() -> None:
    auth = VirtualAuthenticator(attestation="none")
    cred_id, public = await _make(auth, "example.com", rk=True)
    assert await _assert(auth, "example.com", cred_id, public) == 0  # now cached
    auth.state.delete_resident(auth.state.credentials[0])
    assert await _assert(auth, "example.com", cred_id, None) == ERR.NO_CREDENTIALS
    # the same discoverable credential replaced (same user): the old ID is gone, the new one works
    first, first_public = await _make(auth, "example.com", rk=True)
    assert await _assert(auth, "example.com", first, first_public) == 0
    second, second_public = await _make(auth, "example.com", rk=True)
    assert await _assert(auth, "example.com", first, None) == ERR.NO_CREDENTIALS
    assert await _assert(auth, "example.com", second, second_public) == 0


async def test_counter_is_written_with_every_signature(tmp_path: Path) -> None:
    path = tmp_path / "auth.state"
    auth = VirtualAuthenticator(path, attestation="none")
    cred_id, public = await _make(auth, "example.com")
    for expected in (2, 3, 4):
        assert await _assert(auth, "example.com", cred_id, public) == 0
        # what a crash right now would leave: the file already holds the counter of the signature just given
        reloaded = VirtualAuthenticator(path, attestation="none")
        assert reloaded.state.sign_count == expected
    # a reloaded authenticator opens the credential from its ID (no cache) and goes on counting upwards
    status, response = await _call(
        reloaded, 0x02, {1: "example.com", 2: CDH, 3: [{"type": "public-key", "id": cred_id}]}
    )
    assert status == 0
    assert AuthenticatorData(response[2]).counter == 5
    public.verify(response[2] + CDH, response[3])


async def test_a_new_master_key_forgets_keys_opened_under_the_old_one() -> None:
    auth = VirtualAuthenticator(attestation="none")
    cred_id, public = await _make(auth, "example.com")
    assert await _assert(auth, "example.com", cred_id, public) == 0  # cached now
    auth.state.master_key = bytes(32)  # as a test harness restoring a fixed key does
    assert await _assert(auth, "example.com", cred_id, None) == ERR.NO_CREDENTIALS
    new_id, new_public = await _make(auth, "example.com")
    assert await _assert(auth, "example.com", new_id, new_public) == 0
