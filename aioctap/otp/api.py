"""GNU Taler's OTP-devices REST API (merchant backend shape) as Starlette routes.

``otp_device_routes(store, admin_token=...)`` returns the routes; the relying-party app mounts
them. Endpoints (each also under ``/instances/{instance}``; the bare paths are the instance
``default``):

* ``POST /private/otp-devices`` (``OtpDeviceAddDetails``) -> 204; an identical re-create is 204
  (idempotent), a different one 409.
* ``GET /private/otp-devices`` -> ``OtpDevicesSummaryResponse``.
* ``GET /private/otp-devices/{device_id}?faketime=&price=`` -> ``OtpDeviceDetails`` (``otp_code``
  only when the query gives what the algorithm needs; a GET never changes a counter).
* ``PATCH /private/otp-devices/{device_id}`` (``OtpDevicePatchDetails``) -> 204;
  ``DELETE /private/otp-devices/{device_id}`` -> 204.
* ``POST /private/token`` (``{scope, duration?, refreshable?, description?}``) -> a new bearer token
  with at most the caller's permissions; ``DELETE /private/token`` revokes the calling token;
  ``GET /private/tokens`` lists them (never the secrets); ``DELETE /private/tokens/{serial}``.

Authorization is ``Authorization: Bearer secret-token:...``. The administrator token (given by the
caller, e.g. from ``AIOCTAP_ADMIN_TOKEN``) has every permission on every instance; created tokens
belong to one instance and are stored only as SHA-256 hashes. Errors are Taler-style JSON bodies
``{"code": <TALER_EC number>, "hint": "..."}``. Every change is one compare-and-set on the store.
OTP keys are never returned and never logged.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import re
import secrets
import time as _time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import anyio.to_thread
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from ..stores.base import ConflictError, Store, StoreError
from ..webapi import Body, Declared, Operation, Parameter, Reply, problem, validate
from .bodies import (
    SCOPE_SEPARATORS,
    DeviceId,
    FakeTime,
    InstanceId,
    LoginTokenRequest,
    LoginTokenSuccessResponse,
    OtpDeviceAddDetails,
    OtpDeviceDetails,
    OtpDevicePatchDetails,
    OtpDevicesSummaryResponse,
    OtpDeviceSummary,
    Price,
    RelativeTime,
    TalerErrorDetail,
    Timestamp,
    TokenInfo,
    TokenInfos,
    TokenSerial,
)
from .errors import KeyFormatError
from .taler import TalerAmount, parse_algorithm, pos_confirmation
from .wallet import AppWallet

__all__ = [
    "MAX_BODY",
    "OTP_OPERATIONS",
    "PERMISSIONS",
    "SCOPES",
    "TalerError",
    "encrypt_plaintext_keys",
    "otp_device_routes",
]

T = TypeVar("T")

DEVICES = "otp-devices"
TOKENS = "otp-api-tokens"
MAX_BODY = 16 * 1024
PERMISSIONS = frozenset({"otp-devices-read", "otp-devices-write", "tokens-read", "tokens-write"})
SCOPES: dict[str, frozenset[str]] = {
    "readonly": frozenset({"otp-devices-read", "tokens-read"}),
    "write": PERMISSIONS,
    "all": PERMISSIONS,
}
DEFAULT_TOKEN_SECONDS = 24 * 3600

# GNU Taler error codes (taler_error_codes.h)
EC_TOKEN_PERMISSION_INSUFFICIENT = 16
EC_METHOD_INVALID = 20
EC_JSON_INVALID = 22
EC_PARAMETER_MISSING = 25
EC_PARAMETER_MALFORMED = 26
EC_UPLOAD_EXCEEDS_LIMIT = 32
EC_UNAUTHORIZED = 40
EC_TOKEN_UNKNOWN = 41
EC_TOKEN_EXPIRED = 42
EC_TOKEN_MALFORMED = 43
EC_FORBIDDEN = 44
EC_DB_STORE_FAILED = 52
EC_DB_FETCH_FAILED = 53
EC_OTP_DEVICE_UNKNOWN = 2021
EC_OTP_DEVICE_EXISTS = 2851


class TalerError(Exception):
    """An API error: HTTP status, Taler error code and a hint (never holding a secret)."""

    def __init__(self, status: int, code: int, hint: str) -> None:
        super().__init__(hint)
        self.status = status
        self.code = code
        self.hint = hint

    def response(self) -> Response:
        """The error as a Taler ErrorDetail JSON response (``code``, ``hint``), with WWW-Authenticate on 401."""
        headers = {"WWW-Authenticate": 'Bearer realm="aioctap"'} if self.status == 401 else None
        return JSONResponse({"code": self.code, "hint": self.hint}, self.status, headers=headers)


@dataclass(frozen=True)
class _Caller:
    admin: bool
    permissions: frozenset[str]
    refreshable: bool
    record_key: str | None  # the store key of a created token
    expiration: float | None = None  # seconds since the epoch; None: never (the administrator token)


# -- request parsing ------------------------------------------------------------------------------


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise TalerError(400, EC_JSON_INVALID, f"number {text[:20]!r} is out of range")
    return value


def _no_constant(text: str) -> float:
    raise TalerError(400, EC_JSON_INVALID, f"{text} is not valid JSON")


async def _read_json(request: Request) -> dict[str, Any]:
    length = request.headers.get("content-length")
    # ASCII digits only (str.isdigit() is also true for Latin-1's superscripts), few enough for int()
    ok = length is None or (length.isascii() and length.isdigit() and len(length) <= 20 and int(length) <= MAX_BODY)
    if not ok:
        raise TalerError(413, EC_UPLOAD_EXCEEDS_LIMIT, f"the request body exceeds {MAX_BODY} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            raise TalerError(413, EC_UPLOAD_EXCEEDS_LIMIT, f"the request body exceeds {MAX_BODY} bytes")
    try:
        data = json.loads(bytes(body), parse_float=_finite_float, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        raise TalerError(400, EC_JSON_INVALID, "the request body is not valid JSON") from None
    if not isinstance(data, dict):
        raise TalerError(400, EC_JSON_INVALID, "the request body must be a JSON object")
    return data


def _valid(kind: type[T], value: object, subject: str = "the request body") -> T:
    """``value`` as its declaration (:mod:`aioctap.otp.bodies`); a Taler 400 saying what is wrong otherwise."""
    try:
        return validate(kind, value)
    except ValidationError as e:
        p = problem(e, subject)
        raise TalerError(400, EC_PARAMETER_MISSING if p.missing else EC_PARAMETER_MALFORMED, p.message) from None


async def _declared(request: Request, kind: type[T]) -> T:
    """The request body as its declaration."""
    return _valid(kind, await _read_json(request))


def _check_name(kind: str, value: str) -> str:
    _valid(InstanceId if kind == "instance" else DeviceId, value, f"the {kind} identifier")
    return value


def _otp_key(value: str) -> str:
    """The declared ``otp_key`` (its pattern: base32 of at least one byte, what decode_key reads), upper case
    without padding."""
    return value.rstrip("=").upper()


def _answer(body: Body) -> Response:
    """A declared answer (members never set left out)."""
    return JSONResponse(body.model_dump(mode="json", exclude_unset=True))


# -- the routes ----------------------------------------------------------------------------------


class _OtpDeviceApi:
    def __init__(self, store: Store, admin_token: str | None, context: AppWallet | None, clock: Callable[[], float]):
        self.store = store
        self._admin_hash = _token_hash(admin_token) if admin_token else None
        self.context = context
        self.clock = clock

    # authorization

    async def authorize(self, request: Request, instance: str, permission: str | None) -> _Caller:
        header = request.headers.get("authorization")
        if header is None:
            raise TalerError(401, EC_UNAUTHORIZED, "this endpoint needs 'Authorization: Bearer secret-token:...'")
        scheme, _, token = header.partition(" ")
        # an empty secret is malformed: it must never match an administrator token configured as "secret-token:"
        if scheme.lower() != "bearer" or not _token_secret(token):
            raise TalerError(401, EC_TOKEN_MALFORMED, "the Authorization header must be 'Bearer secret-token:...'")
        digest = _token_hash(token)
        if self._admin_hash is not None and hmac.compare_digest(digest, self._admin_hash):
            return _Caller(True, PERMISSIONS, True, None)
        key = f"{instance}/{digest}"
        record = await self.store.get(TOKENS, key)
        if record is None:
            raise TalerError(401, EC_TOKEN_UNKNOWN, "unknown or revoked access token")
        info = json.loads(record.value)
        expiration = info.get("expiration")
        if expiration is not None and expiration <= self.clock():
            raise TalerError(401, EC_TOKEN_EXPIRED, "the access token has expired")
        caller = _Caller(
            False,
            frozenset(info["permissions"]),
            bool(info["refreshable"]),
            key,
            None if expiration is None else float(expiration),
        )
        if permission is not None and permission not in caller.permissions:
            raise TalerError(
                403, EC_TOKEN_PERMISSION_INSUFFICIENT, f"the access token lacks the permission {permission}"
            )
        return caller

    # store writes with Taler's error code (a failed read is the endpoint's EC_DB_FETCH_FAILED)

    async def _put(
        self, namespace: str, key: str, value: dict[str, Any], expected: int, ttl: float | None = None
    ) -> None:
        data = json.dumps(value, separators=(",", ":"), sort_keys=True).encode()
        try:
            await self.store.put(namespace, key, data, expected_version=expected, ttl=ttl)
        except ConflictError:
            raise
        except StoreError as e:
            raise _outage(e, EC_DB_STORE_FAILED) from None

    # OTP keys at rest

    async def _seal(self, key: str) -> dict[str, Any]:
        if self.context is not None and self.context.can_encrypt:
            return {"enckey": await anyio.to_thread.run_sync(self.context.encrypt_key, key.encode())}
        return {"key": key}

    async def _open(self, device: dict[str, Any]) -> tuple[str, bool]:
        """The device's OTP key, and whether it is encrypted under an older secret, cost or format."""
        if "enckey" in device:
            if self.context is None:
                raise TalerError(500, EC_DB_FETCH_FAILED, "the stored OTP key is encrypted and no OTPContext is set")
            try:
                raw, stale = await anyio.to_thread.run_sync(self.context.decrypt_key, device["enckey"])
            except KeyFormatError:
                raise TalerError(500, EC_DB_FETCH_FAILED, "the stored OTP key does not decrypt") from None
            return raw.decode(), stale
        return str(device["key"]), False

    # devices

    async def add_device(self, request: Request, instance: str) -> Response:
        await self.authorize(request, instance, "otp-devices-write")
        add = await _declared(request, OtpDeviceAddDetails)
        key = _otp_key(add.otp_key)
        algorithm = parse_algorithm(add.otp_algorithm)  # the declaration's pattern is what it reads
        description, counter = add.otp_device_description, add.otp_ctr
        value = {"id": add.otp_device_id, "description": description, "algorithm": algorithm, "ctr": counter}
        store_key = f"{instance}/{add.otp_device_id}"
        try:
            await self._put(DEVICES, store_key, {**value, **await self._seal(key)}, expected=0)
        except ConflictError:
            record = await self.store.get(DEVICES, store_key)
            if record is not None:
                old = json.loads(record.value)
                same = (old["description"], old["algorithm"], old.get("ctr")) == (description, algorithm, counter)
                if same and hmac.compare_digest((await self._open(old))[0].encode(), key.encode()):
                    return Response(status_code=204)  # identical re-create: idempotent
            raise TalerError(
                409, EC_OTP_DEVICE_EXISTS, "an OTP device with this id exists with other details"
            ) from None
        return Response(status_code=204)

    async def list_devices(self, request: Request, instance: str) -> Response:
        await self.authorize(request, instance, "otp-devices-read")
        devices = []
        for _, record in await self.store.scan(DEVICES, f"{instance}/"):
            d = json.loads(record.value)
            devices.append(OtpDeviceSummary(otp_device_id=d["id"], device_description=d["description"]))
        return _answer(OtpDevicesSummaryResponse(otp_devices=devices))

    async def _device(self, instance: str, device_id: str) -> tuple[Any, dict[str, Any]]:
        record = await self.store.get(DEVICES, f"{instance}/{_check_name('device', device_id)}")
        if record is None:
            raise TalerError(404, EC_OTP_DEVICE_UNKNOWN, "unknown OTP device")
        return record, json.loads(record.value)

    async def _reseal(self, store_key: str, version: int, device: dict[str, Any], key: str) -> None:
        """Write ``device`` again with its key sealed under the context's current secret (a row an older
        version stored in plain text, or under an older secret); lost races are left to the winner."""
        device = {k: v for k, v in device.items() if k not in ("key", "enckey")}
        device.update(await self._seal(key))
        try:
            await self._put(DEVICES, store_key, device, expected=version)
        except ConflictError:
            pass

    async def get_device(self, request: Request, instance: str, device_id: str) -> Response:
        await self.authorize(request, instance, "otp-devices-read")
        record, device = await self._device(instance, device_id)
        if self.context is not None and self.context.can_encrypt and "key" in device:
            await self._reseal(f"{instance}/{device_id}", record.version, device, str(device["key"]))
        faketime = _query(request, "faketime", FakeTime)
        now = int(self.clock()) if faketime is None else int(faketime)
        price = _query(request, "price", Price)
        if price is not None:
            TalerAmount.parse(price)  # the declaration's pattern is the amount's syntax and range
        body: dict[str, Any] = {
            "device_description": device["description"],
            "otp_algorithm": device["algorithm"],
            "otp_timestamp": now,
        }
        if device.get("ctr") is not None:
            body["otp_ctr"] = device["ctr"]
        if device["algorithm"] == 1 or (device["algorithm"] == 2 and price is not None):
            key, stale = await self._open(device)
            if stale and self.context is not None and self.context.can_encrypt:  # a rotated secret: the current one
                await self._reseal(f"{instance}/{device_id}", record.version, device, key)
            code = pos_confirmation(key, device["algorithm"], now, price)
            if code is not None:
                body["otp_code"] = code
        return _answer(OtpDeviceDetails(**body))

    async def patch_device(self, request: Request, instance: str, device_id: str) -> Response:
        await self.authorize(request, instance, "otp-devices-write")
        patch = await _declared(request, OtpDevicePatchDetails)
        algorithm = parse_algorithm(patch.otp_algorithm)
        sealed = None if patch.otp_key is None else await self._seal(_otp_key(patch.otp_key))
        for _ in range(20):
            record, device = await self._device(instance, device_id)
            device.update(description=patch.otp_device_description, algorithm=algorithm)
            if patch.otp_ctr is not None:
                device["ctr"] = patch.otp_ctr
            if sealed is not None:
                device.pop("key", None)
                device.pop("enckey", None)
                device.update(sealed)
            try:
                await self._put(DEVICES, f"{instance}/{device_id}", device, expected=record.version)
            except ConflictError:
                continue  # changed or deleted meanwhile: apply the patch to the new state
            return Response(status_code=204)
        raise TalerError(500, EC_DB_STORE_FAILED, "the OTP device kept changing concurrently")

    async def delete_device(self, request: Request, instance: str, device_id: str) -> Response:
        await self.authorize(request, instance, "otp-devices-write")
        _check_name("device", device_id)
        try:
            deleted = await self.store.delete(DEVICES, f"{instance}/{device_id}")
        except StoreError as e:
            raise _outage(e, EC_DB_STORE_FAILED) from None
        if not deleted:
            raise TalerError(404, EC_OTP_DEVICE_UNKNOWN, "unknown OTP device")
        return Response(status_code=204)

    # tokens

    async def create_token(self, request: Request, instance: str) -> Response:
        caller = await self.authorize(request, instance, None)
        ask = await _declared(request, LoginTokenRequest)
        scope = ask.scope
        wanted = _scope_permissions(scope)
        if not (caller.admin or "tokens-write" in caller.permissions or caller.refreshable):
            raise TalerError(403, EC_TOKEN_PERMISSION_INSUFFICIENT, "this token may not create tokens")
        if not wanted <= caller.permissions:
            raise TalerError(
                403, EC_TOKEN_PERMISSION_INSUFFICIENT, "a token cannot grant more than its own permissions"
            )
        refreshable = ask.refreshable or False
        if refreshable and not (caller.admin or caller.refreshable):
            raise TalerError(
                403, EC_TOKEN_PERMISSION_INSUFFICIENT, "a non-refreshable token cannot create refreshable ones"
            )
        seconds = _duration(ask.duration)
        now = self.clock()
        expiration = None if seconds is None else now + seconds
        if caller.expiration is not None and (expiration is None or expiration > caller.expiration):
            # a token never outlives the token that made it: the earlier of the two expirations
            expiration = caller.expiration
            seconds = max(expiration - now, 0.001)
        token = "secret-token:" + secrets.token_urlsafe(32)
        serial = secrets.token_hex(8)
        value = {
            "serial": serial,
            "scope": scope,
            "permissions": sorted(wanted),
            "refreshable": refreshable,
            "description": ask.description,
            "created": int(now),
            "expiration": expiration,
        }
        try:
            await self._put(TOKENS, f"{instance}/{_token_hash(token)}", value, expected=0, ttl=seconds)
        except ConflictError:  # 256 random bits collided: cannot happen in practice
            raise TalerError(500, EC_DB_STORE_FAILED, "token collision") from None
        return _answer(
            LoginTokenSuccessResponse(
                token=token,
                access_token=token,
                scope=scope,
                refreshable=refreshable,
                expiration=Timestamp(t_s="never" if expiration is None else int(expiration)),
                serial=serial,
            )
        )

    async def delete_own_token(self, request: Request, instance: str) -> Response:
        caller = await self.authorize(request, instance, None)
        if caller.record_key is None:
            raise TalerError(
                403, EC_FORBIDDEN, "the administrator token comes from the configuration: it cannot be revoked"
            )
        await self.store.delete(TOKENS, caller.record_key)
        return Response(status_code=204)

    async def list_tokens(self, request: Request, instance: str) -> Response:
        await self.authorize(request, instance, "tokens-read")
        now = self.clock()
        tokens = []
        for _, record in await self.store.scan(TOKENS, f"{instance}/"):
            info = json.loads(record.value)
            exp = info.get("expiration")
            if exp is not None and exp <= now:
                continue
            tokens.append(
                TokenInfo(
                    serial=info["serial"],
                    scope=info["scope"],
                    refreshable=info["refreshable"],
                    description=info.get("description"),
                    creation_time=Timestamp(t_s=info["created"]),
                    expiration=Timestamp(t_s="never" if exp is None else int(exp)),
                )
            )
        return _answer(TokenInfos(tokens=tokens))

    async def delete_token(self, request: Request, instance: str, serial: str) -> Response:
        await self.authorize(request, instance, "tokens-write")
        for key, record in await self.store.scan(TOKENS, f"{instance}/"):
            if json.loads(record.value).get("serial") == serial:
                try:
                    await self.store.delete(TOKENS, key, expected_version=record.version)
                except ConflictError:
                    pass  # refreshed or revoked meanwhile: it is gone or replaced, either way not this version
                return Response(status_code=204)
        raise TalerError(404, EC_TOKEN_UNKNOWN, "unknown token serial")


