"""pyotp's names (issue 18 item 4): ``aioctap.otp.pyotp`` against the real pyotp 2.x, input for input,
RFC 4226/6238's test vectors, and the replay-proof path through OtpVerifier."""

from __future__ import annotations

import base64
import datetime
import hashlib
import time
from collections.abc import Callable
from functools import partial

import anyio
import pyotp as real
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from aioctap.otp import TOTP as PasslibTOTP
from aioctap.otp import OtpVerifier, UsedTokenError
from aioctap.otp import pyotp as ours
from aioctap.stores import open_store

DIGESTS = [hashlib.sha1, hashlib.sha256, hashlib.sha512]
LIMIT = 253402300800

keys = st.binary(min_size=14, max_size=64)
digests = st.sampled_from(DIGESTS)


def b32(key: bytes, *, lower: bool = False, pad: bool = False) -> str:
    text = base64.b32encode(key).decode()
    text = text if pad else text.rstrip("=")
    return text.lower() if lower else text


def outcome(call: Callable[[], object]) -> object:
    """The result, or the kind of error: both libraries must agree on either."""
    try:
        return call()
    except ValueError:
        return ValueError
    except TypeError:
        return TypeError


@settings(max_examples=300, deadline=None)
@given(
    keys,
    digests,
    st.integers(6, 10),
    st.integers(1, 120),
    st.integers(0, LIMIT - 1) | st.floats(0, LIMIT - 1),
    st.integers(-3, 3),
    st.booleans(),
    st.booleans(),
)
def test_totp_codes_like_pyotp(
    key: bytes, digest: object, digits: int, interval: int, t: float, offset: int, lower: bool, pad: bool
) -> None:
    secret = b32(key, lower=lower, pad=pad)
    a = ours.TOTP(secret, digits=digits, digest=digest, interval=interval)  # type: ignore[arg-type]
    b = real.TOTP(secret, digits=digits, digest=digest, interval=interval)
    assert a.timecode(t) == b.timecode(t)
    assert outcome(lambda: a.at(t, counter_offset=offset)) == outcome(lambda: b.at(t, counter_offset=offset))
    assert a.byte_secret() == b.byte_secret() == key


@settings(max_examples=200, deadline=None)
@given(keys, digests, st.integers(6, 10), st.integers(0, 2**40), st.integers(0, 2**20))
def test_hotp_codes_like_pyotp(key: bytes, digest: object, digits: int, initial: int, count: int) -> None:
    a = ours.HOTP(b32(key), digits=digits, digest=digest, initial_count=initial)  # type: ignore[arg-type]
    b = real.HOTP(b32(key), digits=digits, digest=digest, initial_count=initial)
    assert a.at(count) == b.at(count)
    assert a.generate_otp(count) == b.generate_otp(count)
    assert a.verify(b.at(count), count) and b.verify(a.at(count), count)
    assert a.verify(a.at(count), count + 1) == b.verify(a.at(count), count + 1)
    assert ours.OTP.int_to_bytestring(count) == real.OTP.int_to_bytestring(count)


def candidates(code: str) -> list[str | int]:
    fullwidth = "".join(chr(0xFF10 + int(c)) for c in code)  # NFKC folds these to ASCII digits, in pyotp too
    return [code, int(code), " " + code, code[:-1], code + "0", fullwidth, "x" * 2000, ""]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(keys, digests, st.integers(6, 8), st.integers(1, 120), st.integers(0, 3 * 10**9), st.integers(-1, 3))
def test_verify_accepts_and_rejects_like_pyotp(
    key: bytes, digest: object, digits: int, interval: int, t: int, window: int
) -> None:
    a = ours.TOTP(b32(key), digits=digits, digest=digest, interval=interval)  # type: ignore[arg-type]
    b = real.TOTP(b32(key), digits=digits, digest=digest, interval=interval)
    for step in (-3, -2, -1, 0, 1, 2, 3):
        if not 0 <= t + step * interval < LIMIT:
            continue
        for token in candidates(b.at(t + step * interval)):
            ours_ok = outcome(partial(a.verify, token, for_time=t, valid_window=window))
            assert ours_ok == outcome(partial(b.verify, token, for_time=t, valid_window=window)), (step, token)
            ours_step = _timecode_outcome(partial(a.verify_and_get_timecode, token, for_time=t, valid_window=window))
            assert ours_step == outcome(partial(_timecode_or_fail, b, token, t, window)), (step, token)


