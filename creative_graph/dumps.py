"""Downloadable dumps of a published snapshot: each named graph and the whole graph.

For every named graph: `{name}.nq.gz` (N-Quads, with the graph name) and `{name}.ttl.gz`
(Turtle); for the whole graph: `all.nq.gz`, `all.ttl.gz` (the merged triples) and `actors.csv`
(one row per actor). They are written from the published snapshot into
`{STORE}/dumps/{snapshot}/` with a `manifest.json` (sizes, SHA-256 and SHA-1, modified time).
Gzip output carries no timestamp, so unchanged data gives byte-identical files (same ETag).

A set is complete when its folder (named for its snapshot) holds its manifest and every file
the manifest lists, at the size it says: it is built in `{snapshot}.tmp/`, synced to disk and
renamed into place, so a killed or crashed writer leaves nothing that counts. What is served
(`latest`) is the newest complete set of the current snapshot or an earlier one, so download
links keep working while a newer set is written; an older set is removed only once a newer
one is complete.

The ingest command writes them after its sources are published (`creative-graph dumps` does
it alone); after an accepted write the server has `Refresher` write them in the background.
The server only serves files (`endpoint/dumps.py`).
"""

from __future__ import annotations

import fcntl
import gzip
import hashlib
import json
import logging
import multiprocessing
import os
import shutil
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import pyoxigraph as ox

from creative_graph import actors_csv
from creative_graph.children import exit_with_parent
from creative_graph.namespaces import PREFIXES
from creative_graph.store import POINTER

log = logging.getLogger(__name__)
MANIFEST = "manifest.json"
LOCK = "writing.lock"  # in {STORE}/dumps/: one writer of dumps at a time, across processes
BUILDING = ".tmp"  # suffix of a set being written
REMOVING = ".removing"  # suffix of a set being removed
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


@dataclass(frozen=True)
class DumpSet:
    """A complete set of dumps: the snapshot they are of, their folder, their files."""

    snapshot: str
    folder: Path
    files: list[DumpFile]


def directory(store: Path, snapshot: str) -> Path:
    return store / "dumps" / snapshot


def _order(name: str) -> tuple[int, str] | None:
    """Where a snapshot's name sorts among snapshots (by its number); None if it is not one."""
    number, _, rest = name.partition("-")
    return (int(number), rest) if number.isdigit() and rest and "." not in rest else None


def complete(folder: Path) -> list[DumpFile] | None:
    """The files of a set of dumps if it is complete: its manifest and every file it lists, at
    the size it says; else None."""
    try:
        entries = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        files = [DumpFile(**entry) for entry in entries]
        if all((folder / f.name).stat().st_size == f.bytes for f in files):
            return files
    except (OSError, ValueError, TypeError):  # missing, unreadable, not a manifest
        pass
    return None


def latest(store: Path, snapshot: str | None) -> DumpSet | None:
    """The dumps to serve for `snapshot`: its own set if complete, else the newest complete set
    of an earlier snapshot; None when there is none (or nothing is published)."""
    limit = _order(snapshot) if snapshot else None
    if limit is None:
        return None
    try:
        names = [p.name for p in (store / "dumps").iterdir()]
    except FileNotFoundError:
        return None
    orders = {name: order for name in names if (order := _order(name)) is not None}
    for name in sorted((n for n in orders if orders[n] <= limit), key=orders.__getitem__)[::-1]:
        files = complete(directory(store, name))
        if files is not None:
            return DumpSet(name, directory(store, name), files)
    return None


def read(store: Path, snapshot: str | None) -> list[DumpFile] | None:
    """The files served for `snapshot` (see `latest`), or None if no set is written yet."""
    found = latest(store, snapshot)
    return found.files if found else None


def served_snapshot(store: Path, snapshot: str | None) -> str:
    """The snapshot whose dumps are served for `snapshot` ("" if none): what a description of
    them must be rebuilt after."""
    found = latest(store, snapshot)
    return found.snapshot if found else ""


def _graph_name(graph: str) -> str:
    name = graph.rstrip("/").rsplit("/", 1)[-1]
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in name) or "graph"


def _write_while_parent_lives(parent: int, store: Path, keep: int) -> None:
    """A refresher's child: `write`, stopped if the server dies (the next writer removes the
    half-written set)."""
    exit_with_parent(parent)
    write(store, keep)


def write(store: Path, keep: int = 3) -> list[DumpFile]:
    """Write the dumps of the current published snapshot (if not written yet); return them.

    One writer at a time, across processes (an ingest's dumps wait for the server's). The
    snapshot is read from a hard-linked copy, so publishes meanwhile may remove it. Afterwards
    the sets no longer needed are removed (`_prune`, `keep` as many as snapshots kept).
    """
    root = store / "dumps"
    root.mkdir(parents=True, exist_ok=True)
    with _exclusive(root / LOCK):
        for left in [*root.glob(f"*{BUILDING}"), *root.glob(f"*{REMOVING}")]:
            shutil.rmtree(left, ignore_errors=True)  # by a killed writer
        held = _hold(store, root)
        if held is None:
            return []
        snapshot, modified, files = held
        if files is None:
            files = _build(root / (snapshot + BUILDING), snapshot, modified)
        _prune(store, keep)
        return files


