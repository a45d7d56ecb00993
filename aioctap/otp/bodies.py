"""The bodies and parameters of GNU Taler's OTP-devices API (merchant backend shape), each declared once: the
declarations validate what :mod:`aioctap.otp.api` receives, shape what it answers, and generate its part of
``/openapi.json``."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from ..webapi import INTEGRAL, Body, pattern_meaning
from .taler import ALGORITHMS, MAX_AMOUNT_VALUE

__all__ = [
    "Algorithm",
    "DeviceId",
    "FakeTime",
    "InstanceId",
    "LoginTokenRequest",
    "LoginTokenSuccessResponse",
    "OtpDeviceAddDetails",
    "OtpDeviceDetails",
    "OtpDevicePatchDetails",
    "OtpDeviceSummary",
    "OtpDevicesSummaryResponse",
    "Price",
    "RelativeTime",
    "TalerErrorDetail",
    "Timestamp",
    "TokenInfo",
    "TokenInfos",
    "TokenSerial",
]

PERMISSION_NAMES = ("otp-devices-read", "otp-devices-write", "tokens-read", "tokens-write")
SCOPE_NAMES = ("readonly", "write", "all")
SCOPE_SEPARATORS = "[ \\t\\n\\r,]"  # between the permission names of a scope (a regular-expression class)
MAX_DESCRIPTION = 4096


def _any_case(word: str) -> str:
    return "".join(f"[{c.upper()}{c.lower()}]" if c.isalpha() else c for c in word)


def _at_most(limit: int) -> str:
    """A regular expression for the decimal numbers 0..limit (leading zeros allowed)."""
    digits = str(limit)
    branches = [f"[0-9]{{1,{len(digits) - 1}}}"] if len(digits) > 1 else []
    for i, d in enumerate(digits):
        if d != "0":
            rest = len(digits) - i - 1
            below = "0" if d == "1" else f"[0-{int(d) - 1}]"
            branches.append(digits[:i] + below + (f"[0-9]{{{rest}}}" if rest else ""))
    branches.append(digits)
    return "0*(?:" + "|".join(branches) + ")"


_NOT_NAME = "\\x00-\\x1f\\x7f/"
# 1-128 characters, no control character or slash, and not "." or ".." (dot segments do not survive in a URL)
DEVICE_ID = pattern_meaning(
    f"^(?:[^{_NOT_NAME}.][^{_NOT_NAME}]{{0,127}}|\\.[^{_NOT_NAME}.][^{_NOT_NAME}]{{0,126}}"
    f"|\\.\\.[^{_NOT_NAME}]{{1,126}})$",
    "must be 1-128 characters without control characters or '/', and not '.' or '..'",
)
INSTANCE = pattern_meaning(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$", "must be 1-64 characters A-Z, a-z, 0-9, '_.-'")
TEXT = pattern_meaning(r"^[^\x00-\x1f\x7f-\x9f]*$", "must not contain control characters")
OTP_KEY = pattern_meaning(r"^[A-Za-z2-7]{2,}=*$", "must be RFC 3548 base32 (A-Z, 2-7) of at least one byte")
ALGORITHM_NAME = pattern_meaning(
    "^(?:" + "|".join(_any_case(name) for name in ALGORITHMS) + "|0{0,19}[0-2])$",
    "must be 0, 1, 2 or NONE, TOTP_WITHOUT_PRICE, TOTP_WITH_PRICE",
)
_PERMISSION = "(?:" + "|".join(PERMISSION_NAMES) + ")"
SCOPE = pattern_meaning(
    f"^(?:{'|'.join(SCOPE_NAMES)}|{SCOPE_SEPARATORS}*{_PERMISSION}"
    f"(?:{SCOPE_SEPARATORS}+{_PERMISSION})*{SCOPE_SEPARATORS}*)$",
    "must be readonly, write, all, or a list of: " + ", ".join(PERMISSION_NAMES),
)
PRICE = pattern_meaning(
    f"^[A-Z]{{1,11}}:{_at_most(MAX_AMOUNT_VALUE)}(?:\\.[0-9]{{1,8}})?$",
    "must be a Taler amount CUR:VALUE[.FRAC] (1-11 letters A-Z, a value up to 2^52, up to 8 fraction digits)",
)
FAKETIME = pattern_meaning(r"^[0-9]{1,15}$", "must be a timestamp in seconds")

DeviceId = Annotated[str, Field(pattern=DEVICE_ID, description="the OTP device's id")]
InstanceId = Annotated[str, Field(pattern=INSTANCE, description="the merchant instance (default: 'default')")]
TokenSerial = Annotated[str, Field(description="a token's serial, as listed by GET /private/tokens")]
Description = Annotated[str, Field(max_length=MAX_DESCRIPTION, pattern=TEXT)]
OtpKey = Annotated[str, Field(pattern=OTP_KEY, description="base32 secret; never returned")]
Algorithm = Annotated[
    Annotated[int, Field(ge=0, le=2), INTEGRAL] | Annotated[str, Field(pattern=ALGORITHM_NAME)],
    Field(description="0 none, 1 TOTP without price, 2 TOTP with price (or the names, in any case)"),
]
Counter = Annotated[int, Field(ge=0, lt=1 << 64), INTEGRAL]
Price = Annotated[str, Field(pattern=PRICE, description="a Taler amount, CUR:VALUE[.FRAC]")]
FakeTime = Annotated[str, Field(pattern=FAKETIME, description="seconds since the epoch")]


class TalerErrorDetail(Body):
    """Taler's error body: a TALER_EC code and a hint for people."""

    code: int
    hint: str


