"""CTAP1/U2F over CTAPHID_MSG, and the authenticator's side of CTAPHID: KEEPALIVE and CTAPHID_CANCEL."""

from __future__ import annotations

import hashlib
import struct
from typing import Any

import anyio
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from aioctap import cbor
from aioctap.ctap import CtapError
from aioctap.hid.backends.memory import memory_pair
from aioctap.hid.device_side import CtapHidServer
from aioctap.hid.protocol import BROADCAST_CID, CTAPHID, Reassembler, frame, parse_packet
from aioctap.virtual import DenyAll, VirtualAuthenticator, WaitForTouch

CDH = hashlib.sha256(b"client data").digest()
APP = hashlib.sha256(b"https://example.com").digest()
CHALLENGE = hashlib.sha256(b"challenge").digest()


def apdu(ins: int, p1: int = 0, data: bytes = b"", cla: int = 0) -> bytes:
    return bytes([cla, ins, p1, 0]) + (b"\x00" + struct.pack(">H", len(data)) + data if data else b"") + b"\x00\x00"


async def msg(rig: Any, request: bytes) -> tuple[bytes, int]:
    response = await rig.dev.call(CTAPHID.MSG, request)
    return response[:-2], struct.unpack(">H", response[-2:])[0]


async def register(rig: Any) -> tuple[bytes, ec.EllipticCurvePublicKey]:
    body, sw = await msg(rig, apdu(0x01, 0x03, CHALLENGE + APP))
    assert sw == 0x9000 and body[0] == 0x05
    public = body[1:66]
    handle = body[67 : 67 + body[66]]
    rest = body[67 + len(handle) :]
    assert rest[:2] == b"\x30\x82"  # a DER SEQUENCE with a two-byte length
    cert_len = 4 + int.from_bytes(rest[2:4], "big")
    cert = x509.load_der_x509_certificate(rest[:cert_len])
    signature = rest[cert_len:]
    att_key = cert.public_key()
    assert isinstance(att_key, ec.EllipticCurvePublicKey)
    att_key.verify(signature, b"\x00" + APP + CHALLENGE + handle + public, ec.ECDSA(hashes.SHA256()))
    return handle, ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), public)


async def test_u2f_register_authenticate_every_mode(make_rig: Any) -> None:
    async with make_rig() as rig:
        body, sw = await msg(rig, apdu(0x03))
        assert (body, sw) == (b"U2F_V2", 0x9000)
        handle, public = await register(rig)
        auth_data = CHALLENGE + APP + bytes([len(handle)]) + handle
        assert await msg(rig, apdu(0x02, 0x07, auth_data)) == (b"", 0x6985)  # check-only: it is ours
        counters = []
        for p1, presence in ((0x03, 1), (0x08, 0)):  # enforce, and don't-enforce user presence
            body, sw = await msg(rig, apdu(0x02, p1, auth_data))
            assert sw == 0x9000 and body[0] == presence
            counter = struct.unpack(">I", body[1:5])[0]
            counters.append(counter)
            public.verify(body[5:], APP + body[:5] + CHALLENGE, ec.ECDSA(hashes.SHA256()))
        assert counters[1] > counters[0]
        other_app = CHALLENGE + hashlib.sha256(b"other").digest() + bytes([len(handle)]) + handle
        assert await msg(rig, apdu(0x02, 0x07, other_app)) == (b"", 0x6A80)
        assert await msg(rig, apdu(0x02, 0x03, other_app)) == (b"", 0x6A80)
        assert await msg(rig, apdu(0x02, 0x05, auth_data)) == (b"", 0x6A80)  # unknown control byte
        assert await msg(rig, apdu(0x01, 0, b"short")) == (b"", 0x6700)
        assert await msg(rig, b"\x00\x01") == (b"", 0x6700)
        assert await msg(rig, apdu(0x03, cla=0x80)) == (b"", 0x6E00)
        assert await msg(rig, apdu(0x44)) == (b"", 0x6D00)
        rig.auth.policy = DenyAll()
        assert await msg(rig, apdu(0x02, 0x03, auth_data)) == (b"", 0x6985)
        assert await msg(rig, apdu(0x01, 0x03, CHALLENGE + APP)) == (b"", 0x6985)


async def test_u2f_and_ctap2_credentials(make_rig: Any) -> None:
    async with make_rig() as rig:
        # a CTAP2 ES256 credential is usable over U2F (its RP ID hash is the application parameter)
        att = await rig.make(b"u", rp_id="example.com")
        handle = att.auth_data.credential_data.credential_id
        app = hashlib.sha256(b"example.com").digest()
        body, sw = await msg(rig, apdu(0x02, 0x03, CHALLENGE + app + bytes([len(handle)]) + handle))
        assert sw == 0x9000
        att.auth_data.credential_data.public_key.verify(app + body[:5] + CHALLENGE, body[5:])
        # an EdDSA one, or one with credProtect=3 (U2F cannot verify the user), is not
        for kwargs in ({"key_params": [{"type": "public-key", "alg": -8}]}, {"extensions": {"credProtect": 3}}):
            att = await rig.make(b"v", **kwargs)
            handle = att.auth_data.credential_data.credential_id
            assert await msg(rig, apdu(0x02, 0x07, CHALLENGE + app + bytes([len(handle)]) + handle)) == (b"", 0x6A80)
        # alwaysUv switches U2F off
        from aioctap.ctap2 import Config

        await Config(rig.ctap).toggle_always_uv()
        assert await msg(rig, apdu(0x01, 0x03, CHALLENGE + APP)) == (b"", 0x6D00)


