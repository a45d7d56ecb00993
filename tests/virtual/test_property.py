"""Property tests: random and mutated requests never crash the authenticator, and a rejected one changes nothing.

The mutated requests start from a corpus recorded while a host ran every command for real (with a PIN,
pinUvAuthTokens, extensions, credential management, bio enrollment, large blobs, config and U2F). Before each
example the authenticator is put back to the state at the end of the recording (persistent state, key
agreement key and pinUvAuthToken), so mutations of token-bearing requests reach deep into each command.
"""

from __future__ import annotations

import copy
import functools
import hashlib
from dataclasses import dataclass
from typing import Any

import anyio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aioctap import cbor
from aioctap.ctap import CtapError
from aioctap.ctap2 import ClientPin, Config, CredentialManagement, Ctap2, FPBioEnrollment, LargeBlobs
from aioctap.ctap2.pin import PinProtocolV1
from aioctap.hid.protocol import CTAPHID
from aioctap.virtual import VirtualAuthenticator, open_virtual_device
from aioctap.virtual.state import AuthenticatorState

ERR = CtapError.ERR
PIN = "4321abcd"
CDH = hashlib.sha256(b"client data").digest()
P = ClientPin.PERMISSION
# a wrong PIN or fingerprint legitimately uses up a retry even though the request is rejected
RETRY_ERRORS = {ERR.PIN_INVALID, ERR.PIN_BLOCKED, ERR.PIN_AUTH_BLOCKED, ERR.UV_INVALID, ERR.UV_BLOCKED}
COMMAND_CODES = [0x01, 0x02, 0x04, 0x06, 0x07, 0x08, 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x40, 0x41, 0x03, 0x55]


@dataclass
class Recorded:
    auth: VirtualAuthenticator
    requests: list[tuple[int, bytes]]
    snapshot: bytes
    key: Any
    token: Any


async def _scenario(auth: VirtualAuthenticator, requests: list[tuple[int, bytes]]) -> None:
    original = auth.handle

    async def recording(cmd: int, payload: bytes, set_status: Any) -> bytes:
        requests.append((cmd, payload))
        return await original(cmd, payload, set_status)

    auth.handle = recording  # type: ignore[method-assign]
    async with open_virtual_device(authenticator=auth) as dev:
        ctap = await Ctap2.create(dev)
        cp = ClientPin(ctap)
        await cp.set_pin(PIN)
        await ClientPin(ctap, PinProtocolV1()).get_pin_retries()
        token = await cp.get_pin_token(PIN, P.BIO_ENROLL)
        bio = FPBioEnrollment(ctap, cp.protocol, token)
        async for _ in bio.enroll():
            pass
        await bio.enumerate_enrollments()
        await bio.get_fingerprint_sensor_info()
        cp_v1 = ClientPin(ctap, PinProtocolV1())
        token = await cp_v1.get_pin_token(PIN, P.MAKE_CREDENTIAL, "example.com")
        key_agreement, shared = await cp._get_shared_secret()
        salt_enc = cp.protocol.encrypt(shared, b"s" * 64)
        hmac_in = {1: key_agreement, 2: salt_enc, 3: cp.protocol.authenticate(shared, salt_enc), 4: 2}
        att = await ctap.make_credential(
            CDH, {"id": "example.com", "name": "Ex"}, {"id": b"alice", "name": "a", "displayName": "A"},
            [{"type": "public-key", "alg": -8}], [{"type": "public-key", "id": b"\x01" * 40}],
            {"credProtect": 2, "credBlob": b"cb", "hmac-secret": True, "hmac-secret-mc": hmac_in, "largeBlobKey": True},
            {"rk": True}, cp_v1.protocol.authenticate(token, CDH), 1,
        )  # fmt: skip
        await ctap.get_assertion(
            "example.com", CDH, extensions={"hmac-secret": hmac_in, "credBlob": True}, options={"uv": True}
        )
        assert att.auth_data.credential_data is not None
        allow = [{"type": "public-key", "id": att.auth_data.credential_data.credential_id}]
        await ctap.get_assertion("example.com", CDH, allow, options={"up": False})
        for version in (1, 2):
            await ctap.send_cbor(0x06, {1: version, 2: 0x07})
        token = await cp.get_pin_token(PIN, P.CREDENTIAL_MGMT | P.LARGE_BLOB_WRITE | P.AUTHENTICATOR_CFG)
        cm = CredentialManagement(ctap, cp.protocol, token)
        await cm.get_metadata()
        rps = await cm.enumerate_rps()
        creds = await cm.enumerate_creds(rps[0][CredentialManagement.RESULT.RP_ID_HASH])
        cred_id = creds[0][CredentialManagement.RESULT.CREDENTIAL_ID]
        await cm.update_user_info(cred_id, {"id": b"alice", "name": "b"})
        blobs = LargeBlobs(ctap, cp.protocol, token)
        await blobs.put_blob(b"k" * 32, b"a large blob" * 10)
        await blobs.read_blob_array()
        config = Config(ctap, cp.protocol, token)
        await config.set_min_pin_length(rp_ids=["example.com"])
        await ctap.selection()
        await cm.delete_cred(cred_id)
        app = hashlib.sha256(b"app").digest()
        response = await dev.call(CTAPHID.MSG, b"\x00\x01\x03\x00\x00\x00\x40" + CDH + app + b"\x00\x00")
        handle = response[67 : 67 + response[66]]
        for p1 in (0x03, 0x07, 0x08):
            await dev.call(
                CTAPHID.MSG, bytes([0, 2, p1, 0, 0, 0, 65 + len(handle)]) + CDH + app + bytes([len(handle)]) + handle
            )
        await dev.call(CTAPHID.MSG, b"\x00\x03\x00\x00")
        await ctap.get_info()
    auth.handle = original  # type: ignore[method-assign]


