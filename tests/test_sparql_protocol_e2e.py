"""SPARQL protocol details for clients and operators: description, caching, limits, federation."""

from __future__ import annotations

import httpx
import pytest
from conftest import BASE_IRI, demo_features, run_server
from loopback import listening
from rdflib import Dataset, Graph, Namespace, URIRef
from rdflib.compare import isomorphic
from rdflib.graph import DATASET_DEFAULT_GRAPH_ID
from rdflib.namespace import RDF

from creative_graph.settings import Settings
from endpoint.federation import refused_services, service_uses
from ingest.manifest import load_manifest
from ingest.pipeline import ingest_source

pytestmark = pytest.mark.e2e
SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
FORMATS = Namespace("http://www.w3.org/ns/formats/")
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


# SERVICE calls pyoxigraph reads in texts that hide them from a reader that takes a comment to
# end at LF only, or keywords to need spaces, or every `<` to open an IRI ({E}: the host's URL)
HIDDEN_CALLS = [
    "SELECT * WHERE { #x\rSERVICE <{E}> { ?s ?p ?o } }",
    "SELECT * WHERE { #x\r\nSERVICE <{E}> { ?s ?p ?o } }",
    "PREFIX : <{B}> SELECT * WHERE { SERVICE:x { ?s ?p ?o } }",
    "SELECT * WHERE { SERVICESILENT<{E}>{ ?s ?p ?o } }",
    "SELECT * WHERE { ?s ?p ?o FILTER(true)SERVICE<{E}>{ ?s ?p ?o } }",
    "PREFIX : <{B}> SELECT * { BIND(1 AS ?a) BIND(2 AS ?b) FILTER(?a<?b)SERVICE:x#>\n{ ?s ?p ?o } }",
    "SELECT * { BIND(1 AS ?a) BIND(2 AS ?b) BIND(3 AS ?c) FILTER(?a<?b&&'x>'!=?c) "
    "SERVICE <{E}> { } ?s ?p ?o }",
]


def _hidden(template: str, base: str, path: str = "sparql") -> str:
    return template.replace("{E}", base + path).replace("{B}", base)


def test_service_calls_hidden_in_the_text_are_refused_and_never_made(live_server) -> None:
    """A real listener on the loopback: the server refuses every attempt and calls it never."""
    url = live_server.url + "/sparql"
    direct = {**JSON, "Content-Type": "application/sparql-query"}
    with listening() as host:
        for template in HIDDEN_CALLS:
            query = _hidden(template, host.base)
            by_get = httpx.get(url, params={"query": query}, headers=JSON, timeout=30)
            by_post = httpx.post(url, content=query.encode(), headers=direct, timeout=30)
            for response in (by_get, by_post):
                assert response.status_code == 403, (query, response.text)
                assert "refused SERVICE" in response.text
        assert host.paths == []


def test_an_allowed_service_is_called_every_time_and_nothing_else_is(demo_store) -> None:
    """The listener on the allow-list is called (so the test above could see a call), once per
    request: its answers are never kept. Hidden calls to another path of it are refused."""
    with listening() as host:
        allowed = host.base + "sparql"
        settings = Settings(store=demo_store.store, base_iri=BASE_IRI, service_allowlist=[allowed])
        for server in run_server(settings):
            url = server.url + "/sparql"
            query = f"SELECT * WHERE {{ SERVICE <{allowed}> {{ ?s ?p ?o }} }}"
            answers = [httpx.get(url, params={"query": query}, headers=JSON, timeout=30)]
            answers.append(httpx.get(url, params={"query": query}, headers=JSON, timeout=30))
            for answer in answers:
                assert answer.status_code == 200, answer.text
                assert answer.headers["x-cache"] == "miss" and "etag" not in answer.headers
                assert answer.headers["cache-control"] == "no-store"
            assert [path.partition("?")[0] for path in host.paths] == ["/sparql", "/sparql"]
            for template in HIDDEN_CALLS:
                hidden = _hidden(template, host.base, "elsewhere")
                response = httpx.get(url, params={"query": hidden}, headers=JSON, timeout=30)
                assert response.status_code == 403, (hidden, response.text)
            assert len(host.paths) == 2


