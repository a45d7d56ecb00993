"""GNU Taler POS confirmation codes and amounts."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aioctap.otp import KeyFormatError, TalerAmount, pos_confirmation

KEY = base64.b32encode(b"12345678901234567890").decode()


def test_algorithm_1_middle_code_is_rfc6238() -> None:
    codes = pos_confirmation(KEY, 1, 1111111109)
    assert codes is not None
    lines = codes.split("\n")
    # RFC 6238's SHA1 8-digit code at T=1111111109 is 07081804: Taler's backend prints it with %llu
    assert len(lines) == 5 and lines[2] == "7081804"
    assert lines[3] == "14050471"  # the next step (RFC's T=1111111111 is in step t+1)
    assert pos_confirmation(KEY.lower(), "TOTP_WITHOUT_PRICE", 1111111109) == codes


def test_algorithm_2_binds_the_price() -> None:
    a = pos_confirmation(KEY, 2, 1111111109, "EUR:1.5")
    b = pos_confirmation(KEY, "TOTP_WITH_PRICE", 1111111109, "EUR:1.50000000")
    c = pos_confirmation(KEY, 2, 1111111109, "EUR:1.51")
    assert a == b and a != c and a != pos_confirmation(KEY, 1, 1111111109)
    assert a is not None and all(0 < len(x) <= 8 and x.isdigit() and x == str(int(x)) for x in a.split("\n"))
    assert pos_confirmation(KEY, 2, 1111111109) is None  # no price: no code
    assert pos_confirmation(KEY, 0, 1111111109, "EUR:1") is None
    assert pos_confirmation(KEY, "NONE", 0) is None


def test_amount_parsing() -> None:
    a = TalerAmount.parse("KUDOS:10.5")
    assert (a.currency, a.value, a.fraction) == ("KUDOS", 10, 50000000)
    assert a.to_nbo() == (10).to_bytes(8, "big") + (50000000).to_bytes(4, "big") + b"KUDOS" + b"\0" * 7
    assert str(a) == "KUDOS:10.5"
    assert TalerAmount.parse(f"EUR:{2**52}").value == 2**52


@pytest.mark.parametrize(
    "bad", ["EUR", "eur:1", "EUR:", "EUR:1.", "EUR:1.123456789", f"EUR:{2**52 + 1}", "ABCDEFGHIJKL:1", ":1", "EUR:-1"]
)
def test_bad_amounts(bad: str) -> None:
    with pytest.raises(KeyFormatError):
        TalerAmount.parse(bad)


@pytest.mark.parametrize("bad_key", ["", "=", "A", "A===", "ABC1", "AB=CD", "ÄÖ", "ÀBCDEFGH"])
def test_bad_keys(bad_key: str) -> None:
    with pytest.raises(KeyFormatError):
        pos_confirmation(bad_key, 1, 0)


def test_keys_are_read_as_the_merchant_backend_reads_them() -> None:
    """Trailing '=' of any length, any case, and the bits after the last whole byte dropped."""
    key = base64.b32encode(b"1234").decode()  # 'GEZDGNA='
    expected = pos_confirmation(key, 1, 100)
    for variant in (key.rstrip("="), key + "=====", key.lower()):
        assert pos_confirmation(variant, 1, 100) == expected
    nine = base64.b32encode(b"12345").decode() + "G"  # 45 bits: 5 bytes and 5 bits left over
    assert pos_confirmation(nine, 1, 100) == pos_confirmation(nine[:8], 1, 100)
    assert pos_confirmation(KEY + "A", 1, 100) == pos_confirmation(KEY, 1, 100)


def test_algorithm_names_in_any_case() -> None:
    """The backend compares the names with ASCII strcasecmp."""
    assert pos_confirmation(KEY, "totp_without_price", 1111111109) == pos_confirmation(KEY, 1, 1111111109)
    assert pos_confirmation(KEY, "Totp_With_Price", 1111111109, "EUR:1") == pos_confirmation(
        KEY, 2, 1111111109, "EUR:1"
    )
    assert pos_confirmation(KEY, "none", 1111111109) is None
    with pytest.raises(KeyFormatError):
        pos_confirmation(KEY, "TOTP_WİTH_PRICE", 0, "EUR:1")  # dotted capital I: not ASCII


def test_near_the_epoch_the_steps_stay_at_zero() -> None:
    """Five codes even at t < 60 s: the backend's time subtraction saturates at zero."""
    codes = pos_confirmation(KEY, 1, 35)
    assert codes is not None
    lines = codes.split("\n")
    assert len(lines) == 5
    assert lines[0] == lines[1]  # steps -1 and 0: both step 0
    assert lines[2] == "94287082"  # step 1: RFC 6238's SHA1 vector at T=59
    assert len(set(lines[1:])) == 4  # steps 0, 1, 2, 3
    assert pos_confirmation(KEY, 1, 0) == "\n".join([lines[0]] * 3 + lines[2:4])


@settings(max_examples=300)
@given(st.text(max_size=40))
def test_amount_parser_any_text(text: str) -> None:
    try:
        TalerAmount.parse(text)
    except KeyFormatError:
        pass


@pytest.mark.parametrize("algorithm", ["\u00b2", "\u0661", "\uff12", "1" * 5000, " 1", "1\n", "-1", "3"])
def test_algorithm_must_be_ascii_digits_or_a_name(algorithm: str) -> None:
    """fuzz/known_crashes/taler-unicode-digit-algorithm: str.isdigit() takes "²", which int() refuses."""
    with pytest.raises(KeyFormatError, match="algorithm"):
        pos_confirmation(KEY, algorithm, 1111111109)


@pytest.mark.parametrize("bad", ["EUR:1\n", "EUR:" + "1" * 5000])
def test_amounts_that_int_or_a_dollar_anchor_would_mishandle(bad: str) -> None:
    with pytest.raises(KeyFormatError):
        TalerAmount.parse(bad)


@pytest.mark.parametrize("time", [float("nan"), float("inf"), -1, 10**30])
def test_time_outside_the_counter_range_is_refused(time: float) -> None:
    with pytest.raises(KeyFormatError, match="time"):
        pos_confirmation(KEY, 1, time)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60), st.text(max_size=8), st.integers(0, 2**40), st.none() | st.text(max_size=30))
def test_pos_confirmation_any_text_gives_only_key_format_errors(
    key: str, algorithm: str, time: int, price: str | None
) -> None:
    try:
        codes = pos_confirmation(key, algorithm, time, price)
    except KeyFormatError:
        return
    # each code as Taler's backend prints it (%llu): 1 to 8 ASCII digits, no leading zero
    assert codes is None or all(
        0 < len(c) <= 8 and c.isascii() and c.isdigit() and c == str(int(c)) for c in codes.split("\n")
    )
