"""Canonical CTAP2 CBOR: encoding order, strict decoding, hostile input."""

from __future__ import annotations

import io
from typing import Any

import cbor2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aioctap import cbor


def test_canonical_map_order() -> None:
    # CTAP2 canonical order: shorter encoded keys first, then bytewise (CTAP 2.1 §8.1)
    encoded = cbor.dumps({"bb": 1, "a": 2, 10: 3, -1: 4, 1: 5})
    assert encoded == bytes.fromhex("a5") + bytes.fromhex("0105") + bytes.fromhex("0a03") + bytes.fromhex(
        "2004"
    ) + b"\x61a\x02" + b"\x62bb\x01"


def test_round_trip_strict() -> None:
    value = {1: b"\x00" * 3, 2: ["x", {"k": True}], 3: -24, 4: None}
    assert cbor.loads(cbor.dumps(value)) == value


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "invalid CBOR"),
        (b"\x18\x01", "canonical"),  # 1 encoded in two bytes
        (b"\xa2\x02\x00\x01\x00", "canonical"),  # keys out of order
        (b"\x9f\x01\xff", "canonical"),  # indefinite-length array
        (b"\xf9\x00\x00", "float"),  # half float
        (b"\xc1\x01", "not allowed"),  # tag 1 (datetime)
        (b"\x01\x02", "trailing"),
    ],
)
def test_rejects_non_ctap2_cbor(data: bytes, message: str) -> None:
    with pytest.raises(cbor.CborError, match=message):
        cbor.loads(data)


def test_lenient_mode_accepts_non_canonical() -> None:
    assert cbor.loads(b"\x18\x01", strict=False) == 1


def test_decode_from_returns_rest() -> None:
    assert cbor.decode_from(b"\x01\x02\x03") == (1, b"\x02\x03")


def test_deep_nesting_is_rejected() -> None:
    with pytest.raises(cbor.CborError):
        cbor.loads(b"\x81" * 40 + b"\x01")


@settings(max_examples=300)
@given(st.binary(max_size=64))
def test_any_bytes_decode_or_typed_error(data: bytes) -> None:
    for strict in (True, False):
        try:
            cbor.loads(data, strict=strict)
        except cbor.CborError:
            pass


ctap_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.binary(max_size=20) | st.text(max_size=10),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.integers(-100, 100) | st.text(max_size=5), children, max_size=4),
    max_leaves=12,
)


@settings(max_examples=200)
@given(ctap_values)
def test_round_trip_property(value: object) -> None:
    assert cbor.loads(cbor.dumps(value)) == value


# -- the strict decoder against the straightforward one it replaced -----------------------------------
#
# ``_oracle_loads`` is the previous implementation of ``cbor.loads``: decode with cbor2's default decoder,
# walk the value checking every item's type and the nesting depth, and (strict) re-encode it canonically
# and compare the bytes. One amendment: integers outside the 64-bit range of CBOR's major types 0/1 (which
# only tags 2/3, bignums, can produce) are refused; the old implementation let a bignum tag through.


def _oracle_check_types(obj: Any, depth: int = 0) -> None:
    if depth > 16:
        raise cbor.CborError("CBOR nesting deeper than 16 levels")
    if isinstance(obj, float) or not isinstance(obj, (int, bytes, str, bool, type(None), list, dict)):
        raise cbor.CborError(f"CBOR item of type {type(obj).__name__} is not allowed in CTAP2")
    if isinstance(obj, int) and not -(2**64) <= obj < 2**64:
        raise cbor.CborError("integer out of range")  # the amendment
    if isinstance(obj, list):
        for item in obj:
            _oracle_check_types(item, depth + 1)
    elif isinstance(obj, dict):
        for k, v in obj.items():
            if not isinstance(k, int | str | bytes) or isinstance(k, bool):
                raise cbor.CborError(f"CBOR map key of type {type(k).__name__} is not allowed in CTAP2")
            _oracle_check_types(v, depth + 1)


def _oracle_loads(data: bytes, strict: bool) -> Any:
    try:
        fp = io.BytesIO(data)
        obj = cbor2.CBORDecoder(fp).decode()
        used = fp.tell()
    except Exception as e:
        raise cbor.CborError(f"invalid CBOR: {e}") from None
    _oracle_check_types(obj)
    if strict and cbor2.dumps(obj, canonical=True) != data[:used]:
        raise cbor.CborError("CBOR is not in CTAP2 canonical form")
    if data[used:]:
        raise cbor.CborError("trailing bytes")
    return obj


