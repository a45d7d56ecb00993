"""Taler POS algorithm 2 (TOTP_WITH_PRICE) against the real GNUnet KDF.

The merchant backend (util/crypto_confirmation.c, ``TALER_build_pos_confirmation``) derives the TOTP key as
``GNUNET_CRYPTO_kdf (&hkey, 64, &ntotal, sizeof ntotal, key, key_len, NULL, 0)``: salt (xts) the amount in
network byte order, key material (skm) the decoded POS key, no context. ``gnunet_kdf.c`` makes exactly that
call into Debian's libgnunetutil (built here with gcc; CI installs libgnunet-dev and libsodium-dev), and the
tests compare aioctap's Python ``_gnunet_kdf`` with it, then the five codes of ``pos_confirmation`` with
RFC 6238 codes computed with Python's hmac from the C library's key, the time steps moved as the backend
moves them (whole 30 s periods, saturating at the epoch).
"""

from __future__ import annotations

import base64
import hmac
import shutil
import struct
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aioctap.otp import TalerAmount, pos_confirmation
from aioctap.otp.taler import _gnunet_kdf

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "gnunet_kdf.c"
HEADER = Path("/usr/include/gnunet/gnunet_util_lib.h")
INSTALL = "apt-get install libgnunet-dev libsodium-dev"

PRICES = [
    "EUR:1.5",
    "EUR:0",
    "KUDOS:0.00000001",
    "USD:99999999.99999999",
    f"CHF:{2**52}",
    f"TESTKUDOS:{2**52}.99999999",
    "ABCDEFGHIJK:123.456",  # 11 letters: the longest currency, one NUL left in the 12-byte field
    "X:7",
]
KEY_LENGTHS = [0, 1, 10, 20, 32, 64, 100]
OUT_LENGTHS = [0, 1, 31, 32, 33, 64, 65, 255 * 32, 255 * 32 + 1, 256 * 32 + 5]


