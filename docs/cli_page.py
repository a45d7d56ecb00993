"""The ``aioctap`` command line's reference page, written from the typer application's click command tree.

Every command and group gets a section with its usage line, help text, arguments and options (flags, default,
environment variable), so a new option appears in the docs without anyone writing it down.
"""

from __future__ import annotations

import enum
import textwrap
import typing
from typing import Any

import typer

from aioctap.cli import app


def _heading(text: str, char: str) -> list[str]:
    return [text, char * len(text), ""]


def _is_option(param: Any) -> bool:
    # typer vendors click (typer._click), so duck typing rather than isinstance(click.Option)
    return bool(param.param_type_name == "option")


def _annotation(param: Any) -> Any:
    descriptor = getattr(param, "type_descriptor", None)
    if descriptor is not None:
        return descriptor.annotation
    return getattr(param, "type", None)


def _type_name(param: Any) -> str:
    annotation = _annotation(param)
    if typing.get_origin(annotation) in (list, tuple):
        annotation = typing.get_args(annotation)[0]
    name = getattr(annotation, "__name__", None) or getattr(annotation, "name", None) or "VALUE"
    return {"str": "TEXT", "int": "INTEGER", "float": "FLOAT", "Path": "PATH"}.get(name, str(name).upper())


def _choices(param: Any) -> list[str]:
    annotation = _annotation(param)
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return [str(member.value) for member in annotation]
    if typing.get_origin(annotation) is typing.Literal:
        return [str(value) for value in typing.get_args(annotation)]
    return list(getattr(getattr(param, "type", None), "choices", None) or [])


def _param(param: Any) -> list[str]:
    if _is_option(param):
        names = ", ".join(f"``{opt}``" for opt in [*param.opts, *param.secondary_opts])
        if not param.is_flag:
            names += f" *{param.metavar or _type_name(param)}*"
        text = param.help or ""
    else:
        names = f"``{(param.name or '').upper()}``"
        text = getattr(param, "help", None) or ""
    extra = []
    if param.required:
        extra.append("required")
    default = param.default
    shown = not param.required and default not in (None, (), False) and not callable(default)
    if shown and "[default:" not in text:
        extra.append(f"default ``{default}``")
    if _is_option(param) and param.envvar:
        envvars = [param.envvar] if isinstance(param.envvar, str) else list(param.envvar)
        extra.append("environment " + ", ".join(f"``{e}``" for e in envvars))
    choices = _choices(param)
    if choices:
        extra.append("one of " + ", ".join(f"``{c}``" for c in choices))
    text = text.replace("*", r"\*").replace("`", r"\`").replace("|", r"\|")
    suffix = f"({'; '.join(extra)})" if extra else ""
    return [f"* {names}: {' '.join(part for part in (text, suffix) if part)}".rstrip(": ")]


def _command(path: list[str], command: Any, lines: list[str], depth: int) -> None:
    name = " ".join(path)
    lines += [f".. _cli-{'-'.join(path)}:", ""]
    lines += _heading(f"``{name}``", "=-~^"[min(depth, 3)])
    arguments = [p for p in command.params if not _is_option(p)]
    pieces = ["[OPTIONS]"]
    for argument in arguments:
        metavar = (argument.name or "").upper() + ("..." if argument.nargs != 1 else "")
        pieces.append(metavar if argument.required else f"[{metavar}]")
    if hasattr(command, "commands"):
        pieces.append("COMMAND [ARGS]...")
    usage = " ".join(pieces)
    lines += ["::", "", f"   {name} {usage}".rstrip(), ""]
    help_text = inspect_help(command)
    if help_text:
        lines += [help_text, ""]
    params = [p for p in command.params if not (_is_option(p) and p.hidden)]
    params = [p for p in params if p.name not in {"help", "install_completion", "show_completion"}]
    if params:
        for param in params:
            lines += _param(param)
        lines.append("")
    if hasattr(command, "commands"):
        for sub_name, sub in command.commands.items():
            if not sub.hidden:
                _command([*path, sub_name], sub, lines, depth + 1)


def inspect_help(command: Any) -> str:
    """The command's help as reStructuredText paragraphs (typer's markup is plain text here)."""
    text = textwrap.dedent(command.help or "").strip()
    text = text.replace("\b\n", "")
    escaped = text.replace("\\", "\\\\").replace("*", r"\*").replace("|", r"\|")
    return escaped.replace("_ ", r"\_ ")


def render() -> str:
    root: Any = typer.main.get_command(app)
    lines = [
        ".. This page is written by docs/cli_page.py from aioctap.cli's typer application.",
        "",
        *_heading("The ``aioctap`` command line", "#"),
        "Generated from the typer application at every build: each command with its usage, help, arguments and",
        "options. ``aioctap COMMAND --help`` prints the same in a terminal.",
        "",
    ]
    root.help = app.info.help
    for sub_name, sub in root.commands.items():
        if not sub.hidden:
            _command(["aioctap", sub_name], sub, lines, 0)
    return "\n".join(lines) + "\n"
