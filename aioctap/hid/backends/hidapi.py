"""USB HID transport through the ``hid`` package (hidapi's ctypes bindings), plus enumeration and hot-plug.

``hid`` is imported lazily: without the system library the error names the package to install.
Each open handle has two threads, so that no blocking hidapi call runs on the event loop: a reader
thread that does the blocking reads (``hid_read_timeout``), groups the reports into CTAPHID messages
(CTAP 2.1 §11.2.4) and wakes the event loop once per message, and a writer thread (a full-speed key
takes up to a millisecond per report written: ``hid_write`` waits for the interrupt transfer).
Enumerated devices are :class:`HidapiDevice` objects that open nothing until ``async with device:``.
"""

from __future__ import annotations

import asyncio
import ctypes
import importlib
import queue
import threading
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AsyncExitStack
from enum import StrEnum
from types import ModuleType
from typing import Literal, NamedTuple, Protocol, Self

import anyio
import anyio.to_thread

from ..base import FIDO_USAGE, FIDO_USAGE_PAGE
from ..device import CtapHidDevice, HidDescriptor
from ..protocol import CTAPHID, InitResponse
from ..router import DEFAULT_TIMEOUT, HidConnection
from ..transport import MessageTransport, TransportClosed, Wakeup

__all__ = [
    "DeviceChange",
    "HidapiDevice",
    "HidapiMissing",
    "HidapiTransport",
    "HotplugEvent",
    "list_descriptors",
    "watch_devices",
]

#: how long one read blocks (ms) before the reader thread looks whether its handle is being closed
READ_TIMEOUT_MS = 100

_KEEPALIVE_INIT = 0x80 | CTAPHID.KEEPALIVE
_ERROR_INIT = 0x80 | CTAPHID.ERROR


class HidapiMissing(ImportError):
    """The hidapi system library (or the ``hid`` package) is not installed."""


class HidHandle(Protocol):
    """The part of ``hid.Device`` (the ``hid`` package's open handle) this backend uses."""

    def read(self, size: int, timeout: int | None = None) -> bytes:
        """``hid_read_timeout``: one input report, ``b""`` after ``timeout`` ms without one."""
        ...

    def write(self, data: bytes) -> int:
        """``hid_write``: one output report, report id first."""
        ...

    def close(self) -> None:
        """``hid_close``."""
        ...


def _hid() -> ModuleType:
    try:
        return importlib.import_module("hid")
    except ImportError as e:  # the hid package raises ImportError when no hidapi library loads
        raise HidapiMissing(
            "the hid backend needs the system hidapi library: install it with "
            "'apt-get install libhidapi-hidraw0' (Debian/Ubuntu), 'brew install hidapi' (macOS) "
            f"or your system's hidapi package ({e})"
        ) from None


def _hid_errors(hid: ModuleType) -> tuple[type[Exception], ...]:
    """What a failing hidapi call raises: ``hid.HIDException`` (a -1 return), ``OSError``, ``ValueError``."""
    return (hid.HIDException, OSError, ValueError)


def _descriptor(info: dict[str, object]) -> HidDescriptor:
    path = info.get("path") or b""
    vid, pid = info.get("vendor_id", 0), info.get("product_id", 0)
    product, serial = info.get("product_string"), info.get("serial_number")
    return HidDescriptor(
        path=path.decode() if isinstance(path, bytes) else str(path),
        vid=vid if isinstance(vid, int) else 0,
        pid=pid if isinstance(pid, int) else 0,
        product_name=product if isinstance(product, str) and product else None,
        serial_number=serial if isinstance(serial, str) and serial else None,
    )


def _is_fido(info: dict[str, object]) -> bool:
    """The FIDO usage page and usage (CTAP 2.1 §11.2.8.1)."""
    return info.get("usage_page") == FIDO_USAGE_PAGE and info.get("usage") == FIDO_USAGE


def _enumerate() -> list[HidDescriptor]:
    return [_descriptor(info) for info in _hid().enumerate() if _is_fido(info)]


async def list_descriptors() -> list[HidDescriptor]:
    """FIDO HID devices currently plugged in (usage page 0xF1D0, usage 1; CTAP 2.1 §11.2.8.1)."""
    return await anyio.to_thread.run_sync(_enumerate)