def test_a_hidden_load_is_refused_and_never_made(demo_store, tmp_path) -> None:
    """LOAD in an update, even by the holder of the write token, after a comment ended by CR."""
    import shutil

    from pydantic import SecretStr

    token = "protocol-e2e-token-0123456789abcdef"
    shutil.copytree(demo_store.store, tmp_path / "store")
    settings = demo_store.model_copy(
        update={"store": tmp_path / "store", "write_token": SecretStr(token)}
    )
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/sparql-update"}
    with listening() as host:
        for server in run_server(settings):
            for update in (
                f"#x\rLOAD <{host.base}data.ttl>",
                f"CLEAR SILENT GRAPH <{host.base}g> ;#\rLOAD<{host.base}d>",
            ):
                response = httpx.post(
                    server.url + "/sparql", content=update.encode(), headers=headers, timeout=30
                )
                assert response.status_code == 403 and "LOAD is refused" in response.text
        assert host.paths == []


VARYING = "SELECT (RAND() AS ?r) (NOW() AS ?n) (STRUUID() AS ?u) WHERE { }"


def test_answers_that_vary_are_never_cached_nor_validated(live_server) -> None:
    url = live_server.url + "/sparql"
    first = httpx.get(url, params={"query": VARYING}, headers=JSON)
    again = httpx.get(url, params={"query": VARYING}, headers={**JSON, "If-None-Match": "*"})
    assert first.status_code == again.status_code == 200
    assert first.json()["results"]["bindings"] != again.json()["results"]["bindings"]
    for response in (first, again):
        assert response.headers["x-cache"] == "miss" and response.headers["cache-control"] == (
            "no-store"
        )
        assert "etag" not in response.headers and "last-modified" not in response.headers
    since = httpx.get(
        url,
        params={"query": VARYING},
        headers={**JSON, "If-Modified-Since": "Fri, 01 Jan 2100 00:00:00 GMT"},
    )
    assert since.status_code == 200


@pytest.mark.parametrize(
    "condition", [{"If-None-Match": "*"}, {"If-Modified-Since": "Fri, 01 Jan 2100 00:00:00 GMT"}]
)
def test_a_request_that_would_fail_gets_its_error_never_304(live_server, condition) -> None:
    """RFC 9110 §13.2.1: conditions count only for a request that would otherwise succeed."""
    url = live_server.url + "/sparql"
    malformed = httpx.get(url, params={"query": "SELEC garbage"}, headers={**JSON, **condition})
    assert malformed.status_code == 400 and "Malformed query" in malformed.text
    unacceptable = httpx.get(
        url, params={"query": COUNT}, headers={"Accept": "image/png", **condition}
    )
    assert unacceptable.status_code == 406
    fine = httpx.get(url, params={"query": COUNT}, headers={**JSON, **condition})
    assert fine.status_code == 304


def test_the_etag_and_the_cache_tell_datasets_apart(live_server) -> None:
    url = live_server.url + "/sparql"
    query = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o } # etag and datasets"
    poi, runs = BASE_IRI + "graph/brussels-culture-poi", BASE_IRI + "graph/runs"
    on_poi = httpx.get(url, params={"query": query, "default-graph-uri": poi}, headers=JSON)
    on_runs = httpx.get(
        url,
        params={"query": query, "default-graph-uri": runs},
        headers={**JSON, "If-None-Match": on_poi.headers["etag"]},
    )
    assert on_runs.status_code == 200 and on_runs.headers["x-cache"] == "miss"
    assert on_runs.headers["etag"] != on_poi.headers["etag"]
    assert json_count(on_runs) < json_count(on_poi)
    again = httpx.get(
        url,
        params={"query": query, "default-graph-uri": poi},
        headers={**JSON, "If-None-Match": on_poi.headers["etag"]},
    )
    assert again.status_code == 304
    named = httpx.get(url, params={"query": query, "named-graph-uri": poi}, headers=JSON)
    assert named.headers["x-cache"] == "miss" and json_count(named) == 0


