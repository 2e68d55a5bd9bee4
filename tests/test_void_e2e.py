"""The VoID description at /.well-known/void: real statistics, current after every ingest."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from conftest import BASE_IRI, copy_source, run_server
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, VOID

from ingest.manifest import load_manifest
from ingest.pipeline import ingest_source

XSD_INTEGER = URIRef("http://www.w3.org/2001/XMLSchema#integer")

pytestmark = pytest.mark.e2e
STEWARD = Path(__file__).parents[1] / "data" / "sources" / "steward-example"


def _count(server_url: str, query: str) -> int:
    response = httpx.get(
        server_url + "/sparql",
        params={"query": query},
        headers={"Accept": "application/sparql-results+json"},
    )
    return int(response.json()["results"]["bindings"][0]["n"]["value"])


def _void(server_url: str) -> Graph:
    response = httpx.get(server_url + "/.well-known/void", headers={"Accept": "text/turtle"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/turtle")
    return Graph().parse(data=response.text, format="turtle")


def test_void_counts_what_sparql_counts_and_follows_ingests(
    settings, source_copy, validator, tmp_path: Path
) -> None:
    ingest_source(load_manifest(source_copy), settings, validator)
    first = URIRef(f"{BASE_IRI}graph/{load_manifest(source_copy).name}")
    for server in run_server(settings):
        void = _void(server.url)
        whole = URIRef(BASE_IRI + "void#dataset")
        assert (whole, RDF.type, VOID.Dataset) in void
        assert (whole, VOID.sparqlEndpoint, URIRef(BASE_IRI + "sparql")) in void
        assert (whole, VOID.subset, first) in void
        triples = _count(
            server.url, f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{first}> {{ ?s ?p ?o }} }}"
        )
        assert void.value(first, VOID.triples) == Literal(triples, datatype=XSD_INTEGER)
        organisations = _count(
            server.url,
            "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE "
            f"{{ GRAPH <{first}> {{ ?s a <http://www.w3.org/ns/org#Organization> }} }}",
        )
        partitions = {
            void.value(p, VOID["class"]): void.value(p, VOID.entities).toPython()
            for p in void.objects(first, VOID.classPartition)
        }
        assert organisations > 0
        assert partitions[URIRef("http://www.w3.org/ns/org#Organization")] == organisations
        assert void.value(first, VOID.entities).toPython() > organisations
        assert void.value(first, VOID.classes).toPython() == len(partitions)

        # another source arrives: the description follows the new snapshot
        second_source = copy_source(STEWARD, tmp_path / "steward")
        ingest_source(load_manifest(second_source), settings, validator)
        second = URIRef(f"{BASE_IRI}graph/{load_manifest(second_source).name}")
        after = _void(server.url)
        assert (whole, VOID.subset, second) in after
        assert (
            after.value(whole, VOID.triples).toPython() > void.value(whole, VOID.triples).toPython()
        )


def test_void_answers_rdf_formats_and_revalidates(live_server) -> None:
    url = live_server.url + "/.well-known/void"
    for media_type in ("application/ld+json", "application/rdf+xml", "application/n-triples"):
        response = httpx.get(url, headers={"Accept": media_type})
        assert response.status_code == 200
        assert response.headers["content-type"].startswith(media_type)
    first = httpx.get(url, headers={"Accept": "text/turtle"})
    again = httpx.get(
        url, headers={"Accept": "text/turtle", "If-None-Match": first.headers["etag"]}
    )
    assert again.status_code == 304
    assert httpx.get(url, headers={"Accept": "image/png"}).status_code == 406