async def encrypt_plaintext_keys(store: Store, context: AppWallet) -> int:
    """Encrypt every OTP key an older version stored in plain text (each row one compare-and-set);
    the number of rows encrypted. The relying-party app runs this at start-up."""
    if not context.can_encrypt:
        return 0
    api = _OtpDeviceApi(store, None, context, _time.time)
    done = 0
    for store_key, record in await store.scan(DEVICES):
        device = json.loads(record.value)
        if isinstance(device, dict) and isinstance(device.get("key"), str):
            await api._reseal(store_key, record.version, device, device["key"])
            done += 1
    return done


def _outage(error: StoreError, code: int) -> TalerError:
    """The store failed (unreachable, timed out): 503 with Taler's database error code, as the /fido2 routes."""
    return TalerError(503, code, f"the store is unavailable: {type(error).__name__}")


def _token_secret(token: str) -> str:
    """The secret of a bearer token: without the spaces around it and its ``secret-token:`` prefix."""
    token = token.strip()
    return token[len("secret-token:") :] if token.startswith("secret-token:") else token


def _token_hash(token: str) -> str:
    return hashlib.sha256(_token_secret(token).encode("utf-8", "surrogatepass")).hexdigest()


def _scope_permissions(scope: str) -> frozenset[str]:
    if scope in SCOPES:
        return SCOPES[scope]
    names = frozenset(p for p in re.split(SCOPE_SEPARATORS + "+", scope) if p)
    if not names or not names <= PERMISSIONS:
        raise TalerError(
            400,
            EC_PARAMETER_MALFORMED,
            "field 'scope' must be readonly, write, all, or a list of: " + ", ".join(sorted(PERMISSIONS)),
        )
    return names


