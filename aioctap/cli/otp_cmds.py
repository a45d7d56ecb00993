"""``aioctap otp``: make OTP secrets and otpauth URIs, show codes, check codes (and Taler POS codes).

A key or URI given as ``-`` is read from standard input, so that it does not show in the process
list. Keys are printed only by ``otp new`` (whose job that is) and never in error messages.
"""

from __future__ import annotations

import sys
import time as _time

import typer

from ..otp import HOTP, TOTP, BaseOTP, KeyFormatError, TokenError, pos_confirmation

otp_app = typer.Typer(name="otp", help="HOTP/TOTP secrets, otpauth URIs and codes.", no_args_is_help=True)


def _read_source(source: str) -> str:
    if source == "-":
        source = sys.stdin.readline().strip()
    if not source:
        raise typer.BadParameter("empty key or URI", param_hint="SOURCE")
    return source


def _load(source: str, *, digits: int | None, alg: str | None, period: int | None, counter: int | None) -> TOTP | HOTP:
    """An otpauth URI, or a base32 key with the given options (TOTP, or HOTP when a counter is given)."""
    source = _read_source(source)
    try:
        if source.lower().startswith("otpauth://"):
            return BaseOTP.from_uri(source)
        if counter is not None:
            return HOTP(source, digits=digits or 6, alg=alg or "sha1", counter=counter)
        return TOTP(source, digits=digits or 6, alg=alg or "sha1", period=period or 30)
    except KeyFormatError as e:
        raise typer.BadParameter(str(e), param_hint="SOURCE") from None


def _print_qr(uri: str) -> None:
    try:
        import segno
    except ImportError:
        typer.echo("(install segno for a terminal QR code: pip install segno)", err=True)
        return
    segno.make(uri, error="m").terminal(compact=True)


DigitsOpt = typer.Option(None, "--digits", min=6, max=10, help="6-10 digits (default 6)")
AlgOpt = typer.Option(None, "--alg", help="sha1 (default), sha256 or sha512")
PeriodOpt = typer.Option(None, "--period", min=1, help="TOTP step in seconds (default 30)")
CounterOpt = typer.Option(None, "--counter", min=0, help="HOTP: the counter (makes the key an HOTP key)")
TimeOpt = typer.Option(None, "--time", help="seconds since the epoch (default: now)")


@otp_app.command("new")
def new(
    account: str = typer.Option(..., "--account", "-a", help="the account name (the URI's label)"),
    issuer: str | None = typer.Option(None, "--issuer", "-i", help="who issues it (shown by authenticator apps)"),
    digits: int = typer.Option(6, "--digits", min=6, max=10),
    alg: str = typer.Option("sha1", "--alg", help="sha1, sha256 or sha512"),
    period: int = typer.Option(30, "--period", min=1),
    size: int = typer.Option(20, "--size", min=10, max=64, help="key size in bytes"),
    qr: bool | None = typer.Option(None, "--qr/--no-qr", help="print a terminal QR code (default: on a terminal)"),
) -> None:
    """Make a new random TOTP secret and print it with its otpauth URI."""
    try:
        totp = TOTP(new=True, digits=digits, alg=alg, period=period, label=account, issuer=issuer, size=size)
        uri = totp.to_uri()
    except KeyFormatError as e:
        raise typer.BadParameter(str(e)) from None
    typer.echo(f"secret: {totp.base32_key}")
    typer.echo(f"uri:    {uri}")
    if qr or (qr is None and sys.stdout.isatty()):
        _print_qr(uri)


@otp_app.command("uri")
def uri(
    source: str = typer.Argument(..., help="base32 key (or - to read it from stdin)"),
    account: str = typer.Option(..., "--account", "-a", help="the account name (the URI's label)"),
    issuer: str | None = typer.Option(None, "--issuer", "-i"),
    digits: int | None = DigitsOpt,
    alg: str | None = AlgOpt,
    period: int | None = PeriodOpt,
    counter: int | None = CounterOpt,
    qr: bool = typer.Option(False, "--qr/--no-qr", help="also print a terminal QR code"),
) -> None:
    """Print the otpauth URI for an existing key (as Google Authenticator reads it)."""
    otp = _load(source, digits=digits, alg=alg, period=period, counter=counter)
    try:
        text = otp.to_uri(label=account, issuer=issuer)
    except KeyFormatError as e:
        raise typer.BadParameter(str(e)) from None
    typer.echo(text)
    if qr:
        _print_qr(text)


@otp_app.command("code")
def code(
    source: str = typer.Argument(..., help="base32 key or otpauth URI (or - to read it from stdin)"),
    time: float | None = TimeOpt,
    digits: int | None = DigitsOpt,
    alg: str | None = AlgOpt,
    period: int | None = PeriodOpt,
    counter: int | None = CounterOpt,
    taler: str | None = typer.Option(
        None, "--taler", help="GNU Taler POS algorithm (1/TOTP_WITHOUT_PRICE, 2/TOTP_WITH_PRICE): print its five codes"
    ),
    price: str | None = typer.Option(None, "--price", help="the amount for Taler algorithm 2, e.g. EUR:1.50"),
) -> None:
    """Print the current code (TOTP), the code for --counter (HOTP), or a Taler POS confirmation."""
    when = _time.time() if time is None else time
    if taler is not None:
        key = _read_source(source)
        try:
            codes = pos_confirmation(key, taler, when, price)
        except KeyFormatError as e:
            raise typer.BadParameter(str(e)) from None
        if codes is None:
            typer.echo("this algorithm gives no code (algorithm 0, or algorithm 2 without --price)", err=True)
            raise typer.Exit(1)
        typer.echo(codes)
        return
    otp = _load(source, digits=digits, alg=alg, period=period, counter=counter)
    if isinstance(otp, HOTP):
        typer.echo(otp.generate(counter))
        return
    try:
        token = otp.generate(when)
    except ValueError as e:
        raise typer.BadParameter(str(e), param_hint="--time") from None
    typer.echo(token.token)
    typer.echo(f"valid for {max(0, token.expire_time - int(when))} s", err=True)


@otp_app.command("verify")
def verify(
    source: str = typer.Argument(..., help="base32 key or otpauth URI (or - to read it from stdin)"),
    token: str = typer.Argument(..., help="the code to check"),
    time: float | None = TimeOpt,
    window: int = typer.Option(30, "--window", min=0, help="TOTP: seconds either side of now; HOTP: look-ahead"),
    last_counter: int | None = typer.Option(None, "--last-counter", help="the last counter accepted (replays fail)"),
    digits: int | None = DigitsOpt,
    alg: str | None = AlgOpt,
    period: int | None = PeriodOpt,
    counter: int | None = CounterOpt,
) -> None:
    """Check a code; exit status 0 when it matches, 1 when it does not."""
    otp = _load(source, digits=digits, alg=alg, period=period, counter=counter)
    try:
        if isinstance(otp, HOTP):
            start = otp.counter if last_counter is None else max(otp.counter, last_counter + 1)
            hmatch = otp.match(token, start, window)
            typer.echo(f"ok: counter {hmatch.counter} (skipped {hmatch.skipped})")
        else:
            tmatch = otp.match(token, time, window, last_counter=last_counter)
            typer.echo(f"ok: counter {tmatch.counter} (skipped {tmatch.skipped}), expires at {tmatch.expire_time}")
    except TokenError as e:  # malformed, no match, or a replay of --last-counter
        typer.echo(f"refused: {e}", err=True)
        raise typer.Exit(1) from None


def register(app: typer.Typer) -> None:
    """Add ``aioctap otp new|uri|code|verify``."""
    app.add_typer(otp_app, name="otp")
