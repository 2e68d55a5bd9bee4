"""Dumps: per graph and whole-graph N-Quads/Turtle (gzip) and a CSV of actors, served as files."""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest
from conftest import BASE_IRI, copy_source, run_server

from creative_graph import dumps
from creative_graph.store import StoreReader
from ingest.manifest import load_manifest
from ingest.pipeline import ingest_source

pytestmark = pytest.mark.e2e
STEWARD = Path(__file__).parents[1] / "data" / "sources" / "steward-example"


def _count(reader: StoreReader, where: str) -> int:
    return int(reader.select(f"SELECT (COUNT(*) AS ?n) WHERE {{ {where} }}")[0]["n"])


def test_dumps_hold_what_the_store_holds_and_are_served_as_files(
    settings, source_copy, validator, tmp_path: Path
) -> None:
    ingest_source(load_manifest(source_copy), settings, validator)
    steward = copy_source(STEWARD, tmp_path / "steward")
    ingest_source(load_manifest(steward), settings, validator)
    files = {f.name: f for f in dumps.write(settings.store)}
    reader = StoreReader(settings.store)
    for server in run_server(settings):
        listing = httpx.get(server.url + "/dumps").json()
        assert {f["name"] for f in listing["files"]} == set(files)
        for name, entry in files.items():
            url = f"{server.url}/dumps/{name}"
            response = httpx.get(url)
            assert response.status_code == 200
            assert response.headers["content-type"].startswith(entry.served_type)
            assert int(response.headers["content-length"]) == entry.bytes == len(response.content)
            assert hashlib.sha256(response.content).hexdigest() == entry.sha256
            head = httpx.head(url)
            assert head.status_code == 200 and head.content == b""
            assert head.headers["etag"] == response.headers["etag"] == f'"{entry.sha256}"'
            again = httpx.get(url, headers={"If-None-Match": response.headers["etag"]})
            assert again.status_code == 304
        # the whole graph, quad for quad
        everything = gzip.decompress(httpx.get(server.url + "/dumps/all.nq.gz").content)
        parsed = list(ox.parse(everything, format=ox.RdfFormat.N_QUADS))
        assert len(parsed) == _count(reader, "GRAPH ?g { ?s ?p ?o }")
        snapshot = ox.Store.read_only(str(settings.store / "published" / reader.snapshot.name))
        held = set(snapshot.quads_for_pattern(None, None, None))
        assert set(parsed) == held
        # the whole graph merged, in Turtle: the same triples, graph names left out
        merged = gzip.decompress(httpx.get(server.url + "/dumps/all.ttl.gz").content)
        assert {q.triple for q in ox.parse(merged, format=ox.RdfFormat.TURTLE)} == {
            q.triple for q in held
        }
        # one source graph, in Turtle
        name = load_manifest(steward).name
        turtle = gzip.decompress(httpx.get(f"{server.url}/dumps/{name}.ttl.gz").content)
        triples = list(ox.parse(turtle, format=ox.RdfFormat.TURTLE))
        assert len(triples) == _count(reader, f"GRAPH <{BASE_IRI}graph/{name}> {{ ?s ?p ?o }}")
        graph = ox.NamedNode(f"{BASE_IRI}graph/{name}")
        assert {t.triple for t in triples} == {q.triple for q in held if q.graph_name == graph}
        quads = gzip.decompress(httpx.get(f"{server.url}/dumps/{name}.nq.gz").content)
        assert set(ox.parse(quads, format=ox.RdfFormat.N_QUADS)) == {
            q for q in held if q.graph_name == graph
        }
        # the CSV: one row per organisation
        rows = list(csv.DictReader(io.StringIO(httpx.get(server.url + "/dumps/actors.csv").text)))
        organisations = _count(
            reader,
            "SELECT DISTINCT ?a WHERE { GRAPH ?g { ?a a <http://www.w3.org/ns/org#Organization> } }",
        )
        assert len(rows) == organisations
        assert all(row["actor"].startswith(BASE_IRI + "id/actor/") for row in rows)
        assert sum(1 for row in rows if row["name"]) == organisations
        assert httpx.get(server.url + "/dumps/nothing.csv").status_code == 404


def test_unchanged_data_gives_identical_files(settings, source_copy, validator) -> None:
    ingest_source(load_manifest(source_copy), settings, validator)
    first = {f.name: f.sha256 for f in dumps.write(settings.store)}
    ingest_source(load_manifest(source_copy), settings, validator)  # unchanged: a new run record
    second = {f.name: f.sha256 for f in dumps.write(settings.store)}
    name = load_manifest(source_copy).name
    assert first[f"{name}.nq.gz"] == second[f"{name}.nq.gz"]
    assert first["runs.nq.gz"] != second["runs.nq.gz"]
