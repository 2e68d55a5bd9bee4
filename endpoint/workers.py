"""A bounded pool of query worker processes, so that a query over its time limit really stops.

pyoxigraph cannot cancel a running query (no timeout in its Python API; signals wait for the
query to finish). Each worker process opens the published snapshot read-only and answers one
query at a time; the server waits at most `timeout` seconds for it, then kills the process and
starts a fresh one. The pool is bounded: when every worker is busy, a request waits a little,
then gets 503 rather than queueing without end — a burst of heavy queries cannot exhaust memory.
Results are serialised inside the worker, so no pyoxigraph object ever crosses a process or
thread boundary.
"""

from __future__ import annotations

import logging
import multiprocessing
import queue
import threading
from dataclasses import dataclass
from datetime import datetime
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any, Protocol

from creative_graph.store import QueryOutput, ResultTooLarge, Snapshot

log = logging.getLogger(__name__)


class QueryRunner(Protocol):
    """What the routes need: run one query request (the pool, or the cache in front of it)."""

    def run(self, request: dict[str, Any]) -> QueryOutput | str: ...


class QueryTimeout(Exception):
    """The query ran longer than the operator allows; its worker was stopped."""


class ServerBusy(Exception):
    """Every worker stayed busy for longer than a request may wait."""


class WorkerFailed(Exception):
    """The worker died while answering (out of memory, crash): the query is not retried."""


def _terms(bindings: dict[str, tuple[str, str, str | None]]) -> dict[Any, Any]:
    """Named-query parameter values -> pyoxigraph terms, built here from plain data."""
    import pyoxigraph as ox

    terms: dict[Any, Any] = {}
    for name, (kind, value, datatype) in bindings.items():
        if kind == "iri":
            terms[ox.Variable(name)] = ox.NamedNode(value)
        elif datatype:
            terms[ox.Variable(name)] = ox.Literal(value, datatype=ox.NamedNode(datatype))
        else:
            terms[ox.Variable(name)] = ox.Literal(value)
    return terms


def _format(kind: Any, media_type: str | None) -> Any:
    return kind.from_media_type(media_type) if media_type else None


def _serve(directory: str, connection: Connection) -> None:
    """Worker process: answer queries from `connection` until it closes."""
    import pyoxigraph as ox

    from creative_graph.store import StoreReader

    reader = StoreReader(Path(directory))
    while True:
        try:
            request = connection.recv()
        except EOFError:
            return
        try:
            output = reader.query(
                request["query"],
                results_format=_format(ox.QueryResultsFormat, request["results"]),
                graph_format=_format(ox.RdfFormat, request["graph"]),
                default_graphs=request["default_graphs"],
                named_graphs=request["named_graphs"],
                base_iri=request.get("base_iri"),
                max_bytes=request.get("max_result_bytes"),
                max_rows=request.get("max_result_rows"),
                substitutions=_terms(request.get("substitutions") or {}),
            )
        except SyntaxError as error:
            connection.send({"syntax": str(error)})
            continue
        except ResultTooLarge as error:
            connection.send({"too_large": error.limit, "unit": error.unit})
            continue
        except (ValueError, RuntimeError) as error:  # e.g. a value pyoxigraph cannot bind
            connection.send({"invalid": str(error)})
            continue
        except OSError as error:
            connection.send({"error": str(error)})
            continue
        if isinstance(output, str):
            connection.send({"kind": output})
            continue
        snapshot = output.snapshot
        connection.send(
            {
                "body": output.body,
                "kind": output.kind,
                "media_type": output.media_type,
                "snapshot": snapshot.name,
                "modified": snapshot.modified.isoformat() if snapshot.modified else None,
            }
        )


@dataclass
class _Worker:
    process: BaseProcess
    connection: Connection


class QueryPool:
    """`size` worker processes, started on first use; `run` is called from request threads."""

    def __init__(self, directory: Path, size: int, timeout: float, wait: float = 10.0) -> None:
        self.directory = directory
        self.size = size
        self.timeout = timeout
        self.wait = wait
        self._context = multiprocessing.get_context("spawn")  # never fork a threaded server
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._started = 0
        self._lock = threading.Lock()

    def _spawn(self) -> _Worker:
        parent, child = self._context.Pipe()
        process = self._context.Process(
            target=_serve, args=(str(self.directory), child), daemon=True
        )
        process.start()
        child.close()
        return _Worker(process, parent)

    def _acquire(self) -> _Worker:
        with self._lock:
            if self._started < self.size and self._idle.empty():
                self._started += 1
                return self._spawn()
        try:
            return self._idle.get(timeout=self.wait)
        except queue.Empty as error:
            raise ServerBusy(
                f"all {self.size} query workers are busy; try again shortly"
            ) from error

    def _replace(self, worker: _Worker) -> None:
        worker.process.kill()
        worker.process.join(timeout=5)
        worker.connection.close()
        self._idle.put(self._spawn())

    def run(self, request: dict[str, Any]) -> QueryOutput | str:
        """Run one query (request keys: see `_serve`); raises SyntaxError, QueryTimeout, ..."""
        worker = self._acquire()
        try:
            worker.connection.send(request)
            if not worker.connection.poll(self.timeout):
                log.warning("query over %ss stopped: %.200s", self.timeout, request["query"])
                self._replace(worker)
                worker = None  # type: ignore[assignment]
                raise QueryTimeout(f"the query ran longer than {self.timeout:g} s and was stopped")
            answer = worker.connection.recv()
        except (EOFError, OSError) as error:
            if worker is not None:
                self._replace(worker)
                worker = None  # type: ignore[assignment]
            raise WorkerFailed("the query worker stopped unexpectedly") from error
        finally:
            if worker is not None:
                self._idle.put(worker)
        if "syntax" in answer:
            raise SyntaxError(answer["syntax"])
        if "too_large" in answer:
            raise ResultTooLarge(answer["too_large"], answer["unit"])
        if "invalid" in answer:
            raise ValueError(answer["invalid"])
        if "error" in answer:
            raise OSError(answer["error"])
        if "kind" in answer and "body" not in answer:
            return answer["kind"]
        modified = datetime.fromisoformat(answer["modified"]) if answer["modified"] else None
        return QueryOutput(
            answer["body"],
            answer["kind"],
            answer["media_type"],
            Snapshot(answer["snapshot"], modified),
        )

    def close(self) -> None:
        while not self._idle.empty():
            worker = self._idle.get_nowait()
            worker.connection.close()
            worker.process.join(timeout=2)
            if worker.process.is_alive():
                worker.process.kill()
