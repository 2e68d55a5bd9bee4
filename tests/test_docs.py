"""The docs stay true: every setting, command and module is documented where users look."""

from __future__ import annotations

from pathlib import Path

from creative_graph.cli import app
from creative_graph.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
ARCHITECTURE = (ROOT / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")


def test_readme_starts_with_the_two_commands() -> None:
    top = README[:1500]
    assert "make demo" in top and "make test" in top


def test_every_setting_is_in_the_readme_table() -> None:
    for name in Settings.model_fields:
        assert f"`CREATIVE_GRAPH_{name.upper()}`" in README, name


def test_every_cli_command_is_in_the_readme() -> None:
    commands = [c.name or c.callback.__name__ for c in app.registered_commands]
    assert commands
    for command in commands:
        assert f"creative-graph {command}" in README, command


def test_architecture_names_every_module() -> None:
    for package in ("creative_graph", "ingest", "endpoint"):
        for path in (ROOT / package).rglob("*.py"):
            if path.name == "__init__.py":
                continue
            assert path.relative_to(ROOT).as_posix() in ARCHITECTURE, path


def test_model_picture_is_generated_from_the_current_shapes() -> None:
    from creative_graph.model_diagram import embed, mermaid

    model = (ROOT / "docs" / "MODEL.md").read_text(encoding="utf-8")
    assert "```mermaid\nclassDiagram" in model
    assert embed(model, mermaid()) == model, "docs/MODEL.md is out of date: run make docs"


def test_every_term_named_in_the_model_doc_is_declared() -> None:
    """docs/MODEL.md must not promise a term that does not exist (no terms invented on the fly)."""
    import re

    from rdflib import URIRef
    from terms import is_declared

    from creative_graph.namespaces import PREFIXES

    prefixes = {
        **PREFIXES,
        "rov": "http://www.w3.org/ns/regorg#",
        "time": "http://www.w3.org/2006/time#",
    }
    model = (ROOT / "docs" / "MODEL.md").read_text(encoding="utf-8")
    named = set(re.findall(r"`([a-z]+):([A-Za-z][A-Za-z0-9_]*)`", model))
    terms = {URIRef(prefixes[p] + local) for p, local in named if p in prefixes}
    assert len(terms) > 60
    assert sorted(str(t) for t in terms if not is_declared(t)) == []
