"""Write the seed corpora ``fuzz/corpus/<target>/`` from real exchanges.

    python3 fuzz/make_corpus.py

The software authenticator and aioctap's own client, server and OTP code produce every seed, so
each fuzzer starts from valid structure: real CTAPHID frames, CTAP2 requests and responses, U2F
APDUs, attestation objects, WebAuthn JSON, otpauth URIs and API bodies. Seeds use the constants of
``targets.py`` (challenges, origin, the virtual authenticator's master key) so they pass the checks
each target makes. Each corpus directory is rewritten from scratch.
"""

from __future__ import annotations

import asyncio
import datetime
import hashlib
import json
import shutil
import struct
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from targets import (  # noqa: E402
    AUTH_CHALLENGE,
    HOST_CID,
    HOST_NONCE,
    ORIGIN,
    REG_CHALLENGE,
    RP_ID,
    VIRTUAL_MASTER_KEY,
    VIRTUAL_PIN,
    _harness_key,
    join_records,
)

from aioctap import cbor  # noqa: E402
from aioctap.ctap import CtapDevice, KeepaliveCallback  # noqa: E402
from aioctap.ctap2.base import Ctap2  # noqa: E402
from aioctap.hid.protocol import BROADCAST_CID, CTAPHID, InitResponse, frame  # noqa: E402
from aioctap.webauthn import websafe_decode, websafe_encode  # noqa: E402

CORPUS = HERE / "corpus"

Seeds = dict[str, list[bytes]]


class RecordingDevice(CtapDevice):
    """Forwards every call to a real device and keeps (cmd, request, response)."""

    def __init__(self, inner: CtapDevice) -> None:
        self.inner = inner
        self.calls: list[tuple[int, bytes, bytes]] = []

    @property
    def capabilities(self) -> int:
        return self.inner.capabilities

    async def call(self, cmd: int, data: bytes = b"", *, on_keepalive: KeepaliveCallback | None = None) -> bytes:
        response = await self.inner.call(cmd, data, on_keepalive=on_keepalive)
        self.calls.append((cmd, data, response))
        return response

    def take(self) -> list[tuple[int, bytes, bytes]]:
        calls, self.calls = self.calls, []
        return calls


def _add(seeds: Seeds, name: str, *data: bytes) -> None:
    seeds.setdefault(name, []).extend(data)


def _creation(challenge: bytes, **extra: Any) -> dict[str, Any]:
    options: dict[str, Any] = {
        "rp": {"id": RP_ID, "name": "Example"},
        "user": {"id": websafe_encode(b"user-1"), "name": "alice", "displayName": "Alice"},
        "challenge": websafe_encode(challenge),
        "pubKeyCredParams": [{"type": "public-key", "alg": -7}, {"type": "public-key", "alg": -8}],
        "attestation": "direct",
    }
    options.update(extra)
    return options


