"""The compiled SPARQL validator reports exactly what pySHACL reports, on every example and source."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import SH

import ontology
import shapes
from creative_graph.iris import Iris
from creative_graph.sparql_validation import SparqlValidator, UnsupportedShape, compile_shapes
from creative_graph.validation import Validator
from ingest.manifest import load_manifest
from ingest.mappers import mappers

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = [
    ROOT / "ontology" / "examples" / "brussels-creative.ttl",
    *sorted((ROOT / "ontology" / "examples" / "failing").glob("*.ttl")),
]
SOURCES = sorted(p.parent for p in (ROOT / "data" / "sources").glob("*/source.toml"))


@pytest.fixture(scope="module")
def validators() -> tuple[Validator, SparqlValidator]:
    graph, context = shapes.graph(), ontology.validation_graph()
    return Validator(graph, context), SparqlValidator(graph, context)


def results(report, compiled: bool) -> set[tuple[str, str, str, str]]:
    return {
        (
            r.focus_node,
            r.path,
            r.source_shape if compiled else (r.source_constraint or r.source_shape),
            r.severity,
        )
        for r in report.results
    }


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_same_results_as_pyshacl_on_every_example(validators, path: Path) -> None:
    reference, compiled = validators
    graph = Graph().parse(path)
    assert results(compiled.validate(graph), True) == results(reference.validate(graph), False)


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.name)
def test_same_results_as_pyshacl_on_every_real_source(validators, source: Path) -> None:
    reference, compiled = validators
    manifest = load_manifest(source)
    graph = mappers()[manifest.mapper](manifest, Iris("http://localhost:8000/")).graph
    expected = results(reference.validate(graph), False)
    assert results(compiled.validate(graph), True) == expected


def test_every_rule_is_compiled() -> None:
    graph = shapes.graph()
    rules = {str(s) for s in graph.subjects(SH.message, None) if isinstance(s, URIRef)}
    assert len(rules) >= 100
    assert rules - {check.shape for check in compile_shapes(graph)} == set()


def test_unsupported_features_are_refused_not_skipped() -> None:
    extra = Graph().parse(
        data="""@prefix sh: <http://www.w3.org/ns/shacl#> . @prefix ex: <http://example.org/> .
        ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:property [ sh:path ex:p ; sh:minLength 3 ] .""",
        format="turtle",
    )
    with pytest.raises(UnsupportedShape, match="minLength"):
        compile_shapes(extra)
