"""An echo application behind the device-side CTAPHID server, and host fixtures."""

from __future__ import annotations

import importlib.util
import socket
import sys
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

import anyio
import pytest

from aioctap.ctap import STATUS
from aioctap.hid.protocol import CAPABILITY, CTAPHID


class EchoApp:
    """CBOR: echoes the payload behind a 0x00 status.

    A first byte of 0xFE waits forever while sending UPNEEDED keepalives; 0xFD answers after 0.35 s
    of PROCESSING keepalives; 0xFC goes UPNEEDED then PROCESSING (0.25 s each) before answering.
    """

    capabilities = CAPABILITY.WINK | CAPABILITY.CBOR

    def __init__(self) -> None:
        self.winks = 0
        self.power_cycles = 0
        self.cancelled = 0

    async def handle(self, cmd: int, payload: bytes, set_status: Callable[[STATUS], None]) -> bytes:
        if cmd == CTAPHID.CBOR and payload[:1] == b"\xfc":  # two changes of status, each repeated
            set_status(STATUS.UPNEEDED)
            await anyio.sleep(0.25)
            set_status(STATUS.PROCESSING)
            await anyio.sleep(0.25)
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


class UdpDeviceEnd:
    """The device end of a UDP link as a packet transport, for scripted (misbehaving) devices.

    Listens on 127.0.0.1 (a free port); replies go to the address of the last datagram received.
    """

    packet_size = 64

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.setblocking(False)
        self.address: tuple[str, int] = self.sock.getsockname()
        self._peer: tuple[str, int] | None = None
        self._closed = False

    async def send_packet(self, packet: bytes) -> None:
        from aioctap.hid.transport import TransportClosed

        if self._closed:
            raise TransportClosed("device end closed")
        if self._peer is not None:
            self.sock.sendto(packet, self._peer)

    async def receive_packets(self) -> Sequence[bytes]:
        from aioctap.hid.transport import TransportClosed

        while True:
            if self._closed:
                raise TransportClosed("device end closed")
            try:
                await anyio.wait_readable(self.sock)
            except (anyio.ClosedResourceError, OSError):
                raise TransportClosed("device end closed") from None
            out = []
            while True:
                try:
                    data, self._peer = self.sock.recvfrom(2048)
                except BlockingIOError:
                    break
                out.append(data)
            if out:
                return out

    async def aclose(self) -> None:
        if not self._closed:
            self._closed = True
            anyio.notify_closing(self.sock)
            self.sock.close()


# -- the real ``hid`` package over the stand-in hidapi library (standin_hidapi/) -------------------


def _standin_module() -> ModuleType:
    """``standin_hidapi/standin.py`` (tests are not a package: loaded by path, once)."""
    name = "aioctap_tests_hidapi_standin"
    module = sys.modules.get(name)
    if module is None:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).parent / "standin_hidapi" / "standin.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def standin_hid(tmp_path_factory: pytest.TempPathFactory) -> ModuleType:
    """The real ``hid`` package bound to the stand-in hidapi library, built with gcc for this session."""
    return _standin_module().load_standin(tmp_path_factory.mktemp("standin-build"))  # type: ignore[no-any-return]


@pytest.fixture
def standin_devices(standin_hid: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The stand-in's device file (``StandinDevices``): ``add(path, (host, port), product=..., ...)``, ``unplug``."""
    devices = _standin_module().StandinDevices(tmp_path)
    monkeypatch.setenv(_standin_module().ENV, str(devices.file))
    return devices
