"""``WebAuthnClient``: WebAuthn options in, credentials in the browser's ``toJSON()`` form out, many devices.

It turns ``PublicKeyCredentialCreationOptions`` / ``PublicKeyCredentialRequestOptions`` (a dataclass such as
python-fido2's, or their WebAuthn JSON form as a dict or a string) into CTAP2 calls (CTAP1/U2F for U2F-only
devices), collecting client data and checking the origin against the RP ID as a browser does. With several
devices it asks all of them at once and takes the first that answers (the user's touch); the others are
cancelled (CTAPHID_CANCEL).
"""

from __future__ import annotations

import dataclasses
import enum
import json
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, ClassVar, Protocol, TypeVar, cast
from urllib.parse import urlsplit

import anyio
import anyio.abc
from cryptography.hazmat.primitives import serialization

from .._webauthn_types import _camel
from ..ctap import CtapDevice, CtapError, TransportError
from ..ctap1 import ApduError
from ..ctap2.base import CtapResponseError
from ..ctap2.extensions import Ctap2Extension, default_extensions
from ..ctap2.pin import PinProtocolError
from ..rpid import verify_rp_id
from ..webauthn import (
    AuthenticationResponseJSON,
    AuthenticatorAssertionResponseJSON,
    AuthenticatorAttestationResponseJSON,
    CollectedClientData,
    PublicKeyCredentialCreationOptionsJSON,
    PublicKeyCredentialRequestOptionsJSON,
    RegistrationResponseJSON,
    websafe_encode,
)
from ._core import (
    Assertions,
    ClientError,
    CreationRequest,
    PinPrompts,
    PinProvider,
    Registration,
    RequestRequest,
    _b64,
    authenticate,
    ceremony_timeout_ms,
    register,
)

__all__ = ["WebAuthnClient"]

log = logging.getLogger(__name__)

_T = TypeVar("_T")


class _Dataclass(Protocol):
    """Any dataclass instance (python-fido2's options, or the caller's own)."""

    __dataclass_fields__: ClassVar[dict[str, dataclasses.Field[Any]]]


#: what create() takes: the options as a dataclass (``CredentialCreationOptions`` or its ``publicKey``), their
#: JSON form as a dict, or that JSON as text
CreationOptionsInput = PublicKeyCredentialCreationOptionsJSON | Mapping[str, object] | _Dataclass | str | bytes
#: what get() takes, likewise
RequestOptionsInput = PublicKeyCredentialRequestOptionsJSON | Mapping[str, object] | _Dataclass | str | bytes


class WebAuthnClient:
    """``WebAuthnClient(devices, origin, *, pin=None, extensions=None)``.

    ``devices``: one :class:`~aioctap.ctap.CtapDevice` or several; ``pin``: the PIN, or a (possibly
    async) callable asked only when a PIN is needed; ``extensions``: the client extensions to process
    (default :func:`~aioctap.ctap2.extensions.default_extensions`).

    ``enterprise_rpid_list`` (python-fido2's name): the RP IDs this platform is configured (by the enterprise)
    to give enterprise attestation. When an RP asks for ``attestation: "enterprise"`` and the authenticator has
    the ``ep`` option enabled, a listed RP ID gets platform-managed enterprise attestation (makeCredential
    enterpriseAttestation 2, CTAP 2.1 §7.1.2) and an unlisted one none; without a list (None) the request is
    vendor-facilitated (1, §7.1.1), which the authenticator grants only to the RP IDs its vendor configured.
    """

    def __init__(
        self,
        devices: CtapDevice | Sequence[CtapDevice],
        origin: str,
        *,
        pin: str | PinProvider | None = None,
        extensions: Sequence[Ctap2Extension] | None = None,
        enterprise_rpid_list: Sequence[str] | None = None,
    ) -> None:
        self.devices = [devices] if isinstance(devices, CtapDevice) else list(devices)
        self.enterprise_rpid_list = None if enterprise_rpid_list is None else tuple(enterprise_rpid_list)
        if not self.devices:
            raise ClientError("no device given")
        self.origin = origin
        self._prompts = PinPrompts(pin)
        self.extensions = list(default_extensions() if extensions is None else extensions)

    def __repr__(self) -> str:
        return f"WebAuthnClient(origin={self.origin!r}, devices={len(self.devices)})"

    def _check_rp(self, rp_id: object) -> str:
        if not isinstance(rp_id, str) or not verify_rp_id(rp_id, self.origin):
            raise ClientError(f"RP ID {rp_id!r} is not valid for origin {self.origin!r}")
        return rp_id

    async def _first(self, op: Callable[[CtapDevice], Awaitable[_T]], timeout_ms: int | None = None) -> _T:
        """Run ``op`` on every device at once; the first success wins and cancels the rest.

        A device failing (an error status, a malformed answer, a lost transport) does not stop the others;
        when all fail, the last error is raised. ``timeout_ms`` (the options' ``timeout``; without one,
        :data:`~aioctap.client._core.DEFAULT_TIMEOUT_MS`) cancels them all.
        """
        result: list[_T] = []
        errors: list[Exception] = []

        async def run(device: CtapDevice, tg: anyio.abc.TaskGroup) -> None:
            try:
                value = await op(device)
            except (CtapError, ClientError, ApduError, CtapResponseError, PinProtocolError, TransportError) as e:
                errors.append(e)
                return
            if not result:
                result.append(value)
                tg.cancel_scope.cancel()

        timeout_ms = ceremony_timeout_ms(timeout_ms)  # the options' timeout, or WebAuthn's default of 5 minutes
        with anyio.move_on_after(timeout_ms / 1000) as deadline:
            if len(self.devices) == 1:
                return await op(self.devices[0])
            async with anyio.create_task_group() as tg:
                for device in self.devices:
                    tg.start_soon(run, device, tg)
        if result:
            return result[0]
        if deadline.cancelled_caught:
            raise ClientError(ClientError.ERR.TIMEOUT, f"timed out after {timeout_ms} ms: no authenticator was used")
        raise errors[-1] if errors else ClientError(ClientError.ERR.OTHER_ERROR, "no device answered")

    async def create(self, options: CreationOptionsInput) -> RegistrationResponseJSON:
        """navigator.credentials.create(): returns the RegistrationResponseJSON."""
        opts = _options(options)
        request = CreationRequest.parse(opts, "")  # the options' own checks (rp an object...) come before the RP ID's
        rp_id = self._check_rp(opts["rp"].get("id") or urlsplit(self.origin).hostname or "")
        request = dataclasses.replace(request, rp_id=rp_id)
        client_data = CollectedClientData.create(
            CollectedClientData.TYPE.CREATE, _b64(opts.get("challenge"), "challenge"), self.origin
        )

        async def op(device: CtapDevice) -> RegistrationResponseJSON:
            reg = await register(
                device,
                request,
                client_data,
                self.extensions,
                self._prompts,
                enterprise_rp_ids=self.enterprise_rpid_list,
            )
            return _registration_json(reg)

        return await self._first(op, request.timeout)

    async def get(self, options: RequestOptionsInput) -> AuthenticationResponseJSON:
        """navigator.credentials.get(): returns the AuthenticationResponseJSON."""
        opts = _options(options)
        rp_id = self._check_rp(opts.get("rpId") or urlsplit(self.origin).hostname or "")
        client_data = CollectedClientData.create(
            CollectedClientData.TYPE.GET, _b64(opts.get("challenge"), "challenge"), self.origin
        )
        request = RequestRequest.parse(opts, rp_id)

        async def op(device: CtapDevice) -> AuthenticationResponseJSON:
            found = await authenticate(device, request, client_data, self.extensions, self._prompts)
            return _authentication_json(found)

        return await self._first(op, request.timeout)


