"""python-fido2's ``fido2.client`` API over aioctap: ``Fido2Client`` and its collaborators, awaited where they do I/O.

``client = await Fido2Client(device, client_data_collector=..., user_interaction=...)`` (awaiting it fetches
authenticatorGetInfo for ``.info``, which python-fido2's constructor does), then ``await
client.make_credential(options)`` -> :class:`~aioctap.webauthn.RegistrationResponse` and ``await
client.get_assertion(options)`` -> :class:`AssertionSelection`. Options are python-fido2's dataclasses or their
JSON form (the ``options["publicKey"]`` that :class:`~aioctap.server.Fido2Server` produces). A
:class:`UserInteraction`'s methods may be plain functions or coroutines.
"""

from __future__ import annotations

import abc
import contextlib
import inspect
import logging
from collections.abc import Awaitable, Callable, Generator, Mapping, Sequence
from typing import TypeVar
from urllib.parse import urlsplit

import anyio
from anyio.abc import TaskGroup

from .._concurrency import task_group
from ..ctap import CtapDevice, CtapError
from ..ctap1 import ApduError, Ctap1
from ..ctap2.base import AssertionResponse, Ctap2, Info
from ..ctap2.extensions import OUTPUT_CLASSES, Ctap2Extension, default_extensions
from ..ctap2.pin import ClientPin
from ..hid.protocol import CAPABILITY
from ..rpid import verify_rp_id
from ..webauthn import (
    AttestationObject,
    AuthenticationExtensionsClientOutputs,
    AuthenticationResponse,
    AuthenticatorAssertionResponse,
    AuthenticatorAttachment,
    AuthenticatorAttestationResponse,
    CollectedClientData,
    PublicKeyCredentialCreationOptions,
    PublicKeyCredentialRequestOptions,
    PublicKeyCredentialType,
    RegistrationResponse,
)
from ._core import (
    Assertions,
    ClientError,
    CreationRequest,
    PinRequiredError,
    Prompts,
    Registration,
    RequestRequest,
    authenticate,
    ceremony_timeout_ms,
    ctap2client_err,
    register,
)

__all__ = ["AssertionSelection", "ClientDataCollector", "DefaultClientDataCollector", "Fido2Client", "UserInteraction"]

log = logging.getLogger(__name__)

_T = TypeVar("_T")
_Options = PublicKeyCredentialCreationOptions | PublicKeyCredentialRequestOptions


class UserInteraction:
    """What the client asks of the user (python-fido2's ``UserInteraction``); subclass it.

    Each method may be a plain method or a coroutine function.
    """

    def prompt_up(self) -> Awaitable[None] | None:
        """The authenticator waits for a touch (a KEEPALIVE with status UPNEEDED)."""
        log.info("User Presence check required.")
        return None

    def request_pin(self, permissions: ClientPin.PERMISSION, rp_id: str | None) -> str | Awaitable[str | None] | None:
        """The PIN, or None (or empty) to cancel: the request then fails with :class:`PinRequiredError`."""
        log.info("PIN requested, but UserInteraction does not support it.")
        return None

    def request_uv(self, permissions: ClientPin.PERMISSION, rp_id: str | None) -> bool | Awaitable[bool]:
        """Whether the authenticator's built-in user verification may be used now (False: the PIN instead)."""
        log.info("User Verification requested.")
        return True


async def _maybe_await(value: _T | Awaitable[_T]) -> _T:
    if inspect.isawaitable(value):
        return await value
    return value


class _UserPrompts(Prompts):
    """A :class:`UserInteraction` as the ceremony's prompts; an async ``prompt_up`` runs in ``tg``."""

    def __init__(self, interaction: UserInteraction, tg: TaskGroup) -> None:
        self._interaction = interaction
        self._tg = tg

    async def request_pin(self, permissions: ClientPin.PERMISSION, rp_id: str | None) -> str:
        pin = await _maybe_await(self._interaction.request_pin(permissions, rp_id))
        if not pin:
            raise PinRequiredError()
        return pin

    async def request_uv(self, permissions: ClientPin.PERMISSION, rp_id: str | None) -> bool:
        return bool(await _maybe_await(self._interaction.request_uv(permissions, rp_id)))

    def prompt_up(self) -> None:
        result = self._interaction.prompt_up()
        if inspect.isawaitable(result):

            async def run() -> None:
                await result

            self._tg.start_soon(run)


