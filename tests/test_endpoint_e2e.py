"""The SPARQL endpoint and home page, over HTTP against a real uvicorn server."""

from __future__ import annotations

import csv
import io
import shutil
import threading
import time
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from conftest import demo_features, run_server
from pydantic import SecretStr
from rdflib import Graph, URIRef

from ingest.manifest import load_manifest
from ingest.pipeline import ingest_source

pytestmark = pytest.mark.e2e

COUNT = "PREFIX org: <http://www.w3.org/ns/org#> SELECT (COUNT(?a) AS ?n) WHERE { ?a a org:Organization }"
CONSTRUCT = (
    "PREFIX skos: <http://www.w3.org/2004/02/skos/core#> "
    "CONSTRUCT { ?a skos:prefLabel ?l } WHERE { ?a a <http://www.w3.org/ns/org#Organization> ; skos:prefLabel ?l }"
)
SPARQL_JSON = "application/sparql-results+json"
SKOS = "http://www.w3.org/2004/02/skos/core#"
DCT_TITLE = "http://purl.org/dc/terms/title"


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


TOKEN = "concurrent-writes-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
WRITES = 6  # odd: a SPARQL Update adds note j; even: a Graph Store PUT sets the version to j


def state_after(j: int) -> tuple[frozenset[str], str | None]:
    """The notes and version the store holds after the first `j` writes."""
    notes = frozenset(f"note {i}" for i in range(1, j + 1, 2))
    versions = [i for i in range(2, j + 1, 2)]
    return notes, str(versions[-1]) if versions else None


