"""Serving from memory (`SERVE_FROM_MEMORY`), against real servers: the same answers as from
disk, never stale after an ingest or a write, memory reported, and the time limit still kept."""

from __future__ import annotations

import csv
import io
import shutil
import time
from collections.abc import Iterator

import httpx
import pyoxigraph as ox
import pytest
from conftest import LiveServer, demo_features, run_server
from pydantic import SecretStr

from creative_graph.settings import Settings
from creative_graph.store import StoreWriter
from endpoint.workers import QueryPool
from ingest.manifest import load_manifest
from ingest.pipeline import ingest_source

pytestmark = pytest.mark.e2e

JSON = "application/sparql-results+json"
PREFIXES = (
    "PREFIX org: <http://www.w3.org/ns/org#> PREFIX skos: <http://www.w3.org/2004/02/skos/core#> "
)
COUNT = PREFIXES + "SELECT (COUNT(?a) AS ?n) WHERE { ?a a org:Organization }"
TOKEN = "memory-serving-token-0123456789ab"
FLAGEY = '?a skos:hiddenLabel "FLAGEY"@fr'
# (query, Accept, extra parameters, whether the order of lines is part of the answer)
QUERIES = [
    (COUNT, JSON, {}, True),
    (
        PREFIXES
        + "SELECT ?a ?l WHERE { ?a a org:Organization ; skos:prefLabel ?l } ORDER BY ?a ?l",
        "text/csv",
        {},
        True,
    ),
    (
        "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g ORDER BY ?g",
        "application/sparql-results+xml",
        {},
        True,
    ),
    (PREFIXES + f"ASK {{ {FLAGEY} }}", JSON, {}, True),
    (
        PREFIXES + 'ASK { ?a skos:hiddenLabel "NO SUCH NAME" }',
        "text/tab-separated-values",
        {},
        True,
    ),
    (
        PREFIXES + "CONSTRUCT { ?a skos:prefLabel ?l } WHERE { ?a a org:Organization ; "
        "skos:prefLabel ?l }",
        "application/n-triples",
        {},
        False,
    ),
    (PREFIXES + f"DESCRIBE ?a WHERE {{ {FLAGEY} }}", "application/n-triples", {}, False),
    (COUNT, JSON, {"default-graph-uri": "http://test.example/graph/ontology"}, True),
]


def json_count(response: httpx.Response) -> int:
    return int(response.json()["results"]["bindings"][0]["n"]["value"])


def quads_in(settings: Settings, snapshot: str) -> int:
    return len(ox.Store.read_only(str(settings.store / "published" / snapshot)))


@pytest.fixture(scope="module")
def memory_server(demo_store: Settings) -> Iterator[LiveServer]:
    yield from run_server(demo_store.model_copy(update={"serve_from_memory": True}))


@pytest.fixture
def writable_memory_server(demo_store: Settings, settings: Settings) -> Iterator[LiveServer]:
    shutil.copytree(demo_store.store, settings.store)
    yield from run_server(
        settings.model_copy(update={"serve_from_memory": True, "write_token": SecretStr(TOKEN)})
    )


@pytest.mark.parametrize(("query", "accept", "extra", "ordered"), QUERIES)
def test_answers_from_memory_are_the_answers_from_disk(
    live_server: LiveServer,
    memory_server: LiveServer,
    query: str,
    accept: str,
    extra: dict[str, str],
    ordered: bool,
) -> None:
    answers = [
        httpx.get(
            server.url + "/sparql", params={"query": query, **extra}, headers={"Accept": accept}
        )
        for server in (live_server, memory_server)
    ]
    assert [a.status_code for a in answers] == [200, 200]
    disk, memory = (a.text for a in answers)
    assert disk.strip()
    if ordered:
        assert memory == disk
    else:
        assert sorted(memory.splitlines()) == sorted(disk.splitlines())


def test_named_queries_from_memory_are_the_same(
    live_server: LiveServer, memory_server: LiveServer
) -> None:
    path = "/api/queries/actors-by-type?type=theatre"
    disk, memory = (
        httpx.get(s.url + path, headers={"Accept": "text/csv"})
        for s in (live_server, memory_server)
    )
    assert disk.status_code == memory.status_code == 200
    # the same actors; which of an actor's names SAMPLE picks is up to each store
    actors = [{row["actor"] for row in csv.DictReader(io.StringIO(a.text))} for a in (disk, memory)]
    assert len(actors[0]) > 1 and actors[1] == actors[0]


def test_a_new_ingest_is_served_from_memory_at_once(settings, source_copy, validator) -> None:
    for server in run_server(settings.model_copy(update={"serve_from_memory": True})):
        empty = httpx.get(server.url + "/sparql", params={"query": COUNT}, headers={"Accept": JSON})
        assert json_count(empty) == 0
        ingest_source(load_manifest(source_copy), settings, validator)
        full = httpx.get(server.url + "/sparql", params={"query": COUNT}, headers={"Accept": JSON})
        assert json_count(full) == len(demo_features())


