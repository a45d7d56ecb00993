"""WebAuthn relying party: sans-IO verification, ceremonies, attestation, ASGI apps."""

from __future__ import annotations

from .attestation import AttestationResult, AttestationType, TrustAnchors, verify_attestation
from .errors import *  # noqa: F403 - every check's error class
from .errors import __all__ as _errors_all
from .verify import AuthenticationResult, RegistrationResult, verify_authentication, verify_registration

__all__ = [
    "AttestationResult",
    "AttestationType",
    "AuthenticationResult",
    "RegistrationResult",
    "TrustAnchors",
    "verify_attestation",
    "verify_authentication",
    "verify_registration",
    *_errors_all,
]
