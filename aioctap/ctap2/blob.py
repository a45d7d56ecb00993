"""LargeBlobs (CTAP 2.1 §6.10): the serialized large-blob array and per-credential encrypted entries."""

from __future__ import annotations

import hashlib
import hmac
import os
import struct
import zlib
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .. import cbor
from .base import Ctap2, CtapResponseError, Info
from .model import LARGE_BLOBS_MESSAGE_OVERHEAD, OPTION, large_blobs_message
from .pin import PinProtocol, _pin_uv

__all__ = ["LargeBlobs"]


def _aad(orig_size: int) -> bytes:
    return b"blob" + struct.pack("<Q", orig_size)


class LargeBlobs:
    """``LargeBlobs(ctap, pin_uv_protocol=None, pin_uv_token=None)``; writing needs a token with lbw."""

    @staticmethod
    def is_supported(info: Info) -> bool:
        """True when authenticatorGetInfo ``info`` has the largeBlobs option (CTAP 2.1 §6.10)."""
        return bool(info.options.get(OPTION.LARGE_BLOBS))

    def __init__(
        self, ctap: Ctap2, pin_uv_protocol: PinProtocol | None = None, pin_uv_token: bytes | None = None
    ) -> None:
        self.ctap = ctap
        self.max_fragment_length = ctap.info.max_msg_size - LARGE_BLOBS_MESSAGE_OVERHEAD
        if self.max_fragment_length < 1:  # (the write loop would send nothing, the read loop ask for nothing)
            raise CtapResponseError(
                f"getInfo maxMsgSize {ctap.info.max_msg_size} leaves no room for a largeBlobs fragment"
            )
        self.pin_uv = _pin_uv(pin_uv_protocol, pin_uv_token)

    def __repr__(self) -> str:
        return f"LargeBlobs(max_fragment_length={self.max_fragment_length})"

    async def read_blob_array(self) -> list[object]:
        """The whole array, its SHA-256 trailer checked (a bad trailer reads as an empty array, §6.10.2)."""
        buf = b""
        while True:
            r = await self.ctap.large_blobs(len(buf), get=self.max_fragment_length)  # the offset: what was read
            fragment = r.get(1)
            if not isinstance(fragment, bytes):
                raise CtapResponseError("largeBlobs response has no config fragment")
            buf += fragment
            if len(fragment) < self.max_fragment_length:
                break
        data, check = buf[:-16], buf[-16:]
        if len(buf) < 17 or not hmac.compare_digest(check, hashlib.sha256(data).digest()[:16]):
            return []
        try:
            array = cbor.loads(data, strict=False)
        except cbor.CborError:
            return []
        return array if isinstance(array, list) else []

    async def write_blob_array(self, blob_array: Sequence[object]) -> None:
        """Replace the whole array."""
        data = cbor.dumps(blob_array)
        data += hashlib.sha256(data).digest()[:16]
        for offset in range(0, len(data), self.max_fragment_length):
            fragment = data[offset : offset + self.max_fragment_length]
            version, param = self.pin_uv.param(large_blobs_message(offset, fragment)) if self.pin_uv else (None, None)
            length = len(data) if offset == 0 else None
            await self.ctap.large_blobs(
                offset, set=fragment, length=length, pin_uv_param=param, pin_uv_protocol=version
            )

    @staticmethod
    def _decrypt(key: bytes, entry: object) -> bytes | None:
        if not isinstance(entry, dict):
            return None
        ciphertext, nonce, orig_size = entry.get(1), entry.get(2), entry.get(3)
        if not isinstance(ciphertext, bytes) or not isinstance(nonce, bytes) or not isinstance(orig_size, int):
            return None
        # origSize is an unsigned 64-bit integer in the AAD (§6.10.3): any other value is no entry of ours
        if len(nonce) != 12 or isinstance(orig_size, bool) or not 0 <= orig_size < 2**64:
            return None
        try:
            data = zlib.decompress(AESGCM(key).decrypt(nonce, ciphertext, _aad(orig_size)), wbits=-zlib.MAX_WBITS)
        except (InvalidTag, zlib.error):  # not this credential's entry, or not a raw DEFLATE stream
            return None
        return data if len(data) == orig_size else None

    async def get_blob(self, large_blob_key: bytes) -> bytes | None:
        """The data stored for the credential whose largeBlobKey this is, or None."""
        for entry in await self.read_blob_array():
            data = self._decrypt(large_blob_key, entry)
            if data is not None:
                return data
        return None

    async def put_blob(self, large_blob_key: bytes, data: bytes | None) -> None:
        """Store ``data`` for the credential (replacing earlier entries); None deletes."""
        entries = [e for e in await self.read_blob_array() if self._decrypt(large_blob_key, e) is None]
        if data is not None:
            compressor = zlib.compressobj(wbits=-zlib.MAX_WBITS)
            compressed = compressor.compress(data) + compressor.flush()
            nonce = os.urandom(12)
            entries.append(
                {1: AESGCM(large_blob_key).encrypt(nonce, compressed, _aad(len(data))), 2: nonce, 3: len(data)}
            )
        await self.write_blob_array(entries)

    async def delete_blob(self, large_blob_key: bytes) -> None:
        """Remove every entry for the credential."""
        await self.put_blob(large_blob_key, None)
