"""The write worker: validated writes run in a child process, stopped at the time limit.

pyoxigraph cannot cancel a running update, so, as for queries (`endpoint.workers`), a write
that must stop runs in a process that can be killed. One long-lived worker process applies the
writes one at a time (`creative_graph.writes.Writes`: a trial copy, the shapes, then adopt and
publish). The server waits at most `WRITE_TIMEOUT` seconds for it to reach the commit point,
where the change has passed the shapes and is about to be adopted: the worker asks, and the
server answers only within the limit. Past it, the worker is killed and a fresh one started;
nothing has changed (the trial copy is never adopted and is removed by the next writer, the
store's flock goes with the process, the journal is noted only at adoption) and the client gets
503. Once allowed to commit, the write stands and is never killed: adopting, publishing and
syncing the change stream take a moment and the answer waits for them, as before.

A change crosses into the worker pickled, so it is a value: `Update`, `Replace`, `Merge`,
`Drop` below. The worker exits when the server process goes, even in the middle of a write.
The dumps are asked for by the server after an accepted write (`dumps.Refresher`).
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any, NoReturn

import pyoxigraph as ox

from creative_graph.children import exit_with_parent
from creative_graph.dumps import Refresher
from creative_graph.iris import Iris
from creative_graph.settings import Settings
from creative_graph.store import StoreError
from creative_graph.validation import StoreValidator
from creative_graph.writes import WriteOutcome, WriteRefused, Writes

log = logging.getLogger(__name__)
Target = ox.NamedNode | ox.DefaultGraph


class WriteTimeout(Exception):
    """The write ran longer than the operator allows; it was stopped and nothing changed."""


class WriterFailed(Exception):
    """The worker process died during a write (out of memory, crash)."""

    def __init__(self, message: str, committed: bool) -> None:
        super().__init__(message)
        self.committed = committed  # it died after it was allowed to commit


@dataclass(frozen=True)
class Update:
    """A SPARQL Update, run as it is."""

    text: str
    base_iri: str

    def __call__(self, store: ox.Store) -> None:
        store.update(self.text, base_iri=self.base_iri)


def _existing(store: ox.Store, graph: Target) -> bool:
    return isinstance(graph, ox.DefaultGraph) or store.contains_named_graph(graph)


@dataclass(frozen=True)
class Replace:
    """Graph Store PUT: the graph holds exactly `triples`; says whether it existed."""

    graph: Target
    triples: tuple[ox.Triple, ...]

    def __call__(self, store: ox.Store) -> bool:
        existed = _existing(store, self.graph)
        if existed:
            store.clear_graph(self.graph)
        elif isinstance(self.graph, ox.NamedNode):
            store.add_graph(self.graph)
        store.extend(_in(self.graph, self.triples))
        return existed


@dataclass(frozen=True)
class Merge:
    """Graph Store POST: `triples` added to the graph; says whether it existed."""

    graph: Target
    triples: tuple[ox.Triple, ...]

    def __call__(self, store: ox.Store) -> bool:
        existed = _existing(store, self.graph)
        if isinstance(self.graph, ox.NamedNode):
            store.add_graph(self.graph)
        store.extend(_in(self.graph, self.triples))
        return existed


@dataclass(frozen=True)
class Drop:
    """Graph Store DELETE: the graph removed (the default graph emptied); says whether it
    existed."""

    graph: Target

    def __call__(self, store: ox.Store) -> bool:
        existed = _existing(store, self.graph)
        if isinstance(self.graph, ox.DefaultGraph):
            store.clear_graph(self.graph)
        elif existed:
            store.remove_graph(self.graph)
        return existed


def _in(graph: Target, triples: Iterable[ox.Triple]) -> Iterable[ox.Quad]:
    return (ox.Quad(t.subject, t.predicate, t.object, graph) for t in triples)


def _serve(
    connection: Connection, settings: Settings, validator: StoreValidator, level: int
) -> None:
    """Worker process: apply the writes sent on `connection`, one at a time, until it closes."""
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    exit_with_parent(os.getppid())  # pyoxigraph lets go of the GIL: runs during a long update
    writes = Writes(
        settings.store,
        validator,
        Iris(settings.base_iri),
        settings.snapshots_kept,
        refresh_dumps=False,  # the server asks for them
    )

    def commit() -> None:
        connection.send({"commit": True})
        if connection.recv() != "go":
            raise EOFError("the server did not allow the commit")

    connection.send({"ready": True})
    while True:
        try:
            change, label, body = connection.recv()
        except EOFError:
            return
        answer: dict[str, Any]
        try:
            answer = {"done": writes.apply(change, label, body, commit=commit)}
        except WriteRefused as error:
            answer = {"refused": error.violations}
        except SyntaxError as error:
            answer = {"syntax": str(error)}
        except StoreError as error:
            answer = {"busy": str(error)}
        except ValueError as error:
            answer = {"invalid": str(error)}
        except (EOFError, BrokenPipeError):  # the server is gone
            return
        except OSError as error:
            answer = {"os": str(error)}
        except Exception as error:  # reported to the server, which answers 500
            log.exception("write failed: %s", label)
            answer = {"failed": f"{type(error).__name__}: {error}"}
        connection.send(answer)


def _outcome(answer: dict[str, Any]) -> WriteOutcome:
    """The worker's answer as what `apply` returns, or the error it raises."""
    if "done" in answer:
        return answer["done"]
    if "refused" in answer:
        raise WriteRefused(answer["refused"])
    if "syntax" in answer:
        raise SyntaxError(answer["syntax"])
    if "busy" in answer:
        raise StoreError(answer["busy"])
    if "invalid" in answer:
        raise ValueError(answer["invalid"])
    if "os" in answer:
        raise OSError(answer["os"])
    raise RuntimeError(answer.get("failed", f"unexpected answer from the write worker: {answer}"))


