"""Reading the relying party's request bodies: the JSON text (declared JSON when a Content-Type is given, no
further than MAX_BODY bytes), then its declaration (:mod:`aioctap.server.bodies`); every malformed member is an
:class:`ApiError` saying what was wrong (answered as a failed ServerResponse), never a crash."""

from __future__ import annotations

import json
import math
from typing import TypeVar

from pydantic import TypeAdapter, ValidationError
from starlette.requests import Request

from ..webapi import problem, validate
from ..webauthn import JSONValue
from .records import ApiError

__all__ = ["MAX_BODY", "body", "declared"]

T = TypeVar("T")

MAX_BODY = 64 * 1024


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ApiError(f"number {text[:20]!r} is out of range")
    return value


def _no_constant(text: str) -> float:
    raise ApiError(f"{text} is not valid JSON")


def _is_json(content_type: str) -> bool:
    """``application/json`` or a ``+json`` media type, parameters (``; charset=utf-8``) aside."""
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


async def body(request: Request) -> dict[str, JSONValue]:
    """The JSON object of the request body, read no further than MAX_BODY bytes.

    A body sent with another Content-Type than JSON is refused (415) before it is read: what an HTML form
    can send (``text/plain``, ``application/x-www-form-urlencoded``, ``multipart/form-data``) never reaches
    a handler, so a cross-site form cannot post a ceremony's result (a CORS "simple request"); a request
    without a Content-Type is read as JSON.
    """
    content_type = request.headers.get("content-type")
    if content_type is not None and not _is_json(content_type):
        raise ApiError("the request body must be JSON, sent with Content-Type: application/json", 415)
    too_large = ApiError(f"request body larger than {MAX_BODY} bytes", 413)
    length = request.headers.get("content-length", "")
    # ASCII digits only (str.isdigit() is also true for superscripts, which int() refuses), few enough for int()
    if length.isascii() and length.isdigit() and (len(length) > 20 or int(length) > MAX_BODY):
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
    except ValueError:  # int() of more than sys.get_int_max_str_digits() digits (4300)
        raise ApiError("request body holds an integer with too many digits") from None
    if not isinstance(data, dict):
        raise ApiError("request body must be a JSON object")
    return data


async def declared(request: Request, kind: type[T] | TypeAdapter[T]) -> tuple[T, dict[str, JSONValue]]:
    """The request body validated as its declaration ``kind``, and the JSON object it came from."""
    data = await body(request)
    try:
        return validate(kind, data), data
    except ValidationError as e:
        raise ApiError(problem(e).message) from None
