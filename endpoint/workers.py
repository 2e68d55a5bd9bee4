"""A bounded pool of query worker processes, so that a query over its time limit really stops.

pyoxigraph cannot cancel a running query (no timeout in its Python API; signals wait for the
query to finish). Each worker process opens the published snapshot read-only and answers one
query at a time; the server waits at most `timeout` seconds for it, then kills the process and
starts a fresh one. The pool is bounded: when every worker is busy, a request waits a little,
then gets 503 rather than queueing without end — a burst of heavy queries cannot exhaust memory.
Results are serialised inside the worker, so no pyoxigraph object ever crosses a process or
thread boundary.

With `in_memory` (the `SERVE_FROM_MEMORY` setting) each worker copies the published snapshot
into an in-memory store when it starts, and again when a new snapshot is published: while idle
within a second, and in any case before it answers another query, so answers are never stale.
Each worker holds its own copy. A worker tells the server when it starts loading and when it is
ready: loading is not the query's time, so the time limit counts from then on.

`arun` waits on the event loop, for a free worker (first come, first served) and for its
answer (the pipe is watched like a socket), so a query costs no thread hand-off; only what may
block goes to a thread: starting or replacing a worker, and sending or receiving more than one
write carries. Results over `INLINE_BYTES` come as raw bytes after their description, never
pickled.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import pickle
import queue
import threading
from collections import deque
from dataclasses import asdict, dataclass
from datetime import datetime
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any, Protocol

import anyio.to_thread

from creative_graph.store import QueryOutput, ResultTooLarge, Snapshot, StoreError, StoreReader

log = logging.getLogger(__name__)

# multiprocessing writes a message of up to 16 KiB with one write(), which a pipe with room
# for it delivers whole: the event loop may read or write such a message without waiting for
# the other side. A result body up to INLINE_BYTES comes in its answer; a larger one follows
# as raw bytes, read in a thread.
INLINE_BYTES = 16_000
MESSAGE_BYTES = 16_384


class QueryRunner(Protocol):
    """What the routes need: run one query request (the pool, or the cache in front of it)."""

    def run(self, request: dict[str, Any]) -> QueryOutput | str: ...

    async def arun(self, request: dict[str, Any]) -> QueryOutput | str: ...


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


def resident_bytes(pid: int) -> int | None:
    """A process's resident memory (Linux `/proc`; None elsewhere or once it has ended)."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        return None
    return None


def _load(reader: StoreReader, connection: Connection) -> None:
    """Copy the latest snapshot into memory, telling the server when it starts and ends."""
    connection.send({"loading": reader.latest()})
    try:
        reader.snapshot  # noqa: B018 - opening it is the point
    except StoreError as error:  # the query that follows says so
        log.error("could not load the published snapshot into memory: %s", error)
    copy = reader.memory_copy
    rss = resident_bytes(os.getpid())
    if copy is not None:
        log.info(
            "loaded %s quads of snapshot %s into memory in %.1f s; this worker holds %s MB",
            f"{copy.quads:,}", copy.snapshot, copy.seconds, rss // 2**20 if rss else "?",
        )  # fmt: skip
    connection.send({"ready": asdict(copy) if copy else None})


