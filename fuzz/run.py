"""Run the atheris fuzz targets.

    python3 fuzz/run.py                      # every target, 60 s in all (wall clock), a new seed
    python3 fuzz/run.py --seed 1             # the same, with a fixed libFuzzer seed (CI)
    python3 fuzz/run.py --seconds 600        # longer
    python3 fuzz/run.py cbor cose            # some targets
    python3 fuzz/run.py --reproduce cbor fuzz/crashes/cbor-crash-...   # replay inputs without atheris

Each target runs in its own process, ``--jobs`` at a time (default: the number of CPUs, at most 4),
starting from its seed corpus ``fuzz/corpus/<target>/`` (read only: new inputs go to a temporary
directory). The time is split evenly and includes each process's start-up. The report lists the
executions each target reached and its result: ``ok``, ``CRASH`` (any exception outside the target's
typed errors; the input is saved under ``fuzz/crashes/``) or ``skipped`` (the module it fuzzes is not
in this checkout). The exit status is 1 if any target crashed.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import math
import os
import re
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
if __name__ == "__main__":  # targets.py beside this file, and aioctap from the checkout
    sys.path[:0] = [str(HERE), str(HERE.parent)]

SKIPPED_EXIT = 3
CRASH_DIR = HERE / "crashes"
CORPUS_DIR = HERE / "corpus"


def crash_signature(exc: BaseException) -> str:
    """``ExceptionType@file:line`` of the innermost aioctap frame (else the innermost frame)."""
    frames = traceback.extract_tb(exc.__traceback__)
    inside = [f for f in frames if "/aioctap/" in f.filename.replace(os.sep, "/")]
    if not inside and not frames:
        return type(exc).__name__
    frame = (inside or frames)[-1]
    path = frame.filename.replace(os.sep, "/")
    path = path[path.rindex("/aioctap/") + 1 :] if "/aioctap/" in path else Path(path).name
    return f"{type(exc).__name__}@{path}:{frame.lineno}"


def run_child(name: str, seconds: float, argv: list[str], ignore: frozenset[str] = frozenset()) -> None:
    """Child process: fuzz one target with atheris until ``seconds`` after this process started.

    ``ignore``: crash signatures (see :func:`crash_signature`) treated as expected, to explore past
    a crash that is already known.
    """
    start = time.monotonic()
    import atheris
    from targets import TARGETS, TargetUnavailable

    try:
        with atheris.instrument_imports(include=["aioctap"]):
            target = TARGETS[name]()
    except TargetUnavailable as e:
        print(f"FUZZ-SKIPPED: {e}", flush=True)
        os._exit(SKIPPED_EXIT)
    deadline = start + seconds
    count = 0

    def test_one_input(data: bytes) -> None:
        nonlocal count
        count += 1
        if time.monotonic() > deadline:
            print(f"FUZZ-EXECS: {count - 1}", flush=True)
            os._exit(0)
        try:
            target.func(data)
        except target.expected:
            pass
        except Exception as e:
            signature = crash_signature(e)
            if signature in ignore or signature.rpartition(":")[0] in ignore:
                return
            print(f"FUZZ-EXECS: {count}\nFUZZ-SIGNATURE: {signature}", flush=True)
            raise

    options = [f"-max_len={target.max_len}"]
    if target.tokens:
        dictionary = Path.cwd() / f"{name}.dict"  # the parent runs us in a scratch directory
        dictionary.write_text("".join(f'"{_escape(t)}"\n' for t in target.tokens))
        options.append(f"-dict={dictionary}")
    atheris.Setup([sys.argv[0], *argv, *options], test_one_input)
    atheris.Fuzz()


def _escape(token: bytes) -> str:
    """A libFuzzer dictionary entry's body: printable ASCII as is, the rest as \\xNN."""
    return "".join(chr(b) if 0x20 <= b < 0x7F and b not in b'"\\' else f"\\x{b:02x}" for b in token)


@dataclass
class Result:
    name: str
    executions: int
    seconds: float
    status: str  # ok, CRASH, skipped, TIMEOUT
    detail: str = ""


