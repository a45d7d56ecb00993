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
in RFC 7049 order. So ``dumps`` puts every map in CTAP2 order itself (writing the bytes, or, the general way,
letting cbor2 write the maps in the order given).

How the checks stay cheap: both functions first try a fast path for the common case (section "the fast
paths" below), which only ever accepts, and leave everything else to the general way, which makes every
check itself and says what is wrong:

* ``dumps``, fast: a plain value (exact int, bytes, str, bool, None, list, dict) is encoded by a short Python
  walk that writes each map's entries in CTAP2 order (a map keyed 1, 2, 3, ... as it is; others by a key plan
  kept per key sequence); general: ``_in_ctap2_order`` rebuilds the value with every map in CTAP2 order,
  converting subclasses and refusing what is outside the profile, and cbor2 encodes it;
* ``loads`` (either mode), fast: cbor2 decodes with tags and indefinite lengths refused, then one Python walk
  checks the types and the key order of every map and adds up the size of the value's canonical encoding;
  that size equal to the input's length proves the input is that encoding (no longer head, duplicate key or
  trailing byte), so nothing is re-encoded. A message equal to one accepted before but for the payloads of
  its long byte strings (the next getAssertion request: another clientDataHash) is not even walked;
* the general way of decoding: tags are refused at their header (the decoder looks every tag number up in
  ``semantic_decoders``, and :class:`_NoTags` answers every lookup with an error); the decoder's
  ``object_hook`` sees each map as it was on the wire (a dict keeps the order in which its keys came) and
  checks the types of the keys and of the values and the key order; everything else the canonical form asks
  for (shortest heads, definite lengths, no duplicate keys) holds exactly when cbor2's plain encoder, which
  writes shortest heads and definite lengths and keeps dict order, gives back the input bytes. Those bytes
  then also span the whole input (a CBOR item delimits itself), so there are no trailing bytes either.
"""

from __future__ import annotations

import io
import itertools
import struct
from collections.abc import Iterable, Mapping
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
        return _fast_dumps(obj)  # plain values (see "the fast paths" below)
    except Exception:  # anything else, or an error to report: the general way, rebuilding and checking each item
        pass
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


# -- the fast paths: one Python walk over a value ---------------------------------------------------------
#
# ``dumps`` and ``loads`` first try a fast path for the common case: values of the plain types of the profile
# (int in the 64-bit range, bytes, str, bool, None, list, dict: exact types, no subclasses) nested at most
# ``MAX_DEPTH`` deep, walked once in Python with a function call per container and none per item. Whatever
# the fast path does not take (anything wrong, or merely unusual: a subclass, a tuple, a container at the
# nesting limit, a decoded string or container of 65536 bytes or items or more) raises (:class:`_Unusual`
# or any other exception) and goes the general way, which makes the exact checks and says what is wrong. So
# a fast path only ever *accepts*, and must accept only what the general way accepts, with the same result
# (tests/core/test_cbor.py checks both).
#
# ``dumps``: ``_encode_map``/``_encode_array`` write the canonical encoding themselves (cbor2's encoder costs
# more than that for small values), each map's entries in CTAP2 order: a map whose keys are one-byte unsigned
# integers in increasing order (every CTAP2 command and response) as it is, any other in the order of its
# key plan (the keys sorted, each with its encoding), kept for the key sequences seen.
#
# ``loads``: cbor2 decodes with tags and indefinite lengths refused and nothing else (checking the rest in
# Python costs less than cbor2's per-map hook), then ``_map_size``/``_array_size`` check the types and the key
# order of every map (wire order: a dict keeps it) and return the size of the canonical encoding of the value.
# That size equal to the input's length means the input *is* that encoding: each decoded item came from an
# item on the wire with the same argument (integer, string length, number of entries) and a head no shorter
# than the shortest, a text string's UTF-8 bytes are the only UTF-8 of that text, and a duplicate map key
# (which the dict keeps once) or trailing bytes leave wire bytes that no decoded item accounts for; so the
# input is longer than the canonical encoding unless it is it. Indefinite lengths must be refused by the
# decoder: they break the count (``9f`` ... ``ff`` around 24 or more items is no longer than a definite head).

_HEAD_SIZE = b"\x01" * 24 + b"\x02" * (0x100 - 24) + b"\x03" * (0x10000 - 0x100)
"""``_HEAD_SIZE[n]``: the size of a CBOR head with argument ``n`` < 2**16 (IndexError beyond: general way)."""

_PLAIN_KEY_TYPES = frozenset((int, str, bytes))
_PLANS_MAX = 512  # key sequences remembered, each cache (the first ones seen: bounded whatever the input)


class _Unusual(Exception):
    """The fast path does not take this value; the general way decides."""


def _heads(major: int) -> tuple[bytes, ...]:
    return tuple(bytes([major << 5 | n]) if n < 24 else bytes([major << 5 | 24, n]) for n in range(0x100))


_HEADS = tuple(_heads(major) for major in range(6))  # _HEADS[major][n]: the head, for n < 256
_UINT_HEADS, _BYTES_HEADS, _TEXT_HEADS, _ARRAY_HEADS, _MAP_HEADS = (_HEADS[major] for major in (0, 2, 3, 4, 5))
_HEAD_2, _HEAD_4, _HEAD_8 = (struct.Struct(f">B{code}").pack for code in "HIQ")


def _head(major: int, n: int) -> bytes:
    """The shortest head of major type ``major`` with argument ``n`` (raises beyond 64 bits)."""
    if n < 0x100:
        return _HEADS[major][n]
    if n < 0x10000:
        return _HEAD_2(major << 5 | 25, n)
    if n < 0x100000000:
        return _HEAD_4(major << 5 | 26, n)
    if n < _INT_LIMIT:
        return _HEAD_8(major << 5 | 27, n)
    raise _Unusual


def _int_head(value: int) -> bytes:
    return _head(0, value) if value >= 0 else _head(1, ~value)


def _int_size(value: int) -> int:
    """The size of an integer's encoding (raises beyond the 64-bit range of CBOR's major types 0 and 1)."""
    n = value if value >= 0 else ~value
    if n < 0x10000:
        return _HEAD_SIZE[n]
    if n < 0x100000000:
        return 5
    if n < _INT_LIMIT:
        return 9
    raise _Unusual


def _key_rank(key: Any) -> tuple[int, int, Any]:
    """``_key_order`` for a key of an exact allowed type: (major type, encoded size, value); raises for others."""
    kind = type(key)
    if kind is str:
        n = len(key) if key.isascii() else len(key.encode())  # UnicodeEncodeError for surrogates: general way
        return 3, _HEAD_SIZE[n] + n, key
    if kind is int:
        return (0, _int_size(key), key) if key >= 0 else (1, _int_size(key), ~key)
    if kind is bytes:
        n = len(key)
        return 2, _HEAD_SIZE[n] + n, key
    raise _Unusual


# dumps -------------------------------------------------------------------------------------------------------

_KEY_PLANS: dict[tuple[Any, ...], tuple[tuple[Any, bytes], ...]] = {}
"""Key sequences (exact int, str, bytes) in dict order: (key, its encoding) for each, in CTAP2 order.

