"""Schemathesis against a live ``aioctap server`` (uvicorn on a free port, a real SQLite file): every operation
of its ``/openapi.json``, every check, a bounded number of examples each; any failure fails the test.

The document is generated from the same declarations that validate the bodies (:mod:`aioctap.webapi`), so
this is the test that the schema is exactly what the server accepts and answers: a schema-valid request refused
is an ST202, a schema-violating one accepted an ST201, an answer outside the schema a response-conformance
failure.

Two decisions are configured rather than fixed, each a 400 declared in the document for bodies that follow the
schema, so the positive-data check expects it on those operations only:

* the two result operations answer 400 when the ceremony fails (no or a used session, an unknown credential, a
  signature that does not verify): a schema cannot say whether a signature verifies, and it is the client's error;
* in the ``--conformance`` test mode only, the options operations answer 400 to a sign-in for a user name without
  an account or credential, as the FIDO conformance tool expects (the account mode answers every name alike).

Nothing else is relaxed.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

import aioctap
from aioctap.client import WebAuthnClient
from aioctap.server.responses import ACCOUNT_COOKIE

schemathesis = pytest.importorskip("schemathesis")

from schemathesis.config import SchemathesisConfig  # noqa: E402
from schemathesis.engine import Status, events, from_schema  # noqa: E402

ADMIN_TOKEN = "secret-token:" + "s" * 40
MAX_EXAMPLES = 20
# the positive-data check's default expectations, plus the declared 400 of a ceremony that fails
CEREMONY_STATUSES = ["2xx", "3xx", "400", "401", "403", "404", "409", "429", "5xx"]
RESULT_OPERATIONS = ["/fido2/attestation/result", "/fido2/assertion/result"]
# --conformance only: a sign-in for a user name without an account or credential is a declared 400 (the tool's shape)
OPTIONS_OPERATIONS = ["/fido2/attestation/options", "/fido2/assertion/options"]


@dataclass(frozen=True)
class Found:
    """One unique failure: the operation, the failure's title and the first line of its message."""

    operation: str
    title: str
    message: str

    def __str__(self) -> str:
        return f"{self.operation}: {self.title}: {self.message}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class Live:
    url: str
    conformance: bool


