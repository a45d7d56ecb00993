"""The host's fast paths for getAssertion and makeCredential agree with the general code they shortcut.

``Ctap2.get_assertion`` / ``make_credential`` encode their requests without ``cbor.dumps`` when every argument
is of a plain shape, ``AssertionResponse.from_dict`` / ``AttestationResponse.from_dict`` build the response
without the member-by-member checker when every member has its exact type, and ``AuthenticatorData`` reads its
fixed head in one unpack. Each test here puts the fast path beside a reference (the general code, or the
straightforward formula it replaced) on generated inputs, good and bad, and wants the same bytes, the same
object, or the same typed error.
"""

from __future__ import annotations

import dataclasses
import hashlib
import struct
from collections.abc import Callable
from functools import partial
from types import MappingProxyType
from typing import Any

import cbor2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aioctap import cbor
from aioctap.cose import CoseError, CoseKey
from aioctap.ctap import CtapDevice, CtapError, KeepaliveCallback
from aioctap.ctap2 import AssertionResponse, AttestationResponse, Ctap2, CtapResponseError
from aioctap.ctap2 import base as ctap2_base
from aioctap.ctap2.base import _map_or_none, _maps_or_none, args
from aioctap.hid.protocol import CAPABILITY, CTAPHID
from aioctap.webauthn import AttestedCredentialData, AuthenticatorData, CredentialIdLengthError, WebAuthnDataError

SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
REQUEST_SETTINGS = settings(SETTINGS, max_examples=300)  # many parameters, each with its odd values: more examples

# -- requests --------------------------------------------------------------------------------------------------

big_ints = st.sampled_from([2**64 - 1, 2**64, -(2**64), -(2**64) - 1, 2**70])
scalars = st.one_of(
    st.text(max_size=8),
    st.binary(max_size=16),
    st.booleans(),
    st.none(),
    st.integers(-300, 300),
    big_ints,
)
text_keys = st.one_of(
    st.sampled_from(["id", "type", "name", "alg", "displayName", "transports", "rk", "up", "uv", "icon"]),
    st.text(max_size=30),  # long and non-ASCII keys: general path
)
odd_values = st.one_of(
    st.lists(st.text(max_size=4), max_size=3),
    st.lists(scalars, max_size=3),
    st.dictionaries(st.integers(-2, 5), scalars, max_size=2),
    st.tuples(st.text(max_size=3)),
    st.just("\ud800"),  # a lone surrogate: not encodable
    st.just(1.5),  # not a CTAP2 type
    st.just(bytearray(b"ba")),
)
flat_maps = st.dictionaries(text_keys, scalars | st.lists(st.text(max_size=4), max_size=3), max_size=4)
odd_maps = st.one_of(
    st.builds(lambda m, k, v: {**m, k: v}, flat_maps, text_keys, odd_values),  # one odd value among plain ones
    st.dictionaries(text_keys | st.integers(-3, 3), scalars | odd_values, max_size=4),
    flat_maps.map(MappingProxyType),
)
descriptors = st.one_of(
    st.fixed_dictionaries({"type": st.just("public-key"), "id": st.binary(max_size=80)}),
    st.fixed_dictionaries({"id": st.binary(max_size=8), "type": st.text(max_size=10)}),
    st.fixed_dictionaries(
        {"type": st.just("public-key"), "id": st.binary(max_size=8), "transports": st.lists(st.text(max_size=5))}
    ),
    st.fixed_dictionaries({"type": st.just("public-key"), "alg": st.integers(-300, 300) | big_ints}),
    st.fixed_dictionaries({"alg": st.just(-7), "type": st.just("public-key")}),
    flat_maps,
)
map_lists = st.one_of(
    st.none(),
    st.lists(descriptors, max_size=3),
    st.lists(descriptors, max_size=3).map(tuple),
    st.lists(descriptors | odd_maps, max_size=3),
)
options: st.SearchStrategy[dict[str, bool] | None] = st.one_of(
    st.none(), st.just({}), st.dictionaries(st.sampled_from(["rk", "up", "uv"]), st.booleans())
)
maybe = st.one_of


def _outcome(fn: Callable[[], bytes]) -> tuple[str, Any]:
    try:
        return "ok", fn()
    except Exception as e:  # compared by type and text: the fast path must fail exactly as the reference does
        return type(e).__name__, str(e)


