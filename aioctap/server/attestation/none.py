"""§8.7 None attestation statement format."""

from __future__ import annotations

from ..errors import MalformedAttestationError
from ._common import AttestationContext, AttestationType, FormatResult

__all__ = ["verify_none"]


def verify_none(ctx: AttestationContext) -> FormatResult:
    """attStmt must be empty; nothing is attested."""
    if ctx.att_stmt:
        raise MalformedAttestationError("'none' attestation must have an empty attStmt")
    return FormatResult(AttestationType.NONE)
