"""Over a real socket: aioctap's WebAuthn client and software authenticator register and sign in through
uvicorn on 127.0.0.1, and ``aioctap server`` runs as a process."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import anyio
import httpx
import pytest
import uvicorn

import aioctap
from aioctap.cli.server_cmds import default_db_url
from aioctap.client import WebAuthnClient
from aioctap.server.app import CREDENTIALS, create_app
from aioctap.stores import MemoryStore


def _free_socket() -> socket.socket:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    return sock


async def test_client_and_software_authenticator_over_http() -> None:
    store = MemoryStore()
    sock = _free_socket()  # bound before the app is made: its port is in the origin, no race
    port = int(sock.getsockname()[1])
    origin = f"http://localhost:{port}"
    app = create_app(store, origin=origin, otp_routes=False)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    async with anyio.create_task_group() as tg:
        tg.start_soon(server.serve, [sock])
        with anyio.fail_after(10):
            while not server.started:
                await anyio.sleep(0.01)
        try:
            async with (
                aioctap.open_device("virtual") as device,
                httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http,
            ):
                client = WebAuthnClient(device, origin)
                r = await http.post("/fido2/attestation/options", json={"username": "alice", "displayName": "Alice"})
                credential = await client.create(r.json())
                r = await http.post("/fido2/attestation/result", json=credential)
                assert r.json() == {
                    "status": "ok",
                    "errorMessage": "",
                    "username": "alice",
                    "credentialId": credential["id"],
                }

                r = await http.post("/fido2/assertion/options", json={"username": "alice"})
                assertion = await client.get(r.json())
                r = await http.post("/fido2/assertion/result", json=assertion)
                assert r.status_code == 200 and r.json()["username"] == "alice", r.text

                # the same assertion again: its session is consumed
                r = await http.post("/fido2/assertion/result", json=assertion)
                assert r.status_code == 400 and r.json()["status"] == "failed"
        finally:
            server.should_exit = True
    sock.close()
    record = await store.get(CREDENTIALS, credential["id"])
    assert record is not None and json.loads(record.value)["sign_count"] >= 1


def test_default_store_is_a_sqlite_file_in_the_user_data_directory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", "/tmp/aioctap-xdg-test")
    assert default_db_url() == "sqlite:////tmp/aioctap-xdg-test/aioctap/server.db"


def test_aioctap_server_rejects_a_bad_store_url() -> None:
    from typer.testing import CliRunner

    from aioctap.cli import app

    result = CliRunner().invoke(app, ["server", "--db", "mysql://user:pw@db/x"])
    assert result.exit_code == 2 and "--db" in result.output and "pw" not in result.output


async def test_aioctap_server_command(tmp_path: Path) -> None:
    sock = _free_socket()
    port = int(sock.getsockname()[1])
    sock.close()
    db = tmp_path / "rp.db"
    env = {**os.environ, "AIOCTAP_ADMIN_TOKEN": "secret-token:" + "a" * 40}
    proc = subprocess.Popen(
        [sys.executable, "-m", "aioctap", "server", "--port", str(port), "--db", f"sqlite:///{db}", "--quiet"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, proc.stdout.read().decode() if proc.stdout else ""
            try:
                r = httpx.post(
                    f"http://127.0.0.1:{port}/fido2/attestation/options",
                    json={"username": "alice", "displayName": "Alice"},
                    timeout=2,
                )
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "aioctap server did not start"
                time.sleep(0.1)
        body = r.json()
        assert r.status_code == 200 and body["status"] == "ok" and body["rp"]["id"] == "localhost"
        assert httpx.get(f"http://127.0.0.1:{port}/openapi.json", timeout=2).json()["paths"]
        r = httpx.get(
            f"http://127.0.0.1:{port}/private/otp-devices",
            timeout=2,
            headers={"Authorization": "Bearer " + env["AIOCTAP_ADMIN_TOKEN"]},
        )
        assert r.status_code == 200, r.text
    finally:
        proc.terminate()
        out = proc.communicate(timeout=15)[0].decode()
    assert db.exists()
    assert "a" * 40 not in out  # the admin token is never logged
    # the URL that works (the RP ID is localhost: not 127.0.0.1) and where the data lives
    assert f"open http://localhost:{port}/ in a browser" in out and f"SQLite file {db}" in out, out
    # the OTP keys' encryption secret: a key file beside the database, created 0600
    key_file = Path(f"{db}.key")
    assert f"key file {key_file}" in out and key_file.stat().st_mode & 0o777 == 0o600
    assert "127.0.0.1" not in out.split("in a browser")[0]


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--rp-id", "example.com"], None),  # the default origin follows the RP ID: https://example.com
        (["--rp-id", "example.com", "--origin", "http://localhost:8000"], "does not match RP ID"),
        (["--origin", "https://localhost.evil.com"], "does not match RP ID"),
        (["--rp-id", "example.com", "--origin", "http://example.com"], "plain http"),
        (["--origin", "http://localhost:8000/page"], "scheme://host"),
        (["--origin", "http://localhost:x"], "not a URL"),
        (["--rp-id", "github.io", "--origin", "https://alice.github.io"], "public suffix"),
    ],
)
def test_aioctap_server_checks_origin_against_rp_id(args: list[str], words: str | None) -> None:
    from typer.testing import CliRunner

    from aioctap.cli import app
    from aioctap.server.ceremony import origin_error

    if words is None:
        assert origin_error("example.com", "https://example.com") is None
        assert origin_error("example.com", "https://login.example.com:8443") is None
        return
    result = CliRunner().invoke(app, ["server", "--db", "memory://", *args])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 2 and lines[0].startswith("error: Invalid value for --origin: "), result.output
    assert words in lines[0]
    assert lines[1] == "hint: see 'aioctap server --help'"


def test_the_secret_key_comes_from_the_environment_or_a_key_file(tmp_path: Path) -> None:
    from aioctap.cli.server_cmds import load_secret_key

    url = f"sqlite:///{tmp_path / 'rp.db'}"
    assert load_secret_key(url, {"AIOCTAP_SECRET_KEY": "from-env"}) == ("from-env", "AIOCTAP_SECRET_KEY")
    assert not (tmp_path / "rp.db.key").exists()
    first, where = load_secret_key(url, {})
    assert len(first) == 64 and where == f"key file {tmp_path / 'rp.db.key'}"
    assert (tmp_path / "rp.db.key").stat().st_mode & 0o777 == 0o600
    assert load_secret_key(url, {})[0] == first  # the same key on the next start


def test_aioctap_server_prints_where_a_shared_store_lives() -> None:
    from aioctap.cli.server_cmds import data_location

    assert data_location("redis://:hunter2@db.internal:6380/3") == "Redis at db.internal:6380/3"
    assert data_location("postgresql://u:hunter2@pg/rp") == "PostgreSQL at pg/rp"
    assert data_location("memory://").startswith("memory")
