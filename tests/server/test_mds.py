"""FIDO MDS3 metadata BLOB: a BLOB made and signed here by a test CA, verified against that root, looked up
by AAGUID and key identifier, and used by verify_registration for trust anchors and status checks."""

from __future__ import annotations

import base64
import datetime
import json
import os
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID

from aioctap.client import WebAuthnClient
from aioctap.server import (
    AuthenticatorStatus,
    MetadataBlob,
    TrustAnchors,
    parse_metadata_blob,
    verify_registration,
)
from aioctap.server.errors import AuthenticatorStatusError, MetadataError, UntrustedAttestationError
from aioctap.server.mds import key_identifier
from aioctap.virtual import VirtualAuthenticator, open_virtual_device
from aioctap.webauthn import Aaguid, websafe_encode

NOW = datetime.datetime.now(datetime.UTC)
ORIGIN, RP_ID = "https://example.com", "example.com"


def _cert(cn: str, key: Any, issuer: tuple[Any, x509.Certificate] | None, ca: bool) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer[1].subject if issuer else name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - datetime.timedelta(days=1))
        .not_valid_after(NOW + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .sign(issuer[0] if issuer else key, hashes.SHA256())
    )


ROOT_KEY = ec.generate_private_key(ec.SECP256R1())
ROOT = _cert("Test MDS Root", ROOT_KEY, None, True)
SIGNER_KEY = ec.generate_private_key(ec.SECP256R1())
SIGNER = _cert("Test MDS Signer", SIGNER_KEY, (ROOT_KEY, ROOT), False)
OTHER_KEY = ec.generate_private_key(ec.SECP256R1())
OTHER_ROOT = _cert("Other Root", OTHER_KEY, None, True)


def _b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _der_b64(cert: x509.Certificate) -> str:
    return base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()


def make_blob(
    entries: list[dict[str, Any]],
    *,
    next_update: datetime.date | None = None,
    key: Any = SIGNER_KEY,
    chain: tuple[x509.Certificate, ...] = (SIGNER,),
    payload: dict[str, Any] | None = None,
    body: bytes | None = None,
) -> str:
    """A BLOB signed (ES256, r||s) by ``key`` with ``chain`` in its header; ``body``: the payload's bytes as given
    (malformed ones too) instead of the JSON of ``entries``, ``next_update`` and ``payload``."""
    header = {"alg": "ES256", "typ": "JWT", "x5c": [_der_b64(c) for c in chain]}
    if body is None:
        body = json.dumps({
            "legalHeader": "test",
            "no": 7,
            "nextUpdate": (next_update or (NOW + datetime.timedelta(days=7)).date()).isoformat(),
            "entries": entries,
            **(payload or {}),
        }).encode()  # fmt: skip
    signing_input = f"{_b64u(json.dumps(header).encode())}.{_b64u(body)}"
    r, s = decode_dss_signature(key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256())))
    return f"{signing_input}.{_b64u(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


def entry(
    aaguid: str | None, roots: list[x509.Certificate], *statuses: tuple[str, str], **extra: Any
) -> dict[str, Any]:
    e: dict[str, Any] = {
        "metadataStatement": {
            "description": "test authenticator",
            "attestationRootCertificates": [_der_b64(r) for r in roots],
        },
        "statusReports": [{"status": s, "effectiveDate": d} for s, d in statuses],
        "timeOfLastStatusChange": "2024-01-01",
        **extra,
    }
    if aaguid is not None:
        e["aaguid"] = aaguid
    return e


def test_blob_verifies_and_looks_up() -> None:
    aaguid = "0132d110-bf4e-4208-a403-ab4f5f12efe5"
    kid = key_identifier(OTHER_ROOT)
    token = make_blob(
        [
            entry(aaguid, [OTHER_ROOT], ("FIDO_CERTIFIED", "2023-01-01"), ("REVOKED", "2099-01-01")),
            entry(
                None,
                [OTHER_ROOT],
                ("FIDO_CERTIFIED_L1", "2023-01-01"),
                attestationCertificateKeyIdentifiers=[kid.hex()],
            ),
        ]
    )
    blob = parse_metadata_blob(token, ROOT, now=NOW)
    assert blob.no == 7 and len(blob.entries) == 2 and blob.legal_header == "test"
    found = blob.entry_for(Aaguid.parse(aaguid))
    assert found is not None and found.attestation_roots == (OTHER_ROOT,)
    assert found.status_at(NOW.date()) == AuthenticatorStatus.FIDO_CERTIFIED  # REVOKED only from 2099
    assert found.status_at(datetime.date(2099, 6, 1)) == AuthenticatorStatus.REVOKED
    assert blob.entry_for(Aaguid.NONE, OTHER_ROOT) is blob.entries[1]
    assert blob.entry_for(Aaguid(os.urandom(16))) is None
    assert blob.trust_anchors(found).roots == [OTHER_ROOT]
    MetadataBlob.check_status(found, NOW.date())
    with pytest.raises(AuthenticatorStatusError, match="REVOKED"):
        MetadataBlob.check_status(found, datetime.date(2099, 6, 1))
    # the signer's chain may carry the root itself, and the root may be given as a list
    assert parse_metadata_blob(make_blob([], chain=(SIGNER, ROOT)), [OTHER_ROOT, ROOT], now=NOW).entries == ()