async def webauthn_seeds(seeds: Seeds) -> None:
    """Registrations and assertions through the client: JSON, CTAP2 traffic, attestation objects."""
    from aioctap.client import WebAuthnClient
    from aioctap.server import verify_registration
    from aioctap.virtual import VirtualAuthenticator, open_virtual_device

    for attestation in ("packed", "self", "none"):
        auth = VirtualAuthenticator(attestation=attestation)
        auth.state.master_key = VIRTUAL_MASTER_KEY
        async with open_virtual_device(authenticator=auth) as dev:
            rec = RecordingDevice(dev)
            client = WebAuthnClient(rec, ORIGIN, pin=VIRTUAL_PIN)
            variants: list[dict[str, Any]] = [
                {},
                {"authenticatorSelection": {"residentKey": "required"},
                 "extensions": {"credProps": True, "credProtect": 2, "hmacCreateSecret": True}},
                {"pubKeyCredParams": [{"type": "public-key", "alg": -8}], "attestation": "none"},
            ]  # fmt: skip
            for extra in variants:
                try:
                    reg = await client.create(_creation(REG_CHALLENGE, **extra))
                except Exception as e:  # an extension the client does not know: keep the other seeds
                    print(f"  registration variant {extra} failed: {type(e).__name__}: {e}")
                    rec.take()
                    continue
                _traffic(seeds, rec.take())
                _add(seeds, "verify_registration", json.dumps(reg).encode())
                response = reg["response"]
                _add(seeds, "client_data", websafe_decode(response["clientDataJSON"]))
                att_obj = cbor.loads(websafe_decode(response["attestationObject"]), strict=False)
                att_obj["clientDataHash"] = hashlib.sha256(websafe_decode(response["clientDataJSON"])).digest()
                _add(seeds, "attestation", cbor.dumps(att_obj))
                _add(seeds, "authenticator_data", att_obj["authData"])
                result = verify_registration(
                    reg, expected_challenge=REG_CHALLENGE, expected_origin=ORIGIN, expected_rp_id=RP_ID
                )
                _add(seeds, "cose", result.credential_public_key)
                request: dict[str, Any] = {"challenge": websafe_encode(AUTH_CHALLENGE), "rpId": RP_ID}
                if "authenticatorSelection" not in extra:
                    request["allowCredentials"] = [{"type": "public-key", "id": reg["id"]}]
                assertion = await client.get(request)
                _traffic(seeds, rec.take())
                _add(seeds, "client_data", websafe_decode(assertion["response"]["clientDataJSON"]))
                _add(seeds, "authenticator_data", websafe_decode(assertion["response"]["authenticatorData"]))
                with_key = {**assertion, "_publicKey": websafe_encode(result.credential_public_key)}
                _add(seeds, "verify_authentication", json.dumps(with_key).encode())


def _traffic(seeds: Seeds, calls: list[tuple[int, bytes, bytes]]) -> None:
    """CTAP2 requests (virtual_ctap2 seeds), responses (cbor seeds), framed responses (ctaphid_host)."""
    for cmd, request, response in calls:
        if cmd != CTAPHID.CBOR:
            continue
        _add(seeds, "virtual_ctap2", b"\x00" + request)
        if len(response) > 1:
            _add(seeds, "cbor", response[1:])
        packets = frame(HOST_CID, CTAPHID.KEEPALIVE, b"\x01") + frame(HOST_CID, CTAPHID.CBOR, response)
        _add(seeds, "ctaphid_host", host_records(packets))


