"""``aioctap server``: the relying party (accounts API, OTP-devices API, demo page) over uvicorn."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Annotated

import typer

from .errors import CliError

ADMIN_TOKEN_ENV = "AIOCTAP_ADMIN_TOKEN"
SECRET_KEY_ENV = "AIOCTAP_SECRET_KEY"
STORE_SCHEMES = ("sqlite", "memory", "redis", "postgresql", "postgres")
DB_HELP = (
    "store URL: sqlite:///path, memory://, redis://..., postgresql://... "
    "[default: sqlite:/// a file in the user's data directory]"
)


#: the COSE algorithms ``--algorithm`` takes by name (RFC 9053, RFC 8230, FIPS 204 / draft-ietf-cose-dilithium, the
#: fully-specified ones of RFC 9864, ES256K of RFC 8812)
ALGORITHM_NAMES = {
    "ES256": -7,
    "EdDSA": -8,
    "ES384": -35,
    "ES512": -36,
    "PS256": -37,
    "RS256": -257,
    "ML-DSA-44": -48,
    "ML-DSA-65": -49,
    "ML-DSA-87": -50,
    "ESP256": -9,
    "ESP384": -51,
    "ESP512": -52,
    "Ed25519": -19,
    "Ed448": -53,
    "ES256K": -47,
}

ALGORITHM_HELP = (
    "a COSE algorithm to offer, in order of preference (repeat it): "
    + ", ".join(ALGORITHM_NAMES)
    + " or a COSE number [default: ES256, EdDSA, ES384, ES512, PS256, RS256]"
)


def parse_algorithms(names: list[str]) -> list[int]:
    """``--algorithm`` values (names or COSE numbers) as COSE numbers, in order; a usage error for others."""
    out: list[int] = []
    for name in names:
        value = ALGORITHM_NAMES.get(name)
        if value is None and name.lstrip("-").isdigit() and int(name) in ALGORITHM_NAMES.values():
            value = int(name)
        if value is None:
            raise typer.BadParameter(
                f"unknown algorithm {name!r}: use {', '.join(ALGORITHM_NAMES)}", param_hint="--algorithm"
            )
        if value not in out:
            out.append(value)
    return out


def default_db_url() -> str:
    """``sqlite:///`` a file in the user's data directory (platformdirs)."""
    import platformdirs

    return "sqlite:///" + str(Path(platformdirs.user_data_dir("aioctap")) / "server.db")


def default_origin(rp_id: str, port: int) -> str:
    """``http://localhost:PORT`` for the RP ID localhost, else ``https://RP_ID`` (a TLS proxy in front)."""
    return f"http://localhost:{port}" if rp_id == "localhost" else f"https://{rp_id}"


def data_location(url: str) -> str:
    """Where a store URL keeps its data, for people (never a password)."""
    scheme = url.split("://", 1)[0].lower()
    if scheme == "memory":
        return "memory (lost when the server stops)"
    if scheme == "sqlite":
        return f"SQLite file {Path(url[len('sqlite:///') :]).resolve()}"
    from ..stores.base import url_location  # never the password, even one a URL parser would split

    return f"{'Redis' if scheme == 'redis' else 'PostgreSQL'} at {url_location(url)}"


def secret_key_file(url: str) -> Path:
    """Where the key that encrypts OTP keys at rest is kept when AIOCTAP_SECRET_KEY is not set: beside
    a SQLite database (``DB.key``), in the user's data directory for a shared store."""
    if url.lower().startswith("sqlite:///"):
        return Path(url[len("sqlite:///") :] + ".key")
    import platformdirs

    return Path(platformdirs.user_data_dir("aioctap")) / "secret.key"


def load_secret_key(url: str, env: dict[str, str]) -> tuple[str, str]:
    """The secret that encrypts OTP keys at rest and where it came from: AIOCTAP_SECRET_KEY, or the key
    file of :func:`secret_key_file`, created 0600 with 256 random bits on first start."""
    import secrets

    value = env.get(SECRET_KEY_ENV, "").strip()
    if value:
        return value, SECRET_KEY_ENV
    path = secret_key_file(url)
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        value = path.read_text(encoding="ascii").strip()
    else:
        value = secrets.token_hex(32)
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(value + "\n")
    return value, f"key file {path.resolve()}"


def check_port(host: str, port: int) -> None:
    """:class:`CliError` when ``host:port`` cannot be listened on (in use, not an address here), before uvicorn."""
    import errno
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        family, kind, proto, _, address = infos[0]
        with socket.socket(family, kind, proto) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
            sock.bind(address)
    except OSError as e:
        if e.errno == errno.EADDRINUSE:
            raise CliError(f"{host}:{port} is already in use", "stop what listens there, or use --port") from None
        raise CliError(f"cannot listen on {host}:{port}: {e.strerror or e}", "check --host and --port") from None


def check_store(url: str) -> None:
    """Open and close the store once: :class:`CliError` says what to install or start when that fails."""
    import anyio

    from ..stores import StoreError, open_store

    async def main() -> None:
        async with open_store(url):
            pass

    try:
        anyio.run(main)
    except StoreError as e:
        message = str(e)
        where = data_location(url)
        if "pip install" in message:
            extra = "redis" if url.lower().startswith("redis") else "postgresql"
            raise CliError(
                f"--db {url.split('://', 1)[0]}://...: the {extra} store's package is not installed",
                f"pip install 'aioctap[{extra}]' (or use the default SQLite store: leave out --db)",
            ) from None
        raise CliError(
            f"cannot reach the store: {where}",
            f"start the {where.split()[0]} server, check --db, or leave out --db for the default SQLite store",
        ) from None


