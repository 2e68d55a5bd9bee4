"""The model's examples: the worked example conforms; each failing example fails for its own reason only."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import SH

import shapes
from creative_graph.validation import Validator

ROOT = Path(__file__).resolve().parents[1]
FAILING = sorted((ROOT / "ontology" / "examples" / "failing").glob("*.ttl"))
CGSH = "https://w3id.org/creative-graph/shapes#"


@pytest.fixture(scope="module")
def validator() -> Validator:
    return Validator.default()


def expectation(path: Path) -> dict[str, str]:
    """The `# shape:`, `# focus:` and `# path:` header lines of a failing example."""
    header = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        key, _, value = line.lstrip("# ").partition(":")
        header[key.strip()] = value.strip()
    header["shape"] = header["shape"].replace("cgsh:", CGSH)
    header["path"] = "" if header["path"] == "-" else header["path"]
    return header


@pytest.mark.parametrize("path", FAILING, ids=lambda p: p.stem)
def test_failing_example_fails_for_exactly_its_reason(validator: Validator, path: Path) -> None:
    expected = expectation(path)
    report = validator.validate(Graph().parse(path, format="turtle"))
    found = {(r.focus_node, r.path, r.source_constraint or r.source_shape) for r in report.results}
    assert found == {(expected["focus"], expected["path"], expected["shape"])}, report.results


def named_constraints() -> set[str]:
    """Every rule a steward can break: named property shapes, SPARQL constraints and node-level rules."""
    graph = shapes.graph()
    names = {str(s) for s in graph.subjects(SH.message, None) if isinstance(s, URIRef)}
    return {n for n in names if n.startswith(CGSH)}


def test_every_constraint_has_a_failing_example() -> None:
    covered = {expectation(path)["shape"] for path in FAILING}
    constraints = named_constraints()
    assert len(constraints) >= 90
    assert constraints - covered == set()
    assert covered - constraints == set()  # no example names a rule that does not exist
