"""SPARQL protocol details for clients and operators: description, caching, limits, federation."""

from __future__ import annotations

import httpx
import pytest
from conftest import BASE_IRI, demo_features, run_server
from rdflib import Graph, Namespace, URIRef
from rdflib.namespace import RDF

from creative_graph.settings import Settings
from endpoint.federation import refused_services, service_uses
from ingest.manifest import load_manifest
from ingest.pipeline import ingest_source

pytestmark = pytest.mark.e2e
SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
COUNT = "SELECT (COUNT(?a) AS ?n) WHERE { ?a a <http://www.w3.org/ns/org#Organization> }"
JSON = {"Accept": "application/sparql-results+json"}


def test_service_description_for_rdf_clients(live_server) -> None:
    response = httpx.get(live_server.url + "/sparql", headers={"Accept": "text/turtle"})
    assert response.status_code == 200 and response.headers["content-type"].startswith(
        "text/turtle"
    )
    graph = Graph().parse(data=response.text, format="turtle")
    service = URIRef(live_server.url + "/sparql")
    assert (service, RDF.type, SD.Service) in graph
    assert (service, SD.endpoint, service) in graph
    assert (service, SD.supportedLanguage, SD.SPARQL11Query) in graph
    assert (service, SD.supportedLanguage, SD.SPARQL11Update) not in graph  # writes are off
    names = {str(o) for o in graph.objects(None, SD.name)}
    assert BASE_IRI + "graph/brussels-culture-poi" in names


