"""HEAD is answered wherever GET is: the GET's status and headers, no body (`endpoint.app`).

Link checkers (data.europa.eu's, `creative-graph mqa`) ask with HEAD; a 405 there is a broken
link. `test_links_e2e.py` asks every link of the demo site; these tests name the pages the audit
found refusing HEAD, and check what the mechanism must not do: run a page twice, or answer HEAD
where GET is not allowed either.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn
from conftest import BASE_IRI, free_socket
from fastapi import FastAPI
from fastapi.responses import PlainTextResponse

from creative_graph.settings import Settings
from creative_graph.store import StoreReader
from endpoint.app import create_app

pytestmark = pytest.mark.e2e
NAME = "brussels-culture-poi"
NOT_COMPARED = {"date", "x-cache"}  # when it was sent; whether the result cache answered


def _compared(response: httpx.Response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k not in NOT_COMPARED}


def _an_actor(settings: Settings) -> str:
    (row,) = StoreReader(settings.store).select(
        "SELECT ?a WHERE { ?a a <http://www.w3.org/ns/org#Organization> } ORDER BY ?a LIMIT 1"
    )
    return row["a"].removeprefix(BASE_IRI)


def test_the_pages_that_refused_head_answer_it_as_get(live_server) -> None:
    actor = _an_actor(live_server.settings)
    pages = [
        ("/", "text/html"),
        ("/?format=json", "*/*"),
        (f"/graph/{NAME}", "text/html"),
        (f"/graph/{NAME}", "text/turtle"),
        ("/graph/ontology", "text/html"),
        (f"/{actor}", "text/html"),  # 303 to its document
        ("/" + actor.replace("id/", "doc/", 1), "text/html"),
        ("/" + actor.replace("id/", "doc/", 1), "application/ld+json"),
        ("/ns", "text/turtle"),
        ("/concept", "text/html"),
        ("/concept/sector", "text/html"),
        ("/shapes", "text/turtle"),
        ("/oai?verb=Identify", "*/*"),
        ("/dumps", "*/*"),  # 404 here (no dumps written): HEAD says so too
        (f"/id/publisher/{NAME}", "text/html"),
        ("/healthz", "*/*"),
    ]
    for path, accept in pages:
        got = httpx.get(live_server.url + path, headers={"Accept": accept})
        head = httpx.head(live_server.url + path, headers={"Accept": accept})
        assert head.status_code == got.status_code != 405, path
        assert head.content == b"", path
        if path != "/healthz":  # its body says how much memory the server uses at this moment
            assert _compared(head) == _compared(got), path
            assert head.headers["content-length"] == str(len(got.content)), path
    redirect = httpx.head(f"{live_server.url}/{actor}")
    assert redirect.status_code == 303
    assert redirect.headers["location"] == "/" + actor.replace("id/", "doc/", 1)


def test_head_revalidates_as_get_does(live_server) -> None:
    url = f"{live_server.url}/graph/{NAME}"
    first = httpx.head(url, headers={"Accept": "text/turtle"})
    assert first.status_code == 200 and first.headers["etag"]
    again = httpx.head(
        url, headers={"Accept": "text/turtle", "If-None-Match": first.headers["etag"]}
    )
    assert again.status_code == 304 and again.headers["etag"] == first.headers["etag"]


def test_a_method_not_allowed_is_refused_with_head_among_the_allowed(live_server) -> None:
    for method, path in (("DELETE", "/"), ("POST", f"/graph/{NAME}"), ("PUT", "/ns")):
        response = httpx.request(method, live_server.url + path)
        assert response.status_code == 405, (method, path)
        allowed = {m.strip() for m in response.headers["allow"].split(",")}
        assert {"GET", "HEAD"} <= allowed and method not in allowed, (method, path)
    # routes that answered HEAD themselves still do
    for path in ("/catalog", "/.well-known/void", "/ldes/actors", "/sparql"):
        assert httpx.head(live_server.url + path).status_code == 200, path


@pytest.fixture
def counting(demo_store: Settings) -> Iterator[tuple[str, list[str]]]:
    """The real app, with a GET-only page that counts its runs and a POST-only one."""
    app: FastAPI = create_app(demo_store)
    runs: list[str] = []

    @app.get("/counted")
    def counted() -> PlainTextResponse:
        runs.append("GET")
        return PlainTextResponse("x" * 1000, headers={"X-Run": str(len(runs))})

    @app.post("/posted")
    def posted() -> PlainTextResponse:
        runs.append("POST")
        return PlainTextResponse("posted")

    sock = free_socket()
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}", runs
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def test_head_costs_what_get_costs_and_no_more(counting) -> None:
    url, runs = counting
    head = httpx.head(url + "/counted")
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == "1000" and head.headers["x-run"] == "1"
    assert runs == ["GET"]  # run once, as the GET it is
    refused = httpx.head(url + "/posted")
    assert refused.status_code == 405 and refused.headers["allow"] == "POST"
    assert runs == ["GET"]  # where GET is not allowed, HEAD is not either: nothing ran
