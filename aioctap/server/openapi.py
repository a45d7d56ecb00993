"""The OpenAPI 3.1 document of the relying-party app, generated from the declared bodies.

The ``/fido2`` operations (FIDO conformance-server API and the signed-in user's account) are declared here
with the bodies of :mod:`aioctap.server.bodies`; the Taler OTP-devices operations come from
:mod:`aioctap.otp.api` (``OTP_OPERATIONS``). A route without a declared operation is described from its own
``openapi`` attribute when it carries one (a path-item object), otherwise from the route itself (methods,
path parameters, the endpoint's docstring).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any, cast

from starlette.routing import BaseRoute, Route

from ..otp.api import OTP_OPERATIONS
from ..webapi import Operation, Parameter, Reply, openapi_paths
from ..webauthn import JSONValue
from .bodies import (
    Account,
    AttestationOptionsRequest,
    CeremonyResult,
    CredentialId,
    CredentialList,
    CredentialRename,
    ServerPublicKeyCredential,
    ServerPublicKeyCredentialCreationOptionsResponse,
    ServerPublicKeyCredentialGetOptionsRequest,
    ServerPublicKeyCredentialGetOptionsResponse,
    ServerResponse,
)

__all__ = ["FIDO2_OPERATIONS", "openapi_document"]

_STORE_DOWN = Reply("the store is unavailable", ServerResponse)
_MALFORMED = Reply("the body does not follow this declaration (status failed, errorMessage says what is wrong)",
                   ServerResponse)  # fmt: skip
_VERIFICATION = Reply(
    "status failed: the body does not follow this declaration, or it does and the ceremony fails: no, unknown, "
    "expired or used session, unknown credential, or a WebAuthn verification step (§7.1, §7.2) refuses it, such as "
    "a signature that does not verify. A client error, not the server's; errorMessage names the failed check",
    ServerResponse,
)
_NOT_YOURS = Reply(
    "the user name belongs to an account the caller is not signed in to, or new accounts are closed (one answer "
    "for both, with no user handle and no credential id); or the caller's session of that account signed in too long "
    "ago to add a passkey (errorMessage 'sign in again to add a passkey: ...'; sign in, then start again), or the "
    "account holds the most passkeys it may have (32)",
    ServerResponse,
)
_MALFORMED_OR_NO_USER = Reply(
    "status failed: the body does not follow this declaration; or, in the --conformance test mode only, the user "
    "name given for an authentication has no account or no credential, as the FIDO conformance tool expects (the "
    "account mode answers every user name alike, WebAuthn L3 §14.6.2)",
    ServerResponse,
)
_TOO_LARGE = Reply("the body is larger than 64 KiB", ServerResponse)
_NOT_JSON = Reply("the body was sent with a Content-Type other than application/json", ServerResponse)
_OTHER_SITE = Reply("the request's Origin is not this relying party's", ServerResponse)
_NOT_SIGNED_IN = Reply("not signed in", ServerResponse)
# the last answers of every operation that reads a body
_BODY_LIMITS: dict[int | str, Reply] = {413: _TOO_LARGE, 415: _NOT_JSON, 503: _STORE_DOWN}
_SIGNED_IN = ({"account": ()},)
_CREDENTIAL_ID = Parameter("credential_id", CredentialId, description="the credential's id, base64url")

FIDO2_OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "POST",
        "/fido2/attestation/options",
        "Start a registration (or, as in nevisFIDO, an authentication)",
        {
            200: Reply(
                "status ok: creation options, or request options when the body asked for an authentication",
                ServerPublicKeyCredentialCreationOptionsResponse | ServerPublicKeyCredentialGetOptionsResponse,
            ),
            400: _MALFORMED_OR_NO_USER,
            403: _NOT_YOURS,
            **_BODY_LIMITS,
        },
        AttestationOptionsRequest,
        description="A body that names none of displayName, authenticatorSelection and attestation starts an "
        "authentication and is answered with a ServerPublicKeyCredentialGetOptionsResponse.",
        tags=("fido2",),
    ),
    Operation(
        "POST",
        "/fido2/attestation/result",
        "Complete the ceremony started at /fido2/attestation/options",
        {
            200: Reply("status ok: the credential is registered (or the user signed in)", CeremonyResult),
            400: _VERIFICATION,
            403: Reply(
                "the account session that started the registration is no longer signed in, or (outside the "
                "conformance mode) the request's Origin is not this relying party's",
                ServerResponse,
            ),
            409: Reply("the credential is registered already, or the account changed concurrently", ServerResponse),
            **_BODY_LIMITS,
        },
        ServerPublicKeyCredential,
        tags=("fido2",),
    ),
    Operation(
        "POST",
        "/fido2/assertion/options",
        "Start an authentication",
        {
            200: Reply("status ok: request options", ServerPublicKeyCredentialGetOptionsResponse),
            400: _MALFORMED_OR_NO_USER,
            **_BODY_LIMITS,
        },
        ServerPublicKeyCredentialGetOptionsRequest,
        tags=("fido2",),
    ),
    Operation(
        "POST",
        "/fido2/assertion/result",
        "Complete an authentication",
        {
            200: Reply("status ok: signed in (the account session cookie is set)", CeremonyResult),
            400: _VERIFICATION,
            403: Reply(
                "outside the conformance mode: the request's Origin is not this relying party's", ServerResponse
            ),
            409: Reply("the credential changed concurrently", ServerResponse),
            **_BODY_LIMITS,
        },
        ServerPublicKeyCredential,
        tags=("fido2",),
    ),
    Operation(
        "POST",
        "/fido2/logout",
        "Sign out: end the account session (ok without one too)",
        {200: Reply("signed out", ServerResponse), 403: _OTHER_SITE, 503: _STORE_DOWN},
        tags=("account",),
    ),
    Operation(
        "GET",
        "/fido2/account",
        "The signed-in user and their passkeys",
        {200: Reply("status ok", Account), 401: _NOT_SIGNED_IN, 503: _STORE_DOWN},
        tags=("account",),
        security=_SIGNED_IN,
    ),
    Operation(
        "GET",
        "/fido2/credentials",
        "The signed-in user's passkeys",
        {200: Reply("status ok", CredentialList), 401: _NOT_SIGNED_IN, 503: _STORE_DOWN},
        tags=("account",),
        security=_SIGNED_IN,
    ),
    Operation(
        "PATCH",
        "/fido2/credentials/{credential_id}",
        "Rename one of the signed-in user's passkeys",
        {
            200: Reply("status ok", ServerResponse),
            400: _MALFORMED,
            401: _NOT_SIGNED_IN,
            403: _OTHER_SITE,
            404: Reply("no such credential of this user", ServerResponse),
            409: Reply("the credential changed concurrently", ServerResponse),
            **_BODY_LIMITS,
        },
        CredentialRename,
        parameters=(_CREDENTIAL_ID,),
        tags=("account",),
        security=_SIGNED_IN,
    ),
    Operation(
        "DELETE",
        "/fido2/credentials/{credential_id}",
        "Delete one of the signed-in user's passkeys (not the last one); the sessions it signed in end (the "
        "caller's own too: its cookie is cleared)",
        {
            200: Reply("status ok", ServerResponse),
            401: _NOT_SIGNED_IN,
            403: _OTHER_SITE,
            404: Reply("no such credential of this user", ServerResponse),
            409: Reply("the account's only passkey, or the account changed concurrently", ServerResponse),
            503: _STORE_DOWN,
        },
        parameters=(_CREDENTIAL_ID,),
        tags=("account",),
        security=_SIGNED_IN,
    ),
)

# the page and this document: not JSON APIs, described as they are
_OTHER_PATHS: dict[str, Any] = {
    "/openapi.json": {
        "get": {
            "summary": "This OpenAPI 3.1 document",
            "responses": {"200": {"description": "the document", "content": {"application/json": {}}}},
        }
    },
    "/": {
        "get": {
            "summary": "Demo page: register and sign in with navigator.credentials",
            "responses": {"200": {"description": "HTML page", "content": {"text/html": {}}}},
        }
    },
}


def _describe(route: Route) -> dict[str, Any]:
    """A path item for a route that carries no OpenAPI description of its own."""
    doc = (route.endpoint.__doc__ or route.name or route.path).strip().splitlines()[0]
    params = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}} for name in route.param_convertors
    ]
    item: dict[str, Any] = {}
    for method in sorted((route.methods or {"GET"}) - {"HEAD"}):
        op: dict[str, Any] = {"summary": doc, "responses": {"default": {"description": "see the module documentation"}}}
        if params:
            op["parameters"] = params
        item[method.lower()] = op
    return item


def openapi_document(routes: Sequence[BaseRoute], *, rp_id: str = "localhost") -> dict[str, JSONValue]:
    """The OpenAPI 3.1 document describing ``routes``."""
    served = {route.path_format: route for route in routes if isinstance(route, Route)}  # "{name}", no convertor
    operations = [op for op in (*FIDO2_OPERATIONS, *OTP_OPERATIONS) if op.path in served]
    paths_declared, schemas = openapi_paths(operations)
    declared = cast(dict[str, dict[str, Any]], paths_declared)  # each a path item, a JSON object
    paths: dict[str, Any] = {}
    for path, route in served.items():
        own = getattr(route, "openapi", None) or getattr(route.endpoint, "openapi", None)
        if isinstance(own, dict):
            item = copy.deepcopy(own)
        elif path in declared:
            item = declared[path]
        elif path in _OTHER_PATHS:
            item = copy.deepcopy(_OTHER_PATHS[path])
        else:
            item = _describe(route)
        paths.setdefault(path, {}).update(item)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "aioctap relying party",
            "version": "1",
            "description": f"FIDO2 conformance-server API for RP ID {rp_id}, and the OTP-devices API.",
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "secret-token:..."},
                "account": {"type": "apiKey", "in": "cookie", "name": "aioctap-account"},
            },
        },
    }