class ClientDataCollector(abc.ABC):
    """Supplies the client data and RP ID of a request (python-fido2's ``ClientDataCollector``)."""

    @abc.abstractmethod
    def collect_client_data(self, options: _Options) -> tuple[CollectedClientData, str]:
        """(CollectedClientData, the RP ID) for ``options``; ClientError when the RP ID is not allowed."""


class DefaultClientDataCollector(ClientDataCollector):
    """Client data for one fixed origin; the RP ID is checked with ``verify`` (L3 §5.1.3 step 8, §5.1.4.1 step 8)."""

    def __init__(self, origin: str, verify: Callable[[str, str], bool] = verify_rp_id) -> None:
        self._origin = origin
        self._verify = verify

    def get_rp_id(self, options: _Options, origin: str) -> str:
        """The RP ID of ``options``, or the origin's effective domain (its host, L3 §5.1.3 step 7) when they name none.

        python-fido2 takes the origin's ``netloc`` (port included) and refuses a non-https origin here; the host is
        what WebAuthn says, and whether the origin may use it (a secure context) is :meth:`verify_rp_id`'s check.
        """
        if isinstance(options, PublicKeyCredentialCreationOptions):
            rp_id = options.rp.id
        elif isinstance(options, PublicKeyCredentialRequestOptions):
            rp_id = options.rp_id
        else:
            raise ValueError("Invalid options type.")
        if rp_id is None:
            host = urlsplit(origin).hostname
            if not host:
                raise ClientError.ERR.BAD_REQUEST(f"origin {origin!r} has no host to take the RP ID from")
            return host
        return rp_id

    def verify_rp_id(self, rp_id: str, origin: str) -> None:
        """ClientError(BAD_REQUEST) unless ``rp_id`` may be used from ``origin``."""
        try:
            if self._verify(rp_id, origin):
                return
        except Exception:
            pass
        raise ClientError.ERR.BAD_REQUEST(f"RP ID {rp_id!r} is not valid for origin {origin!r}")

    def get_request_type(self, options: _Options) -> str:
        """``webauthn.create`` or ``webauthn.get`` (L3 §5.8.1)."""
        if isinstance(options, PublicKeyCredentialCreationOptions):
            return CollectedClientData.TYPE.CREATE
        if isinstance(options, PublicKeyCredentialRequestOptions):
            return CollectedClientData.TYPE.GET
        raise ValueError("Invalid options type.")

    def collect_client_data(self, options: _Options) -> tuple[CollectedClientData, str]:
        """The client data of ``options`` from this origin (L3 §5.8.1.1) and the RP ID, checked (step 8)."""
        rp_id = self.get_rp_id(options, self._origin)
        self.verify_rp_id(rp_id, self._origin)
        client_data = CollectedClientData.create(self.get_request_type(options), options.challenge, self._origin)
        return client_data, rp_id


class AssertionSelection:
    """The answer of a get(): one or more assertions (several when the RP gave no allowCredentials and the
    authenticator holds several discoverable credentials); pick one with :meth:`get_response`."""

    def __init__(
        self,
        client_data: CollectedClientData,
        assertions: Sequence[AssertionResponse],
        extension_results: Mapping[str, object] | None = None,
    ) -> None:
        self._client_data = client_data
        self._assertions = list(assertions)
        self._extension_results: list[Mapping[str, object]] = [extension_results or {}] * len(self._assertions)

    def get_assertions(self) -> Sequence[AssertionResponse]:
        """The authenticator's assertions, to inspect (``.user``, ``.credential``) before choosing one."""
        return self._assertions

    def get_response(self, index: int) -> AuthenticationResponse:
        """The AuthenticationResponse (PublicKeyCredential) for assertion ``index``."""
        assertion = self._assertions[index]
        user = assertion.user
        return AuthenticationResponse(
            raw_id=assertion.credential["id"],
            response=AuthenticatorAssertionResponse(
                client_data=self._client_data,
                authenticator_data=assertion.auth_data,
                signature=assertion.signature,
                user_handle=user["id"] if user and isinstance(user.get("id"), bytes) else None,
            ),
            authenticator_attachment=AuthenticatorAttachment.CROSS_PLATFORM,
            client_extension_results=AuthenticationExtensionsClientOutputs(
                _rich_outputs(self._extension_results[index])
            ),
            type=PublicKeyCredentialType.PUBLIC_KEY,
        )

    @classmethod
    def _from(cls, found: Assertions) -> AssertionSelection:
        selection = cls(found.client_data, found.assertions)
        selection._extension_results = list(found.extension_outputs)
        return selection