def _head(major: int, n: int, longer: int = 0) -> bytes:
    """A CBOR head; ``longer`` > 0 forces a wider argument than needed (not canonical)."""
    widths = [(24, 0), (0x100, 1), (0x10000, 2), (0x100000000, 4), (2**64, 8)]
    index = next(i for i, (limit, _) in enumerate(widths) if n < limit)
    index = min(index + longer, 4)
    size = widths[index][1]
    if size == 0:
        return bytes([major << 5 | n])
    return bytes([major << 5 | (24 + index - 1)]) + n.to_bytes(size, "big")


@st.composite
def cbor_items(draw: st.DrawFn, depth: int = 0) -> bytes:
    """Encoded CBOR items, mostly canonical CTAP2, sometimes breaking one rule of the profile."""
    odd = draw(st.integers(0, 30)) == 0  # now and then, a non-canonical head
    longer = draw(st.integers(1, 3)) if odd else 0
    kinds = ["uint", "nint", "bytes", "text", "simple"] + (["array", "map"] * 2 if depth < 4 else [])
    kind = draw(st.sampled_from([*kinds, "rare"]))
    if kind == "uint":
        return _head(0, draw(st.integers(0, 2**64 - 1) | st.integers(0, 300)), longer)
    if kind == "nint":
        return _head(1, draw(st.integers(0, 2**64 - 1) | st.integers(0, 300)), longer)
    if kind == "bytes":
        value = draw(st.binary(max_size=30))
        return _head(2, len(value), longer) + value
    if kind == "text":
        text = draw(st.text(max_size=8)).encode()
        return _head(3, len(text), longer) + text
    if kind == "simple":
        return draw(st.sampled_from([b"\xf4", b"\xf5", b"\xf6"]))
    if kind == "rare":
        return draw(
            st.sampled_from([b"\xf7", b"\xe0", b"\xf8\x20", b"\xf9\x3c\x00", b"\xfa\x00\x00\x00\x00",
                             b"\xfb" + bytes(8), b"\x5f\x41a\xff", b"\x7f\x61a\xff", b"\xff", b"\x1c"])
            | st.builds(lambda tag, inner: _head(6, tag) + inner, st.sampled_from([0, 1, 2, 3, 4, 24, 28, 55799]),
                        st.sampled_from([b"\x00", b"\x41\x01", b"\x49" + bytes([1]) + bytes(8), b"\x80", b"\x60"]))
        )  # fmt: skip
    if kind == "array":
        items = draw(st.lists(cbor_items(depth + 1), max_size=3))
        if draw(st.integers(0, 20)) == 0:
            return b"\x9f" + b"".join(items) + b"\xff"
        return _head(4, len(items), longer) + b"".join(items)
    keys = draw(
        st.lists(
            st.one_of(
                st.integers(-30, 30).map(lambda n: _head(0, n) if n >= 0 else _head(1, -1 - n)),
                st.sampled_from([b"\x61a", b"\x62id", b"\x64type", b"\x40", b"\x41a", b"\x63\xc3\xa9x", b"\x18\x64",
                                 b"\x19\x01\x00", b"\x38\x63", b"\x80", b"\xa0", b"\xf5", b"\xf6", b"\xf9\x00\x00"]),
                cbor_items(depth + 1),
            ),
            max_size=4,
        )
    )  # fmt: skip
    if draw(st.integers(0, 3)) > 0:
        keys = sorted(set(keys), key=lambda k: (len(k), k))  # canonical order, usually
    values = [draw(cbor_items(depth + 1)) for _ in keys]
    if draw(st.integers(0, 20)) == 0:
        return b"\xbf" + b"".join(k + v for k, v in zip(keys, values, strict=True)) + b"\xff"
    return _head(5, len(keys), longer) + b"".join(k + v for k, v in zip(keys, values, strict=True))


def _outcome(decode: Any, data: bytes, strict: bool) -> tuple[str, bytes | str]:
    try:
        value = decode(data, strict=strict)
    except cbor.CborError as e:
        assert str(e), "CborError without a message"
        return "error", str(e)
    return "ok", cbor2.dumps(value)  # a plain encoding tells 1 from True and keeps dict order


def _has_duplicate_keys(data: bytes) -> bool:
    try:
        cbor2.loads(data, allow_duplicate_keys=False)
    except cbor2.CBORDecodeError as e:
        return "Duplicate map key" in str(e)
    return False


