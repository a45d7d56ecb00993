"""python-fido2's ``fido2.attestation`` and ``fido2.mds3`` APIs on aioctap (``aioctap.attestation``, ``aioctap.mds3``).

The names are python-fido2 2.2.1's; the checks are aioctap's (``aioctap.server.attestation``), so these tests look
at the adapter: results, the translation of aioctap's errors into python-fido2's, ``AttestationVerifier`` as
``Fido2Server``'s ``verify_attestation`` hook, the MDS3 dataclasses and ``MdsAttestationVerifier``'s lookups.
python-fido2's own tests of these modules run in tests/interop/test_python_fido2_unit_suite.py.
"""

from __future__ import annotations

import base64
import datetime
import json
from typing import Any

import fido2.attestation
import fido2.attestation.tpm
import fido2.mds3
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, mldsa

import aioctap.attestation
import aioctap.attestation.tpm
import aioctap.mds3
from aioctap.attestation import (
    Attestation,
    AttestationResult,
    AttestationType,
    AttestationVerifier,
    InvalidData,
    InvalidSignature,
    PackedAttestation,
    UnsupportedType,
    UntrustedAttestation,
    verify_x509_chain,
)
from aioctap.attestation.tpm import TpmAttestationFormat, TpmPublicFormat
from aioctap.client import DefaultClientDataCollector, Fido2Client
from aioctap.mds3 import MdsAttestationVerifier, MetadataBlobPayloadEntry, MetadataStatement, StatusReport, parse_blob
from aioctap.server import Fido2Server
from aioctap.server.attestation._common import verify_with_cert
from aioctap.server.errors import AttestationError, AttestationSignatureError, MetadataError
from aioctap.virtual import VirtualAuthenticator, open_virtual_device
from aioctap.webauthn import Aaguid, AttestationObject, AuthenticatorData, RegistrationResponse
from tests.server.test_mds import OTHER_ROOT, ROOT, make_blob

RP = {"id": "example.com", "name": "Example RP"}
USER = {"id": b"user_id", "name": "A. User"}


def _own_names(module: object) -> set[str]:
    """The public names a python-fido2 module defines (or imports from its own submodules)."""
    prefix = getattr(module, "__name__", "")
    return {
        n
        for n in dir(module)
        if not n.startswith("_") and str(getattr(getattr(module, n), "__module__", "")).startswith(prefix)
    }


def test_python_fido2_names_exist() -> None:
    tpm_names = {"TpmAttestationFormat", "TpmPublicFormat", "TpmAttestation"}
    for theirs, ours, wanted in (
        (fido2.attestation, aioctap.attestation, _own_names(fido2.attestation)),
        (fido2.attestation.tpm, aioctap.attestation.tpm, tpm_names),
        (fido2.mds3, aioctap.mds3, _own_names(fido2.mds3)),
    ):
        assert len(wanted) >= 3
        missing = {n for n in wanted if not hasattr(ours, n)}
        assert not missing, f"{ours.__name__} lacks {sorted(missing)} of {theirs.__name__}"
    assert [m.name for m in aioctap.attestation.AttestationType] == [m.name for m in fido2.attestation.AttestationType]
    assert [int(m) for m in aioctap.attestation.AttestationType] == [int(m) for m in fido2.attestation.AttestationType]
    assert {m.value for m in aioctap.mds3.AuthenticatorStatus} == {m.value for m in fido2.mds3.AuthenticatorStatus}


def test_exceptions_are_aioctap_attestation_errors() -> None:
    for cls in (InvalidData, InvalidSignature, UntrustedAttestation, UnsupportedType):
        assert issubclass(cls, aioctap.attestation.InvalidAttestation) and issubclass(cls, AttestationError)
    e = UnsupportedType(None, "x-unknown")
    assert e.fmt == "x-unknown" and "x-unknown" in str(e)


def test_for_type() -> None:
    for fmt in ("none", "packed", "tpm", "android-key", "android-safetynet", "fido-u2f", "apple"):
        cls = Attestation.for_type(fmt)
        assert fmt == cls.FORMAT and issubclass(cls, Attestation)
    assert isinstance(Attestation.for_type("x-unknown")(), aioctap.attestation.UnsupportedAttestation)


async def _register(auth: VirtualAuthenticator) -> tuple[RegistrationResponse, bytes]:
    server = Fido2Server(RP, attestation="direct")
    async with open_virtual_device(authenticator=auth) as dev:
        client = await Fido2Client(dev, DefaultClientDataCollector("https://example.com"))
        options, _ = server.register_begin(USER)
        result = await client.make_credential(options["publicKey"])
    return result, result.response.client_data.hash