def _rich_outputs(outputs: Mapping[str, object]) -> dict[str, object]:
    """The extension outputs with python-fido2's data classes for the known ones (their attribute form)."""
    out = dict(outputs)
    for key, cls in OUTPUT_CLASSES.items():
        value = out.get(key)
        if isinstance(value, Mapping):
            with contextlib.suppress(ValueError):  # an output this version does not model: kept as given
                out[key] = cls.from_dict(value)
    return out


class _Backend:
    """python-fido2's ``Fido2Client._backend``: the session a U2F-only device is spoken to with (``ctap1``)."""

    def __init__(self, ctap1: Ctap1) -> None:
        self.ctap1 = ctap1


def _ctap2_class() -> type[Ctap2]:
    """``aioctap.client.Ctap2`` looked up when used: tests patch it there, as python-fido2's patch ``fido2.client``."""
    from . import Ctap2 as ctap2_class

    return ctap2_class


class Fido2Client:
    """python-fido2's ``Fido2Client(device, client_data_collector, user_interaction=..., extensions=...)``.

    ``await Fido2Client(...)`` fetches the authenticator's info (``.info``); a client not awaited fetches it at its
    first request. CTAP2 devices get CTAP2, U2F-only ones CTAP1 (``.info`` then says ``U2F_V2`` only).
    """

    def __init__(
        self,
        device: CtapDevice,
        client_data_collector: ClientDataCollector,
        user_interaction: UserInteraction | None = None,
        extensions: Sequence[Ctap2Extension] | None = None,
    ) -> None:
        self.device = device
        self._client_data_collector = client_data_collector
        self._user_interaction = user_interaction or UserInteraction()
        self._extensions = list(default_extensions() if extensions is None else extensions)
        self._enterprise_rpid_list: Sequence[str] | None = None
        self._ctap2: Ctap2 | None = None
        self._info: Info | None = None
        self._backend = _Backend(Ctap1(device))

    def __repr__(self) -> str:
        return f"Fido2Client(device={self.device!r})"

    async def _connect(self) -> Fido2Client:
        if self._info is None:
            if self.device.capabilities & CAPABILITY.CBOR:
                try:
                    ctap2 = _ctap2_class()(self.device)
                    self._info = await ctap2.get_info()
                    self._ctap2 = ctap2
                except CtapError as e:
                    raise ctap2client_err(e) from None
            else:
                self._info = Info.from_dict({1: ["U2F_V2"], 3: bytes(16)})
        return self

    def __await__(self) -> Generator[object, None, Fido2Client]:
        return self._connect().__await__()

    @property
    def info(self) -> Info:
        """The authenticator's getInfo (a U2F-only device: versions ``["U2F_V2"]``); ``await`` the client first."""
        if self._info is None:
            raise RuntimeError("Fido2Client.info is not known yet: use 'client = await Fido2Client(...)'")
        return self._info

    async def selection(self) -> None:
        """authenticatorSelection (CTAP 2.1 §6.9): wait for the user to touch this authenticator."""
        await self._connect()
        ctap = self._ctap2
        if ctap is None or "FIDO_2_1" not in self.info.versions:
            raise ClientError.ERR.CONFIGURATION_UNSUPPORTED("the authenticator has no authenticatorSelection")
        await self._run(None, lambda prompts: ctap.selection(on_keepalive=prompts.on_keepalive))

    async def _run(self, timeout_ms: int | None, body: Callable[[Prompts], Awaitable[_T]]) -> _T:
        await self._connect()
        timeout_ms = ceremony_timeout_ms(timeout_ms)  # the options' timeout, or WebAuthn's default of 5 minutes
        try:
            with anyio.fail_after(timeout_ms / 1000):
                async with task_group() as tg:
                    return await body(_UserPrompts(self._user_interaction, tg))
        except TimeoutError:
            raise ClientError.ERR.TIMEOUT(f"no answer within {timeout_ms} ms") from None
        except CtapError as e:
            raise ctap2client_err(e) from None
        except ApduError as e:
            raise ClientError.ERR.OTHER_ERROR(e) from None

    async def make_credential(
        self, options: PublicKeyCredentialCreationOptions | Mapping[str, object]
    ) -> RegistrationResponse:
        """navigator.credentials.create() (WebAuthn L3 §5.1.3) with this authenticator. Awaited.

        Raises:
            aioctap.client.ClientError: its ``code`` says why, as a browser's DOMException would: BAD_REQUEST
                (invalid options), CONFIGURATION_UNSUPPORTED, DEVICE_INELIGIBLE, TIMEOUT (the options'
                ``timeout``) or OTHER_ERROR; an authenticator's ``CtapError`` is its ``cause``.
        """
        parsed = _parse(PublicKeyCredentialCreationOptions, options)
        client_data, rp_id = self._client_data_collector.collect_client_data(parsed)
        request = CreationRequest.parse(dict(parsed), rp_id)

        async def body(prompts: Prompts) -> RegistrationResponse:
            return _registration_response(
                await register(
                    self.device,
                    request,
                    client_data,
                    self._extensions,
                    prompts,
                    ctap=self._ctap2,
                    enterprise_rp_ids=self._enterprise_rpid_list,
                    ctap1=self._backend.ctap1,
                )
            )

        return await self._run(parsed.timeout, body)

    async def get_assertion(
        self, options: PublicKeyCredentialRequestOptions | Mapping[str, object]
    ) -> AssertionSelection:
        """navigator.credentials.get() (WebAuthn L3 §5.1.4) with this authenticator: every assertion it gives.

        Awaited.

        Raises:
            aioctap.client.ClientError: its ``code`` says why, as a browser's DOMException would: BAD_REQUEST
                (invalid options), CONFIGURATION_UNSUPPORTED, DEVICE_INELIGIBLE, TIMEOUT (the options'
                ``timeout``) or OTHER_ERROR; an authenticator's ``CtapError`` is its ``cause``.
        """
        parsed = _parse(PublicKeyCredentialRequestOptions, options)
        client_data, rp_id = self._client_data_collector.collect_client_data(parsed)
        request = RequestRequest.parse(dict(parsed), rp_id)

        async def body(prompts: Prompts) -> AssertionSelection:
            found = await authenticate(
                self.device,
                request,
                client_data,
                self._extensions,
                prompts,
                ctap=self._ctap2,
                every=True,
                ctap1=self._backend.ctap1,
            )
            return AssertionSelection._from(found)

        return await self._run(parsed.timeout, body)


