"""The host's hot paths: getAssertion and makeCredential through ``Ctap2`` send the reference request and parse any
answer into a response or a typed error, and ``AuthenticatorData``, which reads its fixed head in one unpack,
agrees with the straightforward formula on generated inputs, good and bad.

(``Ctap2``'s own request builders and response parsers for the two commands had fast paths beside the general
code; they gained 7-8 % on the "getAssertion ES256, with aioctap's Ctap2" row, under the 10 % a fast path must
gain to stay, and went.)
"""

from __future__ import annotations

import dataclasses
import hashlib
import struct
from collections.abc import Callable
from types import MappingProxyType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aioctap import cbor
from aioctap.cose import CoseError, CoseKey
from aioctap.ctap import CtapDevice, CtapError, KeepaliveCallback
from aioctap.ctap2 import AssertionResponse, AttestationResponse, Ctap2, CtapResponseError
from aioctap.hid.protocol import CAPABILITY, CTAPHID
from aioctap.webauthn import AttestedCredentialData, AuthenticatorData, CredentialIdLengthError, WebAuthnDataError

SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])

big_ints = st.sampled_from([2**64 - 1, 2**64, -(2**64), -(2**64) - 1, 2**70])
scalars = st.one_of(
    st.text(max_size=8),
    st.binary(max_size=16),
    st.booleans(),
    st.none(),
    st.integers(-300, 300),
    big_ints,
)

# -- responses -------------------------------------------------------------------------------------------------

RP_HASH = hashlib.sha256(b"example.com").digest()
ES256_KEY = {1: 2, 3: -7, -1: 1, -2: b"\x01" * 32, -3: b"\x02" * 32}


def _auth_data_bytes(flags: int, counter: int, cred_id: bytes = b"", ext: dict[str, Any] | None = None) -> bytes:
    raw = RP_HASH + struct.pack(">BI", flags, counter)
    if flags & 0x40:
        raw += bytes(range(16)) + struct.pack(">H", len(cred_id)) + cred_id + cbor.dumps(ES256_KEY)
    if flags & 0x80:
        raw += cbor.dumps(ext if ext is not None else {"credProtect": 2})
    return raw


auth_datas = st.one_of(
    st.builds(lambda f, c: _auth_data_bytes(f & 0x3F, c), st.integers(0, 255), st.integers(0, 2**32 - 1)),
    st.builds(lambda f, i: _auth_data_bytes(0x41 | f, 1, i), st.sampled_from([0, 0x80]), st.binary(max_size=40)),
    st.binary(max_size=60),
)
user_maps = st.fixed_dictionaries({"id": st.binary(max_size=8)}, optional={"name": st.text(max_size=4)})
members = st.one_of(scalars, user_maps, st.lists(scalars, max_size=2), st.just(True), st.just(3))


@st.composite
def assertion_maps(draw: st.DrawFn) -> dict[int, Any]:
    data: dict[int, Any] = {
        1: draw(st.fixed_dictionaries({"type": st.just("public-key"), "id": st.binary(max_size=16)})),
        2: draw(auth_datas),
        3: draw(st.binary(max_size=72)),
    }
    for key, strategy in ((4, user_maps), (5, st.integers(1, 5)), (6, st.booleans()), (7, st.binary(max_size=32))):
        if draw(st.booleans()):
            data[key] = draw(strategy)
    for _ in range(draw(st.integers(0, 2))):  # then break some members
        data[draw(st.integers(1, 8))] = draw(members)
    return data


@st.composite
def attestation_maps(draw: st.DrawFn) -> dict[int, Any]:
    data: dict[int, Any] = {
        1: draw(st.sampled_from(["none", "packed"])),
        2: draw(auth_datas),
        3: draw(st.dictionaries(st.sampled_from(["alg", "sig"]), scalars, max_size=2)),
    }
    for key, strategy in ((4, st.booleans()), (5, st.binary(max_size=32)), (6, st.just({"x": 1}))):
        if draw(st.booleans()):
            data[key] = draw(strategy)
    for _ in range(draw(st.integers(0, 2))):
        data[draw(st.integers(1, 7))] = draw(members)
    return data


def _parse_outcome(fn: Callable[[], Any]) -> tuple[str, Any]:
    try:
        return "ok", fn()
    except Exception as e:
        return type(e).__name__, str(e)


