"""An async WebAuthn client: WebAuthn options in, credentials in the browser's ``toJSON()`` form out.

``WebAuthnClient(devices, origin, pin=...)`` turns ``PublicKeyCredentialCreationOptions`` /
``PublicKeyCredentialRequestOptions`` (a dataclass such as python-fido2's, or their WebAuthn JSON
form as a dict or a string) into CTAP2 calls (CTAP1/U2F for U2F-only devices), collecting client
data and checking the origin against the RP ID as a browser does. Client extensions (prf,
hmacCreateSecret/hmacGetSecret, largeBlob, credBlob/getCredBlob, credProtect, minPinLength, credProps)
go through :mod:`aioctap.ctap2.extensions`. With several devices it asks all of them at once and
takes the first that answers (the user's touch); the others are cancelled (CTAPHID_CANCEL).
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import hashlib
import ipaddress
import json
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

import anyio
import anyio.abc
from cryptography.hazmat.primitives import serialization
from publicsuffixlist import PublicSuffixList

from .cose import ES256
from .ctap import CtapDevice, CtapError, TransportError
from .ctap1 import APDU, ApduError, Ctap1
from .ctap2.base import AssertionResponse, AttestationResponse, Ctap2, CtapResponseError
from .ctap2.extensions import (
    AuthenticationExtensionProcessor,
    Ctap2Extension,
    ExtensionError,
    RegistrationExtensionProcessor,
    default_extensions,
)
from .ctap2.pin import ClientPin, PinProtocol, PinProtocolError
from .hid.protocol import CAPABILITY
from .webauthn import (
    AttestedCredentialData,
    AuthenticatorData,
    CollectedClientData,
    WebAuthnDataError,
    websafe_decode,
    websafe_encode,
)

__all__ = ["ClientError", "WebAuthnClient", "verify_rp_id"]

log = logging.getLogger(__name__)

PinProvider = Callable[[], Awaitable[str] | str]


class ClientError(Exception):
    """The WebAuthn operation failed on the client side (bad options, origin, no device answered)."""


@functools.cache
def _public_suffix_list() -> PublicSuffixList:
    """The public suffix list (ICANN and private sections, as browsers apply it), loaded on first use."""
    return PublicSuffixList()


def _ip_address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host.removeprefix("[").removesuffix("]"))
    except ValueError:
        return None


def _secure_context(scheme: str, host: str) -> bool:
    """HTML's potentially trustworthy origin: https, or http on localhost, *.localhost or a loopback address."""
    if scheme == "https":
        return True
    if scheme != "http":
        return False
    if host == "localhost" or host.endswith(".localhost"):
        return True
    ip = _ip_address(host)
    return ip is not None and ip.is_loopback


def verify_rp_id(rp_id: str, origin: str) -> bool:
    """Whether *rp_id* may be used from *origin* (WebAuthn L3 §5.1.3 step 8, §5.1.4.1 step 8).

    The origin must be a secure context, and the RP ID must be "a registrable domain suffix of or equal to" its
    host (HTML): the host itself, or, for a domain host, a dot-suffix of it that is not a public suffix (``com``,
    ``co.uk``, ``github.io``). An IP address only ever matches itself.
    """
    try:
        parts = urlsplit(origin)
        host = (parts.hostname or "").lower()
    except ValueError:
        return False
    rp_id = rp_id.lower()
    if not host or not rp_id or not _secure_context(parts.scheme, host):
        return False
    host_ip = _ip_address(host)
    rp_ip = _ip_address(rp_id)
    if host_ip is not None or rp_ip is not None:
        return host_ip is not None and host_ip == rp_ip
    if host == rp_id:
        return True
    if not host.endswith("." + rp_id):
        return False
    psl = _public_suffix_list()
    if psl.is_public(rp_id):
        return False
    # HTML: nor may the RP ID be a dot-suffix of the host's own public suffix
    host_suffix = psl.publicsuffix(host)
    return not (isinstance(host_suffix, str) and (host_suffix == rp_id or host_suffix.endswith("." + rp_id)))


def _camel(name: str) -> str:
    first, *rest = name.split("_")
    return first + "".join(p.title() for p in rest)


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