def _same_outcome(data: bytes) -> None:
    for strict in (True, False):
        new = _outcome(cbor.loads, data, strict)
        old = _outcome(_oracle_loads, data, strict)
        if new[0] == "error" and old[0] == "ok" and not strict:
            # the lenient decoder refuses every tag; the old one let some through (bignums, shared values,
            # self-described CBOR), which the strict check (canonical re-encoding) refused anyway. It also
            # checks a value that a duplicate map key later overwrites; the old one only saw the survivor.
            assert "tag" in str(new[1]) or _has_duplicate_keys(data), (data.hex(), new, old)
            continue
        assert new[0] == old[0], (data.hex(), strict, new, old)
        if new[0] == "ok":
            assert new[1] == old[1], (data.hex(), strict)
        if strict and new[0] == "ok":
            assert cbor.dumps(cbor.loads(data)) == data  # accepted strict input is canonical


@settings(max_examples=600, deadline=None)
@given(cbor_items(), st.sampled_from([b"", b"", b"", b"\x00", b"\xff"]))
def test_strict_decoder_agrees_with_oracle(item: bytes, tail: bytes) -> None:
    _same_outcome(item + tail)


@settings(max_examples=300, deadline=None)
@given(cbor_items(), st.data())
def test_strict_decoder_agrees_with_oracle_on_mutations(item: bytes, data: st.DataObject) -> None:
    mutated = bytearray(item)
    for _ in range(data.draw(st.integers(1, 3))):
        if not mutated:
            break
        i = data.draw(st.integers(0, len(mutated) - 1))
        mutated[i] = data.draw(st.integers(0, 255))
    _same_outcome(bytes(mutated))


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=40))
def test_strict_decoder_agrees_with_oracle_on_random_bytes(data: bytes) -> None:
    _same_outcome(data)


def test_profile_edges_agree_with_oracle() -> None:
    cases = [
        b"\x81" * 16 + b"\x01", b"\x81" * 17 + b"\x01", b"\x81" * 16 + b"\x80", b"\x81" * 17 + b"\x80",
        b"\xa1\x01" * 16 + b"\x01", b"\xa1\x01" * 17 + b"\x01",
        b"\xa2\x01\x00\x01\x00",  # duplicate key
        b"\xa2\x01\x00\xf5\x00", b"\xa1\xf5\x00", b"\xa1\xf6\x00", b"\xa1\x80\x00", b"\xa1\xa0\x00",
        b"\xa2\x17\x00\x20\x00", b"\xa2\x20\x00\x17\x00",  # 23 before -1 (both one byte: 0x17 < 0x20)
        b"\xa2\x18\x18\x00\x20\x00", b"\xa2\x20\x00\x18\x18\x00",  # -1 (one byte) before 24 (two bytes)
        b"\xa2\x61a\x00\x41a\x00", b"\xa2\x41a\x00\x61a\x00",  # bytes (major 2) before text (major 3)
        b"\xa2\x62\xc3\xa9\x00\x62zz\x00", b"\xa2\x62zz\x00\x62\xc3\xa9\x00",  # UTF-8 bytewise
        b"\xa2\x62id\x00\x64type\x00", b"\xa2\x64type\x00\x62id\x00",
        b"\xc2\x49\x01" + bytes(8), b"\xc3\x49\x01" + bytes(8), b"\x1b" + b"\xff" * 8, b"\x3b" + b"\xff" * 8,
        b"\xd8\x1c\x80", b"\xd9\xd9\xf7\x01", b"\xf7", b"\xf8\xff", b"\xfb" + bytes(8),
        b"\xbf\x00\xbf\x80\x00\xff\x00\x00\xff",  # lenient: a non-CTAP key in a value a duplicate key overwrites
    ]  # fmt: skip
    for data in cases:
        _same_outcome(data)


def test_messages_say_what_is_wrong() -> None:
    for data, message in [
        (b"\xa2\x02\x00\x01\x00", "map keys out of order"),
        (b"\xa2\x01\x00\x01\x00", "canonical"),
        (b"\xa1\xf5\x00", "map key of type bool"),
        (b"\x82\x01\xf7", "type UndefinedType"),
        (b"\xc2\x49\x01" + bytes(8), "tag 2"),
        (b"\x81" * 17 + b"\x01", "nesting deeper than 16"),
        (b"\x61\xff", "invalid CBOR"),
        (b"\x18\x01\x00", "canonical"),
        (b"\x01\x00", "1 trailing bytes"),
    ]:
        with pytest.raises(cbor.CborError, match=message):
            cbor.loads(data)
