"""The SPARQL endpoint and home page, over HTTP against a real uvicorn server."""

from __future__ import annotations

import csv
import io
import threading
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from conftest import demo_features, run_server
from rdflib import Graph

from ingest.manifest import load_manifest
from ingest.pipeline import ingest_source

pytestmark = pytest.mark.e2e

COUNT = "PREFIX org: <http://www.w3.org/ns/org#> SELECT (COUNT(?a) AS ?n) WHERE { ?a a org:Organization }"
CONSTRUCT = (
    "PREFIX skos: <http://www.w3.org/2004/02/skos/core#> "
    "CONSTRUCT { ?a skos:prefLabel ?l } WHERE { ?a a <http://www.w3.org/ns/org#Organization> ; skos:prefLabel ?l }"
)
SPARQL_JSON = "application/sparql-results+json"


def json_count(response: httpx.Response) -> int:
    return int(response.json()["results"]["bindings"][0]["n"]["value"])


def test_count_of_actors_matches_the_source(live_server) -> None:
    response = httpx.get(
        f"{live_server.url}/sparql", params={"query": COUNT}, headers={"Accept": SPARQL_JSON}
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(SPARQL_JSON)
    assert json_count(response) == len(demo_features())


def test_query_by_post_form_and_post_direct(live_server) -> None:
    form = httpx.post(
        f"{live_server.url}/sparql", data={"query": COUNT}, headers={"Accept": SPARQL_JSON}
    )
    direct = httpx.post(
        f"{live_server.url}/sparql",
        content=COUNT.encode(),
        headers={"Content-Type": "application/sparql-query", "Accept": SPARQL_JSON},
    )
    assert json_count(form) == json_count(direct) == len(demo_features())


def test_results_in_xml_csv_and_tsv(live_server) -> None:
    url, expected = f"{live_server.url}/sparql", len(demo_features())
    xml = httpx.get(
        url, params={"query": COUNT}, headers={"Accept": "application/sparql-results+xml"}
    )
    assert xml.headers["content-type"].startswith("application/sparql-results+xml")
    literal = ET.fromstring(xml.content).find(".//{http://www.w3.org/2005/sparql-results#}literal")
    assert literal is not None and int(literal.text) == expected
    table = httpx.get(url, params={"query": COUNT}, headers={"Accept": "text/csv"})
    assert table.headers["content-type"].startswith("text/csv")
    assert list(csv.reader(io.StringIO(table.text))) == [["n"], [str(expected)]]
    tsv = httpx.get(url, params={"query": COUNT}, headers={"Accept": "text/tab-separated-values"})
    assert tsv.headers["content-type"].startswith("text/tab-separated-values")
    assert tsv.text.splitlines() == ["?n", str(expected)]


def test_ask_result(live_server) -> None:
    response = httpx.get(f"{live_server.url}/sparql", params={"query": "ASK { ?s ?p ?o }"})
    assert response.json() == {"head": {}, "boolean": True}


@pytest.mark.parametrize(
    ("accept", "rdf_format"), [("text/turtle", "turtle"), ("application/n-triples", "nt")]
)
def test_construct_in_turtle_and_ntriples(live_server, accept: str, rdf_format: str) -> None:
    response = httpx.get(
        f"{live_server.url}/sparql", params={"query": CONSTRUCT}, headers={"Accept": accept}
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(accept)
    graph = Graph().parse(data=response.text, format=rdf_format)
    assert len(set(graph.subjects())) == len(demo_features())


def test_describe_returns_the_actor(live_server) -> None:
    query = 'DESCRIBE ?a WHERE { ?a <http://www.w3.org/2004/02/skos/core#hiddenLabel> "FLAGEY"@fr }'
    response = httpx.get(
        f"{live_server.url}/sparql", params={"query": query}, headers={"Accept": "text/turtle"}
    )
    graph = Graph().parse(data=response.text, format="turtle")
    labels = {str(o) for o in graph.objects(None, None) if getattr(o, "language", None) == "fr"}
    assert "Flagey" in labels


def test_format_parameter_overrides_accept(live_server) -> None:
    response = httpx.get(
        f"{live_server.url}/sparql",
        params={"query": COUNT, "format": "csv"},
        headers={"Accept": SPARQL_JSON},
    )
    assert response.headers["content-type"].startswith("text/csv")


def test_malformed_query_is_400_with_the_parser_position(live_server) -> None:
    response = httpx.get(f"{live_server.url}/sparql", params={"query": "SELECT * WHERE { ?s ?p "})
    assert response.status_code == 400
    assert "error at 1:" in response.text


@pytest.mark.parametrize(
    ("request_kwargs", "status"),
    [
        ({"method": "POST", "content": b"x", "headers": {"Content-Type": "text/plain"}}, 415),
        ({"method": "GET", "params": {"query": COUNT}, "headers": {"Accept": "image/png"}}, 406),
        ({"method": "GET", "params": [("query", COUNT), ("query", COUNT)]}, 400),
        ({"method": "GET", "headers": {"Accept": SPARQL_JSON}}, 400),
        ({"method": "DELETE"}, 405),
        ({"method": "POST", "data": {"update": "CLEAR ALL"}}, 403),
    ],
    ids=["unsupported-body", "unacceptable-format", "two-queries", "no-query", "delete", "update"],
)
def test_protocol_errors(live_server, request_kwargs: dict, status: int) -> None:
    method = request_kwargs.pop("method")
    response = httpx.request(method, f"{live_server.url}/sparql", **request_kwargs)
    assert response.status_code == status
    assert response.text.strip()


def test_named_graph_selection(live_server) -> None:
    ontology_graph = "http://test.example/graph/ontology"
    response = httpx.get(
        f"{live_server.url}/sparql",
        params={"query": COUNT, "default-graph-uri": ontology_graph},
        headers={"Accept": SPARQL_JSON},
    )
    assert json_count(response) == 0


def test_home_page_says_what_the_instance_holds(live_server) -> None:
    page = httpx.get(live_server.url + "/", headers={"Accept": "text/html"})
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert f"<strong>{len(demo_features())}</strong> actors" in page.text
    assert 'href="/sparql"' in page.text
    assert "Brussels UrbIS" in page.text  # the source's mandatory attribution
    document = httpx.get(live_server.url + "/", headers={"Accept": "application/json"}).json()
    (source,) = [
        g for g in document["graphs"] if g["graph"].endswith("/graph/brussels-culture-poi")
    ]
    assert source["actors"] == len(demo_features())
    assert document["triples"] == sum(g["triples"] for g in document["graphs"])


def test_example_query_link_on_home_page_runs(live_server) -> None:
    page = httpx.get(live_server.url + "/")
    link = page.text.split('Try <a href="')[1].split('"')[0].replace("&amp;", "&")
    response = httpx.get(live_server.url + link, headers={"Accept": SPARQL_JSON})
    rows = response.json()["results"]["bindings"]
    assert sum(int(r["actors"]["value"]) for r in rows) == len(demo_features())


def test_query_form_page_for_browsers(live_server) -> None:
    page = httpx.get(live_server.url + "/sparql", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert "<textarea" in page.text and "PREFIX org:" in page.text


def test_healthz(live_server) -> None:
    response = httpx.get(live_server.url + "/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok" and response.json()["snapshot"]


@pytest.mark.slow
def test_32_simultaneous_mixed_queries_all_answered_right(live_server) -> None:
    expected_count = len(demo_features())
    barrier = threading.Barrier(32)

    def one(i: int) -> bool:
        with httpx.Client(base_url=live_server.url, timeout=60) as client:
            barrier.wait()
            kind = i % 4
            if kind == 0:
                r = client.get("/sparql", params={"query": COUNT}, headers={"Accept": SPARQL_JSON})
                return json_count(r) == expected_count
            if kind == 1:
                r = client.post(
                    "/sparql",
                    data={"query": CONSTRUCT},
                    headers={"Accept": "application/n-triples"},
                )
                return len({line.split(" ")[0] for line in r.text.splitlines()}) == expected_count
            if kind == 2:
                r = client.get("/sparql", params={"query": COUNT}, headers={"Accept": "text/csv"})
                return r.text.splitlines()[1] == str(expected_count)
            r = client.get("/sparql", params={"query": "SELECT ?x WHERE { ?x ?y"})
            return r.status_code == 400

    with ThreadPoolExecutor(max_workers=32) as pool:
        results = list(pool.map(one, range(64)))
    assert all(results)
    assert live_server.thread.is_alive()
    assert httpx.get(live_server.url + "/healthz").status_code == 200


def test_new_ingest_is_served_without_restart(settings, source_copy, validator) -> None:
    manifest = load_manifest(source_copy)
    for server in run_server(settings):
        empty = httpx.get(
            f"{server.url}/sparql", params={"query": COUNT}, headers={"Accept": SPARQL_JSON}
        )
        assert json_count(empty) == 0
        ingest_source(manifest, settings, validator)
        full = httpx.get(
            f"{server.url}/sparql", params={"query": COUNT}, headers={"Accept": SPARQL_JSON}
        )
        assert json_count(full) == len(demo_features())


def test_html_escapes_what_sources_say(settings, source_copy, validator) -> None:
    manifest_path = source_copy / "source.toml"
    text = manifest_path.read_text(encoding="utf-8")
    manifest_path.write_text(
        text.replace('title = "Brussels', 'title = "<script>alert(1)</script> Brussels'),
        encoding="utf-8",
    )
    ingest_source(load_manifest(source_copy), settings, validator)
    for server in run_server(settings):
        page = httpx.get(server.url + "/").text
        assert "<script>alert(1)</script>" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
