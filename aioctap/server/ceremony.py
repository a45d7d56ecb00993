"""Fido2Server: sans-IO registration and authentication ceremonies (python-fido2's names).

``register_begin`` / ``authenticate_begin`` return the options (WebAuthn JSON) and a state that
holds the challenge and its expiry; the caller keeps the state server-side (in a store, consumed
once) and passes it back to ``register_complete`` / ``authenticate_complete``. Time is a parameter.
"""

from __future__ import annotations

import dataclasses
import os
import time as _time
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .._webauthn_types import _AuthenticatorSelectionJSON
from ..webauthn import (
    JSONValue,
    PublicKeyCredentialCreationOptionsJSON,
    PublicKeyCredentialDescriptorJSON,
    PublicKeyCredentialRequestOptionsJSON,
    websafe_decode,
    websafe_encode,
)
from .attestation import TrustAnchors
from .errors import ChallengeMismatchError, CredentialIdError, MalformedResponseError, UserHandleError
from .verify import (
    DEFAULT_ALGORITHMS,
    AuthenticationResult,
    RegistrationResult,
    _decode,
    parse_credential,
    verify_authentication,
    verify_registration,
)

__all__ = ["CeremonyState", "Fido2Server", "StoredCredential", "origin_error"]

CHALLENGE_BYTES = 32
USER_VERIFICATION = ("required", "preferred", "discouraged")


def origin_error(rp_id: str, origin: str) -> str | None:
    """Why a browser on ``origin`` could not use the RP ID ``rp_id``, or None when it can.

    WebAuthn L3 §5.1.3 and §5.1.4.1 (the rp.id / rpId steps): the RP ID must equal the origin's effective
    domain or be a registrable domain suffix of it; and the origin must be a secure context (https, or http
    on localhost).
    """
    try:
        parts = urllib.parse.urlsplit(origin)
        host = (parts.hostname or "").lower()
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        return f"origin {origin!r} is not a URL"
    if parts.scheme not in ("http", "https") or not host or parts.path not in ("", "/") or parts.query:
        return f"origin {origin!r} must be scheme://host[:port] with scheme https (or http on localhost)"
    if parts.scheme == "http" and host != "localhost" and not host.endswith(".localhost"):
        return f"origin {origin!r} is plain http: browsers allow WebAuthn over http only on localhost"
    rp = rp_id.lower()
    if host != rp and not host.endswith("." + rp):
        return f"origin {origin!r} does not match RP ID {rp_id!r}: its host must be {rp_id} or a subdomain of it"
    return None


@dataclass(frozen=True)
class StoredCredential:
    """What the relying party keeps per credential."""

    credential_id: bytes
    public_key: bytes
    sign_count: int
    user_handle: bytes
    transports: tuple[str, ...] = ()
    backup_eligible: bool | None = None  # the BE flag at registration; None: not known (not checked)


@dataclass(frozen=True)
class CeremonyState:
    """Server-side state of one ceremony: the challenge, its expiry, and what the options required."""

    kind: str  # "registration" | "authentication"
    challenge: bytes
    expires: float
    user_verification: str
    user_handle: bytes | None = None
    discoverable: bool = False  # an authentication whose allowCredentials was empty and whose user was not known
    allowed: tuple[bytes, ...] = ()  # an authentication's allowCredentials (ids); empty: any credential

    def to_dict(self) -> dict[str, JSONValue]:
        """The state as a JSON-serializable dict (bytes in base64url), for storing between options and result."""
        d: dict[str, JSONValue] = {
            "kind": self.kind,
            "challenge": websafe_encode(self.challenge),
            "expires": self.expires,
            "user_verification": self.user_verification,
            "user_handle": websafe_encode(self.user_handle) if self.user_handle is not None else None,
            "discoverable": self.discoverable,
        }
        if self.allowed:
            d["allowed"] = [websafe_encode(c) for c in self.allowed]
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, object]) -> CeremonyState:
        """Parse a stored :meth:`to_dict` form; a malformed one raises an error naming the bad member."""
        m: Mapping[str, Any] = d  # a member of the wrong type raises TypeError, caught below
        try:
            return cls(
                str(m["kind"]),
                websafe_decode(m["challenge"]),
                float(m["expires"]),
                str(m["user_verification"]),
                websafe_decode(m["user_handle"]) if m.get("user_handle") else None,
                m.get("discoverable") is True,
                tuple(websafe_decode(c) for c in m.get("allowed") or ()),
            )
        except (KeyError, TypeError, ValueError) as e:
            raise MalformedResponseError(f"ceremony state is corrupt: {type(e).__name__}") from None