A map found here by its keys may still hold keys that only *equal* those (True for 1, 1.0 for 1, ...):
``_encode_map`` checks their types itself.
"""


def _key_plan(keys: tuple[Any, ...]) -> tuple[tuple[Any, bytes], ...]:
    ranked = sorted((_key_rank(key), key) for key in keys)  # two keys never have the same rank: keys never compared
    plan = tuple(
        (key, _int_head(key) if type(key) is int else _head(major, len(raw := _raw(key))) + raw)
        for (major, _, _), key in ranked
    )
    if len(_KEY_PLANS) < _PLANS_MAX:
        _KEY_PLANS[keys] = plan
    return plan


def _raw(key: str | bytes) -> bytes:
    return key.encode() if isinstance(key, str) else key


def _encode_map(obj: dict[Any, Any], out: list[bytes], depth: int) -> None:
    """Append the canonical encoding of a map at nesting ``depth`` to ``out`` (see above)."""
    if depth >= MAX_DEPTH:  # its entries would sit deeper than the profile allows (or it is empty: rare)
        raise _Unusual
    append = out.append
    n = len(obj)
    append(_MAP_HEADS[n] if n < 0x100 else _head(5, n))
    last = -1
    plan: tuple[tuple[Any, bytes], ...] | None = None
    for key in obj:  # one-byte unsigned integer keys in increasing order, as in CTAP2 commands?
        if type(key) is int and last < key < 24:
            last = key
        else:
            keys = tuple(obj)
            plan = _KEY_PLANS.get(keys)
            if plan is None:
                plan = _key_plan(keys)
            else:
                for key in keys:  # found by equality: the types must be right too
                    if type(key) not in _PLAIN_KEY_TYPES:
                        raise _Unusual
            break
    entries: Iterable[tuple[Any, Any]] = obj.items() if plan is None else plan
    for key, value in entries:
        if plan is None:
            append(_UINT_HEADS[key])
        else:
            append(value)  # the key's encoding
            value = obj[key]
        kind = type(value)
        if kind is bytes:
            n = len(value)
            append(_BYTES_HEADS[n] if n < 0x100 else _head(2, n))
            append(value)
        elif kind is str:
            value = value.encode()  # UnicodeEncodeError for surrogates: general way
            n = len(value)
            append(_TEXT_HEADS[n] if n < 0x100 else _head(3, n))
            append(value)
        elif kind is int:
            append(_UINT_HEADS[value] if 0 <= value < 0x100 else _int_head(value))
        elif kind is dict:
            _encode_map(value, out, depth + 1)
        elif kind is list:
            _encode_array(value, out, depth + 1)
        elif kind is bool:
            append(b"\xf5" if value else b"\xf4")
        elif value is None:
            append(b"\xf6")
        else:
            raise _Unusual


def _encode_array(obj: list[Any], out: list[bytes], depth: int) -> None:
    """Append the canonical encoding of an array at nesting ``depth`` to ``out`` (see above).

    Its per-item dispatch is the same as :func:`_encode_map`'s per value, written out in both on purpose:
    one shared per-value function made ``dumps`` of a getAssertion request 20 % slower (2.0 -> 2.4 us).
    """
    if depth >= MAX_DEPTH:
        raise _Unusual
    append = out.append
    n = len(obj)
    append(_ARRAY_HEADS[n] if n < 0x100 else _head(4, n))
    for value in obj:
        kind = type(value)
        if kind is dict:
            _encode_map(value, out, depth + 1)
        elif kind is bytes:
            n = len(value)
            append(_BYTES_HEADS[n] if n < 0x100 else _head(2, n))
            append(value)
        elif kind is str:
            value = value.encode()
            n = len(value)
            append(_TEXT_HEADS[n] if n < 0x100 else _head(3, n))
            append(value)
        elif kind is int:
            append(_UINT_HEADS[value] if 0 <= value < 0x100 else _int_head(value))
        elif kind is list:
            _encode_array(value, out, depth + 1)
        elif kind is bool:
            append(b"\xf5" if value else b"\xf4")
        elif value is None:
            append(b"\xf6")
        else:
            raise _Unusual


def _fast_dumps(obj: Any) -> bytes:
    """The canonical encoding of a plain value; raises when the fast path does not take ``obj`` (see above)."""
    out: list[bytes] = []
    if type(obj) is dict:
        _encode_map(obj, out, 0)
    elif type(obj) is list:
        _encode_array(obj, out, 0)
    else:
        _encode_array([obj], out, -1)
        del out[0]  # the one-item array's head
    return b"".join(out)


# loads -------------------------------------------------------------------------------------------------------

_TEXT_KEYS_SIZE: dict[tuple[Any, ...], int] = {}
"""Key sequences of text-keyed maps (all exact ``str``) seen in CTAP2 order, with their encoded size.

