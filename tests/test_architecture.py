"""Data flows one way: sources -> ingest -> store -> endpoint. Imports must follow that flow."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# package -> top-level packages it must never import
FORBIDDEN = {
    "ingest": {"endpoint"},
    "endpoint": {"ingest"},
    "creative_graph": {"ingest", "endpoint"},  # the shared kernel; cli.py is the one exception
    "ontology": {"ingest", "endpoint", "creative_graph"},
    "shapes": {"ingest", "endpoint", "creative_graph"},
}
COMPOSITION_ROOT = ROOT / "creative_graph" / "cli.py"


def imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def modules() -> list[tuple[str, Path]]:
    return [
        (package, path)
        for package in FORBIDDEN
        for path in sorted((ROOT / package).rglob("*.py"))
        if path != COMPOSITION_ROOT
    ]


@pytest.mark.parametrize(("package", "path"), modules(), ids=lambda v: str(v).split("/main/")[-1])
def test_module_respects_the_import_direction(package: str, path: Path) -> None:
    assert not imported_packages(path) & FORBIDDEN[package]


def test_the_check_sees_the_modules_it_guards() -> None:
    paths = {p.relative_to(ROOT).as_posix() for _, p in modules()}
    assert {"ingest/pipeline.py", "endpoint/sparql.py", "creative_graph/store.py"} <= paths
    assert imported_packages(ROOT / "ingest" / "pipeline.py") >= {"creative_graph"}


def test_importing_the_app_module_does_no_work() -> None:
    """Nothing happens at import: the app exists only once create_app() is called."""
    import endpoint.app as app_module

    assert not hasattr(app_module, "app")