def _serve(directory: str, connection: Connection, in_memory: bool, log_level: int) -> None:
    """Worker process: answer queries from `connection` until it closes."""
    import pyoxigraph as ox

    logging.basicConfig(level=log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    reader = StoreReader(Path(directory), in_memory=in_memory)
    if in_memory:
        _load(reader, connection)
    else:
        connection.send({"ready": None})
    while True:
        try:
            # idle, a worker serving from memory loads a new snapshot as soon as it sees one
            # (within a second), so that the next query need not wait for it
            while in_memory and not connection.poll(1.0):
                if not reader.is_current():
                    _load(reader, connection)
            request = connection.recv()
        except EOFError:
            return
        if in_memory and not reader.is_current():  # published since: never answer stale
            _load(reader, connection)
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
        except (OSError, StoreError) as error:
            connection.send({"error": str(error)})
            continue
        if isinstance(output, str):
            connection.send({"kind": output})
            continue
        snapshot = output.snapshot
        inline = len(output.body) <= INLINE_BYTES
        connection.send(
            {
                "body": output.body if inline else None,  # else raw bytes right after
                "kind": output.kind,
                "media_type": output.media_type,
                "snapshot": snapshot.name,
                "modified": snapshot.modified.isoformat() if snapshot.modified else None,
            }
        )
        if not inline:
            connection.send_bytes(output.body)


def _settle(future: asyncio.Future[Any], value: Any) -> None:
    """What happened first: the pipe is readable, a time limit passed, a worker is free."""
    if not future.done():  # the pipe stays readable until it is read
        future.set_result(value)


def _hand_over(pool: QueryPool, waiter: asyncio.Future[_Worker | None], worker: _Worker) -> None:
    """On the waiter's loop: the worker to it, or on to the next one if it gave up meanwhile."""
    if waiter.done():
        pool._release(worker)
    else:
        waiter.set_result(worker)


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _output(answer: dict[str, Any]) -> QueryOutput | str:
    """A worker's answer as what `run` returns, or the error it raises."""
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


@dataclass
class _Worker:
    process: BaseProcess
    connection: Connection
    loading: bool = True  # starting, or copying a snapshot into memory: not a query's time
    memory_copy: dict[str, Any] | None = None  # what it said when it was last ready


class QueryPool:
    """`size` worker processes; `run` is called from request threads.

    On disk, workers start on first use. `in_memory`, all of them start (and load) at once,
    from `start()` or the first query.
    """

    def __init__(
        self,
        directory: Path,
        size: int,
        timeout: float,
        wait: float = 10.0,
        in_memory: bool = False,
    ) -> None:
        self.directory = directory
        self.size = size
        self.timeout = timeout
        self.wait = wait
        self.in_memory = in_memory
        self._context = multiprocessing.get_context("spawn")  # never fork a threaded server
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._workers: dict[int, _Worker] = {}  # every live worker, idle or busy, by pid
        self._started = 0
        # requests on the event loop waiting for a worker, first come first served (a free
        # worker goes to them before the idle queue, where `run`'s threads wait)
        self._waiters: deque[asyncio.Future[_Worker | None]] = deque()
        self._lock = threading.Lock()

    def _spawn(self) -> _Worker:
        parent, child = self._context.Pipe()
        level = logging.getLogger().getEffectiveLevel()
        process = self._context.Process(
            target=_serve, args=(str(self.directory), child, self.in_memory, level), daemon=True
        )
        process.start()
        child.close()
        worker = _Worker(process, parent)
        with self._lock:
            self._workers[process.pid or 0] = worker
        return worker

    def start(self) -> None:
        """Serving from memory: start every worker now, so that each loads the snapshot."""
        if not self.in_memory:
            return
        with self._lock:
            missing, self._started = self.size - self._started, self.size
        if missing > 0:
            log.info(
                "serving queries from memory: each of the %d query workers loads its own copy "
                "of the published snapshot",
                self.size,
            )
        for _ in range(missing):
            self._release(self._spawn())

    def _acquire(self) -> _Worker:
        self.start()
        with self._lock:
            spawn = self._started < self.size and self._idle.empty()
            if spawn:
                self._started += 1
        if spawn:
            return self._spawn()
        try:
            return self._idle.get(timeout=self.wait)
        except queue.Empty as error:
            raise self._busy() from error

    def _busy(self) -> ServerBusy:
        return ServerBusy(f"all {self.size} query workers are busy; try again shortly")

    async def _acquire_async(self) -> _Worker:
        """`_acquire` on the event loop: an idle worker, a new one (started in a thread), or
        the next one freed, at most `wait` seconds later."""
        if self.in_memory and self._started < self.size:
            await anyio.to_thread.run_sync(self.start)
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[_Worker | None] = loop.create_future()
        with self._lock:  # with `_release`'s: no worker is left idle while a request waits
            try:
                if not self._waiters:
                    return self._idle.get_nowait()
            except queue.Empty:
                pass
            spawn = self._started < self.size
            if spawn:
                self._started += 1
            else:
                self._waiters.append(waiter)
        if spawn:
            return await anyio.to_thread.run_sync(self._spawn)
        timer = loop.call_later(self.wait, _settle, waiter, None)
        try:
            worker = await waiter
        except BaseException:  # cancelled: a worker handed over meanwhile is handed on
            self._forget(waiter)
            if waiter.done() and not waiter.cancelled() and waiter.result() is not None:
                self._release(waiter.result())  # type: ignore[arg-type]
            raise
        finally:
            timer.cancel()
        if worker is None:
            self._forget(waiter)
            raise self._busy()
        return worker

    def _forget(self, waiter: asyncio.Future[_Worker | None]) -> None:
        with self._lock, contextlib.suppress(ValueError):
            self._waiters.remove(waiter)

    def _release(self, worker: _Worker) -> None:
        """A free worker to the request waiting longest on the event loop, else to the idle
        queue. Called from the loop or from any thread."""
        with self._lock:
            if not self._waiters:
                self._idle.put(worker)
                return
            waiter = self._waiters.popleft()
        loop = waiter.get_loop()
        try:
            if _running_loop() is loop:
                _hand_over(self, waiter, worker)
            else:
                loop.call_soon_threadsafe(_hand_over, self, waiter, worker)
        except RuntimeError:  # the loop has closed: the server is stopping
            self._idle.put(worker)

    def _replace(self, worker: _Worker) -> None:
        worker.process.kill()
        worker.process.join(timeout=5)
        worker.connection.close()
        with self._lock:
            self._workers.pop(worker.process.pid or 0, None)
        self._release(self._spawn())

    @staticmethod
    def _note(worker: _Worker, message: dict[str, Any]) -> bool:
        """Take in a start-up or loading message; False for anything else (an answer)."""
        if "loading" in message:
            worker.loading = True
        elif "ready" in message:
            worker.loading = False
            worker.memory_copy = message["ready"]
        else:
            return False
        return True

    def _answer(self, worker: _Worker) -> dict[str, Any] | None:
        """The worker's answer to the request just sent; None when the time limit passed.

        Start-up and loading messages come first: while the worker loads, no limit applies
        (a worker that dies meanwhile ends the wait with EOFError).
        """
        while True:
            if not worker.connection.poll(None if worker.loading else self.timeout):
                return None
            message = worker.connection.recv()
            if not self._note(worker, message):
                if "body" in message and message["body"] is None:
                    message["body"] = worker.connection.recv_bytes()
                return message

    async def _answer_async(self, worker: _Worker) -> dict[str, Any] | None:
        """`_answer` on the event loop: the pipe is watched for the answer, no thread waits."""
        loop = asyncio.get_running_loop()
        connection = worker.connection
        fd = connection.fileno()
        while True:
            readable: asyncio.Future[bool] = loop.create_future()
            loop.add_reader(fd, _settle, readable, True)
            timer = (
                None if worker.loading else loop.call_later(self.timeout, _settle, readable, False)
            )
            try:
                if not await readable:
                    return None
            finally:
                loop.remove_reader(fd)
                # uvloop made the pipe non-blocking; threads and `run` read it blocking
                os.set_blocking(fd, True)
                if timer is not None:
                    timer.cancel()
            message = connection.recv()  # one write: all there (a large body follows)
            if not self._note(worker, message):
                if "body" in message and message["body"] is None:
                    message["body"] = await anyio.to_thread.run_sync(connection.recv_bytes)
                return message

    def run(self, request: dict[str, Any]) -> QueryOutput | str:
        """Run one query (request keys: see `_serve`); raises SyntaxError, QueryTimeout, ..."""
        worker = self._acquire()
        try:
            worker.connection.send(request)
            answer = self._answer(worker)
            if answer is None:
                log.warning("query over %ss stopped: %.200s", self.timeout, request["query"])
                self._replace(worker)
                worker = None  # type: ignore[assignment]
                raise QueryTimeout(f"the query ran longer than {self.timeout:g} s and was stopped")
        except (EOFError, OSError) as error:
            if worker is not None:
                self._replace(worker)
                worker = None  # type: ignore[assignment]
            raise WorkerFailed("the query worker stopped unexpectedly") from error
        finally:
            if worker is not None:
                self._release(worker)
        return _output(answer)

    async def arun(self, request: dict[str, Any]) -> QueryOutput | str:
        """`run` for the event loop: the same answers and errors, no thread while it waits."""
        worker = await self._acquire_async()
        try:
            message = pickle.dumps(request, protocol=pickle.HIGHEST_PROTOCOL)
            if len(message) <= MESSAGE_BYTES:  # one write, into the idle worker's empty pipe
                worker.connection.send_bytes(message)
            else:  # written as the worker reads it: not on the loop
                await anyio.to_thread.run_sync(worker.connection.send_bytes, message)
            answer = await self._answer_async(worker)
        except (EOFError, OSError) as error:
            await anyio.to_thread.run_sync(self._replace, worker)
            raise WorkerFailed("the query worker stopped unexpectedly") from error
        except BaseException:
            # cancelled (the server stopping) with a query under way: its answer must never
            # reach the next request, so the worker goes
            threading.Thread(target=self._replace, args=(worker,), daemon=True).start()
            raise
        if answer is None:
            log.warning("query over %ss stopped: %.200s", self.timeout, request["query"])
            await anyio.to_thread.run_sync(self._replace, worker)
            raise QueryTimeout(f"the query ran longer than {self.timeout:g} s and was stopped")
        self._release(worker)
        return _output(answer)

    def health(self) -> dict[str, Any]:
        """Where queries are served from and the memory each worker process holds."""
        idle: list[_Worker] = []
        try:  # what idle workers said since their last query (a load that ended)
            while True:
                idle.append(self._idle.get_nowait())
        except queue.Empty:
            pass
        try:
            for worker in idle:
                while worker.connection.poll(0):
                    self._note(worker, worker.connection.recv())
        except (EOFError, OSError):  # a dead worker: its next query replaces it
            pass
        finally:
            for worker in idle:
                self._release(worker)
        with self._lock:
            workers = list(self._workers.values())
        each = [
            {
                "pid": worker.process.pid,
                "resident_bytes": resident_bytes(worker.process.pid or 0),
                "loading": worker.loading,
                "memory_copy": worker.memory_copy,
            }
            for worker in workers
            if worker.process.is_alive()
        ]
        return {
            "serving_from": "memory" if self.in_memory else "disk",
            "processes": len(each),
            "resident_bytes": sum(w["resident_bytes"] or 0 for w in each),
            "workers": each,
        }

    def close(self) -> None:
        while not self._idle.empty():
            worker = self._idle.get_nowait()
            worker.connection.close()
            worker.process.join(timeout=2)
            if worker.process.is_alive():
                worker.process.kill()
            with self._lock:
                self._workers.pop(worker.process.pid or 0, None)
