"""Every code block of the README runs as written (they are what a new user copies first): the Python
programs, the shell commands (long-running ones until they are ready), and the ``--json`` shapes, checked
against what the commands print."""

from __future__ import annotations

import json
import os
import re
import shlex
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
TEXT = README.read_text(encoding="utf-8")
BLOCKS = re.findall(r"```(\w*)\n(.*?)```", TEXT, re.S)
FIRST_COMMANDS = [
    "python3 -m pip install -e . && aioctap demo",
    'python3 -m pip install -e ".[test]" && python3 -m pytest -q',
]


def _blocks(kind: str) -> list[str]:
    return [body for lang, body in BLOCKS if lang == kind]


def test_every_block_is_one_this_file_runs() -> None:
    assert {lang for lang, _ in BLOCKS} <= {"python", "sh", "json"}, "a block of a kind no test runs"


def test_readme_has_the_two_commands_first() -> None:
    lang, first = BLOCKS[0]
    assert lang == "sh" and first.strip().splitlines() == FIRST_COMMANDS


def test_the_first_command_runs_the_demo() -> None:
    from aioctap.cli import app

    result = CliRunner().invoke(app, ["demo"])  # the installed part runs wherever this suite runs
    assert result.exit_code == 0 and "demo finished" in result.output, result.output


def test_ci_runs_the_second_command_verbatim() -> None:
    # the suite cannot run itself from inside: CI runs the README's line as it is
    assert FIRST_COMMANDS[1] in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()


