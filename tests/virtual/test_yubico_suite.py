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
import signal
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import pytest

import aioctap

EP_RP_ID = "enterprise.example.com"  # --ep-rp-id: test_ep_vendor's RP, on the authenticator's vendor list
SUITE_TIMEOUT = 300.0
PLUGIN_DIR = Path(__file__).parent / "yubico"

# skip reason -> why it is acceptable. Anything else skipped fails this test.
EXPECTED_SKIPS = {
    "previewSign not supported by authenticator": "Yubico's experimental previewSign extension: not applicable",
    "Algorithm ES256K not supported": "secp256k1: not among the algorithms issue 16 asks for",
}


def test_yubico_device_suite_passes_in_one_session(tmp_path: Path, python_fido2_source: Path) -> None:
    tree = python_fido2_source
    report = tmp_path / "junit.xml"
    log = tmp_path / "authenticator.log"
    aioctap_root = Path(aioctap.__file__).resolve().parents[1]  # this checkout's aioctap, not an installed one
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "AIOCTAP_VIRTUAL_KEY"))}
    # the suite's own python-fido2 (the sdist's) first, then the plugin, then aioctap
    env["PYTHONPATH"] = os.pathsep.join([str(tree), str(PLUGIN_DIR), str(aioctap_root)])
    env["AIOCTAP_DEVICE_LOG"] = str(log)
    # its own session: on a timeout the whole group goes, the plugin's aioctap virtual process with it
    proc = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-p", "aioctap_device_plugin", "-p", "no:cacheprovider", "-q",
         "-o", "junit_family=xunit2", f"--junitxml={report}", "--ep-rp-id", EP_RP_ID, "tests/device"],
        cwd=tree, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip
    try:
        stdout, stderr = proc.communicate(timeout=SUITE_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        stdout, stderr = proc.communicate()
        pytest.fail(f"the suite took more than {SUITE_TIMEOUT} s:\n{stdout[-8000:]}{stderr[-4000:]}")
    output = stdout[-8000:] + stderr[-4000:]
    assert report.exists(), f"the suite did not run (exit status {proc.returncode}):\n{output}"
    outcomes: Counter[str] = Counter()
    problems: list[str] = []
    unexpected_skips: list[str] = []
    for case in ET.parse(report).getroot().iter("testcase"):
        name = f"{case.get('classname')}::{case.get('name')}"
        kinds = {child.tag for child in case} & {"failure", "error", "skipped"}
        if kinds & {"failure", "error"}:
            outcomes["failed" if "failure" in kinds else "error"] += 1
            problems.append(name)
        elif "skipped" in kinds:
            outcomes["skipped"] += 1
            skipped = case.find("skipped")
            reason = (skipped.get("message") or "") if skipped is not None else ""
            reason = reason.removeprefix("Skipped: ")
            if reason not in EXPECTED_SKIPS:
                unexpected_skips.append(f"{name}: {reason}")
        else:
            outcomes["passed"] += 1
    log_tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
    assert not problems, f"failed: {problems}\n{output}\nauthenticator log:\n{log_tail}"
    assert not unexpected_skips, f"skipped for no listed reason: {unexpected_skips}"
    assert proc.returncode == 0, output
    assert outcomes["passed"] >= 89, outcomes  # what passes today: fewer means tests stopped running
    print(f"Yubico device suite (python-fido2 {tree.name}): {dict(outcomes)}")