def _duration(value: RelativeTime | float | None) -> float | None:
    """Taler RelativeTime ``{"d_us": n | "forever"}`` (or plain seconds) in seconds; default one day."""
    if value is None:
        return float(DEFAULT_TOKEN_SECONDS)
    if isinstance(value, RelativeTime):
        return None if value.d_us == "forever" else value.d_us / 1e6
    return float(value)


def _query(request: Request, name: str, kind: type[str]) -> str | None:
    """A query parameter as its declaration, or None when absent."""
    value = request.query_params.get(name)
    return None if value is None else _valid(kind, value, f"query {name!r}")


Handler = Callable[..., Awaitable[Response]]


def _endpoint(methods: dict[str, Handler]) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        handler = methods.get(request.method)
        if handler is None:
            return JSONResponse(
                {"code": EC_METHOD_INVALID, "hint": f"method {request.method} is not allowed here"},
                405,
                headers={"Allow": ", ".join(sorted(methods))},
            )
        params = dict(request.path_params)
        instance = params.pop("instance", "default")
        try:
            _check_name("instance", instance)
            return await handler(request, instance, **params)
        except TalerError as e:
            return e.response()
        except StoreError as e:
            return _outage(e, EC_DB_FETCH_FAILED).response()

    return endpoint


_ERROR = TalerErrorDetail
_BEARER = ({"bearer": ()},)
_TAGS = ("otp-devices",)
_MALFORMED = Reply("the body, a parameter or the query does not follow its declaration (TALER_EC 22, 25 or 26)", _ERROR)
_UNAUTHORIZED = Reply("missing, malformed, unknown or expired bearer token", _ERROR)
_FORBIDDEN = Reply("the bearer token lacks the permission (TALER_EC_GENERIC_TOKEN_PERMISSION_INSUFFICIENT)", _ERROR)
_STORE_DOWN = Reply("the store is unavailable (TALER_EC_GENERIC_DB_STORE_FAILED / _FETCH_FAILED)", _ERROR)
_TOO_LARGE = Reply(f"the body is larger than {MAX_BODY} bytes", _ERROR)
_NO_DEVICE = Reply("unknown OTP device (TALER_EC_MERCHANT_GENERIC_OTP_DEVICE_UNKNOWN)", _ERROR)
_DONE = Reply("done (no body)")
_INSTANCE = Parameter("instance", InstanceId)
_DEVICE = Parameter("device_id", DeviceId)


