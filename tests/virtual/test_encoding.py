"""The hand-written response encodings of aioctap.virtual.encoding give exactly what cbor.dumps gives for the map."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aioctap import cbor
from aioctap.cose import ES256, CoseKey, EdDSA
from aioctap.virtual import encoding
from aioctap.virtual.state import CredentialKey

# lengths on both sides of the head-size boundaries (longer ones: the explicit cases), and 32 (key coordinates)
blobs = st.one_of(
    st.binary(max_size=300),
    st.binary(min_size=32, max_size=32),
    st.sampled_from([bytes(n) for n in (0, 23, 24, 255, 256, 1000)]),
)
text = st.text(max_size=40)
users = st.fixed_dictionaries({"id": st.binary(min_size=1, max_size=64)}, optional={"name": text, "displayName": text})


@settings(max_examples=300, deadline=None)
@given(
    credential_id=blobs,
    auth_data=blobs,
    signature=blobs,
    user=st.none() | users,
    full_user=st.booleans(),
    count=st.none() | st.integers(min_value=2, max_value=70000),
    selected=st.booleans(),
    large_blob_key=st.none() | blobs,
)
def test_assertion_response_is_canonical_cbor(
    credential_id: bytes,
    auth_data: bytes,
    signature: bytes,
    user: dict[str, Any] | None,
    full_user: bool,
    count: int | None,
    selected: bool,
    large_blob_key: bytes | None,
) -> None:
    expected: dict[int, Any] = {1: {"type": "public-key", "id": credential_id}, 2: auth_data, 3: signature}
    encoded_user = None
    if user is not None:
        expected[4] = dict(user) if full_user else {"id": user["id"]}
        encoded_user = encoding.user_entity(user, full_user)
        assert encoded_user == cbor.dumps(expected[4])
    if count is not None:
        expected[5] = count
    if selected:
        expected[6] = True
    if large_blob_key is not None:
        expected[7] = large_blob_key
    got = encoding.assertion_response(
        credential_id, auth_data, signature, encoded_user, count, selected, large_blob_key
    )
    assert got == cbor.dumps(expected)
    assert cbor.loads(got) == expected  # and the strict decoder takes it


@settings(max_examples=200, deadline=None)
@given(
    fmt=st.sampled_from(["none", "packed", "tpm"]),
    auth_data=blobs,
    att_stmt=st.one_of(
        st.just({}),
        st.fixed_dictionaries({"alg": st.sampled_from([-7, -8, -257]), "sig": blobs}),
        st.fixed_dictionaries({"alg": st.just(-7), "sig": blobs, "x5c": st.lists(blobs, min_size=1, max_size=2)}),
    ),
    enterprise=st.booleans(),
    large_blob_key=st.none() | blobs,
)
def test_make_credential_response_is_canonical_cbor(
    fmt: str, auth_data: bytes, att_stmt: dict[str, Any], enterprise: bool, large_blob_key: bytes | None
) -> None:
    expected: dict[int, Any] = {1: fmt, 2: auth_data, 3: att_stmt}
    if enterprise:
        expected[4] = True
    if large_blob_key is not None:
        expected[5] = large_blob_key
    got = encoding.make_credential_response(fmt, auth_data, att_stmt, enterprise, large_blob_key)
    assert got == cbor.dumps(expected)


@pytest.mark.parametrize("n", [0, 1, 23, 24, 255, 256, 65535, 65536, 2**32 - 1, 2**32, 2**64 - 1])
def test_integer_and_byte_string_heads(n: int) -> None:
    assert encoding.integer(n) == cbor.dumps(n)
    assert encoding.integer(-1 - n) == cbor.dumps(-1 - n)
    if n <= 70000:
        assert encoding.byte_string(bytes(n)) == cbor.dumps(bytes(n))


@pytest.mark.parametrize("alg", [-7, -8, -257])
def test_cose_key_of_generated_keys(alg: int) -> None:
    key = CredentialKey.generate(alg)
    public = key.public_key()
    assert key.public_key_cbor() == cbor.dumps(dict(public))
    # the key generated from its stored form gives the same public key
    again = CredentialKey(alg, key.private)
    assert again.public_key() == public
    assert CoseKey.parse(cbor.loads(again.public_key_cbor())) == public


@settings(max_examples=100, deadline=None)
@given(x=blobs, y=blobs, extra=st.booleans(), alg=st.sampled_from([-7, -8]), crv=st.sampled_from([1, 6, 7]))
def test_cose_key_of_any_shape(x: bytes, y: bytes, extra: bool, alg: int, crv: int) -> None:
    # keys of the usual shape take the direct path, every other shape falls back to cbor.dumps: same bytes
    key: dict[int, Any] = {1: 2 if alg == -7 else 1, 3: alg, -1: crv, -2: x}
    if alg == -7:
        key[-3] = y
    if extra:
        key[-4] = b"d"
    cls = ES256 if alg == -7 else EdDSA
    assert encoding.cose_key(cls(key)) == cbor.dumps(key)
    assert encoding.cose_key(key) == cbor.dumps(key)


def test_user_entity_without_uv_is_the_id_only() -> None:
    user = {"id": b"\x01" * 30, "name": "alice", "displayName": "Alice"}
    assert cbor.loads(encoding.user_entity(user, False)) == {"id": user["id"]}
    assert cbor.loads(encoding.user_entity(user, True)) == user


def test_authenticator_data_layout() -> None:
    data = encoding.authenticator_data(bytes(range(32)), 0x45, 0x01020304, b"AT", b"\xa0")
    assert data == bytes(range(32)) + b"\x45\x01\x02\x03\x04AT\xa0"
    attested = encoding.attested_credential_data(bytes(16), b"\xaa" * 300, b"\xa0")
    assert attested == bytes(16) + b"\x01\x2c" + b"\xaa" * 300 + b"\xa0"
