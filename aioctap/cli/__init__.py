"""The ``aioctap`` command line (typer + rich).

Each command group lives in its own module with a ``register(app)`` function.
"""

from __future__ import annotations

import typer

from . import ctap_cmds, demo, devices, otp_cmds, server_cmds, virtual_cmds

app = typer.Typer(
    name="aioctap",
    help="aioctap: asyncio-native FIDO2 stack (CTAP2 client, software authenticator, WebAuthn server, OTP).",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,  # locals may hold PINs and keys
)



@app.callback()
def _root() -> None:
    """aioctap: asyncio-native FIDO2 stack."""


for _module in (devices, ctap_cmds, virtual_cmds, server_cmds, otp_cmds, demo):
    _module.register(app)


def main() -> None:
    """Console-script entry point."""
    app()