def _operations(prefix: str, base: tuple[Parameter, ...]) -> tuple[Operation, ...]:
    device = (*base, _DEVICE)

    def op(
        method: str, path: str, summary: str, replies: dict[int, Reply], body: Declared, params: tuple[Parameter, ...]
    ) -> Operation:
        """One bearer-token operation; every one may also answer 400, 401, 403 and 503."""
        replies = {400: _MALFORMED, 401: _UNAUTHORIZED, 403: _FORBIDDEN, 503: _STORE_DOWN, **replies}
        replies_in_order: dict[int | str, Reply] = dict(sorted(replies.items()))
        return Operation(method, prefix + path, summary, replies_in_order, body, params, tags=_TAGS, security=_BEARER)

    return (
        op("POST", "/private/otp-devices", "Add an OTP device",
           {204: Reply("added (or the same device again)"),
            409: Reply("a device with this id and other details exists", _ERROR), 413: _TOO_LARGE},
           OtpDeviceAddDetails, base),
        op("GET", "/private/otp-devices", "List the OTP devices",
           {200: Reply("the devices", OtpDevicesSummaryResponse)}, None, base),
        op("GET", "/private/otp-devices/{device_id}",
           "An OTP device (otp_code when the query gives what its algorithm needs)",
           {200: Reply("the device", OtpDeviceDetails), 404: _NO_DEVICE},
           None,
           (*device, Parameter("faketime", FakeTime, "query", required=False),
            Parameter("price", Price, "query", required=False))),
        op("PATCH", "/private/otp-devices/{device_id}", "Change an OTP device",
           {204: _DONE, 404: _NO_DEVICE, 413: _TOO_LARGE}, OtpDevicePatchDetails, device),
        op("DELETE", "/private/otp-devices/{device_id}", "Delete an OTP device",
           {204: _DONE, 404: _NO_DEVICE}, None, device),
        op("POST", "/private/token", "Create a bearer token (never more than the caller's own)",
           {200: Reply("the new token", LoginTokenSuccessResponse), 413: _TOO_LARGE}, LoginTokenRequest, base),
        op("DELETE", "/private/token", "Revoke the calling token",
           {204: _DONE, 403: Reply("the administrator token cannot be revoked", _ERROR)}, None, base),
        op("GET", "/private/tokens", "List the tokens (never their secrets)",
           {200: Reply("the tokens", TokenInfos)}, None, base),
        op("DELETE", "/private/tokens/{serial}", "Revoke a token",
           {204: _DONE, 404: Reply("unknown token serial (TALER_EC_GENERIC_TOKEN_UNKNOWN)", _ERROR)},
           None, (*base, Parameter("serial", TokenSerial))),
    )  # fmt: skip