def _open_handle(path: str) -> tuple[HidHandle, HidDescriptor]:
    """Open ``path`` (blocking); its descriptor from the enumeration, or from the handle's strings."""
    hid = _hid()
    infos = [info for info in hid.enumerate() if info.get("path") == path.encode()]
    if infos and not any(_is_fido(info) for info in infos):
        raise ValueError(f"{path} is not a FIDO HID device (usage page 0x{FIDO_USAGE_PAGE:04X}, usage 1)")
    try:
        handle: HidHandle = hid.Device(path=path.encode())
    except hid.HIDException as e:
        raise OSError(f"cannot open HID device {path}: {e}") from None
    if infos:
        return handle, _descriptor(next(info for info in infos if _is_fido(info)))
    try:
        product, serial = handle.product, handle.serial  # type: ignore[attr-defined]
    except _hid_errors(hid):
        product = serial = None
    return handle, HidDescriptor(path, product_name=product or None, serial_number=serial or None)


def _loop_caller() -> Callable[..., object]:
    """A thread-safe "run this soon in the event loop" of the running loop: asyncio or trio."""
    try:
        return asyncio.get_running_loop().call_soon_threadsafe
    except RuntimeError:  # anyio on trio
        trio = importlib.import_module("trio")
        run_sync_soon: Callable[..., object] = trio.lowlevel.current_trio_token().run_sync_soon
        return run_sync_soon


def _direct_calls(handle: HidHandle) -> tuple[Callable[[int, int], bytes], Callable[[bytes], int]] | None:
    """``read(size, timeout_ms)`` and ``write(data)`` straight through the ``hid`` package's own ctypes
    bindings (``hid.hidapi``, with the prototypes the package declares) on the handle's ``hid_device*``,
    without ``hid.Device``'s Python wrapper around each call (a new buffer per read, two frames): per
    report, the reader and writer threads spend about 10 % less CPU (bench_transport.py --hid,
    1024-byte PING at one report per ms: reader 525 instead of 560-720 us, writer 480-510 instead of
    530-640 us per round trip). ``None`` when the package keeps its handle differently (then
    ``hid.Device.read``/``write`` serve); errors are raised as ``hid.Device`` raises them.
    """
    hid = _hid()
    lib = getattr(hid, "hidapi", None)
    dev = getattr(handle, "_Device__dev", None)
    if not isinstance(dev, int) or lib is None or not isinstance(handle, hid.Device):
        return None
    hid_read_timeout, hid_write, hid_error = lib.hid_read_timeout, lib.hid_write, lib.hid_error
    hid_exception: type[Exception] = hid.HIDException
    buffer = ctypes.create_string_buffer(1024)

    def read(size: int, timeout_ms: int) -> bytes:
        n: int = hid_read_timeout(dev, buffer, size, timeout_ms)
        if n < 0:
            raise hid_exception(hid_error(dev))
        return buffer.raw[:n]

    def write(data: bytes) -> int:
        n: int = hid_write(dev, data, len(data))
        if n < 0:
            raise hid_exception(hid_error(dev))
        return n

    return read, write


