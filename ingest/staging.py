"""The triples a run would load, held in an in-memory pyoxigraph store until they are loaded.

Mappers write N-Triples terms here (`add`) or hand over an rdflib graph (`add_graph`); identity,
the validation gate and link coverage read and rewrite the triples with SPARQL; `handover` gives
them as an N-Triples file (the spilled batches, or a dump), which the store on disk bulk-loads.
No Python object per triple outlives mapping: 100,000 actors are about four million triples,
which rdflib holds in ~8 GB and pyoxigraph in ~1.4 GB. The data lives in the store's default graph.
"""

from __future__ import annotations

import csv
import ctypes
import gc
import io
import queue
import tempfile
import threading
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from pathlib import Path
from typing import BinaryIO

import pyoxigraph as ox
from rdflib import Graph

BATCH = 50_000  # lines buffered before they are parsed into the store
_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r"})


def iri(value: str) -> str:
    """An IRI as an N-Triples term (the caller makes sure it is a valid absolute IRI)."""
    return f"<{value}>"


def literal(text: str, lang: str | None = None, datatype: str | None = None) -> str:
    """A literal as an N-Triples term: plain, language-tagged or typed."""
    quoted = '"' + text.translate(_ESCAPES) + '"'
    if lang:
        return f"{quoted}@{lang}"
    if datatype:
        return f"{quoted}^^<{datatype}>"
    return quoted


# Where a run's staged triples are also written as they arrive (`Staging`); set by the pipeline
# around the mapper (which creates its own `Staging`) to a folder of the store, on disk.
SPILL_DIR: ContextVar[Path | None] = ContextVar("staging_spill_dir", default=None)


class Staging:
    """In-memory triples written by a mapper, then queried and rewritten by the pipeline.

    With a `SPILL_DIR`, every N-Triples batch loaded into the store is also appended to an
    anonymous file there: as long as nothing rewrote the store (identity renames, records
    dropped by the gate), that file is what the load needs (`handover`), and the store need not
    be dumped again (~7 s at 100,000 actors). The file has no name, so a killed run leaves none.
    """

    def __init__(self) -> None:
        self._store: ox.Store | None = ox.Store()
        self._pending: list[str] = []
        self._loader: _Loader | None = None
        spill_dir = SPILL_DIR.get()
        if spill_dir is not None:
            spill_dir.mkdir(parents=True, exist_ok=True)  # a starting writer empties it
        # open until handed over or released, not for a block
        self._spill: BinaryIO | None = (
            tempfile.TemporaryFile(dir=spill_dir)  # noqa: SIM115
            if spill_dir is not None
            else None
        )
        self._rewritten = False  # True once the store no longer equals the spilled batches

    # ---- writing ------------------------------------------------------------------------

    def add(self, subject: str, predicate: str, obj: str) -> None:
        """Add one triple given as N-Triples terms (see `iri`, `literal`)."""
        self._pending.append(f"{subject} {predicate} {obj} .\n")
        if len(self._pending) >= BATCH:
            self._submit()

    def _submit(self) -> None:
        """Hand the buffered lines to the loader thread; the mapper goes on meanwhile."""
        if self._pending:
            text, self._pending = "".join(self._pending), []
            if self._loader is None:
                self._loader = _Loader(self.store, self._spill)
            self._loader.put(text.encode("utf-8"))

    def add_graph(self, graph: Graph) -> None:
        self.flush()
        self.load(graph.serialize(format="nt", encoding="utf-8"))

    def load(self, ntriples: bytes) -> None:
        self.flush()
        self.store.load(ntriples, format=ox.RdfFormat.N_TRIPLES)
        if self._spill is not None:
            self._spill.write(ntriples if ntriples.endswith(b"\n") else ntriples + b"\n")

    def flush(self) -> None:
        """Wait until every triple added so far is in the store."""
        self._submit()
        if self._loader is not None:
            loader, self._loader = self._loader, None
            loader.finish()

    # ---- reading ------------------------------------------------------------------------

    @property
    def store(self) -> ox.Store:
        if self._store is None:
            raise RuntimeError("the staged triples were released after loading")
        return self._store

    def __len__(self) -> int:
        self.flush()
        return len(self.store)

    def select(self, query: str) -> Iterator[tuple[str, ...]]:
        """Rows of a SELECT query as tuples of lexical values, in the order of its variables.

        IRIs without brackets, literals without quotes, tags or types, blank nodes as `_:id`,
        unbound as "". The results go through SPARQL CSV, parsed by the csv module: about twice
        as fast as reading pyoxigraph's solution objects one term at a time.
        """
        self.flush()
        results = self.store.query(query)
        assert isinstance(results, ox.QuerySolutions)
        body = io.BytesIO(results.serialize(format=ox.QueryResultsFormat.CSV))
        # decoded as read: a whole decoded copy of a large result would double its memory
        rows = csv.reader(io.TextIOWrapper(body, encoding="utf-8", newline=""))
        next(rows)  # the header: the variables
        for row in rows:
            yield tuple(row)

    def update(self, sparql_update: str) -> None:
        self.flush()
        self._rewritten = True
        self.store.update(sparql_update)

    def ntriples(self) -> bytes:
        self.flush()
        output = io.BytesIO()
        self.store.dump(output, format=ox.RdfFormat.N_TRIPLES, from_graph=ox.DefaultGraph())
        return output.getvalue()

    def to_graph(self) -> Graph:
        """An rdflib copy, for pySHACL and tests (slow on large sources)."""
        return Graph().parse(data=self.ntriples(), format="nt")

    # ---- temporary additions --------------------------------------------------------------

    def add_temporarily(self, triples: Iterable[ox.Triple]) -> list[ox.Quad]:
        """Add triples the data does not already hold; return them, for `remove`."""
        self.flush()
        added = []
        for triple in triples:
            quad = ox.Quad(triple.subject, triple.predicate, triple.object, ox.DefaultGraph())
            if quad not in self.store:
                self.store.add(quad)
                added.append(quad)
        return added

    def remove(self, quads: Iterable[ox.Quad]) -> None:
        """Remove what `add_temporarily` added (anything else would not be in the spill)."""
        for quad in quads:
            self.store.remove(quad)

    # ---- handing over -------------------------------------------------------------------

    def handover(self, path: Path) -> BinaryIO:
        """The triples as N-Triples, in a file open for reading from its start (for
        `StoreWriter.load_new_graph`): the spill if the store was not rewritten, else a dump of
        the store written to `path` (removed once open: only the handle keeps it)."""
        self.flush()
        if self._spill is not None and not self._rewritten:
            spill, self._spill = self._spill, None
            spill.flush()
            spill.seek(0)
            return spill
        with path.open("wb") as handle:
            self.store.dump(handle, format=ox.RdfFormat.N_TRIPLES, from_graph=ox.DefaultGraph())
        dumped = path.open("rb")
        path.unlink()
        return dumped

    def release(self) -> None:
        """Free the memory the triples take (before the store on disk loads them)."""
        if self._loader is not None:
            self._loader.finish()
            self._loader = None
        self._store = None
        self._pending = []
        if self._spill is not None:
            self._spill.close()
            self._spill = None
        return_free_memory()


