"""Many authenticators on one event loop: ask them all, the first touch wins, the others are cancelled.

A kiosk or a server with a rack of security keys asks every key at once and takes whichever the user
touches. Here eight software authenticators each hold a discoverable credential for ``example.com``;
one task per authenticator sends authenticatorGetAssertion and waits (the authenticators send
UPNEEDED keep-alives). The simulated user touches one of them; its task wins and cancels the task
group, and cancelling a task that awaits a CTAP call sends CTAPHID_CANCEL to that authenticator, so
the others stop waiting at once. (``aioctap.client.WebAuthnClient`` does exactly this when given
several devices.)

    python3 examples/many_devices.py [--devices 8] [--touch 3] [--delay 0.3]
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import random
import time

import anyio
import anyio.abc

from aioctap import CtapError
from aioctap.ctap2 import AssertionResponse, Ctap2
from aioctap.virtual import VirtualHidDevice, WaitForTouch, open_virtual_device

RP_ID = "example.com"


async def register(ctap: Ctap2, index: int) -> None:
    """One discoverable credential on this authenticator (its policy approves at once while we set up)."""
    await ctap.make_credential(
        client_data_hash=hashlib.sha256(b"registration %d" % index).digest(),
        rp={"id": RP_ID, "name": "Example"},
        user={"id": os.urandom(16), "name": f"user{index}@example.com"},
        key_params=[{"type": "public-key", "alg": -7}],
        options={"rk": True},
    )


async def main(devices: int = 8, touch: int | None = None, delay: float = 0.3) -> int:
    """Run the race; returns the index of the authenticator whose assertion was used."""
    if devices < 1 or (touch is not None and not 0 <= touch < devices):
        raise ValueError(f"need at least one authenticator and 0 <= touch < {devices}")
    touched = random.randrange(devices) if touch is None else touch
    async with contextlib.AsyncExitStack() as stack:
        # 1. N software authenticators, each on its own in-memory CTAPHID link, all on this event loop
        keys: list[VirtualHidDevice] = [await stack.enter_async_context(open_virtual_device()) for _ in range(devices)]
        ctaps = [await Ctap2.create(key) for key in keys]
        for i, ctap in enumerate(ctaps):
            await register(ctap, i)

        # 2. from now on each authenticator waits for a touch (and sends UPNEEDED keep-alives meanwhile)
        users = [WaitForTouch() for _ in keys]
        for key, user in zip(keys, users, strict=True):
            key.authenticator.policy = user

        client_data_hash = hashlib.sha256(os.urandom(32)).digest()
        winner: list[tuple[int, AssertionResponse]] = []
        statuses: dict[int, list[str]] = {i: [] for i in range(devices)}

        async def ask(i: int, tg: anyio.abc.TaskGroup) -> None:
            try:
                assertion = await ctaps[i].get_assertion(
                    RP_ID, client_data_hash, on_keepalive=lambda s: statuses[i].append(s.name)
                )
            except CtapError as e:  # e.g. the user refused on this key: let the others go on
                print(f"  authenticator {i}: {e.code}")
                return
            if not winner:
                winner.append((i, assertion))
                tg.cancel_scope.cancel()  # the others lose: their calls are cancelled (CTAPHID_CANCEL)

        async def simulated_user() -> None:
            while not all(u.waiting for u in users):  # every key is blinking now
                await anyio.sleep(0.01)
            print(f"{devices} authenticators wait for a touch; the user touches #{touched} in {delay:.1f} s")
            await anyio.sleep(delay)
            users[touched].touch()

        started = time.perf_counter()
        async with anyio.create_task_group() as tg:
            for i in range(devices):
                tg.start_soon(ask, i, tg)
            tg.start_soon(simulated_user)
        elapsed = time.perf_counter() - started

        index, assertion = winner[0]
        # the losers were cancelled on the device, not just abandoned by the host
        with anyio.fail_after(2):
            while any(u.waiting for u in users):
                await anyio.sleep(0.01)
        credential = assertion.credential["id"].hex()[:16]
        print(f"authenticator #{index} answered with credential {credential}… after {elapsed:.2f} s")
        print(f"keep-alives seen by the winner: {' → '.join(statuses[index])}")
        print(f"the other {devices - 1} authenticators were cancelled and no longer wait")
        return index


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--devices", type=int, default=8)
    parser.add_argument("--touch", type=int, default=None, help="which authenticator the user touches")
    parser.add_argument("--delay", type=float, default=0.3, help="seconds before the touch")
    args = parser.parse_args()
    anyio.run(lambda: main(args.devices, args.touch, args.delay))
