"""py_webauthn's ``generate_registration_options`` and ``generate_authentication_options`` (L3 §5.4, §5.5)."""

from __future__ import annotations

from collections.abc import Sequence

from .helpers import generate_challenge, generate_user_handle
from .structs import (
    AttestationConveyancePreference,
    AuthenticatorSelectionCriteria,
    COSEAlgorithmIdentifier,
    PublicKeyCredentialCreationOptions,
    PublicKeyCredentialDescriptor,
    PublicKeyCredentialHint,
    PublicKeyCredentialParameters,
    PublicKeyCredentialRequestOptions,
    PublicKeyCredentialRpEntity,
    PublicKeyCredentialUserEntity,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

__all__ = ["default_supported_pub_key_algs", "generate_authentication_options", "generate_registration_options"]

#: py_webauthn 2.x's default pubKeyCredParams, in its order, less the four aioctap does not verify (PS384, PS512,
#: RS384, RS512): a credential made with one could not be used
default_supported_pub_key_algs: list[COSEAlgorithmIdentifier] = [
    COSEAlgorithmIdentifier.ECDSA_SHA_256,
    COSEAlgorithmIdentifier.EDDSA,
    COSEAlgorithmIdentifier.ECDSA_SHA_512,
    COSEAlgorithmIdentifier.RSASSA_PSS_SHA_256,
    COSEAlgorithmIdentifier.RSASSA_PKCS1_v1_5_SHA_256,
]

MAX_USER_ID = 64  # L3 §5.4.3: user.id is at most 64 bytes (browsers throw a TypeError otherwise)


def generate_registration_options(
    *,
    rp_id: str,
    rp_name: str,
    user_name: str,
    user_id: bytes | None = None,
    user_display_name: str | None = None,
    challenge: bytes | None = None,
    timeout: int = 60000,
    attestation: AttestationConveyancePreference = AttestationConveyancePreference.NONE,
    authenticator_selection: AuthenticatorSelectionCriteria | None = None,
    exclude_credentials: Sequence[PublicKeyCredentialDescriptor] | None = None,
    supported_pub_key_algs: Sequence[COSEAlgorithmIdentifier] | None = None,
    hints: Sequence[PublicKeyCredentialHint] | None = None,
) -> PublicKeyCredentialCreationOptions:
    """Options for ``navigator.credentials.create()``; send them with :func:`options_to_json`.

    Defaults as py_webauthn's: a random 64-byte ``user_id`` and ``challenge``, ``user_display_name``
    = ``user_name``, a 60 s timeout, no attestation, EdDSA/ES256/RS256. With ``residentKey`` required,
    ``requireResidentKey`` is set too (L3 §5.4.4: true if, and only if, residentKey is "required").
    """
    for name, value in (("rp_id", rp_id), ("rp_name", rp_name), ("user_name", user_name)):
        if not value:
            raise ValueError(f"{name} cannot be an empty string")
    if user_id:
        if not isinstance(user_id, bytes):
            raise ValueError("user_id must be bytes")
        if len(user_id) > MAX_USER_ID:
            raise ValueError(f"user_id must be at most {MAX_USER_ID} bytes (WebAuthn L3 §5.4.3)")
    else:
        user_id = generate_user_handle()
    algs = supported_pub_key_algs or default_supported_pub_key_algs
    options = PublicKeyCredentialCreationOptions(
        rp=PublicKeyCredentialRpEntity(name=rp_name, id=rp_id),
        user=PublicKeyCredentialUserEntity(id=user_id, name=user_name, display_name=user_display_name or user_name),
        challenge=challenge or generate_challenge(),
        pub_key_cred_params=[PublicKeyCredentialParameters(type="public-key", alg=alg) for alg in algs],
        timeout=timeout,
        exclude_credentials=list(exclude_credentials or []),
        attestation=attestation,
        hints=None if hints is None else list(hints),
    )
    if authenticator_selection is not None:
        if authenticator_selection.resident_key == ResidentKeyRequirement.REQUIRED:
            authenticator_selection.require_resident_key = True
        options.authenticator_selection = authenticator_selection
    return options


def generate_authentication_options(
    *,
    rp_id: str,
    challenge: bytes | None = None,
    timeout: int = 60000,
    allow_credentials: Sequence[PublicKeyCredentialDescriptor] | None = None,
    user_verification: UserVerificationRequirement = UserVerificationRequirement.PREFERRED,
) -> PublicKeyCredentialRequestOptions:
    """Options for ``navigator.credentials.get()``: a random 64-byte challenge unless given, 60 s, UV preferred."""
    if not rp_id:
        raise ValueError("rp_id cannot be an empty string")
    return PublicKeyCredentialRequestOptions(
        rp_id=rp_id,
        challenge=challenge or generate_challenge(),
        timeout=timeout,
        allow_credentials=list(allow_credentials or []),
        user_verification=user_verification,
    )
