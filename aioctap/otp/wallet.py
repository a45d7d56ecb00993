"""AppWallet: application secrets that encrypt OTP keys at rest (passlib's AppWallet).

Two encrypted forms are read, and written as ``encrypt_format`` says:

* ``"aioctap"`` (the default): AES-256-GCM under a key derived from the secret of one tag with
  PBKDF2-HMAC-SHA256 (2**cost rounds, a random 12-byte salt per key); a wrong secret or a changed
  byte is detected. ``{"v": 1, "c": cost, "t": tag, "s": salt, "n": nonce, "k": ciphertext}``, base64.
* ``"passlib"``: passlib 1.7.4's ``AppWallet.encrypt_key``: PBKDF2-HMAC-SHA256 derives 48 bytes, the
  AES-256 key and a CTR IV; the key is encrypted with AES-256-CTR, without authentication (a wrong
  secret decrypts to a wrong key). ``{"v": 1, "c": cost, "t": tag, "s": salt, "k": ciphertext}``,
  base32 without padding. Written only when asked, so that passlib can read the data back.

``decrypt_key`` says whether the stored form should be re-encrypted (its tag is no longer the
default, its cost is lower, or it is in the other format).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import os
import re
import secrets as _secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal, NotRequired, TypedDict

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .base32 import b32encode as _b32
from .errors import KeyFormatError

__all__ = ["AppWallet", "EncryptFormat", "EncryptedKey", "generate_secret"]

_SECRET_CHARSET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def generate_secret(entropy: int = 256, charset: str = _SECRET_CHARSET) -> str:
    """A random application secret for an :class:`AppWallet`: ``entropy`` bits drawn from ``charset``."""
    alphabet = "".join(dict.fromkeys(charset))  # distinct characters, order kept
    if len(alphabet) < 2:
        raise ValueError("charset needs at least two distinct characters")
    if not isinstance(entropy, int) or entropy < 1:
        raise ValueError("entropy must be a positive number of bits")
    count = math.ceil(entropy / math.log2(len(alphabet)))
    return "".join(_secrets.choice(alphabet) for _ in range(count))


class EncryptedKey(TypedDict):
    """An OTP key encrypted at rest (the ``enckey`` member of a serialized OTP): version, PBKDF2 cost,
    secret tag, salt, ciphertext, and the AES-GCM nonce (absent in passlib's AES-CTR form)."""

    v: int
    c: int
    t: str
    s: str
    k: str
    n: NotRequired[str]


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _unb64(text: object, what: str) -> bytes:
    if not isinstance(text, str):
        raise KeyFormatError(f"encrypted key member {what!r} must be a string")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise KeyFormatError(f"encrypted key member {what!r} is not base64") from None


def _unb32(text: object, what: str) -> bytes:
    """passlib's b32decode: padding optional, the typos 8 and 0 read as B and O."""
    if not isinstance(text, str) or not text.isascii():
        raise KeyFormatError(f"encrypted key member {what!r} must be a base32 string")
    text = text.translate(_B32_TYPOS)
    try:
        return base64.b32decode(text + "=" * (-len(text) % 8), casefold=True)
    except (binascii.Error, ValueError):
        raise KeyFormatError(f"encrypted key member {what!r} is not base32") from None


_B32_TYPOS = str.maketrans({"8": "B", "0": "O"})

#: passlib's tag rule (passlib.totp._tag_re)
_TAG = re.compile(r"^[a-z0-9][a-z0-9_.-]*$", re.IGNORECASE | re.ASCII)

#: highest PBKDF2 cost (log2 of the rounds) read or written: 2**31 rounds already take many minutes
MAX_COST = 31

EncryptFormat = Literal["aioctap", "passlib"]


@lru_cache(maxsize=256)
def _derive(secret: bytes, salt: bytes, cost: int, length: int = 32) -> bytes:
    return hashlib.pbkdf2_hmac("sha256", secret, salt, 1 << cost, length)


def _aes_ctr(data: bytes, keyiv: bytes) -> bytes:
    """AES-256-CTR with the key and IV passlib derives (encryption and decryption are the same)."""
    cipher = Cipher(algorithms.AES(keyiv[:32]), modes.CTR(keyiv[32:])).encryptor()
    return cipher.update(data) + cipher.finalize()


def _parse_secrets(source: str) -> dict[str | int, str | bytes]:
    """passlib's text forms: a JSON object, or lines of ``tag: secret`` (``#`` comments, blank lines)."""
    text = source.strip()
    if text.startswith("{"):
        try:
            data = json.loads(text)
        except ValueError:
            raise KeyFormatError("secrets: not valid JSON") from None
        if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
            raise KeyFormatError("secrets: the JSON must map tags to strings")
        return dict(data)
    out: dict[str | int, str | bytes] = {}
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        tag, sep, secret = line.partition(":")
        if not sep or not tag.strip() or not secret.strip():
            raise KeyFormatError(f"secrets: line {number} is not 'tag: secret'")
        out[tag.strip()] = secret.strip()
    return out


def _default_tag(tags: list[str]) -> str:
    """passlib's choice: the numerically highest tag when all are digits, else the highest string."""
    if all(tag.isdigit() for tag in tags):
        return max(tags, key=int)
    return max(tags)


class AppWallet:
    """``AppWallet(secrets=None, default_tag=None, encrypt_cost=14, secrets_path=None, encrypt_format="aioctap")``
    (passlib's AppWallet; :class:`~aioctap.otp.context.OTPContext` adds factory methods).

    ``secrets`` maps tags to application secrets (strings of enough entropy, e.g. from
    :func:`~aioctap.otp.generate_secret`), or is that mapping as JSON or as ``tag: secret`` lines;
    ``secrets_path`` names a file holding the same text. New keys are encrypted with
    ``default_tag`` (passlib's rule when not given: the highest tag, numerically when all are
    digits). Without secrets the context cannot encrypt. Tags and secrets follow passlib's rules
    (a tag is ``[A-Za-z0-9][A-Za-z0-9_.-]*``, a secret is not empty). ``encrypt_format="passlib"``
    writes passlib 1.7.4's unauthenticated AES-CTR form instead of AES-GCM; both are always read.
    """

    salt_size = 12  # bytes of random PBKDF2 salt per encrypted key

    def __init__(
        self,
        secrets: dict[str | int, str | bytes] | dict[str, str] | dict[int, str] | str | None = None,
        default_tag: str | int | None = None,
        encrypt_cost: int | str | None = None,
        secrets_path: str | os.PathLike[str] | None = None,
        encrypt_format: EncryptFormat = "aioctap",
    ) -> None:
        if secrets is not None and secrets_path is not None:
            raise TypeError("give secrets or secrets_path, not both")
        if secrets_path is not None:
            try:
                secrets = Path(secrets_path).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as e:
                raise KeyFormatError(f"cannot read secrets_path: {type(e).__name__}") from None
        if isinstance(secrets, str):
            secrets = _parse_secrets(secrets)
        if isinstance(encrypt_cost, str):  # passlib takes the cost as text too (from a config file)
            if not (encrypt_cost.isascii() and encrypt_cost.isdigit() and len(encrypt_cost) <= 2):
                raise KeyFormatError(f"encrypt_cost must be a whole number 0..{MAX_COST}")
            encrypt_cost = int(encrypt_cost)
        encrypt_cost = 14 if encrypt_cost is None else encrypt_cost
        if not isinstance(secrets, dict | None):
            raise TypeError("secrets must be a mapping of tag to secret, or its text form")
        self._secrets: dict[str, bytes] = {}
        for tag, secret in (secrets or {}).items():
            if isinstance(tag, bool) or not isinstance(tag, str | int):
                raise KeyFormatError("secret tags must be strings")
            tag_s = str(tag)
            if not _TAG.match(tag_s):
                raise KeyFormatError("a secret tag is letters, digits, '_', '.' and '-', from a letter or digit")
            if isinstance(secret, str):
                data = secret.encode("utf-8")
            elif isinstance(secret, bytes):
                data = secret
            else:
                raise KeyFormatError(f"the secret for tag {tag_s!r} must be a string or bytes")
            if not data:  # passlib's only rule on a secret's length
                raise KeyFormatError(f"the secret for tag {tag_s!r} is empty")
            self._secrets[tag_s] = data
        if default_tag is not None and str(default_tag) not in self._secrets:
            raise KeyFormatError("default_tag names no secret")
        if default_tag is not None:
            self.default_tag: str | None = str(default_tag)
        else:
            self.default_tag = _default_tag(list(self._secrets)) if self._secrets else None
        if isinstance(encrypt_cost, bool) or not isinstance(encrypt_cost, int) or not 0 <= encrypt_cost <= MAX_COST:
            raise KeyFormatError(f"encrypt_cost must be a whole number 0..{MAX_COST}")
        self.encrypt_cost = encrypt_cost
        if encrypt_format not in ("aioctap", "passlib"):
            raise ValueError("encrypt_format must be 'aioctap' or 'passlib'")
        self.encrypt_format: EncryptFormat = encrypt_format

    def __repr__(self) -> str:
        fmt = "" if self.encrypt_format == "aioctap" else f", encrypt_format={self.encrypt_format!r}"
        return f"{type(self).__name__}(tags={sorted(self._secrets)}, default_tag={self.default_tag!r}{fmt})"

    @property
    def can_encrypt(self) -> bool:
        """True when a default application secret is set, so new keys are stored encrypted."""
        return self.default_tag is not None

    @property
    def has_secrets(self) -> bool:
        """True when any application secret is configured (encrypted keys can be read)."""
        return bool(self._secrets)

    def get_secret(self, tag: str | int) -> bytes:
        """The application secret of ``tag``; :class:`KeyFormatError` when there is none."""
        try:
            return self._secrets[str(tag)]
        except KeyError:
            raise KeyFormatError(f"no application secret for tag {str(tag)!r}") from None

    def encrypt_key(self, key: bytes) -> EncryptedKey:
        """The encrypted form of ``key`` (a JSON-able dict)."""
        if self.default_tag is None:
            raise KeyFormatError("this OTPContext has no secret to encrypt with")
        if not key:
            raise KeyFormatError("no key to encrypt")
        if self.encrypt_format == "passlib":
            salt = os.urandom(self.salt_size)
            ciphertext = _aes_ctr(key, _derive(self._secrets[self.default_tag], salt, self.encrypt_cost, 48))
            return {"v": 1, "c": self.encrypt_cost, "t": self.default_tag, "s": _b32(salt), "k": _b32(ciphertext)}
        salt, nonce = os.urandom(self.salt_size), os.urandom(12)
        kek = _derive(self._secrets[self.default_tag], salt, self.encrypt_cost)
        ct = AESGCM(kek).encrypt(nonce, key, self.default_tag.encode())
        return {"v": 1, "c": self.encrypt_cost, "t": self.default_tag, "s": _b64(salt), "n": _b64(nonce), "k": _b64(ct)}

    def decrypt_key(self, enckey: object) -> tuple[bytes, bool]:
        """(key, needs_recrypt) from an encrypted form; :class:`KeyFormatError` if it cannot be decrypted."""
        if not isinstance(enckey, dict) or enckey.get("v") != 1:
            raise KeyFormatError("not an encrypted OTP key")
        tag, cost = enckey.get("t"), enckey.get("c")
        if not isinstance(tag, str) or not _TAG.match(tag):
            raise KeyFormatError("encrypted key has a bad tag")
        if isinstance(cost, bool) or not isinstance(cost, int) or not 0 <= cost <= MAX_COST:
            raise KeyFormatError("encrypted key has a bad cost")
        secret = self._secrets.get(tag)
        if secret is None:
            raise KeyFormatError(f"no application secret for tag {tag!r}")
        stale = tag != self.default_tag or cost < self.encrypt_cost  # or written in the other format
        if "n" not in enckey:  # passlib 1.7.4's form: no nonce, base32, AES-CTR
            ciphertext, salt = _unb32(enckey.get("k"), "k"), _unb32(enckey.get("s"), "s")
            key = _aes_ctr(ciphertext, _derive(secret, salt, cost, 48))
            if not key:
                raise KeyFormatError("encrypted key is empty")
            return key, stale or self.encrypt_format != "passlib"
        kek = _derive(secret, _unb64(enckey.get("s"), "s"), cost)
        try:
            key = AESGCM(kek).decrypt(_unb64(enckey.get("n"), "n"), _unb64(enckey.get("k"), "k"), tag.encode())
        except (InvalidTag, ValueError):
            raise KeyFormatError("encrypted key does not decrypt: wrong secret or corrupted data") from None
        return key, stale or self.encrypt_format != "aioctap"
