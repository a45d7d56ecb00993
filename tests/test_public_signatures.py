"""No ``typing.Any`` in a public signature (DESIGN: "types everywhere ... no ``Any`` in a public signature").

For every public module (``docs/conf.py``'s ``public_modules``: no part of the dotted name starts with ``_``), each
name the reference documents (``__all__``, else the names the module defines) is checked: a function's parameters
and return, a class's public methods, properties and annotated fields (dataclass, TypedDict, NamedTuple), and a
type alias itself. Annotations are resolved with ``typing.get_type_hints``; one that cannot be resolved (a name
imported only under ``TYPE_CHECKING``) is read as its annotation string. Arbitrary JSON is ``JSONValue`` or
``object``, not ``Any``.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import os
import re
import sys
import typing
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from unittest import mock

import pytest

DOCS = Path(__file__).resolve().parent.parent / "docs"

# Modules whose owners are still retyping them (issue 17); each is skipped until its `Any`s are gone
# (`python tests/test_public_signatures.py` lists what is left).
PENDING: set[str] = set()

# The one deliberate exception: credential management's enumerations are python-fido2's int-keyed maps
# (``Mapping[int, Any]`` there); a TypedDict cannot have int keys, and ``object`` values would make every caller
# (the README's tour, the CLI) cast what _check_rp/_check_cred have already validated.
ALLOWED = re.compile(r"aioctap\.ctap2\.(credman\.)?(Entry|CredentialManagement\.(enumerate_\w+|rps|credentials))\b")


def _conf() -> ModuleType:
    """docs/conf.py, which decides what the reference documents (imported without Sphinx)."""
    spec = importlib.util.spec_from_file_location("aioctap_docs_conf_signatures", DOCS / "conf.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    with mock.patch.dict(os.environ):  # conf.py sets COLUMNS for Sphinx: keep it from the CLI tests' rich output
        spec.loader.exec_module(module)
    return module


CONF = _conf()
MODULES = CONF.public_modules()
_ANY_WORD = re.compile(r"\bAny\b")


def _has_any(tp: object, seen: set[int] | None = None) -> bool:
    """Whether ``typing.Any`` occurs anywhere in the (resolved or string) annotation ``tp``."""
    seen = set() if seen is None else seen
    if id(tp) in seen:
        return False
    seen.add(id(tp))
    if tp is typing.Any:
        return True
    if isinstance(tp, str):
        return bool(_ANY_WORD.search(tp))
    if isinstance(tp, typing.ForwardRef):
        return bool(_ANY_WORD.search(tp.__forward_arg__))
    if isinstance(tp, (list, tuple)):  # Callable's argument list
        return any(_has_any(arg, seen) for arg in tp)
    if isinstance(tp, typing.TypeVar):
        return any(_has_any(arg, seen) for arg in (tp.__bound__, *tp.__constraints__) if arg is not None)
    return any(_has_any(arg, seen) for arg in typing.get_args(tp))


def _annotations(obj: object, module: ModuleType) -> dict[str, object]:
    """``obj``'s annotations, resolved where they can be, else as written."""
    try:
        return dict(typing.get_type_hints(obj, include_extras=True))
    except Exception:  # a name only imported under TYPE_CHECKING: resolve one by one, keep the string otherwise
        pass
    raw = dict(getattr(obj, "__annotations__", {}) or {})
    if inspect.isclass(obj):
        raw = {}
        for base in reversed(obj.__mro__):
            raw.update(getattr(base, "__annotations__", {}) or {})
    namespace = {**vars(typing), **vars(module), **vars(sys.modules.get(getattr(obj, "__module__", ""), module))}
    resolved: dict[str, object] = {}
    for name, annotation in raw.items():
        if isinstance(annotation, str):
            try:
                annotation = eval(annotation, namespace)  # our own annotations
            except Exception:
                pass
        resolved[name] = annotation
    return resolved


def _callable_of(member: object) -> Callable[..., object] | None:
    if isinstance(member, (staticmethod, classmethod)):
        member = member.__func__
    if isinstance(member, property):
        member = member.fget
    if inspect.isfunction(member):
        return member
    return None


def _signatures(qualname: str, obj: object, module: ModuleType) -> Iterator[tuple[str, dict[str, object]]]:
    """(where, annotations) for every public signature ``obj`` carries."""
    if inspect.isclass(obj):
        if not obj.__module__.startswith("aioctap"):
            return
        fields = {name: tp for name, tp in _annotations(obj, module).items() if not name.startswith("_")}
        yield qualname, fields  # dataclass, TypedDict and NamedTuple fields, class attributes
        for base in obj.__mro__:
            if not base.__module__.startswith("aioctap"):
                continue
            for name, member in vars(base).items():
                if name.startswith("_") and name not in ("__init__", "__call__"):
                    continue
                function = _callable_of(member)
                if function is not None:
                    yield f"{qualname}.{name}", _annotations(function, module)
    elif inspect.isfunction(obj):
        if obj.__module__.startswith("aioctap"):
            yield qualname, _annotations(obj, module)
    elif not inspect.ismodule(obj) and (typing.get_args(obj) or isinstance(obj, typing.TypeVar)):
        yield qualname, {"(alias)": obj}


def _offenders(module_name: str) -> list[str]:
    module = importlib.import_module(module_name)
    found: list[str] = []
    for name in CONF.public_names(module):
        if not hasattr(module, name):
            continue
        for where, hints in _signatures(f"{module_name}.{name}", getattr(module, name), module):
            if ALLOWED.match(where):
                continue
            found += [f"{where}: {part}" for part, tp in hints.items() if _has_any(tp)]
    return found


def test_the_detector_sees_any() -> None:
    assert _has_any(typing.Any)
    assert _has_any(dict[str, typing.Any])
    assert _has_any(typing.Callable[[typing.Any], int] | None)
    assert _has_any("Mapping[str, Any]")
    assert not _has_any("AnyStr | Company")
    assert not _has_any(dict[str, object] | None)


def test_pending_names_real_modules() -> None:
    assert not PENDING - set(MODULES), sorted(PENDING - set(MODULES))


@pytest.mark.parametrize("module_name", [name for name in MODULES if name not in PENDING])
def test_no_any_in_public_signatures(module_name: str) -> None:
    assert _offenders(module_name) == []


if __name__ == "__main__":  # list what the pending modules still have: python tests/test_public_signatures.py
    for module_name in sorted(PENDING):
        for line in _offenders(module_name):
            print(line)