class OtpDeviceAddDetails(Body):
    """POST /private/otp-devices."""

    otp_device_id: DeviceId
    otp_device_description: Description
    otp_key: OtpKey = Field(repr=False)  # a secret: never in a repr
    otp_algorithm: Algorithm
    otp_ctr: Counter | None = None


class OtpDevicePatchDetails(Body):
    """PATCH /private/otp-devices/$DEVICE_ID (the key and counter stay as they are when absent)."""

    otp_device_description: Description
    otp_key: OtpKey | None = Field(default=None, repr=False)  # a secret: never in a repr
    otp_algorithm: Algorithm
    otp_ctr: Counter | None = None


class OtpDeviceDetails(Body):
    """GET /private/otp-devices/$DEVICE_ID."""

    device_description: str
    otp_algorithm: int
    otp_ctr: int | None = None
    otp_timestamp: int
    otp_code: str | None = None


class OtpDeviceSummary(Body):
    """One device in the listing."""

    otp_device_id: str
    device_description: str


class OtpDevicesSummaryResponse(Body):
    """GET /private/otp-devices."""

    otp_devices: list[OtpDeviceSummary]


class RelativeTime(Body):
    """Taler RelativeTime: microseconds, or "forever"."""

    d_us: Annotated[int, Field(gt=0, lt=1 << 62), INTEGRAL] | Literal["forever"]


class LoginTokenRequest(Body):
    """POST /private/token."""

    scope: Annotated[str, Field(pattern=SCOPE)]
    duration: RelativeTime | Annotated[float, Field(gt=0, lt=1e12, description="seconds")] | None = Field(
        default=None, description="default: one day"
    )
    refreshable: bool | None = None
    description: Description | None = None


class Timestamp(Body):
    """Taler Timestamp: seconds, or "never"."""

    t_s: int | Literal["never"]


class LoginTokenSuccessResponse(Body):
    """A new bearer token (returned once; only its SHA-256 is stored)."""

    token: str = Field(repr=False)  # secrets: never in a repr
    access_token: str = Field(repr=False)
    scope: str
    refreshable: bool
    expiration: Timestamp
    serial: str


class TokenInfo(Body):
    """A token as listed (never its secret)."""

    serial: str
    scope: str
    refreshable: bool
    description: str | None
    creation_time: Timestamp
    expiration: Timestamp


class TokenInfos(Body):
    """GET /private/tokens."""

    tokens: list[TokenInfo]
