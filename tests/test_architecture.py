"""The one-way data flow of docs/architecture: which package may import which, checked on the source."""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PROJECT = ("twins", "fleet", "firmware_agent", "dashboards", "simulator")

#: package → project packages it may import at module level.
ALLOWED: dict[str, set[str]] = {
    "twins": {"twins"},
    "firmware_agent": {"twins", "firmware_agent"},
    "fleet": {"twins", "fleet"},
    "dashboards": {"twins", "fleet", "dashboards"},
    "simulator": {"twins", "firmware_agent", "simulator"},
}
#: (file, package) pairs allowed only inside a function body: the composition roots wiring other processes.
LATE_IMPORTS: set[tuple[str, str]] = {
    ("fleet/cli.py", "dashboards"),  # `serve` and `demo` start the dashboard
    ("fleet/cli.py", "simulator"),  # `demo` and `simulate` start simulated benches
    ("fleet/cli.py", "firmware_agent"),  # `agent` starts the bench agent
    ("simulator/cli.py", "fleet"),  # `simulate --backfill` writes straight into the configured TSDB
}
#: Third-party modules twins/ may use: it is pure logic.
TWINS_THIRD_PARTY = {"pydantic", "pydantic_core", "typing_extensions"}


def _imports(tree: ast.AST) -> Iterator[tuple[str, bool]]:
    """(top-level module, imported inside a function?) for every import in a module."""

    def walk(node: ast.AST, in_function: bool) -> Iterator[tuple[str, bool]]:
        for child in ast.iter_child_nodes(node):
            nested = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            if isinstance(child, ast.Import):
                for alias in child.names:
                    yield alias.name.split(".")[0], in_function
            elif isinstance(child, ast.ImportFrom) and child.level == 0 and child.module:
                yield child.module.split(".")[0], in_function
            yield from walk(child, nested)

    yield from walk(tree, False)


def _sources(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("package", PROJECT)
def test_packages_import_only_what_the_data_flow_allows(package: str) -> None:
    wrong = []
    for path in _sources(package):
        rel = path.relative_to(ROOT).as_posix()
        for module, late in _imports(ast.parse(path.read_text(encoding="utf-8"))):
            if module not in PROJECT or module in ALLOWED[package]:
                continue
            if late and (rel, module) in LATE_IMPORTS:
                continue
            wrong.append(f"{rel} imports {module}{' (inside a function)' if late else ''}")
    assert not wrong, "\n".join(wrong)


def test_twins_is_pure() -> None:
    stdlib = set(sys.stdlib_module_names)
    wrong = []
    for path in _sources("twins"):
        for module, _late in _imports(ast.parse(path.read_text(encoding="utf-8"))):
            if module in stdlib or module in TWINS_THIRD_PARTY or module == "twins" or module == "__future__":
                continue
            wrong.append(f"{path.relative_to(ROOT)} imports {module}")
    assert not wrong, "\n".join(wrong)


def test_the_checker_sees_a_forbidden_import() -> None:
    tree = ast.parse("import os\nfrom fleet.db import store\ndef f():\n    import dashboards.app\n")
    assert list(_imports(tree)) == [("os", False), ("fleet", False), ("dashboards", True)]