def _reference_get_assertion(*a: Any) -> bytes:
    rp_id, cdh, allow, ext, opts, param, protocol = a
    return b"\x02" + cbor.dumps(
        dict(args(rp_id, cdh, _maps_or_none(allow), _map_or_none(ext), _map_or_none(opts), param, protocol))
    )


def _reference_make_credential(*a: Any) -> bytes:
    cdh, rp, user, params, exclude, ext, opts, param, protocol, ep = a
    return b"\x01" + cbor.dumps(
        dict(
            args(
                cdh,
                dict(rp),
                dict(user),
                [dict(k) for k in params],
                _maps_or_none(exclude),
                _map_or_none(ext),
                _map_or_none(opts),
                param,
                protocol,
                ep,
            )
        )
    )


plain_map_lists = st.one_of(st.none(), st.lists(descriptors, max_size=3))
odd_map_lists = st.one_of(
    st.lists(descriptors, max_size=3).map(tuple), st.lists(descriptors | odd_maps, min_size=1, max_size=3)
)
odd_scalars = st.one_of(st.text(max_size=2), st.just(1.5), st.just(bytearray(b"ba")), st.just([b"x"]))
odd_ints = st.one_of(big_ints, st.booleans(), st.just(1.0), st.integers(-3, 3).map(lambda i: IntLike(i)))
# each parameter: (what callers pass, what they should not); a request takes plain values with 0..2 odd ones
GET_ASSERTION_PARAMS = [
    (st.text(max_size=20), st.one_of(st.just("\udc80x"), st.binary(max_size=3))),
    (st.binary(min_size=32, max_size=32), st.text(max_size=3)),
    (plain_map_lists, odd_map_lists),
    (st.one_of(st.none(), st.just({})), st.one_of(st.just({"hmac-secret": True}), odd_maps)),
    (options, odd_maps),
    (st.one_of(st.none(), st.binary(max_size=16)), odd_scalars),
    (st.one_of(st.none(), st.integers(0, 3)), odd_ints),
]
MAKE_CREDENTIAL_PARAMS = [
    (st.binary(min_size=32, max_size=32), st.text(max_size=3)),
    (flat_maps, odd_maps),
    (flat_maps, odd_maps),
    (st.lists(descriptors, max_size=3), odd_map_lists),
    (plain_map_lists, odd_map_lists),
    (st.one_of(st.none(), st.just({})), st.one_of(st.just({"credProtect": 2}), odd_maps)),
    (options, odd_maps),
    (st.one_of(st.none(), st.binary(max_size=16)), odd_scalars),
    (st.one_of(st.none(), st.integers(0, 3)), odd_ints),
    (st.one_of(st.none(), st.integers(0, 3)), odd_ints),
]


class IntLike(int):
    """An int subclass (as an IntEnum member is): the general encoder writes it as the integer it is."""


@st.composite
def call_args(draw: st.DrawFn, params: list[tuple[st.SearchStrategy[Any], st.SearchStrategy[Any]]]) -> tuple[Any, ...]:
    values = [draw(plain) for plain, _ in params]
    for _ in range(draw(st.sampled_from([0, 1, 1, 1, 2]))):
        i = draw(st.sampled_from(range(len(params))))
        values[i] = draw(params[i][1])
    return tuple(values)


get_assertion_args = call_args(GET_ASSERTION_PARAMS)
make_credential_args = call_args(MAKE_CREDENTIAL_PARAMS)


@REQUEST_SETTINGS
@given(a=get_assertion_args)
def test_get_assertion_request_is_the_reference_encoding(a: tuple[Any, ...]) -> None:
    assert _outcome(lambda: ctap2_base._get_assertion_request(*a)) == _outcome(lambda: _reference_get_assertion(*a))


@REQUEST_SETTINGS
@given(a=make_credential_args)
def test_make_credential_request_is_the_reference_encoding(a: tuple[Any, ...]) -> None:
    ours = _outcome(lambda: ctap2_base._make_credential_request(*a))
    assert ours == _outcome(lambda: _reference_make_credential(*a))


