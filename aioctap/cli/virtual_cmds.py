"""``aioctap virtual``: the software authenticator as a process, over UDP."""

from __future__ import annotations

import logging
import signal
from typing import Annotated

import anyio
import typer

from .._concurrency import task_group
from .errors import CliError, unwrap


def register(app: typer.Typer) -> None:
    """Add ``aioctap virtual``."""

    @app.command()
    def virtual(
        udp: str = typer.Option("127.0.0.1:8111", "--udp", help="HOST:PORT to listen on"),
        state: str | None = typer.Option(None, "--state", help="state file (created if missing)"),
        quiet: bool = typer.Option(False, "--quiet", help="log warnings only"),
        attestation: str = typer.Option("packed", "--attestation", help="packed (with a chain), self or none"),
        reset_window: float = typer.Option(
            10.0, "--reset-window", help="seconds after power-up authenticatorReset is allowed (negative: always)"
        ),
        enterprise_rp_id: Annotated[
            list[str] | None,
            typer.Option(
                "--enterprise-rp-id",
                help="an RP ID given vendor-facilitated enterprise attestation (CTAP 2.1 §7.1.1); repeat for more",
            ),
        ] = None,
        no_enterprise_attestation: bool = typer.Option(
            False, "--no-enterprise-attestation", help="no enterprise attestation feature (getInfo has no ep option)"
        ),
    ) -> None:
        """Run the software CTAP 2.1 authenticator over UDP (one 64-byte report per datagram).

        SIGUSR1 simulates unplugging and plugging it in again. Enterprise attestation (enabled on the
        authenticator with authenticatorConfig, e.g. ``aioctap config enterprise-attestation``) is
        platform-managed for any RP ID, vendor-facilitated for the ``--enterprise-rp-id`` ones.
        """
        import errno

        from ..hid.device_side import CtapHidServer
        from ..virtual import StateError, VirtualAuthenticator

        host, sep, port = udp.rpartition(":")
        if not sep or not port.isdigit():
            raise typer.BadParameter("expected HOST:PORT", param_hint="--udp")
        if attestation not in ("packed", "self", "none"):
            raise typer.BadParameter("expected packed, self or none", param_hint="--attestation")
        logging.basicConfig(level=logging.WARNING if quiet else logging.INFO, format="%(asctime)s %(message)s")
        try:
            authenticator = VirtualAuthenticator(
                state,
                attestation=attestation,
                reset_window=None if reset_window < 0 else reset_window,
                enterprise_attestation=not no_enterprise_attestation,
                enterprise_rp_ids=enterprise_rp_id or (),
            )
        except StateError as e:
            raise typer.BadParameter(str(e), param_hint="--state") from None
        server = CtapHidServer(authenticator)

        async def main() -> None:
            log = logging.getLogger("aioctap.virtual")
            # the handlers are in place before the "listening" line: a SIGUSR1 sent as soon as it is read is a
            # power cycle, never the default action (which ends the process)
            with anyio.open_signal_receiver(signal.SIGUSR1, signal.SIGTERM, signal.SIGINT) as signals:
                async with task_group() as tg:
                    bound = await tg.start(server.serve_udp, host.strip("[]"), int(port))
                    where = f"state in {state}" if state else "no --state: credentials in memory only"
                    log.warning("software authenticator listening on udp:%s:%s (%s)", *bound, where)
                    async for signum in signals:
                        if signum == signal.SIGUSR1:
                            log.warning("power cycle (SIGUSR1)")
                            server.power_cycle()
                        else:
                            tg.cancel_scope.cancel()
                            return

        try:
            try:
                anyio.run(main)
            except BaseExceptionGroup as group:
                raise unwrap(group) from None
        except OSError as e:
            if e.errno != errno.EADDRINUSE:
                raise
            raise CliError(
                f"udp:{host}:{port} is already in use (another 'aioctap virtual'?)",
                f"stop the program that listens there, or pass --udp {host}:ANOTHER_PORT",
            ) from None