@functools.cache
def recorded() -> Recorded:
    auth = VirtualAuthenticator(reset_window=None)
    requests: list[tuple[int, bytes]] = []
    anyio.run(_scenario, auth, requests)
    return Recorded(auth, requests, auth.state.to_bytes(), auth.pin._key, copy.copy(auth.pin.token))


def restore(rec: Recorded) -> VirtualAuthenticator:
    auth = rec.auth
    auth.state.__dict__.update(AuthenticatorState.from_bytes(rec.snapshot).__dict__)
    auth.power_cycle()
    auth.pin._key = rec.key
    auth.pin.token = copy.copy(rec.token)
    return auth


def without_retries(state: bytes) -> Any:
    decoded = AuthenticatorState.from_bytes(state)
    decoded.pin_retries = decoded.uv_retries = 0
    return decoded.to_bytes()


def without_uv_count(state: bytes) -> tuple[bytes, int]:
    """The state without uvCountSinceLastPinEntry, and that count: a built-in UV attempt made before a later
    check fails the request still happened (CTAP 2.2 counts every attempt), so it may advance by one."""
    decoded = AuthenticatorState.from_bytes(state)
    count, decoded.uv_count_since_pin = decoded.uv_count_since_pin, 0
    return decoded.to_bytes(), count


def check(cmd: int, payload: bytes) -> None:
    auth = restore(recorded())
    before, uv_count = without_uv_count(auth.state.to_bytes())
    response = anyio.run(auth.handle, cmd, payload, lambda status: None)
    assert isinstance(response, bytes) and response
    after, uv_count_after = without_uv_count(auth.state.to_bytes())
    assert uv_count_after in (uv_count, uv_count + 1)
    if cmd == CTAPHID.MSG:
        if response[-2:] != b"\x90\x00":
            assert after == before
        return
    status = response[0]
    if status == 0:
        if len(response) > 1:
            assert isinstance(cbor.loads(response[1:]), dict)  # canonical CBOR, a map
        return
    assert len(response) == 1, "an error has no body"
    if status in RETRY_ERRORS:
        assert without_retries(after) == without_retries(before)
    else:
        assert after == before, f"rejected with 0x{status:02x} yet the state changed"


cbor_leaf = st.one_of(
    st.integers(min_value=-(2**64) + 1, max_value=2**64 - 1),
    st.binary(max_size=80),
    st.text(max_size=20),
    st.booleans(),
    st.none(),
)
cbor_values = st.recursive(
    cbor_leaf,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.one_of(st.integers(-3, 12), st.sampled_from(["id", "type", "alg", "rk", "up", "uv"])),
                        children, max_size=5),
    ),
    max_leaves=12,
)  # fmt: skip

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(st.sampled_from(COMMAND_CODES), st.binary(max_size=200))
def test_random_bytes(code: int, body: bytes) -> None:
    check(CTAPHID.CBOR, bytes([code]) + body)


@FAST
@given(st.sampled_from(COMMAND_CODES), st.dictionaries(st.integers(0, 12), cbor_values, max_size=6))
def test_random_cbor_maps(code: int, params: dict[int, Any]) -> None:
    check(CTAPHID.CBOR, bytes([code]) + cbor.dumps(params))


@FAST
@given(st.binary(max_size=300))
def test_random_u2f_messages(apdu: bytes) -> None:
    check(CTAPHID.MSG, apdu)


@st.composite
def mutated(draw: st.DrawFn) -> tuple[int, bytes]:
    requests = recorded().requests
    cmd, payload = draw(st.sampled_from(requests))
    kind = draw(st.sampled_from(["member", "drop", "bytes", "truncate"]))
    if cmd == CTAPHID.CBOR and len(payload) > 1 and kind in ("member", "drop"):
        params = cbor.loads(payload[1:])
        if isinstance(params, dict) and params:
            key = draw(st.sampled_from(sorted(params, key=repr)))
            if kind == "drop":
                del params[key]
            elif isinstance(params[key], dict) and params[key] and draw(st.booleans()):
                inner = dict(params[key])
                inner_key = draw(st.sampled_from(sorted(inner, key=repr)))
                inner[inner_key] = draw(cbor_values)
                params[key] = inner
            else:
                params[key] = draw(cbor_values)
            return cmd, payload[:1] + cbor.dumps(params)
    data = bytearray(payload)
    if kind == "truncate" or not data:
        return cmd, bytes(data[: draw(st.integers(0, max(len(data) - 1, 0)))])
    for _ in range(draw(st.integers(1, 3))):
        i = draw(st.integers(0, len(data) - 1))
        data[i] = draw(st.integers(0, 255))
    return cmd, bytes(data)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_requests(request: tuple[int, bytes]) -> None:
    check(*request)


def test_corpus_covers_every_command() -> None:
    codes = {payload[0] for cmd, payload in recorded().requests if cmd == CTAPHID.CBOR}
    assert {0x01, 0x02, 0x04, 0x06, 0x09, 0x0A, 0x0B, 0x0C, 0x0D} <= codes
    assert any(cmd == CTAPHID.MSG for cmd, _ in recorded().requests)
    # and replaying the corpus unchanged is accepted where it was accepted the first time
    auth = restore(recorded())
    response = anyio.run(auth.handle, CTAPHID.CBOR, b"\x04", lambda status: None)
    assert response[0] == 0
