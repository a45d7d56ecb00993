"""Fido2Server: the sans-IO ceremonies (options, state, expiry, which credential may answer)."""

from __future__ import annotations

import hashlib
import json
import os
import struct
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given
from hypothesis import strategies as st

from aioctap import cbor
from aioctap.client import WebAuthnClient
from aioctap.server.ceremony import CeremonyState, Fido2Server, StoredCredential
from aioctap.server.errors import (
    BackupFlagsError,
    ChallengeMismatchError,
    CredentialIdError,
    MalformedResponseError,
    SignCountError,
    UserHandleError,
    UserVerificationError,
)
from aioctap.virtual import open_virtual_device
from aioctap.webauthn import websafe_decode, websafe_encode

RP_ID = "example.com"
ORIGIN = "https://example.com"
USER = {"id": b"user-1", "name": "alice", "displayName": "Alice"}


class Signer:
    """A credential held in the test: assertions with any flags and counter."""

    def __init__(self, user_handle: bytes = b"user-1") -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.credential_id = os.urandom(16)
        self.user_handle = user_handle
        nums = self.key.public_key().public_numbers()
        self.cose = cbor.dumps({1: 2, 3: -7, -1: 1, -2: nums.x.to_bytes(32, "big"), -3: nums.y.to_bytes(32, "big")})

    def stored(self, sign_count: int = 0, backup_eligible: bool | None = None) -> StoredCredential:
        return StoredCredential(self.credential_id, self.cose, sign_count, self.user_handle, (), backup_eligible)

    def assertion(
        self, options: dict[str, Any], counter: int = 1, flags: int = 0x05, **response: Any
    ) -> dict[str, Any]:
        client_data = json.dumps({"type": "webauthn.get", "challenge": options["challenge"], "origin": ORIGIN}).encode()
        auth_data = hashlib.sha256(RP_ID.encode()).digest() + bytes([flags]) + struct.pack(">I", counter)
        sig = self.key.sign(auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256()))
        return {
            "id": websafe_encode(self.credential_id),
            "rawId": websafe_encode(self.credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": websafe_encode(client_data),
                "authenticatorData": websafe_encode(auth_data),
                "signature": websafe_encode(sig),
                "userHandle": websafe_encode(self.user_handle),
                **response,
            },
        }


def test_register_begin_options() -> None:
    server = Fido2Server(RP_ID, ORIGIN, "Example", timeout=60)
    existing = StoredCredential(b"cred", b"", 0, b"user-1", ("usb",))
    options, state = server.register_begin(
        USER, [existing], resident_key_requirement="required", user_verification="required",
        authenticator_attachment="cross-platform", attestation="direct", extensions={"credProps": True}, now=1000.0,
    )  # fmt: skip
    assert options["rp"] == {"id": RP_ID, "name": "Example"}
    assert options["user"] == {"id": websafe_encode(b"user-1"), "name": "alice", "displayName": "Alice"}
    assert websafe_decode(options["challenge"]) == state.challenge and len(state.challenge) == 32
    assert options["excludeCredentials"] == [
        {"type": "public-key", "id": websafe_encode(b"cred"), "transports": ["usb"]}
    ]
    assert options["authenticatorSelection"] == {
        "userVerification": "required", "residentKey": "required", "requireResidentKey": True,
        "authenticatorAttachment": "cross-platform",
    }  # fmt: skip
    assert options["timeout"] == 60_000 and options["extensions"] == {"credProps": True}
    assert state.kind == "registration" and state.expires == 1060.0 and state.user_handle == b"user-1"
    assert "user-1" not in repr(server) and RP_ID in repr(server)


def test_challenges_are_fresh() -> None:
    server = Fido2Server(RP_ID, ORIGIN)
    challenges = {server.authenticate_begin()[1].challenge for _ in range(50)}
    assert len(challenges) == 50


@pytest.mark.parametrize("user_id", [b"", bytes(65), "text"])
def test_register_begin_rejects_bad_user_ids(user_id: Any) -> None:
    with pytest.raises(ValueError, match=r"user\.id"):
        Fido2Server(RP_ID, ORIGIN).register_begin({**USER, "id": user_id})


def test_bad_user_verification_is_rejected() -> None:
    server = Fido2Server(RP_ID, ORIGIN)
    with pytest.raises(ValueError, match="user_verification"):
        server.register_begin(USER, user_verification="always")
    with pytest.raises(ValueError, match="user_verification"):
        server.authenticate_begin(user_verification="sometimes")