def register(app: typer.Typer) -> None:
    """Add ``aioctap server``."""

    @app.command()
    def server(
        host: str = typer.Option("127.0.0.1", "--host", help="address to listen on"),
        port: int = typer.Option(8000, "--port", min=0, max=65535, help="TCP port"),
        db: str | None = typer.Option(None, "--db", help=DB_HELP),
        rp_id: str = typer.Option("localhost", "--rp-id", help="WebAuthn relying party ID"),
        origin: str | None = typer.Option(
            None,
            "--origin",
            help="expected origin(s), comma-separated [default: http://localhost:PORT for the RP ID localhost, "
            "else https://RP_ID]",
        ),
        registration: str = typer.Option(
            "open", "--registration", help="open: a new user name may open an account; closed: it may not"
        ),
        algorithm: Annotated[list[str] | None, typer.Option("--algorithm", metavar="NAME", help=ALGORITHM_HELP)] = None,
        conformance: bool = typer.Option(
            False,
            "--conformance",
            help="TEST MODE for the FIDO conformance tool: anyone may register a credential for any user name, "
            "and options list a user's credentials. Never on a server people use.",
        ),
        header_timeout: float = typer.Option(
            10.0, "--header-timeout", min=0.1, help="seconds a client has to send a request's headers and body"
        ),
        keep_alive: int = typer.Option(5, "--timeout-keep-alive", min=1, help="seconds an idle connection stays open"),
        limit_concurrency: int = typer.Option(
            200, "--limit-concurrency", min=1, help="connections and requests at once (more are answered 503)"
        ),
        quiet: bool = typer.Option(False, "--quiet", help="log warnings only"),
    ) -> None:
        """Serve the relying party (/fido2/...: accounts and passkeys), the OTP-devices API and the demo page (/).

        The OTP-devices API's administrator bearer token comes from AIOCTAP_ADMIN_TOKEN; its OTP keys are
        encrypted at rest with AIOCTAP_SECRET_KEY, or a key file created beside the database (DB.key, 0600).
        """
        import uvicorn

        from ..server.app import create_app, serialized_origin
        from ..server.ceremony import origin_error
        from ..server.serving import http_protocol

        url = db or default_db_url()
        scheme = url.split("://", 1)[0].lower() if "://" in url else ""
        if scheme not in STORE_SCHEMES:
            raise typer.BadParameter(
                "use sqlite:///path, memory://, redis://... or postgresql://...", param_hint="--db"
            )
        if registration not in ("open", "closed"):
            raise typer.BadParameter("use open or closed", param_hint="--registration")
        origins = [o.strip() for o in origin.split(",") if o.strip()] if origin else [default_origin(rp_id, port)]
        from ..client import verify_rp_id

        for o in origins:
            error = origin_error(rp_id, o)
            if error is None and not verify_rp_id(rp_id, o):  # the public suffix list's verdict
                error = f"RP ID {rp_id!r} is a public suffix: a browser on {o} cannot use it"
            if error is not None:  # a usage error, before anything starts
                raise typer.BadParameter(error, param_hint="--origin")
        origins = list(dict.fromkeys(serialized_origin(o) for o in origins))
        if url.startswith("sqlite:///"):
            Path(url[len("sqlite:///") :]).parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        admin_token = os.environ.get(ADMIN_TOKEN_ENV) or None
        from ..otp.context import OTPContext
        from ..otp.errors import KeyFormatError

        try:
            secret, secret_source = load_secret_key(url, dict(os.environ))
            # the secret is 256 random bits, not a password: the lowest PBKDF2 cost is enough
            otp_context = OTPContext(secrets={"1": secret}, encrypt_cost=8)
        except (OSError, UnicodeDecodeError, KeyFormatError) as e:
            raise CliError(
                f"cannot load the secret that encrypts OTP keys at rest: {e}",
                f"set {SECRET_KEY_ENV}, or fix or remove the key file {secret_key_file(url)}",
            ) from None
        if scheme not in ("sqlite", "memory"):
            check_store(url)  # a shared store that is unreachable or lacks its package: one line, before starting
        check_port(host, port)
        logging.basicConfig(level=logging.WARNING if quiet else logging.INFO, format="%(asctime)s %(message)s")
        asgi = create_app(
            url,
            rp_id=rp_id,
            origin=origins,
            admin_token=admin_token,
            conformance=conformance,
            registration="open" if registration == "open" else "closed",
            otp_context=otp_context,
            algorithms=parse_algorithms(algorithm or []) or None,
        )
        typer.echo(f"aioctap relying party for RP ID {rp_id}: open {origins[0]}/ in a browser")
        if origins[0] != f"http://{'localhost' if host in ('127.0.0.1', '::1', 'localhost') else host}:{port}":
            typer.echo(f"  (listening on {host}:{port}; {origins[0]} must reach it, e.g. through a TLS proxy)")
        typer.echo(f"  data: {data_location(url)}")
        typer.echo(
            "  mode: CONFORMANCE TEST MODE (anyone may register for any user name)"
            if conformance
            else f"  mode: accounts, registration of new user names {registration}"
        )
        typer.echo(f"  OTP-devices admin token: {'set' if admin_token else f'not set ({ADMIN_TOKEN_ENV})'}")
        typer.echo(f"  OTP keys encrypted at rest with the secret from {secret_source}")
        uvicorn.run(
            asgi,
            host=host,
            port=port,
            log_level="warning" if quiet else "info",
            lifespan="on",
            http=http_protocol(header_timeout),
            timeout_keep_alive=keep_alive,
            limit_concurrency=limit_concurrency,
        )