def fuzz_one(name: str, seconds: float, ignore: list[str], seed: int | None = None) -> Result:
    """Parent side: run one target's child process and read its outcome."""
    CRASH_DIR.mkdir(exist_ok=True)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix=f"fuzz-{name}-") as work:
        corpora = [str(Path(work) / "corpus")]  # new inputs go here; the seeds are only read
        Path(corpora[0]).mkdir()
        seeds = CORPUS_DIR / name
        if seeds.is_dir():
            corpora.append(str(seeds))
        cmd = [
            sys.executable,
            str(HERE / "run.py"),
            "--child",
            name,
            "--seconds",
            repr(seconds),
            *[f"--ignore={sig}" for sig in ignore],
            *corpora,
            f"-max_total_time={math.ceil(seconds) + 5}",
            f"-artifact_prefix={CRASH_DIR}/{name}-",
            "-timeout=20",
            "-rss_limit_mb=2048",
            *([f"-seed={seed}"] if seed is not None else []),
        ]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60, cwd=work)
        except subprocess.TimeoutExpired as e:
            out = (e.stdout or b"").decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
            return Result(name, _execs(out), time.monotonic() - started, "TIMEOUT", out[-3000:])
    out = proc.stdout + proc.stderr
    elapsed = time.monotonic() - started
    if proc.returncode == SKIPPED_EXIT:
        m = re.search(r"FUZZ-SKIPPED: (.*)", out)
        return Result(name, 0, elapsed, "skipped", m.group(1) if m else "")
    if proc.returncode == 0 and "FUZZ-EXECS" in out:
        return Result(name, _execs(out), elapsed, "ok")
    m = re.search(r"FUZZ-SIGNATURE: (.*)", out)
    return Result(name, _execs(out), elapsed, "CRASH", (m.group(1) if m else "") + "\n" + out[-4000:])


def _execs(out: str) -> int:
    counts = re.findall(r"FUZZ-EXECS: (\d+)", out)
    if counts:
        return int(counts[-1])
    m = re.findall(r"#(\d+)\s", out)
    return int(m[-1]) if m else 0


def reproduce(name: str, files: list[str]) -> int:
    """Replay inputs through a target without atheris; print the traceback of each crash."""
    from targets import TARGETS

    target = TARGETS[name]()
    crashed = 0
    for f in files:
        data = Path(f).read_bytes()
        try:
            target.func(data)
        except target.expected as e:
            print(f"{f}: rejected with {type(e).__name__}: {e}")
        except Exception as e:
            crashed += 1
            print(f"{f}: CRASH {crash_signature(e)}")
            traceback.print_exc()
        else:
            print(f"{f}: accepted")
    return 1 if crashed else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("targets", nargs="*", help="target names (default: all)")
    parser.add_argument("--seconds", type=float, default=60.0, help="wall-clock time for all targets")
    parser.add_argument("--jobs", type=int, default=min(4, os.cpu_count() or 1), help="targets run at once")
    parser.add_argument("--reproduce", metavar="TARGET", help="replay the given input files through TARGET")
    parser.add_argument(
        "--ignore",
        action="append",
        default=[],
        metavar="SIGNATURE",
        help="treat a known crash (ExceptionType@aioctap/file.py[:line]) as expected, to fuzz past it",
    )
    parser.add_argument(
        "--seed",
        type=int,
        help="libFuzzer's random seed (default: a new one each run); CI fixes it so that a run explores "
        "the same inputs again and any crash it reports can be run again with the same seed",
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args, rest = parser.parse_known_args()
    if args.child:
        # the corpus directories land in ``targets`` (positional), libFuzzer's -flags in ``rest``
        run_child(args.child, args.seconds, [*rest, *args.targets], frozenset(args.ignore))
        return 0

    from targets import TARGETS

    if args.reproduce:
        return reproduce(args.reproduce, args.targets + rest)
    if rest:
        parser.error(f"unknown arguments {rest}")
    names = args.targets or list(TARGETS)
    unknown = [n for n in names if n not in TARGETS]
    if unknown:
        parser.error(f"unknown targets {unknown}; known: {sorted(TARGETS)}")
    jobs = max(1, min(args.jobs, len(names)))
    rounds = math.ceil(len(names) / jobs)
    per_target = max(1.0, args.seconds / rounds)
    print(f"fuzzing {len(names)} targets, {per_target:.1f} s each, {jobs} at a time", flush=True)
    with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
        results = list(pool.map(lambda n: fuzz_one(n, per_target, args.ignore, args.seed), names))
    print(f"{'target':<26} {'executions':>11} {'exec/s':>8} {'result':>8}")
    for r in results:
        rate = r.executions / r.seconds if r.seconds else 0.0
        note = r.detail if r.status == "skipped" else r.detail.split("\n")[0] if r.status == "CRASH" else ""
        print(f"{r.name:<26} {r.executions:>11} {rate:>8.0f} {r.status:>8}  {note}")
    failed = [r for r in results if r.status in ("CRASH", "TIMEOUT")]
    for r in failed:
        print(f"\n===== {r.name}: {r.status} =====\n{r.detail}", file=sys.stderr)
    if failed:
        print(f"\ncrashing inputs are under {CRASH_DIR}/", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
