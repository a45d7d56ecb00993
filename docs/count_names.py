"""Count the public names that have a reference entry in the built docs (run after the Sphinx build).

A public name is one in a public module's ``__all__`` (a module without ``__all__``: the names it defines itself
that do not start with ``_``, as ``tests/test_docstrings.py`` counts them). It is documented when the built
inventory (``docs/_build/html/objects.inv``) has it where the reference puts it: in the module that defines it
when that module is public, else in the module that exports it. Exit status 1 when any is missing.

    python docs/count_names.py [docs/_build/html]
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import conf  # noqa: E402
from sphinx.util.inventory import InventoryFile  # noqa: E402


def main(build: Path) -> int:
    with (build / "objects.inv").open("rb") as f:
        inventory = InventoryFile.load(f, "", lambda base, uri: uri)
    data = getattr(inventory, "data", inventory)  # Sphinx 8.2+: an _Inventory with .data; before: a dict
    documented_targets = {name for entries in data.values() for name in entries}
    total = documented = with_all = with_all_documented = 0
    missing: list[str] = []
    targets: set[str] = set()
    for module_name in conf.public_modules():
        module = importlib.import_module(module_name)
        has_all = hasattr(module, "__all__")
        for name in conf.public_names(module):
            total += 1
            with_all += has_all
            target = f"{conf.home_of(module_name, name)}.{name}"
            targets.add(target)
            if target in documented_targets:
                documented += 1
                with_all_documented += has_all
            else:
                missing.append(f"{module_name}.{name} (expected {target})")
    modules = len(conf.public_modules())
    print(
        f"{documented} of {total} public names documented, in {modules} public modules "
        f"({with_all_documented} of {with_all} from __all__, the rest from modules without __all__); "
        f"{len(targets & documented_targets)} of {len(targets)} distinct objects once re-exports are merged"
    )
    for name in missing:
        print("  missing:", name)
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "_build" / "html"))
