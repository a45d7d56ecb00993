"""Real-device registrations published by other projects (tests/server/data/*.json, each naming its source),
verified with ``now`` pinned to when their certificates were valid."""

from __future__ import annotations

import copy
import datetime
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from webauthn.helpers import known_root_certs

from aioctap import cbor
from aioctap.server import AttestationType, TrustAnchors, verify_attestation, verify_registration
from aioctap.server.errors import (
    AttestationCertificateError,
    AttestationError,
    AttestationSignatureError,
    ChallengeMismatchError,
    UntrustedAttestationError,
)
from aioctap.webauthn import AuthenticatorData, websafe_decode, websafe_encode

DATA = Path(__file__).parent / "data"


def load(name: str) -> dict[str, Any]:
    vector: dict[str, Any] = json.loads((DATA / f"{name}.json").read_text())
    response = vector["credential"]["response"]
    for member in ("clientDataJSON", "attestationObject"):  # some sources publish standard base64
        response[member] = response[member].replace("+", "-").replace("/", "_").rstrip("=")
    return vector


def register(vector: dict[str, Any], credential: Any = None, **kw: Any) -> Any:
    if "now" in vector:
        kw.setdefault("now", datetime.datetime.fromisoformat(vector["now"]))
    return verify_registration(
        credential if credential is not None else vector["credential"],
        expected_challenge=websafe_decode(vector["expected_challenge"]),
        expected_origin=vector["expected_origin"],
        expected_rp_id=vector["expected_rp_id"],
        **kw,
    )


def att_obj(vector: dict[str, Any]) -> dict[str, Any]:
    obj: dict[str, Any] = cbor.loads(
        websafe_decode(vector["credential"]["response"]["attestationObject"]), strict=False
    )
    return obj


def with_att_stmt(vector: dict[str, Any], **changes: Any) -> dict[str, Any]:
    cred: dict[str, Any] = copy.deepcopy(vector["credential"])
    obj = att_obj(vector)
    obj["attStmt"] = {**obj["attStmt"], **changes}
    cred["response"]["attestationObject"] = websafe_encode(cbor.dumps(obj))
    return cred


def test_tpm_windows_hello_surface_pro_4() -> None:
    v = load("tpm_surface_pro_4")
    res = register(v)
    assert res.fmt == "tpm" and res.attestation_type is AttestationType.ATT_CA and res.alg == -257
    assert str(res.aaguid) == "08987058-cadc-4b81-b6e1-30de50dcbe96"
    assert res.credential_id == websafe_decode(v["credential"]["rawId"])
    assert [c.subject.rfc4514_string() for c in res.trust_path][1].startswith("CN=WUS-INTC-KEYID")
    # the intermediate as an anchor makes it trusted; another root does not
    anchors = TrustAnchors(by_format={"tpm": [res.trust_path[1]]})
    assert register(v, trust_anchors=anchors).attestation_trusted
    with pytest.raises(UntrustedAttestationError):
        register(v, trust_anchors=TrustAnchors(by_format={"packed": [res.trust_path[1]]}))
    with pytest.raises(AttestationCertificateError, match="not valid at"):
        register(v, now=datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC))  # the AIK certificate expired
    stmt = att_obj(v)["attStmt"]
    flipped = stmt["certInfo"][:-1] + bytes([stmt["certInfo"][-1] ^ 1])
    with pytest.raises(AttestationSignatureError):
        register(v, with_att_stmt(v, certInfo=flipped))
    with pytest.raises(ChallengeMismatchError):
        verify_registration(v["credential"], expected_challenge=b"x", expected_origin=v["expected_origin"],
                            expected_rp_id=v["expected_rp_id"])  # fmt: skip


def test_android_key_fido_conformance() -> None:
    v = load("android_key_conformance")
    res = register(v)
    assert res.fmt == "android-key" and res.attestation_type is AttestationType.BASIC and not res.attestation_trusted
    assert res.credential_id == websafe_decode(v["credential"]["rawId"])
    intermediate = res.trust_path[1]
    assert register(v, trust_anchors=TrustAnchors(roots=[intermediate])).attestation_trusted
    sig = att_obj(v)["attStmt"]["sig"]
    with pytest.raises(AttestationSignatureError):
        register(v, with_att_stmt(v, sig=sig[:-1] + bytes([sig[-1] ^ 1])))


