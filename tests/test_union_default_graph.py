"""pyoxigraph 0.5.13's union default graph repeats a triple held by several named graphs
(oxigraph issue #1919, fixed for 0.6.0): the project's own queries count each thing once.

A merged actor is described by several sources, so the same triple (its type, its
classification) is in several graphs of the store, as here.
"""

from __future__ import annotations

import re
from pathlib import Path

import pyoxigraph as ox
import pytest

from creative_graph.namespaces import sparql_prefixes
from endpoint.sparql import EXAMPLE_QUERY

ROOT = Path(__file__).resolve().parents[1]
ORG = "http://www.w3.org/ns/org#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
ACTOR = ox.NamedNode("http://test.example/id/actor/a1")
VENUE = ox.NamedNode("https://w3id.org/creative-graph/concept/actor-type/cultural-venue")
SOURCES = [ox.NamedNode(f"http://test.example/graph/source-{n}") for n in (1, 2)]


@pytest.fixture(scope="module")
def store() -> ox.Store:
    """One actor, its type and classification in two sources' graphs; the concept's label in
    the ontology graph."""
    store = ox.Store()
    for graph in SOURCES:
        store.add(ox.Quad(ACTOR, ox.NamedNode(f"{ORG}classification"), VENUE, graph))
        store.add(
            ox.Quad(
                ACTOR,
                ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"),
                ox.NamedNode(f"{ORG}Organization"),
                graph,
            )
        )
    store.add(
        ox.Quad(
            VENUE,
            ox.NamedNode(f"{SKOS}prefLabel"),
            ox.Literal("Cultural venue", language="en"),
            ox.NamedNode("http://test.example/graph/ontology"),
        )
    )
    return store


def _values(store: ox.Store, query: str, variable: str) -> list[str]:
    solutions = store.query(query, use_default_graph_as_union=True)
    assert isinstance(solutions, ox.QuerySolutions)
    return [solution[variable].value for solution in solutions]


def test_pyoxigraph_still_repeats_a_triple_held_by_two_graphs(store) -> None:
    """When this fails, pyoxigraph merges graphs as RDF says (oxigraph #1919): the note in
    docs/CONFORMANCE.md and the DISTINCTs it explains may go."""
    count = f"SELECT (COUNT(*) AS ?n) WHERE {{ ?a a <{ORG}Organization> }}"
    assert _values(store, count, "n") == ["2"]
    merged = (
        f"SELECT (COUNT(*) AS ?n) FROM <{SOURCES[0].value}> FROM <{SOURCES[1].value}> "
        f"WHERE {{ ?a a <{ORG}Organization> }}"
    )
    solutions = store.query(merged)
    assert isinstance(solutions, ox.QuerySolutions)
    assert [solution["n"].value for solution in solutions] == ["2"]


def test_the_query_page_example_counts_each_actor_once(store) -> None:
    query = f"{sparql_prefixes()}\n{EXAMPLE_QUERY}"
    assert _values(store, query, "actors") == ["1"]


def test_the_readme_first_query_counts_each_actor_once(store) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    first = re.search(r"'query=(.*?)'", readme, re.DOTALL)
    assert first is not None
    assert _values(store, first.group(1), "actors") == ["1"]


def _rows(store: ox.Store, query: str, bound: dict | None = None) -> list[tuple[str, ...]]:
    solutions = store.query(query, use_default_graph_as_union=True, substitutions=bound or None)
    assert isinstance(solutions, ox.QuerySolutions)
    sampled = set(re.findall(r"SAMPLE\(\?\w+\) AS \?(\w+)", query))  # any of equal values
    names = [v.value for v in solutions.variables if v.value not in sampled]
    return sorted(tuple(str(s[name]) for name in names) for s in solutions)


@pytest.mark.parametrize("path", sorted((ROOT / "endpoint" / "queries").glob("*.rq")), ids=str)
def test_named_queries_answer_alike_when_every_triple_is_in_two_graphs(
    every_source_store, path
) -> None:
    """The demo's snapshot as it is, and with a copy of each of its triples in another graph."""
    from creative_graph.store import StoreReader

    store = every_source_store.store
    snapshot = store / "published" / StoreReader(store).latest()
    original = ox.Store()
    original.bulk_extend(ox.Store.read_only(str(snapshot)))
    doubled = ox.Store()
    doubled.bulk_extend(original)
    copy = ox.NamedNode("http://test.example/graph/copy")
    doubled.bulk_extend(ox.Quad(q.subject, q.predicate, q.object, copy) for q in original)
    from endpoint.named_queries import binding, read_query
    from endpoint.workers import _terms

    named = read_query(path)
    # each parameter bound to its declared example, as /api/queries/{name} binds a value
    bound = _terms({p.name: binding(p, p.example) for p in named.parameters if p.example})
    query = named.text
    expected = _rows(original, query, bound)
    assert expected, "every named query answers something on the demo's sources"
    assert _rows(doubled, query, bound) == expected