async def test_packed_result_and_error_translation() -> None:
    auth = VirtualAuthenticator()
    result, cdh = await _register(auth)
    att = result.response.attestation_object
    res = PackedAttestation().verify(att.att_stmt, att.auth_data, cdh)
    assert isinstance(res, AttestationResult) and res.attestation_type == AttestationType.BASIC
    assert all(isinstance(c, bytes) for c in res.trust_path) and res.trust_path
    verify_x509_chain([*res.trust_path, auth.attestation_root])

    bad_sig = {**att.att_stmt, "sig": b"\x30\x06\x02\x01\x01\x02\x01\x01"}
    with pytest.raises(InvalidSignature):
        PackedAttestation().verify(bad_sig, att.auth_data, cdh)
    with pytest.raises(InvalidData):
        PackedAttestation().verify({**att.att_stmt, "x5c": [b"not a certificate"]}, att.auth_data, cdh)
    with pytest.raises(InvalidData):  # checked at now: the attestation certificate was not valid in 1990
        PackedAttestation().verify(att.att_stmt, att.auth_data, cdh, now=datetime.datetime(1990, 1, 1))
    with pytest.raises(InvalidData):
        verify_x509_chain([b"junk"])
    with pytest.raises(InvalidSignature):  # the root did not sign the leaf... in the other order
        verify_x509_chain([auth.attestation_root, *res.trust_path])


class _Root(AttestationVerifier):
    def __init__(self, root: bytes | None, attestation_types: list[Attestation] | None = None) -> None:
        super().__init__(attestation_types)
        self.root = root
        self.seen: list[AttestationResult] = []

    def ca_lookup(self, attestation_result: AttestationResult, auth_data: AuthenticatorData) -> bytes | None:
        self.seen.append(attestation_result)
        return self.root


def _other_root() -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "Another root")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(1).not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    return cert.public_bytes(serialization.Encoding.DER)


async def test_attestation_verifier_is_fido2_servers_hook() -> None:
    auth = VirtualAuthenticator()
    good, bad, none = _Root(auth.attestation_root), _Root(_other_root()), _Root(None)
    async with open_virtual_device(authenticator=auth) as dev:
        client = await Fido2Client(dev, DefaultClientDataCollector("https://example.com"))
        for verifier, error in ((good, None), (bad, UntrustedAttestation), (none, UntrustedAttestation)):
            server = Fido2Server(RP, attestation="direct", verify_attestation=verifier)
            options, state = server.register_begin(USER)
            result = await client.make_credential(options["publicKey"])
            if error is None:
                assert server.register_complete(state, result).credential_data is not None
                assert verifier.seen[-1].attestation_type == AttestationType.BASIC
            else:
                with pytest.raises(error):
                    server.register_complete(state, result)


async def test_attestation_verifier_unsupported_format() -> None:
    result, cdh = await _register(VirtualAuthenticator())
    att = result.response.attestation_object
    with pytest.raises(UnsupportedType) as info:
        _Root(None).verify_attestation(AttestationObject.create("x-unknown", att.auth_data, {}), cdh)
    assert info.value.fmt == "x-unknown"


def test_tpm_parsers() -> None:
    with pytest.raises(ValueError, match=r"Not enough data to read \(need: 2, had: 1\)\."):
        TpmAttestationFormat.parse(bytes.fromhex("ff544347801700"))
    with pytest.raises(ValueError):
        TpmPublicFormat.parse(bytes.fromhex("0099"))


# -- MDS3 ---------------------------------------------------------------------------------------------------------


def _jws(payload: dict[str, Any]) -> tuple[bytes, bytes]:
    """A BLOB of ``payload`` signed under test_mds's root, and that root (DER)."""
    return make_blob([], body=json.dumps(payload).encode()).encode(), ROOT.public_bytes(serialization.Encoding.DER)


