"""Response parsing from untrusted devices: typed errors only (property tests), strict canonical CBOR,
and Ctap2 against a scripted fake device."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aioctap import cbor
from aioctap.ctap import CtapDevice, CtapError, KeepaliveCallback
from aioctap.ctap2 import AssertionResponse, AttestationResponse, Ctap2, CtapResponseError, Info
from aioctap.ctap2.bio import CaptureError, FPBioEnrollment
from aioctap.hid.protocol import CAPABILITY, CTAPHID
from aioctap.webauthn import AuthenticatorData

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

scalars = st.one_of(
    st.integers(-(2**64) + 1, 2**64 - 1), st.binary(max_size=80), st.text(max_size=12), st.booleans(), st.none()
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(st.integers(-3, 30), st.text(max_size=6)), inner, max_size=4),
    ),
    max_leaves=12,
)
AUTH_DATA = bytes(AuthenticatorData.create(hashlib.sha256(b"example.com").digest(), 1, 7))
GOOD = {
    "info": {1: ["FIDO_2_1"], 3: b"\x00" * 16, 4: {"rk": True}, 6: [2, 1]},
    "att": {1: "packed", 2: AUTH_DATA, 3: {}},
    "assertion": {1: {"type": "public-key", "id": b"id"}, 2: AUTH_DATA, 3: b"sig"},
}
PARSERS = {"info": Info.from_dict, "att": AttestationResponse.from_dict, "assertion": AssertionResponse.from_dict}


def only_typed_error(kind: str, data: Any) -> None:
    try:
        PARSERS[kind](data)
    except CtapResponseError:
        pass


@SETTINGS
@given(kind=st.sampled_from(sorted(PARSERS)), data=st.dictionaries(st.integers(0, 25), values, max_size=10))
def test_arbitrary_maps_give_only_the_typed_error(kind: str, data: dict[int, Any]) -> None:
    only_typed_error(kind, data)


@SETTINGS
@given(kind=st.sampled_from(sorted(PARSERS)), key=st.integers(1, 21), value=values)
def test_one_member_replaced_in_a_valid_response(kind: str, key: int, value: Any) -> None:
    only_typed_error(kind, {**GOOD[kind], key: value})


@SETTINGS
@given(kind=st.sampled_from(sorted(PARSERS)), data=values)
def test_non_maps_are_rejected(kind: str, data: Any) -> None:
    if not isinstance(data, Mapping):
        with pytest.raises(CtapResponseError):
            PARSERS[kind](data)


def test_valid_responses_parse_and_errors_name_the_member() -> None:
    info = Info.from_dict(GOOD["info"])
    assert info.versions == ["FIDO_2_1"] and info.pin_uv_protocols == [2, 1] and info.max_msg_size == 1024
    assert info.attestation_formats == ["packed"] and info.max_pin_length == 63
    info22 = Info.from_dict({**GOOD["info"], 22: ["packed", "none"], 24: True, 26: ["usb"], 29: 32, 31: [1, 3]})
    assert info22.attestation_formats == ["packed", "none"] and info22.long_touch_for_reset
    assert info22.transports_for_reset == ["usb"] and info22.max_pin_length == 32
    assert info22.authenticator_config_commands == [1, 3]
    assert AttestationResponse.from_dict(GOOD["att"]).auth_data.counter == 7
    assert AssertionResponse.from_dict(GOOD["assertion"]).credential["id"] == b"id"
    with pytest.raises(CtapResponseError, match=r"aaguid \(3\) is missing"):
        Info.from_dict({1: ["FIDO_2_0"]})
    with pytest.raises(CtapResponseError, match=r"maxMsgSize \(5\) must be int, got str"):
        Info.from_dict({**GOOD["info"], 5: "big"})
    with pytest.raises(CtapResponseError, match="vendorPrototypeConfigCommands"):
        Info.from_dict({**GOOD["info"], 21: ["x"]})
    with pytest.raises(CtapResponseError, match="signature"):
        AssertionResponse.from_dict({**GOOD["assertion"], 3: None})
    with pytest.raises(CtapResponseError, match="authData"):
        AttestationResponse.from_dict({**GOOD["att"], 2: b"\x00" * 10})
    with pytest.raises(CtapResponseError, match="too short"):
        AssertionResponse.from_ctap1(b"\x00" * 32, {"type": "public-key", "id": b"k"}, b"\x01\x00")
    with pytest.raises(Exception) as e:  # frozen
        info.versions = []  # type: ignore[misc]
    assert type(e.value).__name__ == "FrozenInstanceError"


class ScriptExhausted(Exception):
    """The scripted device has no answer left."""


class ScriptedDevice(CtapDevice):
    """Answers each CTAPHID_CBOR call with the next scripted response."""

    def __init__(self, *responses: bytes) -> None:
        self.responses = list(responses)
        self.requests: list[bytes] = []

    @property
    def capabilities(self) -> int:
        return CAPABILITY.CBOR

    async def call(self, cmd: int, data: bytes = b"", *, on_keepalive: KeepaliveCallback | None = None) -> bytes:
        assert cmd == CTAPHID.CBOR
        self.requests.append(data)
        if not self.responses:
            raise ScriptExhausted
        return self.responses.pop(0)


@SETTINGS
@given(raw=st.binary(max_size=64))
async def test_send_cbor_with_random_response_bytes(raw: bytes) -> None:
    ctap = Ctap2(ScriptedDevice(raw))
    try:
        result = await ctap.send_cbor(Ctap2.CMD.GET_INFO)
    except (CtapResponseError, CtapError):
        return
    assert isinstance(result, dict)


async def test_strict_cbor_rejects_non_canonical_responses() -> None:
    unsorted = b"\x00" + bytes.fromhex("a2") + b"\x02\x01" + b"\x01\x01"  # {2: 1, 1: 1}
    long_int = b"\x00" + bytes.fromhex("a1") + b"\x01\x18\x05"  # {1: 5} with a 1-byte argument
    for raw in (unsorted, long_int):
        with pytest.raises(CtapResponseError, match="canonical"):
            await Ctap2(ScriptedDevice(raw)).send_cbor(Ctap2.CMD.GET_INFO)
        assert await Ctap2(ScriptedDevice(raw), strict_cbor=False).send_cbor(Ctap2.CMD.GET_INFO) in (
            {1: 1, 2: 1},
            {1: 5},
        )
    with pytest.raises(CtapResponseError, match="trailing"):
        await Ctap2(ScriptedDevice(b"\x00\xa0\x00")).send_cbor(Ctap2.CMD.GET_INFO)
    with pytest.raises(CtapResponseError, match="must be a CBOR map"):
        await Ctap2(ScriptedDevice(b"\x00\x80")).send_cbor(Ctap2.CMD.GET_INFO)
    with pytest.raises(CtapResponseError, match="empty"):
        await Ctap2(ScriptedDevice(b"")).send_cbor(Ctap2.CMD.GET_INFO)
    with pytest.raises(CtapError) as e:
        await Ctap2(ScriptedDevice(b"\xf7")).send_cbor(Ctap2.CMD.GET_INFO)
    assert e.value.code == CtapError.UNKNOWN_ERR(0xF7)
    with pytest.raises(RuntimeError, match="create"):
        Ctap2(ScriptedDevice()).info  # noqa: B018


async def test_requests_are_canonical_and_skip_none() -> None:
    device = ScriptedDevice(b"\x00" + cbor.dumps(GOOD["att"]))
    ctap = Ctap2(device)
    await ctap.make_credential(b"\x01" * 32, {"id": "example.com"}, {"id": b"u"}, [{"type": "public-key", "alg": -7}])
    request = device.requests[0]
    assert request[0] == Ctap2.CMD.MAKE_CREDENTIAL
    assert cbor.loads(request[1:], strict=True) == {
        1: b"\x01" * 32,
        2: {"id": "example.com"},
        3: {"id": b"u"},
        4: [{"type": "public-key", "alg": -7}],
    }


async def test_get_assertions_is_lazy() -> None:
    first = {**GOOD["assertion"], 5: 3}
    device = ScriptedDevice(b"\x00" + cbor.dumps(first), b"\x00" + cbor.dumps(GOOD["assertion"]))
    ctap = Ctap2(device)
    it = ctap.get_assertions("example.com", b"\x00" * 32)
    assert (await anext(it)).number_of_credentials == 3
    assert len(device.requests) == 1
    await anext(it)
    assert [r[0] for r in device.requests] == [Ctap2.CMD.GET_ASSERTION, Ctap2.CMD.GET_NEXT_ASSERTION]
    await it.aclose()  # abandoned: the third is never fetched
    assert len(device.requests) == 2


async def test_bio_responses_checked() -> None:
    bad = ScriptedDevice(b"\x00" + cbor.dumps({5: 0, 6: 2}))  # no templateId
    bio = FPBioEnrollment(Ctap2(bad), None, None)
    with pytest.raises(ValueError, match="pinUvAuthToken"):
        await bio.enroll_begin()
    assert "FP_TOO_HIGH" in str(CaptureError(1)) and "0x42" in str(CaptureError(0x42))


async def test_large_blob_array_trailer_checked() -> None:
    from aioctap.ctap2 import LargeBlobs

    array = cbor.dumps([{1: b"ciphertext", 2: b"n" * 12, 3: 10}])
    good, bad = array + hashlib.sha256(array).digest()[:16], array + b"\x00" * 16
    for raw, entries in ((good, 1), (bad, 0), (b"\x80", 0)):
        info = b"\x00" + cbor.dumps(GOOD["info"])
        ctap = await Ctap2.create(ScriptedDevice(info, b"\x00" + cbor.dumps({1: raw})))
        assert len(await LargeBlobs(ctap).read_blob_array()) == entries
    ctap = await Ctap2.create(ScriptedDevice(b"\x00" + cbor.dumps(GOOD["info"]), b"\x00" + cbor.dumps({2: b"x"})))
    with pytest.raises(CtapResponseError, match="fragment"):
        await LargeBlobs(ctap).read_blob_array()


INFO_RESPONSE = b"\x00" + cbor.dumps(
    {1: ["FIDO_2_1"], 3: b"\x00" * 16, 4: {"clientPin": True, "pinUvAuthToken": True}, 6: [2, 1]}
)


async def _drive_management(responses: list[bytes]) -> None:
    """Every management parser of the host against whatever the device answers."""
    from aioctap.ctap2 import ClientPin, CredentialManagement, LargeBlobs, PinProtocolV2
    from aioctap.ctap2.pin import PinProtocolError

    device = ScriptedDevice(INFO_RESPONSE, *responses)
    ctap = await Ctap2.create(device)
    token = b"\x11" * 32
    steps = [
        lambda: CredentialManagement(ctap, PinProtocolV2(), token).enumerate_rps(),
        lambda: CredentialManagement(ctap, PinProtocolV2(), token).enumerate_creds(b"\x00" * 32),
        lambda: FPBioEnrollment(ctap, PinProtocolV2(), token).enumerate_enrollments(),
        lambda: FPBioEnrollment(ctap, PinProtocolV2(), token).enroll_begin(),
        lambda: FPBioEnrollment(ctap, PinProtocolV2(), token).get_modality(),
        lambda: LargeBlobs(ctap).read_blob_array(),
        lambda: ClientPin(ctap).get_pin_retries(),
        lambda: ClientPin(ctap).get_uv_retries(),
        lambda: ClientPin(ctap).get_pin_token("1234"),
    ]
    for step in steps:
        try:
            await step()
        except (CtapResponseError, CtapError, PinProtocolError):
            pass
        except ScriptExhausted:  # every step so far handled its answers
            return


response_maps = st.dictionaries(st.integers(1, 12), values, max_size=6).map(lambda m: b"\x00" + cbor.dumps(m))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(responses=st.lists(st.one_of(response_maps, st.binary(max_size=40)), min_size=1, max_size=12))
async def test_management_parsers_give_only_typed_errors(responses: list[bytes]) -> None:
    await _drive_management(responses)


def _blob_array_response(entries: list[Any]) -> bytes:
    array = cbor.dumps(entries)
    return b"\x00" + cbor.dumps({1: array + hashlib.sha256(array).digest()[:16]})


def _blob_entry(key: bytes, data: bytes, orig_size: Any) -> dict[int, Any]:
    import zlib

    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    compressor = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    compressed = compressor.compress(data) + compressor.flush()
    nonce = b"\x07" * 12
    size = orig_size if isinstance(orig_size, int) and 0 <= orig_size < 2**64 else len(data)
    aad = b"blob" + size.to_bytes(8, "little")
    return {1: AESGCM(key).encrypt(nonce, compressed, aad), 2: nonce, 3: orig_size}


@pytest.mark.parametrize("orig_size", [-1, -(2**64), 2**64 - 1, True, "5", None])
async def test_large_blob_entry_with_an_impossible_size_is_skipped(orig_size: Any) -> None:
    """fuzz/known_crashes/large_blob_array-negative-size: an origSize outside uint64 (or not an integer) is an
    entry that is not ours, not a struct.error; a valid entry after it is still found."""
    from aioctap.ctap2 import LargeBlobs

    key = b"\x42" * 32
    entries = [_blob_entry(key, b"hello", orig_size), _blob_entry(key, b"the real blob", 13)]
    info = b"\x00" + cbor.dumps(GOOD["info"])
    ctap = await Ctap2.create(ScriptedDevice(info, _blob_array_response(entries)))
    assert await LargeBlobs(ctap).get_blob(key) == b"the real blob"


@SETTINGS
@given(entries=st.lists(st.dictionaries(st.integers(0, 4), scalars, max_size=4) | values, max_size=4))
async def test_large_blob_get_blob_on_arbitrary_entries(entries: list[Any]) -> None:
    """Whatever entries the array holds, get_blob finds none of them for a key that made none."""
    from aioctap.ctap2 import LargeBlobs

    info = b"\x00" + cbor.dumps(GOOD["info"])
    ctap = await Ctap2.create(ScriptedDevice(info, _blob_array_response(entries)))
    assert await LargeBlobs(ctap).get_blob(b"\x42" * 32) is None


def test_info_encrypted_members_open_with_the_persistent_token_only() -> None:
    """CTAP 2.2 §6.4 encIdentifier / encCredStoreState: IV || AES-128-CBC under HKDF-SHA-256(token, info); absent
    members give None, malformed ones a CtapResponseError (never a crash in the cipher)."""
    from aioctap.ctap2 import CtapResponseError, Info
    from aioctap.ctap2.pin import ENC_CRED_STORE_STATE_INFO, ENC_IDENTIFIER_INFO, seal_info_member

    token = bytes(range(32))
    base = {1: ["FIDO_2_1"], 3: bytes(16)}
    identifier, state = b"I" * 16, b"S" * 16
    info = Info.from_dict(
        {**base, 25: seal_info_member(token, ENC_IDENTIFIER_INFO, identifier),
         30: seal_info_member(token, ENC_CRED_STORE_STATE_INFO, state)}
    )  # fmt: skip
    assert info.get_identifier(token) == identifier and info.get_cred_store_state(token) == state
    assert info.get_identifier(bytes(32)) != identifier  # another token: another key
    assert Info.from_dict(base).get_identifier(token) is None
    for bad in (b"short", bytes(40)):
        with pytest.raises(CtapResponseError, match="encIdentifier"):
            Info.from_dict({**base, 25: bad}).get_identifier(token)
