"""``--json``: what a command prints for scripts, one JSON document on standard output (shapes in README)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from enum import Enum
from typing import Annotated

import typer

from .._json import JSONValue
from ..webauthn import Aaguid, websafe_encode

__all__ = ["JsonOpt", "echo_json", "jsonable"]

JsonOpt = Annotated[bool, typer.Option("--json", help="print one JSON document for scripts (shapes in README)")]


def jsonable(value: object) -> JSONValue:
    """``value`` as JSON: bytes as base64url, AAGUIDs and UUIDs as text, enumerations by name, map keys as text."""
    if value is None or isinstance(value, bool | int | float | str):
        if isinstance(value, Enum):
            return value.name
        return value
    if isinstance(value, Aaguid | uuid.UUID):
        return str(value)
    if isinstance(value, bytes):
        return websafe_encode(value)
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    return str(value)


def echo_json(value: object) -> None:
    """Print ``value`` as one indented JSON document."""
    typer.echo(json.dumps(jsonable(value), indent=2, ensure_ascii=False))
