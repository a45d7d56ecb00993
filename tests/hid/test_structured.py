"""Structured concurrency that never leaks (DESIGN): no ExceptionGroup reaches a user from
``open_device`` or an iterator, abandoned iterators leave the device usable and print nothing."""

from __future__ import annotations

import hashlib
import socket
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import pytest

import aioctap
from aioctap.ctap import CtapError, TransportError
from aioctap.ctap2 import ClientPin, CredentialManagement, Ctap2, FPBioEnrollment
from aioctap.hid.device_side import CtapHidServer
from aioctap.hid.router import CtapHidTimeout

from .conftest import EchoApp

PIN = "4321abcd"
CDH = hashlib.sha256(b"client data").digest()
RP = {"id": "example.com", "name": "Example"}
ES256 = [{"type": "public-key", "alg": -7}]


@asynccontextmanager
async def udp_echo_address() -> AsyncIterator[str]:
    server = CtapHidServer(EchoApp())
    async with anyio.create_task_group() as tg:
        host, port = await tg.start(server.serve_udp, "127.0.0.1", 0)
        yield f"udp:{host}:{port}"
        tg.cancel_scope.cancel()


def silent_udp_port() -> tuple[socket.socket, int]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    return sock, sock.getsockname()[1]


@pytest.mark.parametrize("kind", ["virtual", "udp"])
@pytest.mark.parametrize("error", [KeyError("k"), CtapError(CtapError.ERR.PIN_INVALID), ValueError("v")])
async def test_the_body_exception_comes_out_as_itself(kind: str, error: Exception) -> None:
    async with udp_echo_address() as udp:
        address = "virtual" if kind == "virtual" else udp
        with pytest.raises(type(error)) as caught:
            async with aioctap.open_device(address) as dev:
                await dev.call(0x01, b"ping")
                raise error
        assert caught.value is error
        assert not isinstance(caught.value.__context__, BaseExceptionGroup)


async def test_the_body_exception_keeps_its_cause() -> None:
    with pytest.raises(ValueError) as caught:
        async with aioctap.open_device("virtual"):
            try:
                raise KeyError("inner")
            except KeyError as e:
                raise ValueError("outer") from e
    assert isinstance(caught.value.__cause__, KeyError)


async def test_a_device_that_never_answers_raises_ctaphid_timeout() -> None:
    sock, port = silent_udp_port()
    with sock, pytest.raises(CtapHidTimeout):
        async with aioctap.open_device(f"udp:127.0.0.1:{port}", timeout=0.2):
            pass  # pragma: no cover


def run_python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=60, check=False
    )


def test_sys_exit_inside_the_block_exits_quietly() -> None:
    result = run_python(
        """
        import sys, anyio, aioctap

        async def main():
            async with aioctap.open_device("virtual"):
                sys.exit(3)

        anyio.run(main)
        """
    )
    assert result.returncode == 3
    assert result.stderr == ""


def test_breaking_out_of_enroll_on_its_last_sample_prints_nothing() -> None:
    result = run_python(
        """
        import anyio, gc, aioctap
        from aioctap.ctap2 import ClientPin, Ctap2, FPBioEnrollment

        async def main():
            async with aioctap.open_device("virtual") as dev:
                ctap = await Ctap2.create(dev)
                cp = ClientPin(ctap)
                await cp.set_pin("4321abcd")
                bio = FPBioEnrollment(ctap, cp.protocol, await cp.get_pin_token("4321abcd", cp.PERMISSION.BIO_ENROLL))
                async for sample in bio.enroll():
                    if sample.remaining == 0:
                        break
                for _ in range(3):
                    await anyio.sleep(0)
            # and abandoned midway, with the device closed before the generator is finalized
            async with aioctap.open_device("virtual") as dev:
                ctap = await Ctap2.create(dev)
                cp = ClientPin(ctap)
                await cp.set_pin("4321abcd")
                bio = FPBioEnrollment(ctap, cp.protocol, await cp.get_pin_token("4321abcd", cp.PERMISSION.BIO_ENROLL))
                iterator = bio.enroll()
                async for sample in iterator:
                    break
            del iterator
            gc.collect()
            await anyio.sleep(0.1)
            print("ok")

        anyio.run(main)
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
    assert result.stderr == ""


async def test_iterators_abandoned_midway_leave_the_device_usable() -> None:
    async with aioctap.open_device("virtual") as dev:
        ctap = await Ctap2.create(dev)
        cp = ClientPin(ctap)
        await cp.set_pin(PIN)

        async def register(rp_id: str, user_id: bytes) -> None:
            token = await cp.get_pin_token(PIN, ClientPin.PERMISSION.MAKE_CREDENTIAL, rp_id)
            await ctap.make_credential(
                CDH,
                {"id": rp_id, "name": rp_id},
                {"id": user_id, "name": user_id.hex()},
                ES256,
                pin_uv_param=cp.protocol.authenticate(token, CDH),
                pin_uv_protocol=cp.protocol.VERSION,
                options={"rk": True},
            )

        for i in range(3):
            await register(f"rp{i}.example", bytes([i]))
            await register(RP["id"], bytes([10 + i]))
        async for _ in ctap.get_assertions(RP["id"], CDH):
            break
        cm = CredentialManagement(ctap, cp.protocol, await cp.get_pin_token(PIN, ClientPin.PERMISSION.CREDENTIAL_MGMT))
        async for _ in cm.rps():
            break
        async for _ in cm.credentials(hashlib.sha256(RP["id"].encode()).digest()):
            break
        # the device answers the next commands as if nothing had been left behind
        assert len([rp async for rp in cm.rps()]) == 4
        assert len([a async for a in ctap.get_assertions(RP["id"], CDH)]) == 3
        assert (await ctap.get_info()).versions


async def test_transport_loss_fails_pending_calls_with_transport_error() -> None:
    async with udp_echo_address() as udp:
        async with aioctap.open_device(udp) as dev:
            async with anyio.create_task_group() as tg:

                async def pending() -> None:
                    with pytest.raises(TransportError):
                        await dev.call(0x10, b"\xfe")  # waits for a touch forever

                tg.start_soon(pending)
                await anyio.sleep(0.1)
                await dev.connection.transport.aclose()
            with pytest.raises(TransportError):
                await dev.call(0x01, b"")


async def test_bio_enroll_break_then_the_device_goes_on() -> None:
    async with aioctap.open_device("virtual") as dev:
        ctap = await Ctap2.create(dev)
        cp = ClientPin(ctap)
        await cp.set_pin(PIN)
        bio = FPBioEnrollment(ctap, cp.protocol, await cp.get_pin_token(PIN, ClientPin.PERMISSION.BIO_ENROLL))
        async for _ in bio.enroll():
            break
        await anyio.sleep(0.05)  # the abandoned generator's finalizer cancels the enrollment
        assert dev.authenticator.manage._enrollment is None
        samples = [s async for s in bio.enroll()]
        assert samples[-1].template_id is not None
