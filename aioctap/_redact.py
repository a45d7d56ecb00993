"""Reprs that hide secrets: the members of extension inputs and outputs that carry one show their size only.

The project's rule is that no secret reaches a log, a repr or an exception message. hmac-secret's salts and outputs,
PRF values, large blobs and their key, and credBlob are secrets (or derived from one) and travel in maps whose other
members are harmless, so a repr keeps the map and hides those values.
"""

from __future__ import annotations

# JSON names of the members whose values are secret
SECRET_MEMBERS = frozenset(
    {"salt1", "salt2", "output1", "output2", "first", "second", "blob", "write", "credBlob", "getCredBlob"}
    | {"largeBlobKey"}
)


class Hidden:
    """Stands for a secret value in a repr: its size only."""

    __slots__ = ("_text",)

    def __init__(self, value: object) -> None:
        if isinstance(value, bytes):
            self._text = f"<hidden: {len(value)} bytes>"
        elif isinstance(value, str):
            self._text = f"<hidden: {len(value)} chars>"
        else:
            self._text = "<hidden>"

    def __repr__(self) -> str:
        return self._text


def hide(name: str, value: object) -> object:
    """``value`` as a repr may show it, for the member ``name``: hidden if a secret (a byte or text string of a
    secret member: makeCredential's ``credBlob: True`` stays), else with its secrets hidden."""
    return Hidden(value) if name in SECRET_MEMBERS and isinstance(value, bytes | str) else redact(value)


def redact(value: object) -> object:
    """A copy of plain dicts and lists with the secret members' values hidden; other objects as they are."""
    if isinstance(value, dict):
        return {k: hide(k, v) if isinstance(k, str) else redact(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    return value
