"""The fuzz targets (fuzz/targets.py) in the normal suite: every target on its seed corpus and on
hypothesis-generated inputs (random bytes and mutated seeds), so the targets keep working and only
each module's typed errors escape. Crashes the fuzzer found in modules not yet fixed are replayed as
strict xfails: they flip to failures (to be removed from KNOWN_CRASHES) once the module is fixed.
"""

from __future__ import annotations

import base64
import functools
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

FUZZ = Path(__file__).resolve().parent.parent / "fuzz"
sys.path.insert(0, str(FUZZ))

from targets import TARGETS, Target, TargetUnavailable, join_records, split_records  # noqa: E402


@functools.cache
def _target(name: str) -> Target:
    try:
        return TARGETS[name]()
    except TargetUnavailable as e:
        pytest.skip(str(e))


def _seeds(name: str) -> list[bytes]:
    return [p.read_bytes() for p in sorted((FUZZ / "corpus" / name).glob("*"))]


def _check(target: Target, data: bytes) -> None:
    """The fuzzer's oracle: anything but the target's typed errors is a crash."""
    try:
        target.func(data)
    except target.expected:
        pass


@st.composite
def _mutated(draw: st.DrawFn, seeds: list[bytes]) -> bytes:
    data = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(0, 6))):
        if not data:
            break
        i = draw(st.integers(0, len(data) - 1))
        op = draw(st.integers(0, 3))
        if op == 0:
            data[i] = draw(st.integers(0, 255))
        elif op == 1:
            del data[i]
        elif op == 2:
            data.insert(i, draw(st.integers(0, 255)))
        else:
            del data[i:]
    return bytes(data)


# Crashes found by fuzz/run.py in modules owned elsewhere, replayed until fixed: (target, base64 input, reason).
KNOWN_CRASHES: list[tuple[str, str, str]] = [
    (
        "attestation_certificate",
        "MIIBmjCCAUGgAwIBAgIBAjAKBggqhkjOPQQDAjAcMRowGAYDVQQDDBFhaW9jdGFwIGZ1enogcm9vdDAeFw0yMDAxMDEwMDAwMDBaFw0z"
        "OTEyMjcwMDAwMDBaMF0xCzAJBgNVBAYTAlVTMQ0wCwYDVQQKDARGdXp6MRswGQYDVQQDDBJmdXp6IGF1dGhlbnRpY2F0b3IxIjAgBgNV"
        "BAsMGUF1dGhlbnRpY2F0b3IgQXR0ZXN0YXRpb24wWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAAXpsnupPGbGXhfLcwQVY2E4bBmNP47b"
        "stVL2JPgm6ksmr8XQ3H6FgJaomhGPJdwP2QnLMRAy/Hfvl+sI62dEa7CozMwMTAMBgNVHRMBAf8EAjAAMCEGCysGAQQBguUcAQEEBBIE"
        "EAICAgICAgICAgICAgICAgIwCgYIKoZIzj0EAwIDRwAwRAIgZ1f/NC/wCNKGtm4CufPFbFZeObS5eZaYNtHOBLRadZ8CIDIzbOm3wOYE"
        "nF5vGfrtxB1zNIFJG3RMP/MANSfuelVp",
        "aioctap/server/attestation/_common.py verify_with_cert: cert.public_key() raises a bare ValueError for a"
        " certificate whose SubjectPublicKeyInfo is not a valid key (here an EC point of type 0x05)",
    ),
]

# Where the known crashes are raised (ExceptionType@file, the line left out as the file is being edited),
# so the seed and hypothesis runs do not fail on them meanwhile.
KNOWN_SIGNATURES: frozenset[str] = frozenset({"ValueError@aioctap/server/attestation/_common.py"})


def _check_unless_known(target: Target, data: bytes) -> None:
    from run import crash_signature

    try:
        _check(target, data)
    except Exception as e:
        if crash_signature(e).rpartition(":")[0] not in KNOWN_SIGNATURES:
            raise


def test_every_target_has_a_seed_corpus() -> None:
    for name in TARGETS:
        assert _seeds(name), f"fuzz/corpus/{name}/ is empty: run python3 fuzz/make_corpus.py"


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_seed_corpus(name: str) -> None:
    target = _target(name)
    accepted = 0
    for seed in _seeds(name):
        try:
            target.func(seed)
            accepted += 1
        except target.expected:
            pass
    # seeds are real exchanges: most must get through the whole target, not stop at its first check
    assert accepted * 2 >= len(_seeds(name)), f"only {accepted} of the {name} seeds are accepted"


@pytest.mark.parametrize("name", sorted(TARGETS))
@settings(
    max_examples=25,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
@given(data=st.data())
def test_generated_inputs(name: str, data: st.DataObject) -> None:
    target = _target(name)
    seeds = _seeds(name)
    strategy = st.one_of(st.binary(max_size=200), _mutated(seeds)) if seeds else st.binary(max_size=200)
    _check_unless_known(target, data.draw(strategy))


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [pytest.param(n, base64.b64decode(d), r, id=f"{n}-{i}") for i, (n, d, r) in enumerate(KNOWN_CRASHES)],
)
@pytest.mark.xfail(strict=True, reason="a crash the fuzzer found; fixed when this test passes")
def test_known_crash(name: str, data: bytes, reason: str) -> None:
    _check(_target(name), data)


def test_records_framing() -> None:
    records = [b"", b"abc", bytes(300)]
    assert split_records(join_records(records)) == records
    assert split_records(b"\x00\x05ab") == [b"ab"]  # a truncated record keeps what is there
    assert split_records(b"\x00") == []


def test_oracle_reports_unexpected_errors() -> None:
    def boom(data: bytes) -> None:
        raise KeyError(data)

    with pytest.raises(KeyError):
        _check(Target("boom", boom, (ValueError,)), b"x")
    _check(Target("fine", lambda d: int("x"), (ValueError,)), b"x")


def test_run_helpers() -> None:
    from run import _escape, _execs, crash_signature

    try:
        from aioctap import cbor

        cbor.dumps(object())
    except Exception as e:
        signature = crash_signature(e)
    assert signature.startswith("CborError@aioctap/cbor.py:")
    assert _escape(b'a"\\\x00\xff') == 'a\\x22\\x5c\\x00\\xff'
    assert _execs("#12\tNEW cov\nFUZZ-EXECS: 345\n") == 345
    assert _execs("#7\tpulse\n#9\tDONE\n") == 9
