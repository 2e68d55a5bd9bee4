"""The dataset a query runs on (SPARQL 1.1 Query §13.2, Protocol §2.1.4), on the real server.

A query's `FROM` / `FROM NAMED` give its dataset (`FROM NAMED` alone: an empty default graph);
`default-graph-uri` / `named-graph-uri` replace it; only with neither is the default graph the
union of the named graphs, the service's own default.
"""

from __future__ import annotations

import httpx
import pytest
from conftest import BASE_IRI
from rdflib import Graph

pytestmark = pytest.mark.e2e
POI = BASE_IRI + "graph/brussels-culture-poi"
RUNS = BASE_IRI + "graph/runs"
JSON = {"Accept": "application/sparql-results+json"}
COUNT_ALL = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
GRAPHS = "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"


def _rows(server, query: str, **graphs: str | list[str]) -> list[dict[str, str]]:
    params = {"query": query} | {name.replace("_", "-"): value for name, value in graphs.items()}
    response = httpx.get(server.url + "/sparql", params=params, headers=JSON)
    assert response.status_code == 200, response.text
    return [
        {name: cell["value"] for name, cell in row.items()}
        for row in response.json()["results"]["bindings"]
    ]


def _count(server, query: str, **graphs: str | list[str]) -> int:
    return int(_rows(server, query, **graphs)[0]["n"])


def _construct(server, query: str) -> Graph:
    response = httpx.get(
        server.url + "/sparql", params={"query": query}, headers={"Accept": "text/turtle"}
    )
    assert response.status_code == 200, response.text
    return Graph().parse(data=response.text, format="turtle")


def test_from_makes_the_default_graph_that_graph_alone(live_server) -> None:
    in_poi = _count(
        live_server, f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{POI}> {{ ?s ?p ?o }} }}"
    )
    union = _count(live_server, COUNT_ALL)
    assert 0 < in_poi < union
    assert _count(live_server, f"SELECT (COUNT(*) AS ?n) FROM <{POI}> WHERE {{ ?s ?p ?o }}") == (
        in_poi
    )
    # written in any case, and its named graphs are none (no FROM NAMED)
    assert _rows(live_server, f"select ?g from <{POI}> where {{ GRAPH ?g {{ }} }}") == []


def test_construct_from_a_graph_gives_that_graph(live_server) -> None:
    from_runs = _construct(
        live_server, f"CONSTRUCT {{ ?s ?p ?o }} FROM <{RUNS}> WHERE {{ ?s ?p ?o }}"
    )
    in_runs = _construct(
        live_server, f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{RUNS}> {{ ?s ?p ?o }} }}"
    )
    assert len(from_runs) > 0 and set(from_runs) == set(in_runs)
    assert len(_construct(live_server, "CONSTRUCT WHERE { ?s ?p ?o }")) > len(from_runs)


def test_from_named_alone_leaves_the_default_graph_empty(live_server) -> None:
    query = f"SELECT (COUNT(*) AS ?n) FROM NAMED <{POI}> WHERE {{ ?s ?p ?o }}"
    assert _count(live_server, query) == 0
    named = f"SELECT DISTINCT ?g FROM NAMED <{POI}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}"
    assert _rows(live_server, named) == [{"g": POI}]
    both = f"SELECT (COUNT(*) AS ?n) FROM <{RUNS}> FROM NAMED <{POI}> WHERE {{ ?s ?p ?o }}"
    assert _count(live_server, both) == _count(
        live_server, f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{RUNS}> {{ ?s ?p ?o }} }}"
    )


def test_named_graph_uri_alone_leaves_the_default_graph_empty(live_server) -> None:
    assert _count(live_server, COUNT_ALL, named_graph_uri=POI) == 0
    assert _rows(live_server, GRAPHS, named_graph_uri=POI) == [{"g": POI}]


def test_the_protocol_dataset_replaces_the_query_dataset(live_server) -> None:
    in_runs = _count(
        live_server, f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{RUNS}> {{ ?s ?p ?o }} }}"
    )
    query = f"SELECT (COUNT(*) AS ?n) FROM <{POI}> WHERE {{ ?s ?p ?o }}"
    assert _count(live_server, query, default_graph_uri=RUNS) == in_runs
    # the protocol names no named graph: the query's FROM NAMED is replaced too
    named = f"SELECT DISTINCT ?g FROM NAMED <{POI}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}"
    assert _rows(live_server, named, default_graph_uri=RUNS) == []


def test_without_a_dataset_the_default_graph_is_the_union(live_server) -> None:
    in_graphs = _count(live_server, "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }")
    assert _count(live_server, COUNT_ALL) == in_graphs
    # FROM in a comment, a string or an IRI names no dataset
    for query in (
        f"SELECT (COUNT(*) AS ?n) WHERE {{ ?s ?p ?o }} # FROM <{POI}>",
        "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o BIND ('FROM <x>' AS ?text) }",
        "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o BIND (<http://x.example/FROM> AS ?iri) }",
    ):
        assert _count(live_server, query) == in_graphs, query
