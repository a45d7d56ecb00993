"""CTAPHID (CTAP 2.1 §11.2): the sans-IO cores, the reader-task shell and the packet backends.

* :mod:`.protocol`: host-side framing and reassembly (pure); :mod:`.device_side`: the device side.
* :mod:`.router`: :class:`HidConnection`, one reader task per transport.
* :mod:`.device`: :class:`CtapHidDevice`, one channel; :func:`aioctap.open_device` opens one by address.
* :mod:`.backends`: ``memory``, ``udp`` and ``hidapi`` (the last imported only when used; its reader
  thread hands over whole messages: :class:`MessageTransport`).
"""

from __future__ import annotations

from .device import CallStream, CtapHidDevice, HidDescriptor
from .protocol import CAPABILITY, CTAPHID, HIDERR, CtapHidProtocolError
from .router import CtapHidTimeout, HidConnection
from .transport import MessageTransport, PacketTransport, TransportClosed

__all__ = [
    "CAPABILITY",
    "CTAPHID",
    "HIDERR",
    "CallStream",
    "CtapHidDevice",
    "CtapHidProtocolError",
    "CtapHidTimeout",
    "HidConnection",
    "HidDescriptor",
    "MessageTransport",
    "PacketTransport",
    "TransportClosed",
]
