"""The authenticator's hot responses written straight as canonical CTAP2 CBOR.

makeCredential and getAssertion answer with maps of a fixed shape: small unsigned integer keys in
ascending order, byte strings, one credential descriptor, a user entity. Writing those bytes directly
costs a fraction of building the dicts and putting every map in canonical order (``aioctap.cbor.dumps``);
the result is byte for byte what ``cbor.dumps`` gives for the same map (tests/virtual/test_encoding.py
checks that on generated responses). Values of no fixed shape (a user entity with more than its ID, an
attestation statement, extension outputs) still go through ``cbor.dumps``.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping

from .. import cbor

__all__ = [
    "assertion_response",
    "attested_credential_data",
    "authenticator_data",
    "byte_string",
    "cose_key",
    "integer",
    "make_credential_response",
    "user_entity",
]

# the head of a byte string of each length below 256 (major type 2): one byte below 24, else 0x58 and the length
_BSTR_HEADS = [bytes([0x40 | n]) if n < 24 else bytes([0x58, n]) for n in range(256)]
_FLAGS_COUNTER = struct.Struct(">BI")
# member 1, the credential descriptor {"id": ..., "type": "public-key"} ("id" sorts first: shorter encoding),
# and the key of member 2 after it
_CREDENTIAL_KEY_AND_HEAD = b"\x01\xa2\x62id"
_DESCRIPTOR_TAIL_AND_AUTH_DATA_KEY = b"\x64type\x6apublic-key\x02"
_MAP_HEADS = [bytes([0xA0 | n]) for n in range(8)]
_FORMATS = {"none": b"\x64none", "packed": b"\x66packed"}


def _head(major: int, n: int) -> bytes:
    """The head of a CBOR item of major type ``major`` with argument ``n`` (shortest form)."""
    if n < 24:
        return bytes([major << 5 | n])
    if n < 0x100:
        return bytes([major << 5 | 24, n])
    if n < 0x10000:
        return bytes([major << 5 | 25]) + n.to_bytes(2, "big")
    if n < 0x100000000:
        return bytes([major << 5 | 26]) + n.to_bytes(4, "big")
    return bytes([major << 5 | 27]) + n.to_bytes(8, "big")


def byte_string(data: bytes) -> bytes:
    """``data`` as a CBOR byte string."""
    n = len(data)
    return (_BSTR_HEADS[n] if n < 256 else _head(2, n)) + data


def integer(n: int) -> bytes:
    """``n`` as a CBOR integer (major type 0 or 1, 64-bit range)."""
    return _head(0, n) if n >= 0 else _head(1, -1 - n)


def cose_key(key: Mapping[int, object]) -> bytes:
    """A COSE_Key as canonical CBOR: ES256 and EdDSA keys of the usual shape directly, any other by ``cbor.dumps``."""
    alg = key.get(3)
    if alg == -7 and len(key) == 5 and key.get(1) == 2 and key.get(-1) == 1:
        x, y = key.get(-2), key.get(-3)
        if type(x) is bytes and type(y) is bytes and len(x) == 32 and len(y) == 32:
            # {1: 2, 3: -7, -1: 1, -2: x, -3: y}: unsigned keys, then negative ones by their encoding
            return b"\xa5\x01\x02\x03\x26\x20\x01\x21\x58\x20" + x + b"\x22\x58\x20" + y
    elif alg == -8 and len(key) == 4 and key.get(1) == 1 and key.get(-1) == 6:
        x = key.get(-2)
        if type(x) is bytes and len(x) == 32:
            return b"\xa4\x01\x01\x03\x27\x20\x06\x21\x58\x20" + x
    return cbor.dumps(dict(key))


def authenticator_data(
    rp_id_hash: bytes, flags: int, counter: int, attested: bytes = b"", extensions: bytes = b""
) -> bytes:
    """rpIdHash || flags || signCount (big-endian u32) || attested credential data || extensions (WebAuthn §6.1)."""
    return rp_id_hash + _FLAGS_COUNTER.pack(flags, counter) + attested + extensions


def attested_credential_data(aaguid: bytes, credential_id: bytes, public_key_cbor: bytes) -> bytes:
    """aaguid || credentialIdLength (u16) || credentialId || credentialPublicKey (WebAuthn §6.5.1)."""
    return aaguid + len(credential_id).to_bytes(2, "big") + credential_id + public_key_cbor


def user_entity(user: Mapping[str, object], full: bool) -> bytes:
    """The user member of a getAssertion response: the whole stored entity, or only its ID (§6.2.2 step 12)."""
    if full:
        return cbor.dumps(dict(user))
    user_id = user["id"]
    if type(user_id) is bytes:
        return b"\xa1\x62id" + byte_string(user_id)
    return cbor.dumps({"id": user_id})


def assertion_response(
    credential_id: bytes,
    auth_data: bytes,
    signature: bytes,
    user: bytes | None = None,
    number_of_credentials: int | None = None,
    user_selected: bool = False,
    large_blob_key: bytes | None = None,
) -> bytes:
    """The authenticatorGetAssertion response map (§6.2.2), ``user`` already encoded (:func:`user_entity`)."""
    heads = _BSTR_HEADS
    n_id, n_data, n_sig = len(credential_id), len(auth_data), len(signature)
    if n_id < 256 and n_data < 256 and n_sig < 256:  # always, but for long extension outputs
        parts = [
            b"",
            _CREDENTIAL_KEY_AND_HEAD,
            heads[n_id],
            credential_id,
            _DESCRIPTOR_TAIL_AND_AUTH_DATA_KEY,
            heads[n_data],
            auth_data,
            b"\x03",
            heads[n_sig],
            signature,
        ]
    else:
        parts = [
            b"",
            _CREDENTIAL_KEY_AND_HEAD,
            byte_string(credential_id),
            _DESCRIPTOR_TAIL_AND_AUTH_DATA_KEY,
            byte_string(auth_data),
            b"\x03",
            byte_string(signature),
        ]
    size = 3
    if user is not None:
        parts += (b"\x04", user)
        size += 1
    if number_of_credentials is not None:
        parts += (b"\x05", integer(number_of_credentials))
        size += 1
    if user_selected:
        parts.append(b"\x06\xf5")
        size += 1
    if large_blob_key is not None:
        parts += (b"\x07", byte_string(large_blob_key))
        size += 1
    parts[0] = _MAP_HEADS[size]
    return b"".join(parts)


def make_credential_response(
    fmt: str,
    auth_data: bytes,
    att_stmt: Mapping[str, object],
    enterprise: bool = False,
    large_blob_key: bytes | None = None,
) -> bytes:
    """The authenticatorMakeCredential response map (§6.1.2): fmt, authData, attStmt, epAtt, largeBlobKey."""
    size = 3 + enterprise + (large_blob_key is not None)
    parts = [
        bytes([0xA0 | size, 0x01]),
        _FORMATS.get(fmt) or cbor.dumps(fmt),
        b"\x02",
        byte_string(auth_data),
        b"\x03",
        cbor.dumps(dict(att_stmt)) if att_stmt else b"\xa0",
    ]
    if enterprise:
        parts.append(b"\x04\xf5")
    if large_blob_key is not None:
        parts += (b"\x05", byte_string(large_blob_key))
    return b"".join(parts)
