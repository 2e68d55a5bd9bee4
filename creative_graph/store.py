"""Store access: one writer on the primary database, any number of readers on published snapshots.

Layout of the store directory (the `STORE` setting):

    primary/             the read-write pyoxigraph database; one writer process at a time
    primary-<n>/         a trial copy of the primary (`StoreWriter.trial`); once adopted it
                         is the primary, named by PRIMARY
    PRIMARY              names the primary when it is not `primary/`; replaced atomically
    writer.lock          held (flock) by the one writer process
    incoming/            files being bulk-loaded into a new graph (removed after, or on the
                         next writer's start if a run was killed)
    journal.sqlite3      what each change touched, noted before it is made and sealed per
                         published snapshot (`creative_graph.journal`)
    published/<name>/    read-only checkpoints (`Store.backup`, hard links) made after each write
    PUBLISHED            names the current checkpoint; replaced atomically

Readers (the web server) never open a database another process writes to, which pyoxigraph
documents as undefined behaviour; they reopen when `PUBLISHED` changes, so an ingest becomes
visible atomically and without restarting the server. A reader `in_memory` copies each
snapshot it opens into an in-memory store (faster queries; the disk stays the source of truth).

pyoxigraph query results belong to the thread that created them (touching them from another
thread aborts the process). Every read here runs the query *and* serialises its results to
bytes in the same call; no pyoxigraph result object ever leaves this module.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import io
import json
import logging
import os
import re
import shutil
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO, Literal

import pyoxigraph as ox

from creative_graph.bulk import load_ntriples_in_pieces
from creative_graph.journal import Journal, subjects_of

log = logging.getLogger(__name__)

POINTER = "PUBLISHED"
PRIMARY_POINTER = "PRIMARY"

ResultKind = Literal["solutions", "boolean", "graph"]


class StoreError(Exception):
    """The store cannot be opened or written (locked, corrupt, unwritable)."""


class ResultTooLarge(Exception):
    """A query's results passed the operator's size or row limit; serialising stopped."""

    def __init__(self, limit: int, unit: str = "bytes") -> None:
        super().__init__(f"the results are larger than the server's limit of {limit:,} {unit}")
        self.limit = limit
        self.unit = unit


_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')


class _RowCounter:
    """Counts the solutions in what pyoxigraph has serialised so far, in any results format.

    TSV has one line per solution (its terms escape line breaks), CSV too outside quoted
    fields, XML one `<result>` element (`<` in values is escaped). In JSON each solution
    after the first starts with `,{`, which a literal may also hold: that count is only an
    upper bound, so past the limit the body is counted again with the strings taken out.
    """

    def __init__(self, results_format: ox.QueryResultsFormat, limit: int) -> None:
        self.format = results_format
        self.limit = limit
        self.count = 0
        self._in_quotes = False  # CSV
        self._tail = b""  # XML: a tag cut between two writes
        self._bound = 0  # JSON: the upper bound, and what counting again showed
        self._overcount = 0

    def add(self, data: bytes, body: list[bytes]) -> None:
        if self.format == ox.QueryResultsFormat.TSV:
            self.count += data.count(b"\n")
            rows = self.count - 1  # the header line
        elif self.format == ox.QueryResultsFormat.CSV:
            for index, piece in enumerate(data.split(b'"')):
                if index:
                    self._in_quotes = not self._in_quotes
                if not self._in_quotes:
                    self.count += piece.count(b"\n")
            rows = self.count - 1
        elif self.format == ox.QueryResultsFormat.XML:
            text = self._tail + data
            self.count += text.count(b"<result>")
            self._tail = text[-7:] if not text.endswith(b">") else b""
            rows = self.count
        else:
            self._bound += data.count(b",{")
            rows = self._bound + 1 - self._overcount
            if rows > self.limit:
                stripped = _JSON_STRING.sub(b"", b"".join(body) + data)
                exact = stripped.count(b",{")
                self._overcount = self._bound - exact
                rows = exact + 1
        if rows > self.limit:
            raise ResultTooLarge(self.limit, "rows")


class _CappedBuffer(io.RawIOBase):
    """Collects what pyoxigraph writes; raising past a limit (bytes, rows) stops the query."""

    def __init__(self, limit: int | None, rows: _RowCounter | None = None) -> None:
        self.limit = limit
        self.rows = rows
        self.parts: list[bytes] = []
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        self.size += len(data)
        if self.limit is not None and self.size > self.limit:
            raise ResultTooLarge(self.limit)
        if self.rows is not None:
            self.rows.add(bytes(data), self.parts)
        self.parts.append(bytes(data))
        return len(data)

    def value(self) -> bytes:
        return b"".join(self.parts)


class _Pointer:
    """`PUBLISHED` as read, kept open: one `fstat` then says whether it may have changed.

    A publish writes a new file and renames it over the old one, which leaves the open one
    with no link; while it is open its inode cannot be reused, so no later file can pass for
    it. Time and size also change on a write in place.
    """

    def __init__(self, path: Path) -> None:
        self._fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        try:
            status = os.fstat(self._fd)  # before reading: a later write shows as a change
            self._seen = (status.st_mtime_ns, status.st_size)
            self.stamp = status.st_mtime_ns
            self.name = os.read(self._fd, 4096).decode("utf-8").strip()
        except BaseException:
            os.close(self._fd)
            raise

    def unchanged(self) -> bool:
        status = os.fstat(self._fd)
        return status.st_nlink > 0 and (status.st_mtime_ns, status.st_size) == self._seen

    def __del__(self) -> None:
        with contextlib.suppress(AttributeError, OSError):
            os.close(self._fd)


@dataclass(frozen=True)
class Snapshot:
    """The published state a reader currently serves."""

    name: str | None  # None while nothing has been published yet
    modified: datetime | None


@dataclass(frozen=True)
class QueryOutput:
    """A query's results, already serialised."""

    body: bytes
    kind: ResultKind
    media_type: str
    snapshot: Snapshot  # the published state the query read
    cached: bool = False  # answered from the endpoint's result cache


