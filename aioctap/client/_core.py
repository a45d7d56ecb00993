"""The CTAP side of a WebAuthn client (WebAuthn L3 §5.1.3 and §5.1.4 over CTAP 2.1 §6.1/§6.2, CTAP1 for U2F).

Shared by :class:`~aioctap.client.WebAuthnClient` (JSON in and out, many devices, first touch wins) and
:class:`~aioctap.client.Fido2Client` (python-fido2's API, one device): :func:`register` and :func:`authenticate`
run one ceremony on one device, given the options in their WebAuthn JSON form, the RP ID and the client data,
and return the authenticator's answers and the client extension outputs (JSON form).
"""

from __future__ import annotations

import abc
import dataclasses
import hashlib
from collections.abc import Awaitable, Callable, Mapping, Sequence
from enum import IntEnum, unique
from typing import Any

import anyio

from .._redact import redact
from ..ctap import STATUS, CtapDevice, CtapError
from ..ctap1 import APDU, ApduError, Ctap1
from ..ctap2.base import AssertionResponse, AttestationResponse, Ctap2
from ..ctap2.extensions import (
    AuthenticationExtensionProcessor,
    Ctap2Extension,
    ExtensionError,
    RegistrationExtensionProcessor,
)
from ..ctap2.pin import ClientPin, PinProtocol
from ..hid.protocol import CAPABILITY
from ..webauthn import (
    AttestedCredentialData,
    AuthenticatorData,
    CollectedClientData,
    WebAuthnDataError,
    websafe_decode,
)

# WebAuthn L3 §5.1.3/§5.1.4: with no ``timeout`` in the options, the client sets its lifetime timer to a client
# default; §15.1 recommends 300000 ms (5 minutes). Without it, an authenticator that sends keep-alives without end
# (CTAPHID KEEPALIVE extends a call's deadline) would hold a ceremony forever.
DEFAULT_TIMEOUT_MS = 300_000


def ceremony_timeout_ms(timeout_ms: int | None) -> int:
    """The lifetime of a ceremony: the options' ``timeout`` when positive, else :data:`DEFAULT_TIMEOUT_MS`."""
    return timeout_ms if timeout_ms is not None and timeout_ms > 0 else DEFAULT_TIMEOUT_MS


class ClientError(Exception):
    """A WebAuthn operation failed on the client side: python-fido2's ``ClientError(code, cause=None)``.

    ``code`` is one of :class:`ERR` (``ClientError.ERR.BAD_REQUEST("why")`` builds one); ``cause`` says why
    (a message, or the :class:`~aioctap.ctap.CtapError` the authenticator answered). ``ClientError("why")``
    is a ``BAD_REQUEST``.
    """

    @unique
    class ERR(IntEnum):
        """python-fido2's client error codes (modelled on WebAuthn's DOMException names)."""

        OTHER_ERROR = 1
        BAD_REQUEST = 2
        CONFIGURATION_UNSUPPORTED = 3
        DEVICE_INELIGIBLE = 4
        TIMEOUT = 5

        def __call__(self, cause: object = None) -> ClientError:
            return ClientError(self, cause)

    def __init__(self, code: int | str = 1, cause: object = None) -> None:
        if isinstance(code, str):
            code, cause = ClientError.ERR.BAD_REQUEST, code
        self.code = ClientError.ERR(code)
        self.cause = cause
        super().__init__(self.code, cause)

    def __str__(self) -> str:
        return f"{self.code.name}: {self.cause}" if self.cause is not None else self.code.name

    def __repr__(self) -> str:
        r = f"Client error: {int(self.code)} - {self.code.name}"
        return r + (f" (cause: {self.cause})" if self.cause is not None else "")


class PinRequiredError(ClientError):
    """A PIN is needed and none was given (python-fido2's ``PinRequiredError``)."""

    def __init__(
        self, code: int = ClientError.ERR.BAD_REQUEST, cause: object = "PIN required but not provided"
    ) -> None:
        super().__init__(code, cause)


