"""python-fido2's Fido2Client drives ``aioctap virtual`` over UDP; python-fido2, py_webauthn and aioctap verify.

Every verifier must accept the genuine registration and assertion, and every verifier must reject a copy
with one bit flipped anywhere in clientDataJSON, authenticatorData or the signature.
"""

from __future__ import annotations

from typing import Any

import pytest
from fido2.client import DefaultClientDataCollector, Fido2Client

from aioctap.webauthn import websafe_decode, websafe_encode

ORIGIN = "https://example.com"
ACCEPTED_BY_ALL = {"python-fido2": "accepted", "py_webauthn": "accepted", "aioctap": "accepted"}
REJECTED_BY_ALL = {"python-fido2": "rejected", "py_webauthn": "rejected", "aioctap": "rejected"}


def fido2_client(dev: Any) -> Any:
    return Fido2Client(dev, DefaultClientDataCollector(ORIGIN))


def with_member(response: dict[str, Any], name: str, value: bytes) -> dict[str, Any]:
    return {**response, "response": {**response["response"], name: websafe_encode(value)}}


def flipped(data: bytes, index: int) -> bytes:
    return data[:index] + bytes([data[index] ^ 0x01]) + data[index + 1 :]


def assertion_tamperings(response: dict[str, Any]) -> list[tuple[str, int, dict[str, Any]]]:
    """One bit flipped at every position of clientDataJSON, authenticatorData and signature."""
    out = []
    for member in ("clientDataJSON", "authenticatorData", "signature"):
        raw = websafe_decode(response["response"][member])
        out += [(member, i, with_member(response, member, flipped(raw, i))) for i in range(len(raw))]
    return out


def registration_tamperings(response: dict[str, Any], att_stmt_sig: bytes, auth_data: bytes) -> list[Any]:
    """One bit flipped at every position of clientDataJSON, and of authData / attStmt.sig inside the
    attestationObject (same length, so the CBOR stays well-formed)."""
    out = []
    cdj = websafe_decode(response["response"]["clientDataJSON"])
    out += [("clientDataJSON", i, with_member(response, "clientDataJSON", flipped(cdj, i))) for i in range(len(cdj))]
    att_obj = websafe_decode(response["response"]["attestationObject"])
    for name, part in (("authenticatorData", auth_data), ("signature", att_stmt_sig)):
        assert att_obj.count(part) == 1
        for i in range(len(part)):
            out.append((name, i, with_member(response, "attestationObject", att_obj.replace(part, flipped(part, i)))))
    return out


def rejected_by_all(rp: Any, tamperings: list[Any], registration: bool) -> list[str]:
    """The tamperings some verifier did not reject (empty when all three rejected every one)."""
    failures = []
    for member, index, response in tamperings:
        verdict = rp.register_outcomes(response) if registration else rp.authenticate_outcomes(response)
        if verdict != REJECTED_BY_ALL:
            failures.append(f"{member}[{index}]: {verdict}")
    return failures


@pytest.mark.parametrize("alg", [-7, -8], ids=["ES256", "EdDSA"])
@pytest.mark.parametrize("conveyance", ["direct", "none"])
def test_fido2_client_packed_accepted_by_all_and_tampering_rejected(
    authenticator: Any, three_rps: Any, conveyance: str, alg: int
) -> None:
    rp = three_rps(authenticator.root_der, attestation=conveyance, algorithms=(alg,))
    with authenticator.fido2_device() as dev:
        client = fido2_client(dev)
        result = client.make_credential(rp.register_begin(b"alice").public_key)
        registration = dict(result)
        att_obj = result.response.attestation_object
        assert att_obj.fmt == "packed" and len(att_obj.att_stmt["x5c"]) >= 1
        if conveyance == "direct":  # the attestation signature covers clientDataHash and authData
            tamperings = registration_tamperings(registration, att_obj.att_stmt["sig"], bytes(att_obj.auth_data))
            assert rejected_by_all(rp, tamperings, registration=True) == []
        assert rp.register_outcomes(registration) == ACCEPTED_BY_ALL
        registered = rp.register_complete(registration)
        assert registered.aioctap.alg == alg
        assert registered.aioctap.attestation_trusted

        for _ in range(2):  # two sign-ins: the counter must move on for all three
            selection = client.get_assertion(rp.authenticate_begin().public_key)
            assertion = dict(selection.get_response(0))
            assert rejected_by_all(rp, assertion_tamperings(assertion), registration=False) == []
            result_auth = rp.authenticate_complete(assertion)
            assert result_auth.user_present and not result_auth.user_verified
        # a replayed assertion: its counter did not increase (possible clone) for py_webauthn and aioctap
        verdict = rp.authenticate_outcomes(assertion)
        assert verdict["aioctap"] == "rejected" and verdict["py_webauthn"] == "rejected"


def test_fido2_client_none_attestation_format_accepted_by_all(authenticator_none: Any, three_rps: Any) -> None:
    rp = three_rps(None, attestation="none")
    with authenticator_none.fido2_device() as dev:
        client = fido2_client(dev)
        result = client.make_credential(rp.register_begin(b"bob").public_key)
        assert result.response.attestation_object.fmt == "none"
        assert result.response.attestation_object.att_stmt == {}
        registered = rp.register_complete(dict(result))
        assert registered.aioctap.fmt == "none" and not registered.aioctap.attestation_trusted
        assertion = dict(client.get_assertion(rp.authenticate_begin().public_key).get_response(0))
        assert rejected_by_all(rp, assertion_tamperings(assertion), registration=False) == []
        rp.authenticate_complete(assertion)