def _timecode_or_fail(b: real.TOTP, token: str | int, t: int, window: int) -> object:
    try:
        return b.verify_and_get_timecode(token, for_time=t, valid_window=window)  # type: ignore[arg-type]
    except real.exceptions.OTPVerificationError:
        return ValueError  # as _timecode_outcome reports ours


def test_verify_and_get_timecode_raises_pyotp_shaped_error() -> None:
    totp = ours.TOTP(b32(b"12345678901234567890"))
    with pytest.raises(ours.OTPVerificationError):
        totp.verify_and_get_timecode("000000" if totp.at(59) != "000000" else "111111", for_time=59)
    with pytest.raises(ValueError, match="negative"):
        totp.verify_and_get_timecode("123456", for_time=59, valid_window=-1)
    assert issubclass(ours.OTPVerificationError, ours.PyOTPError)


def _timecode_outcome(call: Callable[[], object]) -> object:
    try:
        return call()
    except ours.OTPVerificationError:
        return ValueError
    except ValueError:
        return ValueError


def test_now_like_pyotp() -> None:
    secret = real.random_base32()
    for _ in range(3):  # the two calls may straddle a step boundary: retry
        before = time.time()
        a, b = ours.TOTP(secret).now(), real.TOTP(secret).now()
        if int(before) // 30 == int(time.time()) // 30:
            assert a == b
            return
    pytest.fail("could not read both codes within one time step")


def test_datetimes_like_pyotp() -> None:
    secret = b32(b"12345678901234567890")
    a, b = ours.TOTP(secret), real.TOTP(secret)
    aware = datetime.datetime(2033, 5, 18, 3, 33, 20, 999, tzinfo=datetime.timezone(datetime.timedelta(hours=5)))
    naive = datetime.datetime(2001, 9, 9, 1, 46, 40)
    for when in (aware, naive, datetime.datetime(1969, 12, 31, 23, 0, tzinfo=datetime.UTC)):
        assert outcome(lambda: a.at(when)) == outcome(lambda: b.at(when))  # noqa: B023
        assert outcome(lambda: a.verify(b.at(when), for_time=when)) == outcome(  # noqa: B023
            lambda: b.verify(b.at(when), for_time=when)  # noqa: B023
        )


def test_rfc_4226_appendix_d() -> None:
    hotp = ours.HOTP(b32(b"12345678901234567890"))
    expected = ["755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871", "520489"]
    assert [hotp.at(i) for i in range(10)] == expected


@pytest.mark.parametrize(
    ("t", "sha1", "sha256", "sha512"),
    [
        (59, "94287082", "46119246", "90693936"),
        (1111111109, "07081804", "68084774", "25091201"),
        (1111111111, "14050471", "67062674", "99943326"),
        (1234567890, "89005924", "91819424", "93441116"),
        (2000000000, "69279037", "90698825", "38618901"),
        (20000000000, "65353130", "77737706", "47863826"),
    ],
)
def test_rfc_6238_appendix_b(t: int, sha1: str, sha256: str, sha512: str) -> None:
    seeds = {hashlib.sha1: b"12345678901234567890", hashlib.sha256: b"1234567890" * 3 + b"12",
             hashlib.sha512: b"1234567890" * 6 + b"1234"}  # fmt: skip
    for digest, code in ((hashlib.sha1, sha1), (hashlib.sha256, sha256), (hashlib.sha512, sha512)):
        totp = ours.TOTP(b32(seeds[digest]), digits=8, digest=digest)
        assert totp.at(t) == code and totp.verify(code, for_time=t)


names = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=12)


@settings(max_examples=200, deadline=None)
@given(keys, digests, st.integers(6, 8), st.integers(1, 120), names, st.none() | names, st.integers(0, 2**32))
def test_provisioning_uri_and_parse_uri_like_pyotp(
    key: bytes, digest: object, digits: int, interval: int, name: str, issuer: str | None, count: int
) -> None:
    secret = b32(key)
    kw = {"digits": digits, "digest": digest, "name": name, "issuer": issuer}
    pairs: list[tuple[ours.TOTP | ours.HOTP, real.TOTP | real.HOTP]] = [
        (ours.TOTP(secret, interval=interval, **kw), real.TOTP(secret, interval=interval, **kw)),  # type: ignore[arg-type]
        (ours.HOTP(secret, initial_count=count, **kw), real.HOTP(secret, initial_count=count, **kw)),  # type: ignore[arg-type]
    ]
    for a, b in pairs:
        uri = a.provisioning_uri()
        assert uri == b.provisioning_uri()
        assert a.provisioning_uri(name="bob", issuer_name="X", image="https://x.test/i.png") == b.provisioning_uri(
            name="bob", issuer_name="X", image="https://x.test/i.png"
        )
        assert_same_otp(outcome(lambda: ours.parse_uri(uri)), outcome(lambda: real.parse_uri(uri)))  # noqa: B023