@pytest.fixture(scope="module")
def gnunet_kdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    compiler = shutil.which("gcc") or shutil.which("cc")
    if compiler is None:
        pytest.skip("no C compiler (gcc) to build tests/otp/gnunet_kdf.c")
    if not HEADER.exists():
        pytest.skip(f"GNUnet's headers are not installed (no {HEADER}): {INSTALL}; CI installs them")
    binary = tmp_path_factory.mktemp("gnunet") / "gnunet_kdf"
    built = subprocess.run(
        [compiler, "-O1", "-Wall", "-Wextra", "-o", str(binary), str(SOURCE), "-lgnunetutil"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    if built.returncode != 0 and "sodium.h" in built.stderr:
        pytest.skip(f"gnunet_crypto_lib.h includes <sodium.h>, which is not installed: {INSTALL}")
    if built.returncode != 0 and "-lgnunetutil" in built.stderr and "cannot find" in built.stderr:
        pytest.skip(f"libgnunetutil is not installed (no library to link): {INSTALL}")
    assert built.returncode == 0, f"gnunet_kdf.c does not compile:\n{built.stderr}"
    return binary


def c_kdf_batch(binary: Path, cases: list[tuple[bytes, bytes, int]]) -> list[bytes]:
    """GNUNET_CRYPTO_kdf(out, length, xts, skm) for each (xts, skm, length), in one run of the program."""
    lines = "".join(f"{xts.hex() or '-'} {skm.hex() or '-'} {length}\n" for xts, skm, length in cases)
    run = subprocess.run([str(binary)], input=lines, capture_output=True, text=True, timeout=60, check=True)
    out = run.stdout.split("\n")[: len(cases)]
    assert len(out) == len(cases) and "SYSERR" not in out, run.stdout[:500] + run.stderr
    return [bytes.fromhex(x) for x in out]


def c_kdf(binary: Path, xts: bytes, skm: bytes, length: int) -> bytes:
    """One derivation, the inputs on the command line."""
    run = subprocess.run(
        [str(binary), xts.hex(), skm.hex(), str(length)], capture_output=True, text=True, timeout=30, check=True
    )
    assert run.stdout.endswith("\n") and "SYSERR" not in run.stdout, run.stdout + run.stderr
    return bytes.fromhex(run.stdout)


def _key(n: int) -> bytes:
    return bytes((7 * i + 3) % 256 for i in range(n))


def test_amount_and_key_grid(gnunet_kdf: Path) -> None:
    """Every price x every key length, 64 bytes out (what Taler derives): the Python KDF is GNUnet's."""
    cases = [(TalerAmount.parse(p).to_nbo(), _key(n), 64) for p in PRICES for n in KEY_LENGTHS]
    # the 12-byte currency field without its NUL (no valid Taler currency, but the KDF takes any bytes)
    cases.append((struct.pack(">QI", 1, 0) + b"ABCDEFGHIJKL", _key(20), 64))
    expected = c_kdf_batch(gnunet_kdf, cases)
    assert len({e for e in expected}) == len(cases)  # every input gave its own key
    for (xts, skm, length), want in zip(cases, expected, strict=True):
        assert _gnunet_kdf(skm, xts, length) == want, (xts.hex(), skm.hex(), length)


@pytest.mark.parametrize("length", OUT_LENGTHS)
def test_output_lengths(gnunet_kdf: Path, length: int) -> None:
    """Short, block-boundary and long outputs; past 255 SHA-256 blocks GNUnet's one-byte counter wraps."""
    xts = TalerAmount.parse("EUR:1.5").to_nbo()
    want = c_kdf(gnunet_kdf, xts, _key(20), length)
    assert len(want) == length
    assert _gnunet_kdf(_key(20), xts, length) == want


def _rfc6238_reference(hkey: bytes, time: int) -> str:
    """The five codes as the merchant backend computes them, written out from RFC 6238 / RFC 4226 with hmac:
    the time moved by whole 30 s periods (subtraction saturating at zero), counter = seconds // 30, HMAC-SHA1,
    dynamic truncation, 8 digits, written with "%llu" (no leading zeros)."""
    codes = []
    for off in range(-2, 3):
        now = max(time + 30 * off, 0)
        digest = hmac.digest(hkey, struct.pack(">Q", now // 30), "sha1")
        offset = digest[-1] & 0x0F
        code = (struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF) % 10**8
        codes.append(str(code))
    return "\n".join(codes)


TIMES = [0, 1, 29, 30, 35, 59, 60, 89, 1111111109, 1_700_000_000, 20_000_000_000]


def test_pos_confirmation_algorithm_2(gnunet_kdf: Path) -> None:
    """pos_confirmation(key, 2, t, price) == RFC 6238 codes keyed with GNUnet's KDF output, for several keys,
    prices and times (t < 60 s included: there the backend's steps stop at the epoch)."""
    combos = [(p, n) for p in PRICES for n in KEY_LENGTHS if n]
    hkeys = c_kdf_batch(gnunet_kdf, [(TalerAmount.parse(p).to_nbo(), _key(n), 64) for p, n in combos])
    for (price, n), hkey in zip(combos, hkeys, strict=True):
        key_b32 = base64.b32encode(_key(n)).decode()
        for t in TIMES:
            assert pos_confirmation(key_b32, 2, t, price) == _rfc6238_reference(hkey, t), (price, n, t)
    # the reference reproduces RFC 6238's SHA1 vector when keyed as algorithm 1 is (a check of the check)
    assert _rfc6238_reference(b"12345678901234567890", 59).split("\n")[2] == "94287082"


@settings(max_examples=150, deadline=None)
@given(xts=st.binary(max_size=80), skm=st.binary(max_size=150), length=st.integers(0, 300))
def test_random_inputs(gnunet_kdf: Path, xts: bytes, skm: bytes, length: int) -> None:
    assert _gnunet_kdf(skm, xts, length) == c_kdf(gnunet_kdf, xts, skm, length)
