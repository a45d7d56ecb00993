"""``aioctap server``'s connection limits over real sockets: a request's headers and body must arrive within the
header timeout (on a new connection and on a kept-alive one); requests in time are served."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn

from aioctap.server.app import create_app
from aioctap.server.serving import (
    DEFAULT_HEADER_TIMEOUT,
    DEFAULT_KEEP_ALIVE,
    DEFAULT_LIMIT_CONCURRENCY,
    http_protocol,
)
from aioctap.stores import MemoryStore

HEADER_TIMEOUT = 0.5
REQUEST = b"GET /openapi.json HTTP/1.1\r\nHost: localhost\r\n\r\n"


@pytest.fixture
def port() -> Iterator[int]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    app = create_app(MemoryStore(), otp_routes=False)
    config = uvicorn.Config(
        app, log_level="warning", http=http_protocol(HEADER_TIMEOUT), timeout_keep_alive=30, limit_concurrency=50
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        for _ in range(500):
            if server.started:
                break
            thread.join(0.01)
        assert server.started
        yield int(sock.getsockname()[1])
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def _closed_within(conn: socket.socket, seconds: float) -> bool:
    """True when the server closes ``conn`` (after any answer) within ``seconds``."""
    conn.settimeout(seconds)
    try:
        while conn.recv(65536):
            pass
    except TimeoutError:
        return False
    except ConnectionResetError:
        return True
    return True


def _response(conn: socket.socket) -> bytes:
    conn.settimeout(5)
    data = b""
    while b"\r\n\r\n" not in data:
        data += conn.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(
        next(line.split(b":")[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length"))
    )
    while len(body) < length:
        body += conn.recv(65536)
    return head


def test_a_connection_that_sends_nothing_or_half_its_headers_is_closed(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port)) as idle, socket.create_connection(("127.0.0.1", port)) as slow:
        slow.sendall(REQUEST[:20])
        start = time.monotonic()
        assert _closed_within(idle, 5) and _closed_within(slow, 5)
        assert HEADER_TIMEOUT - 0.1 < time.monotonic() - start < 3


def test_headers_in_time_are_served_and_a_kept_alive_connection_gets_a_new_deadline(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port)) as conn:
        for piece in (REQUEST[:10], REQUEST[10:30], REQUEST[30:]):  # slow, but within the deadline
            conn.sendall(piece)
            time.sleep(HEADER_TIMEOUT / 5)
        assert _response(conn).startswith(b"HTTP/1.1 200")
        # a second request on the same connection, in time, then a third that stalls
        conn.sendall(REQUEST)
        assert _response(conn).startswith(b"HTTP/1.1 200")
        time.sleep(HEADER_TIMEOUT / 2)
        conn.sendall(REQUEST[:15])
        assert _closed_within(conn, 5)


def _post(body_length: int) -> bytes:
    return (
        b"POST /fido2/attestation/options HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
        b"Content-Length: " + str(body_length).encode() + b"\r\n\r\n"
    )


def test_a_request_whose_body_stalls_is_closed(port: int) -> None:
    """Headers in time are not enough: a body that stops coming (a slow-body attack) ends the connection too."""
    with socket.create_connection(("127.0.0.1", port)) as conn:
        conn.sendall(_post(100) + b'{"username": ')  # 13 of 100 bytes, then nothing
        start = time.monotonic()
        assert _closed_within(conn, 5)
        assert HEADER_TIMEOUT - 0.1 < time.monotonic() - start < 3


def test_a_body_sent_slowly_but_in_time_is_served(port: int) -> None:
    body = b'{"username": "alice", "displayName": "Alice"}'
    with socket.create_connection(("127.0.0.1", port)) as conn:
        conn.sendall(_post(len(body)))
        for i in range(0, len(body), 24):  # in two pieces, within the deadline
            time.sleep(HEADER_TIMEOUT / 5)
            conn.sendall(body[i : i + 24])
        head = _response(conn)
        assert head.startswith(b"HTTP/1.1 ") and not head.startswith(b"HTTP/1.1 5")  # answered, not cut off


def test_the_command_line_defaults_are_the_modules() -> None:
    from typer.main import get_command

    from aioctap.cli import app

    params = {p.name: p.default for p in get_command(app).commands["server"].params}  # type: ignore[attr-defined]
    assert params["header_timeout"] == DEFAULT_HEADER_TIMEOUT and params["keep_alive"] == DEFAULT_KEEP_ALIVE
    assert params["limit_concurrency"] == DEFAULT_LIMIT_CONCURRENCY
    with pytest.raises(ValueError):
        http_protocol(0)
