"""Canonical CTAP2 CBOR: encoding order, strict decoding, hostile input."""

from __future__ import annotations

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