def test_state_round_trips() -> None:
    _, state = Fido2Server(RP_ID, ORIGIN).authenticate_begin(user_handle=b"u", user_verification="required")
    assert CeremonyState.from_dict(json.loads(json.dumps(state.to_dict()))) == state
    _, state = Fido2Server(RP_ID, ORIGIN).authenticate_begin()
    assert CeremonyState.from_dict(state.to_dict()) == state and state.user_handle is None and state.discoverable


STATE_KEYS = st.sampled_from(["kind", "challenge", "expires", "user_verification", "user_handle", "x"])
STATE_VALUES = st.none() | st.integers() | st.text(max_size=12) | st.floats() | st.lists(st.integers())


@given(st.dictionaries(STATE_KEYS, STATE_VALUES))
def test_corrupt_state_is_a_typed_error(data: dict[str, Any]) -> None:
    try:
        CeremonyState.from_dict(data)
    except MalformedResponseError as e:
        assert "corrupt" in str(e)


async def test_registration_and_authentication_with_the_software_authenticator() -> None:
    server = Fido2Server(RP_ID, ORIGIN)
    async with open_virtual_device() as dev:
        client = WebAuthnClient(dev, ORIGIN)
        options, state = server.register_begin(USER, resident_key_requirement="discouraged")
        reg = server.register_complete(state, await client.create(options))
        stored = StoredCredential(reg.credential_id, reg.credential_public_key, reg.sign_count, b"user-1")
        options, state = server.authenticate_begin([stored], user_handle=b"user-1")
        assert options["allowCredentials"] == [{"type": "public-key", "id": websafe_encode(reg.credential_id)}]
        result, match = server.authenticate_complete(state, [stored], await client.get(options))
    assert match == stored and result.new_sign_count > reg.sign_count


def test_authentication_checks() -> None:
    server = Fido2Server(RP_ID, ORIGIN)
    alice, bob = Signer(b"user-1"), Signer(b"user-2")
    options, state = server.authenticate_begin([alice.stored()], now=100.0)
    result, _ = server.authenticate_complete(state, [alice.stored()], alice.assertion(options), now=101.0)
    assert result.new_sign_count == 1
    # expired
    with pytest.raises(ChallengeMismatchError, match="expired"):
        server.authenticate_complete(state, [alice.stored()], alice.assertion(options), now=100.0 + 301)
    # a credential that is not allowed
    with pytest.raises(CredentialIdError, match="allowed"):
        server.authenticate_complete(state, [alice.stored()], bob.assertion(options), now=101.0)
    # rawId not base64url
    bad = alice.assertion(options)
    bad["rawId"] = "!!"
    with pytest.raises(MalformedResponseError, match="rawId"):
        server.authenticate_complete(state, [alice.stored()], bad, now=101.0)
    # a userHandle that is not the credential's
    with pytest.raises(UserHandleError, match="userHandle"):
        answer = alice.assertion(options, userHandle=websafe_encode(b"user-2"))
        server.authenticate_complete(state, [alice.stored()], answer, now=101.0)
    # the counter did not increase
    with pytest.raises(SignCountError):
        server.authenticate_complete(state, [alice.stored(5)], alice.assertion(options, counter=5), now=101.0)
    # a registration state cannot complete an authentication
    _, reg_state = server.register_begin(USER, now=100.0)
    with pytest.raises(ChallengeMismatchError, match="registration"):
        server.authenticate_complete(reg_state, [alice.stored()], alice.assertion(options), now=101.0)
    with pytest.raises(ChallengeMismatchError, match="authentication"):
        server.register_complete(state, {}, now=101.0)


def test_user_verification_required_by_the_state() -> None:
    server = Fido2Server(RP_ID, ORIGIN)
    signer = Signer()
    options, state = server.authenticate_begin([signer.stored()], user_verification="required")
    with pytest.raises(UserVerificationError):
        server.authenticate_complete(state, [signer.stored()], signer.assertion(options, flags=0x01))
    result, _ = server.authenticate_complete(state, [signer.stored()], signer.assertion(options, flags=0x05))
    assert result.user_verified


def test_sign_in_started_for_a_user_accepts_only_that_users_credentials() -> None:
    server = Fido2Server(RP_ID, ORIGIN)
    alice, bob = Signer(b"user-1"), Signer(b"user-2")
    options, state = server.authenticate_begin([], user_handle=b"user-1")
    with pytest.raises(CredentialIdError, match="user this sign-in"):
        server.authenticate_complete(state, [bob.stored()], bob.assertion(options))
    server.authenticate_complete(state, [alice.stored()], alice.assertion(options))