def _options(options: Any) -> dict[str, Any]:
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
    for proto in ClientPin.PROTOCOLS:
        if proto.VERSION in ctap.info.pin_uv_protocols:
            return proto()
    return None


def _merge(parts: Sequence[dict[str, Any] | None]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for part in parts:
        if part:
            out.update(part)
    return out


async def _run_extensions(
    steps: Sequence[Callable[..., Awaitable[dict[str, Any] | None]]], *args: Any
) -> dict[str, Any]:
    """Call one step of every extension processor in turn and merge their maps (a bad input: ClientError)."""
    try:
        return _merge([await step(*args) for step in steps])
    except ExtensionError as e:
        raise ClientError(str(e)) from None


def _pin_uv_auth(
    protocol: PinProtocol | None, token: bytes | None, client_data_hash: bytes
) -> tuple[bytes | None, int | None]:
    """pinUvAuthParam and pinUvAuthProtocol of a request (CTAP 2.1 §6.1.2 / §6.2.2), None without a token."""
    if token is None or protocol is None:
        return None, None
    return protocol.authenticate(token, client_data_hash), protocol.VERSION


def _retry_after(e: CtapError, requirement: str, builtin_uv: bool, allow_uv: bool) -> tuple[str, bool] | None:
    """How to try a request again after ``e``: the new (requirement, allow_uv), or None to raise ``e``."""
    # alwaysUv or a protected authenticator may still want UV though the RP discouraged it
    if e.code == CtapError.ERR.PUAT_REQUIRED and requirement != "required":
        return "required", allow_uv
    if e.code == CtapError.ERR.UV_BLOCKED and builtin_uv and allow_uv:
        return requirement, False  # built-in UV blocked: once more with the PIN
    return None


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
        self._pin = pin
        self.extensions = list(default_extensions() if extensions is None else extensions)

    def __repr__(self) -> str:
        return f"WebAuthnClient(origin={self.origin!r}, devices={len(self.devices)})"

    async def _get_pin(self) -> str:
        if self._pin is None:
            raise ClientError("the authenticator needs a PIN and none was provided")
        if isinstance(self._pin, str):
            return self._pin
        value = self._pin()
        return value if isinstance(value, str) else await value

    def _check_rp(self, rp_id: Any) -> str:
        if not isinstance(rp_id, str) or not verify_rp_id(rp_id, self.origin):
            raise ClientError(f"RP ID {rp_id!r} is not valid for origin {self.origin!r}")
        return rp_id

    async def _first(
        self, op: Callable[[CtapDevice], Awaitable[dict[str, Any]]], timeout_ms: Any = None
    ) -> dict[str, Any]:
        """Run ``op`` on every device at once; the first success wins and cancels the rest.

        A device failing (an error status, a malformed answer, a lost transport) does not stop the others;
        when all fail, the last error is raised. ``timeout_ms`` (the options' ``timeout``) cancels them all.
        """
        result: list[dict[str, Any]] = []
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

        timeout = timeout_ms / 1000 if isinstance(timeout_ms, int | float) and timeout_ms > 0 else None
        with anyio.move_on_after(timeout) as deadline:
            if len(self.devices) == 1:
                return await op(self.devices[0])
            async with anyio.create_task_group() as tg:
                for device in self.devices:
                    tg.start_soon(run, device, tg)
        if result:
            return result[0]
        if deadline.cancelled_caught:
            raise ClientError(f"timed out after {timeout_ms} ms: no authenticator was used")
        raise errors[-1] if errors else ClientError("no device answered")

    async def _token(
        self,
        ctap: Ctap2,
        protocol: PinProtocol | None,
        permissions: ClientPin.PERMISSION,
        rp_id: str,
        uv_requirement: str,
        rk: bool,
        allow_uv: bool = True,
    ) -> tuple[bytes | None, bool]:
        """(pinUvAuthToken or None, use the built-in uv option) for this request.

        Built-in UV is preferred; when it is blocked (UV_BLOCKED) the PIN is used instead, as python-fido2 does.
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
        if uv_set and protocol is not None and ClientPin.is_token_supported(ctap.info):
            try:
                return await ClientPin(ctap, protocol).get_uv_token(permissions, rp_id), False
            except CtapError as e:
                if e.code != CtapError.ERR.UV_BLOCKED or not pin_set:
                    raise
                uv_set = False
        if uv_set and not extra:
            return None, True
        if pin_set and protocol is not None:
            return await ClientPin(ctap, protocol).get_pin_token(await self._get_pin(), permissions, rp_id), False
        if uv_requirement == "required":
            raise ClientError("user verification is required but the authenticator has no PIN or built-in UV")
        return None, False

    def _enterprise_attestation(self, ctap: Ctap2, rp_id: str, conveyance: Any) -> int | None:
        """makeCredential's enterpriseAttestation for this request (WebAuthn L3 §5.1.3 step 22, CTAP 2.1 §7.1):
        2 (platform-managed) for an RP ID on ``enterprise_rpid_list``, 1 (vendor-facilitated) when there is no
        list, None when the RP did not ask for it, the authenticator has no ``ep`` enabled, or the RP ID is not
        on the list."""
        if conveyance != "enterprise" or not ctap.info.options.get("ep"):
            return None
        if self.enterprise_rpid_list is None:
            return 1
        return 2 if rp_id in self.enterprise_rpid_list else None

    async def _processors(
        self, ctap: Ctap2, opts: Mapping[str, Any], protocol: PinProtocol | None, create: bool
    ) -> list[Any]:
        out: list[Any] = []
        try:
            for ext in self.extensions:
                if create:
                    proc: Any = await ext.make_credential(ctap, opts, protocol)
                else:
                    proc = await ext.get_assertion(ctap, opts, protocol)
                if proc is not None:
                    out.append(proc)
        except ExtensionError as e:
            raise ClientError(str(e)) from None
        return out

    # -- create -----------------------------------------------------------------------------------

    async def create(self, options: Any) -> dict[str, Any]:
        """navigator.credentials.create(): returns the RegistrationResponseJSON."""
        opts = _options(options)
        rp = opts.get("rp")
        user = opts.get("user")
        if not isinstance(rp, Mapping) or not isinstance(user, Mapping):
            raise ClientError("options need rp and user objects")
        user_id = _b64(user.get("id"), "user.id")
        if not 1 <= len(user_id) <= 64:  # §5.1.3 step 5: a TypeError in the browser, before any authenticator
            raise ClientError(f"user.id must be 1 to 64 bytes, got {len(user_id)}")
        rp_id = self._check_rp(rp.get("id") or urlsplit(self.origin).hostname or "")
        challenge = _b64(opts.get("challenge"), "challenge")
        conveyance = opts.get("attestation")
        client_data = CollectedClientData.create(CollectedClientData.TYPE.CREATE, challenge, self.origin)
        params = [
            {"type": "public-key", "alg": p.get("alg")}
            for p in opts.get("pubKeyCredParams") or [{"type": "public-key", "alg": -7}]
            if isinstance(p, Mapping) and p.get("type") == "public-key" and isinstance(p.get("alg"), int)
        ]
        if not params:
            raise ClientError("pubKeyCredParams names no public-key algorithm")
        selection = opts.get("authenticatorSelection") or {}
        if not isinstance(selection, Mapping):
            raise ClientError("authenticatorSelection must be an object")
        resident_key = selection.get("residentKey") or ("required" if selection.get("requireResidentKey") else None)
        uv_req = selection.get("userVerification", "preferred")
        ctap_user: dict[str, Any] = {"id": user_id}
        for k in ("name", "displayName"):
            if isinstance(user.get(k), str):
                ctap_user[k] = user[k]
        ctap_rp = {"id": rp_id, **({"name": rp["name"]} if isinstance(rp.get("name"), str) else {})}
        exclude = _descriptors(opts.get("excludeCredentials"), "excludeCredentials")
        opts["excludeCredentials"] = exclude

        async def op(device: CtapDevice) -> dict[str, Any]:
            if not device.capabilities & CAPABILITY.CBOR:
                return await self._create_u2f(device, rp_id, client_data, exclude, conveyance)
            ctap = await Ctap2.create(device)
            protocol = _pin_protocol(ctap)
            can_rk = bool(ctap.info.options.get("rk"))
            if resident_key == "required" and not can_rk:
                raise ClientError("a discoverable credential is required and the authenticator cannot store one")
            rk = resident_key == "required" or (resident_key == "preferred" and can_rk)
            processors: list[RegistrationExtensionProcessor] = await self._processors(ctap, opts, protocol, True)
            permissions = ClientPin.PERMISSION.MAKE_CREDENTIAL
            if exclude:  # for the pre-flight that finds an excluded credential
                permissions |= ClientPin.PERMISSION.GET_ASSERTION
            for p in processors:
                permissions |= p.permissions
            requirement, allow_uv = uv_req, True
            while True:
                token, builtin_uv = await self._token(ctap, protocol, permissions, rp_id, requirement, rk, allow_uv)
                # the request fails after the touch if the device holds one: still ask for it, as browsers do
                excluded = await self._select(ctap, rp_id, exclude, protocol, token, always=True) if exclude else None
                ext_inputs = await _run_extensions([p.prepare_inputs for p in processors], token)
                options_map = {k: True for k, on in (("rk", rk), ("uv", builtin_uv)) if on}
                ep = self._enterprise_attestation(ctap, rp_id, conveyance)
                pin_uv_param, pin_uv_protocol = _pin_uv_auth(protocol, token, client_data.hash)
                try:
                    att = await ctap.make_credential(
                        client_data.hash,
                        ctap_rp,
                        ctap_user,
                        params,
                        exclude_list=[excluded] if excluded else None,
                        extensions=ext_inputs or None,
                        options=options_map or None,
                        pin_uv_param=pin_uv_param,
                        pin_uv_protocol=pin_uv_protocol,
                        enterprise_attestation=ep,
                    )
                except CtapError as e:
                    retry = _retry_after(e, requirement, builtin_uv, allow_uv)
                    if retry is None:
                        raise
                    requirement, allow_uv = retry
                    continue
                break
            cred = att.auth_data.credential_data
            if cred is None:
                raise ClientError("the authenticator returned no credential")
            ext_out = await _run_extensions([p.prepare_outputs for p in processors], att, token)
            return _registration_json(client_data, _conveyed(att, conveyance), cred, ext_out)

        return await self._first(op, opts.get("timeout"))

    async def _create_u2f(
        self,
        device: CtapDevice,
        rp_id: str,
        client_data: CollectedClientData,
        exclude: list[dict[str, Any]],
        conveyance: Any,
    ) -> dict[str, Any]:
        ctap1 = Ctap1(device)
        app_param = hashlib.sha256(rp_id.encode()).digest()
        for d in exclude:
            try:
                await ctap1.authenticate(client_data.hash, app_param, d["id"], check_only=True)
            except ApduError as e:
                if e.code == APDU.USE_NOT_SATISFIED:
                    raise ClientError("an excluded credential is on this authenticator") from None
        reg = await _retry_touch(lambda: ctap1.register(client_data.hash, app_param))
        key = ES256.from_raw(reg.public_key)
        cred = AttestedCredentialData.create(b"\0" * 16, reg.key_handle, key)
        auth_data = AuthenticatorData.create(app_param, AuthenticatorData.FLAG.UP | AuthenticatorData.FLAG.AT, 0, cred)
        att = AttestationResponse("fido-u2f", auth_data, {"sig": reg.signature, "x5c": [reg.certificate]})
        return _registration_json(client_data, _conveyed(att, conveyance), cred, {})

    # -- get --------------------------------------------------------------------------------------

    async def get(self, options: Any) -> dict[str, Any]:
        """navigator.credentials.get(): returns the AuthenticationResponseJSON."""
        opts = _options(options)
        rp_id = self._check_rp(opts.get("rpId") or urlsplit(self.origin).hostname or "")
        challenge = _b64(opts.get("challenge"), "challenge")
        client_data = CollectedClientData.create(CollectedClientData.TYPE.GET, challenge, self.origin)
        allow = _descriptors(opts.get("allowCredentials"), "allowCredentials")
        opts["allowCredentials"] = allow
        uv_req = opts.get("userVerification", "preferred")

        async def op(device: CtapDevice) -> dict[str, Any]:
            if not device.capabilities & CAPABILITY.CBOR:
                return await self._get_u2f(device, rp_id, client_data, allow)
            ctap = await Ctap2.create(device)
            protocol = _pin_protocol(ctap)
            processors: list[AuthenticationExtensionProcessor] = await self._processors(ctap, opts, protocol, False)
            permissions = ClientPin.PERMISSION.GET_ASSERTION
            for p in processors:
                permissions |= p.permissions
            requirement, allow_uv = uv_req, True
            while True:
                token, builtin_uv = await self._token(ctap, protocol, permissions, rp_id, requirement, False, allow_uv)
                pin_uv_param, pin_uv_protocol = _pin_uv_auth(protocol, token, client_data.hash)
                selected = await self._select(ctap, rp_id, allow, protocol, token)
                ext_inputs = await _run_extensions([p.prepare_inputs for p in processors], selected, token)
                try:
                    assertion: AssertionResponse = await ctap.get_assertion(
                        rp_id,
                        client_data.hash,
                        # none held: still ask (with one of them), so the user's touch says "not here"
                        allow_list=[selected] if selected else allow[:1] or None,
                        extensions=ext_inputs or None,
                        options={"uv": True} if builtin_uv else None,
                        pin_uv_param=pin_uv_param,
                        pin_uv_protocol=pin_uv_protocol,
                    )
                except CtapError as e:
                    retry = _retry_after(e, requirement, builtin_uv, allow_uv)
                    if retry is None:
                        raise
                    requirement, allow_uv = retry
                    continue
                break
            ext_out = await _run_extensions([p.prepare_outputs for p in processors], assertion, token)
            return _authentication_json(
                client_data, assertion.credential["id"], bytes(assertion.auth_data), assertion.signature,
                assertion.user, ext_out,
            )  # fmt: skip

        return await self._first(op, opts.get("timeout"))

    @staticmethod
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
        pin_uv_param = pin_uv_protocol = None
        if token is not None and protocol is not None:
            pin_uv_param, pin_uv_protocol = protocol.authenticate(token, dummy_hash), protocol.VERSION
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

    async def _get_u2f(
        self, device: CtapDevice, rp_id: str, client_data: CollectedClientData, allow: list[dict[str, Any]]
    ) -> dict[str, Any]:
        if not allow:
            raise ClientError("U2F authenticators need allowCredentials")
        ctap1 = Ctap1(device)
        app_param = hashlib.sha256(rp_id.encode()).digest()
        for d in allow:
            try:
                sig = await _retry_touch(lambda d=d: ctap1.authenticate(client_data.hash, app_param, d["id"]))  # type: ignore[misc]
            except ApduError as e:
                if e.code == APDU.WRONG_DATA:
                    continue
                raise
            auth = AssertionResponse.from_ctap1(app_param, d, sig.raw)
            return _authentication_json(client_data, d["id"], bytes(auth.auth_data), auth.signature, None, {})
        raise ClientError("none of the allowed credentials is on this authenticator")


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


def _registration_json(
    client_data: CollectedClientData,
    att: AttestationResponse,
    cred: AttestedCredentialData,
    ext_out: dict[str, Any],
) -> dict[str, Any]:
    response: dict[str, Any] = {
        "clientDataJSON": websafe_encode(bytes(client_data)),
        "attestationObject": websafe_encode(att.attestation_object()),
        "authenticatorData": websafe_encode(bytes(att.auth_data)),
        "transports": ["usb"],
        "publicKeyAlgorithm": cred.public_key.get(3),
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
        "clientExtensionResults": ext_out,
    }


def _authentication_json(
    client_data: CollectedClientData,
    credential_id: bytes,
    auth_data: bytes,
    signature: bytes,
    user: Mapping[str, Any] | None,
    ext_out: dict[str, Any],
) -> dict[str, Any]:
    response: dict[str, Any] = {
        "clientDataJSON": websafe_encode(bytes(client_data)),
        "authenticatorData": websafe_encode(auth_data),
        "signature": websafe_encode(signature),
    }
    if user and isinstance(user.get("id"), bytes):
        response["userHandle"] = websafe_encode(user["id"])
    return {
        "id": websafe_encode(credential_id),
        "rawId": websafe_encode(credential_id),
        "type": "public-key",
        "authenticatorAttachment": "cross-platform",
        "response": response,
        "clientExtensionResults": ext_out,
    }
