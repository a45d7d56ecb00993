"""python-fido2's ``fido2.server.Fido2Server``: sans-IO registration and authentication ceremonies.

``Fido2Server(rp, attestation=None, verify_origin=None, verify_attestation=None)``: ``register_begin`` /
``authenticate_begin`` return ``(CredentialCreationOptions | CredentialRequestOptions, state)`` (``dict(options)``
is the JSON for the browser, ``options["publicKey"]`` what a client takes), ``register_complete(state, response)``
returns the :class:`~aioctap.webauthn.AuthenticatorData`, ``authenticate_complete(state, credentials, response)``
the matching :class:`~aioctap.webauthn.AttestedCredentialData`. A failed check raises ``ValueError`` (as
python-fido2's does) saying which step of WebAuthn L3 §7.1 / §7.2 failed. The state is a JSON-serializable dict.

``aioctap server`` uses its own ceremonies (:mod:`.ceremony`: stores, accounts, attestation trust); this class is
for code written against python-fido2.
"""

from __future__ import annotations

import hmac
import logging
import os
from collections.abc import Callable, Mapping, Sequence

from ..cose import CoseError
from ..rpid import verify_rp_id
from ..webauthn import (
    AttestationConveyancePreference,
    AttestationObject,
    AttestedCredentialData,
    AuthenticationResponse,
    AuthenticatorAttachment,
    AuthenticatorData,
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    CollectedClientData,
    CredentialCreationOptions,
    CredentialRequestOptions,
    PublicKeyCredentialCreationOptions,
    PublicKeyCredentialDescriptor,
    PublicKeyCredentialParameters,
    PublicKeyCredentialRequestOptions,
    PublicKeyCredentialRpEntity,
    PublicKeyCredentialType,
    PublicKeyCredentialUserEntity,
    RegistrationResponse,
    ResidentKeyRequirement,
    UserVerificationRequirement,
    WebAuthnDataError,
    websafe_decode,
    websafe_encode,
)

__all__ = ["Fido2Server", "VerifyAttestation", "VerifyOrigin", "to_descriptor"]

log = logging.getLogger(__name__)

VerifyAttestation = Callable[[AttestationObject, bytes], None]
VerifyOrigin = Callable[[str], bool]
State = dict[str, str | None]
# pubKeyCredParams by default: python-fido2's list (its CoseKey.supported_algorithms()): ES256, EdDSA, ES384, ES512,
# PS256, RS256, ES256K, ML-DSA-44/65/87; not RS1 (SHA-1, for legacy TPM attestation only). A fully-specified algorithm
# (ESP256 -9, Ed25519 -19, ...) is accepted once the RP lists it in ``allowed_algorithms``.
_OFFERED = (-7, -8, -35, -36, -37, -257, -47, -48, -49, -50)
_Credentials = Sequence[AttestedCredentialData | PublicKeyCredentialDescriptor | Mapping[str, object]]


def _validate_challenge(challenge: bytes | None) -> bytes:
    """A fresh 32-byte challenge, or the caller's (at least 16 bytes, L3 §13.4.3)."""
    if challenge is None:
        return os.urandom(32)
    if not isinstance(challenge, bytes):
        raise TypeError("Custom challenge must be of type 'bytes'.")
    if len(challenge) < 16:
        raise ValueError("Custom challenge length must be >= 16.")
    return challenge


def to_descriptor(
    credential: AttestedCredentialData, transports: Sequence[str] | None = None
) -> PublicKeyCredentialDescriptor:
    """The PublicKeyCredentialDescriptor (L3 §5.8.3) of a stored credential."""
    known = None
    if transports is not None:  # an unknown transport is ignored (WebAuthn §2.1.1)
        known = [t for t in map(AuthenticatorTransport.parse, transports) if t is not None]
    return PublicKeyCredentialDescriptor(
        type=PublicKeyCredentialType.PUBLIC_KEY, id=credential.credential_id, transports=known
    )


def _wrap_credentials(creds: _Credentials | None) -> list[PublicKeyCredentialDescriptor] | None:
    if creds is None:
        return None
    return [
        to_descriptor(c) if isinstance(c, AttestedCredentialData) else PublicKeyCredentialDescriptor.from_dict(c)
        for c in creds
    ]


def _ignore_attestation(attestation_object: AttestationObject, client_data_hash: bytes) -> None:
    """Attestation is not verified (python-fido2's default)."""


