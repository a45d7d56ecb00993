"""HOTP/TOTP core: RFC vectors, passlib and pyotp agreement, otpauth URIs, serialization."""

from __future__ import annotations

import base64

import pyotp
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from passlib import totp as passlib_totp

from aioctap.otp import (
    HOTP,
    TOTP,
    BaseOTP,
    InvalidTokenError,
    KeyFormatError,
    MalformedTokenError,
    OTPContext,
    UsedTokenError,
    generate_secret,
)
from aioctap.otp.core import b32decode, hotp

RFC4226_KEY = b"12345678901234567890"
RFC4226 = ["755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871", "520489"]

RFC6238_KEYS = {
    "sha1": b"12345678901234567890",
    "sha256": b"12345678901234567890123456789012",
    "sha512": b"1234567890123456789012345678901234567890123456789012345678901234",
}
RFC6238 = [
    (59, "94287082", "46119246", "90693936"),
    (1111111109, "07081804", "68084774", "25091201"),
    (1111111111, "14050471", "67062674", "99943326"),
    (1234567890, "89005924", "91819424", "93441116"),
    (2000000000, "69279037", "90698825", "38618901"),
    (20000000000, "65353130", "77737706", "47863826"),  # past 2^32
]


@pytest.mark.parametrize(("counter", "expected"), list(enumerate(RFC4226)))
def test_rfc4226_appendix_d(counter: int, expected: str) -> None:
    assert hotp(RFC4226_KEY, counter) == expected
    assert HOTP(RFC4226_KEY, "raw").generate(counter) == expected


@pytest.mark.parametrize(("t", "sha1", "sha256", "sha512"), RFC6238)
def test_rfc6238_appendix_b(t: int, sha1: str, sha256: str, sha512: str) -> None:
    for alg, expected in (("sha1", sha1), ("sha256", sha256), ("sha512", sha512)):
        totp = TOTP(RFC6238_KEYS[alg], "raw", digits=8, alg=alg)
        assert totp.generate(t).token == expected
        assert totp.match(expected, t).counter == t // 30


