"""Instance IRIs dereference: 303 to a document, HTML for people, RDF for machines."""

from __future__ import annotations

import httpx
import pytest
from conftest import BASE_IRI
from rdflib import Graph, URIRef
from rdflib.namespace import SKOS

from creative_graph.store import StoreReader

pytestmark = pytest.mark.e2e


def flagey(settings) -> str:
    rows = StoreReader(settings.store).select(
        'SELECT ?a WHERE { ?a <http://www.w3.org/2004/02/skos/core#hiddenLabel> "FLAGEY"@fr }'
    )
    return rows[0]["a"]


def test_thing_iri_answers_303_to_its_document(live_server) -> None:
    iri = flagey(live_server.settings)
    path = iri.removeprefix(BASE_IRI)
    response = httpx.get(f"{live_server.url}/{path}", headers={"Accept": "text/turtle"})
    assert response.status_code == 303
    assert response.headers["location"] == "/" + path.replace("id/", "doc/", 1)


@pytest.mark.parametrize(
    ("how", "rdflib_format"),
    [
        ({"Accept": "text/turtle"}, "turtle"),
        ({"Accept": "application/ld+json"}, "json-ld"),
        ({"suffix": ".rdf"}, "xml"),
        ({"suffix": ".nt"}, "nt"),
    ],
)
def test_document_in_rdf_formats(live_server, how: dict, rdflib_format: str) -> None:
    iri = flagey(live_server.settings)
    path = "/" + iri.removeprefix(BASE_IRI).replace("id/", "doc/", 1) + how.get("suffix", "")
    headers = {"Accept": how["Accept"]} if "Accept" in how else {}
    response = httpx.get(live_server.url + path, headers=headers)
    assert response.status_code == 200 and "Accept" in response.headers["vary"]
    assert 'rel="alternate"' in response.headers["link"]
    graph = Graph().parse(data=response.content, format=rdflib_format)
    assert (URIRef(iri), SKOS.prefLabel, None) in graph
    wkt = list(graph.objects(None, URIRef("http://www.opengis.net/ont/geosparql#asWKT")))
    assert wkt  # the site's geometry comes with the actor


def test_document_as_html_escapes_and_links(live_server) -> None:
    iri = flagey(live_server.settings)
    path = "/" + iri.removeprefix(BASE_IRI).replace("id/", "doc/", 1)
    page = httpx.get(live_server.url + path, headers={"Accept": "text/html"})
    assert page.status_code == 200 and "<h1>Flagey</h1>" in page.text
    assert 'href="/doc/site/' in page.text  # its site links to the site's own document


def test_unknown_iri_is_404(live_server) -> None:
    assert httpx.get(live_server.url + "/id/actor/nosuchkey").status_code == 404
    assert httpx.get(live_server.url + "/doc/actor/nosuchkey").status_code == 404


def test_merged_iri_redirects_to_its_survivor(settings) -> None:
    from conftest import run_server

    from creative_graph.store import StoreWriter, canonical_lines

    old, new = f"{settings.base_iri}id/actor/old", f"{settings.base_iri}id/actor/new"
    data = (
        f"<{old}> <http://purl.org/dc/terms/isReplacedBy> <{new}> .\n"
        f"<{old}> <http://www.w3.org/2002/07/owl#sameAs> <{new}> .\n"
    ).encode()
    with StoreWriter(settings.store) as writer:
        writer.replace_graph(settings.base_iri + "graph/identity", canonical_lines(data))
        writer.publish()
    for server in run_server(settings):
        response = httpx.get(server.url + "/id/actor/old")
        assert response.status_code == 301 and response.headers["location"] == "/id/actor/new"