# what a query's text holds but its code: comments, strings and IRIs
_QUERY_WHOLES = re.compile(
    "|".join(
        (
            r"\#[^\r\n]*",
            r"'''(?:[^'\\]|\\.|'(?!''))*'''",
            r'"""(?:[^"\\]|\\.|"(?!""))*"""',
            r"'(?:[^'\\\n\r]|\\.)*'",
            r'"(?:[^"\\\n\r]|\\.)*"',
            r"<[^<>\"{}|^`\\\x00-\x20]*>",
        )
    )
)
_QUERY_WORDS = re.compile(r"[{}]|[?$]\w+|[A-Za-z_][\w\-.:]*")
_FROM = re.compile(r"[A-Za-z]*FROM(?:NAMED)?", re.IGNORECASE)


def _names_dataset(query: str) -> bool:
    """Whether a query has its own dataset: `FROM` or `FROM NAMED` outside comments, strings
    and IRIs, and outside its WHERE clause (the only place the grammar allows them; keywords
    need no space between them, as in `ASKFROM<g>`)."""
    if _FROM.search(query) is None:
        return False
    depth = 0
    for word in _QUERY_WORDS.findall(_QUERY_WHOLES.sub(" ", query)):
        depth += {"{": 1, "}": -1}.get(word, 0)
        if depth == 0 and _FROM.fullmatch(word):
            return True
    return False


def _data_block(operation: str, graphs: Mapping[str, set[str]]) -> str:
    """`INSERT DATA` or `DELETE DATA` for canonical triples in named graphs."""
    blocks = "".join(
        f"GRAPH <{name}> {{\n" + "".join(f"{line} .\n" for line in sorted(triples)) + "}\n"
        for name, triples in graphs.items()
    )
    return f"{operation} DATA {{\n{blocks}}}"


def canonical_lines(ntriples: bytes) -> set[str]:
    """N-Triples text in the same canonical form as `StoreWriter.graph_lines`.

    The store keeps literals by value ("12500.00"^^xsd:decimal comes back as "12500", an
    xsd:nonNegativeInteger as xsd:integer); the parser does not. Going through an in-memory
    store gives both sides of a comparison the same form.
    """
    store = ox.Store()
    store.load(ntriples, format=ox.RdfFormat.N_TRIPLES)
    return {
        str(ox.Triple(q.subject, q.predicate, q.object))
        for q in store.quads_for_pattern(None, None, None)
    }


