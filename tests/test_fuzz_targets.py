"""The fuzz targets (fuzz/targets.py) in the normal suite: every target on its seed corpus and on
hypothesis-generated inputs (random bytes and mutated seeds), so the targets keep working and only
each module's typed errors escape. Crashes the fuzzer found in modules not yet fixed are replayed as
strict xfails: they flip to failures (to be removed from KNOWN_CRASHES) once the module is fixed.
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

FUZZ = Path(__file__).resolve().parent.parent / "fuzz"
sys.path.insert(0, str(FUZZ))  # only while importing the harness: fuzz/ holds generic module names
try:
    import run as fuzz_run
    from targets import TARGETS, Target, TargetUnavailable, join_records, split_records
finally:
    sys.path.remove(str(FUZZ))


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


# Crashes fuzz/run.py found in modules owned elsewhere, replayed from fuzz/known_crashes/<target>-<what> until
# fixed: file name -> (where it is raised as ExceptionType@file, what is wrong).
KNOWN_CRASHES: dict[str, tuple[str, str]] = {}

# So the seed and hypothesis runs do not fail on the known crashes meanwhile.
KNOWN_SIGNATURES: frozenset[str] = frozenset(signature for signature, _ in KNOWN_CRASHES.values())


def _check_unless_known(target: Target, data: bytes) -> None:
    try:
        _check(target, data)
    except Exception as e:
        if fuzz_run.crash_signature(e).rpartition(":")[0] not in KNOWN_SIGNATURES:
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
    # (regression-* files are fixed crashes kept as seeds: rejected with a typed error, by design)
    real = [p for p in (FUZZ / "corpus" / name).glob("*") if not p.name.startswith("regression-")]
    assert accepted * 2 >= len(real), f"only {accepted} of the {len(real)} {name} seeds are accepted"


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


class KnownCrash(Exception):
    """The recorded crash happened, where it was recorded."""


@pytest.mark.parametrize("crash", sorted(KNOWN_CRASHES))
@pytest.mark.xfail(strict=True, raises=KnownCrash, reason="a crash the fuzzer found; fixed when this test passes")
def test_known_crash(crash: str) -> None:
    data = (FUZZ / "known_crashes" / crash).read_bytes()
    try:
        _check(_target(crash.split("-")[0]), data)
    except Exception as e:
        signature = fuzz_run.crash_signature(e)
        if signature.rpartition(":")[0] != KNOWN_CRASHES[crash][0]:
            raise  # some other failure: report it as such
        raise KnownCrash(f"{signature}: {KNOWN_CRASHES[crash][1]}") from e


def test_known_crash_files_are_listed() -> None:
    assert sorted(p.name for p in (FUZZ / "known_crashes").glob("*")) == sorted(KNOWN_CRASHES)


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
    from aioctap import cbor

    with pytest.raises(cbor.CborError) as error:
        cbor.dumps(object())
    assert fuzz_run.crash_signature(error.value).startswith("CborError@aioctap/cbor.py:")
    assert fuzz_run._escape(b'a"\\\x00\xff') == "a\\x22\\x5c\\x00\\xff"
    assert fuzz_run._execs("#12\tNEW cov\nFUZZ-EXECS: 345\n") == 345
    assert fuzz_run._execs("#7\tpulse\n#9\tDONE\n") == 9
