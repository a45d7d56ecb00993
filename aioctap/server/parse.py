"""Parsing of the relying party's request bodies: every malformed member is an :class:`ApiError` saying what
was wrong (answered as a failed ServerResponse), never a crash."""

from __future__ import annotations

import json
import math
from typing import Any

from starlette.requests import Request

from ..webauthn import WebAuthnDataError, websafe_decode
from .records import ApiError

__all__ = [
    "CRED_PROTECT",
    "EXTENSION_TYPES",
    "MAX_BODY",
    "MAX_NAME",
    "body",
    "choice",
    "credential",
    "extensions",
    "string",
    "text",
    "username",
]

MAX_BODY = 64 * 1024
MAX_NAME = 256
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


def string(data: dict[str, Any], name: str, *, where: str = "", default: str | None = None) -> str | None:
    """The member ``name`` of ``data``: a string, or ``default`` when absent or null."""
    value = data.get(name)
    if value is None:
        return default
    if not isinstance(value, str):
        raise ApiError(f"'{where}{name}' must be a string")
    return value


def choice(
    data: dict[str, Any], name: str, allowed: tuple[str, ...], *, where: str = "", default: str | None = None
) -> str | None:
    """The member ``name``: one of ``allowed``, or ``default`` when absent."""
    value = string(data, name, where=where, default=default)
    if value is not None and value not in allowed:
        raise ApiError(f"'{where}{name}' must be one of {', '.join(allowed)}")
    return value


def username(data: dict[str, Any], *, required: bool) -> str:
    """The ``username`` member: at most MAX_NAME characters, no control characters."""
    name = string(data, "username", default="") or ""
    if required and not name:
        raise ApiError("'username' is required")
    if len(name) > MAX_NAME:
        raise ApiError(f"'username' must be at most {MAX_NAME} characters")
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in name):
        raise ApiError("'username' must not contain control characters")
    return name


def extensions(data: dict[str, Any]) -> dict[str, Any] | None:
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


def credential(data: dict[str, Any]) -> dict[str, Any]:
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


async def body(request: Request) -> dict[str, Any]:
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


def text(data: dict[str, Any], name: str, *, max_length: int, required: bool = False) -> str | None:
    """A free-text member (a display name, a credential's name): a string of at most ``max_length``
    characters without control characters (C0, DEL, C1) or lone surrogates."""
    value = string(data, name)
    if value is None:
        if required:
            raise ApiError(f"'{name}' is required")
        return None
    if len(value) > max_length:
        raise ApiError(f"'{name}' must be at most {max_length} characters")
    if any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F or 0xD800 <= ord(c) <= 0xDFFF for c in value):
        raise ApiError(f"'{name}' must not contain control characters or lone surrogates")
    return value
