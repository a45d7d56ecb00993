"""aioctap.otp against pyotp and passlib.totp: the same codes, URIs and (unencrypted) JSON both ways."""

from __future__ import annotations

import base64
import hashlib
import json
import warnings
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pyotp
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aioctap.otp import HOTP, TOTP, InvalidTokenError, KeyFormatError, OTPContext, UsedTokenError

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from passlib import exc as passlib_exc
    from passlib import totp as passlib_totp

# pyotp refuses secrets under 112 bits (RFC 4226 wants at least 128); aioctap and passlib accept 80
PYOTP_MIN_KEY = 14
DIGESTS = {"sha1": hashlib.sha1, "sha256": hashlib.sha256, "sha512": hashlib.sha512}

# RFC 6238 Appendix B: the seeds are "12345678901234567890" repeated to 20, 32 and 64 bytes; 8 digits
RFC6238_SEEDS = {
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
    (20000000000, "65353130", "77737706", "47863826"),
]
# RFC 4226 Appendix D: HOTP of "12345678901234567890" for counters 0..9
RFC4226 = ["755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871", "520489"]


def b32(key: bytes) -> str:
    return base64.b32encode(key).decode().rstrip("=")


def passlib_code(key: bytes, alg: str, digits: int, period: int, t: int) -> str:
    otp = passlib_totp.TOTP(key=key, format="raw", alg=alg, digits=digits, period=period)
    return str(otp.generate(t).token)


def pyotp_code(key: bytes, alg: str, digits: int, period: int, t: int) -> str:
    return pyotp.TOTP(b32(key), digits=digits, digest=DIGESTS[alg], interval=period).at(t)


@pytest.mark.parametrize("row", RFC6238, ids=[str(r[0]) for r in RFC6238])
def test_rfc6238_appendix_b(row: tuple[int, str, str, str]) -> None:
    t, *expected = row
    for (alg, seed), code in zip(RFC6238_SEEDS.items(), expected, strict=True):
        ours = TOTP(seed, format="raw", alg=alg, digits=8).generate(t)
        assert ours.token == code == pyotp_code(seed, alg, 8, 30, t) == passlib_code(seed, alg, 8, 30, t)
        assert ours.counter == t // 30


def test_rfc4226_appendix_d() -> None:
    seed = RFC6238_SEEDS["sha1"]
    theirs = pyotp.HOTP(b32(seed))
    ours = HOTP(seed, format="raw")
    for counter, code in enumerate(RFC4226):
        assert ours.generate(counter) == code == theirs.at(counter)
        assert ours.match(code, counter=0).counter == counter
        assert theirs.verify(code, counter)


@settings(max_examples=150, deadline=None, derandomize=True)
@given(
    key=st.binary(min_size=PYOTP_MIN_KEY, max_size=64),
    alg=st.sampled_from(sorted(DIGESTS)),
    digits=st.integers(6, 10),
    period=st.integers(1, 120),
    t=st.integers(0, 253_402_300_799),  # pyotp: before the year 10000
)
def test_random_totp_codes_agree(key: bytes, alg: str, digits: int, period: int, t: int) -> None:
    ours = TOTP(key, format="raw", alg=alg, digits=digits, period=period)
    code = ours.generate(t).token
    assert code == pyotp_code(key, alg, digits, period, t) == passlib_code(key, alg, digits, period, t)
    assert ours.match(code, time=t).counter == t // period
    # passlib verifies our code, pyotp verifies it too
    assert passlib_totp.TOTP(key=key, format="raw", alg=alg, digits=digits, period=period).match(code, t)
    assert pyotp.TOTP(b32(key), digits=digits, digest=DIGESTS[alg], interval=period).verify(code, for_time=t)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(key=st.binary(min_size=PYOTP_MIN_KEY, max_size=40), counter=st.integers(0, 2**63), digits=st.integers(6, 10))
def test_random_hotp_codes_agree(key: bytes, counter: int, digits: int) -> None:
    assert HOTP(key, format="raw", digits=digits).generate(counter) == pyotp.HOTP(b32(key), digits=digits).at(counter)


# -- otpauth URIs ------------------------------------------------------------------------------------------

NAMES = st.text(
    st.characters(codec="utf-8", exclude_characters=":", exclude_categories=("Cc", "Cs", "Zl", "Zp")),
    min_size=1,
    max_size=20,
).filter(lambda s: s.strip() == s)


