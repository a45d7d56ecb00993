"""The hidapi backend through the real ``hid`` package, over a stand-in system hidapi library.

Only the C library beneath the ``hid`` package is replaced (``standin_hidapi/hidapi_standin.c``, built
with gcc by the ``standin_hid`` fixture): its devices forward their reports over UDP to aioctap's
device-side CTAPHID server, with the echo application of ``conftest.py`` or the software
authenticator behind it. Enumeration, ``list_devices``, ``open_device("hid:...")``, the reader and
writer threads, unplugging and hot-plug all run for real.
"""

from __future__ import annotations

import ctypes
import gc
import hashlib
import logging
import os
import socket
import sys
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

import anyio
import anyio.to_thread
import pytest

import aioctap
from aioctap.ctap2 import Ctap2
from aioctap.hid.backends import hidapi
from aioctap.hid.backends.hidapi import HidapiDevice, HidapiMissing, HidapiTransport, HotplugEvent, _direct_calls
from aioctap.hid.device import CtapHidDevice, HidDescriptor
from aioctap.hid.device_side import CtapHidServer
from aioctap.hid.protocol import CTAPHID
from aioctap.hid.router import HidConnection
from aioctap.hid.transport import TransportClosed

from .conftest import EchoApp

UPNEEDED_FOREVER = b"\xfe"  # EchoApp: waits forever, sending UPNEEDED keepalives


@asynccontextmanager
async def served(app: Any) -> AsyncIterator[tuple[str, int]]:
    """``app`` behind the device-side CTAPHID server on a free UDP port of 127.0.0.1."""
    server = CtapHidServer(app)
    async with anyio.create_task_group() as tg:
        yield await tg.start(server.serve_udp, "127.0.0.1", 0)
        tg.cancel_scope.cancel()


