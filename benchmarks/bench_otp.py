"""TOTP verifications per second: aioctap beside pyotp and passlib, stateless and through OtpVerifier.

    python3 benchmarks/bench_otp.py [--quick]

Every verification checks a valid 6-digit SHA1 token against a window of one step either side
(aioctap ``TOTP.match(window=30)``, passlib ``TOTP.match(window=30)``, pyotp
``TOTP.verify(valid_window=1)``). The stateful rows go through ``OtpVerifier.verify``: load the
account from the store, match, and record the used counter with one compare-and-set, so every
verification is a fresh token (many accounts, successive time steps). Redis runs on a private
``redis-server`` started on a free port when one is installed; the row is skipped otherwise.
Targets (issue 7): stateless match at least 1.5x passlib's; OtpVerifier with the memory store
(replay protection on) at least passlib's stateless rate.
"""

from __future__ import annotations

import base64
import os
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


ROUNDS = 5  # measurements alternate between aioctap and the peers; each keeps its best round


def _rate(fn: Callable[[], object], seconds: float, batch: int = 200) -> float:
    count = 0
    start = time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        for _ in range(batch):
            fn()
        count += batch
    return count / elapsed


def _passlib_match() -> Callable[[], object]:
    key = base64.b32encode(os.urandom(20)).decode()
    theirs = passlib_totp.TOTP(key=key)
    token = theirs.generate(T0).token
    return lambda: theirs.match(token, T0)


def _stateless(seconds: float) -> dict[str, float]:
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
    best = dict.fromkeys(cases, 0.0)
    for _ in range(ROUNDS):
        for name, fn in cases.items():
            best[name] = max(best[name], _rate(fn, seconds / ROUNDS))
    return best


async def _verifier_rates(url: str, seconds: float, accounts: int) -> tuple[float, float]:
    """(OtpVerifier verifications/s, passlib stateless matches/s), measured in alternating rounds."""
    passlib_match = _passlib_match()
    async with open_store(url) as store:
        verifier = OtpVerifier(store)
        clients: list[tuple[str, TOTP]] = []
        for i in range(accounts):
            name = f"user{i}"
            key = base64.b32encode(os.urandom(20)).decode()
            await verifier.enroll(name, key=key)
            clients.append((name, TOTP(key)))  # the client's side: its own object
        step = 0
        best, best_peer = 0.0, 0.0
        for _ in range(ROUNDS):
            count, elapsed = 0, 0.0
            while elapsed < seconds / ROUNDS:
                t = T0 + 30 * step
                work = [(name, otp.generate(t).token) for name, otp in clients]  # the clients' side: not timed
                start = time.perf_counter()
                for name, token in work:
                    await verifier.verify(name, token, time=t)
                elapsed += time.perf_counter() - start
                count += len(work)
                step += 1
            best = max(best, count / elapsed)
            best_peer = max(best_peer, _rate(passlib_match, seconds / ROUNDS))
        return best, best_peer


def run(quick: bool = False) -> list[Row]:
    seconds = 1.0 if quick else 4.0
    accounts = 200 if quick else 1000
    rates = _stateless(seconds)
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
            rate, peer = anyio.run(_verifier_rates, url, seconds, accounts)
            case = f"OtpVerifier {name} store, replay-proof"
            rows.append(Row(group, case, "verif/s", rate, "passlib match (stateless)", peer, target))
    return rows


if __name__ == "__main__":
    print_rows(run(quick="--quick" in sys.argv), "OTP: TOTP verifications per second")