_ERR_FOR_CTAP: dict[int, ClientError.ERR] = {
    **dict.fromkeys(
        (CtapError.ERR.CREDENTIAL_EXCLUDED, CtapError.ERR.NO_CREDENTIALS), ClientError.ERR.DEVICE_INELIGIBLE
    ),
    **dict.fromkeys(
        (CtapError.ERR.KEEPALIVE_CANCEL, CtapError.ERR.ACTION_TIMEOUT, CtapError.ERR.USER_ACTION_TIMEOUT),
        ClientError.ERR.TIMEOUT,
    ),
    **dict.fromkeys(
        (CtapError.ERR.UNSUPPORTED_ALGORITHM, CtapError.ERR.UNSUPPORTED_OPTION, CtapError.ERR.KEY_STORE_FULL),
        ClientError.ERR.CONFIGURATION_UNSUPPORTED,
    ),
    **dict.fromkeys(
        (
            CtapError.ERR.INVALID_COMMAND,
            CtapError.ERR.CBOR_UNEXPECTED_TYPE,
            CtapError.ERR.INVALID_CBOR,
            CtapError.ERR.MISSING_PARAMETER,
            CtapError.ERR.INVALID_OPTION,
            CtapError.ERR.PUAT_REQUIRED,
            CtapError.ERR.PIN_INVALID,
            CtapError.ERR.PIN_BLOCKED,
            CtapError.ERR.PIN_NOT_SET,
            CtapError.ERR.PIN_POLICY_VIOLATION,
            CtapError.ERR.PIN_TOKEN_EXPIRED,
            CtapError.ERR.PIN_AUTH_INVALID,
            CtapError.ERR.PIN_AUTH_BLOCKED,
            CtapError.ERR.REQUEST_TOO_LARGE,
            CtapError.ERR.OPERATION_DENIED,
        ),
        ClientError.ERR.BAD_REQUEST,
    ),
}


def ctap2client_err(e: CtapError) -> ClientError:
    """The ClientError python-fido2 raises for an authenticator's status (its ``_ctap2client_err``)."""
    return ClientError(_ERR_FOR_CTAP.get(e.code, ClientError.ERR.OTHER_ERROR), e)  # an unknown code: OTHER_ERROR


class Prompts(abc.ABC):
    """What a ceremony asks of the user: a PIN, consent to built-in UV, a touch (keep-alive UPNEEDED)."""

    @abc.abstractmethod
    async def request_pin(self, permissions: ClientPin.PERMISSION, rp_id: str | None) -> str:
        """The PIN; :class:`PinRequiredError` when there is none."""

    async def request_uv(self, permissions: ClientPin.PERMISSION, rp_id: str | None) -> bool:
        """Whether built-in user verification may be used now."""
        return True

    def prompt_up(self) -> None:  # noqa: B027 - optional hook
        """The authenticator waits for a touch."""

    def on_keepalive(self, status: int) -> None:
        """A KEEPALIVE status: UPNEEDED asks for the touch once per change (the transport deduplicates)."""
        if status == STATUS.UPNEEDED:
            self.prompt_up()


PinProvider = Callable[[], Awaitable[str] | str]


class PinPrompts(Prompts):
    """A fixed PIN, or a (possibly async) callable asked only when a PIN is needed (WebAuthnClient's ``pin=``)."""

    def __init__(self, pin: str | PinProvider | None) -> None:
        self._pin = pin

    async def request_pin(self, permissions: ClientPin.PERMISSION, rp_id: str | None) -> str:
        if self._pin is None:
            raise PinRequiredError(cause="the authenticator needs a PIN and none was provided")
        if isinstance(self._pin, str):
            return self._pin
        value = self._pin()
        return value if isinstance(value, str) else await value


def _b64(value: Any, what: str) -> bytes:
    if isinstance(value, bytes):
        return value
    if not isinstance(value, str):
        raise ClientError(f"{what} is missing or not base64url")
    try:
        return websafe_decode(value)
    except (WebAuthnDataError, ValueError):
        raise ClientError(f"{what} is not valid base64url") from None


def _descriptors(items: Any, what: str) -> list[dict[str, Any]]:
    if items is None:
        return []
    if not isinstance(items, list):
        raise ClientError(f"{what} must be a list")
    out = []
    for d in items:
        if not isinstance(d, Mapping):
            raise ClientError(f"{what} items must be objects")
        if d.get("type", "public-key") == "public-key":
            out.append({"type": "public-key", "id": _b64(d.get("id"), f"{what} id")})
    return out