@settings(max_examples=80, deadline=None, derandomize=True)
@given(
    key=st.binary(min_size=PYOTP_MIN_KEY, max_size=64),
    alg=st.sampled_from(sorted(DIGESTS)),
    digits=st.sampled_from([6, 7, 8]),
    period=st.integers(1, 120),
    label=NAMES,
    issuer=st.none() | NAMES,
)
def test_our_totp_uri_parses_in_pyotp_and_passlib(
    key: bytes, alg: str, digits: int, period: int, label: str, issuer: str | None
) -> None:
    uri = TOTP(key, format="raw", alg=alg, digits=digits, period=period, label=label, issuer=issuer).to_uri()
    theirs = pyotp.parse_uri(uri)
    assert isinstance(theirs, pyotp.TOTP)
    assert theirs.byte_secret() == key and theirs.digits == digits and theirs.interval == period
    assert theirs.digest().name == alg
    assert theirs.name == label and theirs.issuer == issuer
    other = passlib_totp.TOTP.from_uri(uri)
    assert other.key == key and other.alg == alg and other.digits == digits and other.period == period
    assert other.label == label and other.issuer == issuer
    # and back: each of their URIs parses in aioctap to the same parameters
    for their_uri in (theirs.provisioning_uri(), other.to_uri()):
        back = TOTP.from_uri(their_uri)
        assert isinstance(back, TOTP)
        assert (back.key, back.alg, back.digits, back.period) == (key, alg, digits, period)
        assert (back.label, back.issuer) == (label, issuer)


@settings(max_examples=40, deadline=None, derandomize=True)
@given(key=st.binary(min_size=PYOTP_MIN_KEY, max_size=40), counter=st.integers(0, 2**32), label=NAMES, issuer=NAMES)
def test_hotp_uri_both_ways_with_pyotp(key: bytes, counter: int, label: str, issuer: str) -> None:
    uri = HOTP(key, format="raw", counter=counter, label=label, issuer=issuer).to_uri()
    theirs = pyotp.parse_uri(uri)
    assert isinstance(theirs, pyotp.HOTP)
    assert theirs.byte_secret() == key and theirs.initial_count == counter
    assert theirs.name == label and theirs.issuer == issuer
    back = HOTP.from_uri(theirs.provisioning_uri(initial_count=counter))
    assert isinstance(back, HOTP)
    assert (back.key, back.counter, back.label, back.issuer) == (key, counter, label, issuer)


def test_google_key_uri_example() -> None:
    """The Key URI Format's example (with a secret long enough for pyotp), as pyotp and passlib read it."""
    uri = "otpauth://totp/Example:alice@google.com?secret=JBSWY3DPEHPK3PXPJBSWY3DP&issuer=Example"
    ours, pyo, pl = TOTP.from_uri(uri), pyotp.parse_uri(uri), passlib_totp.TOTP.from_uri(uri)
    assert isinstance(ours, TOTP) and isinstance(pyo, pyotp.TOTP)
    assert ours.key == pyo.byte_secret() == pl.key
    assert ours.label == pyo.name == pl.label == "alice@google.com"
    assert ours.issuer == pyo.issuer == pl.issuer == "Example"
    assert ours.generate(1_700_000_000).token == pyo.at(1_700_000_000) == pl.generate(1_700_000_000).token
    query = parse_qs(urlsplit(ours.to_uri()).query)
    assert query["secret"] == ["JBSWY3DPEHPK3PXPJBSWY3DP"] and query["issuer"] == ["Example"]


