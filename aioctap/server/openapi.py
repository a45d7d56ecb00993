"""The OpenAPI 3.1 document of the relying-party app: the FIDO conformance-server schemas for ``/fido2``.

and of the Taler OTP-devices API. A route not described here is described from its own ``openapi``
attribute when it carries one (a path-item object), otherwise from the route itself (methods, path
parameters, the endpoint's docstring).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Sequence
from typing import Any

from starlette.routing import BaseRoute, Route

__all__ = ["SCHEMAS", "openapi_document"]


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def _obj(properties: dict[str, Any], required: Sequence[str] = ()) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        out["required"] = list(required)
    return out


_STR = {"type": "string"}
_B64 = {"type": "string", "format": "base64url", "description": "base64url without padding"}
_BOOL = {"type": "boolean"}
_UV = {"type": "string", "enum": ["required", "preferred", "discouraged"]}
_TRANSPORTS = {"type": "array", "items": _STR}

SCHEMAS: dict[str, Any] = {
    "ServerResponse": _obj(
        {
            "status": {"type": "string", "enum": ["ok", "failed"]},
            "errorMessage": {"type": "string", "description": "empty when status is ok, says what was wrong otherwise"},
        },
        ["status", "errorMessage"],
    ),
    "AuthenticationExtensionsClientInputs": _obj(
        {
            "appid": _STR,
            "appidExclude": _STR,
            "uvm": _BOOL,
            "credProps": _BOOL,
            "credentialProtectionPolicy": {
                "type": "string",
                "enum": [
                    "userVerificationOptional",
                    "userVerificationOptionalWithCredentialIDList",
                    "userVerificationRequired",
                ],
            },
            "enforceCredentialProtectionPolicy": _BOOL,
            "hmacCreateSecret": _BOOL,
            "hmacGetSecret": _obj({"salt1": _B64, "salt2": _B64}, ["salt1"]),
        }
    ),
    "AuthenticatorSelectionCriteria": _obj(
        {
            "authenticatorAttachment": {"type": "string", "enum": ["platform", "cross-platform"]},
            "requireResidentKey": _BOOL,
            "residentKey": {"type": "string", "enum": ["discouraged", "preferred", "required"]},
            "userVerification": _UV,
        }
    ),
    "ServerPublicKeyCredentialCreationOptionsRequest": _obj(
        {
            "username": {"type": "string", "minLength": 1, "maxLength": 256},
            "displayName": {"type": "string", "maxLength": 256},
            "authenticatorSelection": _ref("AuthenticatorSelectionCriteria"),
            "attestation": {"type": "string", "enum": ["none", "indirect", "direct", "enterprise"]},
            "extensions": _ref("AuthenticationExtensionsClientInputs"),
        },
        ["username"],
    ),
    "ServerPublicKeyCredentialGetOptionsRequest": _obj(
        {
            "username": {"type": "string", "maxLength": 256, "description": "empty: discoverable-credential sign-in"},
            "userVerification": _UV,
            "extensions": _ref("AuthenticationExtensionsClientInputs"),
        }
    ),
    "PublicKeyCredentialDescriptor": _obj(
        {"type": {"type": "string", "enum": ["public-key"]}, "id": _B64, "transports": _TRANSPORTS},
        ["type", "id"],
    ),
    "ServerPublicKeyCredentialCreationOptionsResponse": {
        "allOf": [
            _ref("ServerResponse"),
            _obj(
                {
                    "rp": _obj({"id": _STR, "name": _STR}, ["name"]),
                    "user": _obj({"id": _B64, "name": _STR, "displayName": _STR}, ["id", "name", "displayName"]),
                    "challenge": _B64,
                    "pubKeyCredParams": {
                        "type": "array",
                        "items": _obj({"type": {"type": "string", "enum": ["public-key"]}, "alg": {"type": "integer"}}),
                    },
                    "timeout": {"type": "integer", "description": "milliseconds"},
                    "excludeCredentials": {"type": "array", "items": _ref("PublicKeyCredentialDescriptor")},
                    "authenticatorSelection": _ref("AuthenticatorSelectionCriteria"),
                    "attestation": _STR,
                    "extensions": _ref("AuthenticationExtensionsClientInputs"),
                    "fido2SessionId": {"type": "string", "description": "references the ceremony state; single use"},
                },
                ["rp", "user", "challenge", "pubKeyCredParams"],
            ),
        ]
    },
    "ServerPublicKeyCredentialGetOptionsResponse": {
        "allOf": [
            _ref("ServerResponse"),
            _obj(
                {
                    "challenge": _B64,
                    "timeout": {"type": "integer"},
                    "rpId": _STR,
                    "allowCredentials": {"type": "array", "items": _ref("PublicKeyCredentialDescriptor")},
                    "userVerification": _UV,
                    "extensions": _ref("AuthenticationExtensionsClientInputs"),
                    "fido2SessionId": _STR,
                },
                ["challenge"],
            ),
        ]
    },
    "ServerAuthenticatorAttestationResponse": _obj(
        {"clientDataJSON": _B64, "attestationObject": _B64, "transports": _TRANSPORTS},
        ["clientDataJSON", "attestationObject"],
    ),
    "ServerAuthenticatorAssertionResponse": _obj(
        {"clientDataJSON": _B64, "authenticatorData": _B64, "signature": _B64, "userHandle": _B64},
        ["clientDataJSON", "authenticatorData", "signature"],
    ),
    "ServerPublicKeyCredential": _obj(
        {
            "id": _B64,
            "rawId": _B64,
            "type": {"type": "string", "enum": ["public-key"]},
            "response": {
                "oneOf": [_ref("ServerAuthenticatorAttestationResponse"), _ref("ServerAuthenticatorAssertionResponse")]
            },
            "getClientExtensionResults": {"type": "object"},
            "clientExtensionResults": {"type": "object"},
            "fido2SessionId": {
                "type": "string",
                "description": "the session of the options response (or the fido2-session cookie)",
            },
        },
        ["id", "type", "response"],
    ),
    "CeremonyResult": {
        "allOf": [_ref("ServerResponse"), _obj({"username": _STR, "credentialId": _B64})],
    },
    "CredentialSummary": _obj(
        {
            "id": _B64,
            "name": {"type": "string", "maxLength": 64},
            "created": {"type": ["number", "null"], "description": "seconds since the epoch"},
            "lastUsed": {"type": ["number", "null"], "description": "seconds since the epoch"},
            "aaguid": _STR,
            "transports": _TRANSPORTS,
            "backupEligible": _BOOL,
            "backupState": _BOOL,
        },
        ["id", "name"],
    ),
    "CredentialList": {
        "allOf": [
            _ref("ServerResponse"),
            _obj({"credentials": {"type": "array", "items": _ref("CredentialSummary")}}, ["credentials"]),
        ]
    },
    "Account": {
        "allOf": [
            _ref("ServerResponse"),
            _obj(
                {
                    "username": _STR,
                    "displayName": _STR,
                    "credentials": {"type": "array", "items": _ref("CredentialSummary")},
                },
                ["username", "displayName", "credentials"],
            ),
        ]
    },
    "CredentialRename": _obj({"name": {"type": "string", "minLength": 0, "maxLength": 64}}, ["name"]),
}


def _json(schema: str) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": _ref(schema)}}}


def _post(
    summary: str,
    request: dict[str, Any],
    response: str | list[str],
    description: str = "",
    *,
    forbidden: bool = False,
) -> dict[str, Any]:
    ok: dict[str, Any] = (
        _json(response)
        if isinstance(response, str)
        else {"content": {"application/json": {"schema": {"anyOf": [_ref(r) for r in response]}}}}
    )
    op: dict[str, Any] = {
        "summary": summary,
        "tags": ["fido2"],
        "requestBody": {"required": True, "content": {"application/json": {"schema": request}}},
        "responses": {
            "200": {"description": "status ok", **ok},
            "400": {
                "description": "malformed request or failed verification (status failed)",
                **_json("ServerResponse"),
            },
            "503": {"description": "the store is unavailable", **_json("ServerResponse")},
        },
    }
    if forbidden:
        op["responses"]["403"] = {
            "description": "the user name belongs to an account the caller is not signed in to, or new accounts "
            "are closed (one answer for both)",
            **_json("ServerResponse"),
        }
    if description:
        op["description"] = description
    return op


def _account_op(
    summary: str, response: str, request: str | None = None, *, on_credential: bool = False, last: bool = False
) -> dict[str, Any]:
    """An operation on the signed-in user's account (the aioctap-account session cookie)."""
    op: dict[str, Any] = {
        "summary": summary,
        "tags": ["account"],
        "security": [{"account": []}],
        "responses": {
            "200": {"description": "status ok", **_json(response)},
            "401": {"description": "not signed in", **_json("ServerResponse")},
            "503": {"description": "the store is unavailable", **_json("ServerResponse")},
        },
    }
    if request is not None:
        op["requestBody"] = {"required": True, **_json(request)}
        op["responses"]["400"] = {"description": "malformed request", **_json("ServerResponse")}
    if on_credential:
        op["parameters"] = [{"name": "credential_id", "in": "path", "required": True, "schema": _B64}]
        op["responses"]["403"] = {"description": "the request's Origin is not ours", **_json("ServerResponse")}
        op["responses"]["404"] = {"description": "no such credential of this user", **_json("ServerResponse")}
    if last:
        op["responses"]["409"] = {"description": "the account's only passkey", **_json("ServerResponse")}
    return op


