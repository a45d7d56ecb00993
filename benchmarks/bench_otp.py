"""TOTP verifications per second: aioctap beside pyotp and passlib, stateless and through OtpVerifier.

    python3 benchmarks/bench_otp.py [--quick]

Every verification checks a valid 6-digit SHA1 token against a window of one step either side
(aioctap ``TOTP.match(window=30)``, passlib ``TOTP.match(window=30)``, pyotp
``TOTP.verify(valid_window=1)``).

The stateful rows are issue 17's workload: 2,000 enrolled accounts, each verified with a fresh
token (one token per account per time step, the steps in order) through ``OtpVerifier.verify``:
load the account from the store, match, and record the used counter with one compare-and-set.
passlib's figure beside it is its stateless ``TOTP.match`` on the same tokens, one passlib TOTP
per account. Each round times one step of every account for aioctap, then the same tokens for
passlib; the figures are the medians of the rounds' rates. Redis runs on a private
``redis-server`` started on a free port when one is installed; the row is skipped otherwise.
Targets: stateless match at least 1.5x passlib's; OtpVerifier with the memory store (replay
protection on) at least passlib's stateless rate.
"""

from __future__ import annotations

import base64
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import anyio  # noqa: E402
import pyotp  # noqa: E402
from _report import Row, print_rows  # noqa: E402
from _servers import redis_server  # noqa: E402
from passlib import totp as passlib_totp  # noqa: E402

from aioctap.otp import TOTP, OtpVerifier  # noqa: E402
from aioctap.stores import open_store  # noqa: E402

T0 = 1_700_000_010  # inside a step, so that a window of 30 s covers three counters
ACCOUNTS = 2_000


def _rate(fn: Callable[[], object], seconds: float, batch: int = 200) -> float:
    count = 0
    start = time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        for _ in range(batch):
            fn()
        count += batch
    return count / elapsed


def _stateless(seconds: float, rounds: int) -> dict[str, float]:
    key = base64.b32encode(os.urandom(20)).decode()
    ours, theirs, py = TOTP(key), passlib_totp.TOTP(key=key), pyotp.TOTP(key)
    token = ours.generate(T0).token
    assert theirs.match(token, T0).counter == ours.match(token, T0).counter
    assert py.verify(token, for_time=T0, valid_window=1)
    cases: dict[str, Callable[[], object]] = {
        "aioctap": lambda: ours.match(token, T0),
        "passlib": lambda: theirs.match(token, T0),
        "pyotp": lambda: py.verify(token, for_time=T0, valid_window=1),
    }
    rates: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(rounds):  # alternating, so that a busy moment of the shared machine hits all alike
        for name, fn in cases.items():
            rates[name].append(_rate(fn, seconds / rounds))
    return {name: statistics.median(r) for name, r in rates.items()}


async def _verifier_rates(url: str, seconds: float, rounds: int, accounts: int) -> tuple[float, float]:
    """(OtpVerifier verifications/s, passlib stateless matches/s on the same tokens): medians of the rounds."""
    async with open_store(url) as store:
        verifier = OtpVerifier(store)
        clients: list[tuple[str, TOTP, passlib_totp.TOTP]] = []
        for i in range(accounts):
            name = f"user{i}"
            key = base64.b32encode(os.urandom(20)).decode()
            await verifier.enroll(name, key=key)
            clients.append((name, TOTP(key), passlib_totp.TOTP(key=key)))  # the client's side, passlib's server
        step = 0
        ours: list[float] = []
        theirs: list[float] = []
        deadline = time.perf_counter() + seconds
        while len(ours) < rounds or time.perf_counter() < deadline:
            t = T0 + 30 * step
            step += 1
            work = [(name, client.generate(t).token, peer) for name, client, peer in clients]  # not timed
            start = time.perf_counter()
            for name, token, _ in work:
                await verifier.verify(name, token, time=t)
            ours.append(len(work) / (time.perf_counter() - start))
            start = time.perf_counter()
            for _, token, peer in work:
                peer.match(token, t)
            theirs.append(len(work) / (time.perf_counter() - start))
        return statistics.median(ours), statistics.median(theirs)


def run(quick: bool = False) -> list[Row]:
    seconds = 1.0 if quick else 6.0
    rounds = 5 if quick else 15
    rates = _stateless(seconds, rounds)
    group = "TOTP verify"
    ours = rates["aioctap"]
    rows = [
        Row(group, "stateless match, vs passlib", "verif/s", ours, "passlib match", rates["passlib"], ">= 1.5x"),
        Row(group, "stateless match, vs pyotp", "verif/s", ours, "pyotp verify(valid_window=1)", rates["pyotp"]),
    ]
    with tempfile.TemporaryDirectory() as tmp, redis_server() as redis_url:
        stores: list[tuple[str, str | None, str]] = [
            ("memory", "memory://", ">= 1.0x"),
            ("sqlite", f"sqlite:///{tmp}/bench.db", ""),
            ("redis", redis_url, ""),
        ]
        for name, url, target in stores:
            if url is None:
                continue  # redis-server is not installed: no row
            slow = name != "memory"
            rate, peer = anyio.run(_verifier_rates, url, seconds, 3 if slow else rounds, ACCOUNTS)
            case = f"OtpVerifier {name} store, replay-proof, {ACCOUNTS:,} accounts, fresh token each"
            rows.append(Row(group, case, "verif/s", rate, "passlib match (stateless), same tokens", peer, target))
    return rows


if __name__ == "__main__":
    print_rows(run(quick="--quick" in sys.argv), "OTP: TOTP verifications per second")
