"""``.ci/floors.txt`` pins every lower bound of pyproject.toml, so the CI step that installs it tests the floors."""

from __future__ import annotations

import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
TOOLS = {"mypy", "ruff"}  # in the test extra for CI's lint and type-check steps; no test imports them


def _floor(requirement: Requirement) -> Version:
    floors = [Version(spec.version) for spec in requirement.specifier if spec.operator == ">="]
    assert len(floors) == 1, f"{requirement}: one lower bound (>=) expected"
    return floors[0]


def _padded(version: Version) -> tuple[int, ...]:
    return version.release + (0,) * (3 - len(version.release))


def _pins() -> dict[str, Version]:
    pins: dict[str, Version] = {}
    for line in (ROOT / ".ci" / "floors.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins[name.strip().lower()] = Version(version.strip())
    return pins


def test_floors_file_pins_every_lower_bound() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = [Requirement(r) for r in project["dependencies"] + project["optional-dependencies"]["test"]]
    pins = _pins()
    wanted = set()
    for requirement in requirements:
        name = requirement.name.lower()
        if name in TOOLS:
            continue
        wanted.add(name)
        floor = _floor(requirement)
        assert name in pins, f"{name} has no pin in .ci/floors.txt"
        pin = pins[name]
        # the pin is the floor itself (48 is 48.0.0), or its first release where versions carry a date in a fourth
        # component (publicsuffixlist 1.0 -> 1.0.0.20240620)
        assert _padded(pin)[:3] == _padded(floor)[:3], f"{name}: pinned {pin}, floor {floor}"
        assert pin in requirement.specifier, f"{name}: pinned {pin} outside {requirement.specifier}"
    assert set(pins) == wanted, f"pins without a requirement: {set(pins) - wanted}"
