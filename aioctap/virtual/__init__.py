"""A software CTAP 2.1 authenticator, served in memory or over UDP.

``aioctap.open_device("virtual")`` / ``"virtual:STATE_FILE"`` use :func:`open_virtual_device`;
``aioctap virtual --udp HOST:PORT`` serves one over UDP.

The simulated user is pluggable: ``policy=`` :class:`ApproveAll` (default), :class:`DenyAll` or
:class:`WaitForTouch` (UPNEEDED keepalives until ``touch()``/``refuse()``, CTAPHID_CANCEL or a timeout);
``sensor=`` :class:`FingerprintSensor` scripts enrollment feedback (``FEEDBACK.FP_TOO_HIGH``, ``"timeout"``,
a slow touch ``Sample(FEEDBACK.FP_GOOD, after=2.0)`` against bioEnrollment's timeoutMilliseconds) and UV
matches; ``account_chooser=`` simulates a display for picking among discoverable credentials.
A state file is encrypted with ``AIOCTAP_VIRTUAL_KEY`` (64 hex digits) or a key file ``STATE_FILE.key``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Unpack

from .._concurrency import task_group
from ..hid.backends.memory import memory_pair
from ..hid.device import CtapHidDevice, HidDescriptor
from ..hid.device_side import CtapHidServer
from ..hid.router import HidConnection
from .common import FEEDBACK, ApproveAll, DenyAll, FingerprintSensor, Sample, StateError, UserPolicy, WaitForTouch
from .engine import VirtualAuthenticator, VirtualAuthenticatorOptions
from .state import AuthenticatorState

__all__ = [
    "FEEDBACK",
    "ApproveAll",
    "AuthenticatorState",
    "DenyAll",
    "FingerprintSensor",
    "Sample",
    "StateError",
    "UserPolicy",
    "VirtualAuthenticator",
    "VirtualAuthenticatorOptions",
    "VirtualHidDevice",
    "WaitForTouch",
    "open_virtual_device",
]


class VirtualHidDevice(CtapHidDevice):
    """A ``CtapHidDevice`` connected in memory to a :class:`VirtualAuthenticator`."""

    authenticator: VirtualAuthenticator
    server: CtapHidServer

    def power_cycle(self) -> None:
        """Simulate unplugging and plugging in the authenticator (channels are forgotten)."""
        self.server.power_cycle()


@asynccontextmanager
async def open_virtual_device(
    state_file: str | None = None,
    *,
    authenticator: VirtualAuthenticator | None = None,
    **kwargs: Unpack[VirtualAuthenticatorOptions],
) -> AsyncIterator[VirtualHidDevice]:
    """Serve a software authenticator over the in-memory CTAPHID transport and open a channel to it.

    The device has ``.authenticator`` and ``.server`` (for ``power_cycle``). ``kwargs`` go to
    :class:`VirtualAuthenticator` when no ``authenticator`` is given.
    """
    auth = authenticator or VirtualAuthenticator(state_file, **kwargs)
    server = CtapHidServer(auth)
    host, device_side = memory_pair()
    async with task_group() as tg:
        tg.start_soon(server.serve, device_side)
        async with HidConnection.open(host) as connection:
            init = await connection.allocate_channel()
            device = VirtualHidDevice(connection, init, HidDescriptor(path=f"virtual:{state_file or ''}"))
            device.authenticator = auth
            device.server = server
            yield device
        tg.cancel_scope.cancel()