def test_healthz_reports_each_workers_memory_and_copy_also_after_a_write(
    writable_memory_server: LiveServer,
) -> None:
    server = writable_memory_server
    with httpx.Client(base_url=server.url, timeout=60) as client:
        for n in range(2):  # two queries in a row go to the two workers
            assert json_count(client.get("/sparql", params={"query": f"{COUNT} # {n}"})) > 0
        before = client.get("/healthz").json()
        workers = before["query_workers"]
        assert workers["serving_from"] == "memory" and workers["processes"] == 2
        assert len({w["pid"] for w in workers["workers"]}) == 2
        expected = quads_in(server.settings, before["snapshot"])
        for worker in workers["workers"]:
            assert worker["resident_bytes"] > 10 * 2**20  # a Python process and its copy
            assert worker["memory_copy"]["snapshot"] == before["snapshot"]
            assert worker["memory_copy"]["quads"] == expected
        assert workers["resident_bytes"] == sum(w["resident_bytes"] for w in workers["workers"])
        assert before["server_resident_bytes"] > 0

        edits = server.settings.base_iri + "graph/edits"
        note = f'<{server.settings.base_iri}note/1> <http://purl.org/dc/terms/title> "A note"'
        written = client.post(
            "/sparql",
            data={"update": f"INSERT DATA {{ GRAPH <{edits}> {{ {note} }} }}"},
            headers={"Authorization": f"Bearer {TOKEN}"},
        )
        assert written.status_code == 204, written.text
        for n in range(2):  # each worker loads the new snapshot before it answers
            ask = f"ASK {{ GRAPH <{edits}> {{ {note} }} }} # {n}: not from the result cache"
            assert client.get("/sparql", params={"query": ask}).json()["boolean"] is True
        after = client.get("/healthz").json()
        assert after["snapshot"] != before["snapshot"]
        expected = quads_in(server.settings, after["snapshot"])
        assert expected > before["query_workers"]["workers"][0]["memory_copy"]["quads"]
        for worker in after["query_workers"]["workers"]:
            assert worker["memory_copy"]["snapshot"] == after["snapshot"]
            assert worker["memory_copy"]["quads"] == expected


def test_disk_mode_says_so(live_server: LiveServer) -> None:
    httpx.get(live_server.url + "/sparql", params={"query": COUNT})
    workers = httpx.get(live_server.url + "/healthz").json()["query_workers"]
    assert workers["serving_from"] == "disk" and workers["processes"] >= 1
    assert all(w["memory_copy"] is None for w in workers["workers"])


@pytest.mark.slow
def test_the_time_limit_holds_and_the_new_worker_loads_again(demo_store: Settings) -> None:
    strict = demo_store.model_copy(
        update={"serve_from_memory": True, "query_timeout": 1.0, "query_workers": 1}
    )
    endless = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"  # ~10^15 rows
    for server in run_server(strict):
        with httpx.Client(base_url=server.url, timeout=60) as client:
            assert json_count(client.get("/sparql", params={"query": COUNT})) > 0
            (first,) = client.get("/healthz").json()["query_workers"]["workers"]
            started = time.monotonic()
            response = client.get("/sparql", params={"query": endless})
            assert response.status_code == 503 and "longer than 1 s" in response.text
            assert time.monotonic() - started < 15  # stopped, not run to the end
            # the replacement loads the snapshot again
            after = client.get("/sparql", params={"query": COUNT + " # not from the cache"})
            assert after.status_code == 200 and json_count(after) == len(demo_features())
            (second,) = client.get("/healthz").json()["query_workers"]["workers"]
            assert second["pid"] != first["pid"]
            assert second["memory_copy"] == first["memory_copy"] | {
                "seconds": second["memory_copy"]["seconds"]
            }


@pytest.mark.slow
def test_loading_a_large_snapshot_is_not_the_query_time(tmp_path) -> None:
    """A copy that takes longer to load than the time limit does not get its worker killed."""
    with StoreWriter(tmp_path / "store") as writer:
        triples = {f'<http://x.example/s{i // 10}> <http://x.example/p{i % 10}> "{i}"'
                   for i in range(300_000)}  # fmt: skip
        writer.replace_graph("http://x.example/g", triples)
        writer.publish()
    pool = QueryPool(tmp_path / "store", size=1, timeout=0.3, in_memory=True)
    try:
        output = pool.run(
            {
                "query": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }",
                "results": "text/csv",
                "graph": None,
                "default_graphs": [],
                "named_graphs": [],
            }
        )
        assert output.body.decode().splitlines() == ["n", "300000"]
        (worker,) = pool.health()["workers"]
        assert worker["memory_copy"]["quads"] == 300_000
        assert worker["memory_copy"]["seconds"] > pool.timeout  # what this test is about
    finally:
        pool.close()
