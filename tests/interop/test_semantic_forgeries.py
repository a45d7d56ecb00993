"""Well-signed but wrong responses: python-fido2, py_webauthn and aioctap each judge them; the spec decides.

The test process holds the authenticator's state file, so it can re-sign a modified registration with the
attestation key and a modified assertion with the credential's own key (unsealed from its credential ID with
the master key). Each forgery is therefore rejected (or accepted) for what it says, never because a signature
broke: a flag, an RP ID hash, a counter, the client data's type, challenge or origin, a duplicated member.
"""

from __future__ import annotations

import base64
import hashlib
import json
import struct
from collections.abc import Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from fido2.client import DefaultClientDataCollector, Fido2Client

from aioctap import cbor
from aioctap.server import verify_authentication
from aioctap.virtual.attestation import load_attestation_key
from aioctap.virtual.storage import load_state
from aioctap.webauthn import websafe_decode, websafe_encode

ORIGIN = "https://example.com"
ALL_REJECT = {"python-fido2": "rejected", "py_webauthn": "rejected", "aioctap": "rejected"}
ALL_ACCEPT = {"python-fido2": "accepted", "py_webauthn": "accepted", "aioctap": "accepted"}
UP, UV, BE, BS, ED = 0x01, 0x04, 0x08, 0x10, 0x80