def _replace_text(path: Path, text: str) -> None:
    """Write a small file atomically: readers see the old content or the new, never a mix."""
    temporary = path.with_suffix(".tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


class StoreWriter:
    """The single writer: replaces named graphs atomically, then publishes a snapshot.

    Every change is noted in the journal (`creative_graph.journal`) before it is made, and
    `publish` seals the notes with the snapshot's name, so that the change stream describes
    only what a publish could have changed.
    """

    def __init__(self, directory: Path, snapshots_kept: int = 3) -> None:
        self.directory = Path(directory)
        self.snapshots_kept = snapshots_kept
        busy = StoreError(
            f"the store {self.directory} is being written by another process "
            "(an ingest or a write is running); try again when it has finished"
        )
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            self._lock = open(self.directory / "writer.lock", "a+b")  # noqa: SIM115
        except OSError as error:
            raise StoreError(f"cannot open the store {self.directory}: {error}") from error
        try:
            # our own lock, held while the primary is closed and swapped too (RocksDB's lock
            # lives inside the primary's directory and goes with it)
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            self._lock.close()
            raise busy from error
        try:
            self._primary = self._primary_path()
            self._opened: ox.Store | None = ox.Store(str(self._primary))
        except OSError as error:
            self._lock.close()
            if "lock" in str(error).lower():
                raise busy from error
            raise StoreError(f"cannot open the store {self.directory}: {error}") from error
        self._trial: tuple[ox.Store, Path] | None = None
        self.journal = Journal(self.directory)
        shutil.rmtree(self.directory / "incoming", ignore_errors=True)  # left by a killed run
        self._remove_stale_copies()

    def _primary_path(self) -> Path:
        pointer = self.directory / PRIMARY_POINTER
        name = pointer.read_text(encoding="utf-8").strip() if pointer.exists() else "primary"
        return self.directory / name

    def _remove_stale_copies(self) -> None:
        """Trial copies never adopted (a rejected or killed write) and replaced primaries."""
        for path in self.directory.glob("primary*"):
            if path.is_dir() and path != self._primary:
                shutil.rmtree(path, ignore_errors=True)

    def __enter__(self) -> StoreWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def _store(self) -> ox.Store:
        """The primary, open (it is closed while a trial copy is worked on)."""
        if self._opened is None:
            raise RuntimeError("the primary is closed while a trial copy is worked on")
        return self._opened

    def _close_primary(self) -> None:
        if self._opened is not None:
            self._opened.flush()
            self._opened = None

    def close(self) -> None:
        try:
            self._close_primary()
        finally:
            self._lock.close()  # releases the flock

    @contextmanager
    def trial(self) -> Iterator[ox.Store]:
        """A writable copy of the primary, for a change that may still be refused.

        The copy is a checkpoint (hard links: instant, nearly free). Change and check it, then
        `adopt` it to make it the primary in one atomic step; a copy not adopted is deleted on
        leaving the block, or when the next writer starts if the process died.
        """
        # a fresh name each time: a dropped copy may still be open in the caller's hands
        path = self.directory / f"primary-{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}"
        self._store.flush()
        self._store.backup(str(path))
        # closed meanwhile: an open RocksDB store compacts in the background what the last
        # bulk load left in level 0, and the copy does the same work on the same files
        # (~8 s of CPU after a 100,000-actor load, taken from this change's own)
        self._close_primary()
        copy = ox.Store(str(path))
        self._trial = (copy, path)
        try:
            yield copy
        finally:
            copy.flush()
            del copy
            self._trial = None
            if path != self._primary:
                shutil.rmtree(path, ignore_errors=True)
                self._opened = ox.Store(str(self._primary))  # not adopted: back to the primary

    def adopt(self, copy: ox.Store, touched: Iterable[str] | None = None) -> None:
        """Make the trial copy (from `trial`) the primary; the old primary is removed.

        `touched`: the IRIs whose triples the copy changed (None: unknown, and the next sync of
        the change stream compares every actor).
        """
        current = self._trial
        if current is None or current[0] is not copy:
            raise ValueError("adopt() takes the store yielded by this writer's trial()")
        self._note(touched)
        self._swap()

    def _swap(self) -> None:
        """Make the open trial copy the primary (its change is noted already)."""
        if self._trial is None:
            raise ValueError("no trial copy to swap in")
        copy, path = self._trial
        copy.flush()
        old = self._primary  # closed by `trial` already
        _replace_text(self.directory / PRIMARY_POINTER, path.name + "\n")  # the atomic step
        self._primary = path
        self._opened = copy
        shutil.rmtree(old, ignore_errors=True)

    def graph_lines(self, graph: str) -> set[str]:
        """The graph's triples in canonical N-Triples form, to compare two versions of a graph."""
        return {
            str(ox.Triple(quad.subject, quad.predicate, quad.object))
            for quad in self._store.quads_for_pattern(None, None, None, ox.NamedNode(graph))
        }

    def named_graphs(self) -> list[str]:
        return sorted(g.value for g in self._store.named_graphs() if isinstance(g, ox.NamedNode))

    def replace_graph(
        self, graph: str, lines: set[str], also: Mapping[str, set[str]] | None = None
    ) -> tuple[int, int]:
        """Make `graph` hold exactly `lines` and add `also` (graph -> lines), in one transaction.

        `lines` are canonical triples (`canonical_lines`) without blank nodes. Only the
        difference with what the graph holds is written: a first load is one `bulk_load` of
        N-Quads, a later one a single `DELETE DATA ; INSERT DATA` update, so re-ingesting
        unchanged data writes nothing but the run record. Either way it is one pyoxigraph
        transaction: a crash leaves the old graph or the new one, never a mix.
        Returns (triples added, triples removed).
        """
        old = self.graph_lines(graph)
        return self._replace(graph, lines - old, old - lines, not old, also)

    def replace_graph_with(
        self, graph: str, triples: ox.Store, also: Mapping[str, set[str]] | None = None
    ) -> tuple[int, int]:
        """`replace_graph` with the default graph of `triples` (a run's staged triples, in
        memory) as the new content.

        Each staged triple is looked up in the graph (a key look-up, no term decoded); the
        graph is read back only if its size says that something was removed: reading 3.8
        million triples from disk costs ~23 s of term decoding, and the two sets of lines
        `replace_graph` compares ~2 GB.
        """
        target, default = ox.NamedNode(graph), ox.DefaultGraph()
        held = self._store
        added: set[str] = set()
        staged = 0
        for quad in triples.quads_for_pattern(None, None, None, default):
            staged += 1
            if ox.Quad(quad.subject, quad.predicate, quad.object, target) not in held:
                added.add(str(ox.Triple(quad.subject, quad.predicate, quad.object)))
        removed: set[str] = set()
        if self._size(target) != staged - len(added):
            removed = {
                str(ox.Triple(quad.subject, quad.predicate, quad.object))
                for quad in held.quads_for_pattern(None, None, None, target)
                if ox.Quad(quad.subject, quad.predicate, quad.object, default) not in triples
            }
        return self._replace(graph, added, removed, self.is_empty(graph), also)

    def _size(self, graph: ox.NamedNode) -> int:
        rows = self._store.query(
            f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH {graph} {{ ?s ?p ?o }} }}"
        )
        assert isinstance(rows, ox.QuerySolutions)
        return int(next(iter(rows))["n"].value)

    def _replace(
        self,
        graph: str,
        added: set[str],
        removed: set[str],
        new_graph: bool,
        also: Mapping[str, set[str]] | None,
    ) -> tuple[int, int]:
        extra = {name: triples for name, triples in (also or {}).items() if triples}
        companions = subjects_of(line for triples in extra.values() for line in triples)
        if new_graph:  # every subject of the graph is new: noted as the graph, not one by one
            self._note(companions, [graph] if added else [])
            quads = [f"{line} <{graph}> .\n" for line in added]
            quads += [f"{line} <{name}> .\n" for name, triples in extra.items() for line in triples]
            if quads:  # bulk_load is atomic since pyoxigraph 0.5, and ~4x faster than load
                self._store.bulk_load("".join(quads).encode(), format=ox.RdfFormat.N_QUADS)
            return len(added), 0
        self._note(companions | subjects_of(added) | subjects_of(removed))
        operations = []
        if removed:
            operations.append(_data_block("DELETE", {graph: removed}))
        inserts = {name: triples for name, triples in {graph: added, **extra}.items() if triples}
        if inserts:
            operations.append(_data_block("INSERT", inserts))
        if operations:
            self._store.update(" ;\n".join(operations))
        return len(added), len(removed)

    def is_empty(self, graph: str) -> bool:
        return (
            next(self._store.quads_for_pattern(None, None, None, ox.NamedNode(graph)), None) is None
        )

    def incoming(self, name: str) -> Path:
        """A path for an N-Triples file to `load_new_graph` (removed when the next writer
        starts)."""
        folder = self.directory / "incoming"
        folder.mkdir(exist_ok=True)
        return folder / f"{name}.nt"

    def load_new_graph(
        self,
        graph: str,
        ntriples: BinaryIO,
        also: Mapping[str, set[str]] | None = None,
        before_adopting: Callable[[], object] | None = None,
    ) -> None:
        """Fill `graph`, which the store does not hold yet (`is_empty`), from N-Triples that
        pyoxigraph parsed before (a file open for reading), and add `also` (graph -> canonical
        lines); then close the file. One atomic step for readers and for a crash: the pieces go
        into a trial copy (`creative_graph.bulk`), adopted once all are in and
        `before_adopting` has returned (if it raises, nothing changed).
        """
        lines = (line for triples in (also or {}).values() for line in triples)
        self._note(subjects_of(lines), [graph])
        try:
            with self.trial() as copy:
                load_ntriples_in_pieces(copy, ntriples, ox.NamedNode(graph))
                quads = "".join(
                    f"{line} <{name}> .\n" for name, triples in (also or {}).items()
                    for line in triples
                )  # fmt: skip
                if quads:
                    copy.bulk_load(quads.encode(), format=ox.RdfFormat.N_QUADS)
                if before_adopting is not None:
                    before_adopting()
                self._swap()
        finally:
            ntriples.close()

    def rename(self, renames: Mapping[str, str], keep: Iterable[str] = ()) -> set[str]:
        """Rewrite each old IRI to its new one, as subject and as object, in every named graph
        but `keep`, in one transaction; returns the number of triples rewritten.

        For merged actors: what other sources said about the replaced IRI now speaks of the
        survivor, as their next ingest would say it.
        """
        if not renames:
            return set()
        pairs = " ".join(f"(<{old}> <{new}>)" for old, new in sorted(renames.items()))
        kept = ", ".join(f"<{graph}>" for graph in sorted(keep))
        outside = f"FILTER (?g NOT IN ({kept}))" if kept else ""
        rows = self._store.query(
            f"SELECT DISTINCT ?s WHERE {{ VALUES (?old ?new) {{ {pairs} }} "
            f"{{ GRAPH ?g {{ ?old ?p ?o }} BIND (?old AS ?s) }} UNION "
            f"{{ GRAPH ?g {{ ?s ?p ?old }} }} {outside} }}"
        )
        subjects = {row["s"].value for row in rows if isinstance(row["s"], ox.NamedNode)}
        if not subjects:
            return subjects
        self._note(subjects | set(renames.values()))
        self._store.update(
            f"DELETE {{ GRAPH ?g {{ ?old ?p ?o }} }} INSERT {{ GRAPH ?g {{ ?new ?p ?o }} }} "
            f"WHERE {{ VALUES (?old ?new) {{ {pairs} }} GRAPH ?g {{ ?old ?p ?o }} {outside} }} ;\n"
            f"DELETE {{ GRAPH ?g {{ ?s ?p ?old }} }} INSERT {{ GRAPH ?g {{ ?s ?p ?new }} }} "
            f"WHERE {{ VALUES (?old ?new) {{ {pairs} }} GRAPH ?g {{ ?s ?p ?old }} {outside} }}"
        )
        return subjects

    def update(self, sparql_update: str) -> None:
        self._note(None)  # what an update touches is not known here
        self._store.update(sparql_update)

    def _note(self, subjects: Iterable[str] | None, graphs: Iterable[str] = ()) -> None:
        """Note a change in the journal before making it; a change not noted is not made."""
        with self._journal_errors():
            if subjects is None:
                self.journal.note_unknown()
            else:
                self.journal.note(subjects, graphs)

    @contextmanager
    def _journal_errors(self) -> Iterator[None]:
        try:
            yield
        except (OSError, sqlite3.Error) as error:
            path = self.journal.path
            raise StoreError(f"cannot write the change journal {path}: {error}") from error

    def compact(self) -> str:
        """Rewrite the primary's files into RocksDB's sorted levels, then publish it (the same
        triples, a new snapshot); returns the snapshot's name.

        A bulk load leaves its pieces as overlapping files in level 0, which every range scan
        merges. RocksDB would compact them in the background, but a writer closes long before
        it is done and the work starts over at the next opening, while readers are served
        checkpoints of the uncompacted files. Measured after two 100,000-actor sources (7.6
        million triples): 17 s here; then a scan of every label takes 2.4 s instead of 12 s,
        the dumps 126 s instead of 254 s and the change stream's sync 97 s instead of 233 s.
        """
        self._store.optimize()
        return self.publish()

    def publish(self) -> str:
        """Checkpoint the primary into `published/` and point readers at it."""
        self._store.flush()
        published = self.directory / "published"
        published.mkdir(exist_ok=True)
        existing = sorted(p.name for p in published.iterdir() if p.is_dir())
        number = int(existing[-1].split("-")[0]) + 1 if existing else 1
        name = f"{number:06d}-{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}"
        self._store.backup(str(published / name))
        with self._journal_errors():  # before readers see it: no snapshot is left unsealed
            self.journal.seal(name)
        _replace_text(self.directory / POINTER, name + "\n")
        for old in existing[: max(0, len(existing) + 1 - self.snapshots_kept)]:
            shutil.rmtree(published / old, ignore_errors=True)
        log.debug("published snapshot %s", name)
        return name