@pytest.fixture
def server(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Live]:
    """``aioctap server`` as a process on a free port over a SQLite file (``--conformance`` when the parameter is
    "conformance")."""
    port = _free_port()
    conformance = getattr(request, "param", "accounts") == "conformance"
    args = ["--conformance"] if conformance else []
    env = {**os.environ, "AIOCTAP_ADMIN_TOKEN": ADMIN_TOKEN}
    proc = subprocess.Popen(
        [sys.executable, "-m", "aioctap", "server", "--port", str(port), "--db", f"sqlite:///{tmp_path / 'rp.db'}",
         "--quiet", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env,
    )  # fmt: skip
    url = f"http://localhost:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, proc.stdout.read().decode() if proc.stdout else ""
            try:
                httpx.get(f"{url}/openapi.json", timeout=2).raise_for_status()
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "aioctap server did not start"
                time.sleep(0.1)
        yield Live(url, conformance)
    finally:
        proc.terminate()
        out = proc.communicate(timeout=15)[0].decode()
        assert "Traceback" not in out, out


async def _sign_in(url: str) -> str:
    """A new account, signed in with a passkey of aioctap's software authenticator: its session token."""
    async with aioctap.open_device("virtual") as device, httpx.AsyncClient(base_url=url, timeout=10) as http:
        client = WebAuthnClient(device, url)
        name = f"schemathesis-{os.urandom(4).hex()}"
        r = await http.post("/fido2/attestation/options", json={"username": name, "displayName": name})
        r = await http.post("/fido2/attestation/result", json=await client.create(r.json()))
        assert r.status_code == 200, r.text
        r = await http.post("/fido2/assertion/options", json={"username": name})
        r = await http.post("/fido2/assertion/result", json=await client.get(r.json()))
        assert r.status_code == 200, r.text
        return str(r.cookies[ACCOUNT_COOKIE])


class SignedIn:
    """Schemathesis auth for the account operations: a signed-in session cookie (a new one each second at most,
    since the run's own POST /fido2/logout ends the session it uses)."""

    def __init__(self, url: str) -> None:
        self.url = url

    def get(self, case: Any, ctx: Any) -> str:
        return anyio.run(_sign_in, self.url)

    def set(self, case: Any, data: str, ctx: Any) -> None:
        case.cookies = {**(case.cookies or {}), ACCOUNT_COOKIE: data}


def run_schemathesis(
    url: str, *, conformance: bool = False, max_examples: int = MAX_EXAMPLES, seed: int = 1
) -> tuple[int, int, list[Found]]:
    """Schemathesis over every operation of ``url``'s document: (operations, test cases, unique failures)."""
    ceremonies = [*RESULT_OPERATIONS, *(OPTIONS_OPERATIONS if conformance else ())]
    config = SchemathesisConfig.from_dict(
        {
            "seed": seed,
            "cache": {"enabled": False},  # no crash cache in the work tree: each run tries the same cases
            "workers": 1,
            "headers": {"Authorization": f"Bearer {ADMIN_TOKEN}"},
            "generation": {"max-examples": max_examples},
            "checks": {"enabled": True},
            "operations": [
                {
                    "include-path": ceremonies,
                    "checks": {"positive_data_acceptance": {"expected-statuses": CEREMONY_STATUSES}},
                }
            ],
        }
    )
    schema = schemathesis.openapi.from_url(f"{url}/openapi.json", config=config)
    if not conformance:  # (the conformance mode opens no account session: its account operations answer 401)
        signed_in = SignedIn(url)
        schema.auth.auth(refresh_interval=1).apply_to(path_regex="^/fido2/(account|credentials)")(
            type("Provider", (), {"get": lambda self, case, ctx: signed_in.get(case, ctx),
                                  "set": lambda self, case, data, ctx: signed_in.set(case, data, ctx)})
        )  # fmt: skip
    operations = sum(1 for result in schema.get_all_operations() if result.ok())
    found: set[Found] = set()
    cases: set[str] = set()
    errors: list[str] = []
    details: list[str] = []
    answers: dict[str, Counter[int]] = {}
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            recorder = event.recorder
            cases.update(recorder.cases)
            for case_id in recorder.cases:
                response = recorder.find_response(case_id=case_id)
                if response is not None:
                    answers.setdefault(recorder.label, Counter())[response.status_code] += 1
            for case_id, nodes in recorder.checks.items():
                for node in nodes:
                    if node.status == Status.FAILURE and node.failure_info is not None:
                        failure = node.failure_info.failure
                        message = (failure.message or "").strip().splitlines()
                        found.add(Found(recorder.label, failure.title, message[0] if message else ""))
                        details.append(_details(recorder, case_id, node.failure_info.failure.title))
        elif isinstance(event, events.NonFatalError):
            errors.append(f"{event.label}: {event.info.format()}")
        elif isinstance(event, events.FatalError):
            raise event.exception
    assert not errors, "\n".join(errors)
    if details:
        print("\n".join(details[:40]))
    print("\n".join(f"{label}: {dict(sorted(count.items()))}" for label, count in sorted(answers.items())))
    return operations, len(cases), sorted(found, key=str)


def _details(recorder: Any, case_id: str, title: str) -> str:
    """What was sent and answered (printed with a failure)."""
    node = recorder.cases.get(case_id)
    case = node.value if node is not None else None
    response = recorder.find_response(case_id=case_id)
    sent = "" if case is None else f"{case.method} {case.formatted_path} {case.query or ''} {case.body!r}"[:300]
    answer = "" if response is None else f"{response.status_code} {response.text[:200]}"
    return f"{title}: {sent} -> {answer}"


@pytest.mark.parametrize("server", ["accounts", "conformance"], indirect=True)
def test_schemathesis_finds_nothing(server: Live) -> None:
    operations, cases, found = run_schemathesis(server.url, conformance=server.conformance)
    assert operations >= 28 and cases > operations * 5, (operations, cases)
    assert not found, "\n".join(map(str, found))
