"""The transport and the CTAP2 layer on anyio's trio backend (DESIGN: the code runs on asyncio and trio).

pytest-asyncio owns the async tests of this suite, so these are plain tests that start their own
trio run: the shell's generic path (a timer task instead of ``loop.call_at``, ``anyio.Event``
waiters, ``wait_readable`` on the UDP socket) against the software authenticator and an echo
device, in memory and over real UDP sockets.
"""

from __future__ import annotations

import hashlib
import socket
from collections.abc import Awaitable, Callable

import anyio
import pytest

import aioctap
from aioctap.ctap import CtapError
from aioctap.ctap2 import ClientPin, CredentialManagement, Ctap2
from aioctap.hid.device import CtapHidDevice
from aioctap.hid.device_side import CtapHidServer
from aioctap.hid.protocol import CTAPHID
from aioctap.hid.router import CtapHidTimeout

from .conftest import EchoApp

pytest.importorskip("trio")

PIN = "4321abcd"
CDH = hashlib.sha256(b"client data").digest()
ES256 = [{"type": "public-key", "alg": -7}]


def on_trio(test: Callable[[], Awaitable[None]]) -> None:
    async def main() -> None:
        import sniffio

        assert sniffio.current_async_library() == "trio"
        with anyio.fail_after(30):
            await test()

    anyio.run(main, backend="trio")


async def with_udp_echo(body: Callable[[str, EchoApp], Awaitable[None]]) -> None:
    app = EchoApp()
    server = CtapHidServer(app)
    async with anyio.create_task_group() as tg:
        host, port = await tg.start(server.serve_udp, "127.0.0.1", 0)
        await body(f"udp:{host}:{port}", app)
        tg.cancel_scope.cancel()


def test_ping_sizes_and_many_channels_over_udp() -> None:
    async def body(address: str, app: EchoApp) -> None:
        async with aioctap.open_device(address) as dev:
            assert isinstance(dev, CtapHidDevice)
            for size in (0, 1, 57, 58, 1024, 7609):
                data = bytes(i % 251 for i in range(size))
                assert await dev.ping(data) == data
            others = [await CtapHidDevice.open(dev.connection) for _ in range(8)]
            results: dict[int, bytes] = {}

            async def ping(i: int, d: CtapHidDevice) -> None:
                results[i] = await d.ping(bytes([i]) * 700)

            async with anyio.create_task_group() as tg:
                for i, d in enumerate(others):
                    tg.start_soon(ping, i, d)
            assert results == {i: bytes([i]) * 700 for i in range(8)}

    on_trio(lambda: with_udp_echo(body))


def test_cancel_keepalive_and_timeout_resync_over_udp() -> None:
    async def body(address: str, app: EchoApp) -> None:
        async with aioctap.open_device(address, timeout=0.3) as dev:
            statuses: list[int] = []
            with anyio.move_on_after(0.3):
                await dev.call(CTAPHID.CBOR, b"\xfe", on_keepalive=statuses.append)
            assert statuses == [2]  # UPNEEDED, once
            assert app.cancelled == 1  # the device ended it before the cancelled call returned
            assert await dev.call(CTAPHID.CBOR, b"\x01") == b"\x00\x01"
            # keepalives extend the timeout: 0.35 s of PROCESSING with a 0.3 s timeout
            assert await dev.call(CTAPHID.CBOR, b"\xfd") == b"\x00\xfd"

    on_trio(lambda: with_udp_echo(body))


def test_silent_device_times_out_and_body_errors_come_out_as_themselves() -> None:
    async def main() -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind(("127.0.0.1", 0))
        with sock:
            with pytest.raises(CtapHidTimeout):
                async with aioctap.open_device(f"udp:127.0.0.1:{sock.getsockname()[1]}", timeout=0.2):
                    pass  # pragma: no cover
        with pytest.raises(KeyError):
            async with aioctap.open_device("virtual"):
                raise KeyError("mine")

    on_trio(main)


def test_ctap2_against_the_software_authenticator_in_memory() -> None:
    async def main() -> None:
        async with aioctap.open_device("virtual") as dev:
            ctap = await Ctap2.create(dev)
            assert "FIDO_2_1" in ctap.info.versions
            cp = ClientPin(ctap)
            await cp.set_pin(PIN)
            with pytest.raises(CtapError):
                await cp.get_pin_token("wrong-pin")
            for i in range(3):
                token = await cp.get_pin_token(PIN, ClientPin.PERMISSION.MAKE_CREDENTIAL, "example.com")
                await ctap.make_credential(
                    CDH,
                    {"id": "example.com", "name": "Example"},
                    {"id": bytes([i]), "name": f"user{i}"},
                    ES256,
                    options={"rk": True},
                    pin_uv_param=cp.protocol.authenticate(token, CDH),
                    pin_uv_protocol=cp.protocol.VERSION,
                )
            async for _ in ctap.get_assertions("example.com", CDH):
                break  # abandoned: the device stays usable
            assert len([a async for a in ctap.get_assertions("example.com", CDH)]) == 3
            token = await cp.get_pin_token(PIN, ClientPin.PERMISSION.CREDENTIAL_MGMT)
            cm = CredentialManagement(ctap, cp.protocol, token)
            rps = [rp async for rp in cm.rps()]
            assert len(rps) == 1
            creds = [c async for c in cm.credentials(hashlib.sha256(b"example.com").digest())]
            assert len(creds) == 3

    on_trio(main)