def _pin_protocol(ctap: Ctap2) -> PinProtocol | None:
    """The authenticator's preferred PIN/UV auth protocol among those supported, as ClientPin picks it (or None)."""
    return next((p() for p in ClientPin.PROTOCOLS if p.VERSION in ctap.info.pin_uv_protocols), None)


async def _each(steps: Sequence[Callable[..., Awaitable[Any]]], *args: Any) -> list[Any]:
    """Call one step of every extension (or extension processor) in turn: the answers that are not None (a bad
    input: ClientError)."""
    try:
        return [answer for step in steps if (answer := await step(*args)) is not None]
    except ExtensionError as e:
        raise ClientError(ClientError.ERR.CONFIGURATION_UNSUPPORTED, str(e)) from None


async def _run_extensions(
    steps: Sequence[Callable[..., Awaitable[dict[str, Any] | None]]], *args: Any
) -> dict[str, Any]:
    """Call one step of every extension processor in turn and merge their maps (a bad input: ClientError)."""
    return {key: value for part in await _each(steps, *args) for key, value in part.items()}


def _pin_uv_auth(
    protocol: PinProtocol | None, token: bytes | None, client_data_hash: bytes
) -> tuple[bytes | None, int | None]:
    """pinUvAuthParam and pinUvAuthProtocol of a request (CTAP 2.1 §6.1.2 / §6.2.2), None without a token."""
    if token is None or protocol is None:
        return None, None
    return protocol.authenticate(token, client_data_hash), protocol.VERSION


def _retry_after(e: CtapError, requirement: str, builtin_uv: bool, allow_uv: bool) -> tuple[str, bool]:
    """How to try a request again after ``e``: the new (requirement, allow_uv); ``e`` itself when it is final."""
    # alwaysUv or a protected authenticator may still want UV though the RP discouraged it
    if e.code == CtapError.ERR.PUAT_REQUIRED and requirement != "required":
        return "required", allow_uv
    if e.code == CtapError.ERR.UV_BLOCKED and builtin_uv and allow_uv:
        return requirement, False  # built-in UV blocked: once more with the PIN
    raise e


async def _retry_touch(fn: Callable[[], Awaitable[Any]], timeout: float = 30.0) -> Any:
    """U2F reports 'conditions not satisfied' until the user touches: poll, as browsers do."""
    with anyio.fail_after(timeout):
        while True:
            try:
                return await fn()
            except ApduError as e:
                if e.code != APDU.USE_NOT_SATISFIED:
                    raise
            await anyio.sleep(0.1)


def _conveyed(att: AttestationResponse, conveyance: Any) -> AttestationResponse:
    """The attestation statement as the RP asked for it (WebAuthn L3 §5.1.3 step 22, §5.4.7).

    "direct" and "enterprise" convey the statement unaltered, and so does "indirect" (the client MAY anonymize
    it; this one does not). "none" -- the default, which an unknown value also means -- replaces it with a
    "none" statement (fmt "none", attStmt {}), unless it is already self attestation (packed, no x5c, zero
    AAGUID). L3 keeps the AAGUID (L2 zeroed it).
    """
    if conveyance in ("direct", "enterprise", "indirect"):
        return att
    cred = att.auth_data.credential_data
    zero_aaguid = cred is None or bytes(cred.aaguid) == bytes(16)
    if zero_aaguid and att.fmt == "packed" and "x5c" not in att.att_stmt:  # self attestation: nothing to hide
        return att
    return dataclasses.replace(att, fmt="none", att_stmt={})


