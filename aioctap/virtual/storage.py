"""The state file of the software authenticator: encrypted at rest, written atomically.

The state file is the whole state as CBOR, encrypted with AES-256-GCM under a wrapping key taken
from the environment variable ``AIOCTAP_VIRTUAL_KEY`` (64 hex digits) or from a key file beside the
state (``STATE.key``, created with mode 0600). It is written atomically: a temporary file in the
same directory, fsync, rename, fsync of the directory; a crash mid-write leaves the old file.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .common import StateError
from .state import AuthenticatorState

__all__ = ["load_state", "save_state"]

STATE_MAGIC = b"AIOCTAP-VA1"


def _wrapping_key(path: Path) -> bytes:
    env = os.environ.get("AIOCTAP_VIRTUAL_KEY")
    if env:
        try:
            key = bytes.fromhex(env)
        except ValueError:
            key = b""
        if len(key) != 32:
            raise StateError("AIOCTAP_VIRTUAL_KEY must be 64 hexadecimal digits (a 256-bit key)")
        return key
    key_path = path.with_name(path.name + ".key")
    if key_path.exists():
        key = key_path.read_bytes()
        if len(key) != 32:
            raise StateError(f"key file {key_path} must hold exactly 32 bytes")
        return key
    key = os.urandom(32)
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(key)
        f.flush()
        os.fsync(f.fileno())
    return key


def load_state(path: str | os.PathLike[str]) -> AuthenticatorState:
    """Load the state from ``path``, or create (and save) a new one if the file does not exist."""
    p = Path(path)
    if not p.exists():
        state = AuthenticatorState.new()
        save_state(state, p)
        return state
    blob = p.read_bytes()
    if not blob.startswith(STATE_MAGIC) or len(blob) < len(STATE_MAGIC) + 12 + 16:
        raise StateError(f"{p} is not an aioctap authenticator state file")
    nonce = blob[len(STATE_MAGIC) : len(STATE_MAGIC) + 12]
    wrapping_key = _wrapping_key(p)
    try:
        plain = AESGCM(wrapping_key).decrypt(nonce, blob[len(STATE_MAGIC) + 12 :], STATE_MAGIC)
    except Exception:
        raise StateError(f"cannot decrypt {p}: wrong wrapping key or corrupted file") from None
    state = AuthenticatorState.from_bytes(plain)
    if state.add_enterprise_attestation():  # a state from before enterprise attestation: complete it, atomically
        save_state(state, p)
    return state


def save_state(state: AuthenticatorState, path: str | os.PathLike[str], data: bytes | None = None) -> None:
    """Encrypt and write atomically (temporary file, fsync, rename, fsync the directory).

    ``data``: ``state.to_bytes()`` when the caller has it already (it is not encoded twice then).
    """
    p = Path(path)
    if data is None:
        data = state.to_bytes()
    nonce = os.urandom(12)
    blob = STATE_MAGIC + nonce + AESGCM(_wrapping_key(p)).encrypt(nonce, data, STATE_MAGIC)
    fd, tmp = tempfile.mkstemp(prefix=p.name + ".", suffix=".tmp", dir=p.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(blob)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(p.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
