"""The compiled SPARQL validator reports exactly what pySHACL reports, on every example and source."""

from __future__ import annotations

import random
from functools import cache
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import SH

import ontology
import shapes
from creative_graph import sparql_validation
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


@cache
def mapped(source: Path) -> Graph:
    manifest = load_manifest(source)
    return mappers()[manifest.mapper](manifest, Iris("http://localhost:8000/")).to_graph()


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.name)
def test_same_results_as_pyshacl_on_every_real_source(validators, source: Path) -> None:
    reference, compiled = validators
    graph = mapped(source)
    expected = results(reference.validate(graph), False)
    assert results(compiled.validate(graph), True) == expected


def store_of(graph: Graph) -> ox.Store:
    store = ox.Store()
    store.load(graph.serialize(format="nt", encoding="utf-8"), format=ox.RdfFormat.N_TRIPLES)
    return store


def assert_focus_keeps_results(validator: SparqlValidator, store: ox.Store, seed: int) -> None:
    """Validating some focus nodes gives exactly the whole validation's results about them."""
    whole = validator.validate_store(store).results
    assert len(set(whole)) == len(whole)
    nodes = sorted(
        {str(q.subject.value) for q in store if isinstance(q.subject, ox.NamedNode)}
        | {r.focus_node for r in whole}
    )
    rng = random.Random(seed)
    focus_sets = [
        set(nodes),
        set(),
        {"http://example.org/not-in-the-data"},
        {r.focus_node for r in whole},  # every node with a result, and nothing else
        *(set(rng.sample(nodes, rng.randint(1, len(nodes)))) for _ in range(3)),
    ]
    for focus in focus_sets:
        expected = tuple(r for r in whole if r.focus_node in focus)
        assert validator.validate_store(store, focus=focus).results == expected


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_a_focused_validation_has_the_whole_results_about_its_focus_on_every_example(
    validators, path: Path
) -> None:
    assert_focus_keeps_results(validators[1], store_of(Graph().parse(path)), seed=len(path.name))


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.name)
def test_a_focused_validation_has_the_whole_results_about_its_focus_on_every_source(
    validators, source: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sparql_validation, "FOCUS_BATCH", 7)  # many batches per check
    assert_focus_keeps_results(validators[1], store_of(mapped(source)), seed=len(source.name))


def test_a_blank_focus_node_cannot_be_named(validators) -> None:
    with pytest.raises(ValueError, match="blank node"):
        validators[1].validate_store(ox.Store(), focus=["_:b0"])


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
