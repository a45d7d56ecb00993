"""The relying party as an ASGI app (Starlette): the FIDO conformance-server API under ``/fido2``.

``create_app(store, rp_id="localhost", origin=None, ...)`` serves

* ``POST /fido2/attestation/options``: a ServerPublicKeyCredentialCreationOptionsRequest (``username``,
  ``displayName``, ``authenticatorSelection``, ``attestation``, ``extensions``) starts a registration and
  returns a ServerPublicKeyCredentialCreationOptionsResponse. As in nevisFIDO the same endpoint also starts
  an authentication: a request that carries none of the registration-only members ``displayName``,
  ``authenticatorSelection`` and ``attestation`` (so only ``username``, ``userVerification`` and
  ``extensions``: a ServerPublicKeyCredentialGetOptionsRequest) starts an authentication and returns a
  ServerPublicKeyCredentialGetOptionsResponse;
* ``POST /fido2/attestation/result``: completes the ceremony its session started (a registration, or an
  authentication started at ``/fido2/attestation/options``);
* ``POST /fido2/assertion/options`` (``username`` may be empty for a discoverable-credential sign-in) and
  ``POST /fido2/assertion/result``;
* ``GET /openapi.json`` (OpenAPI 3.1 of every route), the demo page at ``/``, and the Taler OTP-devices
  API (:mod:`aioctap.otp.api`) when ``otp_routes`` is on.

Every answer is a ServerResponse: ``status`` ``"ok"`` with an empty ``errorMessage``, or ``"failed"`` with a
non-empty ``errorMessage`` saying what was wrong (HTTP 400 for bad input, 503 when the store fails).

Ceremony state lives in the store under a random session id, returned as ``fido2SessionId`` and in the
``fido2-session`` cookie (HttpOnly, SameSite=Strict); the id only references server state, which the result
endpoint consumes with one atomic ``take``: a replayed or concurrent second completion finds nothing.
A user record is written only when the user's first registration completes (an abandoned options call
leaves nothing behind); a credential is one record created with a create-only write, plus an index entry
per user; the signature counter is updated with a compare-and-set on the credential's record. A
registration that fails after the challenge was consumed leaves no record: writes already made by that
request are undone.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route

from ..stores.base import Store, StoreError
from ..webauthn import WebAuthnDataError, websafe_decode, websafe_encode
from .ceremony import USER_VERIFICATION, CeremonyState, Fido2Server, StoredCredential
from .errors import VerificationError
from .openapi import openapi_document
from .records import CREDENTIALS, SESSIONS, USER_CREDENTIALS, USERS, ApiError, OpenedStore, RelyingParty
from .verify import MAX_CREDENTIAL_ID

__all__ = [
    "CREDENTIALS",
    "SESSIONS",
    "USERS",
    "USER_CREDENTIALS",
    "ApiError",
    "RelyingParty",
    "create_app",
    "failed",
    "fido2_routes",
    "is_authentication_request",
]

log = logging.getLogger("aioctap.server")

MAX_BODY = 64 * 1024
MAX_NAME = 256
SESSION_COOKIE = "fido2-session"
REGISTRATION_ONLY = ("displayName", "authenticatorSelection", "attestation")
CRED_PROTECT = ("userVerificationOptional", "userVerificationOptionalWithCredentialIDList", "userVerificationRequired")
EXTENSION_TYPES: dict[str, type] = {
    "appid": str,
    "appidExclude": str,
    "uvm": bool,
    "credProps": bool,
    "credentialProtectionPolicy": str,
    "enforceCredentialProtectionPolicy": bool,
    "hmacCreateSecret": bool,
    "hmacGetSecret": dict,
}
STATIC = Path(__file__).parent / "static"


def is_authentication_request(data: dict[str, Any]) -> bool:
    """True when a body sent to /fido2/attestation/options asks for an authentication (see the module doc)."""
    return not any(name in data for name in REGISTRATION_ONLY)


# -- request parsing ---------------------------------------------------------------------------------------


def _str(data: dict[str, Any], name: str, *, where: str = "", default: str | None = None) -> str | None:
    value = data.get(name)
    if value is None:
        return default
    if not isinstance(value, str):
        raise ApiError(f"'{where}{name}' must be a string")
    return value


def _choice(
    data: dict[str, Any], name: str, allowed: tuple[str, ...], *, where: str = "", default: str | None = None
) -> str | None:
    value = _str(data, name, where=where, default=default)
    if value is not None and value not in allowed:
        raise ApiError(f"'{where}{name}' must be one of {', '.join(allowed)}")
    return value


def _username(data: dict[str, Any], *, required: bool) -> str:
    name = _str(data, "username", default="") or ""
    if required and not name:
        raise ApiError("'username' is required")
    if len(name) > MAX_NAME:
        raise ApiError(f"'username' must be at most {MAX_NAME} characters")
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in name):
        raise ApiError("'username' must not contain control characters")
    return name


def _extensions(data: dict[str, Any]) -> dict[str, Any] | None:
    """The ``extensions`` member checked against the conformance / nevisFIDO types; others pass through."""
    ext = data.get("extensions")
    if ext is None:
        return None
    if not isinstance(ext, dict):
        raise ApiError("'extensions' must be an object")
    for name, kind in EXTENSION_TYPES.items():
        if name in ext and not isinstance(ext[name], kind):
            raise ApiError(f"'extensions.{name}' must be a {'boolean' if kind is bool else kind.__name__}")
    if "credentialProtectionPolicy" in ext and ext["credentialProtectionPolicy"] not in CRED_PROTECT:
        raise ApiError(f"'extensions.credentialProtectionPolicy' must be one of {', '.join(CRED_PROTECT)}")
    salts = ext.get("hmacGetSecret")
    if salts is not None:
        if "salt1" not in salts:
            raise ApiError("'extensions.hmacGetSecret.salt1' is required")
        for salt in ("salt1", "salt2"):
            if salt in salts and len(_b64(salts[salt], f"extensions.hmacGetSecret.{salt}")) != 32:
                raise ApiError(f"'extensions.hmacGetSecret.{salt}' must be 32 bytes")
    return dict(ext)


def _b64(value: Any, what: str) -> bytes:
    if not isinstance(value, str):
        raise ApiError(f"'{what}' must be a base64url string")
    try:
        return websafe_decode(value)
    except WebAuthnDataError:
        raise ApiError(f"'{what}' is not valid base64url") from None


def _credential(data: dict[str, Any]) -> dict[str, Any]:
    """A ServerPublicKeyCredential as a WebAuthn JSON credential (``rawId`` defaults to ``id``)."""
    cid = data.get("id")
    if not isinstance(cid, str) or not cid:
        raise ApiError("'id' is required and must be a base64url string")
    _b64(cid, "id")
    if data.get("rawId") is None:
        data = {**data, "rawId": cid}
    raw = _b64(data["rawId"], "rawId")
    if data.get("type") != "public-key":
        raise ApiError("'type' must be 'public-key'")
    response = data.get("response")
    if not isinstance(response, dict):
        raise ApiError("'response' must be an object")
    for name, value in response.items():
        if name in ("clientDataJSON", "attestationObject", "authenticatorData", "signature", "userHandle") and (
            value is not None
        ):
            _b64(value, f"response.{name}")
    if not raw:
        raise ApiError("'rawId' must not be empty")
    return data


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ApiError(f"number {text[:20]!r} is out of range")
    return value


def _no_constant(text: str) -> float:
    raise ApiError(f"{text} is not valid JSON")


async def _body(request: Request) -> dict[str, Any]:
    """The JSON object of the request body, read no further than MAX_BODY bytes."""
    too_large = ApiError(f"request body larger than {MAX_BODY} bytes", 413)
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY:
        raise too_large
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise too_large
        chunks.append(chunk)
    raw = b"".join(chunks)
    try:
        data = json.loads(raw, parse_float=_finite_float, parse_constant=_no_constant)
        # lone surrogates (\ud800) decode but cannot be stored or answered: reject them here
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
        raise ApiError("request body is not valid JSON") from None
    except UnicodeEncodeError:
        raise ApiError("request body holds a string that is not valid Unicode (a lone surrogate)") from None
    if not isinstance(data, dict):
        raise ApiError("request body must be a JSON object")
    return data


# -- HTTP --------------------------------------------------------------------------------------------------


def _ok(payload: dict[str, Any] | None = None) -> JSONResponse:
    return JSONResponse({"status": "ok", "errorMessage": "", **(payload or {})})


def _started(request: Request, options: dict[str, Any], session: str) -> JSONResponse:
    """An options response: the session id in the body and in an HttpOnly cookie (Secure over https)."""
    response = _ok({**options, "fido2SessionId": session})
    response.set_cookie(
        SESSION_COOKIE,
        session,
        max_age=int(options.get("timeout", 300_000)) // 1000,
        path="/fido2",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


def failed(message: str, status: int = 400) -> JSONResponse:
    """A ServerResponse with status "failed"."""
    return JSONResponse({"status": "failed", "errorMessage": message or "request failed"}, status_code=status)


def _handler(fn: Callable[[Request], Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
    async def wrapped(request: Request) -> Response:
        try:
            return await fn(request)
        except ApiError as e:
            return failed(str(e), e.status)
        except VerificationError as e:
            log.info("WebAuthn verification failed: %s", type(e).__name__)
            return failed(f"{type(e).__name__}: {e}")
        except StoreError as e:
            log.warning("store failed: %s", type(e).__name__)
            return failed("the credential store is unavailable", 503)
        except Exception:  # still a ServerResponse; the details go to the log only
            log.exception("unexpected error in %s", fn.__name__)
            return failed("internal server error", 500)

    wrapped.__name__ = fn.__name__
    wrapped.__doc__ = fn.__doc__
    return wrapped


def _session_of(request: Request, data: dict[str, Any]) -> str | None:
    value = data.get("fido2SessionId")
    if value is None:
        value = request.cookies.get(SESSION_COOKIE)
    return value if isinstance(value, str) else None


def fido2_routes(rp: RelyingParty) -> list[BaseRoute]:
    """The conformance API routes."""

    async def start_authentication(request: Request, data: dict[str, Any]) -> Response:
        username = _username(data, required=False)
        uv = _choice(data, "userVerification", USER_VERIFICATION, default="preferred")
        ext = _extensions(data)
        credentials: list[StoredCredential] = []
        user_handle = None
        if username:
            user = await rp.user(username)
            if user is None:
                raise ApiError(f"user {username!r} does not exist")
            credentials = await rp.credentials(str(user["id"]))
            if not credentials:
                raise ApiError(f"user {username!r} has no credentials")
            user_handle = websafe_decode(str(user["id"]))
        options, state = rp.server.authenticate_begin(
            credentials, user_verification=uv, extensions=ext, user_handle=user_handle
        )
        session = await rp.save_session(state, username)
        return _started(request, options, session)

    async def start_registration(request: Request, data: dict[str, Any]) -> Response:
        username = _username(data, required=True)
        display_name = _str(data, "displayName", default=username) or username
        if len(display_name) > MAX_NAME:
            raise ApiError(f"'displayName' must be at most {MAX_NAME} characters")
        selection = data.get("authenticatorSelection")
        if selection is None:
            selection = {}
        if not isinstance(selection, dict):
            raise ApiError("'authenticatorSelection' must be an object")
        attestation = _choice(data, "attestation", ("none", "indirect", "direct", "enterprise"), default="none")
        w = "authenticatorSelection."
        resident = _choice(selection, "residentKey", ("discouraged", "preferred", "required"), where=w)
        require_rk = selection.get("requireResidentKey")
        if require_rk is not None and not isinstance(require_rk, bool):
            raise ApiError("'authenticatorSelection.requireResidentKey' must be a boolean")
        if resident is None and require_rk:
            resident = "required"
        uv = _choice(selection, "userVerification", USER_VERIFICATION, where=w, default="preferred")
        attachment = _choice(selection, "authenticatorAttachment", ("platform", "cross-platform"), where=w)
        ext = _extensions(data)
        # a new user's record is written only when its first registration completes
        user = await rp.user(username)
        user_id = os.urandom(32) if user is None else websafe_decode(str(user["id"]))
        existing = [] if user is None else await rp.credentials(str(user["id"]))
        options, state = rp.server.register_begin(
            {"id": user_id, "name": username, "displayName": display_name},
            existing,
            resident_key_requirement=resident,
            user_verification=uv,
            authenticator_attachment=attachment,
            attestation=attestation or "none",
            extensions=ext,
        )
        session = await rp.save_session(state, username, display_name)
        return _started(request, options, session)

    async def complete_registration(state: CeremonyState, session: dict[str, Any], data: dict[str, Any]) -> Response:
        result = rp.server.register_complete(state, data)
        username = str(session.get("username") or "")
        if state.user_handle is None or not username:
            raise ApiError("the registration session has no user", 500)
        display_name = session.get("displayName")
        cid = await rp.add_credential(
            username, state.user_handle, result, display_name if isinstance(display_name, str) else None
        )
        return _ok({"username": username, "credentialId": cid})

    async def complete_authentication(state: CeremonyState, session: dict[str, Any], data: dict[str, Any]) -> Response:
        raw_id = websafe_decode(data["rawId"])
        if not 0 < len(raw_id) <= MAX_CREDENTIAL_ID:  # WebAuthn's limit; no such credential can exist
            raise ApiError(f"unknown credential: 'rawId' must be 1-{MAX_CREDENTIAL_ID} bytes")
        cid = websafe_encode(raw_id)
        found = await rp.credential(cid)
        if found is None:
            raise ApiError("unknown credential")
        record, doc, stored = found
        result, _ = rp.server.authenticate_complete(state, [stored], data)
        await rp.update_sign_count(cid, result, record)
        return _ok({"username": str(doc.get("username", "")), "credentialId": cid})

    @_handler
    async def attestation_options(request: Request) -> Response:
        """Start a registration (or an authentication, see is_authentication_request)."""
        data = await _body(request)
        if is_authentication_request(data):
            return await start_authentication(request, data)
        return await start_registration(request, data)

    @_handler
    async def attestation_result(request: Request) -> Response:
        """Complete the ceremony started at /fido2/attestation/options."""
        data = await _body(request)
        cred = _credential(data)
        state, session = await rp.take_session(_session_of(request, data))
        if state.kind == "authentication":
            return await complete_authentication(state, session, cred)
        return await complete_registration(state, session, cred)

    @_handler
    async def assertion_options(request: Request) -> Response:
        """Start an authentication."""
        return await start_authentication(request, await _body(request))

    @_handler
    async def assertion_result(request: Request) -> Response:
        """Complete an authentication."""
        data = await _body(request)
        cred = _credential(data)
        state, session = await rp.take_session(_session_of(request, data))
        if state.kind != "authentication":
            raise ApiError("the session is a registration: complete it at /fido2/attestation/result")
        return await complete_authentication(state, session, cred)

    return [
        Route("/fido2/attestation/options", attestation_options, methods=["POST"]),
        Route("/fido2/attestation/result", attestation_result, methods=["POST"]),
        Route("/fido2/assertion/options", assertion_options, methods=["POST"]),
        Route("/fido2/assertion/result", assertion_result, methods=["POST"]),
    ]


# -- the app -----------------------------------------------------------------------------------------------


def _otp_routes(store: Store, admin_token: str | None) -> list[BaseRoute]:
    try:
        from ..otp.api import otp_device_routes
    except ImportError as e:  # the OTP-devices API is optional (another module)
        log.warning("OTP-devices API not mounted: %s", e)
        return []
    return list(otp_device_routes(store, admin_token=admin_token))


def create_app(
    store: Store | str,
    *,
    rp_id: str = "localhost",
    origin: str | list[str] | None = None,
    rp_name: str | None = None,
    admin_token: str | None = None,
    otp_routes: bool = True,
    timeout: float = 300.0,
) -> Starlette:
    """The ASGI app: conformance API, OpenAPI document, demo page and (optionally) the OTP-devices API.

    ``store``: an open :class:`Store`, or a store URL that the app's lifespan opens with
    :func:`aioctap.stores.open_store` and closes at shutdown. ``origin`` defaults to
    ``http://{rp_id}:8000``.
    """
    opened: OpenedStore | None = None
    the_store: Store
    if isinstance(store, str):
        the_store = opened = OpenedStore(store)
    else:
        the_store = store
    origins = origin or f"http://{rp_id}:8000"
    rp = RelyingParty(the_store, Fido2Server(rp_id, origins, rp_name, timeout=timeout))

    page = (STATIC / "index.html").read_text(encoding="utf-8")

    async def index(request: Request) -> Response:
        """The demo page: register and sign in with navigator.credentials."""
        return HTMLResponse(page, headers={"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY"})

    async def openapi(request: Request) -> Response:
        """This OpenAPI 3.1 document."""
        return JSONResponse(document)

    routes: list[BaseRoute] = [
        Route("/", index, methods=["GET"]),
        Route("/openapi.json", openapi, methods=["GET"]),
        *fido2_routes(rp),
    ]
    if otp_routes:
        routes += _otp_routes(the_store, admin_token)
    document = openapi_document(routes, rp_id=rp_id)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if opened is None:
            yield
            return
        from ..stores import open_store

        async with open_store(opened.url) as inner:
            opened.inner = inner
            try:
                yield
            finally:
                opened.inner = None

    async def http_error(request: Request, exc: Exception) -> Response:
        """404 / 405 under /fido2 as a ServerResponse too."""
        status = int(getattr(exc, "status_code", 500))
        detail = str(getattr(exc, "detail", "") or "request failed")
        if request.url.path.startswith("/fido2"):
            return failed(f"{request.method} {request.url.path}: {detail}", status)
        return JSONResponse({"detail": detail}, status_code=status, headers=getattr(exc, "headers", None))

    app = Starlette(routes=routes, lifespan=lifespan, exception_handlers={HTTPException: http_error})
    app.state.relying_party = rp
    app.state.openapi = document
    return app
