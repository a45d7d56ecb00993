"""``aioctap demo``: the whole stack on embedded defaults, one readable line per step.

A relying-party server (uvicorn, in process, on a free 127.0.0.1 port) with a SQLite store in a
temporary directory; a software authenticator (or ``--device ADDRESS``); aioctap's WebAuthn client.
It sets a PIN, registers a discoverable credential and signs in through the HTTP API, lists the
credential with credential management, enrolls a fingerprint, enrolls and verifies a TOTP code (and
shows that a replay fails), and prints a GNU Taler POS confirmation code for a price.
"""

from __future__ import annotations

import contextlib
import secrets
import socket
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
import typer
from rich.console import Console
from rich.markup import escape

from .._concurrency import task_group
from .errors import CliError, explain, unwrap

__all__ = ["DemoFailed", "register", "run_demo"]

DEFAULT_PIN = "1234"
REUSE_MIN_RETRIES = 3  # the demo tries its default PIN on an authenticator that has a PIN only with more retries left
ORIGIN_HOST = "localhost"
SERVER_START_TIMEOUT = 10.0
SIMULATED_TOUCH = 0.15  # seconds between simulated fingerprint touches on a terminal


class DemoFailed(Exception):
    """A demo step failed; ``step`` names it."""

    def __init__(self, step: str, reason: str) -> None:
        super().__init__(f"{step}: {reason}")
        self.step = step
        self.reason = reason


def _explain(e: BaseException) -> CliError:
    """A one-line description of an error, and a hint when there is one (messages never carry secrets)."""
    e = unwrap(e)  # what a task group wrapped
    if isinstance(e, TimeoutError) and "CTAPHID_INIT" in str(e):
        return CliError("the authenticator does not answer", "is 'aioctap virtual' running at that udp: address?")
    return explain(e)


@dataclass
class _Context:
    """What the steps share."""

    console: Console
    address: str
    pin: str | None = field(repr=False)  # secrets: never in a repr
    username: str = "alice"
    base_url: str = ""
    origin: str = ""
    store: Any = None
    device: Any = None
    ctap: Any = None
    http: Any = None
    credential_id: str = ""
    totp_code: str = field(default="", repr=False)  # the code the TOTP step verified; the replay step sends it again
    admin_token: str = field(default="", repr=False)
    pin_given: bool = False
    ask_pin: Callable[[], str] | None = None  # asks for the PIN of an authenticator that has one (on a terminal)


