"""Sphinx configuration: the API reference is generated from the package at every build.

``docs/api/`` is written by :func:`_write_api_pages` when the build starts: one page per public module
(a module is public when no part of its dotted name starts with ``_``), and ``cli.rst`` from the typer
application's click command tree. Nothing in it is edited by hand, so a renamed function changes the page,
and a guide's reference to the old name fails the build (``-W`` and ``nitpicky`` for ``:py:`` roles).
"""

from __future__ import annotations

import importlib
import inspect
import os
import pkgutil
import sys
import textwrap
import typing
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # the checkout being documented, before any installed copy
sys.path.insert(0, str(HERE))

import aioctap  # noqa: E402

project = "aioctap"
author = "the aioctap authors"
release = aioctap.__version__
copyright = "the aioctap authors"

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.viewcode",
    "myst_parser",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", ".gitignore"]
myst_heading_anchors = 3
html_theme = "alabaster"
html_theme_options = {"description": "asyncio-native FIDO2 for Python", "page_width": "1100px"}

autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_preserve_defaults = True
autodoc_default_options = {"members": True, "undoc-members": True, "show-inheritance": True}
autoclass_content = "both"
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_use_rtype = False

# Modules that run code on import.
_SKIP = {"aioctap.__main__"}


def public_modules() -> list[str]:
    """Every public module of the package, ``aioctap`` first."""
    names = ["aioctap"]
    for info in pkgutil.walk_packages(aioctap.__path__, "aioctap."):
        if info.name not in _SKIP and not any(part.startswith("_") for part in info.name.split(".")):
            names.append(info.name)
    return sorted(names)


def _is_public_module(name: str) -> bool:
    return not any(part.startswith("_") for part in name.split("."))


def public_names(module: Any) -> list[str]:
    """``__all__``, else the names the module defines itself (test_docstrings.py's rule)."""
    exported = getattr(module, "__all__", None)
    if exported is not None:
        return [name for name in exported if not name.startswith("__")]
    return [
        name
        for name, value in vars(module).items()
        if not name.startswith("_") and getattr(value, "__module__", None) == module.__name__
    ]


def home_of(module_name: str, name: str) -> str:
    """The module whose page documents ``module_name.name``.

    That is the module defining it when that module is public; for a name defined in a private module
    (``aioctap.server.attestation._common``), the public package above it when that package exports it too.
    """
    obj = getattr(importlib.import_module(module_name), name)
    defined = getattr(obj, "__module__", None) if inspect.isclass(obj) or inspect.isroutine(obj) else None
    if not defined or not defined.startswith("aioctap"):
        return module_name
    parts = defined.split(".")
    public = ".".join(parts[: next((i for i, p in enumerate(parts) if p.startswith("_")), len(parts))])
    if public != module_name and public in public_modules():
        home = importlib.import_module(public)
        if getattr(home, name, None) is obj and name in public_names(home):
            return public
    return module_name


def _directive(obj: Any) -> str:
    if inspect.isclass(obj):
        return "autoexception" if issubclass(obj, BaseException) else "autoclass"
    if inspect.isroutine(obj):
        return "autofunction"
    return "autodata"


def _module_page(module_name: str) -> str:
    module = importlib.import_module(module_name)
    title = f"``{module_name}``"
    lines = [title, "=" * len(title), "", f".. automodule:: {module_name}", "   :no-members:", ""]
    here: list[str] = []
    elsewhere: list[tuple[str, str]] = []
    for name in public_names(module):
        home = home_of(module_name, name)
        if home == module_name:
            here.append(name)
        else:
            elsewhere.append((name, home))
    if elsewhere:
        lines += ["Re-exported here, documented where they are defined:", ""]
        lines += [f"* :py:obj:`{name} <{home}.{name}>` (:py:mod:`{home}`)" for name, home in elsewhere]
        lines.append("")
    if here:
        lines += [f".. currentmodule:: {module_name}", ""]
    for name in here:
        obj = getattr(module, name)
        if typing.get_origin(obj) is not None:
            # a type alias (pydantic's Annotated field types): autodoc's "alias of ..." would be parsed as
            # reStructuredText, and the regular expressions in it are not; show it verbatim instead
            text = textwrap.indent("\n".join(textwrap.wrap(repr(obj), 110)), "      ")
            lines += [f".. py:data:: {name}", "", "   A type alias::", "", text, ""]
            continue
        lines.append(f".. {_directive(obj)}:: {name}")
        if _directive(obj) == "autodata" and not isinstance(obj, int | str):
            lines.append("   :no-value:")  # a mapping or an object: its repr is no documentation
        lines.append("")
    depth = module_name.count(".") + 1
    submodules = [m for m in public_modules() if m.startswith(module_name + ".") and m.count(".") == depth]
    if submodules:
        lines += ["Submodules:", "", ".. toctree::", "   :maxdepth: 1", ""]
        lines += [f"   {m}" for m in submodules]
        lines.append("")
    return "\n".join(lines)


def _write_if_changed(path: Path, text: str) -> None:
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


