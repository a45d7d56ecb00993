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

* ``POST /fido2/logout``, ``GET /fido2/account``, ``GET /fido2/credentials``, ``PATCH`` / ``DELETE
  /fido2/credentials/{id}``: the signed-in user's account (:mod:`aioctap.server.accounts`).

Every answer is a ServerResponse: ``status`` ``"ok"`` with an empty ``errorMessage``, or ``"failed"`` with a
non-empty ``errorMessage`` saying what was wrong (HTTP 400 for bad input, 503 when the store fails).
Each request and response body is declared once (:mod:`aioctap.server.bodies`, pydantic): the declaration
validates the body before a handler sees it, shapes the answer, and generates ``/openapi.json``
(:mod:`aioctap.server.openapi`).

Two modes. By default (accounts): a new user name may open an account (``registration="open"``), and
adding a credential to an existing account needs that account's signed-in session; otherwise the answer
is one 403 that does not say whether the user name exists, with no user handle and no credential id.
Sign-in options are the same for every user name, known or not (WebAuthn L3 §14.6.2): no
``allowCredentials`` at all, so registrations ask for discoverable credentials (``residentKey``
``required``) and a sign-in must return ``userHandle``. A completed sign-in (or a new account's first
registration) opens an account session under a new id, in the same atomic store write as its records.
Outside the conformance mode a ceremony's result posted from another site's page (an ``Origin`` not the
relying party's) is refused with 403, and a body sent with a non-JSON Content-Type with 415 (:mod:`.parse`; one
without a Content-Type is read as JSON), so no other site can sign a browser in to an account it chose (login
CSRF). ``conformance=True`` is the FIDO conformance tool's test mode: anyone registers a credential for any user
name, and options list the user's credentials in ``excludeCredentials`` and ``allowCredentials``. So a ceremony
there opens no account session: a passkey anyone may add to any user name must not sign anyone in to that account
(the account routes answer 401).