class HidapiTransport:
    """A hidapi handle as a :class:`~aioctap.hid.transport.MessageTransport`.

    Create it in the event loop's thread (:meth:`open`): its threads wake that loop, once per message,
    with a callback that hands the message's reports to the receiver (``set_receiver``: the router's
    batch routing, which joins a whole message in one step) or to ``receive_packets``. A read or write
    error (the device was unplugged) ends the transport: ``receive_packets`` raises
    :class:`~aioctap.hid.transport.TransportClosed` and the router fails every pending call with it.
    Writes go through the writer thread: ``hid_write`` to a full-speed key waits for the interrupt
    transfer, up to a millisecond per report, which the event loop must not spend blocked.
    """

    reassembles_messages: Literal[True] = True
    #: read and write through the hid package's ctypes bindings directly (see ``_direct_calls``)
    direct_calls: bool = True

    def __init__(self, handle: HidHandle, descriptor: HidDescriptor, packet_size: int = 64) -> None:
        self.packet_size = packet_size
        self.descriptor = descriptor
        self._handle: HidHandle | None = handle  # None once closed
        self._errors = _hid_errors(_hid())
        direct = _direct_calls(handle) if self.direct_calls else None
        self._read, self._write = direct or (handle.read, handle.write)
        self._call_soon = _loop_caller()
        self._ready: list[bytes] = []  # reports handed over by the reader thread, not yet received
        self._receiver: Callable[[Sequence[bytes]], None] | None = None
        self._wakeup = Wakeup()
        self._error: TransportClosed | None = None
        self._closing = False  # read by the threads: stop at the next chance
        self._outbox: queue.SimpleQueue[Sequence[bytes] | None] = queue.SimpleQueue()
        self._reader = threading.Thread(target=self._read_loop, name=f"hid reader {descriptor.path}", daemon=True)
        self._writer = threading.Thread(target=self._write_loop, name=f"hid writer {descriptor.path}", daemon=True)
        self._reader.start()
        self._writer.start()

    @classmethod
    async def open(cls, path: str, packet_size: int = 64) -> HidapiTransport:
        """Open the HID device at ``path`` (in a worker thread); ``OSError`` if it cannot be opened."""
        handle, descriptor = await anyio.to_thread.run_sync(_open_handle, path)
        return cls(handle, descriptor, packet_size)

    # -- the threads --------------------------------------------------------------------------

    def _read_loop(self) -> None:
        """Read reports and hand them over one whole message at a time (CTAP 2.1 §11.2.4)."""
        read = self._read
        size = self.packet_size
        init_room, cont_room = size - 7, size - 5
        held: bytes | None = None  # read while completing another message: the start of the next batch
        try:
            while not self._closing:
                report = held if held is not None else read(size, READ_TIMEOUT_MS)
                held = None
                if not report:
                    continue
                batch = [report]
                kind = report[4] if len(report) >= 7 else 0
                if kind & 0x80 and kind != _KEEPALIVE_INIT and kind != _ERROR_INIT:
                    # an initialization report: BCNT says how much follows in continuation reports
                    remaining = ((report[5] << 8) | report[6]) - init_room
                    cid = report[:4]
                    while remaining > 0:
                        more = read(size, READ_TIMEOUT_MS)
                        if not more:
                            break  # a gap: hand over what there is
                        if len(more) < 5 or more[:4] != cid or more[4] & 0x80:
                            held = more  # not this message's: it stops here
                            break
                        batch.append(more)
                        remaining -= cont_room
                self._call_soon(self._deliver, batch)
        except self._errors as e:
            self._fail_soon(f"HID read failed (device unplugged?): {e}")
        except RuntimeError:  # the event loop is closed: nobody to deliver to
            self._closing = True
        except Exception as e:  # anything else still ends every pending call, not a silent hang
            self._fail_soon(f"HID reader failed: {type(e).__name__}: {e}")

    def _write_loop(self) -> None:
        """Write each queued message's reports in order, report id 0 first (hidapi's ``hid_write``)."""
        write = self._write
        get = self._outbox.get
        try:
            while (packets := get()) is not None:  # None: the transport is closing
                for packet in packets:
                    write(b"\0" + packet)
        except self._errors as e:
            self._fail_soon(f"HID write failed (device unplugged?): {e}")
        except Exception as e:  # anything else still ends every pending call, not a silent hang
            self._fail_soon(f"HID writer failed: {type(e).__name__}: {e}")

    def _fail_soon(self, message: str) -> None:
        self._closing = True
        try:
            self._call_soon(self._fail, TransportClosed(message))
        except RuntimeError:  # the event loop is closed
            pass

    # -- in the event loop ----------------------------------------------------------------------

    def set_receiver(self, receiver: Callable[[Sequence[bytes]], None] | None) -> None:
        """Hand each message to ``receiver`` in the loop callback that the reader thread schedules."""
        self._receiver = receiver
        if receiver is not None and self._ready:
            batch, self._ready = self._ready, []
            receiver(batch)

    def _deliver(self, batch: list[bytes]) -> None:
        receiver = self._receiver
        if receiver is not None:
            receiver(batch)
            return
        self._ready += batch
        self._wakeup.set()

    def _fail(self, error: TransportClosed) -> None:
        if self._error is None:
            self._error = error
        self._wakeup.set()

    async def send_packet(self, packet: bytes) -> None:
        """Queue one report for the writer thread."""
        await self.send_packets((packet,))

    async def send_packets(self, packets: Sequence[bytes]) -> None:
        """Queue a message's reports for the writer thread; :class:`TransportClosed` once unplugged or closed."""
        self.try_send_packets(packets)

    def try_send_packets(self, packets: Sequence[bytes]) -> int:
        """Queue a message's reports for the writer thread, never waiting (:class:`NowaitSender`): all of them."""
        if self._error is not None:
            raise self._error
        if self._closing:
            raise TransportClosed("HID device closed")
        self._outbox.put(packets)
        return len(packets)

    async def receive_packets(self) -> Sequence[bytes]:
        """The reports of the messages the reader thread handed over, at least one report."""
        while not self._ready:
            if self._error is not None:
                raise self._error
            if self._closing:
                raise TransportClosed("HID device closed")
            await self._wakeup.wait()
        batch, self._ready = self._ready, []
        return batch

    async def aclose(self) -> None:
        """Stop both threads, then close the handle; idempotent."""
        if self._error is None:
            self._error = TransportClosed("HID device closed")
        self._closing = True
        self._wakeup.set()
        if self._reader.is_alive() or self._writer.is_alive():
            self._outbox.put(None)
            with anyio.CancelScope(shield=True):
                # the reader leaves hid_read_timeout within READ_TIMEOUT_MS
                await anyio.to_thread.run_sync(self._join)
        handle, self._handle = self._handle, None
        if handle is not None:
            handle.close()

    def _join(self) -> None:
        self._writer.join()
        self._reader.join()


