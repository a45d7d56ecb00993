"""The guides' code runs as written, and DESIGN.md's public entry points are in the reference and in a guide.

Every ```python block of ``docs/**/*.md`` is a complete program (it ends with ``anyio.run(main)``) and runs
here against the software authenticator, as README's do in test_readme.py: a renamed function breaks this test,
not the reader. The Sphinx build itself (warnings as errors, so a guide's reference to a renamed name fails it)
runs in CI (``.ci/run``), as does ``docs/count_names.py``; it needs the ``docs`` extra, which the tests do not.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import re
from pathlib import Path
from types import ModuleType

import pytest

DOCS = Path(__file__).resolve().parent.parent / "docs"
GUIDES = sorted((DOCS / "guides").glob("*.md"))


def _blocks() -> list[tuple[str, int, str]]:
    found = []
    for path in sorted(DOCS.rglob("*.md")):
        if "_build" in path.parts:
            continue
        blocks = re.findall(r"```python\n(.*?)```", path.read_text(encoding="utf-8"), re.S)
        found += [(str(path.relative_to(DOCS)), i, block) for i, block in enumerate(blocks)]
    return found


def _conf() -> ModuleType:
    """docs/conf.py, which decides what the reference documents (imported without Sphinx)."""
    spec = importlib.util.spec_from_file_location("aioctap_docs_conf", DOCS / "conf.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_guide_has_code() -> None:
    assert {p.stem for p in GUIDES} >= {"keys", "ctap2", "virtual", "relying-party", "otp", "migrating"}
    with_code = {path.split("/")[-1][:-3] for path, _, _ in _blocks()}
    assert with_code >= {p.stem for p in GUIDES}


def test_every_block_is_a_program() -> None:
    for path, index, block in _blocks():
        assert "anyio.run(main)" in block, f"{path} block {index} is not a complete program"


@pytest.mark.parametrize(("path", "index"), [(path, index) for path, index, _ in _blocks()])
def test_guide_program_runs(path: str, index: int, capsys: pytest.CaptureFixture[str]) -> None:
    block = next(b for p, i, b in _blocks() if (p, i) == (path, index))
    exec(compile(block, f"docs/{path} block {index}", "exec"), {"__name__": "docs"})
    assert capsys.readouterr().out.strip()


# DESIGN.md's "Public entry points" table: (the object, or None for a command or variable; words a guide must use)
ENTRY_POINTS: list[tuple[str | None, list[str]]] = [
    ("aioctap.open_device", ["open_device("]),
    ("aioctap.ctap.CtapDevice.call", [".call("]),
    ("aioctap.hid.CtapHidDevice.list_devices", ["CtapHidDevice.list_devices()"]),
    ("aioctap.ctap2.Ctap2", ["aioctap.ctap2"]),
    ("aioctap.ctap1.Ctap1", ["aioctap.ctap1"]),
    (None, ["aioctap virtual --udp", "--state", "SIGUSR1"]),
    ("aioctap.server.verify_registration", ["verify_registration("]),
    ("aioctap.server.verify_authentication", ["verify_authentication("]),
    ("aioctap.server.VerificationError", ["VerificationError"]),
    (None, ["aioctap server", "--db", "--rp-id", "--origin", "--conformance", "/fido2/", "/private/otp-devices"]),
    ("aioctap.client.Fido2Client", ["Fido2Client("]),
    ("aioctap.server.Fido2Server", ["Fido2Server("]),
    ("aioctap.webauthn", ["aioctap.webauthn"]),
    ("aioctap.utils", ["aioctap.utils"]),
    ("aioctap.stores.open_store", ["open_store(", "memory://", "sqlite:///", "redis://", "postgresql://"]),
    ("aioctap.otp.OtpVerifier", ["OtpVerifier("]),
    ("aioctap.otp.pos_confirmation", ["pos_confirmation("]),
    ("aioctap.otp.TOTP", ["TOTP.using("]),
    (None, ["AIOCTAP_ADMIN_TOKEN"]),
    (None, ["aioctap demo"]),
]


def _resolve(dotted: str) -> tuple[str, str, list[str]]:
    """(module, first attribute, further attributes) of a dotted name."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        return ".".join(parts[:cut]), (parts[cut] if cut < len(parts) else ""), parts[cut + 1 :]
    raise AssertionError(f"cannot import {dotted}")


@pytest.mark.parametrize(("dotted", "words"), ENTRY_POINTS)
def test_entry_point_in_a_guide_and_the_reference(dotted: str | None, words: list[str]) -> None:
    text = "\n".join(p.read_text(encoding="utf-8") for p in GUIDES)
    for word in words:
        assert word in text, f"no guide mentions {word!r}"
    if dotted is None:
        return
    conf = _conf()
    module_name, name, attrs = _resolve(dotted)
    if not name:  # a module: it has a page
        assert module_name in conf.public_modules()
        return
    home = conf.home_of(module_name, name)
    page = conf._module_page(home)
    assert re.search(rf"^\.\. auto\w+:: {re.escape(name)}$", page, re.M), f"{dotted} has no entry on {home}'s page"
    obj = getattr(importlib.import_module(home), name)
    for attr in attrs:  # a method: documented with its class (autodoc members), by its own docstring
        obj = getattr(obj, attr)
        assert inspect.getdoc(obj), f"{dotted} has no docstring"


def test_cli_page_lists_every_command() -> None:
    conf = _conf()
    import cli_page  # conf put docs/ on sys.path

    assert conf.HERE == DOCS
    page = cli_page.render()
    for command in (
        "aioctap devices",
        "aioctap virtual",
        "aioctap server",
        "aioctap demo",
        "aioctap pin set",
        "aioctap otp verify",
        "aioctap config min-pin-length",
    ):
        assert f"``{command}``" in page
    assert "``--conformance``" in page and "``AIOCTAP_DEVICE``" in page


def test_http_page_lists_the_routes() -> None:
    _conf()
    import http_page  # conf put docs/ on sys.path

    page = http_page.render()
    for operation in (
        "POST /fido2/attestation/options",
        "POST /fido2/assertion/result",
        "GET /fido2/account",
        "POST /private/otp-devices",
        "GET /instances/{instance}/private/otp-devices/{device_id}",
    ):
        assert f"``{operation}``" in page
    assert ".. _http-schema-ServerResponse:" in page