def test_allow_credentials_of_the_options_are_kept_in_the_state() -> None:
    """WebAuthn L3 §7.2 step 5: with a non-empty allowCredentials, only a listed credential may answer. The
    state keeps the list, so a caller that finds the credential by its id (as the app does) and passes just
    that one cannot be answered by a credential the options did not list."""
    server = Fido2Server(RP_ID, ORIGIN)
    alice, alice2, bob = Signer(b"user-1"), Signer(b"user-1"), Signer(b"user-2")
    options, state = server.authenticate_begin([alice.stored(), alice2.stored()])
    assert state.allowed == (alice.credential_id, alice2.credential_id)
    with pytest.raises(CredentialIdError, match="allowCredentials"):
        server.authenticate_complete(state, [bob.stored()], bob.assertion(options))
    state = CeremonyState.from_dict(json.loads(json.dumps(state.to_dict())))  # kept between options and result
    with pytest.raises(CredentialIdError, match="allowCredentials"):
        server.authenticate_complete(state, [bob.stored()], bob.assertion(options))
    for signer in (alice, alice2):
        server.authenticate_complete(state, [signer.stored()], signer.assertion(options))
    # a state stored before the list was kept (no "allowed" member) reads as an empty list
    old = {k: v for k, v in state.to_dict().items() if k != "allowed"}
    assert CeremonyState.from_dict(old).allowed == ()


@pytest.mark.parametrize("user_handle", [None, "", "omitted"])
def test_a_passkey_sign_in_needs_the_user_handle(user_handle: str | None) -> None:
    """WebAuthn L3 §7.2 step 6: the user was not identified before the ceremony (no allowCredentials, no
    user handle), so response.userHandle must be present; it names the credential's owner."""
    server = Fido2Server(RP_ID, ORIGIN)
    alice = Signer(b"user-1")
    options, state = server.authenticate_begin()
    assert options["allowCredentials"] == [] and state.discoverable
    answer = alice.assertion(options)
    if user_handle == "omitted":
        del answer["response"]["userHandle"]
    else:
        answer["response"]["userHandle"] = user_handle
    with pytest.raises(UserHandleError, match="required"):
        server.authenticate_complete(state, [alice.stored()], answer)
    with pytest.raises(UserHandleError, match="owner"):
        server.authenticate_complete(state, [alice.stored()], alice.assertion(options, userHandle="dXNlci0y"))
    result, _ = server.authenticate_complete(state, [alice.stored()], alice.assertion(options))
    assert result.user_handle == b"user-1"
    # a user identified before the ceremony (allowCredentials): userHandle may be absent (an U2F key's null)
    options, state = server.authenticate_begin([alice.stored()])
    assert not state.discoverable
    server.authenticate_complete(state, [alice.stored()], alice.assertion(options, userHandle=None))


def test_a_changed_backup_eligibility_is_refused() -> None:
    """WebAuthn L3 §7.2: BE cannot change after registration; BS may (the caller records it)."""
    server = Fido2Server(RP_ID, ORIGIN)
    signer = Signer()
    options, state = server.authenticate_begin([signer.stored()])
    for stored_be, flags in ((False, 0x0D), (True, 0x05)):  # 0x08: BE
        with pytest.raises(BackupFlagsError, match="BE"):
            server.authenticate_complete(state, [signer.stored(backup_eligible=stored_be)],
                                         signer.assertion(options, flags=flags))  # fmt: skip
    result, _ = server.authenticate_complete(
        state, [signer.stored(backup_eligible=True)], signer.assertion(options, flags=0x1D)
    )
    assert result.backup_eligible and result.backup_state
    result, _ = server.authenticate_complete(
        state, [signer.stored(backup_eligible=True)], signer.assertion(options, flags=0x0D)
    )
    assert result.backup_eligible and not result.backup_state


def test_possible_clone_can_be_flagged_instead() -> None:
    server = Fido2Server(RP_ID, ORIGIN, reject_possible_clone=False)
    signer = Signer()
    options, state = server.authenticate_begin([signer.stored(9)])
    result, _ = server.authenticate_complete(state, [signer.stored(9)], signer.assertion(options, counter=3))
    assert result.possible_clone and result.new_sign_count == 3
