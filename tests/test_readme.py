"""The README's complete programs run as written (they are what a new user copies first)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"


def _programs() -> list[str]:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    return [b for b in blocks if "anyio.run(main)" in b]  # the self-contained programs


def test_readme_has_the_two_commands_first() -> None:
    first = re.search(r"```sh\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    assert first is not None
    lines = first.group(1).strip().splitlines()
    assert lines == [
        "python3 -m pip install -e . && aioctap demo",
        'python3 -m pip install -e ".[test]" && python3 -m pytest -q',
    ]


@pytest.mark.parametrize("index", range(len(_programs())))
def test_readme_program_runs(index: int, capsys: pytest.CaptureFixture[str]) -> None:
    exec(compile(_programs()[index], f"README program {index}", "exec"), {"__name__": "readme"})
    assert capsys.readouterr().out.strip()
