"""An attacker's inputs to python-fido2's attestation and MDS3 adapters (aioctap.attestation, aioctap.mds3): MDS3
JSON of the wrong shape (wrong types, missing members, huge numbers, deep nesting, unknown enum values) and an
AttestationVerifier whose ca_lookup answers garbage. Each is a typed error saying what was wrong (ValueError from
a dataclass's from_dict, MetadataError from parse_blob, an InvalidAttestation from a verifier), never a bare
TypeError/KeyError/RecursionError."""

from __future__ import annotations

import base64
import datetime
import json
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aioctap.attestation import AttestationResult, AttestationVerifier, InvalidAttestation, UntrustedAttestation
from aioctap.client import DefaultClientDataCollector, Fido2Client
from aioctap.mds3 import (
    AuthenticatorStatus,
    BiometricAccuracyDescriptor,
    DisplayPngCharacteristicsDescriptor,
    MdsAttestationVerifier,
    MetadataBlobPayloadEntry,
    MetadataStatement,
    StatusReport,
    parse_blob,
)
from aioctap.server import Fido2Server
from aioctap.server.errors import MetadataError
from aioctap.virtual import VirtualAuthenticator, open_virtual_device
from aioctap.webauthn import AuthenticatorData
from tests.server.test_mds import ROOT, make_blob

RP = {"id": "example.com", "name": "Example RP"}
USER = {"id": b"user_id", "name": "A. User"}
SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

STATEMENT: dict[str, Any] = {
    "description": "an authenticator", "authenticatorVersion": 1, "schema": 3,
    "upv": [{"major": 1, "minor": 1}], "attestationTypes": ["basic_full"],
    "userVerificationDetails": [[{"userVerificationMethod": "presence_internal"}]],
    "keyProtection": ["software"], "matcherProtection": ["software"], "attachmentHint": ["external"],
    "tcDisplay": [], "attestationRootCertificates": [], "aaguid": "01010101-0101-0101-0101-010101010101",
}  # fmt: skip
ENTRY: dict[str, Any] = {
    "aaguid": "01010101-0101-0101-0101-010101010101", "metadataStatement": STATEMENT,
    "statusReports": [{"status": "FIDO_CERTIFIED_L1", "effectiveDate": "2024-01-01"}],
    "timeOfLastStatusChange": "2024-01-01",
}  # fmt: skip


def test_the_entry_parses() -> None:
    assert MetadataBlobPayloadEntry.from_dict(ENTRY).metadata_statement is not None


def _deep(levels: int) -> Any:
    value: Any = 1
    for _ in range(levels):
        value = [value]
    return value


BAD_MEMBERS: list[tuple[str, Any]] = [
    ("aaguid", "not a uuid"), ("aaguid", 5), ("aaguid", ["x"]), ("aaguid", "0" * 31),
    ("statusReports", "x"), ("statusReports", [5]), ("statusReports", [{}]),
    ("statusReports", [{"status": "REVOKED", "effectiveDate": "2024-13-45"}]),
    ("statusReports", [{"status": "REVOKED", "certificate": "@@@"}]),
    ("statusReports", [{"status": "REVOKED", "authenticatorVersion": "one"}]),
    ("statusReports", {"status": "REVOKED"}),
    ("timeOfLastStatusChange", 20240101), ("timeOfLastStatusChange", "yesterday"),
    ("attestationCertificateKeyIdentifiers", ["zz"]), ("attestationCertificateKeyIdentifiers", "00"),
    ("attestationCertificateKeyIdentifiers", [1]), ("rogueListHash", "0"), ("rogueListHash", 5),
    ("metadataStatement", []), ("metadataStatement", "x"), ("metadataStatement", {}),
    ("metadataStatement", {**STATEMENT, "upv": [{"major": "1", "minor": 1}]}),
    ("metadataStatement", {**STATEMENT, "upv": _deep(5000)}),
    ("metadataStatement", {**STATEMENT, "userVerificationDetails": [[5]]}),
    ("metadataStatement", {**STATEMENT, "userVerificationDetails": _deep(3000)}),
    ("metadataStatement", {**STATEMENT, "attestationRootCertificates": ["%%%"]}),
    ("metadataStatement", {**STATEMENT, "attestationRootCertificates": "AAAA"}),
    ("metadataStatement", {**STATEMENT, "friendlyNames": {"en": 5}}),
    ("metadataStatement", {**STATEMENT, "friendlyNames": ["x"]}),
    ("metadataStatement", {**STATEMENT, "authenticatorVersion": "1"}),
    ("metadataStatement", {**STATEMENT, "authenticatorVersion": 1.5}),
    ("metadataStatement", {**STATEMENT, "tcDisplayPNGCharacteristics": [{"width": 1}]}),
    ("metadataStatement", {**STATEMENT, "isKeyRestricted": "yes"}),
    # kept as JSON and walked recursively by item access: 400 levels were a RecursionError in dict(entry)
    ("metadataStatement", {**STATEMENT, "authenticatorGetInfo": {"x": _deep(400)}}),
    ("metadataStatement", {**STATEMENT, "authenticatorGetInfo": {"x": _deep(16)}}),
    ("metadataStatement", {**STATEMENT, "authenticatorGetInfo": [1]}),
    ("biometricStatusReports", [{"certLevel": 1}]),
]  # fmt: skip


