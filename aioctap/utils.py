"""python-fido2's ``fido2.utils``: base64url (RFC 4648 §5, WebAuthn's JSON byte strings), SHA-256, HMAC, integers."""

from __future__ import annotations

import hashlib
import hmac
import struct
from io import BytesIO

from .webauthn import websafe_decode, websafe_encode

__all__ = ["ByteBuffer", "bytes2int", "hmac_sha256", "int2bytes", "sha256", "websafe_decode", "websafe_encode"]


def sha256(data: bytes) -> bytes:
    """SHA-256 of ``data``."""
    return hashlib.sha256(data).digest()


def hmac_sha256(key: bytes, data: bytes) -> bytes:
    """HMAC-SHA-256 (RFC 2104) of ``data`` under ``key``."""
    return hmac.new(key, data, hashlib.sha256).digest()


def bytes2int(value: bytes) -> int:
    """A big-endian unsigned integer of any size."""
    return int.from_bytes(value, "big")


def int2bytes(value: int, minlen: int = -1) -> bytes:
    """``value`` (>= 0) big-endian, in as few bytes as it needs but at least ``minlen``."""
    if value < 0:
        raise ValueError("int2bytes needs a non-negative integer")
    size = max((value.bit_length() + 7) // 8, 1, minlen)
    return value.to_bytes(size, "big")


class ByteBuffer(BytesIO):
    """A ``BytesIO`` that unpacks struct values and refuses short reads (``ValueError``)."""

    def unpack(self, fmt: str) -> int:
        """Read and unpack one value of the struct format ``fmt``."""
        s = struct.Struct(fmt)
        value: int = s.unpack(self.read(s.size))[0]
        return value

    def read(self, size: int | None = -1) -> bytes:
        """As ``BytesIO.read``, but fewer bytes than asked for raise ``ValueError``."""
        data = super().read(size)
        if size is not None and size > 0 and len(data) != size:
            raise ValueError(f"not enough data to read (need: {size}, had: {len(data)})")
        return data
