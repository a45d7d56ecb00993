"""``aioctap otp``: make OTP secrets and otpauth URIs, show codes, check codes (and Taler POS codes).

A key or URI given as ``-`` is read from standard input, so that it does not show in the process
list. Keys are printed only by ``otp new`` (whose job that is) and never in error messages.
"""

from __future__ import annotations

import sys
import time as _time

import typer

from ..otp import HOTP, TOTP, BaseOTP, InvalidTokenError, KeyFormatError, TokenError, UsedTokenError, pos_confirmation
from ..otp.taler import parse_algorithm
from .jsonout import JsonOpt, echo_json

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


def taler_lines(codes: list[str], when: int) -> list[str]:
    """The five codes of a Taler POS confirmation, each with the 30-second step it belongs to (now in the middle)."""
    step = when // 30
    lines = []
    for offset, code in zip(range(-2, 3), codes, strict=True):
        start = _time.strftime("%H:%M:%S", _time.gmtime(max(step + offset, 0) * 30))
        label = "now" if offset == 0 else f"{offset:+d} step{'s' if abs(offset) > 1 else ''}"
        lines.append(f"{code}  {label} (from {start} UTC)")
    return lines


def _print_qr(uri: str) -> None:
    try:
        import segno
    except ImportError:
        typer.echo("(for a terminal QR code: pip install 'aioctap[qr]')", err=True)
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
        None,
        "--taler",
        help="GNU Taler POS algorithm (1/TOTP_WITHOUT_PRICE, 2/TOTP_WITH_PRICE, needs --price): its five codes, "
        "one per 30-second step from 2 before now to 2 after",
    ),
    price: str | None = typer.Option(None, "--price", help="the amount for Taler algorithm 2, e.g. EUR:1.50"),
    as_json: JsonOpt = False,
) -> None:
    """Print the current code (TOTP), the code for --counter (HOTP), or a Taler POS confirmation."""
    when = _time.time() if time is None else time
    if taler is not None:
        try:
            algorithm = parse_algorithm(taler)
        except KeyFormatError as e:
            raise typer.BadParameter(str(e), param_hint="--taler") from None
        if algorithm == 0:
            raise typer.BadParameter("algorithm 0 (NONE) gives no code: use 1 or 2", param_hint="--taler")
        if algorithm == 2 and price is None:
            raise typer.BadParameter("algorithm 2 (TOTP_WITH_PRICE) needs --price, e.g. --price EUR:1.50")
        key = _read_source(source)
        try:
            codes = pos_confirmation(key, algorithm, when, price)
        except KeyFormatError as e:
            raise typer.BadParameter(str(e)) from None
        assert codes is not None
        if as_json:
            step = int(when) // 30
            steps = [
                {"code": c, "offset": o, "from": max(step + o, 0) * 30}
                for o, c in zip(range(-2, 3), codes.split("\n"), strict=True)
            ]
            echo_json({"algorithm": algorithm, "confirmation": codes, "codes": steps})
            return
        for line in taler_lines(codes.split("\n"), int(when)):
            typer.echo(line)
        return
    otp = _load(source, digits=digits, alg=alg, period=period, counter=counter)
    if isinstance(otp, HOTP):
        hotp_code = otp.generate(counter)
        if as_json:
            echo_json({"type": "hotp", "code": hotp_code, "counter": otp.counter if counter is None else counter})
        else:
            typer.echo(hotp_code)
        return
    try:
        token = otp.generate(when)
    except ValueError as e:
        raise typer.BadParameter(str(e), param_hint="--time") from None
    if as_json:
        echo_json({"type": "totp", "code": token.token, "counter": token.counter, "expires": token.expire_time})
        return
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
            try:
                hmatch = otp.match(token, start, window)
            except InvalidTokenError:
                if last_counter is None or not _hotp_used(otp, token, last_counter, window):
                    raise
                raise UsedTokenError(f"the code has already been used (counter {last_counter} or before)") from None
            typer.echo(f"ok: counter {hmatch.counter} (skipped {hmatch.skipped})")
        else:
            tmatch = otp.match(token, time, window, last_counter=last_counter)
            typer.echo(f"ok: counter {tmatch.counter} (skipped {tmatch.skipped}), expires at {tmatch.expire_time}")
    except TokenError as e:  # malformed, no match, or a replay of --last-counter
        typer.echo(f"refused: {e}", err=True)
        raise typer.Exit(1) from None


def _hotp_used(otp: HOTP, token: str, last_counter: int, window: int) -> bool:
    """Whether ``token`` is the code of a counter at or before ``last_counter`` (a replay), within ``window``."""
    start = max(0, last_counter - window)
    try:
        return otp.match(token, start, last_counter - start).counter <= last_counter
    except TokenError:
        return False


def register(app: typer.Typer) -> None:
    """Add ``aioctap otp new|uri|code|verify``."""
    app.add_typer(otp_app, name="otp")
