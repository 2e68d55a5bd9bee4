"""The fast path in front of FastAPI answers /sparql exactly as the framework's route does.

A request with `Origin` goes through the whole application (the CORS middleware, FastAPI's
routing, the route); the same request without it is answered by `endpoint.sparql_fast`. Both
must give the same status, headers and body, but for the CORS headers themselves.
"""

from __future__ import annotations

import itertools
import json

import httpx
import pyoxigraph as ox
import pytest
from conftest import BASE_IRI, run_server
from rdflib import Graph
from rdflib.compare import isomorphic

from creative_graph.settings import Settings
from creative_graph.store import StoreReader

pytestmark = pytest.mark.e2e
COUNT = "SELECT (COUNT(?a) AS ?n) WHERE { ?a a <http://www.w3.org/ns/org#Organization> }"
JSON = {"Accept": "application/sparql-results+json"}
ORIGIN = {"Origin": "https://notebook.example.org"}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
CORS_HEADERS = ("access-control-allow-origin", "access-control-expose-headers")
# one solution whatever RAND() gives: the same body each time, but an answer that may vary
VARYING = "SELECT (COUNT(*) AS ?n) WHERE { BIND (RAND() AS ?r) }"
FUTURE = "Fri, 01 Jan 2100 00:00:00 GMT"
marks = itertools.count()


def _query(text: str) -> str:
    """`text` after a comment of its own, the same length each time: every request misses the
    result cache once, and error messages keep their positions."""
    return f"# {next(marks):06d}\n{text}"


def _requests(etag: str) -> dict[str, tuple[str, dict]]:
    """(method, httpx arguments) of the protocol cases, built anew for each request."""
    return {
        "GET JSON": ("GET", {"params": {"query": _query(COUNT)}, "headers": JSON}),
        "GET, no Accept": ("GET", {"params": {"query": _query(COUNT)}}),
        "HEAD": ("HEAD", {"params": {"query": _query(COUNT)}, "headers": JSON}),
        "POST form, CSV": (
            "POST",
            {"data": {"query": _query(COUNT)}, "headers": {"Accept": "text/csv"}},
        ),
        "POST direct": (
            "POST",
            {
                "content": _query(COUNT).encode(),
                "headers": {**JSON, "Content-Type": "application/sparql-query"},
            },
        ),
        "CONSTRUCT in Turtle": (
            "GET",
            {
                "params": {"query": _query("CONSTRUCT WHERE { ?s a ?t } LIMIT 5")},
                "headers": {"Accept": "text/turtle"},
            },
        ),
        "format= over Accept": (
            "GET",
            {"params": {"query": _query(COUNT), "format": "tsv"}, "headers": JSON},
        ),
        "CONSTRUCT in N-Quads": (
            "GET",
            {
                "params": {"query": _query("CONSTRUCT WHERE { ?s a ?t } LIMIT 5")},
                "headers": {"Accept": "application/n-quads"},
            },
        ),
        "DESCRIBE, format=trig": (
            "GET",
            {"params": {"query": _query(f"DESCRIBE <{BASE_IRI}sparql>"), "format": "trig"}},
        ),
        "an answer that varies": (
            "GET",
            {"params": {"query": _query(VARYING)}, "headers": {**JSON, "If-None-Match": "*"}},
        ),
        "400 malformed, If-None-Match": (
            "GET",
            {"params": {"query": _query("SELEC garbage")}, "headers": {"If-None-Match": "*"}},
        ),
        "406, If-Modified-Since": (
            "GET",
            {
                "params": {"query": _query(COUNT)},
                "headers": {"Accept": "image/png", "If-Modified-Since": FUTURE},
            },
        ),
        "406": ("GET", {"params": {"query": _query(COUNT)}, "headers": {"Accept": "image/png"}}),
        "400 malformed": ("GET", {"params": {"query": _query("SELECT nonsense")}}),
        "400 unknown format": ("GET", {"params": {"query": _query(COUNT), "format": "docx"}}),
        "400 query twice": ("GET", {"params": [("query", COUNT), ("query", COUNT)]}),
        "400 graph not an IRI": (
            "GET",
            {"params": {"query": _query(COUNT), "default-graph-uri": "not an IRI"}},
        ),
        "403 SERVICE": (
            "GET",
            {"params": {"query": _query("SELECT * { SERVICE <http://x.example/> { ?s ?p ?o } }")}},
        ),
        "415": ("POST", {"content": b"x", "headers": {"Content-Type": "text/plain"}}),
        "413": ("POST", {"content": b"query=" + b"x" * 70_000, "headers": FORM}),
        "304": (
            "GET",
            {"params": {"query": _query(COUNT)}, "headers": {**JSON, "If-None-Match": etag}},
        ),
        "POST never 304": (
            "POST",
            {"data": {"query": _query(COUNT)}, "headers": {**JSON, "If-None-Match": etag}},
        ),
        "query page": ("GET", {"headers": {"Accept": "text/html"}}),
        "service description": ("GET", {"headers": {"Accept": "text/turtle"}}),
        "service description, any type": ("GET", {"headers": {"Accept": "*/*"}}),
        "POST without a query": ("POST", {"data": {"format": "json"}}),
        "OPTIONS": ("OPTIONS", {}),
        "update while writes are off": ("POST", {"data": {"update": "CLEAR ALL"}}),
        "update by GET": ("GET", {"params": {"update": "CLEAR ALL"}}),
    }