@pytest.mark.parametrize(
    ("accept", "media_type"),
    [
        (None, "text/turtle"),
        ("*/*", "text/turtle"),
        ("text/turtle, */*;q=0.1", "text/turtle"),
        ("text/turtle;q=0.9, text/html;q=0.1", "text/turtle"),
        ("application/rdf+xml", "application/rdf+xml"),
        (
            "application/n-quads,application/trig;q=0.95,application/ld+json;q=0.9,"
            "application/n-triples;q=0.8,text/turtle;q=0.6,application/rdf+xml;q=0.5,"
            "text/n3;q=0.35,application/xml;q=0.3,image/svg+xml;q=0.3,text/xml;q=0.3,"
            "text/html;q=0.2,application/xhtml+xml;q=0.18,application/json;q=0.135",
            "application/n-quads",
        ),
        (
            "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8",
            "text/html",
        ),
    ],
    ids=[
        "none",
        "anything",
        "turtle-then-anything",
        "turtle-over-html",
        "rdfxml",
        "comunica",
        "browser",
    ],
)
def test_without_a_query_accept_chooses_description_or_page(live_server, accept, media_type):
    headers = {"Accept": accept} if accept is not None else {}
    response = httpx.get(live_server.url + "/sparql", headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == media_type
    assert "Accept" in response.headers["vary"]
    if media_type == "text/html":
        assert "<html" in response.text.lower()
        return
    formats = {
        "text/turtle": "turtle",
        "application/rdf+xml": "xml",
        "application/n-quads": "nquads",
    }
    data = Dataset()
    data.parse(data=response.text, format=formats[media_type])
    assert (
        URIRef(live_server.url + "/sparql"),
        RDF.type,
        SD.Service,
        DATASET_DEFAULT_GRAPH_ID,
    ) in data


def test_a_post_without_a_query_is_a_clear_400(live_server) -> None:
    url = live_server.url + "/sparql"
    for response in (
        httpx.post(url, data={"format": "json"}, headers={"Accept": "text/html"}),
        httpx.post(url, content=b"", headers={"Content-Type": "application/x-www-form-urlencoded"}),
    ):
        assert response.status_code == 400
        assert "query=" in response.text and "update=" in response.text


def test_options_says_what_the_endpoint_allows(live_server) -> None:
    response = httpx.options(live_server.url + "/sparql")
    assert response.status_code == 204
    assert set(response.headers["allow"].replace(" ", "").split(",")) == {
        "GET", "HEAD", "POST", "OPTIONS"
    }  # fmt: skip
    assert httpx.delete(live_server.url + "/sparql").headers["allow"] == response.headers["allow"]


CONSTRUCT = "CONSTRUCT WHERE { ?s a ?type } LIMIT 20"
DESCRIBE = f"DESCRIBE <{BASE_IRI}graph/brussels-culture-poi>"


@pytest.mark.parametrize("query", [CONSTRUCT, DESCRIBE], ids=["construct", "describe"])
@pytest.mark.parametrize(
    ("how", "media_type", "rdflib_format"),
    [
        ({"headers": {"Accept": "application/n-quads"}}, "application/n-quads", "nquads"),
        ({"headers": {"Accept": "application/trig"}}, "application/trig", "trig"),
        ({"params": {"format": "nquads"}}, "application/n-quads", "nquads"),
        ({"params": {"format": "trig"}}, "application/trig", "trig"),
    ],
    ids=["accept-nquads", "accept-trig", "format-nquads", "format-trig"],
)
def test_graph_results_in_n_quads_and_trig_are_triples_in_the_default_graph(
    live_server, query, how, media_type, rdflib_format
) -> None:
    url = live_server.url + "/sparql"
    params = {"query": query, **how.get("params", {})}
    response = httpx.get(url, params=params, headers=how.get("headers", {}))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].split(";")[0] == media_type
    data = Dataset()
    data.parse(data=response.text, format=rdflib_format)
    assert {str(graph.identifier) for graph in data.graphs() if len(graph)} == {
        str(DATASET_DEFAULT_GRAPH_ID)
    }
    turtle = httpx.get(url, params={"query": query}, headers={"Accept": "text/turtle"})
    expected = Graph().parse(data=turtle.text, format="turtle")
    assert len(expected) > 0
    assert isomorphic(data.graph(DATASET_DEFAULT_GRAPH_ID), expected)


def test_the_description_lists_n_quads_and_trig_results(live_server) -> None:
    response = httpx.get(live_server.url + "/sparql", headers={"Accept": "text/turtle"})
    graph = Graph().parse(data=response.text, format="turtle")
    formats = set(graph.objects(URIRef(live_server.url + "/sparql"), SD.resultFormat))
    assert {FORMATS["N-Quads"], FORMATS["TriG"]} <= formats