def test_parsed_responses_are_frozen_and_subclasses_and_mappings_parse() -> None:
    data = {1: {"type": "public-key", "id": b"id"}, 2: _auth_data_bytes(0x05, 9), 3: b"sig", 5: 2}
    response = AssertionResponse.from_dict(data)
    assert response.number_of_credentials == 2 and response.auth_data.counter == 9 and response.user is None
    with pytest.raises(dataclasses.FrozenInstanceError):
        response.signature = b""  # type: ignore[misc]

    class MyAssertion(AssertionResponse):
        pass

    assert type(MyAssertion.from_dict(data)) is MyAssertion
    assert AssertionResponse.from_dict(MappingProxyType(data)) == response
    att = {1: "none", 2: _auth_data_bytes(0x41, 0, b"cred"), 3: {}}
    parsed = AttestationResponse.from_dict(att)
    assert parsed.auth_data.credential_data is not None and parsed.auth_data.credential_data.credential_id == b"cred"
    with pytest.raises(dataclasses.FrozenInstanceError):
        parsed.fmt = "packed"  # type: ignore[misc]
    with pytest.raises(CtapResponseError, match="invalid authData: 1 unexpected trailing"):
        AssertionResponse.from_dict({**data, 2: _auth_data_bytes(0x05, 9) + b"\x00"})
    with pytest.raises(CtapResponseError, match=r"numberOfCredentials \(5\) must be int, got bool"):
        AssertionResponse.from_dict({**data, 5: True})


# -- authenticator data ----------------------------------------------------------------------------------------


def _reference_auth_data(raw: bytes) -> tuple[Any, ...]:
    """The plain formula: slices, one u32, then attested credential data and extensions as WebAuthn §6.1 says."""
    if len(raw) < 37:
        raise WebAuthnDataError(f"authenticator data must be at least 37 bytes, got {len(raw)}")
    flags, counter, rest = raw[32], int.from_bytes(raw[33:37], "big"), raw[37:]
    cred = ext = None
    if flags & 0x40:
        if len(rest) < 18:
            raise WebAuthnDataError("attested credential data shorter than 18 bytes")
        n = int.from_bytes(rest[16:18], "big")
        if len(rest) < 18 + n:
            raise WebAuthnDataError("credential ID runs past the end of the attested credential data")
        if n > 1023:
            raise CredentialIdLengthError(f"credential ID of {n} bytes exceeds 1023")
        try:
            key, after = cbor.decode_from(rest[18 + n :], strict=False)
            cred = (rest[:16], rest[18 : 18 + n], dict(CoseKey.parse(key)))
        except (cbor.CborError, CoseError) as e:
            raise WebAuthnDataError(f"invalid credential public key: {e}") from None
        rest = after
    if flags & 0x80:
        try:
            ext, rest = cbor.decode_from(rest, strict=False)
        except cbor.CborError as e:
            raise WebAuthnDataError(f"invalid extensions in authenticator data: {e}") from None
        if not isinstance(ext, dict) or not all(isinstance(k, str) for k in ext):
            raise WebAuthnDataError("authenticator data extensions must be a map with text keys")
    if rest:
        raise WebAuthnDataError(f"{len(rest)} unexpected trailing bytes in authenticator data")
    return raw[:32], flags, counter, cred, ext


def _ours(raw: bytes) -> tuple[Any, ...]:
    parsed = AuthenticatorData(raw)
    cred = parsed.credential_data
    assert isinstance(cred, AttestedCredentialData | None)
    found = None if cred is None else (bytes(cred.aaguid), cred.credential_id, dict(cred.public_key))
    assert bytes(parsed) == raw
    return parsed.rp_id_hash, parsed.flags, parsed.counter, found, parsed.extensions


@st.composite
def raw_auth_data(draw: st.DrawFn) -> bytes:
    flags = draw(st.integers(0, 255))
    raw = _auth_data_bytes(flags, draw(st.integers(0, 2**32 - 1)), draw(st.binary(max_size=20)))
    cut = draw(st.integers(0, 3))
    if cut == 1:
        raw = raw[: draw(st.integers(0, len(raw)))]
    elif cut == 2:
        raw += draw(st.binary(min_size=1, max_size=4))
    elif cut == 3:
        at = draw(st.integers(0, len(raw) - 1))
        raw = raw[:at] + bytes([draw(st.integers(0, 255))]) + raw[at + 1 :]
    return raw


