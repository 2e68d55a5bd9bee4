"""The model is published: /ns, /concept/... and /shapes resolve for people and machines."""

from __future__ import annotations

import json

import httpx
import pytest
from rdflib import Graph, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import OWL, RDF, SKOS

import ontology
import shapes

pytestmark = pytest.mark.e2e
ONTOLOGY = URIRef("https://w3id.org/creative-graph/ns")


@pytest.mark.parametrize(
    ("accept", "rdflib_format"),
    [
        ("text/turtle", "turtle"),
        ("application/ld+json", "json-ld"),
        ("application/rdf+xml", "xml"),
        ("application/n-triples", "nt"),
    ],
)
def test_ontology_by_content_negotiation(live_server, accept: str, rdflib_format: str) -> None:
    response = httpx.get(live_server.url + "/ns", headers={"Accept": accept})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(accept)
    assert "Accept" in response.headers["vary"]
    served = Graph().parse(data=response.content, format=rdflib_format)
    assert isomorphic(served, Graph().parse(ontology.ONTOLOGY_FILE))


def test_ontology_html_documentation(live_server) -> None:
    response = httpx.get(live_server.url + "/ns", headers={"Accept": "text/html,*/*;q=0.8"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    for term in (
        "CreativeEcosystem",
        "EcosystemNetwork",
        "Listing",
        "hostedBy",
        "operationalStatus",
    ):
        assert term in response.text
    assert 'rel="alternate"; type="text/turtle"' in response.headers["link"]


def test_suffixes_and_version_iri(live_server) -> None:
    ttl = httpx.get(live_server.url + "/ns.ttl")
    assert ttl.headers["content-type"].startswith("text/turtle")
    graph = Graph().parse(data=ttl.text, format="turtle")
    version = str(graph.value(ONTOLOGY, OWL.versionInfo))
    assert (
        httpx.get(f"{live_server.url}/ns/{version}", headers={"Accept": "text/turtle"}).status_code
        == 200
    )
    assert (
        httpx.get(f"{live_server.url}/ns/0.0.1", headers={"Accept": "text/turtle"}).status_code
        == 404
    )
    jsonld = httpx.get(live_server.url + "/ns.jsonld")
    assert isinstance(json.loads(jsonld.text), list | dict)


def test_every_concept_resolves_at_its_iri_path(live_server) -> None:
    concepts = ontology.graph()
    with httpx.Client(base_url=live_server.url) as client:
        for concept in concepts.subjects(RDF.type, SKOS.Concept):
            path = str(concept).removeprefix("https://w3id.org/creative-graph")
            response = client.get(path, headers={"Accept": "text/turtle"})
            assert response.status_code == 200, path
            served = Graph().parse(data=response.text, format="turtle")
            assert set(served.objects(concept, SKOS.prefLabel)) == set(
                concepts.objects(concept, SKOS.prefLabel)
            )


def test_scheme_page_for_people_and_machines(live_server) -> None:
    page = httpx.get(live_server.url + "/concept/sector", headers={"Accept": "text/html"})
    assert page.status_code == 200
    for label in ("Performing arts", "Arts du spectacle", "Podiumkunsten"):
        assert label in page.text
    graph = Graph().parse(
        data=httpx.get(live_server.url + "/concept/sector.ttl").text, format="turtle"
    )
    assert (
        len(
            set(
                graph.subjects(
                    SKOS.inScheme, URIRef("https://w3id.org/creative-graph/concept/sector")
                )
            )
        )
        >= 12
    )
    concept_page = httpx.get(
        live_server.url + "/concept/actor-type/fablab", headers={"Accept": "text/html"}
    )
    assert concept_page.status_code == 200 and "Fablab" in concept_page.text


def test_unknown_scheme_or_concept_is_404(live_server) -> None:
    assert httpx.get(live_server.url + "/concept/nope").status_code == 404
    assert httpx.get(live_server.url + "/concept/sector/nope").status_code == 404


def test_shapes_are_published(live_server) -> None:
    response = httpx.get(live_server.url + "/shapes", headers={"Accept": "text/turtle"})
    assert response.status_code == 200
    assert isomorphic(Graph().parse(data=response.text, format="turtle"), shapes.graph())
    page = httpx.get(live_server.url + "/shapes", headers={"Accept": "text/html"})
    assert "An actor needs a name" in page.text


def test_unacceptable_type_is_406(live_server) -> None:
    assert httpx.get(live_server.url + "/ns", headers={"Accept": "image/png"}).status_code == 406


def test_a_concept_page_embeds_schema_org_defined_term(live_server) -> None:
    import json
    import re

    page = httpx.get(
        live_server.url + "/concept/actor-type/fablab", headers={"Accept": "text/html"}
    ).text
    (script,) = re.findall(r'<script type="application/ld\+json">(.*?)</script>', page, re.S)
    term = json.loads(script)
    assert term["@type"] == "DefinedTerm" and term["termCode"] == "fablab"
    assert term["inDefinedTermSet"] == "https://w3id.org/creative-graph/concept/actor-type"
    assert {name["@language"] for name in term["name"]} == {"en", "fr", "nl"}
