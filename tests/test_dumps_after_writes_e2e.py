"""Dumps after a write over HTTP, on the real server: the server writes the new snapshot's
dumps by itself, in the background, and meanwhile every download link keeps answering with
the previous complete set, which `/dumps` and the catalogue describe as it is served."""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest
import uvicorn
from conftest import LiveServer, free_socket, run_server
from pydantic import SecretStr
from rdflib import Graph, Namespace, URIRef
from typer.testing import CliRunner

from creative_graph import dumps
from creative_graph.cli import app
from creative_graph.iris import Iris
from creative_graph.settings import Settings
from creative_graph.writes import Writes
from endpoint.app import create_app
from ingest.manifest import load_manifest
from ingest.pipeline import ingest_source

pytestmark = pytest.mark.e2e
SOURCES = Path(__file__).resolve().parents[1] / "data" / "sources"
TOKEN = "dumps-after-writes-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
DCAT = Namespace("http://www.w3.org/ns/dcat#")
SPDX = Namespace("http://spdx.org/rdf/terms#")
TITLE = "http://purl.org/dc/terms/title"
CATCH_UP = 120  # seconds the server may take to write the dumps of a new snapshot


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, validator) -> Iterator[LiveServer]:
    """Two demo sources served where their IRIs say (so every catalogue URL is real), their
    dumps written, writes on."""
    sock = free_socket()
    base = f"http://127.0.0.1:{sock.getsockname()[1]}/"
    settings = Settings(
        store=tmp_path_factory.mktemp("dumps-writes") / "store",
        base_iri=base,
        catalog_page_size=100,
        write_token=SecretStr(TOKEN),
    )
    for name in ("brussels-culture-poi", "steward-example"):
        assert ingest_source(load_manifest(SOURCES / name), settings, validator).status == "loaded"
    dumps.write(settings.store)
    yield from run_server(settings, sock)


def write_note(client: httpx.Client, base: str, text: str) -> ox.Quad:
    """Insert one triple by SPARQL Update; the quad it adds."""
    quad = ox.Quad(
        ox.NamedNode(f"{base}note/dumps"),
        ox.NamedNode(TITLE),
        ox.Literal(text, language="en"),
        ox.NamedNode(f"{base}graph/notes"),
    )
    update = f"INSERT DATA {{ GRAPH {quad.graph_name} {{ {quad.triple} }} }}"
    response = client.post(
        "/sparql", content=update, headers={"Content-Type": "application/sparql-update"} | AUTH
    )
    assert response.status_code == 204, response.text
    return quad


def catalogue(client: httpx.Client) -> Graph:
    response = client.get("/catalog", headers={"Accept": "text/turtle"})
    assert response.status_code == 200
    return Graph().parse(data=response.text, format="turtle")


def download_urls(graph: Graph) -> set[str]:
    return {str(url) for url in graph.objects(None, DCAT.downloadURL)}


def test_after_a_write_the_dumps_catch_up_and_no_download_link_breaks(
    served: LiveServer,
) -> None:
    with httpx.Client(base_url=served.url, timeout=30) as client:
        before = client.get("/dumps").json()
        assert before["up_to_date"] and before["snapshot"] == before["published_snapshot"]
        links = download_urls(catalogue(client))
        assert f"{served.url}/dumps/all.nq.gz" in links

        quad = write_note(client, served.settings.base_iri, "Dumps follow writes")
        published = client.get("/healthz").json()["snapshot"]
        assert published != before["snapshot"]
        # at once: the previous set, said to be behind (writing takes seconds even here)
        behind = client.get("/dumps").json()
        assert behind["snapshot"] == before["snapshot"]
        assert behind["published_snapshot"] == published and behind["up_to_date"] is False
        assert "not in these files yet" in behind["note"]

        statuses: list[int] = []
        deadline = time.monotonic() + CATCH_UP
        while True:
            statuses.append(client.head("/dumps/all.nq.gz").status_code)
            listing = client.get("/dumps").json()
            if listing["up_to_date"] or time.monotonic() > deadline:
                break
            if len(statuses) % 20 == 1:  # the catalogue keeps every link meanwhile
                assert download_urls(catalogue(client)) == links
        assert listing["up_to_date"], "the dumps did not catch up with the write"
        assert listing["snapshot"] == published
        assert len(statuses) > 1 and set(statuses) == {200}, statuses

        # the new files hold the written triple and are those /dumps describes
        served_file = client.get("/dumps/all.nq.gz")
        entry = next(f for f in listing["files"] if f["name"] == "all.nq.gz")
        assert hashlib.sha256(served_file.content).hexdigest() == entry["sha256"]
        quads = set(ox.parse(gzip.decompress(served_file.content), format=ox.RdfFormat.N_QUADS))
        assert quad in quads


