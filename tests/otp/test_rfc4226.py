"""The RFC 4226 core's fast paths against their general paths: HotpGenerator (the HMAC pads) against hmac.new and a
one-shot-HMAC window search, normalize_token's shortcut against its general path; the otp modules' imports."""

from __future__ import annotations

import ast
import hashlib
import hmac
import re
import struct
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import aioctap.otp
from aioctap.otp import HOTP, TOTP
from aioctap.otp.errors import InvalidTokenError, KeyFormatError, MalformedTokenError, UsedTokenError
from aioctap.otp.rfc4226 import HotpGenerator, hotp, normalize_token


def _reference(key: bytes, counter: int, digits: int, alg: str) -> str:
    """RFC 4226 §5.3 written out on the standard library's HMAC."""
    digest = hmac.new(key, struct.pack(">Q", counter), getattr(hashlib, alg)).digest()
    offset = digest[-1] & 0x0F
    value = int.from_bytes(digest[offset : offset + 4], "big") & 0x7FFFFFFF
    return str(value % 10**digits).rjust(digits, "0")


@given(
    key=st.binary(max_size=300),  # longer than every block size: hashed first (RFC 2104)
    counters=st.lists(st.integers(0, 2**64 - 1), min_size=1, max_size=5),
    digits=st.integers(6, 10),
    alg=st.sampled_from(["sha1", "sha256", "sha512"]),
)
def test_generator_is_hmac(key: bytes, counters: list[int], digits: int, alg: str) -> None:
    codes = HotpGenerator(key, alg, digits)
    for counter in counters:  # the saved states are copied, never consumed: each call starts afresh
        assert codes(counter) == hotp(key, counter, digits, alg) == _reference(key, counter, digits, alg)


def test_generator_checks_and_hides_the_key() -> None:
    with pytest.raises(KeyFormatError):
        HotpGenerator(b"k" * 20, "md5")
    with pytest.raises(ValueError, match="64-bit"):
        hotp(b"k" * 20, 1 << 64)
    assert "6b6b" not in repr(HotpGenerator(b"k" * 20)) and "kkk" not in repr(HotpGenerator(b"k" * 20))


def test_no_import_cycle() -> None:
    """The otp modules import one another without a circle (context sits above core, wallet below it)."""
    package = Path(aioctap.otp.__file__).parent
    graph: dict[str, set[str]] = {}
    for path in package.glob("*.py"):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                names |= {node.module} if node.module else {alias.name for alias in node.names}
        graph[path.stem] = names - {"__init__"}

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        return any(n == goal or (n not in seen and reaches(n, goal, seen | {n})) for n in graph.get(start, ()))

    assert graph["context"] >= {"core", "wallet"} and "context" not in graph["core"]
    assert not [m for m in graph if m != "__init__" and reaches(m, m, set())]


def _reference_match(otp: TOTP, token: str, time: int, window: int, skew: int, last: int) -> int | None:
    """RFC 6238 §5.2 on the general path (one-shot HMAC per step): the expected step first, then in order."""
    client = time + skew - otp.t0
    start, end, expected = max((client - window) // otp.period, last, 0), (client + window) // otp.period + 1, client
    expected //= otp.period
    order = ([expected] if start <= expected < end else []) + [c for c in range(start, end) if c != expected]
    return next((c for c in order if hotp(otp.key, c, otp.digits, otp.alg) == token), None)


@given(
    key=st.binary(min_size=10, max_size=80),
    alg=st.sampled_from(["sha1", "sha256", "sha512"]),
    digits=st.integers(6, 10),
    period=st.integers(1, 90),
    time=st.integers(0, 2**40),
    offset=st.integers(-3, 3),
    window=st.integers(0, 120),
    skew=st.integers(-60, 60),
    last_offset=st.one_of(st.none(), st.integers(-4, 3)),
    form=st.sampled_from(["str", "int", "bytes", "spaced"]),
)
def test_match_is_the_general_search(
    key: bytes,
    alg: str,
    digits: int,
    period: int,
    time: int,
    offset: int,
    window: int,
    skew: int,
    last_offset: int | None,
    form: str,
) -> None:
    """TOTP.match (HMAC pads, a normalized token taken without a call) decides as the one-shot HMAC search does."""
    otp = TOTP(key, "raw", alg=alg, digits=digits, period=period)
    step = max(0, time // period + offset)
    last = -1 if last_offset is None else max(-1, time // period + last_offset)  # near the window: it matters
    token = hotp(key, step, digits, alg)
    given_token: str | int | bytes = {
        "str": token,
        "int": int(token),
        "bytes": token.encode(),
        "spaced": f"{token[:3]} {token[3:]}",
    }[form]
    expected = _reference_match(otp, token, time, window, skew, last)
    if expected is None:
        with pytest.raises(InvalidTokenError):
            otp.match(given_token, time, window, skew, last)
    elif expected == last:
        with pytest.raises(UsedTokenError):
            otp.match(given_token, time, window, skew, last)
    else:
        assert otp.match(given_token, time, window, skew, last).counter == expected


def test_codes_follow_key_alg_and_digits() -> None:
    """The generator of the HMAC pads is made again when key, alg or digits change after construction."""
    otp = HOTP(b"k" * 20, "raw")
    assert otp.generate(5) == hotp(b"k" * 20, 5)
    otp.digits = 8
    assert otp.generate(5) == hotp(b"k" * 20, 5, 8)
    otp.key = b"j" * 20
    assert otp.generate(5) == hotp(b"j" * 20, 5, 8)
    otp.alg = "sha512"
    assert otp.generate(5) == hotp(b"j" * 20, 5, 8, "sha512")
    assert otp.match(hotp(b"j" * 20, 7, 8, "sha512")).counter == 7


def _general_normalize(token: object, digits: int) -> str:
    """normalize_token without its shortcut for a token that is already normal: every token takes the general path."""
    if isinstance(token, bool) or not isinstance(token, str | int | bytes):
        raise MalformedTokenError("Token must be a string of digits")
    if isinstance(token, int):
        if token < 0:
            raise MalformedTokenError("Token must not be negative")
        token = str(token).zfill(digits)
    elif isinstance(token, bytes):
        try:
            token = token.decode("ascii")
        except UnicodeDecodeError:
            raise MalformedTokenError("Token must contain only the digits 0-9") from None
    token = re.sub(r"[\s-]", "", token)
    if not token.isascii() or not token.isdigit():
        raise MalformedTokenError("Token must contain only the digits 0-9")
    if len(token) != digits:
        raise MalformedTokenError(f"Token must have exactly {digits} digits")
    return token


@given(
    token=st.one_of(
        st.from_regex(r"\A[0-9]{5,11}\Z"),
        st.text(alphabet="0123456789 -٣²\t", max_size=14),
        st.integers(-5, 10**11),
        st.binary(max_size=12),
        st.booleans(),
    ),
    digits=st.integers(6, 10),
)
def test_normalize_token_is_the_general_path(token: str | int | bytes, digits: int) -> None:
    """The shortcut for an already normal token gives what the general path gives, error messages included."""
    try:
        expected: str | tuple[type[Exception], str] = _general_normalize(token, digits)
    except MalformedTokenError as e:
        expected = (type(e), str(e))
    try:
        got: str | tuple[type[Exception], str] = normalize_token(token, digits)
    except MalformedTokenError as e:
        got = (type(e), str(e))
    assert got == expected
