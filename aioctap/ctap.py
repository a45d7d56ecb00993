"""The device abstraction shared by every transport: `CtapDevice`, `CtapError`, `STATUS`.

The async counterpart of python-fido2's ``fido2.ctap`` (seed 000): ``call`` is a coroutine and
cancelling the task that awaits it cancels the command on the device (CTAPHID_CANCEL).
"""

from __future__ import annotations

import abc
from collections.abc import AsyncIterator, Callable
from enum import IntEnum
from types import TracebackType
from typing import Self

__all__ = ["STATUS", "CtapDevice", "CtapError", "KeepaliveCallback", "TransportError"]


class STATUS(IntEnum):
    """Status code of a CTAPHID KEEPALIVE message."""

    PROCESSING = 1
    UPNEEDED = 2


KeepaliveCallback = Callable[[STATUS], object]


class CtapError(Exception):
    """Error status returned by an authenticator (CTAP 2.1 §8.2 "Status codes")."""

    class UNKNOWN_ERR(int):
        """A status code this library does not know; the value is kept."""

        name = "UNKNOWN_ERR"

        @property
        def value(self) -> int:
            """The status code, as an ``ERR`` member's ``value`` would be."""
            return int(self)

        def __repr__(self) -> str:
            return f"<ERR.UNKNOWN: {int(self)}>"

        def __str__(self) -> str:
            return f"0x{int(self):02X} - UNKNOWN"

    class ERR(IntEnum):
        """CTAP status codes."""

        SUCCESS = 0x00
        INVALID_COMMAND = 0x01
        INVALID_PARAMETER = 0x02
        INVALID_LENGTH = 0x03
        INVALID_SEQ = 0x04
        TIMEOUT = 0x05
        CHANNEL_BUSY = 0x06
        LOCK_REQUIRED = 0x0A
        INVALID_CHANNEL = 0x0B
        CBOR_UNEXPECTED_TYPE = 0x11
        INVALID_CBOR = 0x12
        MISSING_PARAMETER = 0x14
        LIMIT_EXCEEDED = 0x15
        FP_DATABASE_FULL = 0x17
        LARGE_BLOB_STORAGE_FULL = 0x18
        CREDENTIAL_EXCLUDED = 0x19
        PROCESSING = 0x21
        INVALID_CREDENTIAL = 0x22
        USER_ACTION_PENDING = 0x23
        OPERATION_PENDING = 0x24
        NO_OPERATIONS = 0x25
        UNSUPPORTED_ALGORITHM = 0x26
        OPERATION_DENIED = 0x27
        KEY_STORE_FULL = 0x28
        UNSUPPORTED_OPTION = 0x2B
        INVALID_OPTION = 0x2C
        KEEPALIVE_CANCEL = 0x2D
        NO_CREDENTIALS = 0x2E
        USER_ACTION_TIMEOUT = 0x2F
        NOT_ALLOWED = 0x30
        PIN_INVALID = 0x31
        PIN_BLOCKED = 0x32
        PIN_AUTH_INVALID = 0x33
        PIN_AUTH_BLOCKED = 0x34
        PIN_NOT_SET = 0x35
        PUAT_REQUIRED = 0x36
        PIN_POLICY_VIOLATION = 0x37
        PIN_TOKEN_EXPIRED = 0x38
        REQUEST_TOO_LARGE = 0x39
        ACTION_TIMEOUT = 0x3A
        UP_REQUIRED = 0x3B
        UV_BLOCKED = 0x3C
        INTEGRITY_FAILURE = 0x3D
        INVALID_SUBCOMMAND = 0x3E
        UV_INVALID = 0x3F
        UNAUTHORIZED_PERMISSION = 0x40
        OTHER = 0x7F
        SPEC_LAST = 0xDF
        EXTENSION_FIRST = 0xE0
        EXTENSION_LAST = 0xEF
        VENDOR_FIRST = 0xF0
        VENDOR_LAST = 0xFF

        def __str__(self) -> str:
            return f"0x{self.value:02X} - {self.name}"

    code: ERR | UNKNOWN_ERR

    def __init__(self, code: int) -> None:
        try:
            self.code = CtapError.ERR(code)
        except ValueError:
            self.code = CtapError.UNKNOWN_ERR(code)
        super().__init__(f"CTAP error: {self.code}")


class TransportError(Exception):
    """The transport to a device failed or is closed (device unplugged, socket closed).

    Every pending call on the transport fails with this error at once, and later calls
    fail fast with it.
    """


class CtapDevice(abc.ABC):
    """A CTAP-capable device (async version of python-fido2's ``CtapDevice``).

    Use it as an async context manager, or call :meth:`aclose` when done.
    """

    @property
    @abc.abstractmethod
    def capabilities(self) -> int:
        """The CTAPHID capability flags (``CAPABILITY.WINK``/``CBOR``/``NMSG``)."""

    @abc.abstractmethod
    async def call(
        self,
        cmd: int,
        data: bytes = b"",
        *,
        on_keepalive: KeepaliveCallback | None = None,
    ) -> bytes:
        """Send one command and return the response payload. Awaited.

        ``on_keepalive`` is called once per change of keep-alive status. Cancelling the
        task that awaits this call cancels the command on the device.

        Raises:
            aioctap.ctap.CtapError: the device answered with a CTAPHID ERROR (its status in ``.code``).
            aioctap.ctap.TransportError: the device is gone or was closed.
            TimeoutError: no answer (nor keep-alive) in time (``aioctap.hid.CtapHidTimeout`` for CTAPHID).
        """

    async def aclose(self) -> None:  # noqa: B027 - optional hook
        """Release the resources held by this device."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """python-fido2's synchronous ``close()``: a device with nothing to release does nothing.

        Releasing a transport takes an ``await`` here: :meth:`aclose` (or the end of ``async with``) does it.
        """

    @classmethod
    def list_devices(cls) -> AsyncIterator[CtapDevice]:
        """Async iterator over the discoverable devices of this kind (``async for``).

        Raises:
            TypeError: this kind of device has no discovery.
        """
        raise TypeError(f"{cls.__name__} has no device discovery")

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
