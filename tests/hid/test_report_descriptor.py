"""parse_report_descriptor (python-fido2's ``fido2.hid.base`` name): report sizes of a FIDO HID descriptor."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aioctap.hid.base import FIDO_USAGE, FIDO_USAGE_PAGE, parse_report_descriptor

# usage page 0xF1D0, usage 1, collection, input 64 x 8 bits, output 64 x 8 bits (a YubiKey's)
FIDO = bytes.fromhex("06d0f10901a1010920150026ff007508954081020921150026ff00750895409102c0")


def test_fido_descriptor_sizes() -> None:
    assert parse_report_descriptor(FIDO) == (64, 64)
    assert (FIDO_USAGE_PAGE, FIDO_USAGE) == (0xF1D0, 1)


def test_sizes_of_other_report_lengths_and_four_byte_items() -> None:
    # usage page as a 4-byte item, input 32 bytes, output 128 bytes (report count as a 2-byte item)
    desc = bytes.fromhex("07d0f100000901a101750895208102750896800091 02c0".replace(" ", ""))
    assert parse_report_descriptor(desc) == (32, 128)


def test_a_long_item_is_skipped() -> None:
    assert parse_report_descriptor(bytes.fromhex("fe0100aa") + FIDO) == (64, 64)


def test_a_mouse_is_not_a_fido_device() -> None:
    mouse = bytes.fromhex(
        "05010902a1010901a1000509190129051500250195057501810295017503810105010930093109381581257f750895038106c0c0"
    )
    with pytest.raises(ValueError, match="not a FIDO"):
        parse_report_descriptor(mouse)


def test_no_output_report() -> None:
    with pytest.raises(ValueError, match="no output"):
        parse_report_descriptor(FIDO[: FIDO.index(bytes.fromhex("9102"))])


@given(st.binary(max_size=200))
def test_any_bytes_give_sizes_or_value_error(data: bytes) -> None:
    try:
        parse_report_descriptor(data)
    except ValueError:
        pass