def test_apple_passkey_chains_to_apple_root() -> None:
    v = load("apple_passkey")
    apple_root = x509.load_pem_x509_certificate(known_root_certs.apple_webauthn_root_ca)
    res = register(v, trust_anchors=TrustAnchors(by_format={"apple": [apple_root]}))
    assert res.fmt == "apple" and res.attestation_type is AttestationType.ANON_CA and res.attestation_trusted
    assert res.credential_id == websafe_decode(v["credential"]["rawId"])
    with pytest.raises(AttestationCertificateError, match="not valid at"):
        register(v, now=datetime.datetime(2021, 9, 5, tzinfo=datetime.UTC))  # leaf lives three days
    google_root = x509.load_pem_x509_certificate(known_root_certs.globalsign_root_ca)
    with pytest.raises(UntrustedAttestationError):
        register(v, trust_anchors=TrustAnchors(by_format={"apple": [google_root]}))


def test_android_safetynet_chrome_chains_to_globalsign() -> None:
    # the source publishes no RP ID for this one (py_webauthn also checks only the statement), so the
    # statement goes straight to verify_attestation with the clientDataHash of the published clientDataJSON
    v = load("android_safetynet_chrome")
    obj = att_obj(v)
    auth_data = AuthenticatorData(obj["authData"])
    cdh = hashlib.sha256(websafe_decode(v["credential"]["response"]["clientDataJSON"])).digest()
    now = datetime.datetime.fromisoformat(v["now"])

    def check(stmt: dict[str, Any] | None = None, **kw: Any) -> Any:
        kw.setdefault("now", now)
        return verify_attestation("android-safetynet", stmt or obj["attStmt"], auth_data, cdh, **kw)

    globalsign = x509.load_pem_x509_certificate(known_root_certs.globalsign_root_ca)
    res = check(trust_anchors=TrustAnchors(by_format={"android-safetynet": [globalsign]}))
    assert res.type is AttestationType.BASIC and res.trusted
    assert res.trust_path[0].subject.rfc4514_string() == "CN=attest.android.com"
    # the JWS is only fresh for a minute after timestampMs (configurable)
    late = datetime.datetime(2021, 9, 3, 21, 30, tzinfo=datetime.UTC)
    with pytest.raises(AttestationSignatureError, match="timestampMs"):
        check(now=late)
    assert not check(now=late, safetynet_max_age=datetime.timedelta(hours=1)).trusted
    apple_root = x509.load_pem_x509_certificate(known_root_certs.apple_webauthn_root_ca)
    with pytest.raises(UntrustedAttestationError):
        check(trust_anchors=TrustAnchors(roots=[apple_root]))
    with pytest.raises(AttestationSignatureError, match="nonce"):
        verify_attestation("android-safetynet", obj["attStmt"], auth_data, b"\0" * 32, now=now)
    head, payload, sig = obj["attStmt"]["response"].split(b".")
    forged = head + b"." + payload[:-4] + b"AAAA." + sig
    with pytest.raises(AttestationError):
        check({**obj["attStmt"], "response": forged})


def test_fido_u2f_yubikey_through_firefox() -> None:
    v = load("fido_u2f_yubikey")
    res = register(v)
    assert res.fmt == "fido-u2f" and res.attestation_type is AttestationType.BASIC and not res.attestation_trusted
    assert res.aaguid == bytes(16) and res.credential_id == websafe_decode(v["credential"]["rawId"])
    leaf = res.trust_path[0]
    assert "Yubico U2F EE" in leaf.subject.rfc4514_string()
    assert register(v, trust_anchors=TrustAnchors(by_format={"fido-u2f": [leaf]})).attestation_trusted  # pinned
    sig = att_obj(v)["attStmt"]["sig"]
    with pytest.raises(AttestationSignatureError):
        register(v, with_att_stmt(v, sig=sig[:-2] + bytes([sig[-2] ^ 1, sig[-1]])))