@pytest.mark.parametrize("index", range(len(_blocks("python"))))
def test_readme_program_runs(
    index: int, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    program = _blocks("python")[index]
    if "\nasync def test_" in program:  # a pytest file (the plugin's example): tests/test_pytest_plugin.py runs it
        assert "README.md" in (ROOT / "tests" / "test_pytest_plugin.py").read_text(encoding="utf-8")
        return
    assert "anyio.run(main)" in program, "a Python block that is not a complete program"
    monkeypatch.chdir(tmp_path)  # files a program writes (otp.db) stay out of the tree
    exec(compile(program, f"README program {index}", "exec"), {"__name__": "readme"})
    assert capsys.readouterr().out.strip()


def test_the_tour_prints_credentials_not_cbor_maps(capsys: pytest.CaptureFixture[str]) -> None:
    (tour,) = [b for b in _blocks("python") if "credman.rps()" in b]
    exec(compile(tour, "README tour", "exec"), {"__name__": "readme"})
    out = capsys.readouterr().out
    created = re.search(r"created (\S+)", out)
    assert created is not None and f"example.com Example alice {created.group(1)}" in out
    assert "{" not in out.split("created")[0].splitlines()[-1]  # no raw map


# -- shell blocks ------------------------------------------------------------------------------------------


def _free_port(kind: int) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _commands(block: str) -> list[str]:
    return [line.strip() for line in block.replace("\\\n", " ").splitlines() if line.strip()]


def _split(line: str) -> list[str]:
    try:
        return shlex.split(line, comments=True)
    except ValueError:  # not one command (a quote left open across lines)
        return []


class _Shell:
    """Runs a README shell block's lines: ``export``, ``aioctap ...`` (``&``: in the background), ``VAR=value ...``."""

    def __init__(self, cwd: Path, ports: dict[str, str]) -> None:
        self.cwd = cwd
        self.ports = ports
        self.env = {**os.environ, "PYTHONPATH": str(ROOT), "AIOCTAP_PIN": "", "AIOCTAP_DEVICE": ""}
        self.env.pop("AIOCTAP_PIN")
        self.env.pop("AIOCTAP_DEVICE")
        self.background: list[subprocess.Popen[str]] = []

    def _words(self, line: str) -> tuple[dict[str, str], list[str]]:
        for old, new in self.ports.items():
            line = line.replace(old, new)
        words = shlex.split(line)
        env: dict[str, str] = {}
        while words and re.fullmatch(r"[A-Z_]+=.*", words[0]):
            key, _, value = words.pop(0).partition("=")
            env[key] = value
        return env, words

    def run(self, line: str) -> None:
        background = line.endswith("&")
        env, words = self._words(line.rstrip("&").strip())
        if words[0] == "export":
            key, _, value = words[1].partition("=")
            self.env[key] = value
            return
        if words[0] == "python3":  # the docs build: CI runs it (.ci/run), so CI must say the same
            ci = {" ".join(w for w in _split(c) if w != "-q") for c in (ROOT / ".ci" / "run").read_text().splitlines()}
            for part in line.split("&&"):
                assert " ".join(w for w in shlex.split(part) if w != "-q") in ci, f"not run by .ci/run: {part}"
            return
        assert words[0] == "aioctap", f"a README command this test does not know: {line}"
        argv = [sys.executable, "-m", "aioctap", *words[1:]]
        if background or words[1] in ("virtual", "server"):  # long-running: started, checked ready
            proc = subprocess.Popen(argv, cwd=self.cwd, env={**self.env, **env}, text=True,
                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # fmt: skip
            self.background.append(proc)
            self._wait_ready(proc, words)
            if not background:
                self.stop(proc)
            return
        done = subprocess.run(argv, cwd=self.cwd, env={**self.env, **env}, text=True, capture_output=True, timeout=60)
        assert done.returncode == 0, f"{line}\n{done.stdout}{done.stderr}"

    def _wait_ready(self, proc: subprocess.Popen[str], words: list[str]) -> None:
        assert proc.stdout is not None
        want = "listening on udp:" if words[1] == "virtual" else "in a browser"
        deadline = time.monotonic() + 30
        for line in proc.stdout:
            assert "Traceback" not in line and not line.startswith("error:"), line
            if want in line:
                break
            assert time.monotonic() < deadline, "not ready in 30 s"
        else:
            pytest.fail(f"{' '.join(words)} ended before it was ready (status {proc.wait()})")
        if words[1] == "server":
            url = f"http://127.0.0.1:{words[words.index('--port') + 1]}/"
            while True:  # it says where to go before uvicorn listens
                try:
                    assert httpx.get(url, timeout=10).status_code == 200
                    return
                except httpx.ConnectError:
                    assert proc.poll() is None and time.monotonic() < deadline, "the server did not start"
                    time.sleep(0.1)

    def stop(self, proc: subprocess.Popen[str]) -> None:
        proc.terminate()
        proc.wait(timeout=10)

    def close(self) -> None:
        for proc in self.background:
            if proc.poll() is None:
                self.stop(proc)


@pytest.fixture
def shell(tmp_path: Path) -> Iterator[_Shell]:
    ports = {
        "127.0.0.1:8111": f"127.0.0.1:{_free_port(socket.SOCK_DGRAM)}",
        "8000": str(_free_port(socket.SOCK_STREAM)),
    }
    sh = _Shell(tmp_path, ports)
    try:
        yield sh
    finally:
        sh.close()


@pytest.mark.parametrize("index", range(1, len(_blocks("sh"))))
def test_readme_shell_block_runs(index: int, shell: _Shell) -> None:
    for line in _commands(_blocks("sh")[index]):
        shell.run(line)


# -- the --json shapes -------------------------------------------------------------------------------------


def _same_shape(documented: Any, actual: Any, where: str, *, subset: bool = False) -> None:
    if isinstance(documented, dict):
        assert isinstance(actual, dict), where
        keys = set(documented)
        assert keys <= set(actual) if subset else keys == set(actual), f"{where}: {sorted(keys)} vs {sorted(actual)}"
        for key in keys:
            _same_shape(documented[key], actual[key], f"{where}.{key}", subset=subset)
    elif isinstance(documented, list):
        assert isinstance(actual, list), where
        if documented and isinstance(documented[0], dict):
            assert actual, f"{where}: empty"
            _same_shape(documented[0], actual[0], f"{where}[0]", subset=subset)
    elif documented is not None and actual is not None:
        assert type(documented) is type(actual), f"{where}: {documented!r} vs {actual!r}"


def test_readme_json_shapes_are_what_the_commands_print(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from aioctap.cli import app, devices

    (block,) = _blocks("json")
    shapes = json.loads(block)

    async def one_hid() -> tuple[list[tuple[str, str, str]], str | None]:
        return [("hid:/dev/hidraw3", "1050:0407", "Fake Key")], None

    monkeypatch.setattr(devices, "_hid_descriptors", one_hid)
    env = {"AIOCTAP_DEVICE": f"virtual:{tmp_path / 'a.state'}", "AIOCTAP_PIN": "123456"}

    def run(*args: str, input: str | None = None) -> str:
        result = CliRunner().invoke(app, list(args), env=env, input=input)
        assert result.exit_code == 0, (args, result.output)
        return str(result.stdout)

    run("pin", "set", "--new-pin", "123456")
    cred = run("creds", "create", "--user", "alice").split("example.com: ")[1].split()[0]
    run("blobs", "put", cred, "-", input="hello")
    run("bio", "enroll", "--name", "thumb")
    assert len(shapes) >= 9
    for command, shape in shapes.items():
        words = shlex.split(command.replace("CREDENTIAL_ID", cred).replace("KEY", "JBSWY3DPEHPK3PXP"))
        assert words[0] == "aioctap" and "--json" in words
        # info: the documented members are among the device's
        _same_shape(shape, json.loads(run(*words[1:])), command, subset=words[1] == "info")