A decoded map's keys equal to one of these are the same text in the same order: no other type that cbor2
decodes equals a string. So the keys of such a map (as most CTAP2 structures) are checked by one lookup.
"""


def _keys_size(obj: dict[Any, Any]) -> int:
    """The encoded size of a map's keys, checked for their types and CTAP2 order."""
    keys = tuple(obj)
    ranks = [_key_rank(key) for key in keys]
    if not all(a < b for a, b in itertools.pairwise(ranks)):
        raise _Unusual  # keys out of order
    size = sum(rank[1] for rank in ranks)
    if len(_TEXT_KEYS_SIZE) < _PLANS_MAX and all(rank[0] == 3 for rank in ranks):
        _TEXT_KEYS_SIZE[keys] = size
    return size


def _map_size(obj: dict[Any, Any], depth: int) -> int:
    """The canonical encoded size of a decoded map at nesting ``depth`` (see above)."""
    if depth >= MAX_DEPTH:  # its entries would sit deeper than the profile allows (or it is empty: rare)
        raise _Unusual
    size = _HEAD_SIZE[len(obj)]
    last = -1
    for key in obj:  # one-byte unsigned integer keys in increasing order, as in CTAP2 commands?
        if type(key) is int and last < key < 24:
            last = key
        else:
            try:
                size += _TEXT_KEYS_SIZE[tuple(obj)]
            except KeyError:
                size += _keys_size(obj)
            break
    else:
        size += len(obj)
    return size + _values_size(obj.values(), depth)


def _array_size(obj: list[Any], depth: int) -> int:
    """The canonical encoded size of a decoded array at nesting ``depth`` (see above)."""
    if depth >= MAX_DEPTH:
        raise _Unusual
    return _HEAD_SIZE[len(obj)] + _values_size(obj, depth)