def test_blob_rejections() -> None:
    good = make_blob([])
    with pytest.raises(MetadataError, match="trusted root"):
        parse_metadata_blob(good, OTHER_ROOT, now=NOW)
    with pytest.raises(MetadataError):
        parse_metadata_blob(good, [], now=NOW)
    head, body, sig = good.split(".")
    tampered = json.loads(base64.urlsafe_b64decode(body + "=="))
    tampered["no"] = 8
    with pytest.raises(MetadataError, match="signature"):
        parse_metadata_blob(f"{head}.{_b64u(json.dumps(tampered).encode())}.{sig}", ROOT, now=NOW)
    with pytest.raises(MetadataError, match="signature"):
        parse_metadata_blob(make_blob([], key=OTHER_KEY), ROOT, now=NOW)
    stale = make_blob([], next_update=datetime.date(2020, 1, 1))
    with pytest.raises(MetadataError, match="stale"):
        parse_metadata_blob(stale, ROOT, now=NOW)
    assert parse_metadata_blob(stale, ROOT, now=NOW, allow_expired=True).next_update == datetime.date(2020, 1, 1)
    with pytest.raises(MetadataError, match="not valid at"):
        parse_metadata_blob(good, ROOT, now=NOW + datetime.timedelta(days=60), allow_expired=True)
    for bad in (
        "a.b",
        good + "x",
        b"\xff.\xfe.\xfd",
        make_blob([], payload={"entries": {}}),
        make_blob([], payload={"no": "7"}),
        make_blob([], payload={"nextUpdate": "soon"}),
        make_blob([{"aaguid": "nope", "statusReports": []}]),
        make_blob([{"statusReports": "x"}]),
        make_blob([entry(None, [], ("REVOKED", "yesterday"))]),
        make_blob([{"statusReports": [], "attestationCertificateKeyIdentifiers": ["zz"]}]),
    ):
        with pytest.raises(MetadataError):
            parse_metadata_blob(bad, ROOT, now=NOW)


@pytest.fixture
async def registration() -> Any:
    auth = VirtualAuthenticator()
    async with open_virtual_device(authenticator=auth) as dev:
        challenge = os.urandom(32)
        reg = await WebAuthnClient(dev, ORIGIN).create(
            {
                "rp": {"id": RP_ID, "name": "Example"},
                "user": {"id": websafe_encode(b"u"), "name": "u", "displayName": "U"},
                "challenge": websafe_encode(challenge),
                "pubKeyCredParams": [{"type": "public-key", "alg": -7}],
                "attestation": "direct",
            }
        )
    return reg, challenge, auth


async def test_verify_registration_with_metadata(registration: Any) -> None:
    reg, challenge, auth = registration
    aaguid = str(Aaguid(auth.state.aaguid))
    root = x509.load_der_x509_certificate(auth.attestation_root)

    def register(blob: MetadataBlob, **kw: Any) -> Any:
        return verify_registration(
            reg, expected_challenge=challenge, expected_origin=ORIGIN, expected_rp_id=RP_ID, metadata=blob, **kw
        )

    certified = parse_metadata_blob(
        make_blob([entry(aaguid, [root], ("FIDO_CERTIFIED_L1", "2024-01-01"))]), ROOT, now=NOW
    )
    result = register(certified)
    assert result.attestation_trusted and str(result.aaguid) == aaguid
    # the metadata roots add to the anchors the caller gives
    assert register(certified, trust_anchors=TrustAnchors(roots=[OTHER_ROOT])).attestation_trusted
    revoked = parse_metadata_blob(
        make_blob(
            [entry(aaguid, [root], ("FIDO_CERTIFIED", "2024-01-01"), ("ATTESTATION_KEY_COMPROMISE", "2025-01-01"))]
        ),
        ROOT,
        now=NOW,
    )
    with pytest.raises(AuthenticatorStatusError, match="ATTESTATION_KEY_COMPROMISE"):
        register(revoked)
    assert register(revoked, rejected_statuses=frozenset()).attestation_trusted
    wrong_root = parse_metadata_blob(make_blob([entry(aaguid, [OTHER_ROOT])]), ROOT, now=NOW)
    with pytest.raises(UntrustedAttestationError):
        register(wrong_root)
    unknown = parse_metadata_blob(make_blob([]), ROOT, now=NOW)
    with pytest.raises(UntrustedAttestationError):
        register(unknown)
    assert register(unknown, trust_anchors=TrustAnchors(roots=[root])).attestation_trusted
