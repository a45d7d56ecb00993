"""Canonical CTAP2 CBOR (CTAP 2.1 §8 "Message Encoding") on cbor2.

CTAP2 uses a restricted CBOR profile: definite lengths only, shortest integer encodings, map keys sorted
in the CTAP2 canonical order, no duplicate map keys, no tags, no floats or simple values other than
false/true/null, map keys of type integer, text or byte string, at most 16 levels of nesting. ``loads``
rejects anything outside the profile with :class:`CborError` (canonical form only when ``strict`` is set;
the types, the nesting and trailing bytes always).

The CTAP2 canonical key order (CTAP 2.1 §8 "CTAP2 canonical CBOR encoding form"): a key of a lower major
type first, then the key with the shorter encoding, then bytewise lexical order. For integer and string
keys (the only ones allowed) that is the bytewise order of the keys' shortest encodings (the first byte
holds the major type, and a longer head or string has a greater head). It is *not* RFC 7049 §3.9's order
(cbor2's ``canonical=True``), which compares lengths first: ``{24: 0, -1: 0}`` is ``a2 1818 00 20 00`` in
CTAP2 and ``a2 20 00 1818 00`` in RFC 7049 order. So ``dumps`` rebuilds every map with its keys in CTAP2
order and lets cbor2 write the maps in the order given.

Decoding: cbor2 refuses tags (every tag number is looked up in ``semantic_decoders``, which refuses them
all), nesting beyond 16 levels and, when strict, indefinite lengths and duplicate keys. The profile's types
are checked by the walk ``dumps`` makes, and the rest of the canonical form (shortest heads, key order, no
trailing bytes) holds exactly when ``dumps`` of the decoded value gives back the input. Strict ``loads`` first
tries a fast path that gives the same answers (see "the fast path of strict loads").
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Mapping
from typing import Any, NoReturn

import cbor2

__all__ = ["MAX_DEPTH", "CborError", "decode", "decode_from", "dumps", "encode", "loads"]

MAX_DEPTH = 16  # an item may sit inside at most this many containers
_INT_LIMIT = 1 << 64  # CBOR major types 0 and 1 carry -2**64 .. 2**64 - 1 (beyond: bignum tags, not CTAP2)
_LEAF_TYPES = frozenset((str, bytes, bool, type(None)))  # exact types taken as they are (ints have a range)


class CborError(ValueError):
    """The bytes are not valid (canonical, when strict) CTAP2 CBOR, or a value is outside the CTAP2 profile."""


def dumps(obj: object) -> bytes:
    """Encode ``obj`` as canonical CTAP2 CBOR.

    ``obj`` may hold integers (64-bit range), byte strings (also bytearray, memoryview), text strings,
    booleans, None, sequences (list, tuple) and mappings whose keys are integers, text or byte strings;
    anything else is a :class:`CborError`.
    """
    value = _in_ctap2_order(obj, 0)
    try:
        return cbor2.dumps(value)
    except (cbor2.CBOREncodeError, ValueError) as e:  # a text string that is not UTF-8 (a lone surrogate)
        raise CborError(f"cannot encode value as CBOR: {e}") from None


def encode(data: object) -> bytes:
    """python-fido2's ``fido2.cbor.encode``: :func:`dumps`, which also takes ``False``/``True`` as map keys, as
    python-fido2's encoder does (major type 7: after every other key, ``False`` first, CTAP 2.1 §8). aioctap's
    decoders refuse such keys (outside the profile CTAP2 messages use)."""
    value = _in_ctap2_order(data, 0, True)
    try:
        return cbor2.dumps(value)
    except (cbor2.CBOREncodeError, ValueError) as e:
        raise CborError(f"cannot encode value as CBOR: {e}") from None


def decode(data: bytes) -> object:
    """python-fido2's name (``fido2.cbor.decode``): exactly one CBOR item of the CTAP2 profile, canonical or not
    (python-fido2 does not check the form); trailing bytes are a :class:`CborError`."""
    return loads(data, strict=False)


def _in_ctap2_order(obj: object, depth: int, bool_keys: bool = False) -> Any:
    """``obj`` as plain values, every map a dict with its keys in CTAP2 canonical order; refuses the rest.

    ``depth`` is the number of containers ``obj`` sits in; ``bool_keys``: maps may have bool keys (:func:`encode`).
    """
    kind = type(obj)
    if kind in _LEAF_TYPES:
        return obj
    if type(obj) is int:
        if -_INT_LIMIT <= obj < _INT_LIMIT:
            return obj
        raise CborError("CBOR integer out of the 64-bit range of CTAP2")
    if type(obj) is dict or type(obj) is list or type(obj) is tuple:
        if depth >= MAX_DEPTH and obj:
            raise CborError(f"CBOR nesting deeper than {MAX_DEPTH} levels")
        if type(obj) is dict:
            return _map_in_ctap2_order(obj, depth, bool_keys)
        return [item if type(item) in _LEAF_TYPES else _in_ctap2_order(item, depth + 1, bool_keys) for item in obj]
    if isinstance(obj, bytes | bytearray | memoryview):  # bytes subclasses (an AAGUID type, say) too
        return bytes(obj)
    if isinstance(obj, int) and kind is not bool:  # IntEnum and the like: encoded as what they are
        return _in_ctap2_order(int(obj), depth, bool_keys)
    if isinstance(obj, str):
        return str(obj)
    if isinstance(obj, list | tuple):
        return _in_ctap2_order(list(obj), depth, bool_keys)
    if isinstance(obj, Mapping):
        return _in_ctap2_order(dict(obj), depth, bool_keys)
    raise CborError(f"CBOR item of type {kind.__name__} is not allowed in CTAP2")


def _map_in_ctap2_order(obj: dict[object, object], depth: int, bool_keys: bool) -> dict[object, object]:
    keys = list(obj)
    if all(type(key) is int and 0 <= key < _INT_LIMIT for key in keys):
        keys.sort()  # unsigned integers (every CTAP2 command's keys): their order is numeric order
    else:
        keys = sorted((k if bool_keys and type(k) is bool else _key(k) for k in keys), key=_rank)  # type: ignore[arg-type]
    return {
        key: value if type(value := obj[key]) in _LEAF_TYPES else _in_ctap2_order(value, depth + 1, bool_keys)
        for key in keys
    }


def _key(key: object) -> int | str | bytes:
    """A map key as an exact int, str or bytes; refuses any other type."""
    if type(key) is str or type(key) is int or type(key) is bytes:
        return key
    if isinstance(key, str):
        return str(key)
    if isinstance(key, bytes | bytearray | memoryview):
        return bytes(key)
    if isinstance(key, int) and type(key) is not bool:
        return int(key)
    raise CborError(f"CBOR map key of type {type(key).__name__} is not allowed in CTAP2")


def _rank(key: int | str | bytes) -> tuple[int, int, int | str | bytes]:
    """Where a key goes in CTAP2 canonical order: (major type, length, value), as CTAP 2.1 §8 says.

    Keys of one major type and length have one head, so their encodings compare as their values do
    (integers: as the head's argument; text: code point order is UTF-8 byte order). Keys of different
    major types never get to the third item, so it never compares an int with a string. A longer
    argument or string has a longer encoding, so its length stands for the encoding's.
    """
    if type(key) is int:
        major, n = (0, key) if key >= 0 else (1, ~key)
        if n >= _INT_LIMIT:
            raise CborError("CBOR map key out of range: integers must fit in 64 bits")
        return major, n, n  # one major type: a greater argument has an encoding as long or longer, and greater
    if type(key) is str:
        try:
            return 3, len(key) if key.isascii() else len(key.encode()), key
        except UnicodeEncodeError:
            raise CborError("CBOR text string map key is not valid UTF-8 text") from None
    if type(key) is bool:  # encode's simple values false (f4) and true (f5): major type 7, after all the others
        return 7, 0, int(key)
    return 2, len(key), key  # type: ignore[arg-type]  # bytes


class _NoTags(dict[int, Callable[[Any, bool], Any]]):
    """``semantic_decoders`` for cbor2's decoder: every tag number is looked up here, and refused."""

    def __missing__(self, tag: int) -> NoReturn:
        raise CborError(f"CBOR tag {tag} is not allowed in CTAP2")


def _reject_tag(tag: cbor2.CBORTag, immutable: bool) -> NoReturn:
    raise CborError(f"CBOR tag {tag.tag} is not allowed in CTAP2")


_VALUE_TYPES = frozenset((int, str, bytes, bool, type(None), list, dict))  # a decoded dict was checked by a hook


def _check_values(values: Iterable[object]) -> None:
    """The types of decoded items in a container (nested arrays too: cbor2 has no hook for arrays)."""
    for value in values:
        kind = type(value)
        if kind not in _VALUE_TYPES:
            raise CborError(f"CBOR item of type {kind.__name__} is not allowed in CTAP2")
        if kind is list:
            _check_values(value)  # type: ignore[arg-type]


def _check_map(obj: dict[object, object], immutable: bool) -> dict[object, object]:
    """``object_hook``, lenient: a decoded map's key and value types."""
    for key in obj:
        if type(key) is not int and type(key) is not str and type(key) is not bytes:
            raise CborError(f"CBOR map key of type {type(key).__name__} is not allowed in CTAP2")
    _check_values(obj.values())
    return obj


def _check_map_strict(obj: dict[object, object], immutable: bool) -> dict[object, object]:
    """``object_hook``, strict: also the CTAP2 order of the keys as they came on the wire (a dict keeps it)."""
    previous: tuple[int, int, int | str | bytes] = (-1, 0, 0)
    for key in obj:
        if type(key) is not int and type(key) is not str and type(key) is not bytes:
            raise CborError(f"CBOR map key of type {type(key).__name__} is not allowed in CTAP2")
        rank = _rank(key)
        if rank <= previous:
            raise CborError("CBOR is not in CTAP2 canonical form: map keys out of order")
        previous = rank
    _check_values(obj.values())
    return obj


def _options(strict: bool) -> dict[str, Any]:
    return {
        "semantic_decoders": _NoTags(),
        "tag_hook": _reject_tag,
        "object_hook": _check_map_strict if strict else _check_map,
        "max_depth": MAX_DEPTH,
        "allow_indefinite": not strict,
        "allow_duplicate_keys": not strict,
    }


_OPTIONS = {strict: _options(strict) for strict in (False, True)}
_NO_TAGS = _NoTags()


def _decode(decode: Callable[..., object], source: object, strict: bool) -> Any:
    try:
        obj = decode(source, **_OPTIONS[strict])
    except Exception as e:  # cbor2 raises a range of exception types on malformed input; all mean "invalid"
        raise _decode_error(e) from None
    _check_values((obj,))
    return obj


def _decode_error(e: Exception) -> CborError:
    if isinstance(e.__cause__, CborError):  # refused by a hook above
        return CborError(str(e.__cause__))
    text = str(e)
    if "nesting depth" in text:
        return CborError(f"CBOR nesting deeper than {MAX_DEPTH} levels")
    if "indefinite length" in text or "Duplicate map key" in text:
        return CborError(f"CBOR is not in CTAP2 canonical form: {text}")
    return CborError(f"invalid CBOR: {type(e).__name__}: {text}")


def decode_from(data: bytes, *, strict: bool = True) -> tuple[object, bytes]:
    """Decode one CBOR item from the start of ``data``; return it and the rest.

    With ``strict``, the item must be in the CTAP2 canonical form. Either way it may contain only CTAP2
    types, nested at most 16 deep.
    """
    fp = io.BytesIO(data)
    obj = _decode(lambda fp, **options: cbor2.CBORDecoder(fp, **options).decode(), fp, strict)
    used = fp.tell()
    if strict and cbor2.dumps(obj) != data[:used]:
        raise CborError("CBOR is not in CTAP2 canonical form")
    return obj, data[used:]


def loads(data: bytes, *, strict: bool = True) -> object:
    """Decode exactly one CBOR item; trailing bytes are an error."""
    if strict:
        # the fast path (below): tags refused (semantic_decoders alone refuses every one), no indefinite lengths (an
        # indefinite array of 24 to 255 items is as long as a definite one); no hook, duplicate keys left to the length
        try:
            obj = cbor2.loads(data, semantic_decoders=_NO_TAGS, max_depth=MAX_DEPTH, allow_indefinite=False)
            if (type(obj) is dict or type(obj) is list) and _canonical_size(obj, 0) == len(data):
                return obj
        except Exception:
            pass
    return _loads_general(data, strict)


def _loads_general(data: bytes, strict: bool) -> Any:
    if strict:
        # the hooks and options refused all else; the heads are the shortest exactly when cbor2's encoder (shortest
        # heads, definite lengths, dict order) gives back the input, which then has no trailing bytes
        obj = _decode(cbor2.loads, data, True)
        if cbor2.dumps(obj) == data:
            return obj
    obj, rest = decode_from(data, strict=strict)  # strict: not canonical, or trailing bytes? Say which
    if rest:
        raise CborError(f"{len(rest)} trailing bytes after CBOR item")
    return obj


# -- the fast path of strict loads -----------------------------------------------------------------------------------
# The general path runs a Python hook on every map and then re-encodes the value; for a getAssertion request that
# is about 8 us of the authenticator's ~45 (a fifth of a README row). The fast path decodes with cbor2 and no hook,
# then one walk checks types and key order and adds up the canonical length. It returns only what the general path
# would return (tests/core/test_cbor.py checks that with hypothesis on generated, mutated and random input); for
# anything else, or anything it is unsure of, the general path decides and says what is wrong.


class _Unfit(Exception):
    """The value is not one the fast path vouches for."""


def _canonical_size(obj: dict[Any, Any] | list[Any], depth: int) -> int:
    """The length of the canonical CTAP2 encoding of ``obj`` (inside ``depth`` containers), a map or array cbor2
    decoded as :func:`loads` does first; ``_Unfit`` if it holds a type outside the profile or a map whose keys are
    not in CTAP2 order.

    The decoder refused tags, indefinite lengths and deeper nesting, so each item of the input is the item of the
    value at the same place, encoded with a head as long as the shortest or longer, and a duplicate map key is a pair
    in the input and not in the value: the input is the canonical encoding exactly when its length is this one.
    (Leaves and head sizes are written out: a call for each would cost a third more.)
    """
    n = len(obj)
    if depth >= MAX_DEPTH and n:
        raise _Unfit
    size = 1 if n < 24 else 2 if n < 0x100 else 3 if n < 0x10000 else 5
    items: Iterable[Any] = obj
    if type(obj) is dict:
        major = 0  # of the last key: 0 for an integer (its rank orders both major types 0 and 1), 2 bytes, 3 text
        previous: Any = -1
        for key in obj:
            if type(key) is int:
                if key >= 0:
                    size += 1 if key < 24 else 2 if key < 0x100 else 3 if key < 0x10000 else 5 if key < 1 << 32 else 9
                else:
                    n = ~key
                    size += 1 if n < 24 else 2 if n < 0x100 else 3 if n < 0x10000 else 5 if n < 1 << 32 else 9
                    key = _INT_LIMIT + n  # after every unsigned integer, in the order of the arguments
                if major or key <= previous:
                    raise _Unfit
                previous = key
                continue
            if type(key) is str:
                key_major, n = 3, len(key) if key.isascii() else len(key.encode())
            elif type(key) is bytes:
                key_major, n = 2, len(key)
            else:
                raise _Unfit
            size += n + (1 if n < 24 else 2 if n < 0x100 else 3 if n < 0x10000 else 5)
            rank = (n, key)
            if key_major > major:
                major = key_major
            elif key_major < major or rank <= previous:
                raise _Unfit
            previous = rank
        items = obj.values()
    for item in items:
        kind = type(item)
        if kind is bytes:
            n = len(item)
        elif kind is str:
            n = len(item) if item.isascii() else len(item.encode())
        elif kind is int:
            n = item if item >= 0 else ~item
            size += 1 if n < 24 else 2 if n < 0x100 else 3 if n < 0x10000 else 5 if n < 1 << 32 else 9
            continue
        elif kind is dict or kind is list:
            size += _canonical_size(item, depth + 1)
            continue
        elif kind is bool or item is None:
            size += 1
            continue
        else:
            raise _Unfit
        size += n + (1 if n < 24 else 2 if n < 0x100 else 3 if n < 0x10000 else 5 if n < 1 << 32 else 9)
    return size
