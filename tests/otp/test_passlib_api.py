"""passlib.totp's API name for name: using/new/now/verify/from_source, TotpMatch and TotpToken fields,
OTPContext (AppWallet) forms and re-encryption, HOTP look-ahead, times past 2^32, pyotp interop."""

from __future__ import annotations

import base64
import hashlib
import json

import pyotp
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from passlib import totp as passlib_totp

from aioctap.otp import (
    HOTP,
    TOTP,
    BaseOTP,
    HotpMatch,
    InvalidTokenError,
    KeyFormatError,
    OTPContext,
    OtpVerifier,
    TotpMatch,
    UsedTokenError,
    generate_secret,
)
from aioctap.stores import open_store

SECRET_1 = "an application secret of enough length"
SECRET_2 = "a second, newer application secret here"


def test_passlib_docstring_example() -> None:
    # passlib.totp.TOTP.match's documented example, token for token
    totp = TOTP("s3jdvb7qd2r7jpxx")
    assert totp.match("897212", 1419622729).counter == 47320757
    m = totp.match("000492", 1419622729)
    assert m.counter == 47320756 and m.skipped == -1
    with pytest.raises(InvalidTokenError):
        totp.match("760389", 1419622729)
    assert repr(m) == "<TotpMatch counter=47320756 time=1419622729 cache_seconds=60>"


def test_totp_match_fields_like_passlib() -> None:
    key = base64.b32encode(b"0123456789abcdefghij").decode()
    ours = TOTP(key, period=30)
    theirs = passlib_totp.TOTP(key=key)
    for t, offset, window in ((1_500_000_000, -30, 30), (1_500_000_017, 0, 30), (1_500_000_029, 60, 90)):
        token = ours.generate(t + offset).token
        a, b = ours.match(token, t, window=window), theirs.match(token, t, window=window)
        fields = ("counter", "time", "window", "expected_counter", "skipped", "expire_time", "cache_seconds")
        for field in (*fields, "cache_time"):
            assert getattr(a, field) == getattr(b, field), field
        assert tuple(a) == tuple(b) == (a.counter, a.time) and a[0] == a.counter and len(a) == 2
        assert isinstance(a, TotpMatch) and a.totp is ours


def test_totp_token_fields_like_passlib() -> None:
    key = base64.b32encode(b"0123456789abcdefghij").decode()
    a = TOTP(key).generate(1_500_000_010)
    b = passlib_totp.TOTP(key=key).generate(1_500_000_010)
    for field in ("token", "counter", "start_time", "expire_time"):
        assert getattr(a, field) == getattr(b, field), field
    token, expire = a
    assert (token, expire) == (b.token, b.expire_time)
    assert a.valid is False and a.remaining == 0.0  # long expired
    fresh = TOTP(key).generate()
    assert fresh.valid and 0 < fresh.remaining <= 30


def test_using_new_now_and_verify() -> None:
    clock = [1_600_000_000.0]
    factory = TOTP.using(
        digits=8, alg="sha256", period=60, issuer="ACME", secrets={"1": SECRET_1}, now=lambda: clock[0]
    )
    totp = factory.new(label="alice")
    assert isinstance(totp, TOTP) and isinstance(totp, factory)
    assert (totp.digits, totp.alg, totp.period, totp.issuer) == (8, "sha256", 60, "ACME")
    assert factory.now() == 1_600_000_000 and totp.generate().counter == 1_600_000_000 // 60
    data = totp.to_json()  # the factory's context encrypts
    assert totp.base32_key not in data and "enckey" in data
    assert totp.encrypted_key["t"] == "1"
    back = factory.from_json(data)
    assert back.key == totp.key and isinstance(back, factory) and back.changed is False
    with pytest.raises(KeyFormatError):
        TOTP.from_json(data)  # the plain class has no context
    assert totp.to_json(encrypt=False).count(totp.base32_key) == 1
    # passlib's TOTP.verify(token, source, **kwds) classmethod
    code = totp.generate(1_600_000_000).token
    match = factory.verify(code, data, time=1_600_000_000)
    assert match.counter == 1_600_000_000 // 60
    with pytest.raises(InvalidTokenError):
        factory.verify(code, data, time=1_600_000_000 + 3600)
    assert TOTP.verify(code, totp.to_uri(), time=1_600_000_000).counter == match.counter
    with pytest.raises(KeyFormatError):
        TOTP.verify("123456", HOTP(new=True, label="h").to_uri())
    with pytest.raises(KeyFormatError):
        TOTP.using(digits=5)
    with pytest.raises(KeyFormatError):
        _ = TOTP().encrypted_key