def assert_same_otp(a: object, b: object) -> None:
    if a in (ValueError, TypeError) or b in (ValueError, TypeError):
        assert a == b
        return
    assert isinstance(a, ours.OTP) and isinstance(b, real.OTP)
    assert type(a).__name__ == type(b).__name__
    assert (a.secret, a.digits, a.digest().name, a.name, a.issuer) == (
        b.secret,
        b.digits,
        b.digest().name,
        b.name,
        b.issuer,
    )
    if isinstance(a, ours.TOTP):
        assert isinstance(b, real.TOTP) and a.interval == b.interval and a.at(1_700_000_000) == b.at(1_700_000_000)
    else:
        assert isinstance(a, ours.HOTP) and isinstance(b, real.HOTP)
        assert a.initial_count == b.initial_count and a.at(3) == b.at(3)


S = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
URIS = [
    f"otpauth://totp/ACME:alice?secret={S}&issuer=ACME",
    f"otpauth://totp/ACME%3ACo:alice%3Ab?secret={S}",
    f"otpauth://totp/alice?secret={S}&algorithm=SHA512&digits=8&period=60",
    f"otpauth://totp/alice?secret={S}&algorithm=sha512",
    f"otpauth://totp/alice?secret={S}&algorithm=MD5",
    f"otpauth://totp/alice?secret={S}&digits=9",
    f"otpauth://totp/alice?secret={S}&digits=five",
    f"otpauth://totp/alice?secret={S}&period=121",
    f"otpauth://totp/alice?secret={S}&period=0",
    f"otpauth://totp/alice?secret={S}&secret={S}",
    f"otpauth://totp/alice?secret={S}&foo=1&foo=2",
    f"otpauth://totp/A:alice?secret={S}&issuer=B",
    f"otpauth://totp/A:alice?secret={S}&issuer=",
    "otpauth://totp/alice?secret=",
    "otpauth://totp/alice?secret=JBSWY3DP",
    "otpauth://totp/alice?secret=JBSWY3DPE!",
    f"otpauth://hotp/alice?secret={S}&counter=7",
    f"otpauth://hotp/alice?secret={S}",
    f"otpauth://xotp/alice?secret={S}",
    f"https://totp/alice?secret={S}",
    f"otpauth://totp/?secret={S}",
    f"otpauth://totp/alice?secret={S.lower()}",
]


@pytest.mark.parametrize("uri", URIS)
def test_parse_uri_edge_cases_like_pyotp(uri: str) -> None:
    assert_same_otp(outcome(lambda: ours.parse_uri(uri)), outcome(lambda: real.parse_uri(uri)))


def test_steam_encoder_is_refused() -> None:
    uri = f"otpauth://totp/alice?secret={S}&encoder=steam"
    assert isinstance(real.parse_uri(uri), real.contrib.Steam)
    with pytest.raises(ValueError, match="Steam"):
        ours.parse_uri(uri)


