"""The one-way data flow of docs/architecture.md: which package may import which, checked on the source."""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PROJECT = ("twins", "mqttlink", "fleet", "firmware_agent", "dashboards", "simulator")

#: package → project packages it may import at module level.
ALLOWED: dict[str, set[str]] = {
    "twins": {"twins"},
    "mqttlink": {"twins", "mqttlink"},
    "firmware_agent": {"twins", "mqttlink", "firmware_agent"},
    "fleet": {"twins", "mqttlink", "fleet"},
    "dashboards": {"twins", "fleet", "dashboards"},
    "simulator": {"twins", "mqttlink", "firmware_agent", "simulator"},
}
#: (file, package) pairs allowed only inside a function body: the composition roots wiring other processes.
LATE_IMPORTS: set[tuple[str, str]] = {
    ("fleet/cli.py", "dashboards"),  # `serve` and `demo` start the dashboard
    ("fleet/cli.py", "simulator"),  # `demo` and `simulate` start simulated benches
    ("fleet/cli.py", "firmware_agent"),  # `agent` starts the bench agent
    ("simulator/cli.py", "fleet"),  # `simulate --backfill` writes straight into the configured TSDB
}
#: Third-party modules a pure package may use: twins/ is logic only, mqttlink/ only sets up paho.
THIRD_PARTY = {
    "twins": {"pydantic", "pydantic_core", "typing_extensions"},
    "mqttlink": {"paho"},
}


def _package_of(rel: str) -> list[str]:
    """Dotted package of a source file as a list: ``firmware_agent/transport/paho.py`` → [firmware_agent, transport]."""
    return rel.removesuffix(".py").split("/")[:-1]


def _imports(tree: ast.AST, package: list[str] | None = None) -> Iterator[tuple[str, bool]]:
    """(top-level module, imported inside a function?) for every import, relative ones resolved in ``package``."""

    def walk(node: ast.AST, in_function: bool) -> Iterator[tuple[str, bool]]:
        for child in ast.iter_child_nodes(node):
            nested = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            if isinstance(child, ast.Import):
                for alias in child.names:
                    yield alias.name.split(".")[0], in_function
            elif isinstance(child, ast.ImportFrom) and child.level == 0 and child.module:
                yield child.module.split(".")[0], in_function
            elif isinstance(child, ast.ImportFrom):
                yield _resolve_relative(child, package or []), in_function
            yield from walk(child, nested)

    yield from walk(tree, False)


def _resolve_relative(node: ast.ImportFrom, package: list[str]) -> str:
    """The top-level module a relative import reaches; ``<outside>`` if it climbs above the project package."""
    if node.level > len(package):
        return "<outside>"
    base = package[: len(package) - node.level + 1]
    target = [*base, *(node.module.split(".") if node.module else [])]
    return target[0]


def _sources(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _module_imports(path: Path) -> Iterator[tuple[str, bool]]:
    return _imports(ast.parse(path.read_text(encoding="utf-8")), _package_of(_rel(path)))


@pytest.mark.parametrize("package", PROJECT)
def test_packages_import_only_what_the_data_flow_allows(package: str) -> None:
    wrong = []
    for path in _sources(package):
        rel = _rel(path)
        for module, late in _module_imports(path):
            if module == "<outside>":
                wrong.append(f"{rel} has a relative import above its package")
                continue
            if module not in PROJECT or module in ALLOWED[package]:
                continue
            if late and (rel, module) in LATE_IMPORTS:
                continue
            wrong.append(f"{rel} imports {module}{' (inside a function)' if late else ''}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("package", sorted(THIRD_PARTY))
def test_pure_packages_import_only_their_libraries(package: str) -> None:
    stdlib = set(sys.stdlib_module_names) | {"__future__"}
    wrong = []
    for path in _sources(package):
        for module, _late in _module_imports(path):
            if module in stdlib or module in THIRD_PARTY[package] or module in ALLOWED[package]:
                continue
            wrong.append(f"{_rel(path)} imports {module}")
    assert not wrong, "\n".join(wrong)


def test_the_checker_sees_a_forbidden_import() -> None:
    tree = ast.parse("import os\nfrom fleet.db import store\ndef f():\n    import dashboards.app\n")
    assert list(_imports(tree)) == [("os", False), ("fleet", False), ("dashboards", True)]


def test_the_checker_resolves_relative_imports() -> None:
    source = "from .agent import BenchAgent\nfrom ..wire import status_topic\nfrom . import x\nfrom ... import y\n"
    tree = ast.parse(source)
    resolved = [module for module, _late in _imports(tree, ["firmware_agent", "transport"])]
    assert resolved == ["firmware_agent", "firmware_agent", "firmware_agent", "<outside>"]


def test_every_project_package_is_installed_and_shipped() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    for package in PROJECT:
        assert f'"{package}*"' in pyproject, f"{package} missing from [tool.setuptools.packages.find]"
        assert f"COPY {package} {package}" in dockerfile, f"{package} missing from the Dockerfile"


def test_the_architecture_page_names_every_package_and_its_rules() -> None:
    page = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    for package in PROJECT:
        assert f"| `{package}/` |" in page, f"docs/architecture.md has no row for {package}/"
    assert "## Where each concept lives" in page