@pytest.mark.parametrize(("member", "value"), BAD_MEMBERS)
def test_malformed_entry_member(member: str, value: Any) -> None:
    with pytest.raises(ValueError):
        MetadataBlobPayloadEntry.from_dict({**ENTRY, member: value})


@pytest.mark.parametrize("member", ["statusReports", "timeOfLastStatusChange"])
def test_missing_required_member(member: str) -> None:
    with pytest.raises(ValueError, match="status"):
        MetadataBlobPayloadEntry.from_dict({k: v for k, v in ENTRY.items() if k != member})


def test_get_info_is_kept_as_json() -> None:
    info = {"versions": ["FIDO_2_0"], "options": {"rk": True}, "x": _deep(14)}
    entry = MetadataBlobPayloadEntry.from_dict(
        {**ENTRY, "metadataStatement": {**STATEMENT, "authenticatorGetInfo": info}}
    )
    assert entry.metadata_statement is not None and entry.metadata_statement.authenticator_get_info == info
    assert dict(entry)["metadataStatement"]["authenticatorGetInfo"] == info


def test_unknown_status_and_huge_numbers() -> None:
    # python-fido2 ignores a status it does not know (MDS3 may add statuses; a non-string one too, as
    # webauthn's enumerations do); integers are JSON's, of any size
    report = StatusReport.from_dict({"status": "SOMETHING_NEW", "authenticatorVersion": 10**400})
    assert report.status is None and report.authenticator_version == 10**400
    assert StatusReport.from_dict({"status": "REVOKED"}).status == AuthenticatorStatus.REVOKED
    assert BiometricAccuracyDescriptor.from_dict({"selfAttestedFRR": 10**300}).self_attested_frr == 1e300
    for bad in ("1", True, [1], {"x": 1}, 10**400):  # 10**400: no float (was an OverflowError)
        with pytest.raises(ValueError):
            BiometricAccuracyDescriptor.from_dict({"selfAttestedFRR": bad})
    with pytest.raises(ValueError):
        DisplayPngCharacteristicsDescriptor.from_dict({"width": 1})


_json = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=6)),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)),
    max_leaves=15,
)
_keys = st.sampled_from([*ENTRY, *STATEMENT, "status", "effectiveDate", "certificate", "major", "minor", "x"])


@SETTINGS
@given(st.dictionaries(_keys, _json, max_size=6), st.dictionaries(_keys, _json, max_size=6))
def test_entry_of_any_json(entry_changes: dict[str, Any], statement_changes: dict[str, Any]) -> None:
    entry = {**ENTRY, **entry_changes}
    if "metadataStatement" not in entry_changes:
        entry["metadataStatement"] = {**STATEMENT, **statement_changes}
    try:
        parsed = MetadataBlobPayloadEntry.from_dict(entry)
    except ValueError:
        return
    dict(parsed)
    repr(parsed)


@SETTINGS
@given(st.dictionaries(_keys, _json, max_size=8))
def test_statement_of_any_json(statement: dict[str, Any]) -> None:
    try:
        MetadataStatement.from_dict(statement)
    except ValueError:
        pass


# -- parse_blob: a verified BLOB whose entries are malformed ----------------------------------------------


def _jws(payload: object) -> tuple[bytes, bytes]:
    """A BLOB of ``payload`` (JSON, or bytes as they are) signed under test_mds's root, and that root (DER)."""
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return make_blob([], body=body).encode(), ROOT.public_bytes(serialization.Encoding.DER)


NEXT = (datetime.date.today() + datetime.timedelta(days=10)).isoformat()


@pytest.mark.parametrize(
    "payload",
    [
        {"legalHeader": "", "no": 1, "nextUpdate": NEXT, "entries": [{**ENTRY, "statusReports": [{"status": 5}]}]},
        {"legalHeader": "", "no": 1, "nextUpdate": NEXT, "entries": [{**ENTRY, "timeOfLastStatusChange": 5}]},
        {"legalHeader": "", "no": 1, "nextUpdate": NEXT, "entries": [{**ENTRY, "metadataStatement": {"upv": 5}}]},
        {"legalHeader": "", "no": 1, "nextUpdate": NEXT, "entries": [5]},
        {"legalHeader": "", "no": 1, "nextUpdate": NEXT, "entries": {}},
        {"legalHeader": 5, "no": 1, "nextUpdate": NEXT, "entries": []},
        {"legalHeader": "", "no": "1", "nextUpdate": NEXT, "entries": []},
        {"legalHeader": "", "no": 1, "nextUpdate": "soon", "entries": []},
        [],
        b'{"legalHeader": "", "no": 1, "nextUpdate": "' + NEXT.encode() + b'", "entries": ' + b"[" * 100_000,
        b'{"legalHeader": "", "no": 1e999999, "nextUpdate": "' + NEXT.encode() + b'", "entries": []}',
        b"\xff\xfe",
    ],
)
def test_parse_blob_with_malformed_payload(payload: object) -> None:
    blob, root = _jws(payload)
    with pytest.raises(MetadataError):
        parse_blob(blob, root)


