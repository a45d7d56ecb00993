"""The HTTP API's reference page, written from the relying-party app's own OpenAPI document.

``aioctap server`` serves the same document at ``/openapi.json``; this page lists each operation (summary,
request body, responses with their status codes) and each schema's members, so a new route or member appears in
the docs as soon as it is declared.
"""

from __future__ import annotations

from typing import Any

from aioctap.server.app import create_app
from aioctap.server.openapi import openapi_document


def _schema_name(schema: dict[str, Any]) -> str:
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return f":ref:`{name} <http-schema-{name}>`"
    for combinator, word in (("oneOf", " or "), ("anyOf", " or "), ("allOf", " and ")):
        if combinator in schema:
            return word.join(_schema_name(s) for s in schema[combinator])
    if schema.get("type") == "array":
        return f"array of {_schema_name(schema.get('items', {}))}"
    return f"``{schema.get('type', 'object')}``"


def _body(content: dict[str, Any] | None) -> str:
    if not content:
        return "no body"
    return "; ".join(f"{_schema_name(c.get('schema', {}))} (``{media}``)" for media, c in content.items())


def _text(value: str) -> str:
    return " ".join(value.replace("*", r"\*").replace("|", r"\|").split())


def render() -> str:
    document = openapi_document(create_app("memory://").routes)
    lines = [
        ".. This page is written by docs/http_page.py from aioctap.server.openapi.",
        "",
        "The HTTP API",
        "############",
        "",
        "What ``aioctap server`` (and :py:func:`aioctap.server.app.create_app` mounted in any ASGI application)",
        "serves, generated from the OpenAPI 3.1 document it publishes at ``/openapi.json``. Account routes need the",
        "signed-in session's cookie; the OTP-devices routes a bearer token (``AIOCTAP_ADMIN_TOKEN`` has every",
        "permission). See :doc:`../guides/relying-party` and :doc:`../guides/otp`.",
        "",
        "Operations",
        "==========",
        "",
    ]
    for path, item in document["paths"].items():
        for method, op in item.items():
            if not isinstance(op, dict) or "responses" not in op:
                continue
            title = f"``{method.upper()} {path}``"
            lines += [title, "-" * len(title), "", _text(op.get("summary", "")), ""]
            if op.get("description"):
                lines += [_text(op["description"]), ""]
            params = [p for p in op.get("parameters", []) if isinstance(p, dict)]
            for param in params:
                where = param.get("in", "")
                lines.append(f"* {where} parameter ``{param.get('name')}``: {_text(param.get('description', ''))}")
            if "requestBody" in op:
                lines.append(f"* request: {_body(op['requestBody'].get('content'))}")
            for status, response in op["responses"].items():
                answer = f"{_text(response.get('description', ''))} - {_body(response.get('content'))}"
                lines.append(f"* ``{status}``: {answer}")
            lines.append("")
    lines += ["Schemas", "=======", ""]
    for name, schema in document.get("components", {}).get("schemas", {}).items():
        lines += [f".. _http-schema-{name}:", "", name, "-" * len(name), ""]
        if schema.get("description"):
            lines += [_text(schema["description"]), ""]
        required = set(schema.get("required", []))
        for member, member_schema in schema.get("properties", {}).items():
            note = " (required)" if member in required else ""
            description = _text(member_schema.get("description", ""))
            described = f": {description}" if description else ""
            lines.append(f"* ``{member}``: {_schema_name(member_schema)}{note}{described}")
        lines.append("")
    return "\n".join(lines) + "\n"