def test_etag_last_modified_and_304(live_server) -> None:
    url = live_server.url + "/sparql"
    first = httpx.get(url, params={"query": COUNT}, headers=JSON)
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    assert etag.startswith('W/"') and "application/sparql-results+json" in etag
    again = httpx.get(url, params={"query": COUNT}, headers={**JSON, "If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    since = httpx.get(url, params={"query": COUNT}, headers={**JSON, "If-Modified-Since": modified})
    assert since.status_code == 304
    other = httpx.get(
        url,
        params={"query": COUNT},
        headers={**JSON, "If-None-Match": 'W/"old:application/sparql-results+json"'},
    )
    assert other.status_code == 200


def test_new_ingest_changes_the_etag(settings, source_copy, validator) -> None:
    ingest_source(load_manifest(source_copy), settings, validator)
    for server in run_server(settings):
        before = httpx.get(server.url + "/sparql", params={"query": COUNT}, headers=JSON).headers[
            "etag"
        ]
        ingest_source(
            load_manifest(source_copy), settings, validator
        )  # unchanged data, new snapshot
        response = httpx.get(
            server.url + "/sparql",
            params={"query": COUNT},
            headers={**JSON, "If-None-Match": before},
        )
        assert response.status_code == 200 and response.headers["etag"] != before


def test_head_answers_like_get_without_body(live_server) -> None:
    get = httpx.get(live_server.url + "/sparql", params={"query": COUNT}, headers=JSON)
    head = httpx.head(live_server.url + "/sparql", params={"query": COUNT}, headers=JSON)
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-type"] == get.headers["content-type"]
    assert head.headers["etag"] == get.headers["etag"]


def test_request_body_over_the_limit_is_413(demo_store) -> None:
    small = Settings(store=demo_store.store, base_iri=BASE_IRI, max_body_bytes=2048)
    for server in run_server(small):
        big = "SELECT * WHERE { ?s ?p ?o } #" + "x" * 5000
        response = httpx.post(
            server.url + "/sparql",
            content=big.encode(),
            headers={"Content-Type": "application/sparql-query"},
        )
        assert response.status_code == 413
        fine = httpx.post(server.url + "/sparql", data={"query": COUNT}, headers=JSON)
        assert fine.status_code == 200


@pytest.mark.parametrize(
    ("query", "targets"),
    [
        (
            "SELECT * WHERE { SERVICE <http://evil.example/sparql> { ?s ?p ?o } }",
            ["http://evil.example/sparql"],
        ),
        (
            "select * where { service silent <http://a.example/> { ?s ?p ?o } }",
            ["http://a.example/"],
        ),
        ("SELECT * WHERE { SERVICE ?endpoint { ?s ?p ?o } }", ["?endpoint"]),
        ('SELECT * WHERE { ?s ?p "SERVICE <http://x.example/>" }', []),
        ("SELECT * WHERE { ?s ?p ?o } # SERVICE <http://x.example/>", []),
        ("SELECT * WHERE { ?s <http://x.example/SERVICE> ?o }", []),
    ],
)
def test_service_targets_are_found_outside_strings_and_comments(
    query: str, targets: list[str]
) -> None:
    assert [use.target for use in service_uses(query)] == targets
    assert refused_services(query, frozenset()) == targets


def test_federated_query_refused_unless_allowed(live_server, demo_store) -> None:
    """A second real server is the remote endpoint; only the allow-listed one may be called."""
    remote = f"{live_server.url}/sparql"
    query = f"SELECT (COUNT(?a) AS ?n) WHERE {{ SERVICE <{remote}> {{ ?a a <http://www.w3.org/ns/org#Organization> }} }}"
    refused = httpx.get(live_server.url + "/sparql", params={"query": query}, headers=JSON)
    assert refused.status_code == 403 and remote in refused.text
    allowing = Settings(store=demo_store.store, base_iri=BASE_IRI, service_allowlist=[remote])
    for server in run_server(allowing):
        response = httpx.get(
            server.url + "/sparql", params={"query": query}, headers=JSON, timeout=60
        )
        assert response.status_code == 200, response.text
        assert int(response.json()["results"]["bindings"][0]["n"]["value"]) == len(demo_features())


@pytest.mark.slow
def test_a_query_over_the_time_limit_is_stopped_and_the_server_goes_on(demo_store) -> None:
    import time

    strict = Settings(store=demo_store.store, base_iri=BASE_IRI, query_timeout=1.0, query_workers=1)
    endless = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"  # ~10^14 rows
    for server in run_server(strict):
        assert (
            httpx.get(server.url + "/sparql", params={"query": COUNT}, headers=JSON).status_code
            == 200
        )
        started = time.monotonic()
        response = httpx.get(
            server.url + "/sparql", params={"query": endless}, headers=JSON, timeout=60
        )
        assert response.status_code == 503 and "longer than 1 s" in response.text
        assert time.monotonic() - started < 15  # stopped, not run to the end
        # the only worker was replaced: the next query is answered
        after = httpx.get(server.url + "/sparql", params={"query": COUNT}, headers=JSON, timeout=60)
        assert after.status_code == 200 and json_count(after) == len(demo_features())


def json_count(response: httpx.Response) -> int:
    return int(response.json()["results"]["bindings"][0]["n"]["value"])


def test_a_web_page_elsewhere_may_query_the_endpoint(live_server) -> None:
    """CORS: a browser's preflight for a direct POST is answered, and results are readable."""
    origin = {"Origin": "https://notebook.example.org"}
    preflight = httpx.options(
        live_server.url + "/sparql",
        headers={
            **origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert "POST" in preflight.headers["access-control-allow-methods"]
    assert "content-type" in preflight.headers["access-control-allow-headers"].lower()
    response = httpx.post(
        live_server.url + "/sparql",
        content=COUNT.encode(),
        headers={**origin, **JSON, "Content-Type": "application/sparql-query"},
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"
    assert "etag" in response.headers["access-control-expose-headers"].lower()
    assert "access-control-allow-credentials" not in response.headers


def test_cors_can_be_turned_off(demo_store) -> None:
    closed = Settings(store=demo_store.store, base_iri=BASE_IRI, cors_origins=[])
    for server in run_server(closed):
        response = httpx.get(
            server.url + "/sparql",
            params={"query": COUNT},
            headers={"Origin": "https://elsewhere.example", **JSON},
        )
        assert response.status_code == 200
        assert "access-control-allow-origin" not in response.headers


def test_results_over_the_size_limit_are_refused(demo_store) -> None:
    small = Settings(store=demo_store.store, base_iri=BASE_IRI, max_result_bytes=4096)
    for server in run_server(small):
        url = server.url + "/sparql"
        everything = httpx.get(url, params={"query": "SELECT * WHERE { ?s ?p ?o }"}, headers=JSON)
        assert everything.status_code == 403
        assert "4,096 bytes" in everything.text and "LIMIT" in everything.text
        graph = httpx.get(
            url,
            params={"query": "CONSTRUCT WHERE { ?s ?p ?o }"},
            headers={"Accept": "text/turtle"},
        )
        assert graph.status_code == 403
        few = httpx.get(url, params={"query": "SELECT * WHERE { ?s ?p ?o } LIMIT 3"}, headers=JSON)
        assert few.status_code == 200
        assert len(few.json()["results"]["bindings"]) == 3


def test_results_over_the_row_limit_are_refused_in_every_format(demo_store) -> None:
    capped = Settings(store=demo_store.store, base_iri=BASE_IRI, max_result_rows=25)
    for server in run_server(capped):
        url = server.url + "/sparql"
        for media_type in ("application/sparql-results+json", "application/sparql-results+xml",
                           "text/csv", "text/tab-separated-values"):  # fmt: skip
            accept = {"Accept": media_type}
            over = httpx.get(
                url, params={"query": "SELECT * { ?s ?p ?o } LIMIT 26"}, headers=accept
            )
            assert over.status_code == 403, media_type
            assert "25 rows" in over.text and "LIMIT" in over.text
            at = httpx.get(url, params={"query": "SELECT * { ?s ?p ?o } LIMIT 25"}, headers=accept)
            assert at.status_code == 200, media_type
        named = httpx.get(
            server.url + "/api/queries/actors-by-type?type=cultural-venue", headers=JSON
        )
        assert named.status_code == 403 and "25 rows" in named.text
        ask = httpx.get(url, params={"query": "ASK { ?s ?p ?o }"}, headers=JSON)
        assert ask.status_code == 200


def test_repeated_queries_come_from_the_cache_and_never_go_stale(
    settings, source_copy, validator, tmp_path
) -> None:
    import shutil
    from pathlib import Path

    ingest_source(load_manifest(source_copy), settings, validator)
    for server in run_server(settings):
        url = server.url + "/sparql"
        first = httpx.get(url, params={"query": COUNT}, headers=JSON)
        again = httpx.get(url, params={"query": COUNT}, headers=JSON)
        assert first.headers["x-cache"] == "miss" and again.headers["x-cache"] == "hit"
        assert again.content == first.content
        named = server.url + "/api/queries/actors-per-municipality"
        assert httpx.get(named, headers=JSON).headers["x-cache"] == "miss"
        assert httpx.get(named, headers=JSON).headers["x-cache"] == "hit"
        before = int(first.json()["results"]["bindings"][0]["n"]["value"])
        # another source arrives: a new snapshot, so the cached count must not be served
        steward = tmp_path / "steward"
        shutil.copytree(Path(__file__).parents[1] / "data" / "sources" / "steward-example", steward)
        added = ingest_source(load_manifest(steward), settings, validator).actors
        after = httpx.get(url, params={"query": COUNT}, headers=JSON)
        assert after.headers["x-cache"] == "miss"
        assert int(after.json()["results"]["bindings"][0]["n"]["value"]) == before + added


def test_the_cache_can_be_turned_off(demo_store) -> None:
    uncached = Settings(store=demo_store.store, base_iri=BASE_IRI, query_cache_bytes=0)
    for server in run_server(uncached):
        for _ in range(2):
            response = httpx.get(server.url + "/sparql", params={"query": COUNT}, headers=JSON)
            assert response.headers["x-cache"] == "miss"