def test_otp_context_forms_and_recrypt(tmp_path: object) -> None:
    text_ctx = OTPContext(f"# comment\n1: {SECRET_1}\n\n2: {SECRET_2}\n", encrypt_cost=8)
    json_ctx = OTPContext(f'{{"1": "{SECRET_1}", "2": "{SECRET_2}"}}', encrypt_cost=8)
    path = __import__("pathlib").Path(str(tmp_path)) / "secrets.txt"
    path.write_text(f"1: {SECRET_1}\n2: {SECRET_2}\n")
    path_ctx = OTPContext(secrets_path=path, encrypt_cost=8)
    for ctx in (text_ctx, json_ctx, path_ctx):
        assert ctx.default_tag == "2" and ctx.has_secrets and ctx.get_secret(1) == SECRET_1.encode()
    assert not OTPContext().has_secrets and not OTPContext().can_encrypt
    for bad in ("1 secret without colon", '{"1": 5}', "{not json"):
        with pytest.raises(KeyFormatError):
            OTPContext(bad)
    with pytest.raises(KeyFormatError):
        OTPContext({"1": ""})  # passlib refuses only an empty secret (test_passlib_data.py)
    with pytest.raises(KeyFormatError):
        text_ctx.get_secret("9")

    old = OTPContext({"1": SECRET_1}, encrypt_cost=8)
    totp = old.new(label="bob")
    stored = old.to_json(totp)
    assert text_ctx.from_json(stored).changed is True  # tag 1 is no longer the default: re-encrypt
    assert old.from_json(stored).changed is False
    assert text_ctx.from_json(totp.to_json(encrypt=False)).changed is True  # clear key, context can encrypt
    assert old.from_uri(totp.to_uri()).to_json().count("enckey") == 1


async def test_verifier_reencrypts_with_the_new_tag() -> None:
    old = OTPContext({"1": SECRET_1}, encrypt_cost=8)
    new = OTPContext({"1": SECRET_1, "2": SECRET_2}, encrypt_cost=8)
    async with open_store("memory://") as store:
        uri = await OtpVerifier(store, context=old).enroll("carol")
        totp = BaseOTP.from_uri(uri)
        assert isinstance(totp, TOTP)
        verifier = OtpVerifier(store, context=new)
        await verifier.verify("carol", totp.generate(1_700_000_000).token, time=1_700_000_000)
        record = await store.get("otp", "carol")
        assert record is not None and b'"t":"2"' in record.value and totp.base32_key.encode() not in record.value
        await verifier.verify("carol", totp.generate(1_700_000_030).token, time=1_700_000_030)


def test_hotp_look_ahead_only_forward() -> None:
    key = b"12345678901234567890"
    h = HOTP(key, "raw", counter=10)
    codes = {c: h.generate(c) for c in range(0, 30)}
    for c in range(0, 10):
        if codes[c] not in {codes[k] for k in range(10, 16)}:  # skip chance collisions
            with pytest.raises(InvalidTokenError):
                h.match(codes[c], window=5)
    m = h.match(codes[15], window=5)
    assert isinstance(m, HotpMatch) and (m.counter, m.expected_counter, m.skipped, m.next_counter) == (15, 10, 5, 16)
    with pytest.raises(InvalidTokenError):
        h.match(codes[16], window=5)
    h.advance(m)
    with pytest.raises(InvalidTokenError):
        h.match(codes[15])  # used: now behind the counter


@pytest.mark.parametrize("t", [2**32 - 1, 2**32, 2**32 + 29, 2**37, 253402300799])
def test_times_past_2_32(t: int) -> None:
    key = base64.b32encode(b"12345678901234567890").decode()
    for alg in ("sha1", "sha256", "sha512"):
        ours = TOTP(key, alg=alg, digits=8).generate(t).token
        assert ours == pyotp.TOTP(key, digits=8, digest=getattr(hashlib, alg)).at(t)
        assert ours == passlib_totp.TOTP(key=key, alg=alg, digits=8).generate(t).token
        assert TOTP(key, alg=alg, digits=8).match(ours, t).counter == t // 30


def test_t0_shifts_the_counter() -> None:
    totp = TOTP(new=True, t0=1000)
    assert totp.generate(1000).counter == 0 and totp.generate(1059).counter == 1
    with pytest.raises(ValueError):
        totp.generate(999)