GA_PLAIN = ("example.com", bytes(32), [{"type": "public-key", "id": b"c"}], None, {"up": True}, b"p" * 16, 2)
MC_PLAIN = (
    bytes(32),
    {"id": "example.com", "name": "Ex"},
    {"id": b"u", "name": "n", "displayName": "d"},
    [{"type": "public-key", "alg": -7}],
    [{"type": "public-key", "id": b"c"}],
    None,
    {"rk": True},
    b"p" * 16,
    2,
    1,
)
ODD_VALUES: list[Any] = [
    *(1.5, bytearray(b"ba"), "\udc80", "text", b"bytes", None, 0, True, 2**64, -(2**64) - 1, IntLike(3), {}, []),
    *([b"x"], [1.5], ["\udc80"], [1, "a"], ({"type": "public-key", "id": b"x"},)),
    *({"k": [1.5]}, {"k": [2**64]}, {"k": [{"bb": 1, "a": 2}]}, {"k": [[]]}),
    *({"k": 1.5}, {"k": 2**64}, {"k": [1]}, {"k": ["\udc80"]}, {"k": "\udc80"}, {"k": {"n": 1}}, {"k": ("t",)}),
    *({"\u00e9": 1}, {"x" * 24: 1}, {1: "a"}, {b"k": 1}, MappingProxyType({"a": 1}), {"hmac-secret": True}),
    [{"type": "public-key", "id": bytearray(b"x")}],
    [{"type": "public-key", "alg": 2**64}],
    [{"type": "public-key", "alg": True}],
    [{"type": 1, "id": b"x"}],
    [{"type": "\udc80", "id": b"x"}],
    [{"type": "public-key", "id": "text"}],
    [{"type": "public-key", "id": 1.5}],
    [{"type": "public-key", "id": 2**64}],
    [{"id": b"x", "type": "a", "transports": [1]}],
    [{"id": b"x", "type": "a", "transports": ["\udc80"]}],
    [MappingProxyType({"id": b"x", "type": "a"})],
    [{"type": "public-key", "id": b"x"}, 1.5],
]


@pytest.mark.parametrize("odd", ODD_VALUES, ids=repr)
def test_each_parameter_with_an_odd_value_encodes_as_the_reference(odd: Any) -> None:
    """Every parameter of both commands in turn gets the odd value, the others being what callers pass."""
    for plain, encode, reference in (
        (GA_PLAIN, ctap2_base._get_assertion_request, _reference_get_assertion),
        (MC_PLAIN, ctap2_base._make_credential_request, _reference_make_credential),
    ):
        for i in range(-1, len(plain)):
            a = plain if i < 0 else (*plain[:i], odd, *plain[i + 1 :])
            assert _outcome(partial(encode, *a)) == _outcome(partial(reference, *a)), (i, a)


plain_descriptor_lists = st.lists(
    st.fixed_dictionaries({"type": st.just("public-key"), "id": st.binary(max_size=64)})
    | st.fixed_dictionaries(
        {"id": st.binary(max_size=8), "type": st.just("public-key"), "transports": st.lists(st.sampled_from(["usb"]))}
    ),
    max_size=3,
)


@SETTINGS
@given(
    rp_id=st.text(st.characters(codec="utf-8"), max_size=20),
    allow=plain_descriptor_lists,
    opts=options,
    param=st.none() | st.binary(max_size=32),
    protocol=st.none() | st.sampled_from([1, 2]),
    user=st.fixed_dictionaries(
        {"id": st.binary(max_size=64)}, optional={"name": st.text(max_size=8), "displayName": st.text(max_size=8)}
    ),
    alg=st.sampled_from([-7, -8, -257, -65535]),
)
def test_plain_arguments_take_the_fast_path(
    rp_id: str,
    allow: list[dict[str, Any]],
    opts: dict[str, bool] | None,
    param: bytes | None,
    protocol: int | None,
    user: dict[str, Any],
    alg: int,
) -> None:
    """What callers pass is encoded by the fast path (so the tests above compare it, not the fallback twice)."""
    cdh = bytes(32)
    ga = (rp_id, cdh, allow, None, opts, param, protocol)
    fast = ctap2_base._fast_get_assertion_request(*ga)
    assert fast is not None and fast == _reference_get_assertion(*ga)
    rp = {"name": "Example", "id": rp_id}
    mc = (cdh, rp, user, [{"type": "public-key", "alg": alg}], allow, None, opts, param, protocol, None)
    fast = ctap2_base._fast_make_credential_request(*mc)
    assert fast is not None and fast == _reference_make_credential(*mc)


