"""Stream an authenticator's keep-alive status to a user interface while it waits for a touch.

While a CTAP command waits for the user, the authenticator sends CTAPHID_KEEPALIVE reports every
100 ms: PROCESSING (busy) or UPNEEDED (touch me). A UI shows "touch your security key" exactly when
UPNEEDED arrives. aioctap offers two shapes:

* ``device.stream_call(cmd, data)``: an async iterator over the status changes of one call, the
  answer in ``.result`` afterwards (used below);
* ``on_keepalive=callback`` on every call (``Ctap2.get_assertion(..., on_keepalive=ui.update)``),
  called once per change of status.

Here a software authenticator waits for a touch (its user policy is ``WaitForTouch``) during
authenticatorSelection (CTAP 2.1 §6.9, "which key do you mean? touch it"), and a simulated user
touches it after a moment.

    python3 examples/keepalive_status.py [--touch-after 1.0]
"""

from __future__ import annotations

import argparse
import time

import anyio

from aioctap import STATUS
from aioctap.ctap2 import Ctap2
from aioctap.hid.protocol import CTAPHID
from aioctap.virtual import WaitForTouch, open_virtual_device

MESSAGES = {
    STATUS.UPNEEDED: "👆 touch your security key",
    STATUS.PROCESSING: "⏳ working…",
}


class ConsoleUI:
    """A stand-in for a real UI: shows each status change with the time since the request started."""

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.shown: list[STATUS] = []

    def update(self, status: STATUS) -> None:
        self.shown.append(status)
        print(f"[{time.perf_counter() - self.started:5.2f} s] {MESSAGES.get(status, status.name)}")


async def main(touch_after: float = 1.0) -> list[STATUS]:
    """Run authenticatorSelection, stream its keep-alives to the UI; returns the statuses shown."""
    user = WaitForTouch()
    ui = ConsoleUI()
    async with open_virtual_device(policy=user) as device:

        async def simulated_user() -> None:
            await anyio.sleep(touch_after)
            print(f"[{time.perf_counter() - ui.started:5.2f} s] (the user touches the key)")
            user.touch()

        async with anyio.create_task_group() as tg:
            tg.start_soon(simulated_user)
            call = device.stream_call(CTAPHID.CBOR, bytes([Ctap2.CMD.SELECTION]))
            async for status in call:  # ends when the authenticator answers
                ui.update(status)
        assert call.result is not None
        answer = "selected" if call.result[:1] == b"\x00" else f"status 0x{call.result[0]:02x}"
        print(f"[{time.perf_counter() - ui.started:5.2f} s] authenticator answered: {answer}")
    return ui.shown


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--touch-after", type=float, default=1.0, help="seconds before the simulated touch")
    args = parser.parse_args()
    anyio.run(lambda: main(args.touch_after))