@pytest.mark.parametrize("t0", [-(2**63), 2**63 - 1])
def test_t0_at_the_64_bit_limits_gives_8_byte_counters(t0: int) -> None:
    for period in (1, 30):
        totp = TOTP(new=True, t0=t0, period=period)
        for t in (max(t0, 0), max(t0, 1_700_000_000), 2**63 - 1):
            token = totp.generate(t)
            assert 0 <= token.counter < 2**64 and totp.match(token.token, t).counter == token.counter
        assert BaseOTP.from_json(totp.to_json()).t0 == t0


@pytest.mark.parametrize("t0", [-(2**63) - 1, 2**63, 10**30, -(10**30), 1.5, True])
def test_t0_outside_64_bits_is_refused(t0: object) -> None:
    with pytest.raises(KeyFormatError, match="t0"):
        TOTP(new=True, t0=t0)  # type: ignore[arg-type]
    with pytest.raises(KeyFormatError, match="t0"):
        BaseOTP.from_json(json.dumps({"v": 1, "type": "totp", "key": "JBSWY3DPEHPK3PXP", "t0": t0}))


@settings(max_examples=80, deadline=None)
@given(
    key=st.binary(min_size=16, max_size=40),
    digits=st.sampled_from([6, 7, 8]),
    alg=st.sampled_from(["SHA1", "SHA256", "SHA512"]),
    period=st.integers(10, 120),
    issuer=st.text(st.characters(categories=["L", "N"], include_characters=" .-_@"), min_size=1, max_size=20),
    account=st.text(st.characters(categories=["L", "N"], include_characters=" .-_@+"), min_size=1, max_size=30),
)
def test_uri_round_trip_through_pyotp(
    key: bytes, digits: int, alg: str, period: int, issuer: str, account: str
) -> None:
    issuer, account = issuer.strip() or "I", account.strip() or "a"
    totp = TOTP(key, "raw", digits=digits, alg=alg, period=period, issuer=issuer, label=account)
    uri = totp.to_uri()
    parsed = pyotp.parse_uri(uri)
    assert isinstance(parsed, pyotp.TOTP)
    assert (parsed.secret, parsed.digits, parsed.interval) == (totp.base32_key, digits, period)
    assert (parsed.issuer, parsed.name) == (issuer, account)
    assert parsed.at(1_700_000_000) == totp.generate(1_700_000_000).token
    back = BaseOTP.from_uri(parsed.provisioning_uri())  # and pyotp's own URI back into ours
    assert isinstance(back, TOTP) and back.key == key and back.alg == alg.lower()
    assert (back.digits, back.period, back.issuer, back.label) == (digits, period, issuer, account)


def test_generate_secret_like_passlib() -> None:
    s = generate_secret()
    assert len(s) == 43 and s.isalnum()  # 256 bits / log2(62)
    assert len(generate_secret(64, charset="01")) == 64 and set(generate_secret(64, charset="01")) <= {"0", "1"}
    assert generate_secret() != generate_secret()
    with pytest.raises(ValueError):
        generate_secret(charset="a")


def test_used_token_error_has_expire_time() -> None:
    totp = TOTP(new=True)
    m = totp.match(totp.generate(3000).token, 3000)
    with pytest.raises(UsedTokenError) as e:
        totp.match(totp.generate(3000).token, 3005, last_counter=m.counter)
    assert e.value.expire_time == m.expire_time == (3000 // 30 + 1) * 30


def test_every_passlib_name_exists() -> None:
    import aioctap.otp as ours

    assert [n for n in passlib_totp.__all__ if not hasattr(ours, n)] == []
    key = base64.b32encode(b"0123456789abcdefghij").decode()
    pairs = [
        (passlib_totp.TOTP(key=key), TOTP(key)),
        (passlib_totp.TOTP(key=key).generate(1_500_000_000), TOTP(key).generate(1_500_000_000)),
        (
            passlib_totp.TOTP(key=key).match(TOTP(key).generate(99).token, 99),
            TOTP(key).match(TOTP(key).generate(99).token, 99),
        ),
        (passlib_totp.AppWallet({"1": SECRET_1}), OTPContext({"1": SECRET_1})),
    ]
    for theirs, mine in pairs:
        missing = [n for n in dir(theirs) if not n.startswith("_") and n not in dir(mine)]
        assert missing == [], type(mine).__name__
