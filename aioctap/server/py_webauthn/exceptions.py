"""py_webauthn's exceptions (``webauthn.helpers.exceptions``).

Verification failures are raised as :class:`InvalidRegistrationResponse` or
:class:`InvalidAuthenticationResponse` whose ``__cause__`` is aioctap's typed
:class:`~aioctap.server.VerificationError` naming the failed check.
"""

from __future__ import annotations

__all__ = [
    "InvalidAuthenticationBackupFlags",
    "InvalidAuthenticationOptions",
    "InvalidAuthenticationResponse",
    "InvalidBackupFlags",
    "InvalidCBORData",
    "InvalidJSONStructure",
    "InvalidRegistrationBackupFlags",
    "InvalidRegistrationCBOR",
    "InvalidRegistrationOptions",
    "InvalidRegistrationResponse",
    "WebAuthnException",
]


class WebAuthnException(Exception):
    """Base class of py_webauthn's errors."""


class InvalidRegistrationOptions(WebAuthnException):
    """Registration options that cannot be used."""


class InvalidRegistrationResponse(WebAuthnException):
    """A registration response failed verification (L3 §7.1)."""


class InvalidAuthenticationOptions(WebAuthnException):
    """Authentication options that cannot be used."""


class InvalidAuthenticationResponse(WebAuthnException):
    """An authentication response failed verification (L3 §7.2)."""


class InvalidJSONStructure(WebAuthnException):
    """A credential's JSON form lacks a member or has one of the wrong type."""


class InvalidBackupFlags(WebAuthnException):
    """BS is set while BE is not (L3 §6.1.3)."""


class InvalidCBORData(WebAuthnException):
    """CBOR that does not decode."""


class InvalidRegistrationCBOR(InvalidRegistrationResponse, InvalidCBORData):
    """An attestationObject that is not CBOR: caught as py_webauthn 2.x's InvalidCBORData or 3.x's
    InvalidRegistrationResponse."""


class InvalidRegistrationBackupFlags(InvalidRegistrationResponse, InvalidBackupFlags):
    """BS without BE in a registration: caught as either of py_webauthn's exceptions (it checks BE/BS
    after the attestation, aioctap with the other flags)."""


class InvalidAuthenticationBackupFlags(InvalidAuthenticationResponse, InvalidBackupFlags):
    """BS without BE in an assertion: caught as either of py_webauthn's exceptions (it checks BE/BS after the
    signature, aioctap with the other flags)."""