@dataclasses.dataclass(frozen=True)
class CreationRequest:
    """The members of PublicKeyCredentialCreationOptions a client acts on, checked (L3 §5.1.3 steps 5-11)."""

    rp_id: str
    rp_name: str | None
    user: dict[str, Any]
    params: list[dict[str, Any]]
    resident_key: str | None
    user_verification: str
    attachment: str | None
    exclude: list[dict[str, Any]]
    attestation: str | None
    timeout: int | None
    options: dict[str, Any]  # the JSON form, for the extensions (excludeCredentials decoded)

    @classmethod
    def parse(cls, opts: Mapping[str, Any], rp_id: str) -> CreationRequest:
        """From the JSON form of the options; ``rp_id`` is the one the client checked against its origin."""
        opts = dict(opts)
        rp, user = opts.get("rp"), opts.get("user")
        if not isinstance(rp, Mapping) or not isinstance(user, Mapping):
            raise ClientError("options need rp and user objects")
        user_id = _b64(user.get("id"), "user.id")
        if not 1 <= len(user_id) <= 64:  # §5.1.3 step 5: a TypeError in the browser, before any authenticator
            raise ClientError(f"user.id must be 1 to 64 bytes, got {len(user_id)}")
        params = [
            {"type": "public-key", "alg": p.get("alg")}
            # §5.1.3 step 10: an empty list means ES256 and RS256
            for p in opts.get("pubKeyCredParams")
            or [{"type": "public-key", "alg": -7}, {"type": "public-key", "alg": -257}]
            if isinstance(p, Mapping) and p.get("type") == "public-key" and isinstance(p.get("alg"), int)
        ]
        if not params:
            raise ClientError(
                ClientError.ERR.CONFIGURATION_UNSUPPORTED, "pubKeyCredParams names no public-key algorithm"
            )
        selection = opts.get("authenticatorSelection") or {}
        if not isinstance(selection, Mapping):
            raise ClientError("authenticatorSelection must be an object")
        resident_key = selection.get("residentKey") or ("required" if selection.get("requireResidentKey") else None)
        ctap_user = {"id": user_id, **{k: user[k] for k in ("name", "displayName") if isinstance(user.get(k), str)}}
        exclude = _descriptors(opts.get("excludeCredentials"), "excludeCredentials")
        opts["excludeCredentials"] = exclude
        timeout = opts.get("timeout")
        return cls(
            rp_id=rp_id,
            rp_name=rp["name"] if isinstance(rp.get("name"), str) else None,
            user=ctap_user,
            params=params,
            resident_key=resident_key if isinstance(resident_key, str) else None,
            user_verification=str(selection.get("userVerification") or "preferred"),
            attachment=selection.get("authenticatorAttachment")
            if isinstance(selection.get("authenticatorAttachment"), str)
            else None,
            exclude=exclude,
            attestation=opts.get("attestation") if isinstance(opts.get("attestation"), str) else None,
            timeout=timeout if isinstance(timeout, int) and not isinstance(timeout, bool) else None,
            options=opts,
        )


@dataclasses.dataclass(frozen=True)
class RequestRequest:
    """The members of PublicKeyCredentialRequestOptions a client acts on (L3 §5.1.4)."""

    rp_id: str
    allow: list[dict[str, Any]]
    user_verification: str
    timeout: int | None
    options: dict[str, Any]

    @classmethod
    def parse(cls, opts: Mapping[str, Any], rp_id: str) -> RequestRequest:
        """From the JSON form of the options; ``rp_id`` is the one the client checked against its origin."""
        opts = dict(opts)
        allow = _descriptors(opts.get("allowCredentials"), "allowCredentials")
        opts["allowCredentials"] = allow
        timeout = opts.get("timeout")
        return cls(
            rp_id=rp_id,
            allow=allow,
            user_verification=str(opts.get("userVerification") or "preferred"),
            timeout=timeout if isinstance(timeout, int) and not isinstance(timeout, bool) else None,
            options=opts,
        )


def _redacted_repr(self: Any) -> str:
    """A ceremony result's repr, secrets hidden: the extension outputs may hold some (hmac-secret, prf, largeBlob,
    credBlob)."""
    members = ", ".join(f"{f.name}={redact(getattr(self, f.name))!r}" for f in dataclasses.fields(self))
    return f"{type(self).__name__}({members})"


@dataclasses.dataclass(frozen=True)
class Registration:
    """What one authenticator answered to a create(): the attestation as conveyed, and the extension outputs."""

    client_data: CollectedClientData
    attestation: AttestationResponse
    credential: AttestedCredentialData
    extension_outputs: dict[str, Any]

    __repr__ = _redacted_repr


@dataclasses.dataclass(frozen=True)
class Assertions:
    """What one authenticator answered to a get(): every assertion, each with its extension outputs."""

    client_data: CollectedClientData
    assertions: list[AssertionResponse]
    extension_outputs: list[dict[str, Any]]

    __repr__ = _redacted_repr


