"""Every failure of the command line is one line (and a hint), exit status 2 for usage errors and 1 for
failures, without a traceback unless ``--debug`` is given and without Python class names (issue 19)."""

from __future__ import annotations

import re
import socket
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from aioctap.cli import app

CLASS_NAME = re.compile(r"\b[A-Z][A-Za-z]*(?:Error|Exception)\b")


def cli(*args: str, input: str | None = None, **env: str | None) -> Any:
    base: dict[str, str | None] = {
        "AIOCTAP_PIN": None,
        "AIOCTAP_DEVICE": None,
        "AIOCTAP_VIRTUAL_KEY": None,
        "AIOCTAP_DEBUG": None,
    }
    return CliRunner().invoke(app, list(args), input=input, env={**base, "COLUMNS": "200", **env})


def failure(result: Any, status: int, *words: str) -> list[str]:
    """The error's lines, checked: the exit status, one error line and at most one hint, the words in them."""
    out = str(result.output)
    assert result.exit_code == status, out
    assert "Traceback" not in out and "╭" not in out, out
    assert not CLASS_NAME.search(out), out
    lines = [line for line in out.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error: ")]
    hints = [line for line in lines if line.startswith("hint: ")]
    assert len(errors) == 1 and len(hints) <= 1 and len(lines) == len(errors) + len(hints), out
    for word in words:
        assert word in out, (word, out)
    return lines


def test_hid_without_the_system_library(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "hid", None)  # importing the hid package fails as without libhidapi
    lines = failure(cli("info", "-d", "hid:/dev/hidraw0"), 1, "apt-get install libhidapi-hidraw0")
    assert lines[1].startswith("hint: install it with")


def test_bad_state_file(tmp_path: Path) -> None:
    (tmp_path / "bad.state").write_bytes(b"garbage\n")
    failure(cli("info", "-d", f"virtual:{tmp_path / 'bad.state'}"), 1, "not an aioctap authenticator state file",
            "a new file name for a fresh authenticator")  # fmt: skip


def test_malformed_virtual_key(tmp_path: Path) -> None:
    result = cli("info", "-d", f"virtual:{tmp_path / 'new.state'}", AIOCTAP_VIRTUAL_KEY="not hex")
    failure(result, 1, "AIOCTAP_VIRTUAL_KEY must be 64 hexadecimal digits", "unset AIOCTAP_VIRTUAL_KEY")
    assert "not hex" not in result.output  # the (bad) key is not echoed


def test_blobs_put_of_a_missing_file(tmp_path: Path) -> None:
    result = cli("blobs", "put", "AAAA", str(tmp_path / "missing.bin"), "-d", "virtual")
    failure(result, 2, "cannot read", "missing.bin", "No such file or directory", "aioctap blobs put --help")


def test_virtual_on_a_busy_port() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as busy:
        busy.bind(("127.0.0.1", 0))
        port = busy.getsockname()[1]
        result = cli("virtual", "--quiet", "--udp", f"127.0.0.1:{port}")
    failure(result, 1, f"udp:127.0.0.1:{port} is already in use", "--udp 127.0.0.1:ANOTHER_PORT")


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_server_with_an_unreachable_store(tmp_path: Path) -> None:
    key = {"AIOCTAP_SECRET_KEY": "k" * 64}
    port = _closed_port()
    result = cli("server", "--db", f"redis://127.0.0.1:{port}/0", **key)
    failure(result, 1, f"cannot reach the store: Redis at 127.0.0.1:{port}", "start the Redis server")
    result = cli("server", "--db", f"postgresql://u@127.0.0.1:{port}/db", **key)
    failure(result, 1, "cannot reach the store: PostgreSQL", "leave out --db")


def test_server_without_the_store_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "redis", None)
    monkeypatch.setitem(sys.modules, "redis.asyncio", None)
    result = cli("server", "--db", "redis://127.0.0.1:6379/0", AIOCTAP_SECRET_KEY="k" * 64)
    failure(result, 1, "package is not installed", "pip install 'aioctap[redis]'")


def test_nothing_listening_on_a_udp_address() -> None:
    port = _closed_port()
    failure(cli("info", "-d", f"udp:127.0.0.1:{port}"), 1, "nothing answers", f"aioctap virtual --udp 127.0.0.1:{port}")


def test_usage_errors_exit_2_in_one_line() -> None:
    failure(cli("creds", "delete", "!!", "-y", "-d", "virtual"), 2, "base64url", "aioctap creds delete --help")
    failure(cli("nosuchcommand"), 2, "No such command", "aioctap --help")
    failure(cli("otp", "code"), 2, "Missing argument", "aioctap otp code --help")
    failure(cli("info", "-d", "nonsense:1"), 1, "udp:HOST:PORT")


def test_an_unexpected_failure_names_debug_and_debug_shows_the_traceback(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from aioctap.cli import ctap_cmds

    class Boom(Exception):
        pass

    async def boom(address: str | None) -> str:
        raise Boom("it broke")

    monkeypatch.setattr(ctap_cmds, "resolve_address", boom)
    failure(cli("info"), 1, "unexpected failure: it broke", "--debug")
    result = cli("--debug", "info")
    assert result.exit_code == 1 and isinstance(result.exception, Boom)  # typer shows its traceback
    assert isinstance(cli("info", AIOCTAP_DEBUG="1").exception, Boom)
    monkeypatch.undo()
    (tmp_path / "bad.state").write_bytes(b"garbage\n")
    result = cli("--debug", "info", "-d", f"virtual:{tmp_path / 'bad.state'}")
    assert type(result.exception).__name__ == "StateError"


def test_version() -> None:
    from aioctap import __version__

    result = cli("--version")
    assert result.exit_code == 0 and result.output == f"aioctap {__version__}\n"


def test_server_on_a_busy_port() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = cli("server", "--db", "memory://", "--port", str(port), AIOCTAP_SECRET_KEY="k" * 64)
    failure(result, 1, f"127.0.0.1:{port} is already in use", "--port")


def test_qr_hint_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "segno", None)  # segno not installed
    result = cli("otp", "new", "--account", "alice", "--qr")
    assert result.exit_code == 0 and "pip install 'aioctap[qr]'" in result.output, result.output