def _values_size(values: Iterable[Any], depth: int) -> int:
    """The canonical encoded size of a container's values (a map's or an array's) at nesting ``depth``."""
    size = 0
    for value in values:
        kind = type(value)
        if kind is bytes:
            n = len(value)
            size += _HEAD_SIZE[n] + n
        elif kind is str:
            n = len(value) if value.isascii() else len(value.encode())
            size += _HEAD_SIZE[n] + n
        elif kind is int:
            size += _HEAD_SIZE[value] if 0 <= value < 0x10000 else _int_size(value)
        elif kind is dict:
            size += _map_size(value, depth + 1)
        elif kind is list:
            size += _array_size(value, depth + 1)
        elif kind is bool or value is None:
            size += 1
        else:
            raise _Unusual
    return size


# Messages of one kind keep their shape: a getAssertion request for an RP differs from the previous one only
# in the bytes of its clientDataHash and credential IDs. So the fast path keeps a *template* of messages it
# accepted: their bytes but for the payloads of byte strings (of 16 bytes or more, not map keys) it masks. A
# message of the same length equal to a template outside its masked payloads parses exactly as the template
# did (same heads at the same offsets: a byte string's content never changes how the rest parses, and is no
# map key here, so no key order either) and is canonical as the template was: only its decoding remains.

_Template = tuple[tuple[int, bytes], ...]  # (offset, the bytes there) for each stretch between masked payloads
_TEMPLATES: dict[int, tuple[_Template, ...]] = {}  # by message length
_TEMPLATE_LENGTHS_MAX = 32  # the first message lengths seen, and the first templates of each: bounded whatever
_TEMPLATES_PER_LENGTH = 4  # the input (an odd message costs at most four failed comparisons, never a rebuild)
_TEMPLATE_MAX_SIZE = 1024  # longer messages are not kept
_MASK_MIN = 16  # shorter byte strings stay in the template (fewer, longer stretches to compare)


def _masked_payloads(data: bytes) -> list[tuple[int, int]]:
    """(start, end) of the payload of every byte string in ``data`` of ``_MASK_MIN`` bytes or more but map keys.

    ``data`` is canonical CTAP2 CBOR (the fast path accepted it): definite lengths, no tags, shallow.
    """
    spans: list[tuple[int, int]] = []

    def item(pos: int, key: bool) -> int:
        initial = data[pos]
        major, info = initial >> 5, initial & 0x1F
        if info < 24:
            n, pos = info, pos + 1
        else:
            width = 1 << (info - 24)
            n, pos = int.from_bytes(data[pos + 1 : pos + 1 + width], "big"), pos + 1 + width
        if major == 2 and n >= _MASK_MIN and not key:
            spans.append((pos, pos + n))
        if major in (2, 3):
            return pos + n
        if major == 4:
            for _ in range(n):
                pos = item(pos, False)
        elif major == 5:
            for _ in range(n):
                pos = item(item(pos, True), False)
        return pos  # integers, false, true, null: the head is all

    item(0, False)
    return spans


def _keep_template(data: bytes) -> None:
    """Keep a template of a message the fast path accepted (see above)."""
    stretches = []
    end = 0
    for start, stop in _masked_payloads(data):
        if start > end:
            stretches.append((end, data[end:start]))
        end = stop
    if end < len(data):
        stretches.append((end, data[end:]))
    _TEMPLATES[len(data)] = (*_TEMPLATES.get(len(data), ()), tuple(stretches))


_NOT_TAKEN: Any = object()


def _fast_loads(data: bytes) -> Any:
    """The value of which ``data`` is exactly the canonical encoding, or ``_NOT_TAKEN`` (the general way decides)."""
    try:
        templates = _TEMPLATES.get(len(data), ())
        for template in templates:
            for offset, stretch in template:
                if not data.startswith(stretch, offset):
                    break
            else:  # the shape of a message accepted before (see above)
                return cbor2.loads(data, semantic_decoders=_NO_TAGS, allow_indefinite=False)
        obj = cbor2.loads(data, semantic_decoders=_NO_TAGS, allow_indefinite=False)
        kind = type(obj)
        if kind is dict:
            size = _map_size(obj, 0)
        elif kind is list:
            size = _array_size(obj, 0)
        else:
            size = _array_size([obj], -1) - 1  # a one-item array around it, whose head is one byte
        if size == len(data):
            if (
                len(templates) < _TEMPLATES_PER_LENGTH
                and size <= _TEMPLATE_MAX_SIZE
                and (templates or len(_TEMPLATES) < _TEMPLATE_LENGTHS_MAX)
            ):
                _keep_template(data)
            return obj
    except Exception:  # what is wrong is the general way's to find and say
        pass
    return _NOT_TAKEN


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
    if type(data) is bytes:
        obj = _fast_loads(data)  # canonical CTAP2 CBOR, which either mode takes as it is
        if obj is not _NOT_TAKEN:
            return obj
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
