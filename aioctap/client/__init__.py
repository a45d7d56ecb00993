"""Async WebAuthn clients over CTAP2 (CTAP1 for U2F-only devices).

* :class:`Fido2Client`: python-fido2's ``fido2.client`` API (``Fido2Client``, ``DefaultClientDataCollector``,
  ``UserInteraction``, ``AssertionSelection``, ``ClientError``), ``await``-ed where it talks to the device.
* :class:`WebAuthnClient`: the browser's API shape, JSON in and out, several devices at once (first touch wins).

Both run the same code for a ceremony on a device (:mod:`._core`).
"""

from __future__ import annotations

from ..ctap2 import Ctap2 as Ctap2  # where Fido2Client finds it (python-fido2's tests patch fido2.client.Ctap2)
from ..rpid import verify_rp_id
from ._core import ClientError, PinRequiredError
from ._fido2 import (
    AssertionSelection,
    ClientDataCollector,
    DefaultClientDataCollector,
    Fido2Client,
    UserInteraction,
)
from ._webauthn_client import WebAuthnClient

__all__ = [
    "AssertionSelection",
    "ClientDataCollector",
    "ClientError",
    "DefaultClientDataCollector",
    "Fido2Client",
    "PinRequiredError",
    "UserInteraction",
    "WebAuthnClient",
    "verify_rp_id",
]
