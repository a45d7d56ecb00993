"""Declared HTTP bodies and operations: one pydantic declaration per body validates requests, shapes answers
and generates the OpenAPI 3.1 document, so ``/openapi.json`` is exactly what a server accepts and answers.

Why pydantic (v2) rather than msgspec: the relying party's bodies need untagged unions (a
``/fido2/attestation/options`` body is a creation or a get request, told apart by which members it has; a
credential's ``response`` is an attestation or an assertion), which pydantic validates with a callable
discriminator or a smart union while msgspec refuses unions of two object types without a tag field; pydantic's
strict mode accepts exactly the JSON types its JSON Schema names (no ``"1"`` for an integer, no ``true`` for a
number); and its generator writes JSON Schema 2020-12, the dialect of OpenAPI 3.1, with references under
``#/components/schemas``. Validation runs in pydantic-core (Rust): a few microseconds per body.

Conventions of every declared body (:class:`Body`):

* strict types; members the declaration does not name are ignored (the schema allows them);
* ``null`` for an optional member means absent (the schema says ``anyOf [..., null]``);
* a string limit is a ``pattern`` / ``minLength`` / ``maxLength`` in the declaration, never a check in a handler;
  what JSON Schema cannot say (a JSON text that holds a lone surrogate or a number out of double range) is refused
  by the body readers before validation.

Handlers turn a :class:`pydantic.ValidationError` into their API's error shape with :func:`problem`.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeVar, overload

from pydantic import BaseModel, BeforeValidator, ConfigDict, TypeAdapter, ValidationError
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaMode
from pydantic_core import ErrorDetails

from ._json import JSONValue

__all__ = [
    "INTEGRAL",
    "REF_TEMPLATE",
    "Body",
    "Declared",
    "Operation",
    "Parameter",
    "Problem",
    "Reply",
    "is_valid",
    "openapi_paths",
    "pattern_meaning",
    "problem",
    "validate",
]

REF_TEMPLATE = "#/components/schemas/{model}"
_BRANCH = re.compile(r"^(?:@|[A-Z][A-Za-z0-9_]*$|function-|constrained-|[a-z-]+\[|(?:int|str|float|bool|none)$)")
M = TypeVar("M")

# what a pattern means, for error messages a person can act on ("must be base64url", not the regex itself)
_MEANINGS: dict[str, str] = {}


def pattern_meaning(pattern: str, meaning: str) -> str:
    """Register what ``pattern`` means in words (used in error messages); returns ``pattern``."""
    _MEANINGS[pattern] = meaning
    return pattern


class Body(BaseModel):
    """A declared JSON body: strict JSON types, unknown members ignored, values frozen."""

    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)


def _integral(value: object) -> object:
    # JSON has one number type: 2.0 is the integer 2 (JSON Schema's "integer" says so too)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


INTEGRAL = BeforeValidator(_integral)
"""Annotate an ``int`` with this (after its limits) to accept JSON integers as JSON Schema's ``integer`` does:
a number with no fractional part (``2.0``) too: ``Annotated[int, Field(ge=0), INTEGRAL]``."""

# a declared type: a Body subclass, any type pydantic validates (Annotated[str, Field(...)]), or a TypeAdapter
Declared = object


@dataclass(frozen=True)
class Problem:
    """The first thing wrong with a body: where (``a.b.c``), whether it was missing, and what is wrong."""

    where: str
    missing: bool
    message: str


def problem(error: ValidationError, subject: str = "the request body") -> Problem:
    """The first error of ``error`` in words: ``'where' must be ...`` (a union's branches that failed at the
    same place joined with "or"); ``subject`` names the value itself (a body, a parameter)."""
    errors = [_words(e) for e in error.errors(include_url=False)]
    where, missing, _ = errors[0]
    what = f"'{where}'" if where else subject
    if missing:
        return Problem(where, True, f"{what} is required")
    texts = dict.fromkeys(text for at, absent, text in errors if at == where and not absent)  # first's text first
    return Problem(where, False, f"{what} {' or '.join(texts)}")


def _words(e: ErrorDetails) -> tuple[str, bool, str]:
    # a union's branches appear in the location as their class name or tag ("@name"): not part of the body
    where = ".".join(str(p) for p in e["loc"] if not (isinstance(p, str) and _BRANCH.match(p)))
    kind = e["type"]
    ctx = e.get("ctx") or {}
    if kind == "missing" or (e.get("input", "") is None and where):  # null for a required member: absent
        return where, True, "is required"
    if kind in _TEXTS:
        text = _TEXTS[kind]
    elif kind in _BOUNDS:
        text = f"must be {_BOUNDS[kind]} {next(iter(ctx.values()), '')}"
    elif kind in ("literal_error", "enum"):
        text = f"must be one of {ctx.get('expected', '')}".replace("'", "")
    elif kind == "string_too_long":
        text = f"must be at most {ctx.get('max_length')} characters"
    elif kind == "string_too_short":
        least = ctx.get("min_length")
        text = "must not be empty" if least == 1 else f"must be at least {least} characters"
    elif kind == "string_pattern_mismatch":
        text = _MEANINGS.get(str(ctx.get("pattern")), f"must match {ctx.get('pattern')}")
    else:
        text = str(e["msg"])
    return where, False, text


# pydantic error types -> what is wrong, in words (those whose words need no context)
_TEXTS: dict[str, str] = {
    "string_unicode": "must not contain a lone surrogate",
    **dict.fromkeys(("string_type", "str_type"), "must be a string"),
    "bool_type": "must be a boolean",
    **dict.fromkeys(("int_type", "int_parsing", "int_from_float"), "must be an integer"),
    **dict.fromkeys(("float_type", "float_parsing", "finite_number"), "must be a number"),
    **dict.fromkeys(("model_type", "model_attributes_type", "dict_type"), "must be an object"),
    "list_type": "must be an array",
    **dict.fromkeys(("union_tag_not_found", "union_tag_invalid"), "has the wrong shape"),
}
# a number's limit errors -> the words before the limit
_BOUNDS = {"greater_than": "more than", "greater_than_equal": "at least", "less_than": "less than",
           "less_than_equal": "at most"}  # fmt: skip


_ADAPTERS: dict[int, TypeAdapter[object]] = {}


def adapter(declared: Declared) -> TypeAdapter[object]:
    """The (cached) TypeAdapter of a declared type."""
    if isinstance(declared, TypeAdapter):
        return declared
    found = _ADAPTERS.get(id(declared))
    if found is None:
        found = _ADAPTERS[id(declared)] = TypeAdapter(declared)
    return found


@overload
def validate(declared: TypeAdapter[M], data: object) -> M: ...
@overload
def validate(declared: type[M], data: object) -> M: ...
def validate(declared: TypeAdapter[M] | type[M], data: object) -> M:
    """``data`` (decoded JSON) as the declared type; :class:`pydantic.ValidationError` when it is not one."""
    if isinstance(declared, type) and issubclass(declared, BaseModel):
        return declared.model_validate(data)
    return adapter(declared).validate_python(data, strict=True)  # type: ignore[return-value]


@dataclass(frozen=True)
class Reply:
    """One declared answer of an operation: its description and body (``None``: no body)."""

    description: str
    body: Declared = None
    media_type: str = "application/json"


@dataclass(frozen=True)
class Parameter:
    """A path or query parameter, declared by its type (patterns and limits included)."""

    name: str
    declared: Declared
    where: Literal["path", "query"] = "path"
    required: bool = True
    description: str = ""


@dataclass(frozen=True)
class Operation:
    """One operation: what it is, the request body it accepts and the answers it gives."""

    method: str
    path: str  # OpenAPI form: /x/{name}
    summary: str
    replies: Mapping[int | str, Reply]
    request: Declared = None
    parameters: Sequence[Parameter] = ()
    tags: Sequence[str] = ()
    security: Sequence[Mapping[str, Sequence[str]]] = ()
    description: str = ""


def openapi_paths(operations: Sequence[Operation]) -> tuple[dict[str, JSONValue], dict[str, JSONValue]]:
    """The OpenAPI ``paths`` of ``operations`` and the ``components/schemas`` they reference."""
    inputs: dict[tuple[int, JsonSchemaMode], Any] = {}

    def want(declared: Declared, mode: JsonSchemaMode) -> None:
        inputs.setdefault((id(declared), mode), adapter(declared).core_schema)

    for op in operations:
        if op.request is not None:
            want(op.request, "validation")
        for reply in op.replies.values():
            if reply.body is not None:
                want(reply.body, "serialization")
        for param in op.parameters:
            want(param.declared, "validation")
    generator = GenerateJsonSchema(ref_template=REF_TEMPLATE)
    mapping, defs = generator.generate_definitions([(k, m, core) for (k, m), core in inputs.items()])
    schemas: dict[str, Any] = {str(name): value for name, value in defs.items()}

    def schema(declared: Declared, mode: JsonSchemaMode) -> dict[str, Any]:
        return copy.deepcopy(dict(mapping[(id(declared), mode)]))

    paths: dict[str, Any] = {}
    for op in operations:
        optional = {"description": op.description, "tags": list(op.tags), "security": [dict(s) for s in op.security]}
        item: dict[str, Any] = {"summary": op.summary, **{k: v for k, v in optional.items() if v}}  # none empty
        if op.parameters:
            item["parameters"] = []
            for p in op.parameters:
                described: dict[str, Any] = {"name": p.name, "in": p.where, "required": p.required,
                                             "schema": schema(p.declared, "validation")}  # fmt: skip
                if p.description:
                    described["description"] = p.description
                item["parameters"].append(described)
        if op.request is not None:
            item["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": schema(op.request, "validation")}},
            }
        responses: dict[str, Any] = {}
        for status, reply in op.replies.items():
            answer: dict[str, Any] = {"description": reply.description}
            if reply.body is not None:
                answer["content"] = {reply.media_type: {"schema": schema(reply.body, "serialization")}}
            elif reply.media_type != "application/json":
                answer["content"] = {reply.media_type: {}}
            responses[str(status)] = answer
        item["responses"] = responses
        paths.setdefault(op.path, {})[op.method.lower()] = item
    return paths, schemas


def is_valid(declared: Declared, data: object) -> bool:
    """Whether ``data`` validates as the declared type."""
    try:
        adapter(declared).validate_python(data, strict=True)
    except ValidationError:
        return False
    return True