class RawHost:
    """CTAPHID by hand over the in-memory transport, to see every KEEPALIVE and status byte."""

    def __init__(self, transport: Any) -> None:
        self.transport = transport
        self.cid = BROADCAST_CID
        self.packets: list[bytes] = []

    async def send(self, cmd: int, data: bytes) -> None:
        for p in frame(self.cid, cmd, data):
            await self.transport.send_packet(p)

    async def receive(self) -> tuple[int, bytes]:
        reassembler = Reassembler()
        while True:
            if not self.packets:
                self.packets.extend(await self.transport.receive_packets())
            packet = parse_packet(self.packets.pop(0))
            message = reassembler.feed(packet)
            if message is not None:
                return message.cmd, message.data

    async def init(self) -> None:
        await self.send(CTAPHID.INIT, b"12345678")
        cmd, data = await self.receive()
        assert cmd == CTAPHID.INIT and data[:8] == b"12345678"
        self.cid = struct.unpack(">I", data[8:12])[0]


async def test_keepalive_upneeded_and_cancel() -> None:
    policy = WaitForTouch()
    auth = VirtualAuthenticator(policy=policy)
    server = CtapHidServer(auth)
    host_side, device_side = memory_pair()
    async with anyio.create_task_group() as tg:
        tg.start_soon(server.serve, device_side)
        host = RawHost(host_side)
        await host.init()
        request = {1: CDH, 2: {"id": "example.com"}, 3: {"id": b"u"}, 4: [{"type": "public-key", "alg": -7}]}
        await host.send(CTAPHID.CBOR, b"\x01" + cbor.dumps(request))
        cmd, data = await host.receive()
        assert (cmd, data) == (CTAPHID.KEEPALIVE, b"\x02")  # STATUS_UPNEEDED
        await host.send(CTAPHID.CANCEL, b"")
        while cmd == CTAPHID.KEEPALIVE:
            cmd, data = await host.receive()
        assert cmd == CTAPHID.CBOR and data == bytes([CtapError.ERR.KEEPALIVE_CANCEL])
        assert not policy.waiting and auth.state.credentials == [] and auth.state.sign_count == 0
        # the channel works again, and a touch completes the request
        await host.send(CTAPHID.CBOR, b"\x01" + cbor.dumps(request))
        while not policy.waiting:
            await anyio.sleep(0.005)
        policy.touch()
        cmd, data = await host.receive()
        while cmd == CTAPHID.KEEPALIVE:
            cmd, data = await host.receive()
        assert cmd == CTAPHID.CBOR and data[0] == 0 and cbor.loads(data[1:])[1] == "packed"
        tg.cancel_scope.cancel()


@pytest.mark.parametrize("payload", [b"", b"\x00"])
async def test_u2f_malformed_never_crash(payload: bytes) -> None:
    auth = VirtualAuthenticator()
    response = await auth.handle(CTAPHID.MSG, payload, lambda s: None)
    assert response == b"\x67\x00"


async def test_several_udp_hosts_at_once() -> None:
    import aioctap
    from aioctap.ctap2 import Ctap2

    auth = VirtualAuthenticator()
    server = CtapHidServer(auth)
    async with anyio.create_task_group() as tg:
        host, port = await tg.start(server.serve_udp, "127.0.0.1", 0)

        async def client(i: int) -> None:
            async with aioctap.open_device(f"udp:{host}:{port}") as dev:  # each host its own socket and channel
                ctap = await Ctap2.create(dev)
                for j in range(4):
                    await ctap.make_credential(
                        CDH, {"id": "example.com"}, {"id": bytes([i, j])}, [{"type": "public-key", "alg": -8}],
                        options={"rk": True},
                    )  # fmt: skip

        async with anyio.create_task_group() as clients:
            for i in range(4):
                clients.start_soon(client, i)
        tg.cancel_scope.cancel()
    assert sorted(c.user["id"] for c in auth.state.credentials) == [bytes([i, j]) for i in range(4) for j in range(4)]


async def test_power_cycle_forgets_channels_and_volatile_state() -> None:
    import aioctap
    from aioctap.ctap2 import Ctap2

    async with aioctap.open_device("virtual") as dev:
        ctap = await Ctap2.create(dev)
        for i in range(2):
            await ctap.make_credential(
                CDH,
                {"id": "example.com"},
                {"id": bytes([i])},
                [{"type": "public-key", "alg": -7}],
                options={"rk": True},
            )
        await ctap.get_assertion("example.com", CDH)
        dev.power_cycle()  # type: ignore[attr-defined]
        with pytest.raises(CtapError) as e:  # the channel is gone
            await ctap.get_info()
        assert e.value.code == CtapError.ERR.INVALID_CHANNEL
        auth = dev.authenticator  # type: ignore[attr-defined]
        assert auth.credentials.pending is None and auth.pin.token is None
        assert len(auth.state.credentials) == 2  # the persistent state stays