async def ctap2_response_seeds(seeds: Seeds) -> None:
    """Real authenticator responses for each scenario of the ctap2_response target."""
    from aioctap.ctap2.bio import FPBioEnrollment
    from aioctap.ctap2.blob import LargeBlobs
    from aioctap.ctap2.credman import CredentialManagement
    from aioctap.ctap2.pin import ClientPin, PinProtocolV1, PinProtocolV2
    from aioctap.virtual import VirtualAuthenticator, open_virtual_device

    auth = VirtualAuthenticator()
    auth.state.master_key = VIRTUAL_MASTER_KEY
    async with open_virtual_device(authenticator=auth) as dev:
        rec = RecordingDevice(dev)
        ctap = await Ctap2.create(rec)

        def seed(selector: int) -> None:
            calls = rec.take()
            _add(seeds, "ctap2_response", bytes([selector]) + join_records([r for _, _, r in calls]))

        seed(0)
        for i in range(3):
            await ctap.make_credential(
                b"\x01" * 32, {"id": RP_ID}, {"id": bytes([i]) * 4, "name": f"u{i}"},
                [{"type": "public-key", "alg": -7 if i else -8}], options={"rk": True},
                extensions={"credProtect": 1, "largeBlobKey": True},
            )  # fmt: skip
            seed(1)
        async for _ in ctap.get_assertions(RP_ID, b"\x02" * 32):
            pass
        seed(2)
        await ClientPin(ctap, PinProtocolV2()).set_pin(VIRTUAL_PIN)
        rec.take()
        for selector, protocol in ((0x03, PinProtocolV2()), (0x13, PinProtocolV1())):
            pin = ClientPin(ctap, protocol)
            await pin.get_pin_retries()
            await pin.get_uv_retries()
            await pin.get_pin_token(VIRTUAL_PIN, ClientPin.PERMISSION.MAKE_CREDENTIAL, RP_ID)
            seed(selector)
        protocol = PinProtocolV2()
        token = await ClientPin(ctap, protocol).get_pin_token(
            VIRTUAL_PIN, ClientPin.PERMISSION.CREDENTIAL_MGMT | ClientPin.PERMISSION.BIO_ENROLL
            | ClientPin.PERMISSION.LARGE_BLOB_WRITE,
        )  # fmt: skip
        rec.take()
        cm = CredentialManagement(ctap, protocol, token)
        await cm.get_metadata()
        async for rp in cm.rps():
            async for _ in cm.credentials(rp[CredentialManagement.RESULT.RP_ID_HASH]):
                pass
        seed(0x04)
        bio = FPBioEnrollment(ctap, protocol, token)
        await bio.get_fingerprint_sensor_info()
        await bio.enumerate_enrollments()
        async for _ in bio.enroll():
            pass
        seed(0x05)
        await bio.get_fingerprint_sensor_info()
        await bio.enumerate_enrollments()
        seed(0x05)
        # the large-blob array: one entry for a credential's largeBlobKey
        creds = await cm.enumerate_creds(hashlib.sha256(RP_ID.encode()).digest())
        rec.take()
        key = next(c[CredentialManagement.RESULT.LARGE_BLOB_KEY] for c in creds if 11 in c)
        blobs = LargeBlobs(ctap, protocol, token)
        await blobs.put_blob(key, b"some large blob data " * 8)
        await blobs.put_blob(b"\x05" * 32, b"another credential's data")
        rec.take()
        array = auth.state.large_blob_array
        _add(seeds, "large_blob_array", key + b"\x00" + array, key + b"\x03" + array[:-16], b"\x00" * 32 + b"\x01\x80")
        # and the device's CBOR answers, framed for the host core
        for cmd, request, response in rec.take():
            del cmd, request, response


def virtual_request_seeds(seeds: Seeds) -> None:
    """Management requests for the virtual_ctap2 target (flag byte: snapshot, sign bit)."""
    rp_hash = hashlib.sha256(RP_ID.encode()).digest()
    mc = {1: b"\x01" * 32, 2: {"id": RP_ID}, 3: {"id": b"u9", "name": "n", "displayName": "d"},
          4: [{"type": "public-key", "alg": -7}], 6: {"hmac-secret": True, "credBlob": b"x", "largeBlobKey": True,
          "credProtect": 3, "minPinLength": True}, 7: {"rk": True}, 10: 1, 11: ["packed"]}  # fmt: skip
    ga = {1: RP_ID, 2: b"\x02" * 32, 4: {"credBlob": True, "largeBlobKey": True}, 5: {"up": True}}
    requests: list[tuple[int, int, dict[int, Any] | None]] = [
        (0, 0x04, None), (0, 0x0B, None), (0, 0x07, None), (0, 0x08, None), (0, 0x02, ga),
        (2 | 4, 0x01, mc), (2 | 4, 0x02, ga), (0, 0x06, {1: 2, 2: 1}), (0, 0x06, {1: 1, 2: 2}),
        (0, 0x06, {1: 2, 2: 7}), (1, 0x06, {1: 2, 2: 5, 3: {1: 2, 3: -25, -1: 1, -2: b"\0" * 32, -3: b"\0" * 32},
                                          6: b"\0" * 32}),
        (1 | 4, 0x0A, {1: 1}), (1 | 4, 0x0A, {1: 2}), (1, 0x0A, {1: 3}), (1 | 4, 0x0A, {1: 4, 2: {1: rp_hash}}),
        (1, 0x0A, {1: 5}), (1 | 4, 0x0A, {1: 6, 2: {2: {"type": "public-key", "id": b"\x01" * 40}}}),
        (1 | 4, 0x0A, {1: 7, 2: {2: {"type": "public-key", "id": b"\x01" * 40}, 3: {"id": b"\0" * 8, "name": "x"}}}),
        (1, 0x09, {6: True}), (1, 0x09, {1: 1, 2: 7}), (1 | 4, 0x09, {1: 1, 2: 1}), (1 | 4, 0x09, {1: 1, 2: 4}),
        (1 | 4, 0x09, {1: 1, 2: 5, 3: {1: b"\0\0", 2: "thumb"}}), (1 | 4, 0x09, {1: 1, 2: 6, 3: {1: b"\0\0"}}),
        (1, 0x09, {1: 1, 2: 3}), (0, 0x0C, {1: 100, 3: 0}),
        (1 | 4, 0x0C, {2: b"\x80" + hashlib.sha256(b"\x80").digest()[:16], 3: 0, 4: 17}),
        (0, 0x0C, {2: b"\x81\x01" + hashlib.sha256(b"\x81\x01").digest()[:16], 3: 0, 4: 18}),
        (0, 0x0D, {1: 1}), (0, 0x0D, {1: 2}), (1 | 4, 0x0D, {1: 3, 2: {1: 6, 2: [RP_ID], 3: True}}),
        (1 | 4, 0x0D, {1: 0xFF}), (0, 0x41, {1: 1}), (1 | 4, 0x40, {1: 1, 2: 4}),
    ]  # fmt: skip
    for flags, command, params in requests:
        _add(seeds, "virtual_ctap2", bytes([flags, command]) + (cbor.dumps(params) if params is not None else b""))


