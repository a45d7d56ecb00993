"""A test rig for the software authenticator: the real in-memory CTAPHID path, a fake clock, raw CBOR calls.

Test modules get it through the ``rig`` and ``make_rig`` fixtures (with --import-mode=importlib they cannot
import this module), and repeat the few constants they need.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest

from aioctap import cbor
from aioctap.ctap import CtapError
from aioctap.ctap2 import ClientPin, Ctap2, PinProtocolV1, PinProtocolV2
from aioctap.ctap2.pin import PinProtocol
from aioctap.hid.device import CtapHidDevice
from aioctap.hid.protocol import CTAPHID
from aioctap.virtual import VirtualAuthenticator, VirtualHidDevice, open_virtual_device

PIN = "4321abcd"
CDH = hashlib.sha256(b"client data").digest()
RP = {"id": "example.com", "name": "Example"}
ES256 = [{"type": "public-key", "alg": -7}]


@dataclass
class FakeClock:
    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Rig:
    """One authenticator behind the in-memory CTAPHID transport, with helpers for the tests."""

    auth: VirtualAuthenticator
    dev: VirtualHidDevice
    ctap: Ctap2
    clock: FakeClock
    keepalives: list[int] = field(default_factory=list)

    async def raw(self, code: int, params: Any = None, *, encoded: bytes | None = None) -> tuple[int, Any]:
        """Send command ``code`` with ``params`` (CBOR-encoded here) or ``encoded`` bytes: (status, decoded)."""
        body = encoded if encoded is not None else (cbor.dumps(params) if params is not None else b"")
        response = await self.dev.call(CTAPHID.CBOR, bytes([code]) + body, on_keepalive=self.keepalives.append)
        return response[0], (cbor.loads(response[1:]) if len(response) > 1 else None)

    async def status(self, code: int, params: Any = None) -> CtapError.ERR | int:
        """Just the status of a command (as ``CtapError.ERR`` when known)."""
        status, _ = await self.raw(code, params)
        try:
            return CtapError.ERR(status)
        except ValueError:
            return status

    def client_pin(self, version: int = 2) -> ClientPin:
        proto: PinProtocol = PinProtocolV2() if version == 2 else PinProtocolV1()
        return ClientPin(self.ctap, proto)

    async def set_pin(self, pin: str = PIN, version: int = 2) -> ClientPin:
        cp = self.client_pin(version)
        await cp.set_pin(pin)
        await self.ctap.get_info()
        return cp

    async def token(
        self, permissions: int, rp_id: str | None = None, version: int = 2, pin: str = PIN
    ) -> tuple[PinProtocol, bytes]:
        cp = self.client_pin(version)
        token = await cp.get_pin_token(pin, ClientPin.PERMISSION(permissions), rp_id)
        return cp.protocol, token

    async def power_cycle(self) -> None:
        """Unplug and plug in: channels are forgotten, so open a new one."""
        self.dev.power_cycle()
        self.dev = _as_virtual(await CtapHidDevice.open(self.dev.connection), self.auth, self.dev)
        self.ctap = await Ctap2.create(self.dev)

    async def make(self, user_id: bytes = b"user", rp_id: str = "example.com", **kwargs: Any) -> Any:
        return await self.ctap.make_credential(
            CDH, {"id": rp_id, "name": rp_id}, {"id": user_id, "name": f"n-{user_id.hex()}", "displayName": "D"},
            kwargs.pop("key_params", ES256), **kwargs,
        )  # fmt: skip


def _as_virtual(dev: CtapHidDevice, auth: VirtualAuthenticator, old: VirtualHidDevice) -> VirtualHidDevice:
    dev.__class__ = VirtualHidDevice
    assert isinstance(dev, VirtualHidDevice)
    dev.authenticator = auth
    dev.server = old.server
    return dev


RigFactory = Callable[..., AbstractAsyncContextManager[Rig]]


@pytest.fixture
def make_rig() -> RigFactory:
    """``async with make_rig(**VirtualAuthenticator kwargs) as rig``; the clock is a FakeClock."""

    @asynccontextmanager
    async def factory(state_file: str | None = None, **kwargs: Any) -> AsyncIterator[Rig]:
        clock = FakeClock()
        auth = VirtualAuthenticator(state_file, clock=clock, **kwargs)
        async with open_virtual_device(authenticator=auth) as dev:
            yield Rig(auth, dev, await Ctap2.create(dev), clock)

    return factory
