"""Downloadable dumps of a published snapshot: each named graph and the whole graph.

For every named graph: `{name}.nq.gz` (N-Quads, with the graph name) and `{name}.ttl.gz`
(Turtle); for the whole graph: `all.nq.gz`, `all.ttl.gz` (the merged triples) and `actors.csv`
(one row per actor). They are written from the published snapshot into
`{STORE}/dumps/{snapshot}/` with a `manifest.json` (sizes, SHA-256 and SHA-1, modified time),
built in a temporary folder and renamed into place, so a reader never sees half a dump.
Gzip output carries no timestamp, so unchanged data gives byte-identical files (same ETag).

The ingest command writes them after its sources are published (`creative-graph dumps` does
it alone); the server only serves files (`endpoint/dumps.py`).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import pyoxigraph as ox

from creative_graph.namespaces import PREFIXES
from creative_graph.store import POINTER

MANIFEST = "manifest.json"
ACTORS_CSV_QUERY = """
PREFIX org: <http://www.w3.org/ns/org#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX cv: <http://data.europa.eu/m8g/>
PREFIX locn: <http://www.w3.org/ns/locn#>
PREFIX foaf: <http://xmlns.com/foaf/0.1/>
PREFIX adms: <http://www.w3.org/ns/adms#>
SELECT ?actor
  (SAMPLE(?en) AS ?name_en) (SAMPLE(?fr) AS ?name_fr) (SAMPLE(?nl) AS ?name_nl)
  (SAMPLE(?any) AS ?name)
  (GROUP_CONCAT(DISTINCT STR(?type); separator=" ") AS ?types)
  (GROUP_CONCAT(DISTINCT STR(?sector); separator=" ") AS ?sectors)
  (SAMPLE(?postcode) AS ?post_code) (SAMPLE(?municipality) AS ?municipality)
  (SAMPLE(?country) AS ?country)
  (SAMPLE(?homepage) AS ?website) (SAMPLE(?number) AS ?enterprise_number)
  (GROUP_CONCAT(DISTINCT STR(?graph); separator=" ") AS ?sources)