async def u2f_seeds(seeds: Seeds) -> None:
    """U2F APDUs (virtual_u2f) and U2F responses (ctap1_response), from the software authenticator."""
    from aioctap.virtual import VirtualAuthenticator

    auth = VirtualAuthenticator()
    auth.state.master_key = VIRTUAL_MASTER_KEY
    challenge, app = b"\x02" * 32, hashlib.sha256(RP_ID.encode()).digest()

    async def msg(apdu: bytes) -> bytes:
        return await auth.handle(CTAPHID.MSG, apdu, lambda status: None)

    def extended(ins: int, p1: int, data: bytes) -> bytes:
        return bytes([0, ins, p1, 0, 0]) + struct.pack(">H", len(data)) + data + b"\x00\x00"

    version = bytes([0, 3, 0, 0])
    register = extended(1, 0, challenge + app)
    registration = await msg(register)
    handle = registration[67 : 67 + registration[66]]
    authenticate = extended(2, 3, challenge + app + bytes([len(handle)]) + handle)
    signature = await msg(authenticate)
    short = bytes([0, 2, 8, 0, 65 + len(handle)]) + challenge + app + bytes([len(handle)]) + handle
    _add(seeds, "virtual_u2f", version, version + b"\x00", register, authenticate, short,
         extended(2, 7, challenge + app + bytes([len(handle)]) + handle))  # fmt: skip
    public_key = registration[1:66]
    _add(
        seeds,
        "ctap1_response",
        b"\x00" + registration[:-2],
        b"\x01" + join_records([public_key, signature[:-2]]),
        b"\x02" + registration,
        b"\x02" + signature,
        b"\x02\x6a\x80",
    )
    # a fido-u2f attestation object built from the U2F registration (WebAuthn §8.6)
    from aioctap.cose import ES256
    from aioctap.ctap1 import RegistrationData
    from aioctap.webauthn import AttestedCredentialData, AuthenticatorData

    reg = RegistrationData.from_bytes(registration[:-2])
    auth_data = AuthenticatorData.create(
        app, 0x41, 0, AttestedCredentialData.create(b"\0" * 16, reg.key_handle, ES256.from_raw(reg.public_key))
    )
    att_obj = {"fmt": "fido-u2f", "attStmt": {"sig": reg.signature, "x5c": [reg.certificate]},
               "authData": bytes(auth_data), "clientDataHash": challenge}  # fmt: skip
    _add(seeds, "attestation", cbor.dumps(att_obj))
    _add(seeds, "attestation_certificate", reg.certificate)