@pytest.mark.parametrize("root", [b"", b"junk", b"\x30\x03\x02\x01\x01"])
def test_parse_blob_with_a_bad_root(root: bytes) -> None:
    blob, _ = _jws({"legalHeader": "", "no": 1, "nextUpdate": NEXT, "entries": []})
    with pytest.raises(MetadataError):
        parse_blob(blob, root)


@pytest.mark.parametrize("blob", [b"", b"a.b", b"a.b.c", b"...", b"\xff.\xff.\xff", "x.y.z"])
def test_parse_blob_with_garbage(blob: Any) -> None:
    _, root = _jws({})
    with pytest.raises(MetadataError):
        parse_blob(blob, root)


# -- AttestationVerifier: a ca_lookup that answers garbage ------------------------------------------------


class _Lookup(AttestationVerifier):
    def __init__(self, answer: object) -> None:
        super().__init__()
        self.answer = answer

    def ca_lookup(self, attestation_result: AttestationResult, auth_data: AuthenticatorData) -> bytes | None:
        return self.answer  # type: ignore[return-value]


@pytest.fixture(scope="module")
def registration() -> Any:
    import asyncio

    async def register() -> Any:
        server = Fido2Server(RP, attestation="direct")
        async with open_virtual_device(authenticator=VirtualAuthenticator()) as dev:
            client = await Fido2Client(dev, DefaultClientDataCollector("https://example.com"))
            options, _ = server.register_begin(USER)
            result = await client.make_credential(options["publicKey"])
        return result.response.attestation_object, result.response.client_data.hash

    return asyncio.run(register())


@pytest.mark.parametrize(
    "answer",
    [b"junk", "a string", 5, [b"\x30"], object(), bytearray(b"\x30\x03\x02\x01\x01"), b"\x30\x80", memoryview(b"x")],
)
def test_ca_lookup_answering_garbage(registration: Any, answer: object) -> None:
    att, cdh = registration
    with pytest.raises(UntrustedAttestation):
        _Lookup(answer).verify_attestation(att, cdh)


def test_mds_verifier_with_an_entry_built_from_any_dict(registration: Any) -> None:
    att, cdh = registration
    aaguid = str(att.auth_data.credential_data.aaguid)
    # an entry made by hand (python-fido2 programs build them): roots that are not certificates
    entry = {**ENTRY, "aaguid": aaguid, "metadataStatement": {**STATEMENT, "aaguid": aaguid,
             "attestationRootCertificates": [base64.b64encode(b"junk").decode()]}}  # fmt: skip
    payload = type("P", (), {"entries": [MetadataBlobPayloadEntry.from_dict(entry)]})()
    with pytest.raises(InvalidAttestation):
        MdsAttestationVerifier(payload).verify_attestation(att, cdh)


def test_parse_blob_with_a_number_beyond_float() -> None:
    # a verified BLOB whose entry's selfAttestedFRR is an integer of 400 digits: was a bare OverflowError
    desc = {"userVerificationMethod": "fingerprint_internal", "baDesc": {"selfAttestedFRR": 10**400}}
    entry = {**ENTRY, "metadataStatement": {**STATEMENT, "userVerificationDetails": [[desc]]}}
    blob, root = _jws({"legalHeader": "", "no": 1, "nextUpdate": NEXT, "entries": [entry]})
    with pytest.raises(MetadataError, match="out of range"):
        parse_blob(blob, root)


def test_a_python_fido2_attestation_giving_a_trust_path_of_garbage(registration: Any) -> None:
    att, cdh = registration

    class Garbage:
        FORMAT = att.fmt

        def verify(self, statement: Any, auth_data: Any, client_data_hash: bytes) -> AttestationResult:
            return AttestationResult(1, ["not DER", 5])  # type: ignore[arg-type, list-item]

    verifier = _Lookup(b"junk")
    verifier._attestation_types = [Garbage()]  # type: ignore[list-item]
    with pytest.raises(UntrustedAttestation, match="str, not DER"):
        verifier.verify_attestation(att, cdh)
    # MdsAttestationVerifier's ca_lookup loads the trust path's certificates: it never sees the str
    entry = MetadataBlobPayloadEntry.from_dict({**ENTRY, "aaguid": str(att.auth_data.credential_data.aaguid)})
    payload = type("P", (), {"entries": [entry]})()
    mds = MdsAttestationVerifier(payload, attestation_types=[Garbage()])  # type: ignore[list-item]
    with pytest.raises(UntrustedAttestation, match="str, not DER"):
        mds.verify_attestation(att, cdh)
