"""A small strict DER reader (X.690) for the attestation extensions cryptography does not parse.

Only what android-key (KeyDescription) and apple (nonce) need: TLVs with high tag numbers,
definite lengths, INTEGER / ENUMERATED / OCTET STRING / SET OF INTEGER. Anything malformed raises
:class:`~aioctap.server.errors.MalformedAttestationError`.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import MalformedAttestationError

__all__ = ["Tlv", "parse_all", "parse_one", "read_integer", "read_octets", "read_set_of_integers"]

UNIVERSAL, APPLICATION, CONTEXT, PRIVATE = 0, 1, 2, 3


@dataclass(frozen=True, slots=True)
class Tlv:
    """One DER element: class, constructed bit, tag number and contents."""

    cls: int
    constructed: bool
    number: int
    value: bytes

    def children(self) -> list[Tlv]:
        if not self.constructed:
            raise MalformedAttestationError(f"DER element with tag {self.number} is not constructed")
        return parse_all(self.value)

    def expect(self, cls: int, number: int, what: str) -> Tlv:
        if self.cls != cls or self.number != number:
            raise MalformedAttestationError(f"{what}: unexpected DER tag (class {self.cls}, number {self.number})")
        return self


def _read(data: bytes, pos: int) -> tuple[Tlv, int]:
    end = len(data)
    if pos >= end:
        raise MalformedAttestationError("DER: truncated tag")
    first = data[pos]
    pos += 1
    cls, constructed, number = first >> 6, bool(first & 0x20), first & 0x1F
    if number == 0x1F:  # high tag number form
        number = 0
        for i in range(5):
            if pos >= end:
                raise MalformedAttestationError("DER: truncated tag number")
            b = data[pos]
            pos += 1
            if i == 0 and b == 0x80:
                raise MalformedAttestationError("DER: tag number not minimally encoded")
            number = (number << 7) | (b & 0x7F)
            if not b & 0x80:
                break
        else:
            raise MalformedAttestationError("DER: tag number too large")
    if pos >= end:
        raise MalformedAttestationError("DER: truncated length")
    lb = data[pos]
    pos += 1
    if lb < 0x80:
        length = lb
    elif lb == 0x80:
        raise MalformedAttestationError("DER: indefinite length is not allowed")
    else:
        n = lb & 0x7F
        if n > 4 or pos + n > end:
            raise MalformedAttestationError("DER: bad long-form length")
        length = int.from_bytes(data[pos : pos + n], "big")
        pos += n
        if length < 0x80 or data[pos - n] == 0:
            raise MalformedAttestationError("DER: length not minimally encoded")
    if pos + length > end:
        raise MalformedAttestationError("DER: element runs past the end of its container")
    return Tlv(cls, constructed, number, data[pos : pos + length]), pos + length


def parse_one(data: bytes) -> Tlv:
    """Exactly one element filling ``data``."""
    tlv, pos = _read(data, 0)
    if pos != len(data):
        raise MalformedAttestationError("DER: trailing bytes after the element")
    return tlv


def parse_all(data: bytes) -> list[Tlv]:
    """The sequence of elements filling ``data``."""
    out: list[Tlv] = []
    pos = 0
    while pos < len(data):
        tlv, pos = _read(data, pos)
        out.append(tlv)
    return out


def read_integer(tlv: Tlv, what: str) -> int:
    """An INTEGER (2) or ENUMERATED (10)."""
    if tlv.cls != UNIVERSAL or tlv.number not in (2, 10) or tlv.constructed or not tlv.value:
        raise MalformedAttestationError(f"{what} is not a DER INTEGER")
    if len(tlv.value) > 64:
        raise MalformedAttestationError(f"{what} is too large")
    return int.from_bytes(tlv.value, "big", signed=True)


def read_octets(tlv: Tlv, what: str) -> bytes:
    if tlv.cls != UNIVERSAL or tlv.number != 4 or tlv.constructed:
        raise MalformedAttestationError(f"{what} is not a DER OCTET STRING")
    return tlv.value


def read_set_of_integers(tlv: Tlv, what: str) -> list[int]:
    if tlv.cls != UNIVERSAL or tlv.number != 17:
        raise MalformedAttestationError(f"{what} is not a DER SET")
    return [read_integer(t, what) for t in tlv.children()]