async def _processors(
    ctap: Ctap2,
    extensions: Sequence[Ctap2Extension],
    opts: Mapping[str, Any],
    protocol: PinProtocol | None,
    create: bool,
) -> list[Any]:
    steps = [ext.make_credential if create else ext.get_assertion for ext in extensions]
    return await _each(steps, ctap, opts, protocol)


async def _token(
    ctap: Ctap2,
    protocol: PinProtocol | None,
    permissions: ClientPin.PERMISSION,
    rp_id: str,
    uv_requirement: str,
    rk: bool,
    prompts: Prompts,
    allow_uv: bool = True,
) -> tuple[bytes | None, bool]:
    """(pinUvAuthToken or None, use the built-in uv option) for this request (CTAP 2.1 §6.5.5.7, §6.1.2 step 1).

    Built-in UV is preferred when the user allows it (``request_uv``); when it is blocked (UV_BLOCKED) the PIN is
    used instead, as python-fido2 does.
    """
    options = ctap.info.options
    pin_set = bool(options.get("clientPin"))
    uv_set = bool(options.get("uv")) and allow_uv
    extra = permissions & ~(ClientPin.PERMISSION.MAKE_CREDENTIAL | ClientPin.PERMISSION.GET_ASSERTION)
    wanted = (
        uv_requirement == "required"
        or (uv_requirement == "preferred" and (pin_set or uv_set))
        or (rk and pin_set)
        or bool(options.get("alwaysUv"))
        or (bool(extra) and (pin_set or uv_set))
    )
    if not wanted:
        return None, False
    uv_set = uv_set and await prompts.request_uv(permissions, rp_id)
    if uv_set and protocol is not None and ClientPin.is_token_supported(ctap.info):
        try:
            token = await ClientPin(ctap, protocol).get_uv_token(permissions, rp_id, on_keepalive=prompts.on_keepalive)
            return token, False
        except CtapError as e:
            if e.code != CtapError.ERR.UV_BLOCKED or not pin_set:
                raise
            uv_set = False
    if uv_set and not extra:
        return None, True
    if pin_set and protocol is not None:
        pin = await prompts.request_pin(permissions, rp_id)
        if not pin:
            raise PinRequiredError()
        return await ClientPin(ctap, protocol).get_pin_token(pin, permissions, rp_id), False
    if uv_requirement == "required":
        raise ClientError(
            ClientError.ERR.CONFIGURATION_UNSUPPORTED,
            "user verification is required but the authenticator has no PIN or built-in UV",
        )
    return None, False


async def _select(
    ctap: Ctap2,
    rp_id: str,
    creds: list[dict[str, Any]],
    protocol: PinProtocol | None,
    token: bytes | None,
    always: bool = False,
) -> dict[str, Any] | None:
    """Which of ``creds`` the device holds: silent up=false pre-flights in chunks of maxCredentialCountInList.

    With one credential and not ``always``, that one is taken without asking (the real request says).
    """
    if len(creds) == 1 and not always:
        return creds[0]
    max_id = ctap.info.max_cred_id_length
    candidates = [c for c in creds if max_id is None or len(c["id"]) <= max_id]
    chunk = max(ctap.info.max_creds_in_list or 1, 1)
    dummy_hash = b"\0" * 32
    pin_uv_param, pin_uv_protocol = _pin_uv_auth(protocol, token, dummy_hash)
    for start in range(0, len(candidates), chunk):
        try:
            found = await ctap.get_assertion(
                rp_id,
                dummy_hash,
                allow_list=candidates[start : start + chunk],
                options={"up": False},
                pin_uv_param=pin_uv_param,
                pin_uv_protocol=pin_uv_protocol,
            )
        except CtapError as e:
            if e.code == CtapError.ERR.NO_CREDENTIALS:
                continue
            raise
        return {"type": "public-key", "id": found.credential["id"]}
    return None