class _Lines(io.RawIOBase):
    """What pyoxigraph writes, passed on cut after the last whole line of each piece."""

    def __init__(self, write: Callable[[bytes], object]) -> None:
        self._write = write
        self._rest = b""

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        piece = self._rest + bytes(data)
        cut = piece.rfind(b"\n") + 1
        self._rest = piece[cut:]
        if cut:
            self._write(piece[:cut])
        return len(data)

    def close_graph(self) -> None:
        if self._rest:  # a graph's dump ends with a line break; never left over
            self._write(self._rest + b"\n")
            self._rest = b""


@dataclass(frozen=True)
class About:
    """What the store says about one subject: its triples, and the IRIs they point to."""

    lines: set[str]
    links: set[str]


@dataclass(frozen=True)
class MemoryCopy:
    """A published snapshot copied into memory by a reader `in_memory`."""

    snapshot: str
    quads: int
    seconds: float  # to copy it


def _copy_into_memory(path: Path) -> tuple[ox.Store, int]:
    """The snapshot at `path` as an in-memory store, and its number of quads.

    Reading the quads from the read-only snapshot and `bulk_extend`-ing them was the fastest
    way measured (413k quads: 3.3 s; dumping N-Quads and `bulk_load`-ing them 3.8 s, most of
    it reading the disk store either way). Blank nodes keep their identifiers.
    """
    disk = ox.Store.read_only(str(path))
    store = ox.Store()
    store.bulk_extend(disk.quads_for_pattern(None, None, None, None))
    return store, len(store)