def test_match_window_skew_last_counter_like_passlib() -> None:
    totp = TOTP(new=True)
    token_prev = totp.generate(1000 - 30).token
    match = totp.match(token_prev, 1000)
    assert match.skipped == -1 and match.expected_counter == 1000 // 30
    assert match.expire_time == (1000 // 30) * 30 and match.cache_seconds == 60
    assert match.cache_time == match.expire_time + 30
    with pytest.raises(InvalidTokenError):
        totp.match(totp.generate(1000 - 90).token, 1000)
    with pytest.raises(UsedTokenError) as e:
        totp.match(token_prev, 1000, last_counter=match.counter)
    assert e.value.expire_time == (match.counter + 1) * 30
    assert totp.match(token_prev, 1000, last_counter=match.counter, reuse=True).counter == match.counter
    assert totp.match(totp.generate(1100).token, 1000, skew=100, window=0).counter == 1100 // 30
    # passlib gives the same verdicts
    ptotp = passlib_totp.TOTP(key=totp.base32_key)
    assert ptotp.match(token_prev, 1000).counter == match.counter


@pytest.mark.parametrize("bad", ["12345", "1234567", "12a456", "", "１２３４５６", None, 3.5])
def test_malformed_tokens(bad: object) -> None:
    with pytest.raises(MalformedTokenError):
        TOTP(new=True).match(bad, 0)  # type: ignore[arg-type]


def test_hotp_only_looks_forward() -> None:
    h = HOTP(RFC4226_KEY, "raw", counter=5)
    assert h.match(RFC4226[7]).counter == 7
    with pytest.raises(InvalidTokenError):
        h.match(RFC4226[4])
    m = h.match(RFC4226[5])
    h.advance(m)
    assert h.counter == 6


@settings(max_examples=150, deadline=None)
@given(
    key=st.binary(min_size=16, max_size=64),  # pyotp refuses keys under 112 bits
    alg=st.sampled_from(["sha1", "sha256", "sha512"]),
    digits=st.integers(6, 8),
    t=st.integers(0, 2**34),
    period=st.sampled_from([15, 30, 60]),
)
def test_codes_agree_with_pyotp_and_passlib(key: bytes, alg: str, digits: int, t: int, period: int) -> None:
    b32 = base64.b32encode(key).decode()
    ours = TOTP(b32, digits=digits, alg=alg, period=period).generate(t).token
    import hashlib

    assert ours == pyotp.TOTP(b32, digits=digits, digest=getattr(hashlib, alg), interval=period).at(t)
    assert ours == passlib_totp.TOTP(key=b32, digits=digits, alg=alg, period=period).generate(t).token
    fresh = TOTP(b32, digits=digits, alg=alg, period=period)  # match before any generate: the other path
    assert fresh.match(ours, t).counter == t // period == fresh.match(ours, t).counter


def test_uri_round_trip_with_pyotp() -> None:
    totp = TOTP(new=True, issuer="ACME Co", label="alice@example.com", digits=8, alg="sha256", period=60)
    uri = totp.to_uri()
    assert uri.startswith("otpauth://totp/ACME%20Co:alice@example.com?secret=")
    parsed = pyotp.parse_uri(uri)
    assert parsed.secret == totp.base32_key and parsed.digits == 8 and parsed.interval == 60
    assert parsed.issuer == "ACME Co" and parsed.name == "alice@example.com"
    back = BaseOTP.from_uri(uri)
    assert isinstance(back, TOTP) and back.key == totp.key and back.period == 60 and back.alg == "sha256"
    ours_from_pyotp = BaseOTP.from_uri(pyotp.TOTP(pyotp.random_base32()).provisioning_uri(name="bob", issuer_name="X"))
    assert ours_from_pyotp.label == "bob" and ours_from_pyotp.issuer == "X"
    hotp_uri = HOTP(new=True, label="carol", counter=7).to_uri()
    assert isinstance(BaseOTP.from_uri(hotp_uri), HOTP)


@pytest.mark.parametrize(
    "uri",
    [
        "http://totp/x?secret=JBSWY3DPEHPK3PXP",
        "otpauth://motp/x?secret=JBSWY3DPEHPK3PXP",
        "otpauth://totp/x",
        "otpauth://totp/x?secret=not*base32",
        "otpauth://totp/A:x?secret=JBSWY3DPEHPK3PXP&issuer=B",
        "otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&digits=5",
        "otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&algorithm=MD5",
        "otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&period=0",
        "otpauth://hotp/x?secret=JBSWY3DPEHPK3PXP",
        "otpauth://totp/?secret=JBSWY3DPEHPK3PXP",
        "otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&secret=JBSWY3DPEHPK3PXP",
    ],
)
def test_bad_uris(uri: str) -> None:
    with pytest.raises(KeyFormatError):
        BaseOTP.from_uri(uri)


def test_tolerant_base32() -> None:
    assert b32decode("jbsw y3dp-ehpk 3pxp") == b32decode("JBSWY3DPEHPK3PXP===")
    for bad in ("", "JBSW1", "A", "========"):
        with pytest.raises(KeyFormatError):
            b32decode(bad)


@settings(max_examples=300)
@given(st.text(max_size=200))
def test_uri_parser_any_text(text: str) -> None:
    try:
        BaseOTP.from_uri("otpauth://" + text)
    except KeyFormatError:
        pass


def test_serialization_never_writes_key_in_clear_with_context() -> None:
    ctx = OTPContext({"1": generate_secret(), "2": generate_secret()}, encrypt_cost=8)
    totp = TOTP(new=True, label="a")
    data = totp.to_json(ctx)
    assert totp.base32_key not in data and "enckey" in data
    assert BaseOTP.from_json(data, ctx).key == totp.key
    with pytest.raises(KeyFormatError):
        BaseOTP.from_json(data)  # no context
    old = OTPContext({"1": "an application secret of enough length"}, encrypt_cost=8)
    new = OTPContext({"1": "an application secret of enough length", "2": "a second, newer application secret"})
    key, recrypt = new.decrypt_key(totp.to_dict(old)["enckey"])
    assert key == totp.key and recrypt is True
    assert totp.base32_key in TOTP.to_json(totp)  # no context: plain (documented)
    assert totp.base32_key not in repr(totp) and "key" not in repr(ctx).lower().replace("keys", "")


def test_bad_serialized() -> None:
    for bad in ("{", "[]", '{"type":"totp","v":1}', '{"type":"x","v":1,"key":"JBSWY3DPEHPK3PXP"}'):
        with pytest.raises(KeyFormatError):
            BaseOTP.from_json(bad)


# -- fuzzer-found inputs (fuzz/known_crashes/otpauth-*) ---------------------------------------------------


@pytest.mark.parametrize("counter", [str(2**64), "518446744073709551616", "9" * 5000])
def test_uri_hotp_counter_past_64_bits_is_a_key_format_error(counter: str) -> None:
    """fuzz/known_crashes/otpauth-hotp-counter-overflow: RFC 4226's counter is 8 bytes."""
    with pytest.raises(KeyFormatError, match="counter"):
        BaseOTP.from_uri(f"otpauth://hotp/ob?secret=JBSWY3DPEHPK3PXP&counter={counter}")
    with pytest.raises(KeyFormatError, match="counter"):
        HOTP("JBSWY3DPEHPK3PXP", counter=2**64)
    last = BaseOTP.from_uri(f"otpauth://hotp/ob?secret=JBSWY3DPEHPK3PXP&counter={2**64 - 1}")
    assert isinstance(last, HOTP) and last.generate() == hotp(last.key, 2**64 - 1)


@pytest.mark.parametrize("member", ["digits", "period", "counter"])
@pytest.mark.parametrize("number", ["\u00b2", "\u0663", "\uff11"])  # superscript two, Arabic-Indic three, fullwidth one
def test_uri_numbers_are_ascii_digits(member: str, number: str) -> None:
    kind = "hotp" if member == "counter" else "totp"
    extra = "" if member == "counter" else "&counter=1" if kind == "hotp" else ""
    with pytest.raises(KeyFormatError, match=member):
        BaseOTP.from_uri(f"otpauth://{kind}/a?secret=JBSWY3DPEHPK3PXP&{member}={number}{extra}")


@pytest.mark.parametrize(
    "uri",
    [
        "otpauth://totp/Example:\udcff\udcffalice?secret=JBSWY3DPEHPK3PXP",  # the fuzzer's: surrogate-escaped bytes
        "otpauth://totp/\ud800?secret=JBSWY3DPEHPK3PXP",
        "otpauth://totp/alice?secret=JBSWY3DPEHPK3PXP&issuer=\udc80",
    ],
)
def test_uri_with_lone_surrogates_is_a_key_format_error(uri: str) -> None:
    """fuzz/known_crashes/otpauth-surrogate-label: a str (from JSON, say) may hold lone surrogates; no URI or
    JSON document can carry them, so the parser refuses them rather than to_uri failing later."""
    with pytest.raises(KeyFormatError, match="Unicode"):
        BaseOTP.from_uri(uri)
    with pytest.raises(KeyFormatError, match="Unicode"):
        TOTP("JBSWY3DPEHPK3PXP", label="\ud800")


@settings(max_examples=200, deadline=None)
@given(
    kind=st.sampled_from(["totp", "hotp"]),
    label=st.text(max_size=12),
    params=st.lists(
        st.tuples(st.sampled_from(["issuer", "algorithm", "digits", "period", "counter"]), st.text(max_size=24)),
        max_size=4,
    ),
)
def test_whatever_from_uri_accepts_serializes_and_generates(
    kind: str, label: str, params: list[tuple[str, str]]
) -> None:
    """The fuzzer's oracle as a property: an accepted URI round-trips (URI and JSON) and makes a token."""
    query = "&".join(["secret=JBSWY3DPEHPK3PXP", *(f"{k}={v}" for k, v in params)])
    try:
        otp = BaseOTP.from_uri(f"otpauth://{kind}/{label}?{query}")
    except KeyFormatError:
        return
    again = BaseOTP.from_json(otp.to_json())
    assert again.key == otp.key and again.to_dict() == otp.to_dict()
    if otp.label:
        assert BaseOTP.from_uri(otp.to_uri()).to_dict() == otp.to_dict()
    token = otp.generate(1_700_000_000).token if isinstance(otp, TOTP) else otp.generate()
    assert len(token) == otp.digits and token.isdigit()
