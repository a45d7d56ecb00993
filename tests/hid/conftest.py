"""An echo application behind the device-side CTAPHID server, and host fixtures."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import anyio
import pytest

from aioctap.ctap import STATUS
from aioctap.hid.protocol import CAPABILITY, CTAPHID


class EchoApp:
    """CBOR: echoes the payload. A first byte of 0xFE waits forever while sending UPNEEDED keepalives."""

    capabilities = CAPABILITY.WINK | CAPABILITY.CBOR

    def __init__(self) -> None:
        self.winks = 0
        self.power_cycles = 0
        self.cancelled = 0

    async def handle(self, cmd: int, payload: bytes, set_status: Callable[[STATUS], None]) -> bytes:
        if cmd == CTAPHID.CBOR and payload[:1] == b"\xfe":
            set_status(STATUS.UPNEEDED)
            try:
                await anyio.sleep_forever()
            finally:
                self.cancelled += 1
        if cmd == CTAPHID.CBOR and payload[:1] == b"\xfd":
            await anyio.sleep(0.35)  # slower than a keepalive interval
        return b"\x00" + payload

    def wink(self) -> None:
        self.winks += 1

    def power_cycle(self) -> None:
        self.power_cycles += 1


@pytest.fixture
def echo_app() -> EchoApp:
    return EchoApp()


@asynccontextmanager
async def serve_udp(app: EchoApp) -> AsyncIterator[tuple[str, int]]:
    """Serve ``app`` over UDP on 127.0.0.1 (a free port) for the duration of the block."""
    from aioctap.hid.device_side import CtapHidServer

    server = CtapHidServer(app)
    async with anyio.create_task_group() as tg:
        addr = await tg.start(server.serve_udp, "127.0.0.1", 0)
        yield addr
        tg.cancel_scope.cancel()


@pytest.fixture
def udp_server() -> Callable[[EchoApp], AbstractAsyncContextManager[tuple[str, int]]]:
    """``async with udp_server(app) as (host, port)``: app served over real UDP sockets."""
    return serve_udp
