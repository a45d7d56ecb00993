"""``aioctap otp new|uri|code|verify`` through typer's CliRunner."""

from __future__ import annotations

import base64
import time

import pyotp
import pytest
from typer.testing import CliRunner

from aioctap.cli import app
from aioctap.otp import TOTP, BaseOTP, pos_confirmation

runner = CliRunner()
KEY = base64.b32encode(b"12345678901234567890").decode()
T = 1111111109


def test_new_prints_secret_uri_and_qr() -> None:
    r = runner.invoke(app, ["otp", "new", "--account", "alice@example.com", "--issuer", "ACME", "--qr"])
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    secret = lines[0].removeprefix("secret: ")
    uri = lines[1].removeprefix("uri:    ")
    parsed = pyotp.parse_uri(uri)
    assert parsed.secret == secret and parsed.issuer == "ACME" and parsed.name == "alice@example.com"
    assert len(base64.b32decode(secret + "=" * (-len(secret) % 8))) == 20
    assert len(lines) > 10 and any("█" in line or "▀" in line or "▄" in line for line in lines[2:])  # the QR code
    r2 = runner.invoke(app, ["otp", "new", "--account", "alice", "--no-qr"])
    assert r2.exit_code == 0 and len(r2.stdout.splitlines()) == 2
    assert r2.stdout.splitlines()[0] != lines[0]  # fresh randomness


def test_new_rejects_bad_options() -> None:
    r = runner.invoke(app, ["otp", "new", "--account", "a", "--alg", "md5"])
    assert r.exit_code == 2 and "unsupported algorithm" in r.output
    r = runner.invoke(app, ["otp", "new", "--account", "a:b"])
    assert r.exit_code == 2


def test_uri_for_existing_key() -> None:
    r = runner.invoke(app, ["otp", "uri", KEY, "-a", "bob", "-i", "Shop", "--digits", "8", "--alg", "sha256"])
    assert r.exit_code == 0, r.output
    otp = BaseOTP.from_uri(r.stdout.strip())
    assert isinstance(otp, TOTP) and otp.base32_key == KEY and otp.digits == 8 and otp.alg == "sha256"
    assert otp.issuer == "Shop" and otp.label == "bob"
    r = runner.invoke(app, ["otp", "uri", KEY, "-a", "carol", "--counter", "3"])
    assert r.stdout.startswith("otpauth://hotp/carol?") and "counter=3" in r.stdout
    r = runner.invoke(app, ["otp", "uri", "-", "-a", "dave"], input=KEY.lower() + "\n")
    assert r.exit_code == 0 and f"secret={KEY}" in r.stdout


def test_code_from_key_uri_and_stdin() -> None:
    r = runner.invoke(app, ["otp", "code", KEY, "--time", str(T), "--digits", "8"])
    assert r.exit_code == 0 and r.stdout.strip() == "07081804"
    uri = TOTP(KEY, digits=8, label="x").to_uri()
    r = runner.invoke(app, ["otp", "code", "-", "--time", str(T)], input=uri + "\n")
    assert r.stdout.strip() == "07081804"
    r = runner.invoke(app, ["otp", "code", KEY])
    assert pyotp.TOTP(KEY).verify(r.stdout.strip(), valid_window=1)  # now (a step boundary may pass meanwhile)
    r = runner.invoke(app, ["otp", "code", KEY, "--counter", "0"])
    assert r.stdout.strip() == "755224"  # RFC 4226 appendix D


def test_taler_codes() -> None:
    r = runner.invoke(app, ["otp", "code", KEY, "--taler", "1", "--time", str(T)])
    assert r.exit_code == 0 and r.stdout.splitlines()[2].startswith("7081804  now (from ")  # as Taler prints it
    r = runner.invoke(app, ["otp", "code", KEY, "--taler", "TOTP_WITH_PRICE", "--price", "EUR:1.5", "--time", str(T)])
    lines = r.stdout.splitlines()  # each code labelled with its 30-second step
    assert [line.split()[0] for line in lines] == pos_confirmation(KEY, 2, T, "EUR:1.5").split("\n")  # type: ignore[union-attr]
    labels = [line.split("  ", 1)[1] for line in lines]
    start = time.strftime("%H:%M:%S", time.gmtime(T // 30 * 30))
    assert labels[0].startswith("-2 steps (from ") and labels[1].startswith("-1 step (from ")
    assert labels[2] == f"now (from {start} UTC)" and labels[4].startswith("+2 steps")
    r = runner.invoke(app, ["otp", "code", KEY, "--taler", "2", "--time", str(T)])
    assert r.exit_code == 2 and "needs --price" in r.output  # a usage error
    r = runner.invoke(app, ["otp", "code", KEY, "--taler", "0"])
    assert r.exit_code == 2 and "gives no code" in r.output
    r = runner.invoke(app, ["otp", "code", KEY, "--taler", "2", "--price", "1.5", "--time", str(T)])
    assert r.exit_code == 2 and "amount" in r.output


def test_verify() -> None:
    r = runner.invoke(app, ["otp", "verify", KEY, "07081804", "--time", str(T), "--digits", "8"])
    assert r.exit_code == 0 and f"counter {T // 30}" in r.stdout
    r = runner.invoke(app, ["otp", "verify", KEY, "07081804", "--time", str(T + 30), "--digits", "8"])
    assert r.exit_code == 0 and "skipped -1" in r.stdout
    r = runner.invoke(app, ["otp", "verify", KEY, "07081804", "--time", str(T + 90), "--digits", "8"])
    assert r.exit_code == 1 and "did not match" in r.output
    last = str(T // 30)
    r = runner.invoke(
        app, ["otp", "verify", KEY, "07081804", "--time", str(T), "--digits", "8", "--last-counter", last]
    )
    assert r.exit_code == 1 and "already been used" in r.output
    r = runner.invoke(app, ["otp", "verify", KEY, "12ab56", "--time", str(T)])
    assert r.exit_code == 1 and "digits" in r.output
    r = runner.invoke(app, ["otp", "verify", KEY, "287082", "--counter", "0", "--window", "3"])
    assert r.exit_code == 0 and "counter 1" in r.stdout
    r = runner.invoke(app, ["otp", "verify", KEY, "755224", "--counter", "1"])
    assert r.exit_code == 1  # HOTP never looks backwards
    r = runner.invoke(app, ["otp", "verify", KEY, "755224", "--counter", "0", "--last-counter", "0"])
    assert r.exit_code == 1 and "already been used" in r.output  # an HOTP replay says so, as TOTP does
    r = runner.invoke(app, ["otp", "verify", KEY, "287082", "--counter", "0", "--last-counter", "3"])
    assert r.exit_code == 1 and "already been used" in r.output  # counter 1, before the last accepted
    r = runner.invoke(app, ["otp", "verify", KEY, "000000", "--counter", "0", "--last-counter", "3"])
    assert r.exit_code == 1 and "did not match" in r.output


@pytest.mark.parametrize("bad", ["not*base32", "otpauth://motp/x?secret=AAAA", "-"])
def test_bad_sources_say_what_is_wrong(bad: str) -> None:
    r = runner.invoke(app, ["otp", "code", bad], input="\n")
    assert r.exit_code == 2
    assert "Traceback" not in r.output
