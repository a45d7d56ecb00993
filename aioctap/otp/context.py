"""OTPContext: application secrets that encrypt OTP keys at rest (passlib's AppWallet/OTPContext).

A key is encrypted with AES-256-GCM under a key derived from the secret of one tag with
PBKDF2-HMAC-SHA256 (2**cost rounds, a random salt per key). ``decrypt_key`` says whether the
stored form should be re-encrypted (its tag is no longer the default, or its cost is lower).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .errors import KeyFormatError

__all__ = ["OTPContext"]


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _unb64(text: Any, what: str) -> bytes:
    if not isinstance(text, str):
        raise KeyFormatError(f"encrypted key member {what!r} must be a string")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise KeyFormatError(f"encrypted key member {what!r} is not base64") from None


@lru_cache(maxsize=256)
def _derive(secret: bytes, salt: bytes, cost: int) -> bytes:
    return hashlib.pbkdf2_hmac("sha256", secret, salt, 1 << cost, 32)


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


class OTPContext:
    """``OTPContext(secrets=None, default_tag=None, encrypt_cost=14, secrets_path=None)`` (passlib's AppWallet).

    ``secrets`` maps tags to application secrets (strings of enough entropy, e.g. from
    :func:`~aioctap.otp.generate_secret`), or is that mapping as JSON or as ``tag: secret`` lines;
    ``secrets_path`` names a file holding the same text. New keys are encrypted with
    ``default_tag`` (the highest tag when not given). Without secrets the context cannot encrypt.
    """

    salt_size = 12  # bytes of random PBKDF2 salt per encrypted key

    def __init__(
        self,
        secrets: dict[str | int, str | bytes] | str | None = None,
        default_tag: str | int | None = None,
        encrypt_cost: int | None = None,
        secrets_path: str | os.PathLike[str] | None = None,
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
        encrypt_cost = 14 if encrypt_cost is None else encrypt_cost
        self._secrets: dict[str, bytes] = {}
        for tag, secret in (secrets or {}).items():
            tag_s = str(tag)
            if not tag_s.replace("_", "").replace("-", "").isalnum():
                raise KeyFormatError("secret tags must be alphanumeric")
            data = secret.encode() if isinstance(secret, str) else bytes(secret)
            if len(data) < 16:
                raise KeyFormatError(f"the secret for tag {tag_s!r} is too short (at least 16 bytes)")
            self._secrets[tag_s] = data
        if default_tag is not None and str(default_tag) not in self._secrets:
            raise KeyFormatError("default_tag names no secret")
        self.default_tag = (
            str(default_tag)
            if default_tag is not None
            else (max(self._secrets, key=lambda t: (len(t), t)) if self._secrets else None)
        )
        if not 8 <= encrypt_cost <= 24:
            raise KeyFormatError("encrypt_cost must be 8..24")
        self.encrypt_cost = encrypt_cost

    def __repr__(self) -> str:
        return f"OTPContext(tags={sorted(self._secrets)}, default_tag={self.default_tag!r})"

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

    def encrypt_key(self, key: bytes) -> dict[str, Any]:
        """The encrypted form of ``key`` (a JSON-able dict)."""
        if self.default_tag is None:
            raise KeyFormatError("this OTPContext has no secret to encrypt with")
        salt, nonce = os.urandom(self.salt_size), os.urandom(12)
        kek = _derive(self._secrets[self.default_tag], salt, self.encrypt_cost)
        ct = AESGCM(kek).encrypt(nonce, key, self.default_tag.encode())
        return {"v": 1, "c": self.encrypt_cost, "t": self.default_tag, "s": _b64(salt), "n": _b64(nonce), "k": _b64(ct)}

    def decrypt_key(self, enckey: Any) -> tuple[bytes, bool]:
        """(key, needs_recrypt) from an encrypted form; :class:`KeyFormatError` if it cannot be decrypted."""
        if not isinstance(enckey, dict) or enckey.get("v") != 1:
            raise KeyFormatError("not an encrypted OTP key")
        tag, cost = enckey.get("t"), enckey.get("c")
        if not isinstance(tag, str) or not isinstance(cost, int) or not 8 <= cost <= 24:
            raise KeyFormatError("encrypted key has a bad tag or cost")
        secret = self._secrets.get(tag)
        if secret is None:
            raise KeyFormatError(f"no application secret for tag {tag!r}")
        kek = _derive(secret, _unb64(enckey.get("s"), "s"), cost)
        try:
            key = AESGCM(kek).decrypt(_unb64(enckey.get("n"), "n"), _unb64(enckey.get("k"), "k"), tag.encode())
        except (InvalidTag, ValueError):
            raise KeyFormatError("encrypted key does not decrypt: wrong secret or corrupted data") from None
        return key, tag != self.default_tag or cost < self.encrypt_cost

    def _factory(self) -> Any:
        from .core import TOTP

        return TOTP.using(context=self)

    def new(self, **kwds: Any) -> Any:
        """A new random TOTP bound to this context (``kwds`` as for :class:`~aioctap.otp.TOTP`)."""
        return self._factory().new(**kwds)

    def from_uri(self, uri: str) -> Any:
        """An otpauth URI's OTP, bound to this context (its ``to_json()`` encrypts)."""
        return self._factory().from_uri(uri)

    def from_json(self, source: str | bytes) -> Any:
        """Load a serialized OTP, decrypting its key with this context."""
        return self._factory().from_json(source, self)

    def to_json(self, otp: Any) -> str:
        """Serialize ``otp`` with its key encrypted by this context."""
        return str(otp.to_json(context=self))
