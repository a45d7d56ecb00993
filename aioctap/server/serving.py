"""Serving the ASGI app with uvicorn under limits: a request timeout, besides uvicorn's keep-alive timeout
and concurrency limit.

uvicorn closes a connection that stays idle after a response (``timeout_keep_alive``), but a connection
that sends its request slowly (its headers, or its body: on a kept-alive connection too) is kept open for
ever: a few hundred of them exhaust the process's file descriptors, and with ``limit_concurrency`` as many
hold every slot. :func:`http_protocol` gives uvicorn's h11 protocol a deadline: the complete headers and body
of a request must arrive within ``header_timeout`` seconds of the connection being made or of the previous
response; otherwise the connection is closed (as libmicrohttpd's connection timeout does for Taler's backend).
"""

from __future__ import annotations

import asyncio
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

__all__ = ["DEFAULT_HEADER_TIMEOUT", "DEFAULT_KEEP_ALIVE", "DEFAULT_LIMIT_CONCURRENCY", "http_protocol"]

DEFAULT_HEADER_TIMEOUT = 10.0  # seconds for a request's headers and body (bodies are at most 64 KiB)
DEFAULT_KEEP_ALIVE = 5  # seconds an idle kept-alive connection stays open
DEFAULT_LIMIT_CONCURRENCY = 200  # connections and requests at once; more are answered 503


# the client's h11 states while a request is still on its way: before its headers end, and while its body comes
_RECEIVING = (h11.IDLE, h11.SEND_BODY)


def http_protocol(header_timeout: float = DEFAULT_HEADER_TIMEOUT) -> type[H11Protocol]:
    """uvicorn's h11 protocol class with a deadline of ``header_timeout`` seconds for each request's headers and
    body (``http=`` of :class:`uvicorn.Config`)."""
    if not header_timeout > 0:
        raise ValueError("header_timeout must be positive")

    class RequestTimeoutProtocol(H11Protocol):
        """H11Protocol that closes a connection whose request (headers and body) does not arrive in time."""

        _request_timer: asyncio.TimerHandle | None = None

        def _arm(self) -> None:
            self._disarm()
            self._request_timer = self.loop.call_later(header_timeout, self._request_too_slow)

        def _disarm(self) -> None:
            if self._request_timer is not None:
                self._request_timer.cancel()
                self._request_timer = None

        def _request_too_slow(self) -> None:
            self._request_timer = None
            if self.conn.their_state in _RECEIVING and not self.transport.is_closing():
                self.transport.close()

        def connection_made(self, transport: Any) -> None:
            """As uvicorn's, and the deadline for the first request starts."""
            super().connection_made(transport)
            self._arm()

        def data_received(self, data: bytes) -> None:
            """As uvicorn's; once a request (headers and body) is complete its deadline ends."""
            super().data_received(data)
            if self.conn.their_state not in _RECEIVING:
                self._disarm()

        def on_response_complete(self) -> None:
            """As uvicorn's, and the deadline for the next request starts."""
            super().on_response_complete()
            if not self.transport.is_closing() and self.conn.their_state is h11.IDLE:
                self._arm()

        def connection_lost(self, exc: Exception | None) -> None:
            """As uvicorn's, without a pending deadline."""
            self._disarm()
            super().connection_lost(exc)

    return RequestTimeoutProtocol
