"""Client-side rules of WebAuthn L3 §5.1.3 / §5.1.4.1 that aioctap's WebAuthnClient must apply like a browser.

* Which RP IDs a client accepts for an origin (§5.1.3 step 8, §5.1.4.1 step 8; HTML "is a registrable domain
  suffix of or is equal to"), aioctap's ``verify_rp_id`` beside python-fido2's: an RP ID that is not the
  origin's host itself must be a domain (an IP address only ever matches itself), a dot-suffix of the host,
  and not a public suffix (``com``, ``co.uk``, ``github.io``).
* user.id must be 1 to 64 bytes (§5.1.3 step 5): a TypeError in the browser, before any authenticator is asked.
* attestation conveyance "none" (the default): the client hands the RP a "none" statement (§5.1.3 step 22).
"""

from __future__ import annotations

import pytest
from fido2.rpid import verify_rp_id as fido2_verify_rp_id

from aioctap.client import ClientError, WebAuthnClient, verify_rp_id
from aioctap.virtual import open_virtual_device
from aioctap.webauthn import websafe_encode

ACCEPTED = [
    ("example.com", "https://example.com"),
    ("example.com", "https://login.example.com"),
    ("example.com", "https://example.com:8443"),
    ("example.co.uk", "https://www.example.co.uk"),
    ("foo.github.io", "https://bar.foo.github.io"),
    ("localhost", "http://localhost:8000"),
    ("127.0.0.1", "https://127.0.0.1"),
]
REJECTED = [
    ("example.com", "http://example.com"),  # not a secure context
    ("example.com", "https://example.org"),
    ("ample.com", "https://example.com"),  # a suffix, but not at a label boundary
    ("login.example.com", "https://example.com"),  # a subdomain of the origin's host
    ("", "https://example.com"),
]
PUBLIC_SUFFIXES = [
    ("com", "https://example.com"),
    ("co.uk", "https://example.co.uk"),
    ("github.io", "https://foo.github.io"),  # the PSL's private section, which browsers apply too
]
IP_SUFFIXES = [("0.0.1", "https://127.0.0.1"), ("1.1", "https://10.1.1.1")]


@pytest.mark.parametrize(("rp_id", "origin"), ACCEPTED)
def test_accepted_rp_ids(rp_id: str, origin: str) -> None:
    assert verify_rp_id(rp_id, origin) and fido2_verify_rp_id(rp_id, origin)


@pytest.mark.parametrize(("rp_id", "origin"), REJECTED)
def test_rejected_rp_ids(rp_id: str, origin: str) -> None:
    assert not verify_rp_id(rp_id, origin) and not fido2_verify_rp_id(rp_id, origin)


@pytest.mark.parametrize(("rp_id", "origin"), PUBLIC_SUFFIXES)
def test_public_suffix_is_not_an_rp_id(rp_id: str, origin: str) -> None:
    assert not fido2_verify_rp_id(rp_id, origin)  # the reference refuses it
    assert not verify_rp_id(rp_id, origin)


@pytest.mark.parametrize(("rp_id", "origin"), IP_SUFFIXES)
def test_ip_address_only_matches_itself(rp_id: str, origin: str) -> None:
    assert not verify_rp_id(rp_id, origin)


async def test_client_refuses_public_suffix_before_touching_the_device() -> None:
    async with open_virtual_device() as dev:
        client = WebAuthnClient(dev, "https://example.com")
        options = {
            "rp": {"id": "com", "name": "Everyone"},
            "user": {"id": "dXNlcg", "name": "u"},
            "challenge": "Y2hhbGxlbmdlLWNoYWxsZW5nZQ",
            "authenticatorSelection": {"userVerification": "discouraged"},
        }
        with pytest.raises(ClientError):
            await client.create(options)
        assert not dev.authenticator.state.credentials


@pytest.mark.parametrize("user_id", [b"", b"u" * 65], ids=["empty", "65-bytes"])
async def test_user_id_length_checked_by_the_client(user_id: bytes) -> None:
    async with open_virtual_device() as dev:
        client = WebAuthnClient(dev, "https://example.com")
        options = {
            "rp": {"id": "example.com", "name": "Example"},
            "user": {"id": websafe_encode(user_id), "name": "u"},
            "challenge": "Y2hhbGxlbmdlLWNoYWxsZW5nZQ",
            "authenticatorSelection": {"userVerification": "discouraged"},
        }
        with pytest.raises(ClientError):
            await client.create(options)
        assert not dev.authenticator.state.credentials and dev.authenticator.state.sign_count == 0


@pytest.mark.parametrize("conveyance", ["none", None])
async def test_attestation_none_is_anonymized_by_the_client(conveyance: str | None) -> None:
    from aioctap import cbor
    from aioctap.server import verify_registration
    from aioctap.webauthn import AuthenticatorData, websafe_decode

    async with open_virtual_device() as dev:
        client = WebAuthnClient(dev, "https://example.com")
        challenge = b"anonymized attestation challenge"
        options: dict[str, object] = {
            "rp": {"id": "example.com", "name": "Example"},
            "user": {"id": "dXNlcg", "name": "u"},
            "challenge": websafe_encode(challenge),
            "authenticatorSelection": {"userVerification": "discouraged"},
        }
        if conveyance is not None:
            options["attestation"] = conveyance
        registration = await client.create(options)
        att_obj = cbor.loads(websafe_decode(registration["response"]["attestationObject"]))
        # the result must stay a valid registration whatever the client did
        result = verify_registration(
            registration,
            expected_challenge=challenge,
            expected_origin="https://example.com",
            expected_rp_id="example.com",
        )
        assert result.credential_id == websafe_decode(registration["rawId"])
        assert att_obj["fmt"] == "none" and att_obj["attStmt"] == {}
        cred = AuthenticatorData(att_obj["authData"]).credential_data  # L3 keeps the AAGUID (L2 zeroed it)
        assert cred is not None and bytes(cred.aaguid) == dev.authenticator.state.aaguid
