"""Shared table format for the benchmark scripts.

Every ``benchmarks/bench_*.py`` exposes ``run(quick: bool = False) -> list[Row]`` and, when run as a
script, prints its own table with :func:`print_rows`. ``benchmarks/run_all.py`` imports each and prints
one report. A row compares one aioctap figure with the peer measured in the same run.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Row:
    """One measured figure: ``value`` for aioctap, ``peer_value`` for ``peer`` (same unit), and a target."""

    group: str
    case: str
    unit: str
    value: float
    peer: str = ""
    peer_value: float | None = None
    target: str = ""

    @property
    def ratio(self) -> float | None:
        if self.peer_value is None or self.peer_value == 0:
            return None
        return self.value / self.peer_value


def _fmt(v: float | None) -> str:
    if v is None:
        return "-"
    if v >= 1000:
        return f"{v:,.0f}"
    if v >= 10:
        return f"{v:.1f}"
    return f"{v:.3g}"


def print_rows(rows: Iterable[Row], title: str = "") -> None:
    """Print rows as an aligned plain-text table (also valid Markdown)."""
    rows = list(rows)
    header = ["group", "case", "unit", "aioctap", "peer", "peer value", "ratio", "target"]
    body = [
        [
            r.group,
            r.case,
            r.unit,
            _fmt(r.value),
            r.peer or "-",
            _fmt(r.peer_value),
            "-" if r.ratio is None else f"{r.ratio:.2f}x",
            r.target or "-",
        ]
        for r in rows
    ]
    widths = [max(len(h), *(len(b[i]) for b in body)) if body else len(h) for i, h in enumerate(header)]
    if title:
        print(f"\n## {title}\n")
    print("| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for b in body:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(b, widths, strict=True)) + " |")
