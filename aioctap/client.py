"""An async WebAuthn client: WebAuthn options in, credentials in the browser's ``toJSON()`` form out.

``WebAuthnClient(devices, origin, pin=...)`` turns ``PublicKeyCredentialCreationOptions`` /
``PublicKeyCredentialRequestOptions`` (their WebAuthn JSON form, as a dict or a string) into
CTAP2 calls (CTAP1/U2F for U2F-only devices), collecting client data and checking the origin
against the RP ID as a browser does. With several devices it asks all of them at once and takes
the first that answers; the others are cancelled (CTAPHID_CANCEL).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

import anyio
from cryptography.hazmat.primitives import serialization

from . import cbor
from .cose import ES256
from .ctap import CtapDevice, CtapError
from .ctap1 import ApduError, Ctap1
from .ctap2.base import AssertionResponse, Ctap2
from .ctap2.pin import ClientPin
from .hid.protocol import CAPABILITY
from .webauthn import AttestedCredentialData, AuthenticatorData, CollectedClientData, websafe_decode, websafe_encode

__all__ = ["ClientError", "WebAuthnClient", "verify_rp_id"]

log = logging.getLogger(__name__)

PinProvider = Callable[[], Awaitable[str] | str]


class ClientError(Exception):
    """The WebAuthn operation failed on the client side (bad options, origin, no device answered)."""


def verify_rp_id(rp_id: str, origin: str) -> bool:
    """WebAuthn's rule: the RP ID is the origin's effective domain or a registrable suffix of it."""
    try:
        parts = urlsplit(origin)
    except ValueError:
        return False
    host = (parts.hostname or "").lower()
    # a secure context: https, or http on the loopback host (potentially trustworthy origins)
    secure = parts.scheme == "https" or (parts.scheme == "http" and host in ("localhost", "127.0.0.1"))
    rp_id = rp_id.lower()
    if not secure or not host or not rp_id:
        return False
    return host == rp_id or host.endswith("." + rp_id)


def _options(options: Mapping[str, Any] | str) -> dict[str, Any]:
    if isinstance(options, str):
        try:
            options = json.loads(options)
        except json.JSONDecodeError:
            raise ClientError("options are not valid JSON") from None
    if not isinstance(options, Mapping):
        raise ClientError("options must be a JSON object")
    inner = options.get("publicKey", options)
    if not isinstance(inner, Mapping):
        raise ClientError("options.publicKey must be an object")
    return dict(inner)


def _b64(value: Any, what: str) -> bytes:
    if isinstance(value, bytes):
        return value
    try:
        return websafe_decode(value)
    except Exception:
        raise ClientError(f"{what} is not valid base64url") from None


def _descriptors(items: Any) -> list[dict[str, Any]]:
    out = []
    for d in items or []:
        if not isinstance(d, Mapping) or d.get("type", "public-key") != "public-key":
            continue
        out.append({"type": "public-key", "id": _b64(d.get("id"), "credential descriptor id")})
    return out


class WebAuthnClient:
    """``WebAuthnClient(devices, origin, *, pin=None)``.

    ``devices``: one :class:`~aioctap.ctap.CtapDevice` or several; ``pin``: the PIN, or a (possibly
    async) callable asked only when a PIN is needed.
    """

    def __init__(
        self, devices: CtapDevice | Sequence[CtapDevice], origin: str, *, pin: str | PinProvider | None = None
    ):
        self.devices = [devices] if isinstance(devices, CtapDevice) else list(devices)
        if not self.devices:
            raise ClientError("no device given")
        self.origin = origin
        self._pin = pin

    def __repr__(self) -> str:
        return f"WebAuthnClient(origin={self.origin!r}, devices={len(self.devices)})"

    async def _get_pin(self) -> str:
        if self._pin is None:
            raise ClientError("the authenticator needs a PIN and none was provided")
        if isinstance(self._pin, str):
            return self._pin
        value = self._pin()
        return value if isinstance(value, str) else await value

    def _check_rp(self, rp_id: str) -> None:
        if not verify_rp_id(rp_id, self.origin):
            raise ClientError(f"RP ID {rp_id!r} is not valid for origin {self.origin!r}")

    async def _first(self, op: Callable[[CtapDevice], Awaitable[dict[str, Any]]]) -> dict[str, Any]:
        """Run ``op`` on every device at once; the first success wins and cancels the rest."""
        if len(self.devices) == 1:
            return await op(self.devices[0])
        result: list[dict[str, Any]] = []
        errors: list[BaseException] = []

        async def run(device: CtapDevice, tg: anyio.abc.TaskGroup) -> None:
            try:
                value = await op(device)
            except (CtapError, ClientError, ApduError) as e:
                errors.append(e)
                return
            if not result:
                result.append(value)
                tg.cancel_scope.cancel()

        async with anyio.create_task_group() as tg:
            for device in self.devices:
                tg.start_soon(run, device, tg)
        if result:
            return result[0]
        raise errors[-1] if errors else ClientError("no device answered")

    async def _token(
        self, ctap: Ctap2, permission: ClientPin.PERMISSION, rp_id: str, uv_requirement: str, rk: bool
    ) -> tuple[bytes | None, int | None, bool]:
        """(pinUvAuthParam key token, protocol, use built-in uv option) for this request."""
        info = ctap.info
        pin_set = bool(info.options.get("clientPin"))
        uv_set = bool(info.options.get("uv"))
        wanted = (
            uv_requirement == "required"
            or (uv_requirement == "preferred" and (pin_set or uv_set))
            or (rk and pin_set)
            or info.options.get("alwaysUv")
        )
        if not wanted:
            return None, None, False
        if uv_set and info.options.get("pinUvAuthToken"):
            cp = ClientPin(ctap)
            return await cp.get_uv_token(permission, rp_id), cp.protocol.VERSION, False
        if uv_set:
            return None, None, True
        if pin_set:
            cp = ClientPin(ctap)
            token = await cp.get_pin_token(await self._get_pin(), permission, rp_id)
            return token, cp.protocol.VERSION, False
        if uv_requirement == "required":
            raise ClientError("user verification is required but the authenticator has no PIN or built-in UV")
        return None, None, False

    # -- create -----------------------------------------------------------------------------------

    async def create(self, options: Mapping[str, Any] | str) -> dict[str, Any]:
        """navigator.credentials.create(): returns the RegistrationResponseJSON."""
        opts = _options(options)
        rp = opts.get("rp")
        user = opts.get("user")
        if not isinstance(rp, Mapping) or not isinstance(user, Mapping):
            raise ClientError("options need rp and user objects")
        rp_id = rp.get("id") or urlsplit(self.origin).hostname or ""
        self._check_rp(rp_id)
        challenge = _b64(opts.get("challenge"), "challenge")
        client_data = CollectedClientData.create(CollectedClientData.TYPE.CREATE, challenge, self.origin)
        params = [
            {"type": "public-key", "alg": p.get("alg")}
            for p in opts.get("pubKeyCredParams") or [{"type": "public-key", "alg": -7}]
            if isinstance(p, Mapping) and p.get("type") == "public-key"
        ]
        selection = opts.get("authenticatorSelection") or {}
        rk = selection.get("residentKey") == "required" or bool(selection.get("requireResidentKey"))
        rk = rk or selection.get("residentKey") == "preferred"
        uv_req = selection.get("userVerification", "preferred")
        ext_in = opts.get("extensions") or {}
        ctap_user = {"id": _b64(user.get("id"), "user.id")}
        for k in ("name", "displayName"):
            if isinstance(user.get(k), str):
                ctap_user[k] = user[k]
        ctap_rp = {"id": rp_id, **({"name": rp["name"]} if isinstance(rp.get("name"), str) else {})}
        exclude = _descriptors(opts.get("excludeCredentials"))

        async def op(device: CtapDevice) -> dict[str, Any]:
            if not device.capabilities & CAPABILITY.CBOR:
                return await self._create_u2f(device, rp_id, client_data, exclude)
            ctap = await Ctap2.create(device)
            extensions: dict[str, Any] = {}
            if ext_in.get("credProtect") or ext_in.get("credentialProtectionPolicy"):
                policy = ext_in.get("credentialProtectionPolicy") or ext_in.get("credProtect")
                levels = {"userVerificationOptional": 1, "userVerificationOptionalWithCredentialIDList": 2,
                          "userVerificationRequired": 3}  # fmt: skip
                extensions["credProtect"] = levels.get(policy, policy) if isinstance(policy, str) else policy
            if ext_in.get("hmacCreateSecret") or ext_in.get("prf") is not None:
                extensions["hmac-secret"] = True
            rk_here = rk and bool(ctap.info.options.get("rk"))
            token, proto, builtin_uv = await self._token(
                ctap, ClientPin.PERMISSION.MAKE_CREDENTIAL, rp_id, uv_req, rk_here
            )
            options_map: dict[str, bool] = {}
            if rk_here:
                options_map["rk"] = True
            if builtin_uv:
                options_map["uv"] = True
            att = await ctap.make_credential(
                client_data.hash,
                ctap_rp,
                ctap_user,
                params,
                exclude_list=exclude or None,
                extensions=extensions or None,
                options=options_map or None,
                pin_uv_param=None if token is None or proto is None else _authenticate(proto, token, client_data.hash),
                pin_uv_protocol=proto,
            )
            cred = att.auth_data.credential_data
            if cred is None:
                raise ClientError("the authenticator returned no credential")
            ext_out: dict[str, Any] = {}
            if ext_in.get("credProps"):
                ext_out["credProps"] = {"rk": rk_here}
            if "hmac-secret" in extensions:
                created = bool((att.auth_data.extensions or {}).get("hmac-secret"))
                if ext_in.get("hmacCreateSecret"):
                    ext_out["hmacCreateSecret"] = created
                if ext_in.get("prf") is not None:
                    ext_out["prf"] = {"enabled": created}
            return _registration_json(client_data, att.attestation_object(), att.auth_data, cred, ext_out)

        return await self._first(op)

    async def _create_u2f(
        self, device: CtapDevice, rp_id: str, client_data: CollectedClientData, exclude: list[dict[str, Any]]
    ) -> dict[str, Any]:
        ctap1 = Ctap1(device)
        app_param = hashlib.sha256(rp_id.encode()).digest()
        for d in exclude:
            try:
                await ctap1.authenticate(client_data.hash, app_param, d["id"], check_only=True)
            except ApduError as e:
                if e.code == 0x6985:
                    raise ClientError("an excluded credential is on this authenticator") from None
        reg = await _retry_touch(lambda: ctap1.register(client_data.hash, app_param))
        key = ES256.from_raw(reg.public_key)
        cred = AttestedCredentialData.create(b"\0" * 16, reg.key_handle, key)
        auth_data = AuthenticatorData.create(app_param, AuthenticatorData.FLAG.UP | AuthenticatorData.FLAG.AT, 0, cred)
        att_obj = cbor.dumps(
            {
                "fmt": "fido-u2f",
                "attStmt": {"sig": reg.signature, "x5c": [reg.certificate]},
                "authData": bytes(auth_data),
            }
        )
        return _registration_json(client_data, att_obj, auth_data, cred, {})

    # -- get --------------------------------------------------------------------------------------

    async def get(self, options: Mapping[str, Any] | str) -> dict[str, Any]:
        """navigator.credentials.get(): returns the AuthenticationResponseJSON."""
        opts = _options(options)
        rp_id = opts.get("rpId") or urlsplit(self.origin).hostname or ""
        self._check_rp(rp_id)
        challenge = _b64(opts.get("challenge"), "challenge")
        client_data = CollectedClientData.create(CollectedClientData.TYPE.GET, challenge, self.origin)
        allow = _descriptors(opts.get("allowCredentials"))
        uv_req = opts.get("userVerification", "preferred")

        async def op(device: CtapDevice) -> dict[str, Any]:
            if not device.capabilities & CAPABILITY.CBOR:
                return await self._get_u2f(device, rp_id, client_data, allow)
            ctap = await Ctap2.create(device)
            token, proto, builtin_uv = await self._token(ctap, ClientPin.PERMISSION.GET_ASSERTION, rp_id, uv_req, False)
            assertion: AssertionResponse = await ctap.get_assertion(
                rp_id,
                client_data.hash,
                allow_list=allow or None,
                options={"uv": True} if builtin_uv else None,
                pin_uv_param=None if token is None or proto is None else _authenticate(proto, token, client_data.hash),
                pin_uv_protocol=proto,
            )
            return _authentication_json(
                client_data, assertion.credential["id"], bytes(assertion.auth_data), assertion.signature, assertion.user
            )

        return await self._first(op)

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
                if e.code == 0x6A80:
                    continue
                raise
            auth = AssertionResponse.from_ctap1(app_param, d, sig.raw)
            return _authentication_json(client_data, d["id"], bytes(auth.auth_data), auth.signature, None)
        raise ClientError("none of the allowed credentials is on this authenticator")


async def _retry_touch(fn: Callable[[], Awaitable[Any]], timeout: float = 30.0) -> Any:
    """U2F reports 'conditions not satisfied' until the user touches: poll, as browsers do."""
    with anyio.fail_after(timeout):
        while True:
            try:
                return await fn()
            except ApduError as e:
                if e.code != 0x6985:
                    raise
            await anyio.sleep(0.1)


def _authenticate(proto: int, token: bytes, message: bytes) -> bytes:
    from .ctap2.pin import protocol_for_version

    return protocol_for_version(proto).authenticate(token, message)


def _registration_json(
    client_data: CollectedClientData,
    attestation_object: bytes,
    auth_data: AuthenticatorData,
    cred: AttestedCredentialData,
    ext_out: dict[str, Any],
) -> dict[str, Any]:
    response: dict[str, Any] = {
        "clientDataJSON": websafe_encode(bytes(client_data)),
        "attestationObject": websafe_encode(attestation_object),
        "authenticatorData": websafe_encode(bytes(auth_data)),
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
        "clientExtensionResults": {},
    }