_O = TypeVar("_O", PublicKeyCredentialCreationOptions, PublicKeyCredentialRequestOptions)


def _parse(cls: type[_O], options: _O | Mapping[str, object]) -> _O:
    """The options as python-fido2's dataclass (``from_dict`` gives an instance back as it is); a
    ``{"publicKey": ...}`` wrapper is taken off."""
    if isinstance(options, Mapping) and "publicKey" in options and isinstance(options["publicKey"], Mapping):
        options = options["publicKey"]
    try:
        return cls.from_dict(options)
    except (TypeError, ValueError) as e:
        raise ClientError.ERR.BAD_REQUEST(f"invalid options: {e}") from None


def _registration_response(reg: Registration) -> RegistrationResponse:
    att = reg.attestation
    return RegistrationResponse(
        raw_id=reg.credential.credential_id,
        response=AuthenticatorAttestationResponse(
            client_data=reg.client_data,
            attestation_object=AttestationObject.create(att.fmt, att.auth_data, att.att_stmt),
        ),
        authenticator_attachment=AuthenticatorAttachment.CROSS_PLATFORM,
        client_extension_results=AuthenticationExtensionsClientOutputs(_rich_outputs(reg.extension_outputs)),
        type=PublicKeyCredentialType.PUBLIC_KEY,
    )