def host_records(answer: list[bytes], *, request: bool = True) -> bytes:
    """ctaphid_host records: control byte 1 (the host sends a request), then each report (control 0)."""
    return (b"\x01" + bytes(64) if request else b"") + b"".join(b"\x00" + p for p in answer)


def hid_seeds(seeds: Seeds) -> None:
    """CTAPHID packets: for the host (device answers) and for the device core (host requests)."""
    init = InitResponse(HOST_NONCE, HOST_CID, 2, (1, 0, 0), 0x05).to_bytes()
    resync = InitResponse(HOST_NONCE[:7] + b"\x00", HOST_CID, 2, (1, 0, 0), 0x05).to_bytes()
    timer = (bytes([(31 << 3) | 3]) + bytes(64)) * 2  # twice 0.97 s pass and the host's timer fires
    _add(
        seeds,
        "ctaphid_host",
        host_records(frame(BROADCAST_CID, CTAPHID.INIT, init), request=False),
        host_records(frame(HOST_CID, CTAPHID.ERROR, b"\x06")),
        host_records(frame(HOST_CID, CTAPHID.KEEPALIVE, b"\x02") + frame(HOST_CID, CTAPHID.CBOR, bytes(300))),
        # a timeout, the late answer, the resynchronizing INIT's answer
        host_records([])
        + timer
        + host_records(
            frame(HOST_CID, CTAPHID.CBOR, b"\x00late") + frame(HOST_CID, CTAPHID.INIT, resync), request=False
        ),
        # a cancel, the cancelled answer (KEEPALIVE_CANCEL), the next call's answer
        host_records([])
        + b"\x02"
        + bytes(64)
        + host_records(frame(HOST_CID, CTAPHID.CBOR, b"\x2d"), request=False)
        + host_records(frame(HOST_CID, CTAPHID.CBOR, b"\x00ok")),
    )

    def records(*messages: tuple[int, int, bytes], step: int = 1) -> bytes:
        out = b""
        for cid, cmd, data in messages:
            for p in frame(cid, cmd, data):
                out += bytes([step]) + p
        return out

    cid = 1  # the first channel the device core allocates
    info = bytes([0x04])
    _add(
        seeds,
        "ctaphid_device",
        records((BROADCAST_CID, CTAPHID.INIT, HOST_NONCE), (cid, CTAPHID.CBOR, info)),
        records((BROADCAST_CID, CTAPHID.INIT, HOST_NONCE), (cid, CTAPHID.PING, bytes(range(200)))),
        records((BROADCAST_CID, CTAPHID.INIT, HOST_NONCE), (cid, CTAPHID.CBOR, info), (cid, CTAPHID.CANCEL, b""),
                step=2),
        records((BROADCAST_CID, CTAPHID.INIT, HOST_NONCE), (cid, CTAPHID.LOCK, b"\x05"), (cid, CTAPHID.WINK, b""),
                (cid, CTAPHID.MSG, bytes([0, 3, 0, 0])), (cid, CTAPHID.INIT, HOST_NONCE)),
        records((BROADCAST_CID, CTAPHID.INIT, HOST_NONCE), (BROADCAST_CID, CTAPHID.INIT, HOST_NONCE),
                (cid, CTAPHID.CBOR, bytes(150)), (2, CTAPHID.PING, b"x"), step=40),
    )  # fmt: skip