def test_wrong_origin_and_wrong_rp_rejected_by_all(authenticator: Any, three_rps: Any) -> None:
    """The same authenticator output presented to an RP that expects other values: all three refuse."""
    rp = three_rps(authenticator.root_der)
    with authenticator.fido2_device() as dev:
        evil = Fido2Client(dev, DefaultClientDataCollector("https://evil.test", verify=lambda rp_id, o: True))
        registration = dict(evil.make_credential(rp.register_begin().public_key))
        assert rp.register_outcomes(registration) == REJECTED_BY_ALL  # origin https://evil.test
        registration = dict(fido2_client(dev).make_credential(rp.register_begin().public_key))
        rp.register_complete(registration)
        assertion = dict(evil.get_assertion(rp.authenticate_begin().public_key).get_response(0))
        assert rp.authenticate_outcomes(assertion) == REJECTED_BY_ALL


@pytest.mark.parametrize("alg", [-7, -8, -257], ids=["ES256", "EdDSA", "RS256"])
def test_fido2_client_self_attestation_accepted_by_all(authenticator_self: Any, three_rps: Any, alg: int) -> None:
    """Packed self attestation (§8.2 "If x5c is not present"): signed by the credential key itself."""
    rp = three_rps(None, attestation="none", algorithms=(alg,))
    with authenticator_self.fido2_device() as dev:
        client = fido2_client(dev)
        result = client.make_credential(rp.register_begin(b"self").public_key)
        att_obj = result.response.attestation_object
        assert att_obj.fmt == "packed" and "x5c" not in att_obj.att_stmt and att_obj.att_stmt["alg"] == alg
        registration = dict(result)
        tamperings = registration_tamperings(registration, att_obj.att_stmt["sig"], bytes(att_obj.auth_data))
        # python-fido2's Fido2Server does not look at the statement for attestation "none": only two verify it
        for member, index, forged in tamperings[:: max(1, len(tamperings) // 40)]:
            verdict = rp.register_outcomes(forged)
            assert verdict["py_webauthn"] == verdict["aioctap"] == "rejected", (member, index, verdict)
        registered = rp.register_complete(registration)
        assert registered.aioctap.attestation_type.value == "self" and registered.aioctap.alg == alg
        assertion = dict(client.get_assertion(rp.authenticate_begin().public_key).get_response(0))
        assert rejected_by_all(rp, assertion_tamperings(assertion), registration=False) == []
        rp.authenticate_complete(assertion)


def test_fido2_client_rs256_packed_direct(authenticator: Any, three_rps: Any) -> None:
    rp = three_rps(authenticator.root_der, attestation="direct", algorithms=(-257,))
    with authenticator.fido2_device() as dev:
        client = fido2_client(dev)
        registered = rp.register_complete(dict(client.make_credential(rp.register_begin(b"rsa").public_key)))
        assert registered.aioctap.alg == -257 and registered.aioctap.attestation_trusted
        assertion = dict(client.get_assertion(rp.authenticate_begin().public_key).get_response(0))
        rp.authenticate_complete(assertion)


def registered_id(result: Any) -> bytes:
    cred = result.response.attestation_object.auth_data.credential_data
    assert cred is not None
    return bytes(cred.credential_id)


@pytest.mark.parametrize("conveyance", ["direct", "none"])
def test_fido2_client_over_u2f_fido_u2f_attestation_accepted_by_all(
    authenticator: Any, three_rps: Any, u2f_only: Any, conveyance: str
) -> None:
    """CTAP1/U2F registration (fido-u2f attestation, §8.6) and authentication built by python-fido2's client."""
    rp = three_rps(authenticator.root_der, attestation=conveyance)
    with authenticator.fido2_device() as dev:
        client = fido2_client(u2f_only(dev))
        result = client.make_credential(rp.register_begin(b"u2f").public_key)
        att_obj = result.response.attestation_object
        assert att_obj.fmt == "fido-u2f"
        registration = dict(result)
        if conveyance == "direct":
            tamperings = registration_tamperings(registration, att_obj.att_stmt["sig"], bytes(att_obj.auth_data))
            # the U2F signature does not cover signCount and AAGUID (authData[33:53]); the rest is covered
            unsigned = [t for t in tamperings if t[0] == "authenticatorData" and 33 <= t[1] < 53]
            signed = [t for t in tamperings if t not in unsigned]
            # python-fido2 (and for some bytes py_webauthn) rebuild the U2F key from x and y only and so accept a
            # credentialPublicKey whose kty/alg/crv members were altered; §8.6 step 4 rejects any such key: aioctap
            # must reject every flip, the others every flip of clientDataJSON and of the signature
            cose_key = [t for t in signed if t[0] == "authenticatorData" and t[1] >= 55 + len(registered_id(result))]
            assert rejected_by_all(rp, [t for t in signed if t not in cose_key], registration=True) == []
            for member, index, forged in cose_key:
                assert rp.register_outcomes(forged)["aioctap"] == "rejected", (member, index)
            for member, index, forged in unsigned:
                verdict = rp.register_outcomes(forged)
                if index < 37:  # signCount: not attested by U2F, and not a reason to refuse a registration
                    assert verdict == ACCEPTED_BY_ALL, (member, index, verdict)
                else:  # AAGUID: §8.6 has no check; py_webauthn (like SimpleWebAuthn) insists on zeros
                    assert verdict["aioctap"] in ("accepted", "rejected"), (member, index, verdict)
        registered = rp.register_complete(registration)
        assert registered.aioctap.fmt == "fido-u2f" and registered.aioctap.attestation_trusted
        for _ in range(2):
            assertion = dict(client.get_assertion(rp.authenticate_begin().public_key).get_response(0))
            assert rejected_by_all(rp, assertion_tamperings(assertion), registration=False) == []
            rp.authenticate_complete(assertion)
