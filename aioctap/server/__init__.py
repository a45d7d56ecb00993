"""WebAuthn relying party: sans-IO verification, ceremonies, attestation, FIDO metadata, ASGI apps."""

from __future__ import annotations

from .attestation import AttestationResult, AttestationType, TrustAnchors, register_format, verify_attestation
from .errors import *  # noqa: F403 - every check's error class
from .errors import __all__ as _errors_all
from .fido2_server import Fido2Server, to_descriptor
from .mds import AuthenticatorStatus, MetadataBlob, MetadataEntry, parse_metadata_blob
from .verify import AuthenticationResult, RegistrationResult, verify_authentication, verify_registration

__all__ = [
    "AttestationResult",
    "AttestationType",
    "AuthenticationResult",
    "AuthenticatorStatus",
    "Fido2Server",
    "MetadataBlob",
    "MetadataEntry",
    "RegistrationResult",
    "TrustAnchors",
    "parse_metadata_blob",
    "register_format",
    "to_descriptor",
    "verify_attestation",
    "verify_authentication",
    "verify_registration",
    *_errors_all,
]