class Forger:
    """A registered credential and one genuine assertion, and the keys to re-sign variants of them."""

    def __init__(self, authenticator: Any, three_rps: Any) -> None:
        self.rp = three_rps(authenticator.root_der, attestation="direct")
        with authenticator.fido2_device() as dev:
            client = Fido2Client(dev, DefaultClientDataCollector(ORIGIN))
            result = client.make_credential(self.rp.register_begin(b"mallory").public_key)
            self.registration = dict(result)
            self.att_obj = cbor.loads(websafe_decode(self.registration["response"]["attestationObject"]))
            self._registration_ceremony = self._ceremony()
            self.registered = self.rp.register_complete(self.registration)
            self.assertion = dict(client.get_assertion(self.rp.authenticate_begin().public_key).get_response(0))
        state = load_state(authenticator.state_file)  # saved by the process after every command
        self.attestation_key = load_attestation_key(state.attestation_key)
        rp_id_hash = hashlib.sha256(b"example.com").digest()
        credential = state.open_credential(self.registered.credential_id, rp_id_hash)
        assert credential is not None
        self.credential_key = credential

    def _ceremony(self) -> tuple[Any, ...]:
        return self.rp._state, self.rp._challenge, self.rp._require_uv, self.rp._user_id

    def _restore(self, ceremony: tuple[Any, ...]) -> None:
        self.rp._state, self.rp._challenge, self.rp._require_uv, self.rp._user_id = ceremony

    # registration

    def register_outcomes(self, response: dict[str, Any]) -> dict[str, str]:
        """The verdicts on a registration response, judged against the registration ceremony's options."""
        current = self._ceremony()
        self._restore(self._registration_ceremony)
        try:
            verdict: dict[str, str] = self.rp.register_outcomes(response)
        finally:
            self._restore(current)
        return verdict

    def registration_with(self, auth_data: bytes) -> dict[str, Any]:
        """The registration with other authenticator data, attested again with the attestation key."""
        cdh = hashlib.sha256(websafe_decode(self.registration["response"]["clientDataJSON"])).digest()
        sig = self.attestation_key.sign(auth_data + cdh, ec.ECDSA(hashes.SHA256()))
        att_obj = {**self.att_obj, "authData": auth_data, "attStmt": {**self.att_obj["attStmt"], "sig": sig}}
        response = {**self.registration["response"], "attestationObject": websafe_encode(cbor.dumps(att_obj))}
        return {**self.registration, "response": response}

    @property
    def auth_data(self) -> bytes:
        return bytes(self.att_obj["authData"])

    # assertion

    def assertion_with(self, auth_data: bytes | None = None, client_data: bytes | None = None) -> dict[str, Any]:
        """The assertion with other authenticator data and/or client data, signed again by the credential."""
        response = self.assertion["response"]
        ad = auth_data if auth_data is not None else websafe_decode(response["authenticatorData"])
        cd = client_data if client_data is not None else websafe_decode(response["clientDataJSON"])
        sig = self.credential_key.sign(ad + hashlib.sha256(cd).digest())
        new = {
            "authenticatorData": websafe_encode(ad),
            "clientDataJSON": websafe_encode(cd),
            "signature": websafe_encode(sig),
        }
        return {**self.assertion, "response": {**response, **new}}

    @property
    def assertion_auth_data(self) -> bytes:
        return websafe_decode(self.assertion["response"]["authenticatorData"])

    @property
    def client_data(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(websafe_decode(self.assertion["response"]["clientDataJSON"]))
        return parsed


def with_flags(auth_data: bytes, set_: int = 0, clear: int = 0) -> bytes:
    return auth_data[:32] + bytes([(auth_data[32] | set_) & ~clear]) + auth_data[33:]


def with_counter(auth_data: bytes, counter: int) -> bytes:
    return auth_data[:33] + struct.pack(">I", counter) + auth_data[37:]


def with_rp(auth_data: bytes, rp_id: str) -> bytes:
    return hashlib.sha256(rp_id.encode()).digest() + auth_data[32:]


def client_json(members: dict[str, Any]) -> bytes:
    return json.dumps(members, separators=(",", ":")).encode()


@pytest.fixture
def forger(authenticator: Any, three_rps: Any) -> Forger:
    return Forger(authenticator, three_rps)


def test_genuine_and_resigned_genuine_are_accepted(forger: Forger) -> None:
    """The re-signing itself changes nothing: an unmodified copy passes everywhere."""
    assert forger.register_outcomes(forger.registration_with(forger.auth_data)) == ALL_ACCEPT
    assert forger.rp.authenticate_outcomes(forger.assertion_with()) == ALL_ACCEPT


REGISTRATION_FORGERIES: dict[str, Callable[[bytes], bytes]] = {
    "UP cleared (§7.1 step 14)": lambda ad: with_flags(ad, clear=UP),
    "other RP ID hash (§7.1 step 13)": lambda ad: with_rp(ad, "evil.test"),
    "trailing byte (§6.1)": lambda ad: ad + b"\x00",
    "AT flag cleared (§7.1: no attested credential)": lambda ad: with_flags(ad, clear=0x40),
}


@pytest.mark.parametrize("forge", list(REGISTRATION_FORGERIES.values()), ids=list(REGISTRATION_FORGERIES))
def test_registration_forgeries_rejected_by_all(forger: Forger, forge: Callable[[bytes], bytes]) -> None:
    assert forger.register_outcomes(forger.registration_with(forge(forger.auth_data))) == ALL_REJECT


def test_registration_aaguid_must_match_the_certificate(forger: Forger) -> None:
    """§8.2.1: the attestation certificate's id-fido-gen-ce-aaguid extension must equal the attested AAGUID.
    python-fido2 and aioctap check it; py_webauthn 3.0.1 does not."""
    forged = forger.registration_with(forger.auth_data[:37] + bytes(16) + forger.auth_data[53:])
    verdict = forger.register_outcomes(forged)
    assert verdict["python-fido2"] == verdict["aioctap"] == "rejected"


def test_registration_bs_without_be_rejected_by_aioctap(forger: Forger) -> None:
    """§6.1 / §7.1 step 16: BS set while BE is not is invalid (py_webauthn agrees; python-fido2 2.2.1 does not
    check the backup flags)."""
    verdict = forger.register_outcomes(forger.registration_with(with_flags(forger.auth_data, set_=BS)))
    assert verdict["aioctap"] == verdict["py_webauthn"] == "rejected"


ASSERTION_FORGERIES: dict[str, Callable[[Forger], dict[str, Any]]] = {
    "UP cleared (§7.2 step 16)": lambda f: f.assertion_with(with_flags(f.assertion_auth_data, clear=UP)),
    "other RP ID hash (§7.2 step 15)": lambda f: f.assertion_with(with_rp(f.assertion_auth_data, "evil.test")),
    "type webauthn.create (§7.2 step 11)": lambda f: f.assertion_with(
        client_data=client_json({**f.client_data, "type": "webauthn.create"})
    ),
    "other challenge (§7.2 step 12)": lambda f: f.assertion_with(
        client_data=client_json({**f.client_data, "challenge": websafe_encode(b"\x00" * 32)})
    ),
    "other origin (§7.2 step 13)": lambda f: f.assertion_with(
        client_data=client_json({**f.client_data, "origin": "https://evil.test"})
    ),
    "type given twice, the last wrong": lambda f: f.assertion_with(
        client_data=client_json(f.client_data)[:-1] + b',"type":"webauthn.create"}'
    ),
    "client data not JSON": lambda f: f.assertion_with(client_data=client_json(f.client_data)[:-1]),
    "ED set, no extensions (§6.1)": lambda f: f.assertion_with(with_flags(f.assertion_auth_data, set_=ED)),
    "trailing byte (§6.1)": lambda f: f.assertion_with(f.assertion_auth_data + b"\x00"),
}


@pytest.mark.parametrize("forge", list(ASSERTION_FORGERIES.values()), ids=list(ASSERTION_FORGERIES))
def test_assertion_forgeries_rejected_by_all(forger: Forger, forge: Callable[[Forger], dict[str, Any]]) -> None:
    assert forger.rp.authenticate_outcomes(forge(forger)) == ALL_REJECT


def test_assertion_counter_rules(forger: Forger) -> None:
    """§7.2 step 21 (signCount): a counter that does not increase is a possible clone for py_webauthn and aioctap
    (python-fido2's Fido2Server leaves counters to the caller); zero on both sides means "no counter"."""
    stored = forger.registered.sign_count
    assert stored > 0
    for counter in (stored, stored - 1):
        verdict = forger.rp.authenticate_outcomes(
            forger.assertion_with(with_counter(forger.assertion_auth_data, counter))
        )
        assert verdict["py_webauthn"] == verdict["aioctap"] == "rejected", counter
    forger.registered.sign_count = 0
    verdict = forger.rp.authenticate_outcomes(forger.assertion_with(with_counter(forger.assertion_auth_data, 0)))
    assert verdict == ALL_ACCEPT


def test_assertion_bs_without_be_rejected_by_aioctap(forger: Forger) -> None:
    verdict = forger.rp.authenticate_outcomes(forger.assertion_with(with_flags(forger.assertion_auth_data, set_=BS)))
    assert verdict["aioctap"] == verdict["py_webauthn"] == "rejected"  # §7.2 step 18


CLIENT_DATA_VARIANTS: dict[str, Callable[[dict[str, Any]], bytes]] = {
    # §5.8.1.2: RPs must parse clientDataJSON, not compare it with a template
    "extra member at the end": lambda cd: client_json({**cd, "other_keys_can_be_added_here": "do not compare"}),
    "members in another order": lambda cd: client_json(dict(reversed(list(cd.items())))),
    "white space": lambda cd: json.dumps(cd, indent=1).encode(),
    "escaped solidus in the origin": lambda cd: client_json(cd).replace(b"https://", b"https:\\/\\/"),
    "unicode escapes in the type": lambda cd: client_json(cd).replace(b"webauthn.get", b"webauthn\\u002eget"),
    "no crossOrigin member": lambda cd: client_json({k: v for k, v in cd.items() if k != "crossOrigin"}),
}


@pytest.mark.parametrize("variant", list(CLIENT_DATA_VARIANTS.values()), ids=list(CLIENT_DATA_VARIANTS))
def test_equivalent_client_data_accepted_by_all(forger: Forger, variant: Callable[[dict[str, Any]], bytes]) -> None:
    raw = variant(forger.client_data)
    assert json.loads(raw) == {k: v for k, v in json.loads(raw).items()}  # still the same JSON document
    assert forger.rp.authenticate_outcomes(forger.assertion_with(client_data=raw)) == ALL_ACCEPT


def test_cross_origin_is_a_policy(forger: Forger) -> None:
    """crossOrigin true (a cross-origin iframe): aioctap refuses it unless the RP allows it (§7.2 step 13, L3)."""
    forged = forger.assertion_with(client_data=client_json({**forger.client_data, "crossOrigin": True}))
    assert forger.rp.authenticate_outcomes(forged)["aioctap"] == "rejected"
    result = verify_authentication(
        forged, expected_challenge=forger.rp._challenge, expected_origin=ORIGIN, expected_rp_id="example.com",
        credential_public_key=forger.registered.cose_key, credential_current_sign_count=forger.registered.sign_count,
        allow_cross_origin=True,
    )  # fmt: skip
    assert result.credential_id == forger.registered.credential_id


def aioctap_verdict(forger: Forger, assertion: dict[str, Any], challenge: bytes) -> str:
    from aioctap.server import VerificationError

    try:
        verify_authentication(
            assertion, expected_challenge=challenge, expected_origin=ORIGIN, expected_rp_id="example.com",
            credential_public_key=forger.registered.cose_key, credential_current_sign_count=0,
        )  # fmt: skip
    except VerificationError as e:
        return type(e).__name__
    return "accepted"


def test_challenge_in_the_standard_alphabet_is_refused(forger: Forger) -> None:
    """§7.2 step 12: C.challenge must equal the base64url encoding of the challenge; "+" and "/" are not base64url."""
    challenge = b"\xfb\xff\xbf" * 11  # base64url "-_-_" ..., standard base64 "+/+/" ...
    for spelling, verdict in ((websafe_encode(challenge), "accepted"), (base64.b64encode(challenge).decode(), None)):
        forged = forger.assertion_with(client_data=client_json({**forger.client_data, "challenge": spelling}))
        outcome = aioctap_verdict(forger, forged, challenge)
        assert outcome == verdict if verdict else outcome != "accepted", spelling


def test_padded_challenge_is_refused(forger: Forger) -> None:
    challenge = b"padded challenge of 31 bytes..."
    assert len(challenge) % 3 == 1
    padded = base64.urlsafe_b64encode(challenge).decode()
    assert padded.endswith("==")
    forged = forger.assertion_with(client_data=client_json({**forger.client_data, "challenge": padded}))
    assert aioctap_verdict(forger, forged, challenge) != "accepted"


VERIFIERS_ALL = ("python-fido2", "py_webauthn", "aioctap")
# python-fido2's Fido2Server looks at the statement only with a trust root (packed): for none and self
# attestation it is not asked. py_webauthn 3.0.1 accepts a "none" statement with members, and treats an empty
# x5c like an absent one.
STATEMENT_VARIANTS: dict[str, tuple[str, Callable[[dict[str, Any]], dict[str, Any]], set[str]]] = {
    # name: (authenticator's attestation, change to the attestation object, verifiers that must reject)
    "none with a non-empty attStmt (§8.7)": ("none", lambda ao: {**ao, "attStmt": {"x": 1}}, {"aioctap"}),
    "packed self with the alg of another key (§8.2 step 3)": (
        "self",
        lambda ao: {**ao, "attStmt": {**ao["attStmt"], "alg": -8}},
        {"py_webauthn", "aioctap"},
    ),
    "packed self with an empty x5c (§8.2: x5c holds at least attestnCert)": (
        "self",
        lambda ao: {**ao, "attStmt": {**ao["attStmt"], "x5c": []}},
        {"aioctap"},
    ),
    "packed with an empty x5c": ("packed", lambda ao: {**ao, "attStmt": {**ao["attStmt"], "x5c": []}}, {"aioctap"}),
    "unknown format": ("packed", lambda ao: {**ao, "fmt": "made-up"}, set(VERIFIERS_ALL)),
    "format name in upper case": ("packed", lambda ao: {**ao, "fmt": "PACKED"}, set(VERIFIERS_ALL)),
}


@pytest.mark.parametrize("variant", list(STATEMENT_VARIANTS.values()), ids=list(STATEMENT_VARIANTS))
async def test_attestation_statement_structure(three_rps: Any, variant: Any) -> None:
    from aioctap.client import WebAuthnClient
    from aioctap.virtual import VirtualAuthenticator, open_virtual_device

    attestation, change, must_reject = variant
    auth = VirtualAuthenticator(attestation=attestation)
    rp = three_rps(auth.attestation_root if attestation == "packed" else None, attestation="direct")
    async with open_virtual_device(authenticator=auth) as dev:
        registration = await WebAuthnClient(dev, ORIGIN).create(dict(rp.register_begin(b"trent")))
    att_obj = cbor.loads(websafe_decode(registration["response"]["attestationObject"]))
    response = {**registration["response"], "attestationObject": websafe_encode(cbor.dumps(change(att_obj)))}
    verdict = rp.register_outcomes({**registration, "response": response})
    assert {name for name, v in verdict.items() if v == "rejected"} >= must_reject, verdict
    assert "crashed" not in verdict["aioctap"]