def _return_free_memory() -> None:
    """Ask glibc to hand freed heap back to the system (the previous copy's), where it can."""
    with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to do
        ctypes.CDLL("libc.so.6").malloc_trim(0)


class StoreReader:
    """Thread-safe reads of the latest published snapshot (reopened when a new one appears).

    `in_memory`: each snapshot is copied into an in-memory store when it is opened, and the
    previous copy is dropped first (never two copies at once); `memory_copy` says what the
    reader holds.
    """

    def __init__(self, directory: Path, in_memory: bool = False) -> None:
        self.directory = Path(directory)
        self.in_memory = in_memory
        self.memory_copy: MemoryCopy | None = None
        self._lock = threading.Lock()
        self._snapshot = Snapshot(None, None)
        self._store: ox.Store = ox.Store()  # empty until something is published
        self._pointer: _Pointer | None = None  # PUBLISHED as read for `_snapshot`

    def latest(self) -> str | None:
        """The snapshot `PUBLISHED` names now (None before the first publish)."""
        try:
            return (self.directory / POINTER).read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None

    def is_current(self) -> bool:
        """Whether the reader already serves the latest published snapshot."""
        with self._lock:
            if self._pointer is not None and self._pointer.unchanged():
                return True
        return self.latest() == self._snapshot.name

    def _open(self, name: str) -> ox.Store:
        path = self.directory / "published" / name
        if not self.in_memory:
            return ox.Store.read_only(str(path))
        # the old copy goes first; until the new one is in place `_snapshot` still names the
        # old snapshot, so a failed copy is retried by the next call, never served
        self._store, self.memory_copy = ox.Store(), None
        _return_free_memory()
        started = time.perf_counter()
        store, quads = _copy_into_memory(path)
        self.memory_copy = MemoryCopy(name, quads, time.perf_counter() - started)
        return store

    def _current(self) -> tuple[Snapshot, ox.Store]:
        with self._lock:
            if self._pointer is not None and self._pointer.unchanged():
                return self._snapshot, self._store  # one fstat, not a read, per query
            pointer = self.directory / POINTER
            try:
                # the name itself, not the file's time: two writes within the clock's
                # resolution would otherwise look like one
                watched: _Pointer | None = _Pointer(pointer)
                name, stamp = watched.name, watched.stamp
            except FileNotFoundError:
                watched, name = None, None
            if name is not None and name != self._snapshot.name:
                for _ in range(3):
                    try:
                        store = self._open(name)
                        break
                    except OSError as error:
                        # removed by later publishes (SNAPSHOTS_KEPT) before it could be read:
                        # open the one that replaced it
                        newer = self.latest()
                        if newer is None or newer == name:
                            raise StoreError(
                                f"cannot open published snapshot {name}: {error}"
                            ) from error
                        name, stamp = newer, pointer.stat().st_mtime_ns
                else:
                    raise StoreError(f"published snapshots changed too fast to open ({name})")
                self._store = store
                self._snapshot = Snapshot(name, datetime.fromtimestamp(stamp / 1e9, UTC))
                log.info("serving snapshot %s", name)
            # watched only once what it names is served (a failed open is retried next time)
            if watched is not None and watched.name == self._snapshot.name:
                self._pointer = watched
            return self._snapshot, self._store

    @property
    def snapshot(self) -> Snapshot:
        return self._current()[0]

    def query(
        self,
        query: str,
        *,
        results_format: ox.QueryResultsFormat | None,
        graph_format: ox.RdfFormat | None,
        default_graphs: Sequence[str] = (),
        named_graphs: Sequence[str] = (),
        base_iri: str | None = None,
        max_bytes: int | None = None,
        max_rows: int | None = None,
        substitutions: Mapping[ox.Variable, ox.NamedNode | ox.Literal] | None = None,
    ) -> QueryOutput | ResultKind:
        """Run `query` and serialise its results with the format matching its kind.

        Returns the kind alone (nothing serialised) when no format was given for it, so the
        caller can answer 406. The dataset (SPARQL 1.1 Query §13.2, Protocol §2.1.4):
        `default_graphs` and `named_graphs` (the protocol's) replace the query's own, an empty
        one standing for an empty default graph or no named graphs; else the query's `FROM` /
        `FROM NAMED` (`FROM NAMED` alone: an empty default graph); else the default graph is
        the union of all named graphs. Relative IRIs resolve against `base_iri`. Raises
        `SyntaxError` for a malformed query, `ResultTooLarge` past `max_bytes` of results or
        `max_rows` solutions (the evaluation stops there) and `OSError` for store errors.
        """
        snapshot, store = self._current()
        options: dict[str, object] = {}
        if default_graphs or named_graphs:
            options["default_graph"] = [ox.NamedNode(g) for g in default_graphs]
            options["named_graphs"] = [ox.NamedNode(g) for g in named_graphs]
        elif not _names_dataset(query):
            options["use_default_graph_as_union"] = True
        if substitutions:  # values bound to variables (SEP-0007), never pasted into the text
            options["substitutions"] = dict(substitutions)
        results = store.query(query, base_iri=base_iri, **options)
        if isinstance(results, ox.QueryTriples):
            if graph_format is None:
                return "graph"
            buffer = _CappedBuffer(max_bytes)
            results.serialize(buffer, format=graph_format)
            return QueryOutput(buffer.value(), "graph", graph_format.media_type, snapshot)
        kind: ResultKind = "boolean" if isinstance(results, ox.QueryBoolean) else "solutions"
        if results_format is None:
            return kind
        rows = None
        if max_rows is not None and kind == "solutions":
            rows = _RowCounter(results_format, max_rows)
        buffer = _CappedBuffer(max_bytes, rows)
        results.serialize(buffer, format=results_format)
        return QueryOutput(buffer.value(), kind, results_format.media_type, snapshot)

    def has_graph(self, name: str | None) -> bool:
        """Whether the published snapshot has this named graph (None: the default graph)."""
        return name is None or self._current()[1].contains_named_graph(ox.NamedNode(name))

    def graph(
        self, name: str | None, rdf_format: ox.RdfFormat, max_bytes: int | None = None
    ) -> tuple[bytes, Snapshot] | None:
        """One graph of the published snapshot serialised (`name` None: the store's own default
        graph, not the union queries see), or None when no such named graph exists."""
        snapshot, store = self._current()
        graph: ox.NamedNode | ox.DefaultGraph = ox.DefaultGraph()
        if name is not None:
            graph = ox.NamedNode(name)
            if not store.contains_named_graph(graph):
                return None
        buffer = _CappedBuffer(max_bytes)
        store.dump(buffer, format=rdf_format, from_graph=graph)
        return buffer.value(), snapshot

    def triples_about(self, subjects: Sequence[str]) -> tuple[dict[str, About], Snapshot]:
        """Each IRI's triples in any graph, as N-Triples lines (without the final " ."), and the
        IRIs they point to, read through the subject index: a lookup per subject."""
        snapshot, store = self._current()
        found: dict[str, About] = {}
        for subject in subjects:
            about = About(set(), set())
            for quad in store.quads_for_pattern(ox.NamedNode(subject), None, None):
                about.lines.add(f"{quad.subject} {quad.predicate} {quad.object}")
                if isinstance(quad.object, ox.NamedNode):
                    about.links.add(quad.object.value)
            found[subject] = about
        return found, snapshot

    def linking(self, objects: Sequence[str]) -> tuple[dict[str, set[str]], Snapshot]:
        """Each IRI with the IRIs of the subjects of triples pointing to it, in any graph, read
        through the object index: a lookup per IRI."""
        snapshot, store = self._current()
        found: dict[str, set[str]] = {}
        for iri in objects:
            found[iri] = {
                quad.subject.value
                for quad in store.quads_for_pattern(None, None, ox.NamedNode(iri))
                if isinstance(quad.subject, ox.NamedNode)
            }
        return found, snapshot

    def dump_graphs(self, write: Callable[[bytes], object]) -> Snapshot:
        """Every graph of the published snapshot (the default graph, then each named graph) as
        N-Triples, handed to `write` in chunks that end with whole lines. Within a graph the
        triples of a subject come together (the graph-subject index)."""
        snapshot, store = self._current()
        sink = _Lines(write)
        for graph in [ox.DefaultGraph(), *store.named_graphs()]:
            store.dump(sink, format=ox.RdfFormat.N_TRIPLES, from_graph=graph)
            sink.close_graph()
        return snapshot

    def select(self, query: str) -> list[dict[str, str]]:
        """Rows of a SELECT query as plain `{variable: lexical value}` dicts."""
        output = self.query(query, results_format=ox.QueryResultsFormat.JSON, graph_format=None)
        if not isinstance(output, QueryOutput) or output.kind != "solutions":
            raise ValueError("select() needs a SELECT query")
        document = json.loads(output.body)
        return [
            {name: cell["value"] for name, cell in binding.items()}
            for binding in document["results"]["bindings"]
        ]
