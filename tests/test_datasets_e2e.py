"""A source graph's IRI resolves to the dataset's description: DCAT-AP for machines, a page for people."""

from __future__ import annotations

import json
import re

import httpx
import pytest
from conftest import BASE_IRI
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, RDF

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


def test_graphs_that_are_not_datasets_are_404(live_server) -> None:
    assert httpx.get(f"{live_server.url}/graph/ontology").status_code == 404
    assert httpx.get(f"{live_server.url}/graph/no-such-source").status_code == 404