FIDO2_PATHS: dict[str, Any] = {
    "/fido2/attestation/options": {
        "post": _post(
            "Start a registration (or, as in nevisFIDO, an authentication)",
            {
                "oneOf": [
                    _ref("ServerPublicKeyCredentialCreationOptionsRequest"),
                    _ref("ServerPublicKeyCredentialGetOptionsRequest"),
                ]
            },
            ["ServerPublicKeyCredentialCreationOptionsResponse", "ServerPublicKeyCredentialGetOptionsResponse"],
            "A request with none of displayName, authenticatorSelection and attestation starts an authentication "
            "and is answered with a ServerPublicKeyCredentialGetOptionsResponse.",
            forbidden=True,
        )
    },
    "/fido2/attestation/result": {
        "post": _post(
            "Complete the ceremony started at /fido2/attestation/options",
            _ref("ServerPublicKeyCredential"),
            "CeremonyResult",
            forbidden=True,
        )
    },
    "/fido2/assertion/options": {
        "post": _post(
            "Start an authentication",
            _ref("ServerPublicKeyCredentialGetOptionsRequest"),
            "ServerPublicKeyCredentialGetOptionsResponse",
        )
    },
    "/fido2/assertion/result": {
        "post": _post("Complete an authentication", _ref("ServerPublicKeyCredential"), "CeremonyResult")
    },
    "/fido2/logout": {
        "post": {
            "summary": "Sign out: end the account session (ok without one too)",
            "tags": ["account"],
            "responses": {"200": {"description": "signed out", **_json("ServerResponse")}},
        }
    },
    "/fido2/account": {"get": _account_op("The signed-in user and their passkeys", "Account")},
    "/fido2/credentials": {"get": _account_op("The signed-in user's passkeys", "CredentialList")},
    "/fido2/credentials/{credential_id}": {
        "patch": _account_op(
            "Rename one of the signed-in user's passkeys", "ServerResponse", "CredentialRename", on_credential=True
        ),
        "delete": _account_op(
            "Delete one of the signed-in user's passkeys (not the last one)",
            "ServerResponse",
            on_credential=True,
            last=True,
        ),
    },
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

_TALER_ERROR = {"content": {"application/json": {"schema": _ref("TalerErrorDetail")}}}
_OTP_SCHEMAS: dict[str, Any] = {
    "TalerErrorDetail": _obj({"code": {"type": "integer"}, "hint": _STR}, ["code"]),
    "OtpDeviceAddDetails": _obj(
        {
            "otp_device_id": _STR,
            "otp_device_description": _STR,
            "otp_key": {"type": "string", "description": "base32 secret; never returned"},
            "otp_algorithm": {"description": "0 none, 1 TOTP without price, 2 TOTP with price"},
            "otp_ctr": {"type": "integer"},
        },
        ["otp_device_id", "otp_device_description", "otp_key", "otp_algorithm"],
    ),
    "OtpDevicePatchDetails": _obj(
        {
            "otp_device_description": _STR,
            "otp_key": _STR,
            "otp_algorithm": {"description": "0, 1 or 2"},
            "otp_ctr": {"type": "integer"},
        },
        ["otp_device_description"],
    ),
    "OtpDeviceDetails": _obj(
        {
            "device_description": _STR,
            "otp_algorithm": {"type": "integer"},
            "otp_ctr": {"type": "integer"},
            "otp_timestamp": {"type": "integer"},
            "otp_code": _STR,
        },
        ["device_description", "otp_algorithm", "otp_timestamp"],
    ),
    "OtpDevicesSummaryResponse": _obj(
        {
            "otp_devices": {
                "type": "array",
                "items": _obj({"otp_device_id": _STR, "device_description": _STR}, ["otp_device_id"]),
            }
        },
        ["otp_devices"],
    ),
    "LoginTokenRequest": _obj(
        {"scope": _STR, "duration": {"type": "object"}, "refreshable": _BOOL, "description": _STR}, ["scope"]
    ),
    "LoginTokenSuccessResponse": _obj(
        {
            "access_token": _STR,
            "scope": _STR,
            "refreshable": _BOOL,
            "expiration": {"type": "object"},
            "serial": _STR,
        },
        ["access_token", "scope"],
    ),
    "TokenInfos": _obj({"tokens": {"type": "array", "items": {"type": "object"}}}, ["tokens"]),
}
SCHEMAS.update(_OTP_SCHEMAS)


def _otp_op(
    summary: str, ok: str, schema: str | None = None, request: str | None = None, params: Sequence[str] = ()
) -> dict[str, Any]:
    op: dict[str, Any] = {
        "summary": summary,
        "tags": ["otp-devices"],
        "security": [{"bearer": []}],
        "responses": {
            ok: {"description": "success", **(_json(schema) if schema else {})},
            "400": {"description": "malformed request", **_TALER_ERROR},
            "401": {"description": "missing or invalid bearer token", **_TALER_ERROR},
            "404": {"description": "unknown device or token", **_TALER_ERROR},
            "503": {"description": "the store is unavailable", **_TALER_ERROR},
        },
    }
    if request:
        op["requestBody"] = {"required": True, **_json(request)}
    if params:
        op["parameters"] = [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"}} for name in params
        ]
    return op


def _with_403(op: dict[str, Any]) -> dict[str, Any]:
    op["responses"]["403"] = {"description": "the administrator token cannot be revoked", **_TALER_ERROR}
    return op


def _otp_paths(prefix: str, base: Sequence[str]) -> dict[str, Any]:
    device = [*base, "device_id"]
    device_get = _otp_op("An OTP device (otp_code when the query allows it)", "200", "OtpDeviceDetails", None, device)
    device_get["parameters"] = [
        *device_get["parameters"],
        {"name": "faketime", "in": "query", "required": False, "schema": {"type": "integer"}},
        {"name": "price", "in": "query", "required": False, "schema": {"type": "string"}},
    ]
    return {
        f"{prefix}/private/otp-devices": {
            "post": _otp_op("Add an OTP device", "204", None, "OtpDeviceAddDetails", base),
            "get": _otp_op("List the OTP devices", "200", "OtpDevicesSummaryResponse", None, base),
        },
        f"{prefix}/private/otp-devices/{{device_id}}": {
            "get": device_get,
            "patch": _otp_op("Change an OTP device", "204", None, "OtpDevicePatchDetails", device),
            "delete": _otp_op("Delete an OTP device", "204", None, None, device),
        },
        f"{prefix}/private/token": {
            "post": _otp_op("Create a bearer token", "200", "LoginTokenSuccessResponse", "LoginTokenRequest", base),
            "delete": _with_403(_otp_op("Revoke the calling token", "204", None, None, base)),
        },
        f"{prefix}/private/tokens": {"get": _otp_op("List the tokens", "200", "TokenInfos", None, base)},
        f"{prefix}/private/tokens/{{serial}}": {
            "delete": _otp_op("Revoke a token", "204", None, None, [*base, "serial"]),
        },
    }


OTP_PATHS: dict[str, Any] = {**_otp_paths("", ()), **_otp_paths("/instances/{instance}", ("instance",))}

_PARAM = re.compile(r"{([^}:]+)(?::[^}]*)?}")


def _describe(route: Route) -> dict[str, Any]:
    """A path item for a route that carries no OpenAPI description of its own."""
    doc = (route.endpoint.__doc__ or route.name or route.path).strip().splitlines()[0]
    params = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in _PARAM.findall(route.path)
    ]
    item: dict[str, Any] = {}
    for method in sorted((route.methods or {"GET"}) - {"HEAD"}):
        op: dict[str, Any] = {"summary": doc, "responses": {"default": {"description": "see the module documentation"}}}
        if params:
            op["parameters"] = params
        item[method.lower()] = op
    return item


def openapi_document(routes: Sequence[BaseRoute], *, rp_id: str = "localhost") -> dict[str, Any]:
    """The OpenAPI 3.1 document describing ``routes``."""
    paths: dict[str, Any] = {}
    for route in routes:
        if not isinstance(route, Route):
            continue
        path = _PARAM.sub(lambda m: "{" + m.group(1) + "}", route.path)
        own = getattr(route, "openapi", None) or getattr(route.endpoint, "openapi", None)
        if isinstance(own, dict):
            item = copy.deepcopy(own)
        elif path in FIDO2_PATHS or path in OTP_PATHS:
            item = copy.deepcopy(FIDO2_PATHS.get(path) or OTP_PATHS[path])
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
            "schemas": copy.deepcopy(SCHEMAS),
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "secret-token:..."},
                "account": {"type": "apiKey", "in": "cookie", "name": "aioctap-account"},
            },
        },
    }
