"""The declared bodies (:mod:`aioctap.webapi`, ``server/bodies.py``, ``otp/bodies.py``): their patterns say what
the parsers behind them read, and the generated document holds only JSON Schema."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aioctap.otp import bodies as otp
from aioctap.otp.errors import KeyFormatError
from aioctap.otp.taler import TalerAmount, decode_key, parse_algorithm
from aioctap.server import bodies
from aioctap.server.app import create_app
from aioctap.stores import MemoryStore
from aioctap.webapi import is_valid, validate
from aioctap.webauthn import WebAuthnDataError, websafe_decode, websafe_encode


def _matches(pattern: str, text: str) -> bool:
    return re.search(pattern, text) is not None


def _decodes(text: str) -> bool:
    try:
        websafe_decode(text)
    except WebAuthnDataError:
        return False
    return True


@settings(max_examples=300)
@given(st.text(alphabet="AZaz09-_=+/! ", max_size=12), st.binary(max_size=40))
def test_base64url_pattern_is_what_the_decoder_reads(text: str, raw: bytes) -> None:
    if _matches(bodies.B64URL, text):
        assert _decodes(text), text  # never a schema-valid string the decoder refuses
    encoded = websafe_encode(raw)
    assert _matches(bodies.B64URL, encoded) and _matches(bodies.B64URL, encoded + "=" * (-len(encoded) % 4))
    salt = websafe_encode(bytes(range(32)))
    assert _matches(bodies.SALT, salt) and not _matches(bodies.SALT, salt[:-1])


@settings(max_examples=300)
@given(st.text(alphabet="AZaz2789=*ſ", max_size=12))
def test_otp_key_pattern_is_what_decode_key_reads(text: str) -> None:
    try:
        decode_key(text)
        decodes = True
    except KeyFormatError:
        decodes = False
    if _matches(otp.OTP_KEY, text):
        assert decodes, text
    elif text.isascii():
        assert not decodes, text  # only the non-ASCII quirks of str.upper() ("ſ" is "S") are refused earlier


@settings(max_examples=300)
@given(st.one_of(st.sampled_from(["none", "Totp_With_Price", "TOTP_WITHOUT_PRICE", "00002", "3", "0" * 21, ""]),
                 st.text(alphabet="0123TOPnone_", max_size=22)))  # fmt: skip
def test_algorithm_pattern_is_what_parse_algorithm_reads(text: str) -> None:
    try:
        parse_algorithm(text)
        parses = True
    except KeyFormatError:
        parses = False
    assert _matches(otp.ALGORITHM_NAME, text) == parses, text


@settings(max_examples=300)
@given(st.one_of(
    st.sampled_from(["EUR:4503599627370496", "EUR:4503599627370497", "EUR:0004503599627370496.5", "KUDOS:1.123456789"]),
    st.from_regex(r"\A[A-Z]{0,12}:[0-9]{0,18}(\.[0-9]{0,9})?\Z"),
))  # fmt: skip
def test_price_pattern_is_what_taler_amount_reads(text: str) -> None:
    try:
        TalerAmount.parse(text)
        parses = True
    except KeyFormatError:
        parses = False
    assert _matches(otp.PRICE, text) == parses, text


@settings(max_examples=300)
@given(st.text(alphabet="a./\x00\x1f\x7f\x85é", max_size=5) | st.sampled_from([".", "..", "...", "a" * 128, "a" * 129]))
def test_device_id_pattern(text: str) -> None:
    old = re.fullmatch(r"[^\x00-\x1f\x7f/\ud800-\udfff]{1,128}", text) is not None and text not in (".", "..")
    assert _matches(otp.DEVICE_ID, text) == old, text


def test_attestation_options_body_is_told_apart_by_its_members() -> None:
    creation = validate(bodies.AttestationOptionsRequest, {"username": "a", "attestation": None})
    assert isinstance(creation, bodies.ServerPublicKeyCredentialCreationOptionsRequest)
    get = validate(bodies.AttestationOptionsRequest, {"username": "a", "userVerification": "required"})
    assert isinstance(get, bodies.ServerPublicKeyCredentialGetOptionsRequest)
    assert not is_valid(bodies.AttestationOptionsRequest, {"username": "", "displayName": "x"})  # a creation needs one
    assert is_valid(bodies.AttestationOptionsRequest, {})  # a passkey sign-in


@pytest.mark.parametrize("value", [2, 2.0, "2", "totp_with_price", "0002"])
def test_algorithm_accepts_json_integers_and_names(value: Any) -> None:
    body = {"otp_device_description": "d", "otp_algorithm": value}
    assert is_valid(otp.OtpDevicePatchDetails, body)


@pytest.mark.parametrize("value", [True, 2.5, 3, -1, "3", "totp"])
def test_algorithm_refuses_the_rest(value: Any) -> None:
    assert not is_valid(otp.OtpDevicePatchDetails, {"otp_device_description": "d", "otp_algorithm": value})


def _keywords(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = set(node)
        for key, value in node.items():
            if key != "properties":
                found |= _keywords(value)
            else:
                for member in value.values():
                    found |= _keywords(member)
        return found
    if isinstance(node, list):
        return set().union(*(_keywords(v) for v in node)) if node else set()
    return set()


def test_the_document_holds_only_json_schema_keywords() -> None:
    doc = create_app(MemoryStore(), admin_token="t" * 32).state.openapi
    schemas = [doc["components"]["schemas"]]
    for item in doc["paths"].values():
        for op in item.values():
            schemas += [p["schema"] for p in op.get("parameters", [])]
            schemas += [c.get("schema", {}) for c in op.get("requestBody", {}).get("content", {}).values()]
            for answer in op["responses"].values():
                schemas += [c.get("schema", {}) for c in answer.get("content", {}).values()]
    known = {
        "type", "properties", "required", "items", "anyOf", "oneOf", "allOf", "enum", "const", "pattern",
        "minLength", "maxLength", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "$ref",
        "description", "title", "default", "additionalProperties", "format",
    }  # fmt: skip
    words = set()
    for schema in schemas[1:]:
        words |= _keywords(schema)
    for schema in schemas[0].values():
        words |= _keywords(schema)
    assert words <= known, words - known
    json.dumps(doc)  # plain JSON