@dataclass
class _Worker:
    process: BaseProcess
    connection: Connection
    ready: bool = False


class WriteWorker:
    """Validated writes, one at a time, in a worker process stopped at `WRITE_TIMEOUT`.

    `apply` blocks (call it from a thread). The worker starts on `start()` or the first write;
    its start-up does not count against the limit.
    """

    def __init__(
        self, settings: Settings, validator: StoreValidator, refresh_dumps: bool = True
    ) -> None:
        self.settings = settings
        self.validator = validator
        self.timeout = settings.write_timeout
        # the dumps follow each accepted write, in the background
        self.dumps = Refresher(settings.store, settings.snapshots_kept) if refresh_dumps else None
        self._context = multiprocessing.get_context("spawn")  # never fork a threaded server
        self._lock = threading.Lock()  # one write at a time
        self._worker: _Worker | None = None
        self._closed = False

    def start(self) -> None:
        """Start the worker process in the background, so that it is ready for the next write
        (starting one takes ~0.5 s: the parent waits while it loads its modules)."""
        threading.Thread(target=self._start, name="write worker start", daemon=True).start()

    def _start(self) -> None:
        with self._lock:
            if self._worker is None and not self._closed:
                self._worker = self._spawn()

    def _spawn(self) -> _Worker:
        parent, child = self._context.Pipe()
        level = logging.getLogger().getEffectiveLevel()
        process = self._context.Process(
            target=_serve,
            args=(child, self.settings, self.validator, level),
            name="creative-graph writes",
            daemon=True,
        )
        process.start()
        child.close()
        return _Worker(process, parent)

    def _ready(self) -> _Worker:
        """The worker, started if need be, once it says it is ready."""
        worker = self._worker
        if worker is None or not worker.process.is_alive():
            if worker is not None:
                self._stop(worker)
            worker = self._worker = self._spawn()
        try:
            while not worker.ready:
                worker.ready = "ready" in worker.connection.recv()
        except (EOFError, OSError) as error:
            self._stop(worker)
            raise WriterFailed("the write worker could not start", committed=False) from error
        return worker

    def _stop(self, worker: _Worker) -> None:
        worker.process.kill()
        worker.process.join(timeout=5)
        worker.connection.close()
        if self._worker is worker:
            self._worker = None

    def _replace(self, worker: _Worker) -> None:
        """Kill the worker and start the next one, once this write has let go of the lock."""
        self._stop(worker)
        self.start()

    def apply(self, change: Any, label: str, body: bytes = b"") -> WriteOutcome:
        """Apply `change` (a picklable callable on an `ox.Store`, such as `Update`) as
        `Writes.apply` does, within the time limit. Raises `WriteTimeout` (stopped, nothing
        changed), `WriterFailed`, and what `Writes.apply` raises; `StoreError` also when another
        write on this server kept it busy for longer than the limit."""
        if not self._lock.acquire(timeout=self.timeout):
            raise StoreError(
                "another write is running on this server; try again when it has finished"
            )
        try:
            answer = self._run(change, label, body)
        finally:
            self._lock.release()
        outcome = _outcome(answer)
        if self.dumps is not None:
            self.dumps.request()  # returns at once
        return outcome

    def _run(self, change: Any, label: str, body: bytes) -> dict[str, Any]:
        worker = self._ready()
        connection = worker.connection
        committed = False
        try:
            connection.send((change, label, body))
            deadline = time.monotonic() + self.timeout
            if not connection.poll(max(0.0, deadline - time.monotonic())):
                self._timed_out(worker, label)
            answer = connection.recv()
            if "commit" not in answer:
                return answer  # refused or failed: nothing changed
            if time.monotonic() > deadline:  # asked too late: not allowed
                self._timed_out(worker, label)
            connection.send("go")
            committed = True  # from here the write stands: never killed
            return connection.recv()
        except (EOFError, OSError) as error:
            self._replace(worker)
            if committed:
                message = (
                    "the write worker stopped after the change had passed the shapes; it may "
                    "have been applied (see the snapshot at /healthz)"
                )
            else:
                message = "the write worker stopped unexpectedly; nothing was changed"
            raise WriterFailed(message, committed) from error

    def _timed_out(self, worker: _Worker, label: str) -> NoReturn:
        log.warning("write over %ss stopped: %s", f"{self.timeout:g}", label)
        self._replace(worker)
        raise WriteTimeout(
            f"the write ran longer than {self.timeout:g} s and was stopped; nothing was changed"
        )

    def close(self) -> None:
        """Stop the worker (the server is stopping)."""
        with self._lock:
            worker, self._worker, self._closed = self._worker, None, True
        if worker is not None:
            worker.connection.close()  # an idle worker ends on its own
            worker.process.join(timeout=2)
            with contextlib.suppress(OSError):
                worker.process.kill()
            worker.process.join(timeout=2)