def _graph(response: httpx.Response) -> Graph:
    return Graph().parse(data=response.text, format="turtle")


def _compared(response: httpx.Response) -> tuple[int, dict[str, str], bytes]:
    headers = {k: v for k, v in response.headers.items() if k not in ("date", *CORS_HEADERS)}
    return response.status_code, headers, response.content


@pytest.mark.parametrize("cors", [True, False], ids=["CORS on", "CORS off"])
def test_the_fast_path_answers_as_the_route(demo_store, cors: bool) -> None:
    origins = ["*"] if cors else []
    settings = Settings(
        store=demo_store.store, base_iri=BASE_IRI, cors_origins=origins, max_body_bytes=65_536
    )
    for server in run_server(settings):
        url = server.url + "/sparql"
        etag = httpx.get(url, params={"query": COUNT}, headers=JSON).headers["etag"]
        fast, route = _requests(etag), _requests(etag)
        for name in fast:
            method, arguments = fast[name]
            direct = httpx.request(method, url, **arguments)
            method, arguments = route[name]
            arguments["headers"] = {**arguments.get("headers", {}), **ORIGIN}
            routed = httpx.request(method, url, **arguments)
            if name.startswith("service description"):  # blank nodes: written in any order
                assert _compared(direct)[:2] == _compared(routed)[:2]
                assert isomorphic(_graph(direct), _graph(routed))
            else:
                assert _compared(direct) == _compared(routed), name
            assert ("access-control-allow-origin" in routed.headers) is cors, name
            assert "access-control-allow-origin" not in direct.headers, name
        # the statuses the cases are about
        statuses = {name: httpx.request(m, url, **a).status_code for name, (m, a) in _requests(etag).items()}  # fmt: skip
        assert statuses["304"] == 304 and statuses["POST never 304"] == 200
        assert statuses["406"] == 406 and statuses["403 SERVICE"] == 403
        assert statuses["413"] == 413 and statuses["415"] == 415
        assert statuses["400 malformed"] == statuses["400 query twice"] == 400
        assert statuses["400 graph not an IRI"] == 400
        assert statuses["CONSTRUCT in N-Quads"] == statuses["DESCRIBE, format=trig"] == 200
        assert statuses["an answer that varies"] == 200
        assert statuses["400 malformed, If-None-Match"] == statuses["POST without a query"] == 400
        assert statuses["406, If-Modified-Since"] == 406 and statuses["OPTIONS"] == 204


def test_vary_names_origin_only_while_cors_is_on(demo_store) -> None:
    for origins, vary in ((["*"], "Accept, Origin"), ([], "Accept")):
        settings = Settings(store=demo_store.store, base_iri=BASE_IRI, cors_origins=origins)
        for server in run_server(settings):
            response = httpx.get(server.url + "/sparql", params={"query": COUNT}, headers=JSON)
            assert response.headers["vary"] == vary


def test_head_is_get_without_the_body(live_server) -> None:
    url = live_server.url + "/sparql"
    query = _query(COUNT)
    head = httpx.head(url, params={"query": query}, headers=JSON)
    get = httpx.get(url, params={"query": query}, headers=JSON)
    assert head.status_code == get.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == str(len(get.content))
    assert (head.headers["x-cache"], get.headers["x-cache"]) == ("miss", "hit")
    assert head.headers["etag"] == get.headers["etag"]


@pytest.mark.parametrize("limit", [50, None], ids=["small", "large"])
def test_answers_of_any_size_are_what_the_store_says(live_server, limit: int | None) -> None:
    """Small answers come from the worker inline, large ones (here megabytes) as raw bytes
    after their description: either way the very bytes the store serialises, cold or cached."""
    query = "SELECT ?s ?p ?o WHERE { ?s ?p ?o } ORDER BY ?s ?p ?o" + (
        f" LIMIT {limit}" if limit else ""
    )
    reader = StoreReader(live_server.settings.store)
    expected = reader.query(
        query,
        results_format=ox.QueryResultsFormat.JSON,
        graph_format=None,
        base_iri=BASE_IRI + "sparql",
    )
    assert not isinstance(expected, str)
    assert (len(expected.body) < 16_000) is (limit is not None)
    url = live_server.url + "/sparql"
    cold = httpx.post(url, data={"query": query}, headers=JSON, timeout=60)
    again = httpx.post(url, data={"query": query}, headers=JSON, timeout=60)
    assert (cold.headers["x-cache"], again.headers["x-cache"]) == ("miss", "hit")
    assert cold.content == again.content == expected.body
    assert len(json.loads(cold.content)["results"]["bindings"]) == (limit or reader_size(reader))


def reader_size(reader: StoreReader) -> int:
    rows = reader.select("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
    return int(rows[0]["n"])
