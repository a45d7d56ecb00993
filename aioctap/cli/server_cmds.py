"""``aioctap server``: the relying party (conformance API, OTP-devices API, demo page) over uvicorn."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import typer

ADMIN_TOKEN_ENV = "AIOCTAP_ADMIN_TOKEN"
STORE_SCHEMES = ("sqlite", "memory", "redis", "postgresql", "postgres")
DB_HELP = (
    "store URL: sqlite:///path, memory://, redis://..., postgresql://... "
    "[default: sqlite:/// a file in the user's data directory]"
)


def default_db_url() -> str:
    """``sqlite:///`` a file in the user's data directory (platformdirs)."""
    import platformdirs

    return "sqlite:///" + str(Path(platformdirs.user_data_dir("aioctap")) / "server.db")


def register(app: typer.Typer) -> None:
    """Add ``aioctap server``."""

    @app.command()
    def server(
        host: str = typer.Option("127.0.0.1", "--host", help="address to listen on"),
        port: int = typer.Option(8000, "--port", min=0, max=65535, help="TCP port"),
        db: str | None = typer.Option(None, "--db", help=DB_HELP),
        rp_id: str = typer.Option("localhost", "--rp-id", help="WebAuthn relying party ID"),
        origin: str | None = typer.Option(
            None, "--origin", help="expected origin(s), comma-separated [default: http://localhost:PORT]"
        ),
        quiet: bool = typer.Option(False, "--quiet", help="log warnings only"),
    ) -> None:
        """Serve the FIDO2 conformance API (/fido2/...), the OTP-devices API and the demo page (/).

        The OTP-devices API's administrator bearer token comes from AIOCTAP_ADMIN_TOKEN.
        """
        import uvicorn

        from ..server.app import create_app

        url = db or default_db_url()
        scheme = url.split("://", 1)[0].lower() if "://" in url else ""
        if scheme not in STORE_SCHEMES:
            raise typer.BadParameter(
                "use sqlite:///path, memory://, redis://... or postgresql://...", param_hint="--db"
            )
        if url.startswith("sqlite:///"):
            Path(url[len("sqlite:///") :]).parent.mkdir(parents=True, exist_ok=True)
        origins = [o.strip() for o in origin.split(",") if o.strip()] if origin else [f"http://localhost:{port}"]
        admin_token = os.environ.get(ADMIN_TOKEN_ENV) or None
        logging.basicConfig(level=logging.WARNING if quiet else logging.INFO, format="%(asctime)s %(message)s")
        asgi = create_app(url, rp_id=rp_id, origin=origins, admin_token=admin_token)
        log = logging.getLogger("aioctap.server")
        log.warning(
            "relying party %s for %s, store %s, OTP admin token %s",
            rp_id,
            ", ".join(origins),
            url.split("://", 1)[0],  # a URL may carry a password: print only the scheme
            "set" if admin_token else "not set",
        )
        uvicorn.run(asgi, host=host, port=port, log_level="warning" if quiet else "info", lifespan="on")