def certificate_seeds(seeds: Seeds) -> None:
    """Attestation certificates carrying the harness key (so the harness's signatures verify)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.x509.oid import NameOID, ObjectIdentifier

    key = _harness_key()
    root = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "aioctap fuzz root")])
    start = datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)

    def leaf(ou: str | None = "Authenticator Attestation", ca: bool | None = False, aaguid: bytes | None = b"\x01" * 16,
             critical: bool = False, years: int = 20) -> bytes:  # fmt: skip
        attrs = [x509.NameAttribute(NameOID.COUNTRY_NAME, "US"), x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Fuzz"),
                 x509.NameAttribute(NameOID.COMMON_NAME, "fuzz authenticator")]  # fmt: skip
        if ou is not None:
            attrs.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, ou))
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name(attrs))
            .issuer_name(root)
            .public_key(key.public_key())
            .serial_number(2)
            .not_valid_before(start)
            .not_valid_after(start + datetime.timedelta(days=365 * years))
        )
        if ca is not None:
            builder = builder.add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        if aaguid is not None:
            oid = ObjectIdentifier("1.3.6.1.4.1.45724.1.1.4")
            builder = builder.add_extension(x509.UnrecognizedExtension(oid, b"\x04\x10" + aaguid), critical=critical)
        return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)

    _add(seeds, "attestation_certificate", leaf(), leaf(ou=None), leaf(ca=True), leaf(ca=None), leaf(aaguid=None),
         leaf(critical=True), leaf(aaguid=b"\x02" * 16), leaf(years=1))  # fmt: skip


def vector_seeds(seeds: Seeds) -> None:
    """Real-device attestations published by other projects (tests/server/data) and their parts."""
    import base64

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

    data = HERE.parent / "tests" / "server" / "data"
    for path in sorted(data.glob("*.json")):
        vector = json.loads(path.read_text())
        response = vector["credential"]["response"]
        raw = {k: response[k].replace("+", "-").replace("/", "_").rstrip("=") for k in ("clientDataJSON",
               "attestationObject")}  # fmt: skip
        obj = cbor.loads(websafe_decode(raw["attestationObject"]), strict=False)
        obj["clientDataHash"] = hashlib.sha256(websafe_decode(raw["clientDataJSON"])).digest()
        if "now" in vector:
            obj["_now"] = int(datetime.datetime.fromisoformat(vector["now"]).timestamp())
        _add(seeds, "attestation", cbor.dumps(obj))
        _add(seeds, "authenticator_data", obj["authData"])
        stmt = obj["attStmt"]
        for cert in stmt.get("x5c", []):
            _add(seeds, "attestation_certificate", cert)
            _add(seeds, "attestation_structures", b"\x04" + cert)
        if "certInfo" in stmt:
            _add(seeds, "attestation_structures", b"\x00" + stmt["certInfo"], b"\x01" + stmt["pubArea"])
        if stmt.get("x5c"):
            leaf = x509.load_der_x509_certificate(stmt["x5c"][0])
            for ext in leaf.extensions:
                if ext.oid.dotted_string == "1.3.6.1.4.1.11129.2.1.17":
                    _add(seeds, "attestation_structures", b"\x02" + ext.value.public_bytes())
    # a compact JWS and an MDS3 BLOB signed with the harness key (its root is the target's trust anchor)
    key = _harness_key()
    leaf_der = next(d for d in seeds.get("attestation_certificate", []) if b"fuzz authenticator" in d)

    def jws(payload: dict[str, Any]) -> bytes:
        header = {"alg": "ES256", "x5c": [base64.b64encode(leaf_der).decode()]}
        signing = ".".join(websafe_encode(json.dumps(p).encode()) for p in (header, payload))
        r, s = decode_dss_signature(key.sign(signing.encode(), ec.ECDSA(hashes.SHA256())))
        return f"{signing}.{websafe_encode(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}".encode()

    entry = {"aaguid": "01010101-0101-0101-0101-010101010101", "statusReports": [{"status": "FIDO_CERTIFIED_L1",
             "effectiveDate": "2024-01-01"}], "timeOfLastStatusChange": "2024-01-01",
             "attestationCertificateKeyIdentifiers": ["00ff"], "metadataStatement": {"attestationRootCertificates":
             [base64.b64encode(leaf_der).decode()], "description": "fuzz"}}  # fmt: skip
    blob = {"no": 3, "nextUpdate": "2031-01-01", "legalHeader": "fuzz", "entries": [entry]}
    _add(seeds, "attestation_structures", b"\x03" + jws({"nonce": "x", "ctsProfileMatch": True}), b"\x05" + jws(blob))
    # one whose statement has every member python-fido2's MetadataStatement requires (aioctap.mds3 parses it)
    statement = {**entry["metadataStatement"], "authenticatorVersion": 1, "schema": 3, "upv": [{"major": 1,
                 "minor": 1}], "attestationTypes": ["basic_full"], "userVerificationDetails": [[{
                 "userVerificationMethod": "fingerprint_internal", "baDesc": {"selfAttestedFRR": 0.001}}]],
                 "keyProtection": ["hardware"], "matcherProtection": ["on_chip"], "attachmentHint": ["external"],
                 "tcDisplay": [], "aaguid": entry["aaguid"]}  # fmt: skip
    full = {**blob, "entries": [{**entry, "metadataStatement": statement}]}
    _add(seeds, "attestation_structures", b"\x05" + jws(full))


def python_fido2_name_seeds(seeds: Seeds) -> None:
    """HID report descriptors (hid_report_descriptor) and COSE keys of the fully-specified algorithms (cose)."""
    from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519

    from aioctap.cose import ES256K, ESP256, ESP384, ESP512, Ed448, Ed25519

    yubikey = bytes.fromhex("06d0f10901a1010920150026ff007508954081020921150026ff00750895409102c0")
    _add(
        seeds,
        "hid_report_descriptor",
        yubikey,
        bytes.fromhex("07d0f100000901a101750895208102750896800091 02c0".replace(" ", "")),  # 4-byte items
        bytes.fromhex("fe0100aa") + yubikey,  # a long item first
        bytes.fromhex("05010902a1010901a1000509190129051500250195057501810295017503810105010930093109381581257f750895038106c0c0"),
    )  # fmt: skip
    keys = [
        ESP256.from_cryptography_key(ec.derive_private_key(11, ec.SECP256R1()).public_key()),
        ESP384.from_cryptography_key(ec.derive_private_key(11, ec.SECP384R1()).public_key()),
        ESP512.from_cryptography_key(ec.derive_private_key(11, ec.SECP521R1()).public_key()),
        ES256K.from_cryptography_key(ec.derive_private_key(11, ec.SECP256K1()).public_key()),
        Ed25519.from_cryptography_key(ed25519.Ed25519PrivateKey.from_private_bytes(b"\x0b" * 32).public_key()),
        Ed448.from_cryptography_key(ed448.Ed448PrivateKey.from_private_bytes(b"\x0b" * 57).public_key()),
    ]
    _add(seeds, "cose", *(cbor.dumps(dict(key)) for key in keys))


def otp_seeds(seeds: Seeds) -> None:
    from aioctap.otp import HOTP, TOTP, OTPContext

    context = OTPContext({"1": "aioctap fuzz application secret"}, encrypt_cost=8)
    key = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    totp = TOTP(key, label="alice", issuer="Example", digits=8, alg="sha256", period=60)
    hotp = HOTP(key, counter=5, label="bob")
    uris = [totp.to_uri(), hotp.to_uri(), f"otpauth://totp/Example:alice?secret={key}&issuer=Example",
            f"otpauth://hotp/carol?secret={key}&counter=0&digits=6&algorithm=SHA1"]  # fmt: skip
    _add(seeds, "otpauth", *[b"\x00" + u.encode() for u in uris])
    _add(seeds, "otpauth", b"\x01" + totp.to_json(context).encode(), b"\x01" + hotp.to_json().encode())
    _add(seeds, "otpauth", b"\x02" + uris[0].encode(), b"\x02" + totp.to_json().encode())
    fixed = TOTP(key, label="alice", issuer="Example")
    _add(seeds, "otpauth", b"\x03" + fixed.generate(1_700_000_000).token.encode(), b"\x03 123 456",
         b"\x04" + HOTP(key, counter=5).generate().encode())  # fmt: skip
    now = struct.pack(">I", 1_700_000_000)
    _add(seeds, "taler", now + b"EUR:1.50", now + f"{key}|2|EUR:1.50".encode(), now + f"{key}|1".encode(),
         now + f"{key}|TOTP_WITH_PRICE|KUDOS:10.12345678".encode(), now + b"EUR:4503599627370496.99999999")  # fmt: skip


async def api_seeds(seeds: Seeds) -> None:
    """Bodies of the HTTP APIs: options requests and a real registration/assertion response."""
    options = [
        {"username": "alice", "displayName": "Alice", "attestation": "direct",
         "authenticatorSelection": {"residentKey": "preferred", "userVerification": "preferred",
                                    "authenticatorAttachment": "cross-platform"}, "extensions": {"credProps": True}},
        {"username": "bob", "displayName": "Bob", "authenticatorSelection": {"requireResidentKey": True}},
    ]  # fmt: skip
    _add(seeds, "fido2_api", *[b"\x00" + json.dumps(o).encode() for o in options])
    _add(seeds, "fido2_api", b"\x02" + json.dumps({"username": "", "userVerification": "required"}).encode(),
         b"\x00" + json.dumps({"username": "alice", "userVerification": "discouraged"}).encode())  # fmt: skip
    for body in seeds.get("verify_registration", [])[:2]:
        _add(seeds, "fido2_api", b"\x05" + body)
    for body in seeds.get("verify_authentication", [])[:2]:
        obj = json.loads(body)
        obj.pop("_publicKey", None)
        _add(seeds, "fido2_api", b"\x07" + json.dumps(obj).encode())
    other = websafe_encode(b"fuzz-credential-2")
    _add(seeds, "fido2_account_api", b"\x00\n" + json.dumps({"name": "Laptop key"}).encode(),
         b"\x08" + other.encode() + b"\n" + json.dumps({"name": "\u00e9t\u00e9 \U0001f511"}).encode(),
         b"\x01\n", b"\x09" + other.encode() + b"\n", b"\x02\n", b"\x03\n", b"\x04\n",
         b"\x12not-a-session-token\n")  # fmt: skip
    device = {"otp_device_id": "till-2", "otp_device_description": "second till", "otp_key": "JBSWY3DPEHPK3PXP",
              "otp_algorithm": "TOTP_WITH_PRICE", "otp_ctr": 7}  # fmt: skip
    _add(
        seeds,
        "otp_api",
        b"\x00" + json.dumps(device).encode(),
        b"\x01" + json.dumps({"otp_device_description": "renamed", "otp_algorithm": 2}).encode(),
        b"\x0a" + b"faketime=1700000000&price=EUR%3A1.50",
        b"\x02" + b"faketime=1700000000",
        b"\x03" + json.dumps({"scope": "readonly", "duration": {"d_us": 3600000000}, "description": "pos"}).encode(),
        b"\x04dev1",
        b"\x05deadbeefdeadbeef",
        b"\x06shop-1",
        b"\x07Bearer secret-token:fuzz-admin-token",
    )


def write(seeds: Seeds) -> None:
    for name, items in sorted(seeds.items()):
        directory = CORPUS / name
        shutil.rmtree(directory, ignore_errors=True)
        directory.mkdir(parents=True)
        unique = {hashlib.sha1(d).hexdigest()[:16]: d for d in items}
        for digest, data in sorted(unique.items()):
            (directory / digest).write_bytes(data)
        print(f"{name:<26} {len(unique):>4} seeds")


async def build() -> Seeds:
    seeds: Seeds = {}
    steps: list[Callable[[Seeds], Any]] = [
        webauthn_seeds, ctap2_response_seeds, u2f_seeds, hid_seeds, virtual_request_seeds, certificate_seeds,
        vector_seeds, otp_seeds, api_seeds, python_fido2_name_seeds,
    ]  # fmt: skip
    for step in steps:
        result = step(seeds)
        if asyncio.iscoroutine(result):
            await result
    for data in seeds.get("ctap2_response", []):
        _add(seeds, "cbor", data[3:])  # a response record without its framing: mostly still CBOR-shaped
    return seeds


if __name__ == "__main__":
    built = asyncio.run(build())
    only = set(sys.argv[1:])  # target names: rewrite only their corpora
    write({name: items for name, items in built.items() if not only or name in only})