def _jsonish(value: Any) -> Any:
    """A dataclass (python-fido2's options, or the caller's own) as its WebAuthn JSON-shaped dict."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {}
        for f in dataclasses.fields(value):
            member = getattr(value, f.name)
            if member is not None:
                out[f.metadata.get("name") or _camel(f.name)] = _jsonish(member)
        return out
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Mapping):
        return {k: _jsonish(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonish(v) for v in value]
    return value


def _options(options: object) -> dict[str, Any]:
    if isinstance(options, str | bytes):
        try:
            options = json.loads(options)
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise ClientError("options are not valid JSON") from None
    options = _jsonish(options)
    if not isinstance(options, Mapping):
        raise ClientError("options must be a JSON object or a dataclass")
    inner = options.get("publicKey", options)
    if not isinstance(inner, Mapping):
        raise ClientError("options.publicKey must be an object")
    return dict(inner)


def _registration_json(reg: Registration) -> RegistrationResponseJSON:
    att, cred = reg.attestation, reg.credential
    response: AuthenticatorAttestationResponseJSON = {
        "clientDataJSON": websafe_encode(bytes(reg.client_data)),
        "attestationObject": websafe_encode(att.attestation_object()),
        "authenticatorData": websafe_encode(bytes(att.auth_data)),
        "transports": ["usb"],
        "publicKeyAlgorithm": cast(int, cred.public_key.get(3)),  # CoseKey.parse checked it is an int
    }
    try:
        spki = cred.public_key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        response["publicKey"] = websafe_encode(spki)
    except Exception:  # a key type the platform cannot express as SPKI: the member is optional
        log.debug("no SPKI form for the credential key")
    return {
        "id": websafe_encode(cred.credential_id),
        "rawId": websafe_encode(cred.credential_id),
        "type": "public-key",
        "authenticatorAttachment": "cross-platform",
        "response": response,
        "clientExtensionResults": reg.extension_outputs,
    }


def _authentication_json(found: Assertions) -> AuthenticationResponseJSON:
    """The JSON form of the first assertion (get() takes the authenticator's first)."""
    a = found.assertions[0]
    response: AuthenticatorAssertionResponseJSON = {
        "clientDataJSON": websafe_encode(bytes(found.client_data)),
        "authenticatorData": websafe_encode(bytes(a.auth_data)),
        "signature": websafe_encode(a.signature),
    }
    if a.user and isinstance(a.user.get("id"), bytes):
        response["userHandle"] = websafe_encode(a.user["id"])
    return {
        "id": websafe_encode(a.credential["id"]),
        "rawId": websafe_encode(a.credential["id"]),
        "type": "public-key",
        "authenticatorAttachment": "cross-platform",
        "response": response,
        "clientExtensionResults": found.extension_outputs[0],
    }
