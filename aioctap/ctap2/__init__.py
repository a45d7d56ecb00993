"""Async CTAP2: python-fido2's ``fido2.ctap2`` names, every device call awaited."""

from __future__ import annotations

from .base import AssertionResponse, AttestationResponse, Ctap2, CtapResponseError, Info
from .pin import ClientPin, PinProtocol, PinProtocolV1, PinProtocolV2

__all__ = [
    "AssertionResponse",
    "AttestationResponse",
    "ClientPin",
    "Ctap2",
    "CtapResponseError",
    "Info",
    "PinProtocol",
    "PinProtocolV1",
    "PinProtocolV2",
]
