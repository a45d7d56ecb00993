"""An OTP's JSON form (:class:`OtpDict`, with its key in base32 or encrypted) and its keyword arguments as
TypedDicts; :meth:`~aioctap.otp.core.BaseOTP.to_dict` and ``from_dict`` are built from the helpers here."""

from __future__ import annotations

from typing import Literal, NotRequired, TypedDict

from .base32 import b32encode
from .errors import KeyFormatError
from .wallet import AppWallet, EncryptedKey

__all__ = ["HotpSettings", "MatchOptions", "OtpDict", "OtpSettings", "TotpSettings"]


class OtpSettings(TypedDict, total=False):
    """Keyword arguments every OTP class takes (see :class:`~aioctap.otp.core.BaseOTP`), ``new`` aside."""

    digits: int | None
    alg: str | None
    label: str | None
    issuer: str | None
    size: int | None
    changed: bool


class TotpSettings(OtpSettings, total=False):
    """:class:`~aioctap.otp.core.TOTP`'s keyword arguments, ``new`` aside."""

    period: int | None
    t0: int


class HotpSettings(OtpSettings, total=False):
    """:class:`~aioctap.otp.core.HOTP`'s keyword arguments, ``new`` aside."""

    counter: int


class MatchOptions(TypedDict, total=False):
    """:meth:`~aioctap.otp.core.TOTP.match`'s keyword arguments after the token."""

    time: float | int | None
    window: int
    skew: int
    last_counter: int | None
    reuse: bool


class OtpDict(TypedDict):
    """The JSON form of an OTP (:meth:`~aioctap.otp.core.BaseOTP.to_dict`): the key in base32 (``key``) or
    encrypted (``enckey``)."""

    type: Literal["totp", "hotp"]
    v: int
    alg: NotRequired[str]
    digits: NotRequired[int]
    label: NotRequired[str]
    issuer: NotRequired[str]
    period: NotRequired[int]
    t0: NotRequired[int]
    counter: NotRequired[int]
    key: NotRequired[str]
    enckey: NotRequired[EncryptedKey]


def write_key(d: OtpDict, key: bytes, context: AppWallet | None, encrypt: bool | None) -> OtpDict:
    """``d`` with the key member: encrypted when ``context`` can encrypt (unless ``encrypt=False``), else in base32."""
    if context is not None and context.can_encrypt and encrypt is not False:
        d["enckey"] = context.encrypt_key(key)
    elif encrypt:
        raise KeyFormatError("encrypt=True needs an OTPContext with an application secret")
    else:
        d["key"] = b32encode(key)
    return d


def read(d: object, context: AppWallet | None) -> tuple[Literal["totp", "hotp"], str | bytes, str, OtpSettings]:
    """(type, key, its format, settings) of a serialized OTP; ``changed`` is set in the settings when it should be
    stored again (its key was encrypted under an old tag or cost, or is in clear though the context can encrypt)."""
    if not isinstance(d, dict) or d.get("v") != 1 or d.get("type") not in ("totp", "hotp"):
        raise KeyFormatError("not a serialized OTP (expected a dict with type totp/hotp and v=1)")
    key: str | bytes
    if "enckey" in d:
        if context is None:
            raise KeyFormatError("this OTP's key is encrypted: an OTPContext is needed")
        (key, changed), format = context.decrypt_key(d["enckey"]), "raw"
    elif isinstance(d.get("key"), str):
        key, format, changed = d["key"], "base32", context is not None and context.can_encrypt
    else:
        raise KeyFormatError("serialized OTP has no key")
    settings: OtpSettings = {
        "label": d.get("label"),
        "issuer": d.get("issuer"),
        "alg": d.get("alg", "sha1"),
        "digits": d.get("digits", 6),
        "changed": changed,
    }
    return d["type"], key, format, settings