async def register(
    device: CtapDevice,
    request: CreationRequest,
    client_data: CollectedClientData,
    extensions: Sequence[Ctap2Extension],
    prompts: Prompts,
    *,
    ctap: Ctap2 | None = None,
    enterprise_rp_ids: Sequence[str] | None = None,
    ctap1: Ctap1 | None = None,
) -> Registration:
    """authenticatorMakeCredential for one create() (L3 §5.1.3 step 20, CTAP 2.1 §6.1), CTAP1 on U2F-only devices.

    Enterprise attestation (L3 §5.4.7 "enterprise"): vendor-facilitated (1) unless ``enterprise_rp_ids`` is given,
    then platform-managed (2) for the RP IDs in it only (CTAP 2.1 §7.1).
    """
    if request.attachment == "platform":
        # L3 §5.1.3 step 20: an authenticator of another attachment modality is skipped; a CTAPHID device is a
        # roaming (cross-platform) one
        raise ClientError(
            ClientError.ERR.DEVICE_INELIGIBLE, "the RP asked for a platform authenticator; this one is cross-platform"
        )
    if not device.capabilities & CAPABILITY.CBOR:
        return await _register_u2f(device, request, client_data, ctap1)
    ctap = ctap or await Ctap2.create(device)
    protocol = _pin_protocol(ctap)
    can_rk = bool(ctap.info.options.get("rk"))
    if request.resident_key == "required" and not can_rk:
        raise ClientError(
            ClientError.ERR.CONFIGURATION_UNSUPPORTED,
            "a discoverable credential is required and the authenticator cannot store one",
        )
    rk = request.resident_key == "required" or (request.resident_key == "preferred" and can_rk)
    rp_id = request.rp_id
    ctap_rp = {"id": rp_id, **({"name": request.rp_name} if request.rp_name is not None else {})}
    exclude = request.exclude
    processors: list[RegistrationExtensionProcessor] = await _processors(
        ctap, extensions, request.options, protocol, True
    )
    permissions = ClientPin.PERMISSION.MAKE_CREDENTIAL
    if exclude:  # for the pre-flight that finds an excluded credential
        permissions |= ClientPin.PERMISSION.GET_ASSERTION
    for p in processors:
        permissions |= p.permissions
    ep: int | None = None
    if request.attestation == "enterprise" and ctap.info.options.get("ep"):
        if enterprise_rp_ids is None:
            ep = 1
        elif rp_id in enterprise_rp_ids:
            ep = 2
    requirement, allow_uv = request.user_verification, True
    while True:
        token, builtin_uv = await _token(ctap, protocol, permissions, rp_id, requirement, rk, prompts, allow_uv)
        # the request fails after the touch if the device holds one: still ask for it, as browsers do
        excluded = await _select(ctap, rp_id, exclude, protocol, token, always=True) if exclude else None
        ext_inputs = await _run_extensions([p.prepare_inputs for p in processors], token)
        options_map = {k: True for k, on in (("rk", rk), ("uv", builtin_uv)) if on}
        pin_uv_param, pin_uv_protocol = _pin_uv_auth(protocol, token, client_data.hash)
        try:
            att = await ctap.make_credential(
                client_data.hash,  # positional, as python-fido2's client calls it (tests assert the call)
                ctap_rp,
                request.user,
                request.params,
                [excluded] if excluded else None,
                ext_inputs or None,
                options_map or None,
                pin_uv_param,
                pin_uv_protocol,
                ep,
                on_keepalive=prompts.on_keepalive,
            )
            break
        except CtapError as e:
            requirement, allow_uv = _retry_after(e, requirement, builtin_uv, allow_uv)
    cred = att.auth_data.credential_data
    if cred is None:
        raise ClientError(ClientError.ERR.OTHER_ERROR, "the authenticator returned no credential")
    ext_out = await _run_extensions([p.prepare_outputs for p in processors], att, token)
    return Registration(client_data, _conveyed(att, request.attestation), cred, ext_out)


async def _register_u2f(
    device: CtapDevice, request: CreationRequest, client_data: CollectedClientData, ctap1: Ctap1 | None
) -> Registration:
    ctap1 = Ctap1(device) if ctap1 is None else ctap1
    app_param = hashlib.sha256(request.rp_id.encode()).digest()
    for d in request.exclude:
        try:
            await ctap1.authenticate(client_data.hash, app_param, d["id"], check_only=True)
        except ApduError as e:
            if e.code == APDU.USE_NOT_SATISFIED:
                raise ClientError(
                    ClientError.ERR.DEVICE_INELIGIBLE, "an excluded credential is on this authenticator"
                ) from None
    reg = await _retry_touch(lambda: ctap1.register(client_data.hash, app_param))
    cred = AttestedCredentialData.from_ctap1(reg.key_handle, reg.public_key)
    auth_data = AuthenticatorData.create(app_param, AuthenticatorData.FLAG.UP | AuthenticatorData.FLAG.AT, 0, cred)
    att = AttestationResponse("fido-u2f", auth_data, {"sig": reg.signature, "x5c": [reg.certificate]})
    return Registration(client_data, _conveyed(att, request.attestation), cred, {})