def _write_api_pages(app: Any) -> None:
    api = HERE / "api"
    api.mkdir(exist_ok=True)
    modules = public_modules()
    for module_name in modules:
        _write_if_changed(api / f"{module_name}.rst", _module_page(module_name))
    import cli_page

    _write_if_changed(api / "cli.rst", cli_page.render())
    import http_page

    _write_if_changed(api / "http.rst", http_page.render())
    top = [m for m in modules if m.count(".") <= 1]
    index = [
        "API reference",
        "=============",
        "",
        ".. include:: ../conventions.rst",
        "",
        ".. toctree::",
        "   :maxdepth: 1",
        "",
        "   cli",
        "   http",
        *[f"   {m}" for m in top],
        "",
    ]
    _write_if_changed(api / "index.rst", "\n".join(index))
    for stale in api.glob("*.rst"):
        if stale.stem not in modules and stale.stem not in {"cli", "http", "index"}:
            stale.unlink()


def _awaited_or_iterated(app: Any, what: str, name: str, obj: Any, options: Any, lines: list[str]) -> None:
    """Append how a callable is used when its docstring does not say it: awaited, ``async for``, ``async with``.

    A constant without a ``#:`` comment would show its type's docstring (``dict``'s): drop that.
    """
    if what in {"data", "attribute"}:
        raw = type(obj).__doc__
        type_doc = raw.strip().splitlines() if isinstance(raw, str) else []
        if type_doc and lines and lines[0].strip() == type_doc[0].strip() and not inspect.isclass(obj):
            lines.clear()
        return
    text = " ".join(lines).lower()
    if what in {"class", "exception"}:
        if inspect.isclass(obj) and hasattr(obj, "__aenter__") and "async with" not in text:
            lines.extend(["", "*Async context manager*: ``async with``."])
        return
    if what not in {"function", "method"}:
        return
    function = getattr(obj, "__func__", obj)
    wrapped = getattr(function, "__wrapped__", None)
    # the return annotation's outer type: "AsyncIterator[X]" (a string under PEP 563) or typing's object
    returns = str(getattr(function, "__annotations__", {}).get("return", "")).split("[")[0].rsplit(".", 1)[-1]
    note = None
    if wrapped is not None and inspect.isasyncgenfunction(wrapped):  # @asynccontextmanager
        if "async with" not in text:
            note = "*Async context manager*: ``async with``."
    elif inspect.isasyncgenfunction(function) or returns in {"AsyncIterator", "AsyncGenerator"}:
        if "iterat" not in text and "async for" not in text:
            note = "*Async iterator*: ``async for``."
    elif (inspect.iscoroutinefunction(function) or returns in {"Coroutine", "Awaitable"}) and ("await" not in text):
        note = "*Awaited.*"
    if note:
        lines.extend(["", note])


def _resolve_reexport(app: Any, env: Any, node: Any, contnode: Any) -> Any:
    """``aioctap.otp.TOTP`` in a docstring or guide resolves to where it is documented (``aioctap.otp.core.TOTP``)."""
    target = node.get("reftarget", "")
    if node.get("refdomain") != "py" or not target.startswith("aioctap."):
        return None
    parts = target.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        module_name = ".".join(parts[:cut])
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        name, rest = parts[cut], parts[cut + 1 :]
        if not hasattr(module, name):
            return None
        obj = getattr(module, name)
        homes = [home_of(module_name, name)] if name in public_names(module) else []
        defined = getattr(obj, "__module__", None)
        if isinstance(defined, str) and defined.startswith("aioctap"):  # imported by the module, not exported
            pieces = defined.split(".")
            public = ".".join(pieces[: next((i for i, p in enumerate(pieces) if p.startswith("_")), len(pieces))])
            homes.append(public)
            if public in public_modules() and name in public_names(importlib.import_module(public)):
                homes.append(home_of(public, name))
        domain = env.get_domain("py")
        for home in homes:
            new = ".".join([home, name, *rest])
            if new != target:
                found = domain.resolve_xref(env, node["refdoc"], app.builder, node["reftype"], new, node, contnode)
                if found is not None:
                    return found
        return None
    return None


def _unexported(app: Any, domain: Any, node: Any) -> bool | None:
    """No warning for a signature naming a class its module defines but does not export (not public API)."""
    target = node.get("reftarget", "")
    if getattr(domain, "name", None) != "py" or not target.startswith("aioctap."):
        return None
    module_name, _, name = target.rpartition(".")
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        return None
    if hasattr(module, name) and name not in public_names(module):
        return True
    return None


def setup(app: Any) -> dict[str, Any]:
    app.connect("warn-missing-reference", _unexported)
    app.connect("builder-inited", _write_api_pages)
    app.connect("missing-reference", _resolve_reexport)
    app.connect("autodoc-process-docstring", _awaited_or_iterated)
    return {"parallel_read_safe": True}


# Every reference to an aioctap name must resolve (a renamed function breaks the build); names of other
# packages (anyio, cryptography, typing, the standard library) are not cross-referenced (no intersphinx: the
# build needs no network).
nitpicky = True
nitpick_ignore_regex = [
    (r"py:.*", r"(?!aioctap\b).*"),
    (r"py:.*", r"aioctap\..*\._.*"),  # a private base class or helper type in a signature: not documented
    (r"py:class", r"aioctap\.hid\.backends\.hidapi\.HidHandle"),  # the hid package's Device, typed; not exported
    (r"py:class", r"aioctap(\.\w+)*\.[A-Z]"),  # a TypeVar (T, M) in a generic signature
]
# "more than one target found for cross-reference 'type'": an attribute annotated ``type[X]`` makes Sphinx
# search every documented attribute named ``type``; the builtin is meant. ref.python is only that warning.
suppress_warnings = ["ref.python"]
os.environ.setdefault("COLUMNS", "100")