# the operations of the routes below, declared from the bodies of aioctap.otp.bodies (for /openapi.json)
OTP_OPERATIONS: tuple[Operation, ...] = (*_operations("", ()), *_operations("/instances/{instance}", (_INSTANCE,)))


def otp_device_routes(
    store: Store,
    *,
    admin_token: str | None = None,
    context: AppWallet | None = None,
    clock: Callable[[], float] | None = None,
) -> list[BaseRoute]:
    """The OTP-devices and token routes over ``store``.

    ``admin_token``: the administrator bearer token (every permission, every instance); without
    one, only tokens created earlier are accepted. ``context``: encrypt OTP keys at rest.
    ``clock``: the time source (seconds since the epoch), for tests.
    """
    api = _OtpDeviceApi(store, admin_token, context, clock or _time.time)
    table: list[tuple[str, dict[str, Handler]]] = [
        ("/private/otp-devices", {"POST": api.add_device, "GET": api.list_devices}),
        (
            "/private/otp-devices/{device_id}",
            {"GET": api.get_device, "PATCH": api.patch_device, "DELETE": api.delete_device},
        ),
        ("/private/token", {"POST": api.create_token, "DELETE": api.delete_own_token}),
        ("/private/tokens", {"GET": api.list_tokens}),
        ("/private/tokens/{serial}", {"DELETE": api.delete_token}),
    ]
    routes: list[BaseRoute] = []
    # every method reaches the endpoint, which answers the undocumented ones with a Taler 405 and the exact Allow
    all_methods = ["GET", "HEAD", "POST", "PATCH", "DELETE", "PUT", "OPTIONS", "TRACE"]
    for path, methods in table:
        endpoint = _endpoint(methods)
        routes.append(Route(path, endpoint, methods=all_methods))
        routes.append(Route("/instances/{instance}" + path, endpoint, methods=all_methods))
    return routes
