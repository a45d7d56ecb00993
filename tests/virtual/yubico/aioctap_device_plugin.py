"""pytest plugin: python-fido2's ``tests/device`` (Yubico's authenticator suite) against ``aioctap virtual --udp``.

Load it with ``-p aioctap_device_plugin`` (its directory on ``PYTHONPATH``) when running the ``tests/device``
directory of python-fido2's source distribution. It starts ``python -m aioctap virtual --udp 127.0.0.1:0``
for the session and makes python-fido2 find it as the one plugged-in HID device:

* ``fido2.hid.list_descriptors`` / ``get_descriptor`` / ``open_connection`` give the UDP authenticator (over
  :class:`aioctap.interop.UdpCtapHidConnection`) instead of the system's HID devices;
* the suite's "Disconnect the Authenticator" prompt (``Printer.remove``) unplugs it: SIGUSR1, a power cycle,
  and the device disappears from the listing; "Connect the Authenticator" (``Printer.insert``) plugs it in
  again under a new path, as a USB key re-enumerates.

The suite's ``--ep-rp-id`` (vendor-facilitated enterprise attestation, ``test_ep_vendor``) is passed to the
authenticator as its ``--enterprise-rp-id``. The authenticator's log goes to ``AIOCTAP_DEVICE_LOG`` (default:
a temporary file), which a failing run prints.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
from udp_authenticator import VirtualUdpAuthenticator  # beside this file, on PYTHONPATH with it

_authenticator: VirtualUdpAuthenticator | None = None


def _device() -> VirtualUdpAuthenticator:
    assert _authenticator is not None, "the aioctap device plugin is not configured"
    return _authenticator


def _descriptor(path: str) -> Any:
    from fido2.hid.base import HidDescriptor

    return HidDescriptor(path, 0x1209, 0xA10C, 64, 64, "aioctap virtual (UDP)", None)


def _list_descriptors() -> list[Any]:
    device = _device()
    return [_descriptor(device.path)] if device.plugged else []


def _get_descriptor(path: str) -> Any:
    device = _device()
    if not device.plugged or path != device.path:
        raise ValueError(f"no such device: {path}")
    return _descriptor(path)


def _open_connection(descriptor: Any) -> Any:
    from aioctap.interop import UdpCtapHidConnection

    _get_descriptor(descriptor.path)
    return UdpCtapHidConnection("127.0.0.1", _device().port, timeout=30.0)


def _patch_fido2_hid() -> None:
    """Replace python-fido2's HID backend functions; done on import, before the suite's conftest imports them
    (``-p`` plugins are imported before the initial conftests are)."""
    import fido2.hid

    fido2.hid.list_descriptors = _list_descriptors
    fido2.hid.get_descriptor = _get_descriptor
    fido2.hid.open_connection = _open_connection


_patch_fido2_hid()


def pytest_configure(config: pytest.Config) -> None:
    global _authenticator
    extra: list[str] = []
    try:
        ep_rp_id = config.getoption("ep_rp_id")
    except ValueError:
        ep_rp_id = None
    if ep_rp_id:
        extra += ["--enterprise-rp-id", str(ep_rp_id)]
    log_path = os.environ.get("AIOCTAP_DEVICE_LOG")
    log_file = Path(log_path) if log_path else Path(tempfile.mkstemp(prefix="aioctap-virtual-", suffix=".log")[1])
    _authenticator = VirtualUdpAuthenticator(extra, log_file)


def pytest_unconfigure(config: pytest.Config) -> None:
    global _authenticator
    if _authenticator is not None:
        _authenticator.close()
        _authenticator = None


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[Any]) -> None:
    """Map the suite's unplug/replug prompts to a power cycle (its ``Printer`` is imported by now)."""
    for name, module in list(sys.modules.items()):
        printer = getattr(module, "Printer", None)
        if name.endswith("tests.device") and printer is not None:
            original_remove, original_insert = printer.remove, printer.insert

            def remove(self: Any, nfc: bool = False, _original: Any = original_remove) -> None:
                _original(self, nfc)
                _device().unplug()

            def insert(self: Any, nfc: bool = False, _original: Any = original_insert) -> None:
                _original(self, nfc)
                _device().plug()

            printer.remove, printer.insert = remove, insert
