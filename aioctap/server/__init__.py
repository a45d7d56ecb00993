"""WebAuthn relying party: sans-IO verification, ceremonies, attestation, ASGI apps."""

from __future__ import annotations

from .errors import VerificationError

__all__ = ["VerificationError"]