class Fido2Server:
    """A WebAuthn relying party for one RP (python-fido2's ``Fido2Server``).

    ``rp``: a :class:`PublicKeyCredentialRpEntity` or its dict (``{"id": ..., "name": ...}``); ``attestation``:
    the conveyance preference sent in registrations; ``verify_origin(origin) -> bool`` (default: the origin may
    use the RP ID, L3 §5.1.3 step 8); ``verify_attestation(attestation_object, client_data_hash)`` raises to
    refuse (called unless ``attestation`` is None or "none").
    """

    def __init__(
        self,
        rp: PublicKeyCredentialRpEntity | Mapping[str, object],
        attestation: AttestationConveyancePreference | str | None = None,
        verify_origin: VerifyOrigin | None = None,
        verify_attestation: VerifyAttestation | None = None,
    ) -> None:
        self.rp = PublicKeyCredentialRpEntity.from_dict(rp)
        if self.rp.id is None:
            raise ValueError("the RP entity needs an id")
        rp_id = self.rp.id
        self._verify = verify_origin or (lambda origin: verify_rp_id(rp_id, origin))
        self.timeout: int | None = None
        self.attestation = AttestationConveyancePreference.parse(attestation)
        self.allowed_algorithms = [
            PublicKeyCredentialParameters(type=PublicKeyCredentialType.PUBLIC_KEY, alg=alg) for alg in _OFFERED
        ]
        self._verify_attestation = verify_attestation or _ignore_attestation

    def __repr__(self) -> str:
        return f"Fido2Server(rp={self.rp!r})"

    def register_begin(
        self,
        user: PublicKeyCredentialUserEntity | Mapping[str, object],
        credentials: _Credentials | None = None,
        resident_key_requirement: ResidentKeyRequirement | str | None = None,
        user_verification: UserVerificationRequirement | str | None = None,
        authenticator_attachment: AuthenticatorAttachment | str | None = None,
        challenge: bytes | None = None,
        extensions: Mapping[str, object] | None = None,
    ) -> tuple[CredentialCreationOptions, State]:
        """Options for navigator.credentials.create() (L3 §5.4) and the state for :meth:`register_complete`;
        ``credentials``: the user's registered credentials (excludeCredentials)."""
        if not self.allowed_algorithms:
            raise ValueError("Server has no allowed algorithms.")
        challenge = _validate_challenge(challenge)
        uv = UserVerificationRequirement.parse(user_verification)  # None: not given (or unknown, §2.1.1)
        attachment = AuthenticatorAttachment.parse(authenticator_attachment)
        rk = ResidentKeyRequirement.parse(resident_key_requirement)
        selection = None
        if attachment or rk or uv:
            selection = AuthenticatorSelectionCriteria(
                authenticator_attachment=attachment, resident_key=rk, user_verification=uv
            )
        options = PublicKeyCredentialCreationOptions(
            rp=self.rp,
            user=PublicKeyCredentialUserEntity.from_dict(user),
            challenge=challenge,
            pub_key_cred_params=self.allowed_algorithms,
            timeout=self.timeout,
            exclude_credentials=_wrap_credentials(credentials),
            authenticator_selection=selection,
            attestation=self.attestation,
            extensions=extensions,
        )
        return CredentialCreationOptions(public_key=options), self._make_internal_state(challenge, uv)

    def register_complete(
        self, state: Mapping[str, str | None], response: RegistrationResponse | Mapping[str, object]
    ) -> AuthenticatorData:
        """Verify a registration response (L3 §7.1); the new credential is ``result.credential_data``.

        Synchronous (sans-IO), as python-fido2's.

        Raises:
            ValueError: the response is malformed or fails a check (python-fido2's error type; the message
                names the check).
        """
        try:
            registration = RegistrationResponse.from_dict(response)
        except (TypeError, WebAuthnDataError) as e:
            raise ValueError(f"Invalid registration response: {e}") from None
        client_data = registration.response.client_data
        attestation_object = registration.response.attestation_object
        auth_data = attestation_object.auth_data
        self._check_client_data(state, client_data, CollectedClientData.TYPE.CREATE)
        self._check_auth_data(state, auth_data)
        credential = auth_data.credential_data
        if credential is None:  # step 14's AT flag
            raise ValueError("No attested credential data in the authenticator data.")
        if credential.credential_id != registration.raw_id:
            raise ValueError("Credential ID does not match the attested credential data.")
        alg = credential.public_key.get(3)
        if alg not in {p.alg for p in self.allowed_algorithms}:  # step 16
            raise ValueError(f"Credential public key algorithm {alg} was not requested.")
        if self.attestation not in (None, AttestationConveyancePreference.NONE):
            self._verify_attestation(attestation_object, client_data.hash)
        log.info("New credential registered: %s", credential.credential_id.hex())
        return auth_data

    def authenticate_begin(
        self,
        credentials: _Credentials | None = None,
        user_verification: UserVerificationRequirement | str | None = None,
        challenge: bytes | None = None,
        extensions: Mapping[str, object] | None = None,
    ) -> tuple[CredentialRequestOptions, State]:
        """Options for navigator.credentials.get() (L3 §5.5) and the state for :meth:`authenticate_complete`;
        no ``credentials``: any discoverable credential of the RP may answer."""
        challenge = _validate_challenge(challenge)
        uv = UserVerificationRequirement.parse(user_verification)
        options = PublicKeyCredentialRequestOptions(
            challenge=challenge,
            timeout=self.timeout,
            rp_id=self.rp.id,
            allow_credentials=_wrap_credentials(credentials),
            user_verification=uv,
            extensions=extensions,
        )
        return CredentialRequestOptions(public_key=options), self._make_internal_state(challenge, uv)

    def authenticate_complete(
        self,
        state: Mapping[str, str | None],
        credentials: Sequence[AttestedCredentialData],
        response: AuthenticationResponse | Mapping[str, object],
    ) -> AttestedCredentialData:
        """Verify an assertion (L3 §7.2) by one of ``credentials``; returns the credential that signed it.

        Synchronous (sans-IO), as python-fido2's. As there, ``credentials`` is the set that may answer (§7.2 step 5):
        pass the credentials of the user being signed in, not every credential of the RP; the state does not carry the
        options' allowCredentials (the ceremony API's ``CeremonyState`` does, and checks them itself).

        Raises:
            ValueError: the response is malformed, names none of ``credentials``, or fails a check (python-fido2's
                error type; the message names the check).
        """
        try:
            authentication = AuthenticationResponse.from_dict(response)
        except (TypeError, WebAuthnDataError) as e:
            raise ValueError(f"Invalid authentication response: {e}") from None
        credential_id = authentication.raw_id
        client_data = authentication.response.client_data
        auth_data = authentication.response.authenticator_data
        self._check_client_data(state, client_data, CollectedClientData.TYPE.GET)
        self._check_auth_data(state, auth_data)
        for cred in credentials:
            if cred.credential_id == credential_id:
                try:
                    cred.public_key.verify(bytes(auth_data) + client_data.hash, authentication.response.signature)
                except CoseError:
                    raise ValueError("Invalid signature.") from None
                log.info("Credential authenticated: %s", credential_id.hex())
                return cred
        raise ValueError("Unknown credential ID.")

    def _check_client_data(self, state: Mapping[str, str | None], client_data: CollectedClientData, type_: str) -> None:
        # L3 §7.1 steps 7-9, §7.2 steps 11-13
        if client_data.type != type_:
            raise ValueError("Incorrect type in CollectedClientData.")
        if not self._verify(client_data.origin):
            raise ValueError("Invalid origin in CollectedClientData.")
        expected = state.get("challenge")
        if not isinstance(expected, str) or not hmac.compare_digest(websafe_decode(expected), client_data.challenge):
            raise ValueError("Wrong challenge in response.")
        # §7.1 step 10 / §7.2 step 14: this RP does not expect to run in a cross-origin iframe
        if client_data.cross_origin or client_data.top_origin is not None:
            raise ValueError("Cross-origin client data (crossOrigin/topOrigin) is not accepted.")

    def _check_auth_data(self, state: Mapping[str, str | None], auth_data: AuthenticatorData) -> None:
        # L3 §7.1 steps 13-15, §7.2 steps 15-17
        if not hmac.compare_digest(self.rp.id_hash or b"", auth_data.rp_id_hash):
            raise ValueError("Wrong RP ID hash in response.")
        if not auth_data.is_user_present():
            raise ValueError("User Present flag not set.")
        if state.get("user_verification") == UserVerificationRequirement.REQUIRED and not auth_data.is_user_verified():
            raise ValueError("User verification required, but User Verified flag not set.")
        if auth_data.is_backed_up() and not auth_data.is_backup_eligible():  # §6.1: BS without BE is invalid
            raise ValueError("Backup State flag set without Backup Eligibility.")

    @staticmethod
    def _make_internal_state(challenge: bytes, user_verification: UserVerificationRequirement | None) -> State:
        return {
            "challenge": websafe_encode(challenge),
            "user_verification": user_verification.value if user_verification is not None else None,
        }