async def authenticate(
    device: CtapDevice,
    request: RequestRequest,
    client_data: CollectedClientData,
    extensions: Sequence[Ctap2Extension],
    prompts: Prompts,
    *,
    ctap: Ctap2 | None = None,
    every: bool = False,
    ctap1: Ctap1 | None = None,
) -> Assertions:
    """authenticatorGetAssertion for one get() (L3 §5.1.4.2, CTAP 2.1 §6.2), CTAP1 on U2F-only devices.

    ``every``: also fetch the other discoverable credentials the authenticator found (numberOfCredentials,
    authenticatorGetNextAssertion, CTAP 2.1 §6.3), as python-fido2's ``AssertionSelection`` offers them.
    """
    if not device.capabilities & CAPABILITY.CBOR:
        return await _authenticate_u2f(device, request, client_data, ctap1)
    ctap = ctap or await Ctap2.create(device)
    rp_id, allow = request.rp_id, request.allow
    protocol = _pin_protocol(ctap)
    processors: list[AuthenticationExtensionProcessor] = await _processors(
        ctap, extensions, request.options, protocol, False
    )
    permissions = ClientPin.PERMISSION.GET_ASSERTION
    for p in processors:
        permissions |= p.permissions
    requirement, allow_uv = request.user_verification, True
    while True:
        token, builtin_uv = await _token(ctap, protocol, permissions, rp_id, requirement, False, prompts, allow_uv)
        pin_uv_param, pin_uv_protocol = _pin_uv_auth(protocol, token, client_data.hash)
        selected = await _select(ctap, rp_id, allow, protocol, token)
        ext_inputs = await _run_extensions([p.prepare_inputs for p in processors], selected, token)
        try:
            first: AssertionResponse = await ctap.get_assertion(
                rp_id,
                client_data.hash,
                # none held: still ask (with one of them), so the user's touch says "not here"
                allow_list=[selected] if selected else allow[:1] or None,
                extensions=ext_inputs or None,
                options={"uv": True} if builtin_uv else None,
                pin_uv_param=pin_uv_param,
                pin_uv_protocol=pin_uv_protocol,
                on_keepalive=prompts.on_keepalive,
            )
            break
        except CtapError as e:
            requirement, allow_uv = _retry_after(e, requirement, builtin_uv, allow_uv)
    assertions = [first]
    if every and not allow:
        for _ in range(1, first.number_of_credentials or 1):
            assertions.append(await ctap.get_next_assertion(on_keepalive=prompts.on_keepalive))
    outputs = [await _run_extensions([p.prepare_outputs for p in processors], a, token) for a in assertions]
    return Assertions(client_data, assertions, outputs)


async def _authenticate_u2f(
    device: CtapDevice, request: RequestRequest, client_data: CollectedClientData, ctap1: Ctap1 | None
) -> Assertions:
    if not request.allow:
        raise ClientError(ClientError.ERR.CONFIGURATION_UNSUPPORTED, "U2F authenticators need allowCredentials")
    ctap1 = Ctap1(device) if ctap1 is None else ctap1
    app_param = hashlib.sha256(request.rp_id.encode()).digest()
    for d in request.allow:
        try:
            sig = await _retry_touch(lambda d=d: ctap1.authenticate(client_data.hash, app_param, d["id"]))  # type: ignore[misc]
        except ApduError as e:
            if e.code == APDU.WRONG_DATA:
                continue
            raise
        return Assertions(client_data, [AssertionResponse.from_ctap1(app_param, d, sig.raw)], [{}])
    raise ClientError(ClientError.ERR.DEVICE_INELIGIBLE, "none of the allowed credentials is on this authenticator")
