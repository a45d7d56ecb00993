"""The ``aioctap`` command line (typer + rich).

Each command group lives in its own module with a ``register(app)`` function. Failures are reported by
:mod:`.errors`: one line (and a hint), exit status 2 for usage errors and 1 for failures, a traceback only with
``--debug``.
"""

from __future__ import annotations

import typer

from . import ctap_cmds, demo, devices, otp_cmds, server_cmds, virtual_cmds
from .errors import TyperGroupWithErrors

app = typer.Typer(
    name="aioctap",
    cls=TyperGroupWithErrors,
    help="aioctap: asyncio-native FIDO2 stack (CTAP2 client, software authenticator, WebAuthn server, OTP).",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,  # locals may hold PINs and keys
)


def _version(value: bool) -> None:
    if value:
        from .. import __version__

        typer.echo(f"aioctap {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    debug: bool = typer.Option(False, "--debug", envvar="AIOCTAP_DEBUG", help="show the traceback of a failure"),
    version: bool = typer.Option(
        False, "--version", is_eager=True, callback=_version, help="print the version and exit"
    ),
) -> None:
    """aioctap: asyncio-native FIDO2 stack."""


for _module in (devices, ctap_cmds, virtual_cmds, server_cmds, otp_cmds, demo):
    _module.register(app)


def main() -> None:
    """Console-script entry point."""
    app()
