"""Every public name in ``aioctap`` has a docstring (issue 8).

The test walks every public module of the package (one test per module, so a failure names
the module) and lists each undocumented public name in it:

* the module itself;
* its public names: ``__all__`` when the module has one, else every name not starting with
  ``_`` that the module defines itself (a re-export from another public module is checked
  there, one from a private ``_module`` where it is exported);
* for each public class defined in ``aioctap``: the public methods, class/static methods and
  properties it defines itself (inherited ones are checked on the class that defines them).

A docstring counts only when it is the object's own: the signature-like ``__doc__`` that
``dataclasses``/``NamedTuple`` generate, and a docstring inherited from a base class, do not.
Constants (numbers, strings, mappings, enum members, type aliases) cannot carry a docstring
and are not checked.
"""

from __future__ import annotations

import dataclasses
import enum
import importlib
import inspect
import pkgutil
import sys
import types
from collections.abc import Iterator
from typing import Any

import pytest

import aioctap

# Modules that run code on import.
_SKIP_MODULES = {"aioctap.__main__"}


def _is_public_module(name: str) -> bool:
    return name not in _SKIP_MODULES and not any(part.startswith("_") for part in name.split("."))


def _public_modules() -> list[str]:
    names = ["aioctap"]
    for info in pkgutil.walk_packages(aioctap.__path__, "aioctap."):
        if _is_public_module(info.name):
            names.append(info.name)
    return sorted(names)


def _own_doc(obj: Any) -> str | None:
    """The docstring ``obj`` carries itself (not one generated or inherited)."""
    if isinstance(obj, property):
        doc = obj.__doc__
    elif isinstance(obj, staticmethod | classmethod):
        doc = obj.__func__.__doc__
    elif isinstance(obj, type):
        doc = obj.__dict__.get("__doc__")
        if doc and doc.startswith(f"{obj.__name__}(") and not doc.rstrip().endswith("."):
            doc = None  # dataclass / NamedTuple signature
    else:
        doc = getattr(obj, "__doc__", None)
    if not isinstance(doc, str) or not doc.strip():
        return None
    return doc


def _unwrap(obj: Any) -> Any:
    """The function behind a class attribute, or None when it is not a documentable callable."""
    if isinstance(obj, property | staticmethod | classmethod):
        return obj
    if inspect.isfunction(obj):
        return obj
    cached = getattr(obj, "func", None)  # functools.cached_property
    if cached is not None and inspect.isfunction(cached) and hasattr(obj, "attrname"):
        return cached
    return None


def _defined_in_aioctap(obj: Any) -> bool:
    module = getattr(obj, "__module__", None) or ""
    return module == "aioctap" or module.startswith("aioctap.")


def _public_names(module: types.ModuleType) -> list[str]:
    exported = getattr(module, "__all__", None)
    if exported is not None:
        return [name for name in exported if not name.startswith("__")]
    return [
        name
        for name, value in vars(module).items()
        if not name.startswith("_") and getattr(value, "__module__", None) == module.__name__
    ]


def _class_members(cls: type) -> Iterator[tuple[str, Any]]:
    members = set(cls.__members__) if issubclass(cls, enum.Enum) else set()
    for name, raw in vars(cls).items():
        if name.startswith("_") or name in members:
            continue
        if inspect.isclass(raw) and raw.__qualname__ == f"{cls.__qualname__}.{name}":
            yield name, raw  # a class defined in this one (not an alias of another class)
            continue
        target = _unwrap(raw)
        if target is not None:
            yield name, target


def _undocumented(module_name: str) -> list[str]:
    module = importlib.import_module(module_name)
    missing: list[str] = []
    if _own_doc(module) is None:
        missing.append(f"{module_name} (module)")
    for name in _public_names(module):
        obj = getattr(module, name)
        if not (inspect.isclass(obj) or inspect.isfunction(obj)) or not _defined_in_aioctap(obj):
            continue
        if obj.__module__ != module_name and _is_public_module(obj.__module__):
            continue  # a re-export: checked in the module that defines it
        if inspect.isclass(obj):
            missing.extend(_undocumented_class(obj, f"{module_name}.{name}"))
        elif _own_doc(obj) is None:
            missing.append(f"{module_name}.{name}")
    return missing


def _undocumented_class(cls: type, qualname: str) -> list[str]:
    """``cls`` and its own public members, nested public classes (such as ``Ctap2.CMD``) included."""
    missing = [] if _own_doc(cls) is not None else [qualname]
    for member_name, member in _class_members(cls):
        if inspect.isclass(member):
            missing.extend(_undocumented_class(member, f"{qualname}.{member_name}"))
        elif _own_doc(member) is None:
            missing.append(f"{qualname}.{member_name}")
    return missing


@pytest.mark.parametrize("module_name", _public_modules())
def test_public_names_have_docstrings(module_name: str) -> None:
    missing = _undocumented(module_name)
    assert not missing, f"{len(missing)} undocumented public name(s):\n  " + "\n  ".join(missing)


def test_checker_finds_undocumented_names() -> None:
    """The walker itself: it must flag a bare function, class, method, property, nested class and dataclass."""
    module = types.ModuleType("aioctap._docstring_probe", "probe module")

    def bare() -> None:
        pass

    class Bare:
        def method(self) -> None:
            pass

        @property
        def prop(self) -> int:
            return 1

    class Documented:
        """Documented."""

        class Nested:
            pass

        def method(self) -> None:
            """Documented."""

    @dataclasses.dataclass
    class Data:  # dataclasses generate a signature-like __doc__: not a docstring
        value: int

    for obj in (bare, Bare, Documented, Data):
        obj.__module__ = module.__name__
        setattr(module, obj.__name__, obj)
    sys.modules[module.__name__] = module
    try:
        missing = _undocumented(module.__name__)
    finally:
        del sys.modules[module.__name__]
    assert missing == [
        "aioctap._docstring_probe.bare",
        "aioctap._docstring_probe.Bare",
        "aioctap._docstring_probe.Bare.method",
        "aioctap._docstring_probe.Bare.prop",
        "aioctap._docstring_probe.Documented.Nested",
        "aioctap._docstring_probe.Data",
    ]