class Fido2Server:
    """``Fido2Server(rp_id, origins, rp_name=None, timeout=300)``."""

    def __init__(
        self,
        rp_id: str,
        origins: str | Sequence[str],
        rp_name: str | None = None,
        *,
        timeout: float = 300.0,
        algorithms: Sequence[int] = DEFAULT_ALGORITHMS,
        trust_anchors: TrustAnchors | None = None,
        reject_possible_clone: bool = True,
    ) -> None:
        self.rp_id = rp_id
        self.origins = [origins] if isinstance(origins, str) else list(origins)
        self.rp_name = rp_name or rp_id
        self.timeout = timeout
        self.algorithms = list(algorithms)
        self.trust_anchors = trust_anchors
        self.reject_possible_clone = reject_possible_clone

    def __repr__(self) -> str:
        return f"Fido2Server(rp_id={self.rp_id!r}, origins={self.origins!r})"

    def _state(
        self, kind: str, uv: str | None, now: float | None, user_handle: bytes | None = None, discoverable: bool = False
    ) -> CeremonyState:
        uv = uv or "preferred"
        if uv not in USER_VERIFICATION:
            raise ValueError("user_verification must be required, preferred or discouraged")
        t = _time.time() if now is None else now
        return CeremonyState(kind, os.urandom(CHALLENGE_BYTES), t + self.timeout, uv, user_handle, discoverable)

    @staticmethod
    def _descriptor(c: StoredCredential) -> PublicKeyCredentialDescriptorJSON:
        d: PublicKeyCredentialDescriptorJSON = {"type": "public-key", "id": websafe_encode(c.credential_id)}
        if c.transports:
            d["transports"] = list(c.transports)
        return d

    def register_begin(
        self,
        user: Mapping[str, object],
        credentials: Sequence[StoredCredential] = (),
        *,
        resident_key_requirement: str | None = None,
        user_verification: str | None = None,
        authenticator_attachment: str | None = None,
        attestation: str = "none",
        extensions: Mapping[str, JSONValue] | None = None,
        now: float | None = None,
    ) -> tuple[PublicKeyCredentialCreationOptionsJSON, CeremonyState]:
        """PublicKeyCredentialCreationOptions (JSON form) and the state to keep. ``user`` has id (bytes), name."""
        user_id = user.get("id")
        if not isinstance(user_id, bytes) or not 1 <= len(user_id) <= 64:
            raise ValueError("user.id must be 1 to 64 bytes")
        state = self._state("registration", user_verification, now, user_id)
        selection: _AuthenticatorSelectionJSON = {"userVerification": state.user_verification}
        if resident_key_requirement:
            selection["residentKey"] = resident_key_requirement
            selection["requireResidentKey"] = resident_key_requirement == "required"
        if authenticator_attachment:
            selection["authenticatorAttachment"] = authenticator_attachment
        options: PublicKeyCredentialCreationOptionsJSON = {
            "rp": {"id": self.rp_id, "name": self.rp_name},
            "user": {
                "id": websafe_encode(user_id),
                "name": str(user.get("name", "")),
                "displayName": str(user.get("displayName", user.get("name", ""))),
            },
            "challenge": websafe_encode(state.challenge),
            "pubKeyCredParams": [{"type": "public-key", "alg": a} for a in self.algorithms],
            "timeout": int(self.timeout * 1000),
            "excludeCredentials": [self._descriptor(c) for c in credentials],
            "authenticatorSelection": selection,
            "attestation": attestation,
        }
        if extensions:
            options["extensions"] = dict(extensions)
        return options, state

    def register_complete(
        self, state: CeremonyState, response: Mapping[str, object] | str, *, now: float | None = None
    ) -> RegistrationResult:
        """Verify the registration response against the state (challenge single use is the caller's store)."""
        self._check_state(state, "registration", now)
        return verify_registration(
            response,
            expected_challenge=state.challenge,
            expected_origin=self.origins,
            expected_rp_id=self.rp_id,
            require_user_verification=state.user_verification == "required",
            trust_anchors=self.trust_anchors,
            supported_algorithms=self.algorithms,
        )

    def authenticate_begin(
        self,
        credentials: Sequence[StoredCredential] = (),
        *,
        user_verification: str | None = None,
        extensions: Mapping[str, JSONValue] | None = None,
        user_handle: bytes | None = None,
        now: float | None = None,
    ) -> tuple[PublicKeyCredentialRequestOptionsJSON, CeremonyState]:
        """PublicKeyCredentialRequestOptions (JSON form); no credentials: a discoverable-credential sign-in.

        ``user_handle``: the user the sign-in is for, when known; the assertion must then come from
        one of that user's credentials. With neither credentials nor a user handle the user is not
        identified before the ceremony, and the response must carry ``userHandle`` (WebAuthn L3 §7.2 step 6).
        """
        discoverable = not credentials and user_handle is None
        state = self._state("authentication", user_verification, now, user_handle, discoverable)
        if credentials:  # step 5 at completion: only a listed credential may answer
            state = dataclasses.replace(state, allowed=tuple(c.credential_id for c in credentials))
        options: PublicKeyCredentialRequestOptionsJSON = {
            "challenge": websafe_encode(state.challenge),
            "timeout": int(self.timeout * 1000),
            "rpId": self.rp_id,
            "allowCredentials": [self._descriptor(c) for c in credentials],
            "userVerification": state.user_verification,
        }
        if extensions:
            options["extensions"] = dict(extensions)
        return options, state

    def authenticate_complete(
        self,
        state: CeremonyState,
        credentials: Sequence[StoredCredential],
        response: Mapping[str, object] | str,
        *,
        now: float | None = None,
    ) -> tuple[AuthenticationResult, StoredCredential]:
        """Verify an assertion made with one of ``credentials``; returns the result and the matched credential.

        WebAuthn L3 §7.2 step 5: when the options listed credentials (allowCredentials, kept in ``state``), the
        assertion must come from one of them, whatever ``credentials`` holds. Step 6: when the user was not
        identified before the ceremony (see :meth:`authenticate_begin`), ``response.userHandle`` must be present
        and be the credential's owner's; when present it must be in any case. A BE flag that differs from the stored
        ``backup_eligible`` is refused (steps 18-19: a credential cannot change its backup eligibility).
        """
        self._check_state(state, "authentication", now)
        cred: Mapping[str, Any] = parse_credential(response)
        raw_id = _decode(cred.get("rawId", ""), "credential.rawId")
        match = next((c for c in credentials if c.credential_id == raw_id), None)
        if match is None:
            raise CredentialIdError("the credential is not one of the allowed credentials")
        response_body = cred.get("response")
        if state.discoverable and (not isinstance(response_body, Mapping) or not response_body.get("userHandle")):
            raise UserHandleError(
                "response.userHandle is required: the user was not identified before this sign-in (a passkey sign-in)"
            )
        result = verify_authentication(
            cred,
            expected_challenge=state.challenge,
            expected_origin=self.origins,
            expected_rp_id=self.rp_id,
            credential_public_key=match.public_key,
            credential_current_sign_count=match.sign_count,
            require_user_verification=state.user_verification == "required",
            reject_possible_clone=self.reject_possible_clone,
            expected_user_handle=match.user_handle,
            credential_backup_eligible=match.backup_eligible,
            allowed_credential_ids=state.allowed or None,  # §7.2 step 5, whatever ``credentials`` holds
        )
        if result.user_handle is not None and result.user_handle != match.user_handle:
            raise CredentialIdError("userHandle does not belong to the credential's user")
        if state.user_handle is not None and match.user_handle != state.user_handle:
            raise CredentialIdError("the credential does not belong to the user this sign-in was started for")
        return result, match

    def _check_state(self, state: CeremonyState, kind: str, now: float | None) -> None:
        if state.kind != kind:
            raise ChallengeMismatchError(f"the ceremony state is for {state.kind}, not {kind}")
        t = _time.time() if now is None else now
        if t > state.expires:
            raise ChallengeMismatchError("the challenge has expired")