WHERE {
  GRAPH ?graph { ?actor a org:Organization }
  OPTIONAL { ?actor skos:prefLabel ?any }
  OPTIONAL { ?actor skos:prefLabel ?en FILTER (LANG(?en) = "en") }
  OPTIONAL { ?actor skos:prefLabel ?fr FILTER (LANG(?fr) = "fr") }
  OPTIONAL { ?actor skos:prefLabel ?nl FILTER (LANG(?nl) = "nl") }
  OPTIONAL { ?actor org:classification ?type }
  OPTIONAL { ?actor cv:sector ?sector }
  OPTIONAL { ?actor org:hasPrimarySite/locn:address ?address .
             OPTIONAL { ?address locn:postCode ?postcode }
             OPTIONAL { ?address cv:adminUnit ?municipality
                        FILTER STRSTARTS(STR(?municipality), "http://vocab.belgif.be/") }
             OPTIONAL { ?address cv:adminUnit ?country
                        FILTER STRSTARTS(STR(?country),
                          "http://publications.europa.eu/resource/authority/country/") } }
  OPTIONAL { ?actor foaf:homepage ?homepage }
  OPTIONAL { ?actor adms:identifier/skos:notation ?number }
}
GROUP BY ?actor
ORDER BY ?actor
"""


@dataclass(frozen=True)
class DumpFile:
    name: str
    title: str
    media_type: str  # of the content, e.g. application/n-quads
    compressed: bool  # gzip
    graph: str | None  # the named graph it holds; None for the whole graph
    bytes: int
    sha256: str
    sha1: str
    modified: str  # ISO 8601, the snapshot's publication time

    @property
    def served_type(self) -> str:
        return "application/gzip" if self.compressed else self.media_type


class _Hashing:
    """A binary file that hashes what is written to it."""

    def __init__(self, handle: IO[bytes]) -> None:
        self.handle = handle
        self.sha256 = hashlib.sha256()
        self.sha1 = hashlib.sha1()  # DCAT-AP 2.1.1 checksums are SHA-1 (spdx)

    def write(self, data: bytes) -> int:
        self.sha256.update(data)
        self.sha1.update(data)
        return self.handle.write(data)

    def flush(self) -> None:
        self.handle.flush()


def current_snapshot(store: Path) -> str | None:
    try:
        return (store / POINTER).read_text(encoding="utf-8").strip() or None
    except FileNotFoundError:
        return None


def directory(store: Path, snapshot: str) -> Path:
    return store / "dumps" / snapshot


def read(store: Path, snapshot: str) -> list[DumpFile] | None:
    """The dumps of a snapshot, or None if they have not been written."""
    try:
        entries = json.loads((directory(store, snapshot) / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    return [DumpFile(**entry) for entry in entries]


def _graph_name(graph: str) -> str:
    name = graph.rstrip("/").rsplit("/", 1)[-1]
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in name) or "graph"


def write(store: Path, keep: int = 3) -> list[DumpFile]:
    """Write the dumps of the current published snapshot (if not written yet); return them."""
    snapshot = current_snapshot(store)
    if snapshot is None:
        return []
    existing = read(store, snapshot)
    if existing is not None:
        return existing
    source = ox.Store.read_only(str(store / "published" / snapshot))
    modified = datetime.fromtimestamp((store / POINTER).stat().st_mtime, UTC).isoformat()
    target = directory(store, snapshot)
    building = target.with_name(target.name + ".tmp")
    shutil.rmtree(building, ignore_errors=True)
    building.mkdir(parents=True)
    files: list[DumpFile] = []

    def add(
        name: str, title: str, media_type: str, graph: str | None, fill: Callable[[IO[bytes]], None]
    ) -> None:
        path = building / name
        compressed = name.endswith(".gz")
        with path.open("wb") as raw:
            hashing = _Hashing(raw)
            if compressed:
                fileobj: Any = hashing  # GzipFile only calls write() and flush()
                with gzip.GzipFile(filename="", mode="wb", fileobj=fileobj, mtime=0) as body:
                    fill(body)
            else:
                fill(hashing)  # type: ignore[arg-type]
        files.append(
            DumpFile(
                name, title, media_type, compressed, graph, path.stat().st_size,
                hashing.sha256.hexdigest(), hashing.sha1.hexdigest(), modified,
            )
        )  # fmt: skip

    prefixes = {prefix: str(namespace) for prefix, namespace in PREFIXES.items()}
    graphs = sorted(g.value for g in source.named_graphs() if isinstance(g, ox.NamedNode))
    for graph in graphs:
        node = ox.NamedNode(graph)
        name = _graph_name(graph)

        def quads(out: IO[bytes], node: ox.NamedNode = node, graph: str = graph) -> None:
            triples = source.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=node)
            suffix = f" <{graph}> .\n".encode()
            for line in triples.splitlines():
                if line:
                    out.write(line.removesuffix(b" .") + suffix)

        def turtle(out: IO[bytes], node: ox.NamedNode = node) -> None:
            source.dump(out, format=ox.RdfFormat.TURTLE, from_graph=node, prefixes=prefixes)

        add(f"{name}.nq.gz", f"Named graph {graph} (N-Quads, gzip)", "application/n-quads",
            graph, quads)  # fmt: skip
        add(f"{name}.ttl.gz", f"Named graph {graph} (Turtle, gzip)", "text/turtle", graph, turtle)

    def everything_quads(out: IO[bytes]) -> None:
        source.dump(out, format=ox.RdfFormat.N_QUADS)

    def everything_turtle(out: IO[bytes]) -> None:
        merged = source.query("CONSTRUCT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } }")
        merged.serialize(out, format=ox.RdfFormat.TURTLE)  # type: ignore[union-attr]

    def actors(out: IO[bytes]) -> None:
        results = source.query(ACTORS_CSV_QUERY, use_default_graph_as_union=True)
        results.serialize(out, format=ox.QueryResultsFormat.CSV)  # type: ignore[union-attr]

    add("all.nq.gz", "The whole graph, every named graph (N-Quads, gzip)", "application/n-quads",
        None, everything_quads)  # fmt: skip
    add("all.ttl.gz", "The whole graph, merged (Turtle, gzip)", "text/turtle", None,
        everything_turtle)  # fmt: skip
    add("actors.csv", "Every actor, one row each (CSV)", "text/csv", None, actors)
    (building / MANIFEST).write_text(
        json.dumps([asdict(f) for f in files], indent=1), encoding="utf-8"
    )
    shutil.rmtree(target, ignore_errors=True)
    os.replace(building, target)
    _prune(store, keep)
    return files


def _prune(store: Path, keep: int) -> None:
    """Keep the dumps of the snapshots still published, at most `keep` of them."""
    root = store / "dumps"
    snapshots = store / "published"
    published = {p.name for p in snapshots.iterdir()} if snapshots.exists() else set()
    folders = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.endswith(".tmp"))
    for folder in folders[:-keep] if keep else folders:
        shutil.rmtree(folder, ignore_errors=True)
    for folder in folders[-keep:]:
        if folder.name not in published:
            shutil.rmtree(folder, ignore_errors=True)
