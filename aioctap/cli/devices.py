"""``aioctap devices``: list FIDO HID devices and how to address them; the ``--device`` default for other commands."""

from __future__ import annotations

import os

import anyio
import typer
from rich.console import Console
from rich.table import Table

from ..hid.address import ADDRESS_FORMATS, parse_address
from .jsonout import JsonOpt, echo_json

__all__ = ["DEVICE_ENV", "NoDeviceError", "register", "resolve_address"]

DEVICE_ENV = "AIOCTAP_DEVICE"


class NoDeviceError(Exception):
    """No ``--device`` was given and no FIDO HID device is plugged in."""


async def _hid_descriptors() -> tuple[list[tuple[str, str, str]], str | None]:
    """((address, vid:pid, product) for each FIDO HID device, or a note on why none could be listed)."""
    from ..hid.backends.hidapi import HidapiMissing, list_descriptors

    try:
        descriptors = await list_descriptors()
    except HidapiMissing as e:
        return [], str(e)
    except OSError as e:
        return [], f"cannot enumerate HID devices: {e}"
    rows = [
        (f"hid:{d.path}", f"{d.vid:04x}:{d.pid:04x}", " ".join(filter(None, [d.product_name, d.serial_number])))
        for d in descriptors
    ]
    return rows, None


async def resolve_address(address: str | None) -> str:
    """``address`` checked, or the first FIDO HID device's; :class:`NoDeviceError` says to pass ``--device``."""
    if address:
        parse_address(address)  # ValueError naming the accepted forms
        return address
    rows, note = await _hid_descriptors()
    if rows:
        return rows[0][0]
    reason = f" ({note})" if note else ""
    raise NoDeviceError(f"no FIDO HID device found{reason}: pass --device ADDRESS ({ADDRESS_FORMATS})")


def register(app: typer.Typer) -> None:
    """Add ``aioctap devices``."""

    @app.command()
    def devices(as_json: JsonOpt = False) -> None:
        """List plugged-in FIDO security keys (HID) and the --device address of each."""
        console = Console(highlight=False)
        rows, note = anyio.run(_hid_descriptors)
        if as_json:
            echo_json(
                {
                    "devices": [{"address": a, "usb_id": i, "product": p} for a, i, p in rows],
                    "note": note,
                    "default": os.environ.get(DEVICE_ENV) or None,
                }
            )
            return
        if rows:
            table = Table("address (--device)", "vid:pid", "product")
            for row in rows:
                table.add_row(*row)
            console.print(table)
        else:
            console.print("No FIDO HID device found." + (f" [dim]{note}[/dim]" if note else ""))
        default = os.environ.get(DEVICE_ENV)
        if default:
            console.print(f"{DEVICE_ENV} is set: commands default to [bold]{default}[/bold]")
        console.print(
            "Other addresses: [bold]udp:HOST:PORT[/bold] (an authenticator simulator, e.g. 'aioctap virtual'), "
            "[bold]virtual[/bold] (in-memory software authenticator, fresh each run), "
            "[bold]virtual:STATE_FILE[/bold] (software authenticator whose state persists in STATE_FILE)."
        )
