"""Run every benchmark and print one report (Markdown tables), peers measured in the same run.

    python3 benchmarks/run_all.py            # full run
    python3 benchmarks/run_all.py --quick    # a short run of each (seconds, not minutes)
    python3 benchmarks/run_all.py otp verify # some benchmarks only

Each ``benchmarks/bench_<name>.py`` exposes ``run(quick) -> list[Row]``. The report is also written
to ``benchmarks/out/report.md``; if matplotlib is installed and the transport benchmark ran, a plot
of host CPU per round trip against the number of devices goes to ``benchmarks/out/transport_cpu.png``.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import platform
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from _report import Row, print_rows  # noqa: E402

BENCHMARKS = ["transport", "authenticator", "verify", "http", "otp"]


def plot_transport(rows: list[Row], path: Path) -> bool:
    """Host CPU per round trip against the number of devices (rows of group 'transport-cpu')."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    series: dict[str, list[tuple[int, float, float | None]]] = {}
    for r in rows:
        if r.group != "transport-cpu":
            continue
        # case: "<payload> bytes, <n> devices"
        try:
            payload, devices = (part.split()[0] for part in r.case.split(","))
            n = int(devices)
        except ValueError:
            continue
        series.setdefault(payload, []).append((n, r.value, r.peer_value))
    if not series:
        return False
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for payload, points in sorted(series.items(), key=lambda kv: int(kv[0])):
        points.sort()
        ns = [p[0] for p in points]
        ax.plot(ns, [p[1] for p in points], marker="o", label=f"aioctap, PING {payload} B")
        if all(p[2] is not None for p in points):
            ax.plot(ns, [p[2] for p in points], marker="x", linestyle="--", label=f"python-fido2, PING {payload} B")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("devices at once")
    ax.set_ylabel("host CPU per round trip (µs)")
    ax.set_title("CTAPHID over UDP: host CPU per round trip")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    return True


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", help=f"benchmarks to run (default: all of {', '.join(BENCHMARKS)})")
    parser.add_argument("--quick", action="store_true", help="short runs")
    args = parser.parse_args()
    names = args.names or BENCHMARKS
    out = io.StringIO()
    all_rows: list[Row] = []
    failed = []
    header = (
        f"# aioctap benchmark report\n\n{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
        f"Python {platform.python_version()}, {platform.machine()}, quick={args.quick}\n"
    )
    print(header)
    out.write(header + "\n")
    for name in names:
        try:
            module = importlib.import_module(f"bench_{name}")
        except ImportError as e:
            print(f"bench_{name}: not available ({e})", file=sys.stderr)
            failed.append(name)
            continue
        t0 = time.perf_counter()
        rows: list[Row] = module.run(quick=args.quick)
        elapsed = time.perf_counter() - t0
        all_rows += rows
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            print_rows(rows, f"{name} ({elapsed:.0f} s)")
        print(buf.getvalue(), flush=True)
        out.write(buf.getvalue())
    report = HERE / "out" / "report.md"
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(out.getvalue(), encoding="utf-8")
    png = HERE / "out" / "transport_cpu.png"
    if plot_transport(all_rows, png):
        print(f"\nplot: {png}")
    print(f"report: {report}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
