"""Shared fixtures: real Redis and PostgreSQL servers started from their binaries, and ``store_url``.

* ``redis_url`` / ``postgresql_url`` (session): a server on a free 127.0.0.1 port in a temporary
  directory, stopped at the end; skipped with the apt-get command to run when the binary is missing.
* ``store_url``: parametrized over memory, sqlite (a temporary file), redis and postgresql, each test
  getting a clean database. Tests that must hold "on every store" take this fixture.
* The transport and CTAP2 suites (``tests/hid``, ``tests/ctap2``) run each coroutine test twice, on
  asyncio (through pytest-asyncio, as every other async test) and on anyio's trio backend (``[trio]``
  in the test id); ``@pytest.mark.asyncio_only(reason=...)`` keeps one on asyncio.
* ``raw_post``: a POST through an ASGI app with its headers exactly as given (what an HTTP client library would
  correct, such as an odd Content-Length), giving the answer's status.
* ``python_fido2_source`` (session): the unpacked source distribution of a pinned python-fido2 (its ``tests/``: Yubico's
  device suite and its unit tests), fetched from the package index once (``pip download --no-binary :all:
  --no-deps``), checked against its pinned SHA-256 and kept under the user cache directory (``~/.cache/aioctap`` on
  Linux); ``AIOCTAP_FIDO2_SDIST`` may name a copy of the archive instead.
* ``run_pytest``: another project's test suite in a pytest subprocess of its own (its process group killed on a
  timeout), giving each test case's outcome from its JUnit report.
"""

from __future__ import annotations

import functools
import glob
import hashlib
import inspect
import os
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import platformdirs
import pytest

# -- the transport and ctap2 suites on both anyio backends --------------------------------------

TESTS = Path(__file__).resolve().parent
ON_BOTH_BACKENDS = (TESTS / "hid", TESTS / "ctap2")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "asyncio_only(reason): a coroutine test of tests/hid or tests/ctap2 that runs on asyncio only"
    )


def _coroutine_function(obj: object) -> bool:
    inner = getattr(getattr(obj, "hypothesis", None), "inner_test", obj)
    return inspect.iscoroutinefunction(inner)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    definition = metafunc.definition
    if (
        Path(definition.path).parent in ON_BOTH_BACKENDS
        and _coroutine_function(definition.obj)
        and definition.get_closest_marker("asyncio_only") is None
    ):
        metafunc.fixturenames.append("async_backend")
        metafunc.parametrize("async_backend", ["asyncio", "trio"])


def _on_trio(item: pytest.Item) -> bool:
    callspec = getattr(item, "callspec", None)
    return callspec is not None and callspec.params.get("async_backend") == "trio"


