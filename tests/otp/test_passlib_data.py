"""passlib 1.7.4's stored data, both ways (issue 18 item 5): encrypted ``to_json`` written by passlib is
read by aioctap and the reverse (``encrypt_format="passlib"``), ``TOTP.using(secrets_path=...)``,
``normalize_token`` and ``wallet`` on the factory class, and passlib's rules on secret and key lengths,
each checked against the real passlib."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from passlib import exc as passlib_exc
from passlib import totp as passlib_totp

from aioctap.otp import TOTP, KeyFormatError, MalformedTokenError, OTPContext, OtpSecurityWarning
from aioctap.otp.core import BaseOTP

COST = 6  # cheap PBKDF2 for the property tests; passlib accepts any cost >= 0

tags = st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9_.-]{0,8}\Z")
app_secrets = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=40)
wallets = st.dictionaries(tags, app_secrets, min_size=1, max_size=4)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    wallets,
    st.binary(min_size=10, max_size=64),
    st.sampled_from(["sha1", "sha256", "sha512"]),
    st.integers(6, 10),
    st.integers(1, 120),
)
def test_passlib_encrypts_aioctap_reads(
    secrets: dict[str, str], key: bytes, alg: str, digits: int, period: int
) -> None:
    theirs = passlib_totp.TOTP.using(secrets=secrets, encrypt_cost=COST)(
        key=key, format="raw", alg=alg, digits=digits, period=period, label="alice", issuer="ACME"
    )
    stored = theirs.to_json()
    assert json.loads(stored)["enckey"]["t"] in secrets and "key" not in json.loads(stored)
    factory = TOTP.using(secrets=secrets, encrypt_cost=COST, encrypt_format="passlib")
    ours = factory.from_json(stored)
    assert isinstance(ours, TOTP)
    assert (ours.key, ours.alg, ours.digits, ours.period, ours.label, ours.issuer) == (
        key,
        alg,
        digits,
        period,
        "alice",
        "ACME",
    )
    assert ours.changed is False  # same tag, cost and format: nothing to write back
    for t in (0, 1_234_567_890, 2**33 + 5):
        assert ours.generate(t).token == theirs.generate(t).token
    # the default (AES-GCM) context reads it too, and asks for the record to be written again in its form
    migrated = TOTP.using(secrets=secrets, encrypt_cost=COST).from_json(stored)
    assert migrated.key == key and migrated.changed is True
    assert "n" in json.loads(migrated.to_json())["enckey"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(wallets, st.binary(min_size=10, max_size=64), st.sampled_from(["sha1", "sha256", "sha512"]))
def test_aioctap_encrypts_passlib_reads(secrets: dict[str, str], key: bytes, alg: str) -> None:
    ours = TOTP.using(secrets=secrets, encrypt_cost=COST, encrypt_format="passlib")(
        key, "raw", alg=alg, label="bob", issuer="ACME", period=45
    )
    stored = ours.to_json()
    theirs = passlib_totp.TOTP.using(secrets=secrets, encrypt_cost=COST).from_json(stored)
    assert (theirs.key, theirs.alg, theirs.period, theirs.label, theirs.issuer) == (key, alg, 45, "bob", "ACME")
    assert theirs.changed is False  # passlib sees its own tag and cost: no re-encryption wanted
    assert theirs.generate(1_700_000_000).token == ours.generate(1_700_000_000).token


def test_aes_gcm_form_is_not_passlibs() -> None:
    # the default form is authenticated AES-GCM, which passlib cannot read: writing passlib's needs the option
    secrets = {"1": "an application secret"}
    for _ in range(20):
        ours = TOTP.using(secrets=secrets, encrypt_cost=COST).new()
        stored = ours.to_json()
        try:  # binascii.Error (a ValueError) mostly: the AES-GCM members are not base32
            theirs = passlib_totp.TOTP.using(secrets=secrets, encrypt_cost=COST).from_json(stored)
        except ValueError:
            continue
        # about 1 in 100 base64 members also reads as base32: passlib then decrypts garbage, never the key
        assert theirs.key != ours.key


def test_passlib_form_decrypts_to_garbage_with_a_wrong_secret_and_gcm_does_not() -> None:
    # passlib's AES-CTR form has no integrity check: documented, and why it is not aioctap's default
    key = b"0123456789abcdefghij"
    stored = passlib_totp.TOTP.using(secrets={"1": "right secret"}, encrypt_cost=COST)(key=key, format="raw").to_json()
    wrong = TOTP.using(secrets={"1": "wrong secret"}, encrypt_cost=COST).from_json(stored)
    assert wrong.key != key and len(wrong.key) == len(key)
    gcm = TOTP.using(secrets={"1": "right secret"}, encrypt_cost=COST).new().to_json()
    with pytest.raises(KeyFormatError, match="does not decrypt"):
        TOTP.using(secrets={"1": "wrong secret"}, encrypt_cost=COST).from_json(gcm)


def test_recrypt_flags_like_passlib() -> None:
    key = b"0123456789abcdefghij"
    old = {"1": "first secret"}
    both = {"1": "first secret", "2": "second secret"}
    stored = passlib_totp.TOTP.using(secrets=old, encrypt_cost=COST)(key=key, format="raw").to_json()
    for secrets, cost, expected in ((old, COST, False), (both, COST, True), (old, COST + 1, True)):
        theirs = passlib_totp.TOTP.using(secrets=secrets, encrypt_cost=cost).from_json(stored)
        ours = TOTP.using(secrets=secrets, encrypt_cost=cost, encrypt_format="passlib").from_json(stored)
        assert theirs.changed is ours.changed is expected
        assert ours.key == theirs.key == key
        # and what we write back after a re-encryption, passlib reads without asking again
        again = passlib_totp.TOTP.using(secrets=secrets, encrypt_cost=cost).from_json(ours.to_json())
        assert again.key == key and again.changed is False


def test_secrets_path_like_passlib(tmp_path: Path) -> None:
    path = tmp_path / "secrets.txt"
    path.write_text("# the application secrets\n 9: nine\n10: ten, the newest\n\n")
    theirs = passlib_totp.TOTP.using(secrets_path=str(path), encrypt_cost=COST)
    ours = TOTP.using(secrets_path=path, encrypt_cost=COST, encrypt_format="passlib")
    assert ours.wallet is not None and theirs.wallet is not None
    assert ours.wallet.default_tag == theirs.wallet.default_tag == "10"  # numeric order, as passlib
    assert ours.wallet.get_secret("9") == theirs.wallet.get_secret("9") == b"nine"
    stored = theirs.new().to_json()
    assert ours.from_json(stored).key == theirs.from_json(stored).key
    json_path = tmp_path / "secrets.json"
    json_path.write_text('{"b": "bee", "a": "ay"}')
    a = TOTP.using(secrets_path=str(json_path)).wallet
    b = passlib_totp.TOTP.using(secrets_path=str(json_path)).wallet
    assert a is not None and a.default_tag == b.default_tag == "b"
    with pytest.raises(TypeError):
        TOTP.using(secrets={"1": "x"}, secrets_path=path)
    with pytest.raises(TypeError):
        TOTP.using(wallet=OTPContext({"1": "x"}), secrets={"1": "x"})


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.one_of(tags, st.text(max_size=4)), st.text(max_size=12), min_size=1, max_size=3))
def test_secret_rules_like_passlib(secrets: dict[str, str]) -> None:
    try:
        theirs = passlib_totp.AppWallet(secrets=secrets)
    except (ValueError, TypeError):
        theirs = None
    try:
        ours = OTPContext(secrets)
    except KeyFormatError:
        ours = None
    assert (theirs is None) is (ours is None), secrets
    if theirs is not None and ours is not None:
        assert ours.default_tag == theirs.default_tag
        for tag in secrets:
            assert ours.get_secret(tag) == theirs.get_secret(tag)


def test_short_secrets_accepted_as_passlib_does() -> None:
    # the case: a secret under 16 bytes that passlib took must still decrypt its data
    stored = passlib_totp.TOTP.using(secrets={"1": "s"}, encrypt_cost=COST).new().to_json()
    assert len(TOTP.using(secrets={"1": "s"}, encrypt_cost=COST).from_json(stored).key) == 20
    with pytest.raises(KeyFormatError):
        OTPContext({"1": ""})
    with pytest.raises(ValueError):
        passlib_totp.AppWallet({"1": ""})


def test_key_length_rules_like_passlib() -> None:
    short = b"123456789"  # 9 bytes, under passlib's 10
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        theirs = passlib_totp.TOTP(key=short, format="raw")
        ours = TOTP(short, "raw")
    assert [type(w.message) for w in caught] == [passlib_exc.PasslibSecurityWarning, OtpSecurityWarning]
    assert ours.generate(59).token == theirs.generate(59).token
    with pytest.raises(ValueError):
        passlib_totp.TOTP(new=True, size=9)
    with pytest.raises(KeyFormatError):
        TOTP(new=True, size=9)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        TOTP(b"1234567890", "raw")  # 10 bytes: no warning
    # a short key in passlib's stored data is read, with the same warning
    stored = json.dumps({"type": "totp", "v": 1, "key": "GEZDGNBVGY3TQOI"})
    with pytest.warns(OtpSecurityWarning):
        assert TOTP.from_json(stored).key == short


def test_normalize_token_and_wallet_on_the_factory_class() -> None:
    wallet = OTPContext({"1": "an application secret"})
    ours, theirs = TOTP.using(digits=8, wallet=wallet), passlib_totp.TOTP.using(digits=8)
    assert ours.wallet is wallet and ours.new().wallet is wallet and TOTP.wallet is None
    for token in ("1234 5678", "1234-5678", 12345678, 123, b"00000042"):
        assert ours.normalize_token(token) == theirs.normalize_token(token)
        assert ours.new().normalize_token(token) == theirs.new().normalize_token(token)
    for bad in ("1234567", "123456789", "1234567a"):
        with pytest.raises(MalformedTokenError):
            ours.normalize_token(bad)
        with pytest.raises(ValueError):
            theirs.normalize_token(bad)
    assert TOTP.normalize_token(42) == "000042" and TOTP(new=True, digits=7).normalize_token(42) == "0000042"
    assert BaseOTP.normalize_token("000 042") == "000042"


def test_passlib_cost_as_text_and_repr_without_secrets() -> None:
    ctx = OTPContext("1: a secret\n2: another secret\n", encrypt_cost="9", encrypt_format="passlib")
    assert ctx.encrypt_cost == 9 == passlib_totp.AppWallet(encrypt_cost="9").encrypt_cost
    assert "secret" not in repr(ctx).replace("OTPContext", "") and "passlib" in repr(ctx)
    with pytest.raises(KeyFormatError):
        OTPContext(encrypt_cost=32)
    with pytest.raises(ValueError):
        OTPContext(encrypt_format="rot13")  # type: ignore[arg-type]


async def test_passlib_records_move_into_the_verifier_and_back() -> None:
    from aioctap.otp import OtpVerifier, UsedTokenError
    from aioctap.stores import open_store

    secrets = {"1": "an application secret"}
    stored = passlib_totp.TOTP.using(secrets=secrets, encrypt_cost=COST).new(label="dora").to_json()
    context = OTPContext(secrets, encrypt_cost=COST, encrypt_format="passlib")
    totp = TOTP.using(wallet=context).from_json(stored)
    t = 1_700_000_000
    async with open_store("memory://") as store:
        verifier = OtpVerifier(store, context=context)
        await verifier.enroll("dora", otp=totp)
        await verifier.verify("dora", totp.generate(t).token, time=t)
        with pytest.raises(UsedTokenError):
            await verifier.verify("dora", totp.generate(t).token, time=t)
        record = await store.get("otp", "dora")
    assert record is not None
    otp_json = record.value.partition(b"\n")[2]  # the record's OTP, in passlib's encrypted form
    assert totp.base32_key.encode() not in record.value
    back = passlib_totp.TOTP.using(secrets=secrets, encrypt_cost=COST).from_json(otp_json.decode())
    assert back.key == totp.key and back.label == "dora"
