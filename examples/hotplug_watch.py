"""Watch security keys being plugged in and out from a background task.

``aioctap.hid.backends.hidapi.watch_devices()`` is an async iterator of hot-plug events: ADDED for
every FIDO HID device present at the start and for each arrival, REMOVED on unplug. A service runs it
in a background task next to its real work and reacts (here: prints; a real one would open the new
key with ``async with HidapiDevice(change.descriptor) as device:`` and show it in its UI).

With ``--fake`` the enumeration is simulated (a key arrives, a second one, the first leaves), so the
script shows events on a machine with nothing plugged in or without the hidapi library. Without it,
the real hidapi enumeration is polled; the script stops after ``--seconds``.

    python3 examples/hotplug_watch.py [--fake] [--seconds 10]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence

import anyio

from aioctap.hid.backends.hidapi import DeviceChange, HidapiMissing, watch_devices
from aioctap.hid.device import HidDescriptor

YUBIKEY = HidDescriptor(path="/dev/hidraw3", vid=0x1050, pid=0x0407, product_name="YubiKey 5 (simulated)")
SOLOKEY = HidDescriptor(path="/dev/hidraw4", vid=0x1209, pid=0xBEEE, product_name="SoloKey (simulated)")


def fake_enumeration(period: float) -> Callable[[], Sequence[HidDescriptor]]:
    """An enumeration function whose answer changes over time, as if keys were plugged in and out."""
    started = time.monotonic()
    timeline: list[list[HidDescriptor]] = [[], [YUBIKEY], [YUBIKEY, SOLOKEY], [SOLOKEY]]

    def enumerate_devices() -> Sequence[HidDescriptor]:
        step = int((time.monotonic() - started) / period)
        return timeline[min(step, len(timeline) - 1)]

    return enumerate_devices


def describe(change: DeviceChange) -> str:
    d = change.descriptor
    return f"{change.event.value:7} {d.product_name or 'FIDO device'} {d.vid:04x}:{d.pid:04x} at {d.path}"


async def main(seconds: float = 10.0, fake: bool = False, interval: float = 0.5) -> list[DeviceChange]:
    """Watch for ``seconds``; returns the events seen."""
    events: list[DeviceChange] = []

    async def watcher() -> None:
        # interval: how often the enumeration is polled; the fake timeline moves every 2 polls
        changes = watch_devices(interval, enumerate_devices=fake_enumeration(2 * interval) if fake else None)
        try:
            async for change in changes:
                events.append(change)
                print(describe(change))
        except HidapiMissing as e:  # no system hidapi library: say so instead of a traceback
            print(f"cannot watch real devices: {e} (try --fake)")

    print(f"watching for FIDO security keys for {seconds:g} s{' (simulated)' if fake else ''}…")
    with anyio.move_on_after(seconds):
        async with anyio.create_task_group() as tg:
            tg.start_soon(watcher)  # in the background ...
            await anyio.sleep_forever()  # ... while the service does its real work here
    if not events:
        print("no security key was plugged in")
    return events


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--fake", action="store_true", help="simulate plugging keys in and out")
    parser.add_argument("--seconds", type=float, default=10.0, help="how long to watch")
    parser.add_argument("--interval", type=float, default=0.5, help="seconds between enumerations")
    args = parser.parse_args()
    anyio.run(lambda: main(args.seconds, args.fake, args.interval))
