"""Instance IRIs dereference: 303 to a document, HTML for people, RDF for machines."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from conftest import BASE_IRI, ROOT, copy_source, run_server
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


def _steward_store(settings, validator, tmp_path, rename: dict[str, str] | None = None):

    from ingest.manifest import load_manifest
    from ingest.pipeline import ingest_source

    source = copy_source(ROOT / "data" / "sources" / "steward-example", tmp_path / "steward")
    for old, new in (rename or {}).items():
        sheet = source / "hubs.csv"
        sheet.write_text(sheet.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")
    assert ingest_source(load_manifest(source), settings, validator).status == "loaded"
    return load_manifest(source).name


def actor_named(server_url: str, name: str) -> str:
    query = f'SELECT ?a WHERE {{ ?a <http://www.w3.org/2004/02/skos/core#prefLabel> "{name}"@en }}'
    response = httpx.get(
        server_url + "/sparql",
        params={"query": query},
        headers={"Accept": "application/sparql-results+json"},
    )
    return response.json()["results"]["bindings"][0]["a"]["value"]


def test_an_actor_page_shows_relations_both_ways_sources_and_schema_org(
    settings, validator, tmp_path: Path
) -> None:
    import json
    import re

    _steward_store(settings, validator, tmp_path)
    for server in run_server(settings):
        network = actor_named(server.url, "Brussels Creative Hubs (example network)")
        page = httpx.get(
            server.url + "/" + network.removeprefix(BASE_IRI).replace("id/", "doc/", 1),
            headers={"Accept": "text/html"},
        ).text
        # members point at the network: the page says who, by name, with a link
        assert "Pointed to by" in page
        assert "Canal Makers (example)" in page and "Shared Studio (example)" in page
        assert "org:memberOf" in page
        # its type reads as the concept's label, linked to the concept
        assert re.search(r'<a href="[^"]*actor-type/network">Network</a>', page)
        # where it comes from, under which licence
        assert "Sources" in page and "creativecommons.org/licenses/by/4.0" in page
        (script,) = re.findall(r'<script type="application/ld\+json">(.*?)</script>', page, re.S)
        data = json.loads(script)
        assert (
            data["@type"] == "Organization"
            and data["name"] == "Brussels Creative Hubs (example network)"
        )


def test_schema_org_json_ld_cannot_be_broken_out_of(settings, validator, tmp_path: Path) -> None:
    import json
    import re

    hostile = "Canal </script><script>alert(1)</script> Makers"
    _steward_store(settings, validator, tmp_path, {"Canal Makers (example)": hostile})
    for server in run_server(settings):
        actor = actor_named(server.url, hostile)
        page = httpx.get(
            server.url + "/" + actor.removeprefix(BASE_IRI).replace("id/", "doc/", 1),
            headers={"Accept": "text/html"},
        ).text
        assert "<script>alert(1)</script>" not in page
        (script,) = re.findall(r'<script type="application/ld\+json">(.*?)</script>', page, re.S)
        assert json.loads(script)["name"] == hostile


def test_a_brussels_actor_page_has_a_small_offline_map(live_server) -> None:
    iri = flagey(live_server.settings)
    page = httpx.get(
        live_server.url + "/" + iri.removeprefix(BASE_IRI).replace("id/", "doc/", 1),
        headers={"Accept": "text/html"},
    ).text
    import re

    drawn = re.findall(r'<path class="municipality[^"]*" d="[^"]+"><title>([^<]+)</title>', page)
    assert len(set(drawn)) == 19  # every municipality (some in several parts)
    here = re.findall(r'<path class="municipality here" d="[^"]+"><title>([^<]+)</title>', page)
    assert set(here) == {"Ixelles / Elsene"}  # Flagey's municipality (in two parts) stands out
    assert '<circle class="point"' in page
    assert "http://" not in page.split("<svg")[1].split("</svg>")[0].replace(
        'xmlns="http://www.w3.org/2000/svg"', ""
    )  # nothing to fetch


def test_no_map_outside_brussels() -> None:
    from endpoint import maps

    assert maps.svg(-0.1276, 51.5072) is None  # London
    assert maps.svg(4.3517, 50.8466, "21004") is not None  # Grand-Place
