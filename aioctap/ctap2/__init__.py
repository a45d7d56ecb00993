"""Async CTAP2: python-fido2's ``fido2.ctap2`` names, every device call awaited."""

from __future__ import annotations

from .base import AssertionResponse, AttestationResponse, Ctap2, CtapResponseError, Info
from .bio import BioEnrollment, CaptureError, CaptureSample, FPBioEnrollment, FPEnrollmentContext
from .blob import LargeBlobs
from .config import Config
from .credman import CredentialManagement
from .pin import ClientPin, PinProtocol, PinProtocolV1, PinProtocolV2

__all__ = [
    "AssertionResponse",
    "AttestationResponse",
    "BioEnrollment",
    "CaptureError",
    "CaptureSample",
    "ClientPin",
    "Config",
    "CredentialManagement",
    "Ctap2",
    "CtapResponseError",
    "FPBioEnrollment",
    "FPEnrollmentContext",
    "Info",
    "LargeBlobs",
    "PinProtocol",
    "PinProtocolV1",
    "PinProtocolV2",
]
