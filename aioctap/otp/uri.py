"""otpauth:// Key URIs (Google Authenticator's Key Uri Format) both ways, checked and parsed into fields."""

from __future__ import annotations

from typing import Literal, NotRequired, TypedDict
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from .errors import KeyFormatError

__all__ = ["UriFields", "check_name", "format_uri", "parse_uri"]


class UriFields(TypedDict):
    """What an otpauth URI says (the secret still in base32); ``period`` only in totp URIs, ``counter`` in hotp."""

    kind: Literal["totp", "hotp"]
    secret: str
    label: str | None
    issuer: str | None
    alg: str
    digits: int
    period: NotRequired[int]
    counter: NotRequired[int]


def check_name(what: str, text: str | None) -> str | None:
    """``text`` if it can be an account name or issuer: a string without ':' (the URI's separator) that any
    otpauth URI or JSON document can carry; :class:`KeyFormatError` says what is wrong."""
    if text is not None:
        if not isinstance(text, str):
            raise KeyFormatError(f"{what} must be a string")
        if ":" in text:
            raise KeyFormatError(f"{what} must not contain ':'")
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:  # lone surrogates
            raise KeyFormatError(f"{what} is not valid Unicode text") from None
    return text


def _is_ascii_number(text: str) -> bool:
    """ASCII digits only, at most 20 of them (2**64 has 20): str.isdigit alone also takes "²" or "٣", which
    int() refuses or reads, and a long run of digits is past int()'s limit for text."""
    return 0 < len(text) <= 20 and text.isascii() and text.isdigit()


def format_uri(
    kind: str, secret: str, label: str, issuer: str | None, alg: str, digits: int, extra: dict[str, str]
) -> str:
    """``otpauth://KIND/Issuer:label?secret=...&issuer=...`` (algorithm and digits only when not the defaults)."""
    path = quote(f"{issuer}:{label}" if issuer else label, safe=":@")
    params = {"secret": secret}
    if issuer:
        params["issuer"] = issuer
    if alg != "sha1":
        params["algorithm"] = alg.upper()
    if digits != 6:
        params["digits"] = str(digits)
    params.update(extra)
    query = "&".join(f"{k}={quote(v, safe='')}" for k, v in params.items())
    return f"otpauth://{kind}/{path}?{query}"


def parse_uri(uri: str) -> UriFields:
    """Parse an otpauth URI (``totp`` or ``hotp``); :class:`KeyFormatError` says what is wrong."""
    if not isinstance(uri, str):
        raise KeyFormatError("otpauth URI must be a string")
    try:
        parts = urlsplit(uri.strip())
    except ValueError:
        raise KeyFormatError("not a valid URI") from None
    if parts.scheme.lower() != "otpauth":
        raise KeyFormatError("URI scheme must be otpauth")
    kind = parts.netloc.lower()
    if kind != "totp" and kind != "hotp":
        raise KeyFormatError(f"unknown OTP type {kind!r}: expected totp or hotp")
    label_text = unquote(parts.path.lstrip("/"))
    if not label_text:
        raise KeyFormatError("otpauth URI has no label")
    issuer_prefix, sep, label = label_text.partition(":")
    if not sep:
        issuer_prefix, label = "", label_text
    label = label.strip()
    params: dict[str, str] = {}
    for k, v in parse_qsl(parts.query, keep_blank_values=True):
        if k in params:
            raise KeyFormatError(f"parameter {k!r} appears twice")
        params[k] = v
    if "secret" not in params:
        raise KeyFormatError("otpauth URI has no secret")
    if issuer_prefix and params.get("issuer") and params["issuer"] != issuer_prefix:
        raise KeyFormatError("issuer parameter and label prefix disagree")
    fields: UriFields = {
        "kind": "totp" if kind == "totp" else "hotp",
        "secret": params["secret"],
        "label": label or None,
        "issuer": params.get("issuer") or issuer_prefix or None,
        "alg": params.get("algorithm", "sha1").lower(),
        "digits": 6,
    }
    if "digits" in params:
        if not _is_ascii_number(params["digits"]):
            raise KeyFormatError("digits must be a number")
        fields["digits"] = int(params["digits"])
    if kind == "totp":
        if "period" in params:
            if not _is_ascii_number(params["period"]) or int(params["period"]) < 1:
                raise KeyFormatError("period must be a positive number of seconds")
            fields["period"] = int(params["period"])
    elif "counter" not in params or not _is_ascii_number(params["counter"]):
        raise KeyFormatError("an hotp URI needs a numeric counter")
    else:
        fields["counter"] = int(params["counter"])
    return fields