Ceremony state lives in the store under a random session id, returned as ``fido2SessionId`` and in the
``fido2-session`` cookie (HttpOnly, SameSite=Strict), and the result endpoint consumes it with one atomic
``take``: a replayed or concurrent second completion finds nothing. A user record is written only when the
user's first registration completes; the atomic writes of the records are :mod:`aioctap.server.records`'s.
"""

from __future__ import annotations

import contextlib
import logging
import os
import urllib.parse
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any, Literal

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route

from ..otp.api import encrypt_plaintext_keys, otp_device_routes
from ..otp.context import OTPContext
from ..stores.base import Check, Store, StoreError, Write
from ..webauthn import (
    PublicKeyCredentialCreationOptionsJSON,
    PublicKeyCredentialRequestOptionsJSON,
    websafe_decode,
    websafe_encode,
)
from . import parse
from .accounts import account_routes
from .bodies import (
    AttestationOptionsRequest,
    AuthenticationExtensionsClientInputs,
    AuthenticatorSelectionCriteria,
    CeremonyResult,
    ServerPublicKeyCredential,
    ServerPublicKeyCredentialCreationOptionsRequest,
    ServerPublicKeyCredentialCreationOptionsResponse,
    ServerPublicKeyCredentialGetOptionsRequest,
    ServerPublicKeyCredentialGetOptionsResponse,
    is_authentication_request,
)
from .ceremony import CeremonyState, Fido2Server, StoredCredential
from .openapi import openapi_document
from .records import (
    ACCOUNT_SESSIONS,
    CREDENTIALS,
    SESSIONS,
    USER_CREDENTIALS,
    USERS,
    ApiError,
    OpenedStore,
    RelyingParty,
)
from .responses import (
    SESSION_COOKIE,
    account_token,
    check_origin,
    failed,
    for_relying_party,
    handler,
    ok,
    set_account_cookie,
    set_cookie,
)
from .verify import DEFAULT_ALGORITHMS, MAX_CREDENTIAL_ID

__all__ = [
    "ACCOUNT_SESSIONS",
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
    "serialized_origin",
]

log = logging.getLogger("aioctap.server")

STATIC = Path(__file__).parent / "static"
# one answer whether the user name is taken by someone else or new accounts are closed
NOT_YOURS = "cannot register a passkey for this user name: sign in to its account first, or choose another user name"
# the most passkeys one account may hold: each is listed in every registration's excludeCredentials and in the
# account's page, and an authenticator takes a list of only so many (getInfo maxCredentialCountInList)
MAX_PASSKEYS = 32
# the start of the 403's message when adding a passkey needs a fresh sign-in (the page signs in again on it)
SIGN_IN_AGAIN = "sign in again to add a passkey"


def _started(
    request: Request,
    kind: type[ServerPublicKeyCredentialCreationOptionsResponse] | type[ServerPublicKeyCredentialGetOptionsResponse],
    options: PublicKeyCredentialCreationOptionsJSON | PublicKeyCredentialRequestOptionsJSON,
    session: str,
) -> JSONResponse:
    """An options response: the session id in the body and in an HttpOnly cookie (see set_cookie)."""
    response = ok(kind.model_validate({"status": "ok", "errorMessage": "", **options, "fido2SessionId": session}))
    set_cookie(response, request, SESSION_COOKIE, session, int(options.get("timeout", 300_000)) // 1000)
    return response


def _extensions(ext: AuthenticationExtensionsClientInputs | None) -> dict[str, Any] | None:
    """The extension inputs to pass on: the declared ones checked, others as sent (null members left out)."""
    return None if ext is None else ext.model_dump(mode="json", exclude_none=True)


def fido2_routes(
    rp: RelyingParty, *, conformance: bool = False, registration: Literal["open", "closed"] = "open"
) -> list[BaseRoute]:
    """The ``/fido2`` ceremony routes (see the module doc for the two modes)."""

    async def start_authentication(request: Request, body: ServerPublicKeyCredentialGetOptionsRequest) -> Response:
        username = body.username or ""
        credentials: list[StoredCredential] = []
        user_handle = None
        # outside the conformance mode, WebAuthn L3 §14.6.2: one answer for every user name, known or not: an empty
        # allowCredentials (every account's credentials are discoverable), so no store read, nothing about the user
        if conformance and username:
            user = await rp.user(username)
            if user is None:
                raise ApiError(f"user {username!r} does not exist")
            credentials = await rp.credentials(str(user["id"]))
            if not credentials:
                raise ApiError(f"user {username!r} has no credentials")
            user_handle = websafe_decode(str(user["id"]))
        options, state = rp.server.authenticate_begin(
            credentials, user_verification=body.userVerification, extensions=_extensions(body.extensions),
            user_handle=user_handle,
        )  # fmt: skip
        session_id = await rp.save_session(state, username)
        return _started(request, ServerPublicKeyCredentialGetOptionsResponse, options, session_id)

    async def start_registration(request: Request, body: ServerPublicKeyCredentialCreationOptionsRequest) -> Response:
        username = body.username
        display_name = body.displayName or username
        selection = body.authenticatorSelection or AuthenticatorSelectionCriteria()
        resident: str | None = selection.residentKey
        if resident is None and selection.requireResidentKey:
            resident = "required"
        # a new user's record is written only when its first registration completes
        user = await rp.user(username)
        account: str | None = None
        existing: list[StoredCredential] = []
        if conformance:  # the conformance tool's test mode: anyone registers for any user name
            user_id = os.urandom(32) if user is None else websafe_decode(str(user["id"]))
            existing = [] if user is None else await rp.credentials(str(user["id"]))
        else:
            session = await rp.session(account_token(request))
            if user is None and registration == "open":
                user_id, account = os.urandom(32), "new"
            elif user is not None and session is not None and session.user_handle == user.get("id"):
                check_origin(request, rp.server.origins)
                if not rp.signed_in_recently(session):
                    raise ApiError(f"{SIGN_IN_AGAIN}: this session signed in over {rp.recent_sign_in:g} s ago", 403)
                user_id, account = websafe_decode(str(user["id"])), "existing"
                existing = await rp.credentials(session.user_handle)
                if len(existing) >= MAX_PASSKEYS:  # (two registrations at once may each take the last place)
                    raise ApiError(f"this account has {len(existing)} passkeys, the most it may have: delete one", 403)
            else:
                raise ApiError(NOT_YOURS, 403)
            # sign-in never lists credentials (see start_authentication): every credential must be discoverable
            resident = "required"
        options, state = rp.server.register_begin(
            {"id": user_id, "name": username, "displayName": display_name},
            existing,
            resident_key_requirement=resident,
            user_verification=selection.userVerification,
            authenticator_attachment=selection.authenticatorAttachment,
            attestation=body.attestation or "none",
            extensions=_extensions(body.extensions),
        )
        session_id = await rp.save_session(state, username, display_name, account=account)
        return _started(request, ServerPublicKeyCredentialCreationOptionsResponse, options, session_id)

    async def complete_registration(
        request: Request, state: CeremonyState, session: dict[str, Any], data: dict[str, Any]
    ) -> Response:
        result = rp.server.register_complete(state, data)
        username = str(session.get("username") or "")
        if state.user_handle is None or not username:
            raise ApiError("the registration session has no user", 500)
        uh = websafe_encode(state.user_handle)
        token: str | None = None
        also: list[Write] = []
        if session.get("account") == "existing":  # the account's session must still be signed in
            signed_in = await rp.session(account_token(request))
            if signed_in is None or signed_in.user_handle != uh:
                raise ApiError("not signed in to this account any more: sign in and add the passkey again", 403)
            # ... when the passkey is stored: neither signed out nor its passkey deleted meanwhile
            also.append(Check(ACCOUNT_SESSIONS, signed_in.key, signed_in.version))
            if signed_in.credential is not None:
                also.append(Check(CREDENTIALS, signed_in.credential, signed_in.credential_version))
        elif session.get("account") == "new":  # a new account is signed in with its first passkey
            token, also = rp.open_session(
                username,
                uh,
                websafe_encode(result.credential_id),
                websafe_encode(result.credential_public_key),
                replacing=account_token(request),
            )
        display_name = session.get("displayName")
        cid = await rp.add_credential(
            username, state.user_handle, result, display_name if isinstance(display_name, str) else None, also=also
        )
        response = ok(CeremonyResult(status="ok", errorMessage="", username=username, credentialId=cid))
        if token is not None:
            set_account_cookie(response, request, token, rp.session_lifetime)
        return response

    async def complete_authentication(
        request: Request, state: CeremonyState, session: dict[str, Any], data: dict[str, Any]
    ) -> Response:
        raw_id = websafe_decode(data["rawId"])
        if not 0 < len(raw_id) <= MAX_CREDENTIAL_ID:  # WebAuthn's limit; no such credential can exist
            raise ApiError(f"unknown credential: 'rawId' must be 1-{MAX_CREDENTIAL_ID} bytes")
        cid = websafe_encode(raw_id)
        found = await rp.credential(cid)
        if found is None:
            raise ApiError("unknown credential")
        record, doc, stored = found
        result, _ = rp.server.authenticate_complete(state, [stored], data)
        username = str(doc.get("username", ""))
        hint = session.get("username")
        if not conformance and hint and hint != username:
            raise ApiError("this passkey is not registered for that user name")
        response = ok(CeremonyResult(status="ok", errorMessage="", username=username, credentialId=cid))
        if conformance:  # anyone may have registered this passkey for this user name: it signs nobody in
            await rp.update_sign_count(cid, result, record)
            return response
        uh = websafe_encode(stored.user_handle)
        token, writes = rp.open_session(username, uh, cid, str(doc["public_key"]), replacing=account_token(request))
        await rp.update_sign_count(cid, result, record, also=writes)
        set_account_cookie(response, request, token, rp.session_lifetime)
        return response

    @handler
    async def attestation_options(request: Request) -> Response:
        """Start a registration (or an authentication, see is_authentication_request)."""
        body, _ = await parse.declared(request, AttestationOptionsRequest)
        if isinstance(body, ServerPublicKeyCredentialCreationOptionsRequest):
            return await start_registration(request, body)
        return await start_authentication(request, body)

    async def take_result(request: Request) -> tuple[CeremonyState, dict[str, Any], dict[str, Any]]:
        """A ceremony's result: its state and session (consumed) and the WebAuthn JSON credential to verify
        (``rawId`` defaults to ``id``). The result opens an account session (its cookie): outside the conformance
        mode, a result posted from another site's page (its Origin) is refused, so no other site signs a browser
        in to an account of its choosing (login CSRF)."""
        if not conformance:
            check_origin(request, rp.server.origins)
        credential, data = await parse.declared(request, ServerPublicKeyCredential)
        session_id = credential.fido2SessionId
        if session_id is None:
            session_id = request.cookies.get(SESSION_COOKIE)
        state, session = await rp.take_session(session_id)
        return state, session, data if credential.rawId is not None else {**data, "rawId": credential.id}

    @handler
    async def attestation_result(request: Request) -> Response:
        """Complete the ceremony started at /fido2/attestation/options."""
        state, session, credential = await take_result(request)
        if state.kind == "authentication":
            return await complete_authentication(request, state, session, credential)
        return await complete_registration(request, state, session, credential)

    @handler
    async def assertion_options(request: Request) -> Response:
        """Start an authentication."""
        body, _ = await parse.declared(request, ServerPublicKeyCredentialGetOptionsRequest)
        return await start_authentication(request, body)

    @handler
    async def assertion_result(request: Request) -> Response:
        """Complete an authentication."""
        state, session, credential = await take_result(request)
        if state.kind != "authentication":
            raise ApiError("the session is a registration: complete it at /fido2/attestation/result")
        return await complete_authentication(request, state, session, credential)

    return [
        Route("/fido2/attestation/options", for_relying_party(rp, attestation_options), methods=["POST"]),
        Route("/fido2/attestation/result", for_relying_party(rp, attestation_result), methods=["POST"]),
        Route("/fido2/assertion/options", for_relying_party(rp, assertion_options), methods=["POST"]),
        Route("/fido2/assertion/result", for_relying_party(rp, assertion_result), methods=["POST"]),
        *account_routes(rp),
    ]


# -- the app -----------------------------------------------------------------------------------------------


def serialized_origin(origin: str) -> str:
    """A web origin as browsers send it (RFC 6454 §6.1): lower-case scheme and host, no default port, no path; the
    Origin check and clientDataJSON.origin (WebAuthn L3 §7.1 step 9) compare exactly. Any other origin (an Android
    app's ``android:apk-key-hash:...``) is left as it is."""
    parts = urllib.parse.urlsplit(origin.strip())
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    if scheme not in ("http", "https"):
        return origin
    if ":" in host:  # an IPv6 address
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        return origin  # not a URL: left as it is, to fail the exact comparison (origin_error says why)
    default = {"http": 80, "https": 443}.get(scheme)
    return f"{scheme}://{host}" if port is None or port == default else f"{scheme}://{host}:{port}"


async def _encrypt_old_keys(store: Store, context: OTPContext) -> None:
    """At start-up: OTP keys an older version stored in plain text are encrypted (a failure is logged)."""
    try:
        done = await encrypt_plaintext_keys(store, context)
    except (StoreError, ValueError) as e:
        log.warning("OTP keys stored in plain text were not encrypted: %s", type(e).__name__)
        return
    if done:
        log.warning("encrypted %d OTP key(s) stored in plain text by an older version", done)


def create_app(
    store: Store | str,
    *,
    rp_id: str = "localhost",
    origin: str | list[str] | None = None,
    rp_name: str | None = None,
    admin_token: str | None = None,
    otp_routes: bool = True,
    timeout: float = 300.0,
    conformance: bool = False,
    registration: Literal["open", "closed"] = "open",
    session_idle: float = 1800.0,
    session_lifetime: float = 12 * 3600.0,
    recent_sign_in: float = 600.0,
    otp_context: OTPContext | None = None,
    algorithms: Sequence[int] | None = None,
) -> Starlette:
    """The ASGI app: conformance API, OpenAPI document, demo page and (optionally) the OTP-devices API.

    ``store``: an open :class:`Store`, or a store URL that the app's lifespan opens with
    :func:`aioctap.stores.open_store` and closes at shutdown. ``origin`` defaults to
    ``http://{rp_id}:8000``. ``conformance``: the FIDO conformance tool's test mode (anonymous registration
    for any user name); ``registration``: whether a new user name may open an account; ``session_idle`` and
    ``session_lifetime``: the account session's idle and absolute lifetimes in seconds; ``recent_sign_in``: adding a
    passkey to an account needs a sign-in of the last so many seconds (403 otherwise). ``otp_context``:
    encrypts the OTP-devices API's keys at rest (rows stored in plain text are encrypted at start-up).
    ``algorithms``: the COSE algorithms offered in ``pubKeyCredParams``, in order of preference (default:
    ES256, EdDSA, ES384, ES512, PS256, RS256; ML-DSA-44/65/87 are -48/-49/-50).
    """
    if registration not in ("open", "closed"):
        raise ValueError("registration must be 'open' or 'closed'")
    opened: OpenedStore | None = None
    the_store: Store
    if isinstance(store, str):
        the_store = opened = OpenedStore(store)
    else:
        the_store = store
    given = [origin] if isinstance(origin, str) else origin or [f"http://{rp_id}:8000"]
    origins = list(dict.fromkeys(serialized_origin(o) for o in given))  # as browsers write them: compared exactly
    rp = RelyingParty(
        the_store,
        Fido2Server(rp_id, origins, rp_name, timeout=timeout, algorithms=algorithms or DEFAULT_ALGORITHMS),
        session_idle=session_idle,
        session_lifetime=session_lifetime,
        recent_sign_in=recent_sign_in,
    )

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
        *fido2_routes(rp, conformance=conformance, registration=registration),
    ]
    if otp_routes:
        routes += otp_device_routes(the_store, admin_token=admin_token, context=otp_context)
    document = openapi_document(routes, rp_id=rp_id)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as stack:
            if opened is not None:  # the store named by a URL: open for the app's lifetime
                from ..stores import open_store

                opened.inner = await stack.enter_async_context(open_store(opened.url))
                stack.callback(setattr, opened, "inner", None)
            if otp_routes and otp_context is not None:
                await _encrypt_old_keys(the_store, otp_context)
            yield

    async def http_error(request: Request, exc: Exception) -> Response:
        """404 / 405 under /fido2 as a ServerResponse too."""
        status = int(getattr(exc, "status_code", 500))
        detail = str(getattr(exc, "detail", "") or "request failed")
        if request.url.path.startswith("/fido2"):
            response = failed(f"{request.method} {request.url.path}: {detail}", status)
            response.headers.update(getattr(exc, "headers", None) or {})  # a 405's Allow
            return response
        return JSONResponse({"detail": detail}, status_code=status, headers=getattr(exc, "headers", None))

    app = Starlette(routes=routes, lifespan=lifespan, exception_handlers={HTTPException: http_error})
    app.state.relying_party = rp
    app.state.openapi = document
    return app