@settings(max_examples=300, deadline=None)
@given(st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZabcxyz234567=018 -", max_size=40))
def test_secret_checks_like_pyotp(secret: str) -> None:
    assert outcome(lambda: ours.TOTP(secret).at(0)) == outcome(lambda: real.TOTP(secret).at(0))


def test_constructor_checks_like_pyotp() -> None:
    for kw in ({"digits": 5}, {"digits": 11}, {"interval": 0}, {"interval": 121}, {"digits": 10, "interval": 120}):
        assert outcome(lambda: ours.TOTP(S, **kw).at(0)) == outcome(lambda: real.TOTP(S, **kw).at(0))  # type: ignore[arg-type]  # noqa: B023
    with pytest.raises(ValueError):
        ours.TOTP(S, digest=hashlib.md5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="RFC 6238"):
        ours.TOTP(S, digest=hashlib.sha384)  # type: ignore[arg-type]  # pyotp takes it; RFC 6238 names three
    with pytest.raises(ValueError):
        ours.HOTP(S).at(-1)
    with pytest.raises(ValueError, match="8-byte"):
        ours.HOTP(S, initial_count=2**64).at(0)
    assert ours.TOTP(S).name == real.TOTP(S).name == "Secret"


def test_random_secrets_like_pyotp() -> None:
    for fn, pyfn, short in ((ours.random_base32, real.random_base32, 31), (ours.random_hex, real.random_hex, 39)):
        with pytest.raises(ValueError):
            fn(short)
        with pytest.raises(ValueError):
            pyfn(short)
    secret = ours.random_base32()
    assert len(secret) == 32 and set(secret) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
    assert real.TOTP(secret).at(1000) == ours.TOTP(secret).at(1000)
    assert len({ours.random_base32() for _ in range(50)}) == 50
    hexed = ours.random_hex(64)
    assert len(hexed) == 64 and set(hexed) <= set("ABCDEF0123456789")


def test_no_secret_in_repr_or_errors() -> None:
    totp = ours.TOTP(S, name="alice", issuer="ACME")
    assert S not in repr(totp) and S.lower() not in repr(totp).lower()
    with pytest.raises(ValueError) as info:
        ours.TOTP(S[:20] + "!")
    assert S[:20] not in str(info.value)


@settings(max_examples=50, deadline=None)
@given(keys, digests, st.integers(6, 8), st.integers(1, 120), st.integers(240, 3 * 10**9), st.integers(-2, 2))
def test_verifier_window_of_one_interval_is_valid_window_1(
    key: bytes, digest: object, digits: int, interval: int, t: int, step: int
) -> None:
    b = real.TOTP(b32(key), digits=digits, digest=digest, interval=interval)
    a = ours.TOTP(b32(key), digits=digits, digest=digest, interval=interval).to_aioctap()  # type: ignore[arg-type]
    token = b.at(t + step * interval)
    assume(all(b.at(t + s * interval) != token for s in range(-2, 3) if s != step))  # no chance collision
    accepted = outcome(lambda: a.match(token, t, window=interval)) is not ValueError
    assert accepted == b.verify(token, for_time=t, valid_window=1)


async def test_pyotp_user_verifies_once_through_the_store() -> None:
    totp = ours.TOTP(ours.random_base32(), name="alice@example.com", issuer="ACME", interval=30)
    t = 1_700_000_000
    async with open_store("memory://") as store:
        verifier = OtpVerifier(store, window=totp.interval, clock=lambda: float(t))
        uri = await verifier.enroll("alice", otp=totp)
        assert ours.parse_uri(uri).at(t) == totp.at(t)
        code = totp.at(t)
        assert totp.verify(code, for_time=t) and totp.verify(code, for_time=t)  # pyotp's verify: no memory
        results: list[object] = []

        async def attempt() -> None:
            try:
                results.append(await verifier.verify("alice", code, time=t))
            except UsedTokenError as e:
                results.append(e)

        async with anyio.create_task_group() as tg:
            for _ in range(20):
                tg.start_soon(attempt)
        assert sum(not isinstance(r, UsedTokenError) for r in results) == 1  # one compare-and-set wins
        with pytest.raises(UsedTokenError):
            await verifier.verify("alice", code, time=t)
        await verifier.verify("alice", totp.at(t + 30), time=t + 30)


async def test_pyotp_hotp_through_the_verifier() -> None:
    hotp = ours.HOTP(ours.random_base32(), initial_count=5)
    async with open_store("memory://") as store:
        verifier = OtpVerifier(store)
        await verifier.enroll("bob", otp=hotp)
        await verifier.verify("bob", hotp.at(0))  # counter 5
        with pytest.raises(UsedTokenError.__mro__[1]):  # TokenError: counter 5 is used up
            await verifier.verify("bob", hotp.at(0))
        await verifier.verify("bob", hotp.at(2))  # look-ahead to 7
    with pytest.raises(TypeError):
        async with open_store("memory://") as store:
            await OtpVerifier(store).enroll("x", otp=hotp, key=S)


def test_to_aioctap_keeps_codes() -> None:
    totp = ours.TOTP(S, digits=8, digest=hashlib.sha256, interval=60, name="a", issuer="I")
    passlib_shaped = totp.to_aioctap()
    assert isinstance(passlib_shaped, PasslibTOTP)
    assert passlib_shaped.generate(1_700_000_000).token == totp.at(1_700_000_000)
    assert (passlib_shaped.label, passlib_shaped.issuer) == ("a", "I")


def test_settings_changed_after_construction_like_pyotp() -> None:
    a, b = ours.TOTP(S), real.TOTP(S)
    for obj in (a, b):
        obj.digest = hashlib.sha256
        obj.digits = 8
    assert a.at(1_700_000_000) == b.at(1_700_000_000)
    a.secret = b.secret = S[:24]
    assert a.at(1_700_000_000) == b.at(1_700_000_000)
    with pytest.raises(ValueError):
        a.digest = hashlib.md5  # type: ignore[assignment]