# -- passlib's JSON serialization --------------------------------------------------------------------------


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    key=st.binary(min_size=10, max_size=64),
    alg=st.sampled_from(sorted(DIGESTS)),
    digits=st.integers(6, 10),
    period=st.integers(1, 120),
    label=st.none() | NAMES,
    issuer=st.none() | NAMES,
)
def test_json_both_ways_with_passlib(
    key: bytes, alg: str, digits: int, period: int, label: str | None, issuer: str | None
) -> None:
    theirs = passlib_totp.TOTP(key=key, format="raw", alg=alg, digits=digits, period=period, label=label, issuer=issuer)
    ours = TOTP(key, format="raw", alg=alg, digits=digits, period=period, label=label, issuer=issuer)
    # the same document, member for member
    assert json.loads(ours.to_json(encrypt=False)) == json.loads(theirs.to_json())
    loaded = TOTP.from_json(theirs.to_json())
    assert isinstance(loaded, TOTP)
    assert (loaded.key, loaded.alg, loaded.digits, loaded.period) == (key, alg, digits, period)
    assert (loaded.label, loaded.issuer) == (label, issuer)
    back = passlib_totp.TOTP.from_json(ours.to_json(encrypt=False))
    assert (back.key, back.alg, back.digits, back.period) == (key, alg, digits, period)
    assert (back.label, back.issuer) == (label, issuer)
    t = 1_234_567_890
    assert loaded.generate(t).token == back.generate(t).token == theirs.generate(t).token


def test_passlib_encrypted_json_is_read_and_malformed_forms_are_typed_errors() -> None:
    """passlib 1.7.4's encrypted ``enckey`` (AES-CTR, base32) decrypts to passlib's key (issue 18 item 5), flagged
    for re-encryption with AES-GCM; a mangled one is a KeyFormatError, never a crash (tests/otp/test_passlib_data.py
    covers both directions)."""
    secrets: dict[str | int, str | bytes] = {"1": "an application secret of some length"}
    theirs = passlib_totp.TOTP.using(secrets=secrets)(key=b"k" * 20, format="raw")
    loaded = TOTP.from_json(theirs.to_json(), OTPContext(secrets))
    assert loaded.key == b"k" * 20 and loaded.changed is True
    document = json.loads(theirs.to_json())
    for member, bad in (("k", "not base32!"), ("s", 7), ("c", 99), ("t", "?")):
        mangled = {**document, "enckey": {**document["enckey"], member: bad}}
        with pytest.raises(KeyFormatError):
            TOTP.from_json(json.dumps(mangled), OTPContext(secrets))


# -- passlib's match() semantics ---------------------------------------------------------------------------


def _outcome(match: Any, *args: Any, **kwargs: Any) -> tuple[Any, ...]:
    """("match", counter, time, expire_time, cache_seconds, skipped) / ("used", expire_time) / ("invalid",)."""
    try:
        m = match(*args, **kwargs)
    except passlib_exc.UsedTokenError as e:
        return ("used", e.expire_time)
    except UsedTokenError as e:
        return ("used", e.expire_time)
    except (passlib_exc.InvalidTokenError, InvalidTokenError):
        return ("invalid",)
    return ("match", m.counter, m.time, m.expire_time, m.cache_seconds, m.skipped)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    key=st.binary(min_size=10, max_size=32),
    period=st.sampled_from([30, 60, 15]),
    t=st.integers(10_000, 2**33),
    offset=st.integers(-150, 150),
    window=st.integers(0, 90),
    skew=st.integers(-60, 60),
    last=st.none() | st.integers(-3, 3),
)
def test_match_agrees_with_passlib(
    key: bytes, period: int, t: int, offset: int, window: int, skew: int, last: int | None
) -> None:
    ours = TOTP(key, format="raw", period=period)
    theirs = passlib_totp.TOTP(key=key, format="raw", period=period)
    token = ours.generate(t + offset).token
    last_counter = None if last is None else (t + offset) // period + last
    a = _outcome(ours.match, token, t, window=window, skew=skew, last_counter=last_counter)
    b = _outcome(theirs.match, token, t, window=window, skew=skew, last_counter=last_counter)
    assert a == b


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    key=st.binary(min_size=PYOTP_MIN_KEY, max_size=32),
    t=st.integers(10_000, 2**33),
    offset=st.integers(-90, 90),
    form=st.sampled_from(["uri", "json"]),
)
def test_verify_from_source_agrees_with_passlib(key: bytes, t: int, offset: int, form: str) -> None:
    """passlib's ``TOTP.verify(token, source, time=...)`` with a URI or JSON source, and aioctap's."""
    ours = TOTP(key, format="raw", label="alice", issuer="ACME")
    source = ours.to_uri() if form == "uri" else ours.to_json(encrypt=False)
    token = pyotp_code(key, "sha1", 6, 30, t + offset)
    a = _outcome(TOTP.verify, token, source, time=t)
    b = _outcome(passlib_totp.TOTP.verify, token, source, time=t)
    assert a == b