async def test_mds_verifier_over_a_blob() -> None:
    auth = VirtualAuthenticator()
    result, cdh = await _register(auth)
    aaguid = result.response.attestation_object.auth_data.credential_data.aaguid
    statement = {
        "description": "the software authenticator", "authenticatorVersion": 1, "schema": 3,
        "upv": [{"major": 1, "minor": 1}], "attestationTypes": ["basic_full"],
        "userVerificationDetails": [[{"userVerificationMethod": "presence_internal"}]],
        "keyProtection": ["software"], "matcherProtection": ["software"], "attachmentHint": ["external"],
        "tcDisplay": [], "attestationRootCertificates": [base64.b64encode(auth.attestation_root).decode()],
        "aaguid": str(Aaguid(aaguid)),
    }  # fmt: skip
    entry = {
        "aaguid": str(Aaguid(aaguid)), "metadataStatement": statement,
        "statusReports": [{"status": "FIDO_CERTIFIED_L1", "effectiveDate": "2024-01-01"}],
        "timeOfLastStatusChange": "2024-01-01",
    }  # fmt: skip
    next_update = (datetime.date.today() + datetime.timedelta(days=10)).isoformat()
    blob, root = _jws({"legalHeader": "test", "no": 3, "nextUpdate": next_update, "entries": [entry]})

    payload = parse_blob(blob, root)
    assert payload.no == 3 and payload.next_update.isoformat() == next_update
    (found,) = payload.entries
    assert isinstance(found, MetadataBlobPayloadEntry) and isinstance(found.metadata_statement, MetadataStatement)
    assert found.aaguid == aaguid and found.metadata_statement.attestation_root_certificates == [auth.attestation_root]
    assert isinstance(found.status_reports[0], StatusReport)
    assert found.status_reports[0].status == aioctap.mds3.AuthenticatorStatus.FIDO_CERTIFIED_L1
    assert found.status_reports[0].effective_date == datetime.date(2024, 1, 1)
    assert json.loads(json.dumps(dict(found))) == entry  # item access gives the BLOB's JSON back
    assert MetadataBlobPayloadEntry.from_dict(dict(found))["aaguid"] == str(Aaguid(aaguid))

    mds = MdsAttestationVerifier(payload)
    assert mds.find_entry_by_aaguid(aaguid) is found
    assert mds.find_entry(result.response.attestation_object, cdh) is found
    Fido2Server(RP, attestation="direct", verify_attestation=mds)  # the hook's type

    revoked = {**entry, "statusReports": [{"status": "REVOKED"}]}
    blob2, root2 = _jws({"legalHeader": "", "no": 4, "nextUpdate": next_update, "entries": [revoked]})
    mds2 = MdsAttestationVerifier(parse_blob(blob2, root2))
    assert mds2.find_entry_by_aaguid(aaguid) is None  # filter_revoked by default
    with pytest.raises(UntrustedAttestation):
        mds2.verify_attestation(result.response.attestation_object, cdh)

    bypass = {**entry, "statusReports": [{"status": "USER_VERIFICATION_BYPASS", "effectiveDate": "2024-02-01"}]}
    blob3, root3 = _jws({"legalHeader": "", "no": 5, "nextUpdate": next_update, "entries": [bypass]})
    mds3 = MdsAttestationVerifier(parse_blob(blob3, root3), entry_filter=None, attestation_filter=None)
    assert mds3.find_entry_by_aaguid(aaguid) is not None  # found, but aioctap's status rule refuses it
    with pytest.raises(UntrustedAttestation, match="USER_VERIFICATION_BYPASS"):
        mds3.verify_attestation(result.response.attestation_object, cdh)
    assert mds3.find_entry(result.response.attestation_object, cdh) is None

    with pytest.raises(MetadataError):
        parse_blob(blob, None)  # aioctap verifies every BLOB
    with pytest.raises(MetadataError):
        parse_blob(blob, OTHER_ROOT.public_bytes(serialization.Encoding.DER))  # another root
    stale, root4 = _jws({"legalHeader": "", "no": 6, "nextUpdate": "2020-01-01", "entries": [entry]})
    with pytest.raises(MetadataError, match="stale"):
        parse_blob(stale, root4)
    assert parse_blob(stale, root4, allow_expired=True).no == 6


@pytest.mark.parametrize(
    ("cls", "alg"), [(mldsa.MLDSA44PrivateKey, -48), (mldsa.MLDSA65PrivateKey, -49), (mldsa.MLDSA87PrivateKey, -50)]
)
def test_ml_dsa_attestation_keys(cls: Any, alg: int) -> None:
    """x5c formats verify an ML-DSA attestation signature when alg names the certificate key's parameter set."""
    key = cls.generate()
    name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "ML-DSA attestation")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(1).not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1)).sign(key, None)
    )  # fmt: skip
    verify_with_cert(cert, alg, key.sign(b"data"), b"data")
    with pytest.raises(AttestationSignatureError):
        verify_with_cert(cert, alg, key.sign(b"other"), b"data")
    with pytest.raises(AttestationSignatureError):  # another parameter set than the key's
        verify_with_cert(cert, -48 if alg != -48 else -50, key.sign(b"data"), b"data")
    with pytest.raises(AttestationSignatureError):
        verify_with_cert(cert, -7, key.sign(b"data"), b"data")


async def test_attestation_verifier_with_a_python_fido2_style_attestation_type() -> None:
    """A user's Attestation subclass written for python-fido2 (verify without ``now``) still plugs in."""
    auth = VirtualAuthenticator()
    result, cdh = await _register(auth)
    calls: list[str] = []

    class MyPacked(Attestation):
        def verify(self, statement: Any, auth_data: Any, client_data_hash: bytes) -> AttestationResult:  # type: ignore[override]
            calls.append("verify")
            return PackedAttestation().verify(statement, auth_data, client_data_hash)

    MyPacked.FORMAT = "packed"
    verifier = _Root(auth.attestation_root, [MyPacked()])
    verifier(result.response.attestation_object, cdh)
    assert calls == ["verify"]
