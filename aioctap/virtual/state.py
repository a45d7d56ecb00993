"""Persistent state of the software authenticator: everything that survives a power cycle.

Its parts live beside it: the credential IDs and keys in :mod:`.keys`, the attestation chains in
:mod:`.attestation`, the encrypted state file in :mod:`.storage`.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import uuid
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .. import cbor
from .attestation import make_attestation, make_enterprise_attestation
from .common import StateError
from .keys import (
    CRED_VERSION,
    RSA_ALGS,
    SEALED_CRED_VERSION,
    CredentialAttributes,
    CredentialKey,
    CredentialKeys,
    attributes_byte,
    from_attributes,
    is_derived_id,
    nonce_first,
)

__all__ = ["AuthenticatorState", "ResidentCredential"]

EMPTY_LARGE_BLOB_ARRAY = bytes.fromhex("80") + hashlib.sha256(bytes.fromhex("80")).digest()[:16]
KEY_CACHE_SIZE = 256


@dataclass
class ResidentCredential:
    """A discoverable credential's entities and per-credential data (its key is in its ID)."""

    credential_id: bytes
    rp_id: str
    rp: dict[str, object]
    user: dict[str, object]
    created: int
    cred_protect: int = 1
    cred_blob: bytes | None = None
    large_blob_key: bytes | None = None
    public_key: dict[int, object] = field(default_factory=dict)

    @property
    def rp_id_hash(self) -> bytes:
        """SHA-256 of the RP ID, as in authenticator data."""
        return hashlib.sha256(self.rp_id.encode()).digest()

    def __repr__(self) -> str:
        return f"ResidentCredential(rp_id={self.rp_id!r}, created={self.created}, cred_protect={self.cred_protect})"

    def to_cbor(self) -> dict[int, object]:
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
    def from_cbor(cls, stored: Mapping[int, object]) -> ResidentCredential:
        """The credential :meth:`to_cbor` stored (no validation: :meth:`AuthenticatorState.from_bytes` does it)."""
        d: Any = stored  # the authenticated state file, as to_cbor wrote it
        return cls(d[1], d[2], d[3], d[4], d[5], d[6], d.get(7), d.get(8), d.get(9) or {})


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
    _sealer: CredentialKeys | None = field(default=None, repr=False, compare=False)

    @classmethod
    def new(cls) -> AuthenticatorState:
        """A new authenticator: random AAGUID and master key, a fresh attestation key, certificate and root."""
        aaguid = uuid.uuid4().bytes
        key, cert, root = make_attestation(aaguid)
        state = cls(aaguid, os.urandom(32), key, cert, root)
        state.add_enterprise_attestation()
        return state

    def add_enterprise_attestation(self) -> bool:
        """Make the enterprise attestation key, certificate and root if the state has none (one written by an
        earlier version); True when it made them (the state must be saved)."""
        if self.enterprise_key is not None and self.enterprise_cert is not None and self.enterprise_root is not None:
            return False
        self.enterprise_key, self.enterprise_cert, self.enterprise_root = make_enterprise_attestation(self.aaguid)
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

    def _credential_keys(self) -> CredentialKeys:
        """The keys derived from the current master key (once per master key, not per credential)."""
        keys = self._sealer
        if keys is None or keys.master_key is not self.master_key:
            self._key_cache.clear()  # keys opened under another master key (one assigned directly, say)
            keys = self._sealer = CredentialKeys(self.master_key)
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
        attributes = attributes_byte(alg, cred_protect, hmac_secret, resident, third_party_payment)
        named = nonce_first(alg)
        if named is not None:  # the nonce's first byte names the algorithm in its family (keys' module docstring)
            header = bytes([CRED_VERSION, attributes, named]) + os.urandom(15)
        else:
            header = bytes([CRED_VERSION, attributes]) + os.urandom(16)
        keys = self._credential_keys()
        credential_id = header + keys.tag(header, rp_id_hash)
        attrs: CredentialAttributes = {
            "cred_protect": cred_protect, "hmac_secret": hmac_secret, "resident": resident,
            "third_party_payment": third_party_payment,
        }  # fmt: skip
        if alg in RSA_ALGS:
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
        sealer = self._sealer  # the cache lookup of _open, written out: the hot path of getAssertion
        if sealer is not None and sealer.master_key is self.master_key:
            key = self._key_cache.get((rp_id_hash, credential_id)) or self._open(credential_id, rp_id_hash)
        else:
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
        if is_derived_id(credential_id):
            attributes = from_attributes(credential_id[1], credential_id[2])
            keys = self._credential_keys()
            header = credential_id[:18]
            if attributes is None or not hmac.compare_digest(keys.tag(header, rp_id_hash), credential_id[18:]):
                return None
            alg, cred_protect, hmac_secret, resident, payment = attributes
            private = self.rsa_keys.get(header[2:]) if alg in RSA_ALGS else keys.private(alg, header, rp_id_hash)
            if private is None:  # an RSA credential whose key is gone
                return None
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
        if is_derived_id(cid):
            attributes = from_attributes(cid[1], cid[2])
            if attributes is not None and attributes[0] in RSA_ALGS:
                self.rsa_keys.pop(cid[2:18], None)
            return
        d = self._open_sealed(cid, credential.rp_id_hash)
        if d is not None and d.get(1) == -257 and isinstance(handle := d.get(2), bytes):
            self.rsa_keys.pop(handle, None)

    @staticmethod
    def third_party_payment(credential_id: bytes) -> bool:
        """Whether a credential ID made here is enabled for third-party payments (attributes bit 6; a version 1
        ID never is)."""
        return is_derived_id(credential_id) and bool(credential_id[1] & 0x40)

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
            if not isinstance(d, dict):
                raise TypeError("not a CBOR map")
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
