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


def test_a_focused_validation_asks_each_target_which_focus_nodes_it_selects() -> None:
    """Targets by class (also through a subclass the data declares), by a SPARQL query, and by
    both: a check runs only for the focus nodes its target selects, with the same results."""
    shapes_graph = Graph().parse(
        data="""@prefix sh: <http://www.w3.org/ns/shacl#> . @prefix ex: <http://example.org/> .
        ex:S a sh:NodeShape ; sh:targetClass ex:C ;
            sh:target [ sh:select "SELECT ?this WHERE { ?this <http://example.org/flag> true }" ] ;
            sh:property [ sh:path ex:p ; sh:minCount 1 ; sh:message "p needed" ] .
        ex:T a sh:NodeShape ; sh:targetClass ex:D , ex:E ;
            sh:property [ sh:path ex:q ; sh:maxCount 1 ; sh:message "one q" ] .
        ex:U a sh:NodeShape ;
            sh:target [ sh:select "SELECT ?this WHERE { ?this <http://example.org/q> ?q }" ] ;
            sh:property [ sh:path ex:q ; sh:datatype <http://www.w3.org/2001/XMLSchema#integer> ;
                          sh:message "q is an integer" ] .""",
        format="turtle",
    )
    data = Graph().parse(
        data="""@prefix ex: <http://example.org/> . @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
        ex:Sub rdfs:subClassOf ex:C .
        ex:a a ex:C .  ex:b ex:flag true .  ex:c a ex:Sub .  ex:d a ex:C ; ex:flag true .
        ex:e a ex:C ; ex:p 1 .  ex:f a ex:D ; ex:q 1, 2 .  ex:g a ex:E , ex:D ; ex:q 1, "x" .
        ex:h ex:q "y" .  ex:i a ex:D .""",
        format="turtle",
    )
    validator = SparqlValidator(shapes_graph, Graph())
    assert len(validator.validate_store(store_of(data)).results) == 8
    for seed in range(5):
        assert_focus_keeps_results(validator, store_of(data), seed=seed)


class CountingStore:
    """A store that keeps the queries run on it."""

    def __init__(self, store: ox.Store) -> None:
        self.store = store
        self.queries: list[str] = []

    def query(self, query: str, **options: object) -> object:
        self.queries.append(query)
        return self.store.query(query, **options)

    def __contains__(self, quad: ox.Quad) -> bool:
        return quad in self.store

    def extend(self, quads: list[ox.Quad]) -> None:
        self.store.extend(quads)

    def remove(self, quad: ox.Quad) -> None:
        self.store.remove(quad)


def test_a_focused_validation_runs_only_the_checks_whose_target_selects_a_focus_node(
    validators,
) -> None:
    """The focus nodes' classes are asked once (and each SPARQL target), then an address's
    checks run, and no other: joining every focus node into every check cost a write of
    2,000 nodes 8 s on the demo store."""
    validator = validators[1]
    store = CountingStore(store_of(Graph().parse(EXAMPLES[0])))
    address = "https://example.org/id/address/"
    [node] = [
        r["a"].value
        for r in store.store.query(
            f'SELECT ?a WHERE {{ ?a a ?c FILTER STRSTARTS(STR(?a), "{address}") }} LIMIT 1'
        )
    ]
    focus = {node, "http://example.org/not-in-the-data"}
    validator.validate_store(store, focus=focus)  # type: ignore[arg-type]
    address_checks = [
        c for c in validator.checks if c.classes and any("locn#Address" in k for k in c.classes)
    ]
    assert address_checks
    asked = len(store.queries)
    targets_asked = 1 + len({c.target for c in validator.checks if c.classes is None})
    assert asked == targets_asked + len(address_checks)


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