@contextmanager
def _exclusive(path: Path) -> Iterator[None]:
    with path.open("a+b") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when closed
        yield


def _published(store: Path) -> tuple[str, str] | None:
    """The snapshot `PUBLISHED` names and when it was published (read from one open file)."""
    try:
        with (store / POINTER).open(encoding="utf-8") as pointer:
            name = pointer.read().strip()
            stamp = os.fstat(pointer.fileno()).st_mtime
    except FileNotFoundError:
        return None
    return (name, datetime.fromtimestamp(stamp, UTC).isoformat()) if name else None


def _hold(store: Path, root: Path) -> tuple[str, str, list[DumpFile] | None] | None:
    """The published snapshot, its time and its dumps if complete; if not, a hard-linked copy
    of it in `{snapshot}.tmp/snapshot/`. None when nothing is published."""
    for _ in range(3):
        published = _published(store)
        if published is None:
            return None
        snapshot, modified = published
        files = complete(directory(store, snapshot))
        if files is not None:
            return snapshot, modified, files
        building = root / (snapshot + BUILDING)
        try:
            copy = building / "snapshot"
            shutil.copytree(store / "published" / snapshot, copy, copy_function=os.link)
            return snapshot, modified, None
        except OSError:  # removed by later publishes (SNAPSHOTS_KEPT): take the newest
            shutil.rmtree(building, ignore_errors=True)
    raise OSError("published snapshots changed too fast to write their dumps")


def _build(building: Path, snapshot: str, modified: str) -> list[DumpFile]:
    """The dumps of the snapshot copied into `building/snapshot`, made there and renamed into
    place once every file is on disk."""
    source = ox.Store.read_only(str(building / "snapshot"))
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
            raw.flush()
            os.fsync(raw.fileno())
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
    del source  # closed before its copy goes
    shutil.rmtree(building / "snapshot")
    for part in building.glob("*.part"):
        part.unlink()
    with (building / MANIFEST).open("w", encoding="utf-8") as manifest:
        manifest.write(json.dumps([asdict(f) for f in files], indent=1))
        manifest.flush()
        os.fsync(manifest.fileno())
    _sync_folder(building)
    target = building.with_name(snapshot)
    if target.exists():  # a set found incomplete (files removed by hand, say)
        _remove(target)
    os.replace(building, target)  # the set counts from here
    _sync_folder(building.parent)
    return files


def _sync_folder(folder: Path) -> None:
    handle = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


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
    """Remove the sets of dumps no longer needed, never one newer than the newest complete set.

    The newest complete set (served) and the one before it (downloads begun may still read
    it) stay; older ones while their snapshot is still published, `keep` complete sets at most.
    A set is renamed before it is removed, so it is never served half removed.
    """
    root = store / "dumps"
    snapshots = store / "published"
    published = {p.name for p in snapshots.iterdir()} if snapshots.exists() else set()
    orders = {p.name: order for p in root.iterdir() if (order := _order(p.name)) is not None}
    folders = [root / name for name in sorted(orders, key=orders.__getitem__)]
    done = [folder for folder in folders if complete(folder) is not None]
    if not done:
        return
    kept = {*done[-2:], *(f for f in done[-keep:] if keep > 0 and f.name in published)}
    for folder in folders:
        if folder not in kept and orders[folder.name] < orders[done[-1].name]:
            _remove(folder)


def _remove(folder: Path) -> None:
    """Remove a set: renamed first, so that it is never served half removed."""
    removing = folder.with_name(folder.name + REMOVING)
    os.replace(folder, removing)
    shutil.rmtree(removing, ignore_errors=True)


class Refresher:
    """Brings the dumps up to date after a publish, in the background: `write` runs in a child
    process (it reads the whole snapshot: ~70 s and ~700 MB at 100,000 actors), one run at a
    time; `request` never waits. Requests during a run make one more run after it, for the
    snapshot published by then. A failed run is logged; the next request tries again.
    """

    def __init__(self, store: Path, keep: int = 3) -> None:
        self.store = Path(store)
        self.keep = keep
        self._lock = threading.Lock()
        self._wanted = False  # a run is asked for and not started yet
        self._running = False  # the thread that starts runs is alive

    @property
    def busy(self) -> bool:
        """Whether a run is under way or asked for."""
        with self._lock:
            return self._running

    def request(self) -> None:
        with self._lock:
            self._wanted = True
            if self._running:
                return
            self._running = True
        threading.Thread(target=self._runs, name="dumps", daemon=True).start()

    def _next(self) -> bool:
        with self._lock:
            self._running = self._wanted
            self._wanted = False
            return self._running

    def _runs(self) -> None:
        try:
            while self._next():
                self._run()
        except BaseException:  # the next request starts a new thread
            with self._lock:
                self._running = False
            raise

    def _run(self) -> None:
        spawn = multiprocessing.get_context("spawn")  # no copy of the server's memory
        process = spawn.Process(
            target=_write_while_parent_lives,
            args=(os.getpid(), self.store, self.keep),
            name="creative-graph dumps",
            daemon=True,
        )
        try:
            process.start()
        except OSError as error:
            log.error("cannot start writing the dumps: %s", error)
            return
        process.join()
        if process.exitcode != 0:
            log.error("the dumps were not written (exit code %s)", process.exitcode)
