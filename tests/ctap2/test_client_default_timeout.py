"""Options without a ``timeout``: the clients bound the ceremony by WebAuthn's default (DEFAULT_TIMEOUT_MS,
5 minutes) instead of waiting forever on an authenticator that never answers (keep-alives without end)."""

from __future__ import annotations

import os
import time
from typing import Any

import anyio
import pytest

import aioctap.client._core as client_core
from aioctap.client import ClientError, DefaultClientDataCollector, Fido2Client, UserInteraction, WebAuthnClient
from aioctap.ctap import CtapDevice, KeepaliveCallback
from aioctap.hid.protocol import CTAPHID
from aioctap.virtual import open_virtual_device
from aioctap.webauthn import websafe_encode

ORIGIN = "https://login.example.com"
_STUCK = (0x01, 0x02)  # authenticatorMakeCredential, authenticatorGetAssertion


class StuckDevice(CtapDevice):
    """Answers as ``inner`` does, except makeCredential and getAssertion: those never end (as when the device
    sends KEEPALIVE for ever, each one extending the call's deadline)."""

    def __init__(self, inner: CtapDevice) -> None:
        self.inner = inner

    @property
    def capabilities(self) -> int:
        return self.inner.capabilities

    async def call(self, cmd: int, data: bytes = b"", *, on_keepalive: KeepaliveCallback | None = None) -> bytes:
        if cmd == CTAPHID.CBOR and data[:1] and data[0] in _STUCK:
            await anyio.sleep_forever()
        return await self.inner.call(cmd, data, on_keepalive=on_keepalive)


def create_opts() -> dict[str, Any]:
    return {
        "rp": {"id": "example.com", "name": "Example"},
        "user": {"id": websafe_encode(b"user"), "name": "bob", "displayName": "Bob"},
        "challenge": websafe_encode(os.urandom(32)),
        "pubKeyCredParams": [{"type": "public-key", "alg": -7}],
    }


def get_opts() -> dict[str, Any]:
    return {"rpId": "example.com", "challenge": websafe_encode(os.urandom(32))}


def test_the_default_is_webauthns() -> None:
    assert client_core.DEFAULT_TIMEOUT_MS == 300_000
    assert client_core.ceremony_timeout_ms(None) == 300_000
    assert client_core.ceremony_timeout_ms(0) == 300_000
    assert client_core.ceremony_timeout_ms(1234) == 1234


async def test_webauthn_client_without_a_timeout_stops_at_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(client_core, "DEFAULT_TIMEOUT_MS", 300)
    async with open_virtual_device() as dev:
        for devices in ([StuckDevice(dev)], [StuckDevice(dev), StuckDevice(dev)]):
            client = WebAuthnClient(devices, ORIGIN)
            for ceremony in (lambda c=client: c.create(create_opts()), lambda c=client: c.get(get_opts())):
                start = time.monotonic()
                with anyio.fail_after(10), pytest.raises(ClientError, match="timed out after 300 ms") as e:
                    await ceremony()
                assert e.value.code == ClientError.ERR.TIMEOUT
                assert time.monotonic() - start < 3


async def test_fido2_client_without_a_timeout_stops_at_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(client_core, "DEFAULT_TIMEOUT_MS", 300)
    async with open_virtual_device() as dev:
        client = await Fido2Client(StuckDevice(dev), DefaultClientDataCollector(ORIGIN), UserInteraction())
        for ceremony in (lambda: client.make_credential(create_opts()), lambda: client.get_assertion(get_opts())):
            start = time.monotonic()
            with anyio.fail_after(10), pytest.raises(ClientError, match="no answer within 300 ms") as e:
                await ceremony()
            assert e.value.code == ClientError.ERR.TIMEOUT
            assert time.monotonic() - start < 3