def _check_protocol(transport: HidapiTransport) -> MessageTransport:
    return transport  # mypy checks that HidapiTransport is a MessageTransport


class HidapiDevice(CtapHidDevice):
    """A FIDO HID device found by enumeration (or named by path), opened by ``async with device:``.

    Until then nothing is opened or started: ``product_name``, ``serial_number`` and ``descriptor``
    are known, calls raise :class:`~aioctap.hid.transport.TransportClosed`. Opening starts the
    handle's threads and the connection's reader task and allocates a channel (CTAPHID_INIT,
    CTAP 2.1 §11.2.9.1.3); leaving the block closes them all.
    """

    def __init__(self, descriptor: HidDescriptor, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        # CtapHidDevice's state (connection, channel) exists only while open: see __aenter__
        self.descriptor: HidDescriptor = descriptor
        self.timeout = timeout
        self._connection: HidConnection | None = None
        self._init_response: InitResponse | None = None
        self._stack: AsyncExitStack | None = None

    @property
    def connection(self) -> HidConnection:
        """The open connection; :class:`TransportClosed` when the device is not open."""
        if self._connection is None:
            raise TransportClosed(f"HID device {self.descriptor.path} is not open: use 'async with device:'")
        return self._connection

    @connection.setter
    def connection(self, connection: HidConnection) -> None:
        self._connection = connection

    @property
    def _init(self) -> InitResponse:
        if self._init_response is None:
            raise TransportClosed(f"HID device {self.descriptor.path} is not open: use 'async with device:'")
        return self._init_response

    @_init.setter
    def _init(self, init: InitResponse) -> None:
        self._init_response = init

    @property
    def is_open(self) -> bool:
        """True between entering and leaving ``async with device:``."""
        return self._connection is not None

    def __repr__(self) -> str:
        if self._init_response is None:
            return f"HidapiDevice({self.descriptor.path!r}, not open)"
        return f"HidapiDevice({self.descriptor.path!r}, channel=0x{self.channel_id:08x})"

    async def __aenter__(self) -> Self:
        """Open the handle, start the connection and allocate a channel."""
        if self._stack is not None:
            raise RuntimeError(f"HID device {self.descriptor.path} is already open")
        transport = await HidapiTransport.open(self.descriptor.path)
        self.descriptor = transport.descriptor  # what the system tells now
        stack = AsyncExitStack()
        stack.push_async_callback(transport.aclose)  # closed even if the connection never starts
        try:
            connection = await stack.enter_async_context(HidConnection.open(transport))
            init = await connection.allocate_channel(self.timeout)
        except BaseException:
            await stack.aclose()  # (the connection shields its own closing)
            raise
        self._stack, self._connection, self._init_response = stack, connection, init
        return self

    async def aclose(self) -> None:
        """Close the channel's connection, its reader task and the handle; idempotent."""
        stack, self._stack = self._stack, None
        self._connection = self._init_response = None
        if stack is not None:
            await stack.aclose()


class HotplugEvent(StrEnum):
    """What happened to a device; compares equal to ``"added"`` / ``"removed"``."""

    ADDED = "added"
    REMOVED = "removed"


class DeviceChange(NamedTuple):
    """One hot-plug event: unpacks as ``(event, descriptor)``."""

    event: HotplugEvent
    descriptor: HidDescriptor


async def watch_devices(
    interval: float = 0.5,
    *,
    enumerate_devices: Callable[[], Sequence[HidDescriptor]] | None = None,
) -> AsyncIterator[DeviceChange]:
    """Async iterator of hot-plug events: ADDED for devices present at start and each arrival, REMOVED on unplug.

    Polls the enumeration of FIDO devices every ``interval`` seconds (in a worker thread);
    ``enumerate_devices`` replaces hidapi's enumeration (tests, other backends).
    """
    enum_fn = enumerate_devices or _enumerate
    known: dict[str, HidDescriptor] = {}
    while True:
        current = {d.path: d for d in await anyio.to_thread.run_sync(enum_fn)}
        for path, d in current.items():
            if path not in known:
                yield DeviceChange(HotplugEvent.ADDED, d)
        for path, d in known.items():
            if path not in current:
                yield DeviceChange(HotplugEvent.REMOVED, d)
        known = current
        await anyio.sleep(interval)