class _Runner:
    """Runs named steps: a green line with the result, or a red line naming the failed step."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.count = 0

    async def step(self, name: str, fn: Callable[[], Awaitable[str]]) -> None:
        self.count += 1
        try:
            detail = await fn()
        except DemoFailed:
            raise
        except Exception as e:
            error = _explain(e)
            self.console.print(f"[bold red]✗ {self.count}. {escape(name)} failed: {escape(error.message)}[/]")
            if error.hint:
                self.console.print(f"   hint: {escape(error.hint)}")
            raise DemoFailed(name, error.message) from e
        self.console.print(f"[green]✓[/] {self.count}. [bold]{escape(name)}[/]: {escape(detail)}")

    def skip(self, name: str, why: str) -> None:
        self.count += 1
        self.console.print(f"[yellow]-[/] {self.count}. [bold]{escape(name)}[/]: skipped ({escape(why)})")


def _free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@contextlib.asynccontextmanager
async def _serve(app: Any, sock: socket.socket) -> AsyncIterator[None]:
    """Run ``app`` with uvicorn on ``sock`` in this event loop until the block exits."""
    import uvicorn

    config = uvicorn.Config(app, log_config=None, log_level="warning", access_log=False, lifespan="on")
    server = uvicorn.Server(config)
    # uvicorn would install its own SIGINT/SIGTERM handlers; the demo's caller owns the signals
    server.capture_signals = contextlib.nullcontext  # type: ignore[method-assign,assignment]
    stopped = anyio.Event()

    async def serve() -> None:
        try:
            await server.serve(sockets=[sock])
        finally:
            stopped.set()

    async with task_group() as tg:
        tg.start_soon(serve)
        try:
            with anyio.fail_after(SERVER_START_TIMEOUT):
                while not server.started:
                    if stopped.is_set():
                        raise CliError("the HTTP server did not start")
                    await anyio.sleep(0.01)
            yield
        finally:
            # a graceful shutdown (lifespan included) even when a step failed: no cancelled server task
            server.should_exit = True
            with anyio.CancelScope(shield=True), anyio.move_on_after(5):
                await stopped.wait()


async def _post(ctx: _Context, path: str, body: dict[str, Any]) -> dict[str, Any]:
    """POST a JSON body to the relying party; a 'failed' ServerResponse raises with its errorMessage."""
    response = await ctx.http.post(path, json=body)
    try:
        data = response.json()
    except ValueError:
        raise CliError(f"POST {path}: HTTP {response.status_code}, not JSON") from None
    if not isinstance(data, dict) or data.get("status") != "ok":
        message = data.get("errorMessage") if isinstance(data, dict) else None
        raise CliError(f"POST {path}: HTTP {response.status_code}: {message or 'request failed'}")
    return data


def _short(cid: str) -> str:
    return cid[:12] + "…" if len(cid) > 12 else cid


# -- the steps ---------------------------------------------------------------------------------------------


async def _pin_step(ctx: _Context) -> str:
    from ..ctap import CtapError
    from ..ctap2 import ClientPin

    info = ctx.ctap.info
    if not ClientPin.is_supported(info):
        raise CliError("the authenticator has no clientPin support")
    client_pin = ClientPin(ctx.ctap)
    if not info.options.get("clientPin"):
        pin = ctx.pin or DEFAULT_PIN
        await client_pin.set_pin(pin)
        ctx.pin = pin
        await ctx.ctap.get_info()
        # the demo's default PIN is a published constant, not a secret: saying it lets the next run be followed
        which = "the one given with --pin" if ctx.pin_given else f"{DEFAULT_PIN}, the demo's default (see --help)"
        return f"PIN set with ClientPin.set_pin (protocol {client_pin.protocol.VERSION}): {which}"
    retries, _ = await client_pin.get_pin_retries()
    source = "the PIN given with --pin"
    if ctx.pin is None:
        if ctx.ask_pin is not None:
            ctx.pin, source = await anyio.to_thread.run_sync(ctx.ask_pin), "the PIN you typed"
        elif retries > REUSE_MIN_RETRIES:
            # most likely an earlier demo run set it: try the demo's default once, with retries to spare
            ctx.pin, source = DEFAULT_PIN, f"the demo's default PIN {DEFAULT_PIN} (set by an earlier run)"
        else:
            raise CliError(f"the authenticator already has a PIN ({retries} retries left): pass it with --pin")
    # check the PIN now so that a wrong one fails here, not in the middle of a registration
    try:
        await client_pin.get_pin_token(ctx.pin, ClientPin.PERMISSION.GET_ASSERTION, ORIGIN_HOST)
    except CtapError as e:
        if e.code in (CtapError.ERR.PIN_INVALID, CtapError.ERR.PIN_BLOCKED, CtapError.ERR.PIN_AUTH_BLOCKED):
            if not ctx.pin_given and ctx.ask_pin is None:
                raise CliError(
                    f"the authenticator already has a PIN, not the demo's default ({retries - 1} retries left)",
                    "pass it with --pin",
                ) from None
            raise CliError(f"the authenticator refused {source} ({e.code.name}; {retries} retries were left)") from None
        raise
    return f"the authenticator already has a PIN; {source} works ({retries} retries were left)"


async def _register_step(ctx: _Context, client: Any) -> str:
    options = await _post(
        ctx,
        "/fido2/attestation/options",
        {
            "username": ctx.username,
            "displayName": ctx.username.title(),
            "authenticatorSelection": {"residentKey": "required", "userVerification": "preferred"},
            "attestation": "direct",
        },
    )
    session = options.pop("fido2SessionId")
    credential = await client.create({"publicKey": options})
    result = await _post(ctx, "/fido2/attestation/result", {**credential, "fido2SessionId": session})
    ctx.credential_id = str(result["credentialId"])
    return f"discoverable credential {_short(ctx.credential_id)} for {ctx.username!r} (options → create → result)"


async def _sign_in_step(ctx: _Context, client: Any) -> str:
    options = await _post(ctx, "/fido2/assertion/options", {"username": "", "userVerification": "preferred"})
    session = options.pop("fido2SessionId")
    assertion = await client.get({"publicKey": options})
    result = await _post(ctx, "/fido2/assertion/result", {**assertion, "fido2SessionId": session})
    if result.get("credentialId") != ctx.credential_id:
        raise CliError("the server accepted a different credential than the one registered")
    return f"signed in as {result.get('username')!r} with no username typed (discoverable credential)"


async def _credentials_step(ctx: _Context) -> str:
    from ..ctap2 import ClientPin, CredentialManagement
    from ..webauthn import websafe_encode

    if not CredentialManagement.is_supported(ctx.ctap.info):
        raise CliError("the authenticator has no credential management")
    assert ctx.pin is not None
    client_pin = ClientPin(ctx.ctap)
    token = await client_pin.get_pin_token(ctx.pin, ClientPin.PERMISSION.CREDENTIAL_MGMT)
    cm = CredentialManagement(ctx.ctap, client_pin.protocol, token)
    found: list[str] = []
    mine = False
    async for rp in cm.rps():
        rp_id = rp[CredentialManagement.RESULT.RP].get("id", "?")
        async for cred in cm.credentials(rp[CredentialManagement.RESULT.RP_ID_HASH]):
            user = cred.get(CredentialManagement.RESULT.USER) or {}
            cid = websafe_encode(cred[CredentialManagement.RESULT.CREDENTIAL_ID]["id"])
            mine = mine or cid == ctx.credential_id
            found.append(f"{rp_id} → {user.get('name', '?')} ({_short(cid)})")
    if not mine:
        raise CliError("the registered credential is not on the authenticator")
    shown = "; ".join(found[:3]) + (f"; and {len(found) - 3} more" if len(found) > 3 else "")
    return f"{len(found)} discoverable credential{'' if len(found) == 1 else 's'}: {shown}"


async def _bio_step(ctx: _Context) -> str:
    from rich.progress import BarColumn, Progress, TextColumn

    from ..ctap2 import ClientPin, FPBioEnrollment

    assert ctx.pin is not None
    sensor = getattr(getattr(ctx.device, "authenticator", None), "sensor", None)
    if sensor is not None:
        # the simulated finger is placed too high once, to show the feedback of a bad sample
        from ..virtual import FEEDBACK

        sensor.script(FEEDBACK.FP_TOO_HIGH)
    client_pin = ClientPin(ctx.ctap)
    token = await client_pin.get_pin_token(ctx.pin, ClientPin.PERMISSION.BIO_ENROLL)
    bio = FPBioEnrollment(ctx.ctap, client_pin.protocol, token)
    info = await bio.get_fingerprint_sensor_info()
    total = info.get(FPBioEnrollment.RESULT.MAX_SAMPLES_REQUIRED)
    touches = 0
    bad: list[str] = []
    template: bytes | None = None
    with Progress(
        TextColumn("   fingerprint"), BarColumn(), TextColumn("{task.description}"),
        console=ctx.console, transient=True, disable=not ctx.console.is_terminal,
    ) as progress:  # fmt: skip
        task = progress.add_task("touch the sensor…", total=total if isinstance(total, int) else None)
        async with contextlib.aclosing(bio.enroll()) as samples:
            async for sample in samples:
                touches += 1
                if not sample.good:
                    try:
                        bad.append(FPBioEnrollment.FEEDBACK(sample.feedback).name)
                    except ValueError:  # a vendor-specific feedback code
                        bad.append(f"feedback 0x{sample.feedback:02x}")
                    progress.update(task, description=f"{bad[-1]}: touch again")
                else:
                    if progress.tasks[0].total is None:
                        progress.update(task, total=sample.remaining + touches - len(bad))
                    progress.update(task, advance=1, description=f"{sample.remaining} more")
                progress.refresh()
                if sample.done:
                    template = sample.template_id
                elif sensor is not None and ctx.console.is_terminal:
                    await anyio.sleep(SIMULATED_TOUCH)  # the simulated finger is instant: let the bar be seen
    if template is None:
        raise CliError("the enrollment ended without a template id")
    retried = f", {len(bad)} retried: {', '.join(bad)}" if bad else ""
    return f"template {template.hex()[:12]} enrolled in {touches} touches{retried}"


async def _totp_step(ctx: _Context) -> str:
    from ..otp import TOTP, OtpVerifier

    verifier = OtpVerifier(ctx.store)
    uri = await verifier.enroll(ctx.username, issuer="aioctap demo", replace=True)
    totp = TOTP.from_uri(uri)
    assert isinstance(totp, TOTP)
    ctx.totp_code = totp.generate().token
    match = await verifier.verify(ctx.username, ctx.totp_code)
    return f"enrolled {ctx.username!r} (otpauth URI issued), a fresh code verified at step {match.counter}"


async def _replay_step(ctx: _Context) -> str:
    from ..otp import OtpVerifier, UsedTokenError

    try:
        await OtpVerifier(ctx.store).verify(ctx.username, ctx.totp_code)
    except UsedTokenError:
        return "the same code again is refused with UsedTokenError"
    raise CliError("a replayed TOTP code was accepted")


async def _taler_step(ctx: _Context, price: str) -> str:
    from ..otp import TOTP, pos_confirmation

    key = TOTP(new=True).base32_key  # the POS device's key, shared with the merchant backend
    now = int(time.time())
    codes = pos_confirmation(key, "TOTP_WITH_PRICE", now, price=price)
    if not codes:
        raise CliError("no confirmation code computed")
    lines = codes.split("\n")
    via = ""
    if ctx.admin_token:
        # the merchant backend's view: the same device registered through the OTP-devices API
        auth = {"Authorization": f"Bearer {ctx.admin_token}"}
        body = {"otp_device_id": "pos-1", "otp_device_description": "demo POS", "otp_key": key, "otp_algorithm": 2}
        response = await ctx.http.post("/private/otp-devices", json=body, headers=auth)
        if response.status_code != 204:
            raise CliError(f"POST /private/otp-devices: HTTP {response.status_code}")
        response = await ctx.http.get(
            "/private/otp-devices/pos-1", params={"price": price, "faketime": str(now)}, headers=auth
        )
        if response.status_code != 200:
            raise CliError(f"GET /private/otp-devices/pos-1: HTTP {response.status_code}")
        if response.json().get("otp_code") != codes:
            raise CliError("the OTP-devices API computed a different confirmation code")
        via = ", the same from GET /private/otp-devices/pos-1"
    return f"price {price} → confirmation code {lines[len(lines) // 2]} (TOTP_WITH_PRICE{via})"


# -- the whole ---------------------------------------------------------------------------------------------


async def run_demo(
    console: Console,
    *,
    device: str = "virtual",
    pin: str | None = None,
    price: str = "EUR:4.20",
    ask_pin: Callable[[], str] | None = None,
) -> float:
    """Run every step; returns the elapsed seconds. Raises :class:`DemoFailed` (after a red line) on failure."""
    started = time.perf_counter()
    runner = _Runner(console)
    ctx = _Context(console, device, pin, pin_given=pin is not None, ask_pin=ask_pin)
    try:
        await _run_steps(runner, ctx, price)
    except BaseExceptionGroup as group:  # task groups (server, device) wrap what a step raised
        failed = _find_failure(group)
        if failed is None:
            raise
        raise failed from None
    return time.perf_counter() - started


def _find_failure(group: BaseExceptionGroup[BaseException]) -> DemoFailed | None:
    failed: BaseException | None = group.split(DemoFailed)[0]  # the groups that hold one, in their order
    while isinstance(failed, BaseExceptionGroup):
        failed = failed.exceptions[0]
    return failed if isinstance(failed, DemoFailed) else None


async def _run_steps(runner: _Runner, ctx: _Context, price: str) -> None:
    import httpx

    from .. import open_device
    from ..client import WebAuthnClient
    from ..ctap2 import Ctap2, FPBioEnrollment
    from ..server.app import create_app
    from ..stores import open_store

    device = ctx.address
    with tempfile.TemporaryDirectory(prefix="aioctap-demo-") as tmp:
        db = Path(tmp) / "demo.sqlite3"
        async with contextlib.AsyncExitStack() as stack:

            async def start_server() -> str:
                ctx.store = await stack.enter_async_context(open_store(f"sqlite:///{db}"))
                sock = _free_socket()
                stack.callback(sock.close)
                port = sock.getsockname()[1]
                ctx.base_url = f"http://127.0.0.1:{port}"
                ctx.origin = f"http://{ORIGIN_HOST}:{port}"
                ctx.admin_token = "secret-token:" + secrets.token_urlsafe(24)
                app = create_app(
                    ctx.store, rp_id=ORIGIN_HOST, origin=ctx.origin, admin_token=ctx.admin_token, otp_routes=True
                )
                await stack.enter_async_context(_serve(app, sock))
                ctx.http = await stack.enter_async_context(httpx.AsyncClient(base_url=ctx.base_url, timeout=30))
                return f"relying party on {ctx.base_url} (uvicorn; SQLite store {db.name} in a temporary directory)"

            async def open_authenticator() -> str:
                ctx.device = await stack.enter_async_context(open_device(device))
                ctx.ctap = await Ctap2.create(ctx.device)
                kind = "software authenticator" if device.startswith("virtual") else "authenticator"
                versions = ", ".join(ctx.ctap.info.versions)
                return f"{kind} at {device} ({versions}; AAGUID {ctx.ctap.info.aaguid})"

            await runner.step("start the relying-party server", start_server)
            await runner.step("open the authenticator", open_authenticator)
            await runner.step("set a PIN", lambda: _pin_step(ctx))
            client = WebAuthnClient(ctx.device, ctx.origin, pin=lambda: ctx.pin or "")
            if not device.startswith("virtual"):
                ctx.console.print("   (touch the authenticator whenever it blinks)")
            await runner.step("register through the HTTP API", lambda: _register_step(ctx, client))
            await runner.step("sign in", lambda: _sign_in_step(ctx, client))
            await runner.step("list credentials (credential management)", lambda: _credentials_step(ctx))
            if FPBioEnrollment.is_supported(ctx.ctap.info):
                await runner.step("enroll a fingerprint", lambda: _bio_step(ctx))
            else:
                runner.skip("enroll a fingerprint", "the authenticator has no bioEnroll")
            await runner.step("enroll and verify a TOTP code", lambda: _totp_step(ctx))
            await runner.step("replay the TOTP code", lambda: _replay_step(ctx))

            await runner.step("Taler POS confirmation code", lambda: _taler_step(ctx, price))


def register(app: typer.Typer) -> None:
    """Add ``aioctap demo``."""

    @app.command()
    def demo(
        device: str = typer.Option(
            "virtual", "--device", help="authenticator address: virtual, udp:HOST:PORT, hid:PATH"
        ),
        pin: str | None = typer.Option(
            None,
            "--pin",
            help=f"the authenticator's PIN if it has one (else asked on a terminal, or the demo's default tried); "
            f"else the PIN to set (default {DEFAULT_PIN})",
        ),
        price: str = typer.Option("EUR:4.20", "--price", help="price for the Taler POS confirmation code"),
    ) -> None:
        """Run the whole stack in a few seconds: server, authenticator, WebAuthn client, PIN, passkey, bio, OTP."""
        console = Console(highlight=False, soft_wrap=True)
        console.print("[bold]aioctap demo[/]: relying party + authenticator + WebAuthn client + OTP")
        try:
            ask = (
                (lambda: str(typer.prompt("The authenticator has a PIN; enter it", hide_input=True)))
                if sys.stdin.isatty()
                else None
            )
            elapsed = anyio.run(lambda: run_demo(console, device=device, pin=pin, price=price, ask_pin=ask))
        except DemoFailed as e:
            console.print(f"[bold red]demo failed at step {escape(e.step)!r}[/]")
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            console.print("[bold red]demo interrupted[/]")
            raise typer.Exit(130) from None
        console.print(f"[bold green]demo finished in {elapsed:.1f} s[/]")
