"""aioctap: an asyncio-native FIDO2 stack for Python services.

* ``aioctap.open_device(address)``: open a CTAP device (``udp:HOST:PORT``, ``hid:PATH``,
  ``virtual``, ``virtual:STATE_FILE``) as an async context manager.
* ``aioctap.ctap2`` / ``aioctap.ctap1``: async CTAP2 and U2F, python-fido2's names.
* ``aioctap.client``: python-fido2's ``Fido2Client`` (awaited) and the browser-shaped ``WebAuthnClient``.
* ``aioctap.webauthn`` / ``aioctap.utils``: python-fido2's WebAuthn data classes and helpers.
* ``aioctap.virtual``: a software CTAP 2.1 authenticator.
* ``aioctap.server``: a WebAuthn relying party (sans-IO verification, python-fido2's ``Fido2Server``, ceremonies,
  ASGI apps).
* ``aioctap.otp``: HOTP/TOTP with passlib's API, an async replay-proof verifier, Taler POS codes.
* ``aioctap.stores``: ``open_store(url)`` for memory, SQLite, Redis and PostgreSQL.
"""

from __future__ import annotations

import importlib
from typing import Any

from .ctap import STATUS, CtapDevice, CtapError, TransportError

__version__ = "0.1.0"

__all__ = ["STATUS", "CtapDevice", "CtapError", "TransportError", "__version__", "open_device"]


def __getattr__(name: str) -> Any:
    # open_device pulls in the transport (and, for "virtual", the authenticator): import lazily
    if name == "open_device":
        return importlib.import_module("aioctap.hid.address").open_device
    raise AttributeError(f"module 'aioctap' has no attribute {name!r}")