class TrioFunction(pytest.Function):
    """A coroutine test run with ``anyio.run(..., backend="trio")``; pytest-asyncio runs its asyncio twin."""

    def runtest(self) -> None:
        import anyio

        hypothesis = getattr(self.obj, "hypothesis", None)
        target, name = (hypothesis, "inner_test") if hypothesis is not None else (self, "obj")
        test: Callable[..., Any] = getattr(target, name)

        def on_trio(*args: Any, **kwargs: Any) -> None:
            anyio.run(functools.partial(test, *args, **kwargs), backend="trio")

        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(target, name, on_trio)
            super().runtest()


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    """pytest-asyncio (auto mode) made every coroutine test its own item; the trio twins become TrioFunction."""
    asyncio_only = [item for item in items if _on_trio(item) and item.get_closest_marker("asyncio_only")]
    if asyncio_only:  # (a parameter marked asyncio_only: its trio twin goes)
        config.hook.pytest_deselected(items=asyncio_only)
        items[:] = [item for item in items if item not in asyncio_only]
    for i, item in enumerate(items):
        if not _on_trio(item) or isinstance(item, TrioFunction):
            continue
        callspec = item.callspec  # type: ignore[attr-defined]
        assert isinstance(item, pytest.Function) and item.parent is not None
        trio_item = TrioFunction.from_parent(
            item.parent,
            name=item.name,
            callspec=callspec,
            callobj=item.obj,
            fixtureinfo=item._fixtureinfo,
            keywords=item.keywords,
            originalname=item.originalname,
        )
        trio_item.own_markers = [mark for mark in item.own_markers if mark.name != "asyncio"]
        items[i] = trio_item


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_port(port: int, proc: subprocess.Popen[bytes], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with status {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{what} did not start listening on port {port}")


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed: apt-get install redis-server")
    port = _free_port()
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.Popen(
            [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", tmp],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            _wait_port(port, proc, "redis-server")
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            proc.terminate()
            proc.wait(10)


def _pg_bin(name: str) -> str | None:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found[-1] if found else shutil.which(name)


@pytest.fixture(scope="session")
def postgresql_url() -> Iterator[str]:
    initdb, postgres = _pg_bin("initdb"), _pg_bin("postgres")
    if initdb is None or postgres is None:
        pytest.skip("PostgreSQL is not installed: apt-get install postgresql")
    port = _free_port()
    tmp = tempfile.mkdtemp(prefix="aioctap-pg-")
    run_as: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        if shutil.which("runuser") is None:
            pytest.skip("running as root without runuser: cannot start PostgreSQL")
        shutil.chown(tmp, "postgres")
        run_as = ["runuser", "-u", "postgres", "--"]
    data = str(Path(tmp) / "data")
    subprocess.run(
        [*run_as, initdb, "-D", data, "-U", "aioctap", "--auth=trust", "-E", "UTF8"],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    proc = subprocess.Popen(
        [*run_as, postgres, "-D", data, "-p", str(port), "-h", "127.0.0.1", "-k", tmp, "-F"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_port(port, proc, "postgres")
        time.sleep(0.3)
        yield f"postgresql://aioctap@127.0.0.1:{port}/postgres"
    finally:
        try:  # fast shutdown (SIGINT to the postmaster) disconnects clients; SIGTERM (smart) waits for them
            os.kill(int((Path(data) / "postmaster.pid").read_text().split()[0]), signal.SIGINT)
        except (OSError, ValueError, IndexError):
            proc.terminate()
        proc.wait(15)
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture(params=["memory", "sqlite", "redis", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A store URL of each kind, with a clean database for each test."""
    kind = request.param
    if kind == "memory":
        yield "memory://"
    elif kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
    elif kind == "redis":
        url = request.getfixturevalue("redis_url")
        import redis

        client = redis.Redis.from_url(url)
        client.flushdb()
        client.close()
        yield url
    else:
        base = request.getfixturevalue("postgresql_url")
        import asyncio

        import asyncpg

        name = "t_" + uuid.uuid4().hex[:12]

        async def create() -> None:
            conn = await asyncpg.connect(base)
            await conn.execute(f"CREATE DATABASE {name}")
            await conn.close()

        asyncio.run(create())
        yield base.rsplit("/", 1)[0] + "/" + name


# -- raw ASGI requests ------------------------------------------------------------------------------


@pytest.fixture
def raw_post() -> Callable[[Any, str, bytes, list[tuple[bytes, bytes]]], Awaitable[int]]:
    """``await raw_post(app, path, body, headers)``: the status of a POST with exactly these headers."""

    async def post(app: Any, path: str, body: bytes, headers: list[tuple[bytes, bytes]]) -> int:
        sent: list[dict[str, Any]] = []
        messages = [{"type": "http.request", "body": body, "more_body": False}]

        async def receive() -> dict[str, Any]:
            return messages.pop(0) if messages else {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
            "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "", "headers": headers,
            "server": ("localhost", 8000), "client": ("client", 1),
        }  # fmt: skip
        await app(scope, receive, send)
        status: int = sent[0]["status"]
        return status

    return post


# -- python-fido2's source distribution ---------------------------------------------------------

FIDO2_VERSION = "2.2.1"
FIDO2_SDIST_SHA256 = "85787428a94c3f8eaf72f0ff30afba983b559a1b1b795c93318c81b4ad4062c4"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _fido2_sdist() -> Path:
    """The pinned source distribution: AIOCTAP_FIDO2_SDIST, the cached copy, or a fresh download (then cached)."""
    given = os.environ.get("AIOCTAP_FIDO2_SDIST")
    if given:
        return Path(given)
    cache = Path(platformdirs.user_cache_dir("aioctap"))
    cached = cache / f"fido2-{FIDO2_VERSION}.tar.gz"
    if cached.exists() and _sha256(cached) == FIDO2_SDIST_SHA256:
        return cached
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache) as tmp:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-binary", ":all:", "--no-deps",
             "--disable-pip-version-check", "-d", tmp, f"fido2=={FIDO2_VERSION}"],
            check=True, timeout=180,
        )  # fmt: skip
        downloaded = Path(tmp) / cached.name
        os.replace(downloaded, cached)  # same directory: a concurrent run sees the whole file or none
    return cached


@pytest.fixture(scope="session")
def python_fido2_source() -> Path:
    """The unpacked source distribution (cached beside it), after checking the archive's SHA-256."""
    sdist = _fido2_sdist()
    digest = _sha256(sdist)
    assert digest == FIDO2_SDIST_SHA256, f"{sdist} is not python-fido2 {FIDO2_VERSION}'s sdist (sha256 {digest})"
    tree = sdist.parent / f"fido2-{FIDO2_VERSION}-{digest[:12]}"
    if not (tree / "tests" / "device" / "conftest.py").exists():
        with tempfile.TemporaryDirectory(dir=sdist.parent) as tmp:
            with tarfile.open(sdist) as archive:
                archive.extractall(tmp, filter="data")
            try:  # a rename: the tree is there whole or not at all
                os.replace(Path(tmp) / f"fido2-{FIDO2_VERSION}", tree)
            except OSError:
                if not (tree / "tests" / "device" / "conftest.py").exists():
                    raise  # not a concurrent run that got there first
    return tree


# -- another project's suite in a pytest subprocess ---------------------------------------------


@dataclass
class PytestRun:
    """What a :func:`run_pytest` run gave: every test case as (name, outcome, skip reason), outcome one of passed,
    failure, error, skipped; the end of its output; its exit status."""

    cases: list[tuple[str, str, str]]
    output: str
    returncode: int


@pytest.fixture
def run_pytest(tmp_path: Path) -> Callable[..., PytestRun]:
    def run(args: list[str], *, cwd: Path, env: dict[str, str], timeout: float, what: str) -> PytestRun:
        """``python -m pytest args`` in ``cwd`` with ``env``: in a session of its own, so that on a timeout the whole
        group goes (with any process the suite started), and a failure saying ``what`` took too long."""
        report = tmp_path / "junit.xml"
        proc = subprocess.Popen(
            [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-o", "junit_family=xunit2",
             f"--junitxml={report}", *args],
            cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
        )  # fmt: skip
        try:
            stdout, stderr = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            stdout, stderr = proc.communicate()
            pytest.fail(f"{what} took more than {timeout} s:\n{stdout[-8000:]}{stderr[-4000:]}")
        output = stdout[-8000:] + stderr[-4000:]
        assert report.exists(), f"{what} did not run (exit status {proc.returncode}):\n{output}"
        cases = []
        for case in ET.parse(report).getroot().iter("testcase"):
            kinds = {child.tag for child in case} & {"failure", "error", "skipped"}
            kind = (
                "failure" if "failure" in kinds else "error" if "error" in kinds else "skipped" if kinds else "passed"
            )
            skipped = case.find("skipped")
            reason = (skipped.get("message") or "").removeprefix("Skipped: ") if skipped is not None else ""
            cases.append((f"{case.get('classname')}::{case.get('name')}", kind, reason))
        return PytestRun(cases, output, proc.returncode)

    return run
