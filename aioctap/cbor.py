"""Canonical CTAP2 CBOR (CTAP 2.1 §8 "Message Encoding") on top of cbor2.

CTAP2 uses a restricted CBOR profile: definite lengths only, shortest integer encodings,
map keys sorted by the CTAP2 canonical order (length first, then bytewise; cbor2's
``canonical=True`` implements exactly that), no tags, no floats on the wire. ``loads``
rejects anything outside the profile with :class:`CborError` when ``strict`` is set.
"""

from __future__ import annotations

import io
from typing import Any

import cbor2

__all__ = ["CborError", "decode_from", "dumps", "loads"]


class CborError(ValueError):
    """The bytes are not valid (canonical, when strict) CTAP2 CBOR."""


def dumps(obj: Any) -> bytes:
    """Encode ``obj`` as canonical CTAP2 CBOR."""
    try:
        return cbor2.dumps(obj, canonical=True)
    except (cbor2.CBOREncodeError, TypeError, ValueError) as e:
        raise CborError(f"cannot encode value as CBOR: {e}") from None


_ALLOWED = (int, bytes, str, bool, type(None), list, dict)


def _check_types(obj: Any, depth: int = 0) -> None:
    if depth > 16:
        raise CborError("CBOR nesting deeper than 16 levels")
    if isinstance(obj, float) or not isinstance(obj, _ALLOWED):
        raise CborError(f"CBOR item of type {type(obj).__name__} is not allowed in CTAP2")
    if isinstance(obj, list):
        for item in obj:
            _check_types(item, depth + 1)
    elif isinstance(obj, dict):
        for k, v in obj.items():
            if not isinstance(k, int | str | bytes) or isinstance(k, bool):
                raise CborError(f"CBOR map key of type {type(k).__name__} is not allowed in CTAP2")
            _check_types(v, depth + 1)


def decode_from(data: bytes, *, strict: bool = True) -> tuple[Any, bytes]:
    """Decode one CBOR item from the start of ``data``; return it and the rest.

    With ``strict``, the item must be in the CTAP2 canonical form (re-encoding gives the
    same bytes) and contain only CTAP2 types.
    """
    try:
        # cbor2 raises a range of exception types on malformed input; all mean "invalid".
        fp = io.BytesIO(data)
        obj = cbor2.CBORDecoder(fp).decode()
        used = fp.tell()
    except CborError:
        raise
    except Exception as e:
        raise CborError(f"invalid CBOR: {type(e).__name__}: {e}") from None
    _check_types(obj)
    if strict:
        encoded = dumps(obj)
        if encoded != data[:used]:
            raise CborError("CBOR is not in CTAP2 canonical form")
    return obj, data[used:]


def loads(data: bytes, *, strict: bool = True) -> Any:
    """Decode exactly one CBOR item; trailing bytes are an error."""
    obj, rest = decode_from(data, strict=strict)
    if rest:
        raise CborError(f"{len(rest)} trailing bytes after CBOR item")
    return obj
