"""Canonical CTAP2 CBOR (CTAP 2.1 §8 "Message Encoding") on top of cbor2.

CTAP2 uses a restricted CBOR profile: definite lengths only, shortest integer encodings,
map keys sorted in the CTAP2 canonical order, no duplicate map keys, no tags, no floats or
simple values other than false/true/null, map keys of type integer, text or byte string,
at most 16 levels of nesting. ``loads`` rejects anything outside the profile with
:class:`CborError` (canonical form only when ``strict`` is set; the types, the nesting and
trailing bytes always).

The CTAP2 canonical key order (CTAP 2.1 §8 "CTAP2 canonical CBOR encoding form", as python-fido2 and
Chromium's ``cbor::Value`` implement it): a key of a lower major type first (unsigned integers, then
negative integers, then byte strings, then text strings), then the key with the shorter encoding, then
bytewise lexical order of the encodings. That is *not* RFC 7049 §3.9's order (cbor2's ``canonical=True``),
which compares the lengths first: ``{24: 0, -1: 0}`` is ``a2 1818 00 20 00`` in CTAP2 and ``a2 20 00 1818 00``
in RFC 7049 order. So ``dumps`` puts every map in CTAP2 order itself and lets cbor2 write the maps in the
order given.

How the strict checks stay cheap (the per-item work runs in cbor2's compiled code, but for a short
Python loop over each map's entries and a set of item types per array):

* tags are refused at their header: the decoder looks every tag number up in
  ``semantic_decoders``, and :class:`_NoTags` answers every lookup with an error;
* the decoder's ``object_hook`` sees each map as it was on the wire (a dict keeps the order
  in which its keys came): it checks the types of the keys and of the values (and of the
  items of the arrays among them), and that the keys come in CTAP2 canonical order;
* everything else the canonical form asks for (shortest heads, definite lengths, no
  duplicate keys) holds exactly when cbor2's plain encoder, which writes shortest heads and
  definite lengths and keeps dict order, gives back the input bytes. Those bytes then also
  span the whole input (a CBOR item delimits itself), so there are no trailing bytes either.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any, NoReturn

import cbor2

__all__ = ["MAX_DEPTH", "CborError", "decode_from", "dumps", "loads"]

MAX_DEPTH = 16  # an item may sit inside at most this many containers


class CborError(ValueError):
    """The bytes are not valid (canonical, when strict) CTAP2 CBOR."""


def dumps(obj: Any) -> bytes:
    """Encode ``obj`` as canonical CTAP2 CBOR.

    ``obj`` may hold integers (64-bit range), byte strings (also bytearray, memoryview), text strings,
    booleans, None, sequences (list, tuple) and mappings whose keys are integers, text or byte strings;
    anything else is a :class:`CborError`.
    """
    try:
        return cbor2.dumps(_in_ctap2_order(obj, 0))
    except CborError:
        raise
    except (cbor2.CBOREncodeError, TypeError, ValueError, OverflowError) as e:
        raise CborError(f"cannot encode value as CBOR: {e}") from None


_LEAF_TYPES = frozenset((str, bytes, bool, type(None)))  # ints have a range to check
_INT_LIMIT = 1 << 64  # CBOR major types 0 and 1 carry -2**64 .. 2**64 - 1 (beyond: bignum tags, not CTAP2)


def _in_ctap2_order(obj: Any, depth: int) -> Any:
    """``obj`` with its maps rebuilt as dicts whose keys come in CTAP2 canonical order (and checked for type).

    ``depth`` is the number of containers ``obj`` sits in.
    """
    kind = type(obj)
    if kind is int:
        if -_INT_LIMIT <= obj < _INT_LIMIT:
            return obj
        raise CborError("cannot encode value as CBOR: integer out of the 64-bit range of CBOR")
    if kind is dict:
        if depth >= MAX_DEPTH and obj:
            raise _too_deep()
        return _map_in_ctap2_order(obj, depth)
    if kind is list or kind is tuple:
        if depth >= MAX_DEPTH and obj:
            raise _too_deep()
        return [item if type(item) in _LEAF_TYPES else _in_ctap2_order(item, depth + 1) for item in obj]
    if kind in _LEAF_TYPES:
        return obj
    if isinstance(obj, bytes | bytearray | memoryview):  # bytes subclasses (an AAGUID type, say) too
        return bytes(obj)
    if isinstance(obj, int) and kind is not bool:  # IntEnum and the like: encoded as what they are
        return _in_ctap2_order(int(obj), depth)
    if isinstance(obj, str):
        return str(obj)
    if isinstance(obj, list | tuple):
        return _in_ctap2_order(list(obj), depth)
    if isinstance(obj, Mapping):
        return _in_ctap2_order(dict(obj), depth)
    raise CborError(f"cannot encode value as CBOR: type {kind.__name__} is not allowed in CTAP2")


def _too_deep() -> CborError:
    return CborError(f"CBOR nesting deeper than {MAX_DEPTH} levels")


def _map_in_ctap2_order(obj: dict[Any, Any], depth: int) -> dict[Any, Any]:
    items = [
        (key, value if type(value) in _LEAF_TYPES else _in_ctap2_order(value, depth + 1)) for key, value in obj.items()
    ]
    if len(items) > 1:
        for key, _ in items:
            if type(key) is not int or key < 0:
                items.sort(key=_item_order)
                break
        else:  # all keys unsigned integers, as in every CTAP2 command: their order is numeric order
            items.sort(key=_first)
            if items[-1][0] >= _INT_LIMIT:
                _key_order(items[-1][0])  # refuses it
    elif items and (type(items[0][0]) not in _KEY_TYPES or type(items[0][0]) is int):
        _key_order(items[0][0])  # refuses a key of a type not allowed (or takes an int or str subclass)
    return dict(items)


def _first(item: tuple[Any, Any]) -> Any:
    return item[0]


def _item_order(item: tuple[Any, Any]) -> tuple[int, int, Any]:
    key = item[0]
    kind = type(key)
    # short ASCII text and one-byte integers, the keys of CTAP2's own maps, inline
    if kind is str and len(key) < 24 and key.isascii():
        return 3, 1 + len(key), key
    if kind is int and -24 <= key < 24:
        return (0, 1, key) if key >= 0 else (1, 1, -1 - key)
    return _key_order(key)


# -- the hooks that keep decoded values inside the CTAP2 profile --------------------------------------


class _NoTags(dict[int, Any]):
    """``semantic_decoders`` for cbor2's decoder: refuses every tag number (CTAP2 has no tags).

    Empty, so every lookup goes to ``__missing__`` (a dict, since cbor2 takes dicts fastest).
    """

    def __missing__(self, tag: int) -> NoReturn:
        raise CborError(f"CBOR tag {tag} is not allowed in CTAP2")


def _reject_tag(tag: cbor2.CBORTag, immutable: bool) -> NoReturn:
    raise CborError(f"CBOR tag {tag.tag} is not allowed in CTAP2")


_KEY_TYPES = frozenset((int, str, bytes))
_VALUE_TYPES = frozenset((int, str, bytes, bool, type(None), list, dict))


def _not_allowed(values: Any) -> CborError:
    bad = next(v for v in values if type(v) not in _VALUE_TYPES)
    return CborError(f"CBOR item of type {type(bad).__name__} is not allowed in CTAP2")


def _check_array(items: list[Any]) -> None:
    """The items of an array (maps among them were checked as they were decoded)."""
    types = set(map(type, items))
    if not types <= _VALUE_TYPES:
        raise _not_allowed(items)
    if list in types:
        for item in items:
            if type(item) is list:
                _check_array(item)


def _check_values(obj: Mapping[Any, Any]) -> None:
    key_types = set(map(type, obj))
    if not key_types <= _KEY_TYPES or bool in key_types:
        bad = next(k for k in obj if type(k) not in _KEY_TYPES)
        raise CborError(f"CBOR map key of type {type(bad).__name__} is not allowed in CTAP2")
    values = obj.values()
    types = set(map(type, values))
    if not types <= _VALUE_TYPES:
        raise _not_allowed(values)
    if list in types:
        for value in values:
            if type(value) is list:
                _check_array(value)


def _key_order(key: Any) -> tuple[int, int, Any]:
    """Where a map key goes in CTAP2 canonical order: (major type, encoded length, value).

    Keys of the same major type and encoded length have the same head, so their encodings compare
    as their values do (integers: as ``n`` of the head; text strings: code point order is UTF-8 byte
    order). Keys of different major types never get to the third item, so it never compares an int
    with a string.
    """
    if isinstance(key, int) and type(key) is not bool:
        major, n = (0, key) if key >= 0 else (1, -1 - key)
        if n >= 0x10000000000000000:
            raise CborError("CBOR map key out of range: integers must fit in 64 bits")
        return major, 1 if n < 24 else 2 if n < 0x100 else 3 if n < 0x10000 else 5 if n < 0x100000000 else 9, n
    if isinstance(key, str):
        try:
            length = len(key) if key.isascii() else len(key.encode())
        except UnicodeEncodeError:
            raise CborError("CBOR text string map key is not valid UTF-8 text") from None
        major = 3
    elif isinstance(key, bytes | bytearray | memoryview):
        key = bytes(key)
        length = len(key)
        major = 2
    else:
        raise CborError(f"CBOR map key of type {type(key).__name__} is not allowed in CTAP2")
    head = 1 if length < 24 else 2 if length < 0x100 else 3 if length < 0x10000 else 5 if length < 0x100000000 else 9
    return major, head + length, key


_SCALAR_TYPES = frozenset((int, str, bytes, bool, type(None)))


def _check_map_strict(obj: Mapping[Any, Any], immutable: bool) -> Any:
    """A decoded map, its keys in the order they came: key and value types, canonical key order."""
    fast, last = True, -1  # fast path: keys 0..23 (one byte each) in increasing order, as in CTAP2 commands
    previous: tuple[int, int, Any] | None = None
    for key, value in obj.items():
        if fast and type(key) is int and last < key < 24:
            last = key
        else:
            if fast:
                fast = False
                previous = (0, 1, last) if last >= 0 else None
            # short ASCII text keys, as in CTAP2's own string-keyed maps, inline; any other key through _key_order
            ascii_key = type(key) is str and len(key) < 24 and key.isascii()
            current = (3, 1 + len(key), key) if ascii_key else _key_order(key)
            if previous is not None and not previous < current:
                raise CborError("CBOR is not in CTAP2 canonical form: map keys out of order")
            previous = current
        kind = type(value)
        if kind not in _SCALAR_TYPES:
            if kind is list:
                _check_array(value)
            elif kind is not dict:
                raise _not_allowed((value,))
    return obj


def _check_map(obj: Mapping[Any, Any], immutable: bool) -> Any:
    _check_values(obj)
    return obj


def _check_root(obj: Any) -> None:
    kind = type(obj)
    if kind is list:
        _check_array(obj)
    elif kind not in _VALUE_TYPES:
        raise _not_allowed((obj,))


_NO_TAGS = _NoTags()


def _decoder_options(strict: bool) -> dict[str, Any]:
    """cbor2 decoder settings: tags refused, map hook checking CTAP2 types (and key order when strict)."""
    return {
        "tag_hook": _reject_tag,
        "object_hook": _check_map_strict if strict else _check_map,
        "semantic_decoders": _NO_TAGS,
        "max_depth": MAX_DEPTH,
        "allow_indefinite": not strict,
        "allow_duplicate_keys": not strict,
    }


_STRICT_OPTIONS = _decoder_options(True)
_LENIENT_OPTIONS = _decoder_options(False)


def _decode(fp: io.BytesIO | None, data: bytes, strict: bool) -> Any:
    """Decode one item (from ``fp`` when given, else from the start of ``data``), refusing non-CTAP2 items."""
    options = _STRICT_OPTIONS if strict else _LENIENT_OPTIONS
    try:
        obj = cbor2.loads(data, **options) if fp is None else cbor2.CBORDecoder(fp, **options).decode()
    except CborError:
        raise
    except Exception as e:  # cbor2 raises a range of exception types on malformed input; all mean "invalid"
        raise _decode_error(e) from None
    _check_root(obj)
    return obj


def _decode_error(e: Exception) -> CborError:
    cause = e.__cause__
    if isinstance(cause, CborError):  # one of the hooks above refused an item
        return CborError(str(cause))
    text = str(e)
    if "nesting depth" in text:
        return CborError(f"CBOR nesting deeper than {MAX_DEPTH} levels")
    if "indefinite length" in text or "Duplicate map key" in text:
        return CborError(f"CBOR is not in CTAP2 canonical form: {text}")
    return CborError(f"invalid CBOR: {type(e).__name__}: {text}")


def _encode(obj: Any) -> bytes:
    """The encoding of a decoded value with shortest heads, definite lengths and maps in dict order."""
    try:
        return cbor2.dumps(obj)
    except Exception as e:
        raise CborError(f"cannot re-encode CBOR item: {type(e).__name__}: {e}") from None


def decode_from(data: bytes, *, strict: bool = True) -> tuple[Any, bytes]:
    """Decode one CBOR item from the start of ``data``; return it and the rest.

    With ``strict``, the item must be in the CTAP2 canonical form. Either way it may contain
    only CTAP2 types, nested at most 16 deep.
    """
    fp = io.BytesIO(data)
    obj = _decode(fp, data, strict)
    used = fp.tell()
    if strict and _encode(obj) != data[:used]:
        raise CborError("CBOR is not in CTAP2 canonical form")
    return obj, data[used:]


def loads(data: bytes, *, strict: bool = True) -> Any:
    """Decode exactly one CBOR item; trailing bytes are an error."""
    if strict:
        obj = _decode(None, data, True)
        if _encode(obj) == data:
            return obj
        # not canonical, or trailing bytes: find out which (only on this error path)
        obj, rest = decode_from(data, strict=True)
    else:
        obj, rest = decode_from(data, strict=False)
    if rest:
        raise CborError(f"{len(rest)} trailing bytes after CBOR item")
    return obj
