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

from creative_graph import actors_csv
from creative_graph.namespaces import PREFIXES
from creative_graph.store import POINTER

MANIFEST = "manifest.json"
# zlib's default: 9 compresses N-Quads only ~4 % smaller at 2.5 times the time
LEVEL = 6


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
                with gzip.GzipFile(
                    filename="", mode="wb", fileobj=fileobj, mtime=0, compresslevel=LEVEL
                ) as body:
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
    # Reading the snapshot decodes every term from RocksDB (the slow part at millions of
    # triples), so it is read once, graph by graph, into plain N-Triples files; every dump
    # is then made from those files.
    plain = {graph: building / f"{index}.nt.part" for index, graph in enumerate(graphs)}
    for graph, path in plain.items():
        source.dump(str(path), format=ox.RdfFormat.N_TRIPLES, from_graph=ox.NamedNode(graph))
    default = building / "default.nt.part"  # triples outside any named graph, if there are any
    source.dump(str(default), format=ox.RdfFormat.N_TRIPLES, from_graph=ox.DefaultGraph())

    for graph, path in plain.items():
        name = _graph_name(graph)

        def quads(out: IO[bytes], path: Path = path, graph: str = graph) -> None:
            _as_quads(path, f"<{graph}>", out)

        def turtle(out: IO[bytes], path: Path = path) -> None:
            _as_turtle([path], out, prefixes)

        add(f"{name}.nq.gz", f"Named graph {graph} (N-Quads, gzip)", "application/n-quads",
            graph, quads)  # fmt: skip
        add(f"{name}.ttl.gz", f"Named graph {graph} (Turtle, gzip)", "text/turtle", graph, turtle)

    def everything_quads(out: IO[bytes]) -> None:
        _copy(default, out)
        for graph, path in plain.items():
            _as_quads(path, f"<{graph}>", out)

    def everything_turtle(out: IO[bytes]) -> None:
        _as_turtle([default, *plain.values()], out, prefixes)

    def actors(out: IO[bytes]) -> None:
        actors_csv.write([(None, default), *plain.items()], out)

    add("all.nq.gz", "The whole graph, every named graph (N-Quads, gzip)", "application/n-quads",
        None, everything_quads)  # fmt: skip
    add("all.ttl.gz", "The whole graph, merged (Turtle, gzip)", "text/turtle", None,
        everything_turtle)  # fmt: skip
    add("actors.csv", "Every actor, one row each (CSV)", "text/csv", None, actors)
    for part in building.glob("*.part"):
        part.unlink()
    (building / MANIFEST).write_text(
        json.dumps([asdict(f) for f in files], indent=1), encoding="utf-8"
    )
    shutil.rmtree(target, ignore_errors=True)
    os.replace(building, target)
    _prune(store, keep)
    return files


CHUNK = 1 << 22


def _copy(path: Path, out: IO[bytes]) -> None:
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            out.write(chunk)


def _as_quads(path: Path, graph: str, out: IO[bytes]) -> None:
    """N-Triples lines of `path` as N-Quads lines in `graph`.

    N-Triples escapes line breaks inside literals, so " .\n" only ever ends a statement and
    the graph name can be put in front of it without parsing.
    """
    suffix = f" {graph} .\n".encode()
    with path.open("rb") as handle:
        rest = b""
        while chunk := handle.read(CHUNK):
            chunk = rest + chunk
            cut = chunk.rfind(b"\n") + 1
            chunk, rest = chunk[:cut], chunk[cut:]
            out.write(chunk.replace(b" .\n", suffix))
        if rest:
            raise ValueError(f"{path.name}: the last statement has no line end")


def _as_turtle(paths: list[Path], out: IO[bytes], prefixes: dict[str, str]) -> None:
    """The triples of N-Triples files as one Turtle document, parsed and written as a stream."""
    triples = (
        triple
        for path in paths
        for triple in ox.parse(path=str(path), format=ox.RdfFormat.N_TRIPLES)
    )
    ox.serialize(triples, out, format=ox.RdfFormat.TURTLE, prefixes=prefixes)


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