@pytest.mark.slow
@pytest.mark.parametrize("in_memory", [False, True], ids=["disk", "memory"])
def test_simultaneous_mixed_queries_while_writes_run_all_answered_right(
    settings, demo_store, in_memory: bool
) -> None:
    """32 clients query without pause while validated writes are published one after another.

    Every answer must carry its own request's token, hold the whole state of one published
    snapshot (never half of a write, never two snapshots mixed), be no older than the last
    write that had finished when it was asked and no newer than the last one begun when it
    came back, and answers under the same ETag (snapshot) must hold the same state.
    """
    shutil.copytree(demo_store.store, settings.store)
    base = settings.base_iri
    edits, version_graph = f"<{base}graph/concurrent-edits>", f"{base}graph/concurrent-version"
    state_iri = f"<{base}note/state>"
    live = settings.model_copy(
        update={"write_token": SecretStr(TOKEN), "serve_from_memory": in_memory}
    )
    states = [state_after(j) for j in range(WRITES + 1)]
    expected_actors = len(demo_features())
    started: list[float] = []  # when write j+1 was sent
    finished: list[float] = []  # when its answer came back
    writes_done = threading.Event()

    def state_query(token: str | None) -> str:
        bind = f'BIND("{token}" AS ?token)' if token else ""
        return (
            "SELECT * WHERE { { SELECT (GROUP_CONCAT(?t; separator='|') AS ?notes) WHERE { "
            f"GRAPH {edits} {{ ?n <{DCT_TITLE}> ?t }} }} }} "
            f"OPTIONAL {{ GRAPH <{version_graph}> {{ {state_iri} <{base}version> ?v }} }} "
            f"BIND(STR(?v) AS ?version) {bind} }}"
        )

    def construct_query(token: str) -> str:
        asker = f"<urn:request:{token}>"
        return (
            f"CONSTRUCT {{ {asker} <urn:asked> true . {asker} <urn:saw> ?t . "
            f"{asker} <urn:version> ?version }} WHERE {{ "
            f"{{ GRAPH {edits} {{ ?n <{DCT_TITLE}> ?t }} }} UNION "
            f"{{ GRAPH <{version_graph}> {{ {state_iri} <{base}version> ?v }} "
            "BIND(STR(?v) AS ?version) } UNION { BIND(1 AS ?one) } }"
        )

    def parse_state(kind: int, token: str, response: httpx.Response) -> tuple:
        """(token, notes, version) from an answer in the format `kind` asked for."""
        if kind == 0:  # SPARQL JSON
            (row,) = response.json()["results"]["bindings"]
            notes, version = row["notes"]["value"], row.get("version", {}).get("value")
            return row["token"]["value"], notes, version
        if kind == 1:  # CSV
            header, row = list(csv.reader(io.StringIO(response.text)))
            values = dict(zip(header, row, strict=True))
            return values["token"], values["notes"], values["version"] or None
        if kind == 2:  # XML
            ns = "{http://www.w3.org/2005/sparql-results#}"
            (result,) = ET.fromstring(response.content).iter(f"{ns}result")
            values = {b.get("name"): b.findtext(f"{ns}literal") for b in result}
            return values["token"], values["notes"], values.get("version")
        if kind == 3:  # TSV, no token: the same text each time, so the cache answers too
            header, row = response.text.splitlines()
            values = dict(zip(header.split("\t"), row.split("\t"), strict=True))
            unquote = {k: v.strip('"') if v else None for k, v in values.items()}
            return token, unquote["?notes"], unquote["?version"]
        graph = Graph().parse(data=response.text, format="nt" if kind == 4 else "turtle")
        (subject,) = set(graph.subjects())  # only this request's subject
        assert str(subject) == f"urn:request:{token}"
        saw = sorted(str(o) for o in graph.objects(subject, URIRef("urn:saw")))
        versions = [str(o) for o in graph.objects(subject, URIRef("urn:version"))]
        return token, "|".join(saw), versions[0] if versions else None

    formats = [SPARQL_JSON, "text/csv", "application/sparql-results+xml",
               "text/tab-separated-values", "application/n-triples", "text/turtle"]  # fmt: skip
    answers: list[tuple[int, str | None, float, float]] = []  # state, snapshot, asked, answered
    lock = threading.Lock()

    def one(client: httpx.Client, i: int) -> None:
        kind, token = i % 8, f"req-{i}"
        asked = time.monotonic()
        if kind < 6:
            query = (
                construct_query(token) if kind >= 4 else state_query(token if kind != 3 else None)
            )
            if i % 16 < 8:
                response = client.get("/sparql", params={"query": query},
                                      headers={"Accept": formats[kind]})  # fmt: skip
            else:
                response = client.post("/sparql", data={"query": query},
                                       headers={"Accept": formats[kind]})  # fmt: skip
            answered = time.monotonic()
            assert response.status_code == 200, response.text
            assert response.headers["content-type"].startswith(formats[kind])
            got_token, notes, version = parse_state(kind, token, response)
            assert got_token == token
            state = (frozenset(filter(None, notes.split("|"))), version)
            assert state in states, f"{token}: {state} is no published state"
            etag = response.headers.get("etag")  # GET only: W/"{snapshot}:{media type}"
            snapshot = etag.split('"')[1].split(":")[0] if etag else None
            with lock:
                answers.append((states.index(state), snapshot, asked, answered))
        elif kind == 6:  # ASK: true for a fact of the demo data, false for this token
            truth = i % 16 < 8
            label = '"FLAGEY"@fr' if truth else f'"{token}"'
            response = client.get(
                "/sparql", params={"query": f"ASK {{ ?a <{SKOS}hiddenLabel> {label} }}"}
            )
            assert response.status_code == 200 and response.json()["boolean"] is truth
        elif i % 16 < 8:  # the demo's actors, with the token
            query = COUNT.replace("SELECT", f'SELECT ("{token}" AS ?token)')
            row = client.get("/sparql", params={"query": query}, headers={"Accept": SPARQL_JSON})
            (binding,) = row.json()["results"]["bindings"]
            assert binding["token"]["value"] == token
            assert int(binding["n"]["value"]) == expected_actors
        else:
            bad = client.get("/sparql", params={"query": f"SELECT ?{token} WHERE {{ ?x ?y"})
            assert bad.status_code == 400 and "error at 1:" in bad.text

    def writer(client: httpx.Client) -> None:
        try:
            for j in range(1, WRITES + 1):
                started.append(time.monotonic())
                if j % 2:
                    update = f'INSERT DATA {{ GRAPH {edits} {{ <{base}note/{j}> <{DCT_TITLE}> "note {j}" }} }}'
                    response = client.post("/sparql", data={"update": update}, headers=AUTH)
                else:
                    response = client.put(
                        f"/store?graph={version_graph}",
                        content=f'{state_iri} <{base}version> "{j}" .',
                        headers={"Content-Type": "text/turtle"} | AUTH,
                    )
                finished.append(time.monotonic())
                assert response.status_code in (201, 204), response.text
        finally:
            writes_done.set()

    def client_thread(url: str, n: int, barrier: threading.Barrier) -> int:
        """Queries from one client until the writes are over (two rounds at least)."""
        with httpx.Client(base_url=url, timeout=120) as client:
            barrier.wait()
            if n == 32:
                writer(client)
                return 0
            rounds = 0
            while rounds < 2 or not writes_done.is_set():
                one(client, n + 32 * rounds)
                rounds += 1
            return rounds

    for server in run_server(live):
        barrier = threading.Barrier(33)
        with ThreadPoolExecutor(max_workers=33) as pool:
            rounds = list(pool.map(client_thread, [server.url] * 33, range(33), [barrier] * 33))
        assert len(finished) == WRITES  # every write was accepted
        assert sum(rounds) >= 64
        for state, _, asked, answered in answers:  # never stale, never ahead
            assert sum(end < asked for end in finished) <= state
            assert state <= sum(begin < answered for begin in started)
        by_snapshot: dict[str, set[int]] = {}
        for state, snapshot, _, _ in answers:
            if snapshot:
                by_snapshot.setdefault(snapshot, set()).add(state)
        assert all(len(seen) == 1 for seen in by_snapshot.values()), by_snapshot
        ordered = [next(iter(by_snapshot[name])) for name in sorted(by_snapshot)]
        assert ordered == sorted(set(ordered))  # later snapshots, later states
        assert len({state for state, *_ in answers}) > 1  # the queries really overlapped writes
        assert server.thread.is_alive()
        health = httpx.get(server.url + "/healthz").json()
        assert health["status"] == "ok"
        final = httpx.get(server.url + "/sparql", params={"query": state_query("last")},
                          headers={"Accept": SPARQL_JSON})  # fmt: skip
        (row,) = final.json()["results"]["bindings"]
        assert (set(row["notes"]["value"].split("|")), row["version"]["value"]) == (
            set(states[-1][0]),
            states[-1][1],
        )
