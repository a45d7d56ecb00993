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
from typing import Any

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from ..stores.base import ConflictError, Store, StoreError
from .context import OTPContext
from .errors import KeyFormatError
from .taler import TalerAmount, decode_key, parse_algorithm, pos_confirmation

__all__ = ["MAX_BODY", "PERMISSIONS", "SCOPES", "TalerError", "encrypt_plaintext_keys", "otp_device_routes"]

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
_NAME = re.compile(r"^[^\x00-\x1f\x7f/\ud800-\udfff]{1,128}$")  # no lone surrogates: not UTF-8
_INSTANCE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")

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


async def _read_json(request: Request) -> dict[str, Any]:
    length = request.headers.get("content-length")
    if length is not None and (not length.isdigit() or int(length) > MAX_BODY):
        raise TalerError(413, EC_UPLOAD_EXCEEDS_LIMIT, f"the request body exceeds {MAX_BODY} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            raise TalerError(413, EC_UPLOAD_EXCEEDS_LIMIT, f"the request body exceeds {MAX_BODY} bytes")
    try:
        data = json.loads(bytes(body))
    except (ValueError, RecursionError):
        raise TalerError(400, EC_JSON_INVALID, "the request body is not valid JSON") from None
    if not isinstance(data, dict):
        raise TalerError(400, EC_JSON_INVALID, "the request body must be a JSON object")
    return data


def _field(data: dict[str, Any], name: str, kind: type | tuple[type, ...], *, required: bool = True) -> Any:
    if name not in data or data[name] is None:
        if required:
            raise TalerError(400, EC_PARAMETER_MISSING, f"missing field {name!r}")
        return None
    value = data[name]
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
        raise TalerError(400, EC_PARAMETER_MALFORMED, f"field {name!r} has the wrong type")
    return value


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")  # C0, DEL, C1 and lone surrogates


def _description(data: dict[str, Any], name: str, required: bool = True) -> str | None:
    """A free-text field: at most 4096 characters, no control characters (C0, DEL, C1: NUL included) and
    no lone surrogates (not UTF-8: no store keeps them, no JSON answer can carry them)."""
    value = _field(data, name, str, required=required)
    if value is not None and len(value) > 4096:
        raise TalerError(400, EC_PARAMETER_MALFORMED, f"field {name!r} is longer than 4096 characters")
    if value is not None and _CONTROL.search(value):
        raise TalerError(400, EC_PARAMETER_MALFORMED, f"field {name!r} holds a control character or a lone surrogate")
    return value  # type: ignore[no-any-return]


def _algorithm(data: dict[str, Any], required: bool = True) -> int | None:
    value = _field(data, "otp_algorithm", (int, str), required=required)
    if value is None:
        return None
    try:
        return parse_algorithm(value)
    except KeyFormatError:
        raise TalerError(
            400,
            EC_PARAMETER_MALFORMED,
            "field 'otp_algorithm' must be 0, 1, 2 or NONE/TOTP_WITHOUT_PRICE/TOTP_WITH_PRICE",
        ) from None


def _counter(data: dict[str, Any]) -> int | None:
    value = _field(data, "otp_ctr", int, required=False)
    if value is not None and not 0 <= value < 1 << 64:
        raise TalerError(400, EC_PARAMETER_MALFORMED, "field 'otp_ctr' must be an unsigned 64-bit integer")
    return value  # type: ignore[no-any-return]


def _otp_key(data: dict[str, Any], required: bool = True) -> str | None:
    value = _field(data, "otp_key", str, required=required)
    if value is None:
        return None
    try:
        decode_key(value)
    except KeyFormatError:
        raise TalerError(400, EC_PARAMETER_MALFORMED, "field 'otp_key' is not RFC 3548 base32") from None
    return value.rstrip("=").upper()  # type: ignore[no-any-return]


def _check_name(kind: str, value: str) -> str:
    pattern = _INSTANCE if kind == "instance" else _NAME
    if not pattern.match(value) or value in (".", ".."):  # dot segments do not survive in a URL path
        raise TalerError(400, EC_PARAMETER_MALFORMED, f"malformed {kind} identifier")
    return value


# -- the routes ----------------------------------------------------------------------------------


class _OtpDeviceApi:
    def __init__(self, store: Store, admin_token: str | None, context: OTPContext | None, clock: Callable[[], float]):
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
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise TalerError(401, EC_TOKEN_MALFORMED, "the Authorization header must be 'Bearer secret-token:...'")
        digest = _token_hash(token)
        if self._admin_hash is not None and hmac.compare_digest(digest, self._admin_hash):
            return _Caller(True, PERMISSIONS, True, None)
        key = f"{instance}/{digest}"
        record = await self._get(TOKENS, key)
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
                401, EC_TOKEN_PERMISSION_INSUFFICIENT, f"the access token lacks the permission {permission}"
            )
        return caller

    # store access with Taler error mapping

    async def _get(self, namespace: str, key: str) -> Any:
        try:
            return await self.store.get(namespace, key)
        except StoreError as e:
            raise _outage(e, EC_DB_FETCH_FAILED) from None

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
            context = self.context
            return {"enckey": await anyio.to_thread.run_sync(context.encrypt_key, key.encode())}
        return {"key": key}

    async def _unseal(self, device: dict[str, Any]) -> str:
        if "enckey" in device:
            if self.context is None:
                raise TalerError(500, EC_DB_FETCH_FAILED, "the stored OTP key is encrypted and no OTPContext is set")
            context = self.context
            try:
                raw, _ = await anyio.to_thread.run_sync(context.decrypt_key, device["enckey"])
            except KeyFormatError:
                raise TalerError(500, EC_DB_FETCH_FAILED, "the stored OTP key does not decrypt") from None
            return raw.decode()
        return str(device["key"])

    # devices

    async def add_device(self, request: Request, instance: str) -> Response:
        await self.authorize(request, instance, "otp-devices-write")
        data = await _read_json(request)
        device_id = _check_name("device", _field(data, "otp_device_id", str))
        description = _description(data, "otp_device_description")
        key = _otp_key(data)
        assert key is not None
        algorithm = _algorithm(data)
        counter = _counter(data)
        value = {
            "id": device_id,
            "description": description,
            "algorithm": algorithm,
            "ctr": counter,
            **await self._seal(key),
        }
        store_key = f"{instance}/{device_id}"
        try:
            await self._put(DEVICES, store_key, value, expected=0)
        except ConflictError:
            record = await self._get(DEVICES, store_key)
            if record is not None:
                old = json.loads(record.value)
                same = (old["description"], old["algorithm"], old.get("ctr")) == (description, algorithm, counter)
                if same and hmac.compare_digest((await self._unseal(old)).encode(), key.encode()):
                    return Response(status_code=204)  # identical re-create: idempotent
            raise TalerError(
                409, EC_OTP_DEVICE_EXISTS, "an OTP device with this id exists with other details"
            ) from None
        return Response(status_code=204)

    async def list_devices(self, request: Request, instance: str) -> Response:
        await self.authorize(request, instance, "otp-devices-read")
        try:
            records = await self.store.scan(DEVICES, f"{instance}/")
        except StoreError as e:
            raise _outage(e, EC_DB_FETCH_FAILED) from None
        devices = []
        for _, record in records:
            d = json.loads(record.value)
            devices.append({"otp_device_id": d["id"], "device_description": d["description"]})
        return JSONResponse({"otp_devices": devices})

    async def _device(self, instance: str, device_id: str) -> tuple[Any, dict[str, Any]]:
        record = await self._get(DEVICES, f"{instance}/{_check_name('device', device_id)}")
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
        faketime = request.query_params.get("faketime")
        if faketime is None:
            now = int(self.clock())
        elif faketime.isascii() and faketime.isdigit() and len(faketime) <= 15:
            now = int(faketime)
        else:
            raise TalerError(400, EC_PARAMETER_MALFORMED, "query 'faketime' must be a timestamp in seconds")
        price = request.query_params.get("price")
        if price is not None:
            try:
                TalerAmount.parse(price)
            except KeyFormatError:
                raise TalerError(
                    400, EC_PARAMETER_MALFORMED, "query 'price' must be a Taler amount CUR:VALUE[.FRAC]"
                ) from None
        body: dict[str, Any] = {
            "device_description": device["description"],
            "otp_algorithm": device["algorithm"],
            "otp_timestamp": now,
        }
        if device.get("ctr") is not None:
            body["otp_ctr"] = device["ctr"]
        if device["algorithm"] == 1 or (device["algorithm"] == 2 and price is not None):
            code = pos_confirmation(await self._unseal(device), device["algorithm"], now, price)
            if code is not None:
                body["otp_code"] = code
        return JSONResponse(body)

    async def patch_device(self, request: Request, instance: str, device_id: str) -> Response:
        await self.authorize(request, instance, "otp-devices-write")
        data = await _read_json(request)
        description = _description(data, "otp_device_description")
        algorithm = _algorithm(data)
        key = _otp_key(data, required=False)
        counter = _counter(data)
        sealed = await self._seal(key) if key is not None else None
        for _ in range(20):
            record, device = await self._device(instance, device_id)
            device.update(description=description, algorithm=algorithm)
            if counter is not None:
                device["ctr"] = counter
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
        data = await _read_json(request)
        scope = _field(data, "scope", str)
        wanted = _scope_permissions(scope)
        if not (caller.admin or "tokens-write" in caller.permissions or caller.refreshable):
            raise TalerError(401, EC_TOKEN_PERMISSION_INSUFFICIENT, "this token may not create tokens")
        if not wanted <= caller.permissions:
            raise TalerError(
                401, EC_TOKEN_PERMISSION_INSUFFICIENT, "a token cannot grant more than its own permissions"
            )
        refreshable = _field(data, "refreshable", bool, required=False) or False
        if refreshable and not (caller.admin or caller.refreshable):
            raise TalerError(
                401, EC_TOKEN_PERMISSION_INSUFFICIENT, "a non-refreshable token cannot create refreshable ones"
            )
        description = _description(data, "description", required=False)
        seconds = _duration(data.get("duration"))
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
            "description": description,
            "created": int(now),
            "expiration": expiration,
        }
        try:
            await self._put(TOKENS, f"{instance}/{_token_hash(token)}", value, expected=0, ttl=seconds)
        except ConflictError:  # 256 random bits collided: cannot happen in practice
            raise TalerError(500, EC_DB_STORE_FAILED, "token collision") from None
        return JSONResponse(
            {
                "token": token,
                "access_token": token,
                "scope": scope,
                "refreshable": refreshable,
                "expiration": {"t_s": "never" if expiration is None else int(expiration)},
                "serial": serial,
            }
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
            if info.get("expiration") is not None and info["expiration"] <= now:
                continue
            exp = info.get("expiration")
            tokens.append(
                {
                    "serial": info["serial"],
                    "scope": info["scope"],
                    "refreshable": info["refreshable"],
                    "description": info.get("description"),
                    "creation_time": {"t_s": info["created"]},
                    "expiration": {"t_s": "never" if exp is None else int(exp)},
                }
            )
        return JSONResponse({"tokens": tokens})

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


async def encrypt_plaintext_keys(store: Store, context: OTPContext) -> int:
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


def _token_hash(token: str) -> str:
    token = token.strip()
    if token.startswith("secret-token:"):
        token = token[len("secret-token:") :]
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def _scope_permissions(scope: str) -> frozenset[str]:
    if scope in SCOPES:
        return SCOPES[scope]
    names = frozenset(p for p in re.split(r"[\s,]+", scope) if p)
    if not names or not names <= PERMISSIONS:
        raise TalerError(
            400,
            EC_PARAMETER_MALFORMED,
            "field 'scope' must be readonly, write, all, or a list of: " + ", ".join(sorted(PERMISSIONS)),
        )
    return names


def _duration(value: Any) -> float | None:
    """Taler RelativeTime ``{"d_us": n | "forever"}`` (or plain seconds); default one day."""
    if value is None:
        return float(DEFAULT_TOKEN_SECONDS)
    if isinstance(value, dict) and "d_us" in value:
        d_us = value["d_us"]
        if d_us == "forever":
            return None
        if isinstance(d_us, int) and not isinstance(d_us, bool) and 0 < d_us < 1 << 62:
            return d_us / 1e6
    elif isinstance(value, int | float) and not isinstance(value, bool) and 0 < value < 1e12 and math.isfinite(value):
        return float(value)
    raise TalerError(400, EC_PARAMETER_MALFORMED, 'field \'duration\' must be {"d_us": microseconds | "forever"}')


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


def otp_device_routes(
    store: Store,
    *,
    admin_token: str | None = None,
    context: OTPContext | None = None,
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
