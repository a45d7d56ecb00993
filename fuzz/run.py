"""Run the atheris fuzz targets.

    python fuzz/run.py                    # every target, 60 s in all
    python fuzz/run.py --seconds 600      # longer
    python fuzz/run.py cbor cose          # some targets

Each target runs in its own process (libFuzzer's -max_total_time); the report lists the number of
executions each reached and whether it crashed. A crash is any exception outside the target's
typed errors; its input is saved under fuzz/crashes/.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))


def run_one(name: str, argv: list[str]) -> None:
    """Child process: fuzz one target with atheris."""
    import atheris
    from targets import TARGETS

    with atheris.instrument_imports(include=["aioctap"]):
        target = TARGETS[name]()

    def test_one_input(data: bytes) -> None:
        try:
            target.func(data)
        except target.expected:
            pass

    atheris.Setup([sys.argv[0], *argv], test_one_input)
    atheris.Fuzz()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("targets", nargs="*", help="target names (default: all)")
    parser.add_argument("--seconds", type=float, default=60.0, help="total time for all targets")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args, rest = parser.parse_known_args()
    if args.child:
        run_one(args.child, rest)
        return 0

    from targets import TARGETS

    names = args.targets or list(TARGETS)
    unknown = [n for n in names if n not in TARGETS]
    if unknown:
        parser.error(f"unknown targets {unknown}; known: {sorted(TARGETS)}")
    per_target = max(1, int(args.seconds / len(names)))
    crash_dir = HERE / "crashes"
    crash_dir.mkdir(exist_ok=True)
    failures = 0
    print(f"{'target':<24} {'executions':>12} {'result':>8}")
    for name in names:
        with tempfile.TemporaryDirectory() as corpus:
            proc = subprocess.run(
                [
                    sys.executable,
                    str(HERE / "run.py"),
                    "--child",
                    name,
                    corpus,
                    f"-max_total_time={per_target}",
                    "-print_final_stats=1",
                    f"-artifact_prefix={crash_dir}/{name}-",
                    "-max_len=4096",
                    "-rss_limit_mb=2048",
                ],
                capture_output=True,
                text=True,
                env={**os.environ, "PYTHONHASHSEED": "0"},
            )
        out = proc.stdout + proc.stderr
        m = re.search(r"stat::number_of_executed_units:\s*(\d+)", out)
        execs = int(m.group(1)) if m else 0
        ok = proc.returncode == 0
        if not ok:
            failures += 1
            print(out[-3000:], file=sys.stderr)
        print(f"{name:<24} {execs:>12} {'ok' if ok else 'CRASH':>8}", flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
