"""Writes over HTTP: SPARQL Update at /sparql and the Graph Store Protocol at /store.

Against the real server on a copy of the demo store, with the project's shapes: reads stay
public, writes need the operator's token (and are off without one), a write that breaks the
shapes is refused whole with the violations named, an accepted one is visible to the very
next query (never a stale cached answer) and leaves a PROV-O record.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import httpx
import pytest
from conftest import LiveServer, run_server
from pydantic import SecretStr

from creative_graph.settings import Settings
from creative_graph.store import StoreWriter

pytestmark = pytest.mark.e2e

TOKEN = "writes-e2e-token-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
SKOS = "http://www.w3.org/2004/02/skos/core#"
UPDATE = {"Content-Type": "application/sparql-update"}
JSON = {"Accept": "application/sparql-results+json"}


@pytest.fixture(scope="module")
def server(demo_store: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("writes")
    shutil.copytree(demo_store.store, folder / "store")
    settings = demo_store.model_copy(
        update={"store": folder / "store", "write_token": SecretStr(TOKEN)}
    )
    yield from run_server(settings)


@pytest.fixture(scope="module")
def closed_server(
    demo_store: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """The default: no write token."""
    folder = tmp_path_factory.mktemp("closed")
    shutil.copytree(demo_store.store, folder / "store")
    yield from run_server(demo_store.model_copy(update={"store": folder / "store"}))


def actor_without_english_name(client: httpx.Client) -> str:
    rows = client.get(
        "/sparql",
        params={
            "query": "SELECT ?a WHERE { ?a a <http://www.w3.org/ns/org#Organization> ; "
            f"<{SKOS}prefLabel> ?fr . FILTER(LANG(?fr) = 'fr') FILTER NOT EXISTS {{ "
            f"?a <{SKOS}prefLabel> ?en FILTER(LANG(?en) = 'en') }} }} ORDER BY ?a LIMIT 1"
        },
        headers=JSON,
    ).json()["results"]["bindings"]
    return rows[0]["a"]["value"]


def english_names(client: httpx.Client, actor: str) -> list[str]:
    query = f"SELECT ?n WHERE {{ <{actor}> <{SKOS}prefLabel> ?n FILTER(LANG(?n) = 'en') }}"
    response = client.get("/sparql", params={"query": query}, headers=JSON)
    return [row["n"]["value"] for row in response.json()["results"]["bindings"]]


def snapshot(client: httpx.Client) -> str:
    return client.get("/healthz").json()["snapshot"]


def test_writes_are_off_unless_the_operator_sets_a_token(closed_server: LiveServer) -> None:
    with httpx.Client(base_url=closed_server.url, timeout=30) as client:
        before = snapshot(client)
        update = client.post("/sparql", content="CLEAR ALL", headers=UPDATE | AUTH)
        put = client.put(
            "/store?graph=http://x.example/g", content="<a:b> <a:c> <a:d> .",
            headers={"Content-Type": "application/n-triples"} | AUTH,
        )  # fmt: skip
        assert (update.status_code, put.status_code) == (403, 403)
        assert "CREATIVE_GRAPH_WRITE_TOKEN" in update.text
        assert snapshot(client) == before
        assert client.get("/sparql", params={"query": "ASK { ?s ?p ?o }"}, headers=JSON).json()[
            "boolean"
        ]


def test_a_write_without_the_right_token_is_refused_and_changes_nothing(
    server: LiveServer,
) -> None:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        before = snapshot(client)
        missing = client.post("/sparql", content="CLEAR ALL", headers=UPDATE)
        wrong = client.post(
            "/sparql", content="CLEAR ALL", headers=UPDATE | {"Authorization": "Bearer nope"}
        )
        form = client.post("/sparql", data={"update": "CLEAR ALL"})
        deleted = client.delete("/store?default")
        assert [r.status_code for r in (missing, wrong, form, deleted)] == [401] * 4
        assert missing.headers["www-authenticate"].startswith("Bearer")
        assert 'error="invalid_token"' in wrong.headers["www-authenticate"]
        assert snapshot(client) == before


def test_an_accepted_update_is_seen_by_the_next_query_and_recorded(server: LiveServer) -> None:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        actor = actor_without_english_name(client)
        assert english_names(client, actor) == []
        assert english_names(client, actor) == []  # now answered from the result cache
        edits = server.settings.base_iri + "graph/edits"
        response = client.post(
            "/sparql",
            data={
                "update": f"INSERT DATA {{ GRAPH <{edits}> {{ <{actor}> <{SKOS}prefLabel> "
                '"A name in English"@en } }'
            },
            headers=AUTH,
        )
        assert response.status_code == 204, response.text
        assert english_names(client, actor) == ["A name in English"]  # not the cached answer
        record = client.get(
            "/sparql",
            params={
                "query": "SELECT ?run WHERE { GRAPH ?g { ?run a <http://www.w3.org/ns/prov#Activity> ;"
                ' <http://www.w3.org/2000/01/rdf-schema#label> "SPARQL Update at /sparql"@en } }'
            },
            headers=JSON,
        ).json()["results"]["bindings"]
        assert len(record) == 1


def test_an_update_that_breaks_the_shapes_is_refused_whole(server: LiveServer) -> None:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        actor = actor_without_english_name(client)
        edits = server.settings.base_iri + "graph/edits"
        before = snapshot(client)
        # two English names for one actor break "one name per language"; the first
        # operation alone would be fine, but the update is one whole
        update = (
            f'INSERT DATA {{ GRAPH <{edits}> {{ <{actor}> <{SKOS}prefLabel> "One"@en }} }} ;\n'
            f'INSERT DATA {{ GRAPH <{edits}> {{ <{actor}> <{SKOS}prefLabel> "Two"@en }} }}'
        )
        response = client.post("/sparql", content=update, headers=UPDATE | AUTH)
        assert response.status_code == 422, response.text
        assert actor in response.text and "nothing was written" in response.text
        detailed = client.post(
            "/sparql", content=update, headers=UPDATE | AUTH | {"Accept": "application/json"}
        )
        assert detailed.status_code == 422
        (violation,) = detailed.json()["violations"]
        assert violation["focus_node"] == actor and violation["path"] == "skos:prefLabel"
        assert english_names(client, actor) == []
        assert snapshot(client) == before


@pytest.mark.parametrize(
    ("update", "status", "words"),
    [
        ("INSERT DATA { <a:b> <a:c> ", 400, "Malformed update"),
        ("LOAD <http://169.254.169.254/latest>", 403, "LOAD is refused"),
        (
            "INSERT { GRAPH <x:g> { ?s ?p ?o } } WHERE { SERVICE <http://evil.example/sparql> "
            "{ ?s ?p ?o } }",
            403,
            "refused SERVICE http://evil.example/sparql",
        ),
        ("WITH <x:g> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }", 400, "forbids both"),
    ],
    ids=["syntax", "load", "service", "dataset-conflict"],
)
def test_updates_that_may_not_run_say_why(
    server: LiveServer, update: str, status: int, words: str
) -> None:
    params = {"using-graph-uri": "x:g"} if "WITH" in update else {}
    with httpx.Client(base_url=server.url, timeout=30) as client:
        before = snapshot(client)
        response = client.post("/sparql", params=params, content=update, headers=UPDATE | AUTH)
        assert response.status_code == status
        assert words in response.text
        assert snapshot(client) == before


def test_graph_store_put_get_delete_with_the_shapes(server: LiveServer) -> None:
    graph = server.settings.base_iri + "graph/notes"
    url = f"/store?graph={graph}"
    turtle = {"Content-Type": "text/turtle"}
    with httpx.Client(base_url=server.url, timeout=30) as client:
        assert client.get(url).status_code == 404
        broken = client.put(
            url, content="<a:b> <a:c> .\n<a:d> <a:e> <a:f> .", headers=turtle | AUTH
        )
        assert broken.status_code == 400 and "not valid Turtle" in broken.text
        unnamed = "<http://test.example/id/actor/new> a <http://www.w3.org/ns/org#Organization> ."
        refused = client.put(url, content=unnamed, headers=turtle | AUTH)
        assert refused.status_code == 422 and "http://test.example/id/actor/new" in refused.text
        note = '<http://test.example/note/1> <http://purl.org/dc/terms/title> "A note"@en .'
        created = client.put(url, content=note, headers=turtle | AUTH)
        assert created.status_code == 201, created.text
        got = client.get(url, headers={"Accept": "application/n-triples"})
        assert got.status_code == 200 and '"A note"@en' in got.text
        etag = got.headers["etag"]
        assert (
            client.get(
                url, headers={"Accept": "application/n-triples", "If-None-Match": etag}
            ).status_code
            == 304
        )
        assert client.put(url, content=note, headers=turtle | AUTH).status_code == 204
        assert client.delete(url, headers=AUTH).status_code == 204
        assert client.get(url).status_code == 404
        assert client.delete(url, headers=AUTH).status_code == 404


def test_a_write_while_an_ingest_holds_the_store_is_told_to_retry(server: LiveServer) -> None:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        before = snapshot(client)
        with StoreWriter(server.settings.store):  # what a running ingest holds
            response = client.post(
                "/sparql", content="INSERT DATA { GRAPH <x:g> { <a:b> <a:c> <a:d> } }",
                headers=UPDATE | AUTH,
            )  # fmt: skip
        assert response.status_code == 503 and response.headers["retry-after"]
        assert "another process" in response.text
        assert snapshot(client) == before


def test_the_service_description_offers_updates_only_when_writes_are_on(
    server: LiveServer, closed_server: LiveServer
) -> None:
    update = "<http://www.w3.org/ns/sparql-service-description#SPARQL11Update>"
    described = [
        httpx.get(s.url + "/sparql", headers={"Accept": "application/n-triples"}).text
        for s in (server, closed_server)
    ]
    assert update in described[0] and update not in described[1]


def test_a_write_that_breaks_a_node_it_does_not_touch_is_refused_with_that_node_named(
    server: LiveServer,
) -> None:
    org = "http://www.w3.org/ns/org#"
    with httpx.Client(base_url=server.url, timeout=30) as client:
        rows = client.get(
            "/sparql",
            params={"query": f"SELECT ?a WHERE {{ ?a a <{org}Organization> }} ORDER BY ?a LIMIT 2"},
            headers=JSON,
        ).json()["results"]["bindings"]
        member, organisation = (row["a"]["value"] for row in rows)
        edits = server.settings.base_iri + "graph/edits"
        joined = client.post(
            "/sparql",
            content=f"INSERT DATA {{ GRAPH <{edits}> {{ <{member}> <{org}memberOf> "
            f"<{organisation}> }} }}",
            headers=UPDATE | AUTH,
        )
        assert joined.status_code == 204, joined.text
        before = snapshot(client)
        # the organisation stops being one: its member's org:memberOf now points to a
        # non-organisation, though the update never names the member
        untyped = client.post(
            "/sparql",
            content=f"DELETE WHERE {{ GRAPH ?g {{ <{organisation}> a <{org}Organization> }} }}",
            headers=UPDATE | AUTH | {"Accept": "application/json"},
        )
        assert untyped.status_code == 422, untyped.text
        (violation,) = untyped.json()["violations"]
        assert violation["focus_node"] == member and violation["path"] == "org:memberOf"
        assert snapshot(client) == before