def described_and_served(client: httpx.Client) -> tuple[Graph, bytes]:
    """The catalogue and the whole-graph N-Quads download, both of one set of dumps (taken
    again if a newer set came in between)."""
    for _ in range(5):
        first = client.get("/dumps").json()["snapshot"]
        graph = catalogue(client)
        body = client.get("/dumps/all.nq.gz").content
        if client.get("/dumps").json()["snapshot"] == first:
            return graph, body
    raise AssertionError("the dumps kept changing")


def test_the_catalogue_describes_the_files_served_and_they_answer(served: LiveServer) -> None:
    with httpx.Client(base_url=served.url, timeout=30) as client:
        write_note(client, served.settings.base_iri, "The catalogue follows too")
        for moment in ("while the new dumps are written", "once they are"):
            if moment == "once they are":
                deadline = time.monotonic() + CATCH_UP
                while not client.get("/dumps").json()["up_to_date"]:
                    assert time.monotonic() < deadline, "the dumps did not catch up"
                    time.sleep(0.2)
            graph, body = described_and_served(client)
            urls = download_urls(graph)
            assert len(urls) >= 7, moment  # per source and for the whole graph
            for url in sorted(urls):
                assert httpx.head(url).status_code == 200, (moment, url)
            # the size and checksum of what a download gets
            distribution = graph.value(
                None, DCAT.downloadURL, URIRef(f"{served.url}/dumps/all.nq.gz")
            )
            assert int(graph.value(distribution, DCAT.byteSize).toPython()) == len(body), moment
            checksum = graph.value(distribution, SPDX.checksum)
            value = str(graph.value(checksum, SPDX.checksumValue))
            assert value == hashlib.sha1(body).hexdigest(), moment


def mqa_report(url: str) -> dict:
    result = CliRunner().invoke(app, ["mqa", url, "--json"])
    report = json.loads(result.stdout)
    assert result.exit_code == 0, (report["band"], report["score"])
    return report


def test_the_catalogue_stays_excellent_after_a_write(served: LiveServer) -> None:
    with httpx.Client(base_url=served.url, timeout=30) as client:
        write_note(client, served.settings.base_iri, "Still excellent")
        for _ in range(2):  # at once (dumps of the previous snapshot), then once caught up
            report = mqa_report(f"{served.url}/catalog")
            assert report["band"] == "Excellent", report["score"]
            for dataset in report["datasets"]:
                checks = {c["indicator"]: c for c in dataset["checks"]}
                assert checks["downloadUrlStatusCode"]["lost"] == 0, dataset["identifier"]
                assert checks["downloadUrlAvailability"]["lost"] == 0, dataset["identifier"]
            deadline = time.monotonic() + CATCH_UP
            while not client.get("/dumps").json()["up_to_date"]:
                assert time.monotonic() < deadline, "the dumps did not catch up"
                time.sleep(0.2)


def test_a_writing_server_started_with_dumps_behind_catches_up(tmp_path: Path, validator) -> None:
    """A server stopped before its dumps caught up (or a write made while it was down) writes
    them when it starts, instead of serving stale files until the next write."""
    settings = Settings(
        store=tmp_path / "store", base_iri="http://test.example/", write_token=SecretStr(TOKEN)
    )
    assert ingest_source(load_manifest(SOURCES / "steward-example"), settings, validator).status
    dumps.write(settings.store)
    note = '<http://test.example/note/x> <http://purl.org/dc/terms/title> "offline"'
    update = f"INSERT DATA {{ GRAPH <http://test.example/graph/notes> {{ {note} }} }}"
    Writes(settings.store, validator, Iris(settings.base_iri), refresh_dumps=False).apply(
        lambda copy: copy.update(update), "a write while the server was down"
    )
    sock = free_socket()
    # the real server's start-up (lifespan), which the shared test server leaves out
    server = uvicorn.Server(uvicorn.Config(create_app(settings), log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        with httpx.Client(base_url=url, timeout=30) as client:
            deadline = time.monotonic() + CATCH_UP
            listing = None
            while time.monotonic() < deadline:
                with contextlib.suppress(httpx.TransportError):
                    listing = client.get("/dumps").json()
                    if listing["up_to_date"]:
                        break
                time.sleep(0.2)
            assert listing is not None and listing["up_to_date"], listing
            body = gzip.decompress(client.get("/dumps/all.nq.gz").content).decode()
            assert '"offline"' in body
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