def test_key_order_cache_is_bounded_and_right() -> None:
    for i in range(ctap2_base._KEY_ORDERS_MAX + 20):
        value = {f"k{i:03d}": 1, "a": 2, "zz": 3}
        ordered = ctap2_base._flat_text_map(value)
        assert ordered == value and list(ordered) == ["a", "zz", f"k{i:03d}"]
        assert cbor2.dumps(ordered) == cbor.dumps(value)  # written as it is: canonical
    assert len(ctap2_base._KEY_ORDERS) <= ctap2_base._KEY_ORDERS_MAX
    wide = {f"{'k' * (i % 5 + 1)}{i}": i for i in range(30)}  # many keys: ordered, not remembered
    ordered_wide = ctap2_base._flat_text_map(wide)
    assert ordered_wide is not None and cbor2.dumps(ordered_wide) == cbor.dumps(wide)
    assert list(ordered_wide) == sorted(wide, key=lambda k: (len(k), k)) and tuple(wide) not in ctap2_base._KEY_ORDERS
    already = {"id": b"x", "name": "n", "displayName": "d"}
    assert ctap2_base._flat_text_map(already) is already  # in canonical order: used as it is


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


@SETTINGS
@given(data=assertion_maps())
def test_assertion_fast_parse_equals_the_general_parser(data: dict[int, Any]) -> None:
    fast = _parse_outcome(lambda: AssertionResponse.from_dict(data))
    assert fast == _parse_outcome(lambda: AssertionResponse._from_mapping(data))
    assert fast[0] in ("ok", "CtapResponseError")
    if fast[0] == "ok":
        response = fast[1]
        assert type(response) is AssertionResponse and type(response.auth_data) is AuthenticatorData
        assert response.credential is not data[1]  # a copy, as the general parser makes
        assert [f.name for f in dataclasses.fields(response)] == list(vars(response))


@SETTINGS
@given(data=attestation_maps())
def test_attestation_fast_parse_equals_the_general_parser(data: dict[int, Any]) -> None:
    fast = _parse_outcome(lambda: AttestationResponse.from_dict(data))
    assert fast == _parse_outcome(lambda: AttestationResponse._from_mapping(data))
    assert fast[0] in ("ok", "CtapResponseError")
    if fast[0] == "ok":
        response = fast[1]
        assert type(response) is AttestationResponse and response.att_stmt is not data[3]
        assert [f.name for f in dataclasses.fields(response)] == list(vars(response))


def test_fast_parsed_responses_are_frozen_and_subclasses_and_mappings_still_parse() -> None:
    data = {1: {"type": "public-key", "id": b"id"}, 2: _auth_data_bytes(0x05, 9), 3: b"sig", 5: 2}
    response = AssertionResponse.from_dict(data)
    assert response.number_of_credentials == 2 and response.auth_data.counter == 9 and response.user is None
    assert response == AssertionResponse._from_mapping(data)
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


response_bytes = st.one_of(
    st.binary(max_size=80), assertion_maps().map(_encoded), attestation_maps().map(_encoded)
)


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
    assert device.requests[-1] == _reference_get_assertion(*call)
    assert got == AssertionResponse.from_dict(await ctap.send_cbor(Ctap2.CMD.GET_ASSERTION, {1: "example.com"}))
    with pytest.raises(CtapError) as e:
        await Ctap2(Replay(b"\x2e")).get_assertion("example.com", bytes(32))
    assert e.value.code == CtapError.ERR.NO_CREDENTIALS
    with pytest.raises(CtapResponseError, match="empty"):
        await Ctap2(Replay(b"")).make_credential(bytes(32), {"id": "x"}, {"id": b"u"}, [])
    with pytest.raises(cbor.CborError, match="type float"):  # the general encoder's error, as before
        await Ctap2(Replay(b"\x00")).get_assertion("example.com", bytes(32), options={"up": 1.5})  # type: ignore[dict-item]
