"""The query pool's limits on the real server (issue 5, item 5): light queries are answered
while more heavy queries than workers run, long-running queries past the cap get 503 "retry
later", and a query over the memory limit gets 503 while the server goes on answering."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from conftest import LiveServer, run_server

from creative_graph.settings import Settings

pytestmark = pytest.mark.e2e

JSON = {"Accept": "application/sparql-results+json"}
ENDLESS = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"  # ~10^13 rows
# the audit's query: it grew a worker to 3 GB in 4 s
HUNGRY = "SELECT ?a ?d WHERE { ?a ?b ?c . ?d ?e ?f } ORDER BY ?a ?d LIMIT 1"
NAMED = "/api/queries/actors-by-sector"
TIMEOUT = 6.0


@pytest.fixture(scope="module")
def limited(demo_store: Settings) -> Iterator[LiveServer]:
    yield from run_server(
        demo_store.model_copy(
            update={
                "query_workers": 2,
                "query_timeout": TIMEOUT,
                "query_long_after": 0.5,
                "query_memory_bytes": 256 * 2**20,
            }
        )
    )


def _sparql(server: LiveServer, query: str) -> httpx.Response:
    return httpx.post(server.url + "/sparql", data={"query": query}, headers=JSON, timeout=60)


def _timed(call: object, *args: object) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = call(*args)  # type: ignore[operator]
    return response, time.monotonic() - started


def test_light_queries_are_answered_while_heavy_ones_run(limited: LiveServer) -> None:
    """Four clients send a heavy query (two workers): an ASK and a named query sent meanwhile
    are answered, right, in well under the heavy ones' time limit. One heavy query runs to the
    limit; the others get 503 "too many long-running queries" (the first ones as they run
    long, those sent later at once). Before, the light ones waited for the time limit."""
    for answer in ThreadPoolExecutor(2).map(lambda i: _sparql(limited, f"ASK {{}} # {i}"), "ab"):
        assert answer.status_code == 200  # both workers started
    with ThreadPoolExecutor(4) as heavy_clients:
        heavy = [heavy_clients.submit(_sparql, limited, ENDLESS) for _ in range(4)]
        time.sleep(0.3)
        ask, ask_took = _timed(_sparql, limited, "ASK { ?s ?p ?o } # light")
        named, named_took = _timed(
            lambda: httpx.get(
                limited.url + NAMED, params={"sector": "performing-arts"}, headers=JSON, timeout=60
            )
        )
        again, again_took = _timed(_sparql, limited, ENDLESS)
        health = httpx.get(limited.url + "/healthz").json()["query_workers"]
        outcomes = [future.result() for future in heavy]
    assert ask.status_code == 200 and ask.json()["boolean"] is True
    assert named.status_code == 200, named.text
    assert ask_took < 1.5 and named_took < 1.5, (ask_took, named_took)
    assert again.status_code == 503 and "too many long-running queries" in again.text
    assert again_took < 1.0  # refused at once: it ran long a moment ago
    assert health["long_running"] == 1 and health["long_running_max"] == 1
    assert [r.status_code for r in outcomes] == [503] * 4
    assert sorted("longer than 6 s" in r.text for r in outcomes) == [False, False, False, True]
    assert all("retry later" in r.text for r in outcomes if "longer than 6 s" not in r.text)
    # the named query's answer, computed again on a quiet server (CSV: not from the cache)
    quiet = httpx.get(
        limited.url + NAMED,
        params={"sector": "performing-arts"},
        headers={"Accept": "text/csv"},
        timeout=60,
    )
    expected = {row["actor"] for row in csv.DictReader(io.StringIO(quiet.text))}
    got = {b["actor"]["value"] for b in named.json()["results"]["bindings"]}
    assert got == expected and expected


def test_a_query_over_the_memory_limit_gets_503_and_the_server_goes_on(
    limited: LiveServer,
) -> None:
    response, took = _timed(_sparql, limited, HUNGRY)
    assert response.status_code == 503
    assert "needed more than 256 MiB of memory" in response.text
    assert took < TIMEOUT  # stopped for its memory, not at the time limit
    after = _sparql(limited, "ASK { ?s ?p ?o } # after the hungry one")
    assert after.status_code == 200 and after.json()["boolean"] is True
    workers = httpx.get(limited.url + "/healthz").json()["query_workers"]
    assert workers["processes"] == 2 and workers["memory_limit_bytes"] == 256 * 2**20
    assert all(w["resident_bytes"] < 512 * 2**20 for w in workers["workers"])
