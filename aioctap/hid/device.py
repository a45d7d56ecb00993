"""``CtapHidDevice``: one CTAPHID channel on a :class:`~aioctap.hid.router.HidConnection`."""

from __future__ import annotations

import math
import struct
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import TYPE_CHECKING

import anyio

from ..ctap import STATUS, CtapDevice, KeepaliveCallback, TransportError
from .protocol import CAPABILITY, CTAPHID, CtapHidProtocolError, InitResponse
from .router import DEFAULT_TIMEOUT, HidConnection

if TYPE_CHECKING:
    from .backends.hidapi import DeviceChange, HidapiDevice

__all__ = ["CallStream", "CtapHidDevice", "HidDescriptor"]


@dataclass(frozen=True)
class HidDescriptor:
    """What enumeration tells about a HID device before it is opened."""

    path: str
    vid: int = 0
    pid: int = 0
    report_size_in: int = 64
    report_size_out: int = 64
    product_name: str | None = None
    serial_number: str | None = None


class CtapHidDevice(CtapDevice):
    """A CTAPHID device channel (CTAP 2.1 §11.2).

    Several ``CtapHidDevice`` objects may share one connection, each with its own channel; each
    runs one transaction at a time, and different channels run concurrently. Create one with
    :meth:`open` (allocates a channel with CTAPHID_INIT) or through :func:`aioctap.open_device`.
    """

    def __init__(
        self,
        connection: HidConnection,
        init: InitResponse,
        descriptor: HidDescriptor | None = None,
        *,
        on_close: Callable[[], Awaitable[object]] | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self.connection = connection
        self.descriptor = descriptor
        self._init = init
        self._on_close = on_close
        self.timeout = timeout

    @classmethod
    async def open(
        cls, connection: HidConnection, descriptor: HidDescriptor | None = None, *, timeout: float = DEFAULT_TIMEOUT
    ) -> CtapHidDevice:
        """Allocate a new channel on ``connection``."""
        init = await connection.allocate_channel(timeout)
        return cls(connection, init, descriptor, timeout=timeout)

    @property
    def channel_id(self) -> int:
        """The CTAPHID channel this device talks on, allocated by CTAPHID_INIT (CTAPHID §11.2.9.1.3)."""
        return self._init.channel_id

    @property
    def capabilities(self) -> int:
        """The CAPABILITY flags from the INIT response (WINK, CBOR, NMSG; CTAPHID §11.2.9.1.3)."""
        return self._init.capabilities

    @property
    def version(self) -> int:
        """CTAPHID protocol version."""
        return self._init.protocol_version

    @property
    def device_version(self) -> tuple[int, int, int]:
        """The device's ``(major, minor, build)`` version from the INIT response."""
        return self._init.device_version

    def __repr__(self) -> str:
        return f"CtapHidDevice(channel=0x{self.channel_id:08x}, capabilities=0x{self.capabilities:02x})"

    _closed = False

    def close(self) -> None:
        """python-fido2's synchronous ``close()``: this channel takes no more commands (``TransportError``).

        The connection and its reader task are released by :meth:`aclose` or at the end of the ``async with``
        block that opened the device (a synchronous method cannot wait for them).
        """
        self._closed = True

    def call(
        self,
        cmd: int,
        data: bytes = b"",
        *,
        on_keepalive: KeepaliveCallback | None = None,
    ) -> Coroutine[object, object, bytes]:
        """Send one CTAPHID command on this channel and return the response payload (a coroutine: awaited).

        Calls on one channel run one at a time, in order. Retries while another channel holds the
        device (ERR_CHANNEL_BUSY, CTAPHID §11.2.9.1.6) for up to ``timeout`` seconds;
        ``on_keepalive`` receives each KEEPALIVE status (§11.2.9.1.7). The connection's
        :meth:`~aioctap.hid.router.HidConnection.transact` coroutine itself, without a frame of
        its own around it: the hot path of every command. Cancelling the awaiting task sends CTAPHID_CANCEL.

        Raises:
            aioctap.ctap.CtapError: a CTAPHID ERROR packet (its status in ``.code``).
            aioctap.hid.CtapHidTimeout: no answer nor keep-alive within ``timeout`` (the channel is
                resynchronized before its next call).
            aioctap.hid.CtapHidProtocolError: a malformed answer.
            aioctap.ctap.TransportError: the transport is gone, or :meth:`close` was called.
        """
        if self._closed:
            return _closed_call()
        return self.connection.transact(self._init.channel_id, cmd, data, on_keepalive, self.timeout, True)

    def stream_call(self, cmd: int, data: bytes = b"") -> CallStream:
        """Run ``call`` and iterate over its keep-alive statuses; the response is in ``.result`` after."""
        return CallStream(self, cmd, data)

    async def ping(self, msg: bytes = b"Hello FIDO") -> bytes:
        """CTAPHID_PING: the device echoes ``msg``."""
        if self._closed:
            raise TransportError("the device was closed (close())")
        # self.call(), inlined: the hot path of the transport benchmarks
        response = await self.connection.transact(self._init.channel_id, _PING, msg, None, self.timeout, True)
        if response != msg:
            raise CtapHidProtocolError("PING response differs from the request")
        return response

    async def wink(self) -> None:
        """CTAPHID_WINK: ask the device to identify itself (blink)."""
        if not self.capabilities & CAPABILITY.WINK:
            raise CtapHidProtocolError("device does not support WINK")
        await self.call(CTAPHID.WINK)

    async def lock(self, lock_time: int = 10) -> None:
        """CTAPHID_LOCK: lock the device to this channel for ``lock_time`` seconds (0 releases)."""
        if not 0 <= lock_time <= 10:
            raise ValueError("lock_time must be 0..10 seconds")
        await self.call(CTAPHID.LOCK, struct.pack(">B", lock_time))

    async def aclose(self) -> None:
        """Close the device (and the connection it owns, if it opened one); idempotent."""
        if self._on_close is not None:
            callback, self._on_close = self._on_close, None
            await callback()

    @property
    def product_name(self) -> str | None:
        """The product string of the USB device descriptor, as python-fido2's ``CtapHidDevice.product_name``."""
        return self.descriptor.product_name if self.descriptor is not None else None

    @property
    def serial_number(self) -> str | None:
        """The serial number string of the USB device descriptor, as python-fido2's ``CtapHidDevice.serial_number``."""
        return self.descriptor.serial_number if self.descriptor is not None else None

    @classmethod
    async def list_devices(cls) -> AsyncIterator[HidapiDevice]:
        """Async iterator over plugged-in FIDO HID devices, not yet open: use each with ``async with device:``.

        Nothing is opened or started until then, so the iteration can be left at any point.

        Raises:
            aioctap.hid.backends.hidapi.HidapiMissing: the hidapi system library is not installed (the
                message says what to install).
        """
        from .backends.hidapi import HidapiDevice, list_descriptors

        for descriptor in await list_descriptors():
            yield HidapiDevice(descriptor)

    @classmethod
    def watch_devices(cls, interval: float = 0.5) -> AsyncIterator[DeviceChange]:
        """Hot-plug events of FIDO HID devices: ``(event, descriptor)`` with event ``added``/``removed``.

        Devices present at the start come first as ``added``. An async iterator (``async for``); see
        :func:`aioctap.hid.backends.hidapi.watch_devices`.

        Raises:
            aioctap.hid.backends.hidapi.HidapiMissing: the hidapi system library is not installed.
        """
        from .backends.hidapi import watch_devices

        return watch_devices(interval)


_PING = int(CTAPHID.PING)  # (an enum member costs a Python-level lookup per use)


async def _closed_call() -> bytes:
    raise TransportError("the device was closed (close())")


class CallStream:
    """Async iterator over the keep-alive statuses of one call (``async for status in ...``).

    Each status is yielded once per change (as ``on_keepalive`` sees it). Iteration ends when the
    device answers; the answer is then in :attr:`result`, or the call's error is raised. Leaving
    the loop early (``break``, an exception, or closing the iterator) cancels the call on the
    device. The call runs in the connection's task group, so no cancel scope spans a ``yield``.
    """

    def __init__(self, device: CtapHidDevice, cmd: int, data: bytes) -> None:
        self._device = device
        self._cmd = cmd
        self._data = data
        self.result: bytes | None = None

    def __aiter__(self) -> AsyncIterator[STATUS]:
        return self._statuses()

    async def _statuses(self) -> AsyncIterator[STATUS]:
        send, receive = anyio.create_memory_object_stream[STATUS](math.inf)
        error: list[BaseException] = []
        scope = anyio.CancelScope()
        finished = anyio.Event()

        def on_keepalive(status: STATUS) -> None:
            try:
                send.send_nowait(status)
            except (anyio.BrokenResourceError, anyio.ClosedResourceError):
                pass  # the iterator was left: nobody listens any more

        async def run() -> None:
            try:
                with send, scope:
                    try:
                        self.result = await self._device.call(self._cmd, self._data, on_keepalive=on_keepalive)
                    except Exception as e:
                        error.append(e)
            finally:
                finished.set()

        self._device.connection.start_soon(run)
        try:
            with receive:
                async for status in receive:
                    yield status
        finally:
            if not finished.is_set():  # abandoned midway: cancel the call (it sends CTAPHID_CANCEL)
                scope.cancel()
        await finished.wait()
        if error:
            raise error[0]
        if self.result is None:  # the connection's task group ended the call
            raise TransportError("connection closed before the device answered")