class _Loader:
    """One thread parsing batches of N-Triples into the store while the mapper makes more.

    pyoxigraph releases the GIL while it parses, so mapping (Python) and loading (Rust) use
    two cores. At most two batches wait, which bounds the memory they take.
    """

    def __init__(self, store: ox.Store, spill: BinaryIO | None) -> None:
        self._store = store
        self._spill = spill
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=2)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="staging-loader", daemon=True)
        self._thread.start()

    def put(self, data: bytes) -> None:
        self._queue.put(data)

    def _run(self) -> None:
        while (data := self._queue.get()) is not None:
            if self._error is None:
                try:
                    # lenient: skip re-validating IRIs that `add`'s callers built from checked
                    # parts (~15% faster); `add_graph` and `load` parse strictly
                    self._store.load(data, format=ox.RdfFormat.N_TRIPLES, lenient=True)
                    if self._spill is not None:
                        self._spill.write(data)
                except BaseException as error:  # re-raised in the mapper's thread by finish()
                    self._error = error

    def finish(self) -> None:
        self._queue.put(None)
        self._thread.join()
        if self._error is not None:
            raise self._error


M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter number


def keep_big_blocks_out_of_the_heap() -> None:
    """Serve blocks of 128 KiB and more from their own mappings, returned to the system as
    soon as they are freed.

    glibc's default threshold rises to the largest block freed (up to 32 MiB); above it, the
    large temporary blocks of each stage (result sets, batches of lines) stay in the heap of the
    thread that freed them, where the next stage's threads cannot reuse them. At 100,000 actors
    this lowers the ingest's peak from ~1,756 to ~1,666 MiB, in the same time.
    """
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc: nothing to do
        return
    libc.mallopt(M_MMAP_THRESHOLD, 128 * 1024)


def return_free_memory() -> None:
    """Collect garbage, then ask glibc to give freed heap pages back to the system.

    The staging store frees ~1.4 GB per 100,000 actors just before the bulk load needs as
    much; without this, glibc keeps most of it and the process peaks at the sum of both.
    """
    gc.collect()
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc (macOS, musl): nothing to do
        return
    libc.malloc_trim(0)
