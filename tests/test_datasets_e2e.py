"""A named graph's IRI resolves: a source graph to the dataset's description (DCAT-AP for
machines, a page for people), the instance's own graphs to what they hold (VoID, a page)."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator

import httpx
import pytest
from conftest import BASE_IRI
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, RDF, RDFS, VOID

pytestmark = pytest.mark.e2e
DCAT = Namespace("http://www.w3.org/ns/dcat#")  # open: the closed rdflib one warns under pytest
NAME = "brussels-culture-poi"


def test_the_graph_iri_gives_its_dcat_description(live_server) -> None:
    for url, headers in (
        (f"{live_server.url}/graph/{NAME}", {"Accept": "text/turtle"}),
        (f"{live_server.url}/graph/{NAME}.ttl", {}),
    ):
        response = httpx.get(url, headers=headers)
        assert response.status_code == 200 and response.headers["content-type"].startswith(
            "text/turtle"
        )
        graph = Graph().parse(data=response.text, format="turtle")
        dataset = URIRef(f"{BASE_IRI}graph/{NAME}")
        assert (dataset, RDF.type, DCAT.Dataset) in graph
        assert (dataset, DCTERMS.identifier, Literal(NAME)) in graph
        licences = {
            graph.value(d, DCTERMS.license) for d in graph.objects(dataset, DCAT.distribution)
        }
        assert len(licences) == 1 and None not in licences  # DCAT-AP: on its distributions
        # only this dataset, not the catalogue's others
        assert set(graph.subjects(RDF.type, DCAT.Dataset)) == {dataset}


def test_the_dataset_page_for_people_and_search_engines(live_server) -> None:
    page = httpx.get(f"{live_server.url}/graph/{NAME}", headers={"Accept": "text/html"})
    assert page.status_code == 200
    (script,) = re.findall(r'<script type="application/ld\+json">(.*?)</script>', page.text, re.S)
    data = json.loads(script)
    assert data["@type"] == "Dataset" and data["identifier"] == NAME
    assert data["license"].startswith("http") and data["name"]
    assert "Query it with SPARQL" in page.text
    home = httpx.get(live_server.url + "/", headers={"Accept": "text/html"}).text
    assert f'href="/graph/{NAME}"' in home


def test_a_graph_that_is_not_there_is_404(live_server) -> None:
    assert httpx.get(f"{live_server.url}/graph/no-such-source").status_code == 404
    assert httpx.get(f"{live_server.url}/graph/no-such-source.ttl").status_code == 404


def _void(live_server, name: str) -> Graph:
    response = httpx.get(f"{live_server.url}/graph/{name}", headers={"Accept": "text/turtle"})
    assert response.status_code == 200 and response.headers["etag"]
    return Graph().parse(data=response.text, format="turtle")


def _count(live_server, query: str) -> int:
    response = httpx.get(
        f"{live_server.url}/sparql", params={"query": query}, headers={"Accept": "text/csv"}
    )
    return int(response.text.splitlines()[1])


def test_the_instance_graphs_resolve_to_what_they_hold(live_server) -> None:
    """The home page links the ontology, runs and identity graphs: each IRI gives a page and a
    VoID description, with its triple count as the SPARQL endpoint counts it."""
    home = httpx.get(live_server.url + "/", headers={"Accept": "text/html"}).text
    for name in ("ontology", "runs", "identity"):
        assert f'href="/graph/{name}"' in home
        iri = URIRef(f"{BASE_IRI}graph/{name}")
        triples = _count(
            live_server, f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{iri}> {{ ?s ?p ?o }} }}"
        )
        described = _void(live_server, name)
        assert (iri, RDF.type, VOID.Dataset) in described
        assert described.value(iri, VOID.triples).toPython() == triples > 0
        assert described.value(iri, DCTERMS.description) is not None
        page = httpx.get(f"{live_server.url}/graph/{name}", headers={"Accept": "text/html"})
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert f"<strong>{triples}</strong> triples" in page.text
        assert f'href="/graph/{name}.ttl"' in page.text
    ontology = httpx.get(f"{live_server.url}/graph/ontology", headers={"Accept": "text/html"})
    assert 'href="/ns"' in ontology.text
    assert (URIRef(f"{BASE_IRI}graph/ontology"), RDFS.seeAlso, URIRef(f"{BASE_IRI}ns")) in _void(
        live_server, "ontology"
    )


def test_the_runs_graph_lists_the_runs_and_the_query_for_all(live_server) -> None:
    page = httpx.get(f"{live_server.url}/graph/runs", headers={"Accept": "text/html"}).text
    assert f"ingest of {NAME}" in page
    (run,) = re.findall(r'href="(/id/run/\w+)"', page)  # one ingest in the demo store
    assert httpx.get(live_server.url + run).status_code == 303
    (link,) = re.findall(r'href="(/sparql\?query=[^"]+)">every run, with SPARQL', page)
    rows = httpx.get(
        live_server.url + html.unescape(link), headers={"Accept": "application/sparql-results+json"}
    ).json()["results"]["bindings"]
    assert [row["run"]["value"] for row in rows] == [BASE_IRI + run.removeprefix("/")]


@pytest.fixture
def merged(settings, validator) -> Iterator[str]:
    """The demo source, and one actor IRI replaced by another as a merge leaves it."""
    from conftest import DEMO_SOURCE, run_server

    from creative_graph.store import StoreReader, StoreWriter, canonical_lines
    from ingest.manifest import load_manifest
    from ingest.pipeline import ingest_source

    assert ingest_source(load_manifest(DEMO_SOURCE), settings, validator).status == "loaded"
    (row,) = StoreReader(settings.store).select(
        "SELECT ?a WHERE { ?a a <http://www.w3.org/ns/org#Organization> } ORDER BY ?a LIMIT 1"
    )
    old, new = f"{BASE_IRI}id/actor/old", row["a"]
    data = (
        f"<{old}> <http://purl.org/dc/terms/isReplacedBy> <{new}> .\n"
        f"<{old}> <http://www.w3.org/2002/07/owl#sameAs> <{new}> .\n"
    ).encode()
    with StoreWriter(settings.store) as writer:
        writer.replace_graph(f"{BASE_IRI}graph/identity", canonical_lines(data))
        writer.publish()
    for server in run_server(settings):
        yield server.url


def test_the_identity_graph_lists_the_replaced_iris(merged: str) -> None:
    page = httpx.get(f"{merged}/graph/identity", headers={"Accept": "text/html"}).text
    assert f"<code>{BASE_IRI}id/actor/old</code>" in page
    (survivor,) = re.findall(r'href="/id/actor/old">.*?</td><td><a href="(/id/actor/\w+)"', page)
    replaced = httpx.get(f"{merged}/id/actor/old")
    assert replaced.status_code == 301 and replaced.headers["location"] == survivor
    described = _void_at(merged, "identity")
    assert URIRef(f"{BASE_IRI}id/actor/old") in set(described.objects(None, VOID.exampleResource))


def _void_at(url: str, name: str) -> Graph:
    response = httpx.get(f"{url}/graph/{name}.ttl")
    assert response.status_code == 200
    return Graph().parse(data=response.text, format="turtle")