@pytest.fixture(params=[True, False], ids=["direct-calls", "hid.Device-calls"])
def direct_calls(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> bool:
    """Both ways of reading and writing: the hid package's ctypes bindings directly, and hid.Device's methods."""
    monkeypatch.setattr(HidapiTransport, "direct_calls", request.param)
    return bool(request.param)


async def test_direct_calls_apply_to_the_real_hid_device(standin_devices: Any, echo_app: EchoApp) -> None:
    import hid

    async with served(echo_app) as addr:
        standin_devices.add("/dev/hidraw0", addr)
        handle = hid.Device(path=b"/dev/hidraw0")
        try:
            calls = _direct_calls(handle)
            assert calls is not None
            read, write = calls
            packet = bytes.fromhex("ffffffff86000811223344556677") + bytes(50)
            assert write(b"\0" + packet) == 65
            answer = await anyio.to_thread.run_sync(read, 64, 1000)  # the server answers in this loop
            assert len(answer) == 64 and answer[:15] == packet[:4] + b"\x86\x00\x11" + packet[7:15]
            assert read(64, 0) == b""
        finally:
            handle.close()


async def test_the_real_hid_package_is_bound_to_the_standin(standin_hid: Any) -> None:
    import hid

    assert hid is standin_hid and isinstance(hid.hidapi, ctypes.CDLL)
    assert hid.hidapi.aioctap_hidapi_standin  # the stand-in's own symbol
    assert hid.version == (0, 14, 0) and hasattr(hid.Device, "get_report_descriptor")


async def test_enumeration_keeps_fido_devices_only(standin_devices: Any) -> None:
    standin_devices.add("/dev/hidraw0", ("127.0.0.1", 9), vid=0x1050, pid=0x0407, product="Key A", serial="SN-1")
    standin_devices.add("/dev/hidraw1", ("127.0.0.1", 9), vid=0x046D, pid=0xC31C, usage_page=0x01, usage=0x06)
    standin_devices.add("/dev/hidraw2", ("127.0.0.1", 9), vid=0x20A0, pid=0x42B1, usage=0x02)  # F1D0, not usage 1
    standin_devices.add("/dev/hidraw3", ("127.0.0.1", 9), vid=0x20A0, pid=0x42B1, product="Nitrokey 3")
    descriptors = await hidapi.list_descriptors()
    assert descriptors == [
        HidDescriptor("/dev/hidraw0", 0x1050, 0x0407, product_name="Key A", serial_number="SN-1"),
        HidDescriptor("/dev/hidraw3", 0x20A0, 0x42B1, product_name="Nitrokey 3"),
    ]


async def test_list_devices_yields_devices_that_open_with_async_with(
    standin_devices: Any, echo_app: EchoApp, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    async with served(echo_app) as addr:
        standin_devices.add("/dev/hidraw0", addr, product="Key A", serial="SN-1")
        standin_devices.add("/dev/hidraw1", addr, product="Key B")
        devices = [device async for device in CtapHidDevice.list_devices()]
        assert [(d.product_name, d.serial_number) for d in devices] == [("Key A", "SN-1"), ("Key B", None)]
        assert all(isinstance(d, HidapiDevice) and not d.is_open for d in devices)
        with pytest.raises(TransportClosed, match="not open"):
            await devices[0].ping()
        for device in devices:
            async with device:
                assert device.is_open and await device.ping(b"x" * 100) == b"x" * 100
            assert not device.is_open
        async with devices[0]:  # a device can be opened again
            assert await devices[0].ping() == b"Hello FIDO"

        # abandoned midway: nothing was started, nothing is printed
        async for _device in CtapHidDevice.list_devices():
            break
        gc.collect()
        await anyio.sleep(0.01)
        assert threads_named("hid ") == []
    assert capsys.readouterr() == ("", "")
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []


def threads_named(prefix: str) -> list[str]:
    import threading

    return [t.name for t in threading.enumerate() if t.name.startswith(prefix)]


async def test_open_device_ctap2_against_the_software_authenticator(standin_devices: Any) -> None:
    from aioctap.virtual import VirtualAuthenticator

    async with served(VirtualAuthenticator()) as addr:
        standin_devices.add("/dev/hidraw4", addr, vid=0x1050, pid=0x0407, product="Virtual Key", serial="0042")
        async with aioctap.open_device("hid:/dev/hidraw4") as device:
            assert isinstance(device, CtapHidDevice)
            assert (device.product_name, device.serial_number) == ("Virtual Key", "0042")
            assert device.descriptor is not None and (device.descriptor.vid, device.descriptor.pid) == (0x1050, 0x0407)
            ctap2 = Ctap2(device)
            info = await ctap2.get_info()
            assert "FIDO_2_1" in info.versions
            attestation = await ctap2.make_credential(
                hashlib.sha256(b"client data").digest(),
                {"id": "example.com", "name": "Example"},
                {"id": b"user-1", "name": "alice"},
                [{"type": "public-key", "alg": -7}],
            )
            assert attestation.auth_data.rp_id_hash == hashlib.sha256(b"example.com").digest()
            assert attestation.auth_data.credential_data is not None
        assert threads_named("hid ") == []  # the handle's threads ended with the device


async def test_an_exception_in_the_block_comes_out_as_itself(standin_devices: Any, echo_app: EchoApp) -> None:
    async with served(echo_app) as addr:
        standin_devices.add("/dev/hidraw0", addr)
        with pytest.raises(KeyError, match="mine"):
            async with aioctap.open_device("hid:/dev/hidraw0") as device:
                await device.ping()
                raise KeyError("mine")
        device = HidapiDevice(HidDescriptor("/dev/hidraw0"))
        with pytest.raises(LookupError):
            async with device:
                raise LookupError
        assert not device.is_open and threads_named("hid ") == []


async def test_a_device_that_never_answers_init_times_out_as_itself(standin_devices: Any) -> None:
    from aioctap.hid.router import CtapHidTimeout

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(("127.0.0.1", 0))
        standin_devices.add("/dev/hidraw0", silent.getsockname())
        with anyio.fail_after(3), pytest.raises(CtapHidTimeout):
            async with aioctap.open_device("hid:/dev/hidraw0", timeout=0.2):
                pass
        assert threads_named("hid ") == []
        for delay in (0.0, 0.001, 0.1):  # cancelled while opening the handle, or while waiting for INIT
            with anyio.move_on_after(delay) as scope:
                async with aioctap.open_device("hid:/dev/hidraw0"):
                    pass
            assert scope.cancelled_caught
            assert threads_named("hid ") == []


def test_cli_lists_and_uses_a_hid_key(standin_devices: Any) -> None:
    """``aioctap devices`` and ``aioctap info --device hid:PATH`` through the hid package."""
    import anyio.from_thread
    from typer.testing import CliRunner

    from aioctap.cli import app
    from aioctap.virtual import VirtualAuthenticator

    env = {"AIOCTAP_DEVICE": None, "AIOCTAP_PIN": None, "COLUMNS": "200"}
    with anyio.from_thread.start_blocking_portal() as portal:
        with portal.wrap_async_context_manager(served(VirtualAuthenticator())) as addr:
            standin_devices.add("/dev/hidraw0", addr, vid=0x1050, pid=0x0407, product="Virtual Key", serial="0042")
            result = CliRunner().invoke(app, ["devices"], env=env)
            assert result.exit_code == 0, result.output
            assert "hid:/dev/hidraw0" in result.output and "1050:0407" in result.output
            assert "Virtual Key 0042" in result.output
            result = CliRunner().invoke(app, ["info", "--device", "hid:/dev/hidraw0"], env=env)
            assert result.exit_code == 0, result.output
            assert "FIDO_2_1" in result.output


async def test_open_device_refuses_missing_and_non_fido_paths(standin_devices: Any) -> None:
    standin_devices.add("/dev/hidraw5", ("127.0.0.1", 9), usage_page=0x01, usage=0x06)
    with pytest.raises(OSError, match="/dev/hidraw9"):
        async with aioctap.open_device("hid:/dev/hidraw9"):
            pass
    with pytest.raises(ValueError, match="not a FIDO HID device"):
        async with aioctap.open_device("hid:/dev/hidraw5"):
            pass


async def test_unplug_fails_every_pending_call_at_once(
    standin_devices: Any, echo_app: EchoApp, direct_calls: bool
) -> None:
    async with served(echo_app) as addr:
        key = standin_devices.add("/dev/hidraw0", addr)
        async with aioctap.open_device("hid:/dev/hidraw0") as device:
            # three channels: one waits for a touch, two wait their turn (the device answers CHANNEL_BUSY)
            others = [await CtapHidDevice.open(device.connection) for _ in range(2)]
            errors: list[BaseException] = []

            async def call(d: CtapHidDevice) -> None:
                try:
                    await d.call(CTAPHID.CBOR, UPNEEDED_FOREVER)
                except TransportClosed as e:
                    errors.append(e)

            with anyio.fail_after(2):
                async with anyio.create_task_group() as tg:
                    for d in [device, *others]:
                        tg.start_soon(call, d)
                    await anyio.sleep(0.2)
                    assert errors == []
                    t0 = anyio.current_time()
                    standin_devices.unplug(key)
            assert len(errors) == 3 and all("unplugged" in str(e) for e in errors)
            assert anyio.current_time() - t0 < 1.0  # the reader notices within one read (100 ms)
            with pytest.raises(TransportClosed):
                await device.ping(b"late")
        assert await hidapi.list_descriptors() == []


async def test_write_error_ends_the_transport(standin_devices: Any, echo_app: EchoApp, direct_calls: bool) -> None:
    async with served(echo_app) as addr:
        key = standin_devices.add("/dev/hidraw0", addr)
        transport = await HidapiTransport.open("/dev/hidraw0")
        try:
            standin_devices.unplug(key)
            await transport.send_packet(bytes(64))  # queued; the writer thread's hid_write fails
            with anyio.fail_after(1), pytest.raises(TransportClosed, match="unplugged"):
                while True:
                    await transport.receive_packets()
        finally:
            await transport.aclose()


async def test_reader_thread_hands_over_whole_messages(
    standin_devices: Any, echo_app: EchoApp, direct_calls: bool
) -> None:
    """A paced device (one report per ms each way): the loop gets each message in one batch."""
    async with served(echo_app) as addr:
        standin_devices.add("/dev/hidraw0", addr, pace_us=1000)
        transport = await HidapiTransport.open("/dev/hidraw0")
        batches: list[Sequence[bytes]] = []
        receive = transport.receive_packets

        async def recording_receive() -> Sequence[bytes]:
            batch = await receive()
            batches.append(batch)
            return batch

        set_receiver = transport.set_receiver

        def recording_set_receiver(receiver: Callable[[Sequence[bytes]], None] | None) -> None:
            def recording(batch: Sequence[bytes]) -> None:
                batches.append(batch)
                assert receiver is not None
                receiver(batch)

            set_receiver(None if receiver is None else recording)

        # the router takes each batch from receive_packets, or from the receiver it sets: record both
        transport.receive_packets = recording_receive  # type: ignore[method-assign]
        transport.set_receiver = recording_set_receiver  # type: ignore[method-assign]
        async with HidConnection.open(transport) as connection:
            device = await CtapHidDevice.open(connection)
            for size in (0, 57, 58, 1024):
                batches.clear()
                data = os.urandom(size)
                assert await device.ping(data) == data
                reports = 1 if size <= 57 else 1 + -(-(size - 57) // 59)
                assert [len(b) for b in batches] == [reports]
            batches.clear()
            statuses: list[int] = []
            with anyio.move_on_after(0.3):  # keepalives: one report each, handed over alone
                await device.call(CTAPHID.CBOR, UPNEEDED_FOREVER, on_keepalive=statuses.append)
            # each keepalive alone, then the answer to CTAPHID_CANCEL (one report)
            assert statuses and all(len(b) == 1 for b in batches)
            assert [b[0][4] for b in batches[:-1]] == [0x80 | CTAPHID.KEEPALIVE] * (len(batches) - 1)


async def test_odd_framing_is_handed_over_as_it_comes(standin_devices: Any) -> None:
    """Another channel's report in the middle of a message, then a gap: the reader thread hands over what it
    has at each point, and the router's reassembly still gets the whole answer (CTAP 2.1 §11.2.4)."""
    from aioctap.hid.device_side import DeviceCore

    from .conftest import UdpDeviceEnd

    end = UdpDeviceEnd()
    core = DeviceCore()
    stranger = bytes.fromhex("0badbeef") + bytes([0x80 | CTAPHID.KEEPALIVE, 0, 1, 1]) + bytes(56)

    async def scripted_device() -> None:
        while True:
            for raw in await end.receive_packets():
                out, _ = core.receive(raw, 0.0)
                if len(out) > 2:  # a long answer: a stranger's report after two reports, then a pause
                    out[2:2] = [stranger, b"pause"]
                for packet in out:
                    if packet == b"pause":
                        await anyio.sleep(0.25)  # longer than one read of the reader thread
                    else:
                        await end.send_packet(packet)

    standin_devices.add("/dev/hidraw0", end.address)
    async with anyio.create_task_group() as tg:
        tg.start_soon(scripted_device)
        transport = await HidapiTransport.open("/dev/hidraw0")
        batches: list[list[bytes]] = []
        set_receiver = transport.set_receiver

        def recording_set_receiver(receiver: Callable[[Sequence[bytes]], None] | None) -> None:
            def recording(batch: Sequence[bytes]) -> None:
                batches.append(list(batch))
                assert receiver is not None
                receiver(batch)

            set_receiver(None if receiver is None else recording)

        transport.set_receiver = recording_set_receiver  # type: ignore[method-assign]
        async with HidConnection.open(transport) as connection:
            device = await CtapHidDevice.open(connection)
            batches.clear()
            data = os.urandom(300)  # 6 reports
            with anyio.fail_after(3):
                assert await device.ping(data) == data
            assert [len(b) for b in batches[:2]] == [2, 1] and batches[1] == [stranger]
            assert sum(len(b) for b in batches) == 7
            assert connection.dropped_packets == 1  # the stranger's
        tg.cancel_scope.cancel()
    await end.aclose()


async def test_watch_devices_sees_arrivals_and_removals(standin_devices: Any) -> None:
    first = standin_devices.add("/dev/hidraw0", ("127.0.0.1", 9), product="Key A")
    standin_devices.add("/dev/hidraw1", ("127.0.0.1", 9), usage_page=0x01, usage=0x06)  # not FIDO: never seen
    watcher = CtapHidDevice.watch_devices(interval=0.01)
    with anyio.fail_after(2):
        event, descriptor = await anext(watcher)
        assert (event, descriptor.path, descriptor.product_name) == (HotplugEvent.ADDED, "/dev/hidraw0", "Key A")
        standin_devices.add("/dev/hidraw2", ("127.0.0.1", 9))
        assert await anext(watcher) == (HotplugEvent.ADDED, HidDescriptor("/dev/hidraw2", 0x1050, 0x0407))
        standin_devices.unplug(first)
        event, descriptor = await anext(watcher)
        assert (event, descriptor.path) == (HotplugEvent.REMOVED, "/dev/hidraw0")
        standin_devices.plug(first)
        assert (await anext(watcher)).event == "added"
    await watcher.aclose()


async def test_many_concurrent_calls_on_two_devices(
    standin_devices: Any, echo_app: EchoApp, direct_calls: bool
) -> None:
    async with served(echo_app) as addr_a, served(EchoApp()) as addr_b:
        standin_devices.add("/dev/hidraw0", addr_a)
        standin_devices.add("/dev/hidraw1", addr_b, pace_us=200)
        async with aioctap.open_device("hid:/dev/hidraw0") as a, aioctap.open_device("hid:/dev/hidraw1") as b:
            channels = [a, b] + [await CtapHidDevice.open(d.connection) for d in (a, b) for _ in range(3)]
            done = 0

            async def worker(d: CtapHidDevice, seed: int) -> None:
                nonlocal done
                for i in range(6):
                    data = bytes((seed + i + j) % 256 for j in range(1 + (seed * 97 + i * 389) % 1200))
                    assert await d.call(CTAPHID.CBOR, data) == b"\x00" + data
                    assert await d.ping(data[:300]) == data[:300]
                    done += 1

            with anyio.fail_after(10):
                async with anyio.create_task_group() as tg:
                    for n, d in enumerate(channels):
                        tg.start_soon(worker, d, n)
            assert done == 6 * len(channels)


def test_the_reader_thread_wakes_trio(standin_devices: Any, echo_app: EchoApp) -> None:
    pytest.importorskip("trio")

    async def main() -> None:
        async with served(echo_app) as addr:
            standin_devices.add("/dev/hidraw0", addr)
            async with aioctap.open_device("hid:/dev/hidraw0") as device:
                assert await device.ping(bytes(1000)) == bytes(1000)

    anyio.run(main, backend="trio")


async def test_missing_system_library_names_the_package(standin_hid: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The real ``hid`` package raises ImportError when no hidapi library loads: HidapiMissing says what to install."""

    def no_library(name: str) -> None:
        raise OSError(f"{name}: cannot open shared object file: No such file or directory")

    monkeypatch.delitem(sys.modules, "hid")
    monkeypatch.setattr(ctypes.cdll, "LoadLibrary", no_library)
    with pytest.raises(HidapiMissing, match="apt-get install libhidapi-hidraw0") as excinfo:
        async for _ in CtapHidDevice.list_devices():
            pass
    assert "Unable to load any of the following libraries" in str(excinfo.value)  # the hid package's own words
    with pytest.raises(HidapiMissing, match="libhidapi-hidraw0"):
        async with aioctap.open_device("hid:/dev/hidraw0"):
            pass
    with pytest.raises(ImportError, match="apt-get install libhidapi-hidraw0"):
        await anext(CtapHidDevice.watch_devices())
    assert "hid" not in sys.modules
