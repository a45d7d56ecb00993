"""Interoperability with python-fido2's CTAPHID host, both ways, over real UDP sockets."""

from __future__ import annotations

import socket
import struct
import threading
from typing import Any

import anyio
import anyio.to_thread
import pytest

import aioctap
from aioctap.hid.protocol import CTAPHID
from aioctap.interop import fido2_udp_device

SIZES = [0, 1, 57, 58, 1024, 7609]


async def test_python_fido2_host_against_aioctap_device(udp_server: Any, echo_app: Any) -> None:
    async with udp_server(echo_app) as (host, port):

        def drive() -> list[bytes]:
            dev = fido2_udp_device(host, port)
            out = [dev.ping(bytes(i % 256 for i in range(n))) for n in SIZES]
            out.append(dev.call(CTAPHID.CBOR, b"\x04"))
            dev.wink()
            dev.close()
            return out

        results = await anyio.to_thread.run_sync(drive)
    assert results[:-1] == [bytes(i % 256 for i in range(n)) for n in SIZES]
    assert results[-1] == b"\x00\x04"
    assert echo_app.winks == 1


class Fido2StyleDevice(threading.Thread):
    """A device built from python-fido2's own framing (its CtapHidDevice's packet layout), echoing PINGs."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.stop = threading.Event()

    def run(self) -> None:
        buf: dict[int, tuple[int, int, bytearray]] = {}
        while not self.stop.is_set():
            try:
                pkt, addr = self.sock.recvfrom(64)
            except TimeoutError:
                continue
            cid = struct.unpack_from(">I", pkt)[0]
            if pkt[4] & 0x80:
                cmd, n = pkt[4] & 0x7F, struct.unpack_from(">H", pkt, 5)[0]
                buf[cid] = (cmd, n, bytearray(pkt[7:]))
            else:
                buf[cid][2].extend(pkt[5:])
            cmd, n, data = buf[cid]
            if len(data) < n:
                continue
            payload = bytes(data[:n])
            if cmd == CTAPHID.INIT:
                payload = payload + struct.pack(">IB3BB", 0x1234, 2, 5, 0, 0, 5)
            # python-fido2's own framing (fido2.hid.CtapHidDevice.call) for the answer
            header = struct.pack(">IBH", cid, 0x80 | cmd, len(payload))
            self.sock.sendto((header + payload[:57]).ljust(64, b"\0"), addr)
            seq, rest = 0, payload[57:]
            while rest:
                self.sock.sendto((struct.pack(">IB", cid, seq) + rest[:59]).ljust(64, b"\0"), addr)
                seq, rest = seq + 1, rest[59:]


@pytest.mark.parametrize("size", SIZES)
async def test_aioctap_host_against_python_fido2_framing(size: int) -> None:
    device = Fido2StyleDevice()
    device.start()
    try:
        port = device.sock.getsockname()[1]
        async with aioctap.open_device(f"udp:127.0.0.1:{port}") as dev:
            assert dev.channel_id == 0x1234
            data = bytes(i % 256 for i in range(size))
            assert await dev.ping(data) == data
    finally:
        device.stop.set()
        device.join()
