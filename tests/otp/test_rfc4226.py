"""The RFC 4226 core: HotpGenerator (the HMAC pads computed once) against the general path, hmac.new."""

from __future__ import annotations

import ast
import hashlib
import hmac
import struct
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import aioctap.otp
from aioctap.otp.errors import KeyFormatError
from aioctap.otp.rfc4226 import HotpGenerator, hotp


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
