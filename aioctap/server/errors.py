"""Typed verification errors of the relying party: one class per failed check."""

from __future__ import annotations

__all__ = ["VerificationError"]


class VerificationError(Exception):
    """Base class: a WebAuthn registration or authentication response failed a check.

    The message says which check failed; subclasses name the check.
    """
