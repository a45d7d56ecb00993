"""Typed verification errors of the relying party: one class per failed check (WebAuthn L3 §7.1, §7.2)."""

from __future__ import annotations

__all__ = [
    "AttestationCertificateError",
    "AttestationError",
    "AttestationSignatureError",
    "AuthenticatorStatusError",
    "BackupFlagsError",
    "ChallengeMismatchError",
    "ClientDataTypeError",
    "CredentialIdError",
    "CrossOriginError",
    "InvalidSignatureError",
    "MalformedAttestationError",
    "MalformedResponseError",
    "MetadataError",
    "OriginMismatchError",
    "RpIdHashMismatchError",
    "SignCountError",
    "UnexpectedExtensionError",
    "UnsupportedAlgorithmError",
    "UnsupportedAttestationFormatError",
    "UntrustedAttestationError",
    "UserHandleError",
    "UserPresenceError",
    "UserVerificationError",
    "VerificationError",
]


class VerificationError(Exception):
    """Base class: a WebAuthn registration or authentication response failed a check (the message says which
    check failed; subclasses name the check)."""


class MalformedResponseError(VerificationError):
    """The credential JSON, client data, attestation object or authenticator data cannot be parsed."""


class ClientDataTypeError(VerificationError):
    """clientDataJSON.type is not "webauthn.create" / "webauthn.get" as the ceremony needs."""


class ChallengeMismatchError(VerificationError):
    """clientDataJSON.challenge is not the challenge the server issued."""


class OriginMismatchError(VerificationError):
    """clientDataJSON.origin is not an expected origin."""


class CrossOriginError(VerificationError):
    """The response came from a cross-origin iframe (crossOrigin/topOrigin) and that is not allowed."""


class RpIdHashMismatchError(VerificationError):
    """authenticatorData.rpIdHash is not SHA-256 of the expected RP ID."""


class UserPresenceError(VerificationError):
    """The UP flag is not set."""


class UserVerificationError(VerificationError):
    """User verification was required and the UV flag is not set."""


class BackupFlagsError(VerificationError):
    """BS (backup state) is set while BE (backup eligible) is not."""


class CredentialIdError(VerificationError):
    """The credential ID is missing, too long, or differs from rawId / an allowed credential."""


class UnsupportedAlgorithmError(VerificationError):
    """The credential public key's algorithm is not one the server accepts."""


class InvalidSignatureError(VerificationError):
    """The assertion signature does not verify with the stored public key."""


class SignCountError(VerificationError):
    """The signature counter did not increase: the authenticator may have been cloned."""


class AttestationError(VerificationError):
    """The attestation statement is malformed or its signature or certificates are invalid."""


class UntrustedAttestationError(AttestationError):
    """The attestation chain does not lead to a trust anchor the server was given."""


class UnsupportedAttestationFormatError(AttestationError):
    """attestationObject.fmt names a format this relying party does not implement (§7.1 step 20)."""


class MalformedAttestationError(AttestationError):
    """The attestation statement or a structure inside it (TPM, ASN.1, JWS) cannot be parsed."""


class AttestationSignatureError(AttestationError):
    """The attestation signature does not verify, or signs other data than the ceremony's (nonce, challenge)."""


class AttestationCertificateError(AttestationError):
    """An attestation certificate breaks its format's requirements, is expired, or the chain is broken."""


class AuthenticatorStatusError(UntrustedAttestationError):
    """FIDO metadata reports the authenticator model as revoked or compromised."""


class UserHandleError(VerificationError):
    """The assertion's userHandle is not the handle of the user that owns the credential."""


class MetadataError(VerificationError):
    """A FIDO MDS3 metadata blob is malformed, expired, or its signature or chain does not verify."""


class UnexpectedExtensionError(VerificationError):
    """An extension output (client or authenticator) the relying party did not ask for (§7.1 step 19, §7.2 step 20)."""
