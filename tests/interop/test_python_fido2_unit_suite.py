"""python-fido2's own unit tests (``tests/test_*.py`` of its pinned source distribution, the ``python_fido2_source``
fixture), ported to aioctap the way a python-fido2 user ports a program, and run against this checkout.

A port is a patch, ``python_fido2_unit/<test file>.patch``, against the upstream file. It may only do what a user
porting to aioctap does: ``fido2`` becomes ``aioctap`` in imports, ``await`` goes before each call that does I/O
(and a mocked device becomes an ``AsyncMock``, a ``TestCase`` with such calls an ``IsolatedAsyncioTestCase``). A line
that has to differ for another reason carries a comment ``# aioctap: <why>``: a deliberate difference, documented in
README ("Porting from python-fido2").

This test copies the upstream file, applies the patch (``git apply``), runs it with pytest in a subprocess (this
checkout's aioctap first on the path) and fails on any failure or error, on any skip, and when the patch changes
more lines than its budget in :data:`PORT_BUDGET` (the port must stay "add await").
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

import aioctap

if TYPE_CHECKING:
    from tests.conftest import PytestRun

PORTS = Path(__file__).parent / "python_fido2_unit"
PATCHES = sorted(PORTS.glob("test_*.py.patch"))
RUN_TIMEOUT = 120.0

# upstream file -> the most lines (removed + added) its port may change
PORT_BUDGET: dict[str, int] = {
    "test_client.py": 72,  # imports, await, AsyncMock ctap, IsolatedAsyncioTestCase; no event= (README);
    # attestation="direct" for the U2F test, whose "none" default conveys fmt none (README, WebAuthn L3 §5.1.3)
    "test_ctap1.py": 38,  # the import, await, AsyncMock device, IsolatedAsyncioTestCase
    "test_ctap2.py": 90,  # imports, await, AsyncMock ctap/device, IsolatedAsyncioTestCase, 4 device.call
    # assertions without python-fido2's positional event argument (README: no event=), and now= for the packed
    # attestation's expired certificate (README: certificates are checked at now=)
    "test_hid.py": 2,  # the import
    "test_utils.py": 2,  # the import: fido2 -> aioctap
    "test_webauthn.py": 4,
    "test_cbor.py": 2,  # the import
    "test_rpid.py": 2,  # the import
    "test_cose.py": 4,  # the imports
    # the imports; the made-up challenge "GAZPACHO!" is not base64url (aioctap decodes strictly, README)
    "test_server.py": 10,
    # the imports; now= for the old vectors' certificates (checked at a time) and SafetyNet timestamp, tpm's required
    # ver "2.0", and ML-DSA without python-fido2's private _mldsa flag (README "Coming from python-fido2")
    "test_attestation.py": 24,
    "test_tpm.py": 2,  # the import
    # the import; allow_expired=True for the 2020 BLOB (stale BLOBs are refused), its DER ES256 JWS signature back to
    # r||s (RFC 7518 §3.4)
    "test_mds3.py": 18,
}


def _changed_lines(patch: Path) -> int:
    lines = patch.read_text().splitlines()
    return sum(1 for line in lines if line[:1] in "+-" and not line.startswith(("+++", "---")))


def _apply(patch: Path, root: Path) -> None:
    applied = subprocess.run(
        ["git", "apply", "--whitespace=nowarn", str(patch)], cwd=root, capture_output=True, text=True, timeout=30
    )
    assert applied.returncode == 0, f"the port {patch.name} does not apply to upstream's file: {applied.stderr}"


@pytest.mark.parametrize("patch", PATCHES, ids=[p.name.removesuffix(".patch") for p in PATCHES])
def test_python_fido2_unit_tests_pass_on_aioctap(
    patch: Path, tmp_path: Path, python_fido2_source: Path, run_pytest: Callable[..., PytestRun]
) -> None:
    name = patch.name.removesuffix(".patch")
    changed = _changed_lines(patch)
    assert changed <= PORT_BUDGET[name], f"the port of {name} changes {changed} lines, over {PORT_BUDGET[name]}"
    tests = tmp_path / "tests"
    tests.mkdir()
    (tests / "__init__.py").touch()
    shutil.copy(python_fido2_source / "tests" / name, tests / name)
    _apply(patch, tmp_path)
    # the upstream test modules it imports data from (test_server.py: ``from .test_ctap2 import _CRED_ID``), ported
    # when they have a port (else as published: only their constants are used, and python-fido2 is installed)
    siblings = re.findall(r"^from \.(\w+) import", (tests / name).read_text(), re.MULTILINE)
    for sibling in (f"{module}.py" for module in siblings):
        shutil.copy(python_fido2_source / "tests" / sibling, tests / sibling)
        if (PORTS / f"{sibling}.patch").exists():
            _apply(PORTS / f"{sibling}.patch", tmp_path)

    aioctap_root = Path(aioctap.__file__).resolve().parents[1]  # this checkout's aioctap, not an installed one
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env["PYTHONPATH"] = str(aioctap_root)
    run = run_pytest([f"tests/{name}"], cwd=tmp_path, env=env, timeout=RUN_TIMEOUT, what=name)
    problems = [f"{kind}: {case}" for case, kind, _ in run.cases if kind != "passed"]
    passed = len(run.cases) - len(problems)
    output = run.output
    assert not problems, "\n".join(problems) + "\n" + output
    assert run.returncode == 0, output
    assert passed > 0, output
    print(f"python-fido2's {name} on aioctap: {passed} passed; the port changes {changed} lines")
