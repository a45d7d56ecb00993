"""Yubico's authenticator test suite (``tests/device`` of python-fido2's source distribution) against
``aioctap virtual --udp``, in one pytest session as it is meant to run, with its unplug/replug prompts as power
cycles (SIGUSR1; see ``yubico/aioctap_device_plugin.py``).

The source distribution of a pinned python-fido2 comes from the ``python_fido2_source`` fixture (tests/conftest.py:
fetched once, checked against its SHA-256, cached). The suite runs
in a subprocess (about 10 s) and this test fails on any failure or error in it, and on any skip that is not
listed in :data:`EXPECTED_SKIPS` (README, "Yubico's device suite", says why each is there).
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import aioctap

if TYPE_CHECKING:
    from tests.conftest import PytestRun

EP_RP_ID = "enterprise.example.com"  # --ep-rp-id: test_ep_vendor's RP, on the authenticator's vendor list
SUITE_TIMEOUT = 300.0
PLUGIN_DIR = Path(__file__).parent / "yubico"

# skip reason -> why it is acceptable. Anything else skipped fails this test.
EXPECTED_SKIPS = {
    "previewSign not supported by authenticator": "Yubico's experimental previewSign extension: not applicable",
    "Algorithm ES256K not supported": "secp256k1: not among the algorithms issue 16 asks for",
}


def test_yubico_device_suite_passes_in_one_session(
    tmp_path: Path, python_fido2_source: Path, run_pytest: Callable[..., PytestRun]
) -> None:
    tree = python_fido2_source
    log = tmp_path / "authenticator.log"
    aioctap_root = Path(aioctap.__file__).resolve().parents[1]  # this checkout's aioctap, not an installed one
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "AIOCTAP_VIRTUAL_KEY"))}
    # the suite's own python-fido2 (the sdist's) first, then the plugin, then aioctap
    env["PYTHONPATH"] = os.pathsep.join([str(tree), str(PLUGIN_DIR), str(aioctap_root)])
    env["AIOCTAP_DEVICE_LOG"] = str(log)
    run = run_pytest(
        ["-p", "aioctap_device_plugin", "--ep-rp-id", EP_RP_ID, "tests/device"],
        cwd=tree, env=env, timeout=SUITE_TIMEOUT, what="the suite",
    )  # fmt: skip
    outcomes = Counter(kind for _, kind, _ in run.cases)
    problems = [name for name, kind, _ in run.cases if kind in ("failure", "error")]
    unexpected_skips = [
        f"{name}: {why}" for name, kind, why in run.cases if kind == "skipped" and why not in EXPECTED_SKIPS
    ]
    log_tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
    assert not problems, f"failed: {problems}\n{run.output}\nauthenticator log:\n{log_tail}"
    assert not unexpected_skips, f"skipped for no listed reason: {unexpected_skips}"
    assert run.returncode == 0, run.output
    assert outcomes["passed"] >= 89, outcomes  # what passes today: fewer means tests stopped running
    print(f"Yubico device suite (python-fido2 {tree.name}): {dict(outcomes)}")