@SETTINGS
@given(raw=raw_auth_data() | st.binary(max_size=120))
def test_authenticator_data_parse_equals_the_plain_formula(raw: bytes) -> None:
    ours, reference = _parse_outcome(lambda: _ours(raw)), _parse_outcome(lambda: _reference_auth_data(raw))
    assert ours == reference
    assert ours[0] in ("ok", "WebAuthnDataError", "CredentialIdLengthError")


def test_authenticator_data_from_other_buffers_reads_bytes() -> None:
    raw = _auth_data_bytes(0x45, 77)
    for source in (bytearray(raw), memoryview(raw)):
        parsed = AuthenticatorData(source)  # type: ignore[arg-type]
        assert type(parsed.rp_id_hash) is bytes and parsed.rp_id_hash == RP_HASH and parsed.counter == 77
    long_id = _auth_data_bytes(0x41, 0, b"\x00" * 1024)
    with pytest.raises(CredentialIdLengthError):
        AuthenticatorData(long_id)
    for wrong in (37, "x" * 37, None, [0] * 37):
        with pytest.raises(WebAuthnDataError, match="must be a byte string"):
            AuthenticatorData(wrong)  # type: ignore[arg-type]


# -- the whole call, against a device that answers anything ----------------------------------------------------


class Replay(CtapDevice):
    """Answers every CTAPHID_CBOR call with the same bytes, and keeps the requests."""

    def __init__(self, response: bytes) -> None:
        self.response = response
        self.requests: list[bytes] = []

    @property
    def capabilities(self) -> int:
        return CAPABILITY.CBOR

    async def call(self, cmd: int, data: bytes = b"", *, on_keepalive: KeepaliveCallback | None = None) -> bytes:
        assert cmd == CTAPHID.CBOR
        self.requests.append(data)
        return self.response


def _encoded(data: dict[int, Any]) -> bytes:
    try:
        return b"\x00" + cbor.dumps(data)
    except cbor.CborError:  # a generated member out of CBOR's range
        return b"\x00\xa0"


response_bytes = st.one_of(st.binary(max_size=80), assertion_maps().map(_encoded), attestation_maps().map(_encoded))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=response_bytes)
async def test_hot_commands_on_any_answer_give_a_response_or_a_typed_error(raw: bytes) -> None:
    ctap = Ctap2(Replay(raw))
    for call in (
        lambda: ctap.get_assertion("example.com", bytes(32), [{"type": "public-key", "id": b"id"}]),
        lambda: ctap.make_credential(bytes(32), {"id": "x.org"}, {"id": b"u"}, [{"type": "public-key", "alg": -7}]),
    ):
        try:
            result = await call()
        except (CtapResponseError, CtapError):
            continue
        assert isinstance(result, AssertionResponse | AttestationResponse)


async def test_hot_commands_send_the_reference_request_and_parse_as_send_cbor_does() -> None:
    assertion = {1: {"type": "public-key", "id": b"id"}, 2: _auth_data_bytes(0x05, 3), 3: b"sig", 4: {"id": b"u"}}
    device = Replay(b"\x00" + cbor.dumps(assertion))
    ctap = Ctap2(device)
    allow = [{"type": "public-key", "id": b"id"}]
    call = ("example.com", bytes(32), allow, None, {"up": False}, b"p" * 16, 2)
    got = await ctap.get_assertion(*call)
    expected = {1: "example.com", 2: bytes(32), 3: allow, 5: {"up": False}, 6: b"p" * 16, 7: 2}  # no extensions
    assert device.requests[-1] == b"\x02" + cbor.dumps(expected)
    assert got == AssertionResponse.from_dict(await ctap.send_cbor(Ctap2.CMD.GET_ASSERTION, {1: "example.com"}))
    with pytest.raises(CtapError) as e:
        await Ctap2(Replay(b"\x2e")).get_assertion("example.com", bytes(32))
    assert e.value.code == CtapError.ERR.NO_CREDENTIALS
    with pytest.raises(CtapResponseError, match="empty"):
        await Ctap2(Replay(b"")).make_credential(bytes(32), {"id": "x"}, {"id": b"u"}, [])
    with pytest.raises(cbor.CborError, match="type float"):  # the general encoder's error, as before
        await Ctap2(Replay(b"\x00")).get_assertion("example.com", bytes(32), options={"up": 1.5})  # type: ignore[dict-item]
