"""GNU Taler POS confirmation codes, computed as the Taler merchant backend does.

``pos_confirmation(key, algorithm, time, price=None)``: five 8-digit HMAC-SHA1 TOTP codes (30 s
steps, for the steps t-2 ... t+2) joined by newlines. With algorithm 2 the HOTP key is first
replaced by 64 bytes of GNUnet's KDF (HKDF: extract HMAC-SHA512 keyed with the amount in network
byte order, expand HMAC-SHA256, empty context), binding the code to the price.

Each code is written as Taler's merchant backend writes it (``TALER_build_pos_confirmation``,
``util/crypto_confirmation.c``: ``%llu``), with no leading zeros: a code below 10,000,000 has fewer than 8 digits
(``5191635``, where an OTP device's display shows ``05191635``). The OTP-devices API's ``otp_code`` "matches exactly
the string that would be returned as part of a payment confirmation", which is the backend's.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import struct
from dataclasses import dataclass

from .errors import KeyFormatError
from .rfc4226 import hotp

__all__ = ["AmountError", "TalerAmount", "parse_algorithm", "pos_confirmation"]

ALGORITHMS = {"NONE": 0, "TOTP_WITHOUT_PRICE": 1, "TOTP_WITH_PRICE": 2}
MAX_AMOUNT_VALUE = 1 << 52
_AMOUNT = re.compile(r"([A-Z]{1,11}):([0-9]+)(?:\.([0-9]{1,8}))?")  # fullmatch; [0-9] and A-Z are ASCII
# the time steps: the 8-byte HOTP counter of the last code (step + 2) must fit
_MAX_TIME = ((1 << 64) - 3) * 30


class AmountError(KeyFormatError):
    """A Taler amount string is malformed."""


@dataclass(frozen=True)
class TalerAmount:
    """``CUR:VALUE[.FRACTION]``: currency 1-11 letters A-Z, value <= 2^52, fraction in units of 10^-8."""

    currency: str
    value: int
    fraction: int

    @classmethod
    def parse(cls, text: str) -> TalerAmount:
        """Parse a Taler amount string ``CURRENCY:VALUE[.FRACTION]`` (Taler docs, "Amounts"); AmountError when
        malformed."""
        if not isinstance(text, str):
            raise AmountError("amount must be a string like 'EUR:1.50'")
        m = _AMOUNT.fullmatch(text)
        if m is None:
            raise AmountError(
                "amount must be CURRENCY:VALUE[.FRACTION] with 1-11 letters A-Z and at most 8 fraction digits"
            )
        digits = m.group(2).lstrip("0")
        value = int(digits or "0") if len(digits) <= 16 else MAX_AMOUNT_VALUE + 1  # 2^52 has 16 digits
        if value > MAX_AMOUNT_VALUE:
            raise AmountError("amount value exceeds 2^52")
        fraction = int((m.group(3) or "").ljust(8, "0"))
        return cls(m.group(1), value, fraction)

    def to_nbo(self) -> bytes:
        """TALER_AmountNBO: u64 value, u32 fraction, 12-byte zero-padded currency (24 bytes)."""
        return struct.pack(">QI", self.value, self.fraction) + self.currency.encode().ljust(12, b"\0")

    def __str__(self) -> str:
        frac = f"{self.fraction:08d}".rstrip("0")
        return f"{self.currency}:{self.value}" + (f".{frac}" if frac else "")


def parse_algorithm(algorithm: int | str) -> int:
    """0/1/2 or "NONE"/"TOTP_WITHOUT_PRICE"/"TOTP_WITH_PRICE", the names in any case (as the merchant
    backend compares them: ASCII ``strcasecmp``)."""
    if isinstance(algorithm, str):
        if algorithm.isascii() and algorithm.upper() in ALGORITHMS:
            return ALGORITHMS[algorithm.upper()]
        # ASCII digits only: str.isdigit() is also true for "²", which int() refuses
        if not (algorithm.isascii() and algorithm.isdigit() and len(algorithm) <= 20):
            raise KeyFormatError(f"unknown OTP algorithm {algorithm[:40]!r}: use 0, 1, 2 or a name")
        algorithm = int(algorithm)
    if not isinstance(algorithm, int) or isinstance(algorithm, bool) or algorithm not in (0, 1, 2):
        raise KeyFormatError(f"unknown OTP algorithm {algorithm!r}: use 0, 1 or 2")
    return int(algorithm)


def decode_key(key: str) -> bytes:
    """RFC 3548 base32 (not Crockford), decoded as the merchant backend decodes it.

    Case-insensitive; trailing '=' padding of any length; any length of key, the bits after the
    last whole byte dropped (so "GEZDGNBVG" is the 5 bytes of "GEZDGNBV", as Google Authenticator
    and Taler's decoder read it). A key without a whole byte, or with any character outside A-Z and
    2-7, is refused.
    """
    if not isinstance(key, str):
        raise KeyFormatError("OTP key must be a non-empty base32 string")
    upper = key.rstrip("=").upper()
    if not upper:
        raise KeyFormatError("OTP key must be a non-empty base32 string")
    if not re.fullmatch(r"[A-Z2-7]+", upper):
        raise KeyFormatError("OTP key is not RFC 3548 base32 (letters A-Z and digits 2-7)")
    whole_bytes = len(upper) * 5 // 8
    if not whole_bytes:
        raise KeyFormatError("OTP key is too short: one base32 character holds no whole byte")
    upper = upper[: -(-whole_bytes * 8 // 5)]  # the characters that hold those bytes: a valid base32 length
    return base64.b32decode(upper + "=" * (-len(upper) % 8))


def _gnunet_kdf(key: bytes, salt: bytes, length: int = 64) -> bytes:
    """GNUNET_CRYPTO_kdf: HKDF with HMAC-SHA512 extract and HMAC-SHA256 expand, empty context.

    Checked against Debian's libgnunetutil 0.19 (tests/otp/test_taler_gnunet.py). Like it, any length:
    past RFC 5869's 255 blocks the one-byte block counter wraps (GNUnet writes it with a byte store).
    """
    prk = hmac.new(salt, key, hashlib.sha512).digest()
    out, block, counter = b"", b"", 1
    while len(out) < length:
        block = hmac.new(prk, block + bytes([counter & 0xFF]), hashlib.sha256).digest()
        out += block
        counter += 1
    return out[:length]


def pos_confirmation(key: str, algorithm: int | str, time: int | float, price: str | None = None) -> str | None:
    """The confirmation string a Taler POS shows, or None where the algorithm gives no code.

    Five 8-digit codes, one per line, for the 30-second periods from two before ``time`` to two after it, each
    written as the merchant backend writes it (no leading zeros: ``5191635`` for ``05191635``).
    ``algorithm``: 0 / ``"NONE"``, 1 / ``"TOTP_WITHOUT_PRICE"`` or 2 / ``"TOTP_WITH_PRICE"`` (then ``price``,
    ``"CUR:1.50"``, is bound into the key; without a price there is no code). Synchronous.

    Raises:
        aioctap.otp.errors.KeyFormatError: a malformed key, algorithm, price or time.
    """
    algo = parse_algorithm(algorithm)
    if algo == 0:
        return None
    raw = decode_key(key)
    if algo == 2:
        if price is None:
            return None
        raw = _gnunet_kdf(raw, TalerAmount.parse(price).to_nbo())
    if isinstance(time, bool) or not isinstance(time, int | float) or not 0 <= time <= _MAX_TIME:
        raise KeyFormatError("time must be a non-negative number of seconds")  # NaN and inf too
    step = int(time) // 30
    # the backend moves the time by whole 30 s periods, clamped at the epoch (GNUnet's time
    # subtraction saturates at zero): near it, step 0 stands in for the steps before it
    return "\n".join(str(int(hotp(raw, max(c, 0), 8, "sha1"))) for c in range(step - 2, step + 3))  # %llu
