"""A bounded pool of query worker processes, so that a query over its time limit really stops.

pyoxigraph cannot cancel a running query (no timeout in its Python API; signals wait for the
query to finish). Each worker process opens the published snapshot read-only and answers one
query at a time; the server waits at most `timeout` seconds for it, then kills the process and
starts a fresh one. The pool is bounded: when every worker is busy, a request waits a little,
then gets 503 rather than queueing without end. Results are serialised inside the worker, so no
pyoxigraph object ever crosses a process or thread boundary.

Heavy queries cannot starve light ones. A query that has run `long_after` seconds is
long-running; at most `long_running_max` of them run at once (by default one fewer than the
workers), so at least one worker is always left to queries that have not proven long. One that
would be one too many is stopped there (`TooManyLongQueries`, 503 "retry later"), and its text
is remembered for a while: sent again while the long-running places are taken, it is refused at
once instead of taking the spare worker for another `long_after` seconds. A query admitted as
known long-running holds a long-running place from its start. On disk, one more process is kept
started and idle (the standby), so that a stopped worker's place is taken at once rather than
after a process starts (0.2-1.2 s). A light query therefore waits at most about `long_after`
while heavy ones arrive, and not at all once they are known; what no pool can do is tell a
heavy query from a light one before it runs, so a burst of many different heavy queries sent
together still queues before a light one sent after them (`long_after` each).

Memory is bounded too: a worker may grow `memory_bytes` above what it held when it was ready
(its heap after start-up, or after loading its copy of the snapshot when serving from memory);
a query that takes it past is stopped (`MemoryLimitExceeded`, 503) and the worker replaced.
Processes are bounded: `size` workers and, on disk, the standby.

Both limits are checked every `CHECK_INTERVAL` seconds by whoever waits for the query's answer:
on the event loop, the timer that ends the wait at the time limit (`arun`); in a thread, between
polls of the pipe (`run`). So a query costs nothing more. No thread watches: one waking 20 times
a second cost 4-5% of the answers per second at 8 clients (GIL hand-offs on two busy CPUs). A
check reads the worker's anonymous resident memory from `/proc` (6 us). After a query that made
it grow, a worker hands the freed heap back to the system.

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
import ctypes
import logging
import multiprocessing
import os
import pickle
import threading
import time
from collections import OrderedDict, deque
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
# how often the limits are checked: how late one is noticed (a query growing by 750 MB/s, as
# the worst one measured, passes its memory limit by ~40 MB at most)
CHECK_INTERVAL = 0.05
# query texts found long-running are remembered this long, this many at most
REMEMBER_SECONDS = 600.0
REMEMBER_TEXTS = 1024
# after a query of over TRIM_AFTER seconds that left its heap TRIM_BYTES above where it was,
# a worker hands the freed memory back (glibc kept 345 MB of a 746 MB query's heap otherwise)
TRIM_AFTER = 0.01
TRIM_BYTES = 32 * 2**20
MiB = 2**20
PAGE_BYTES = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


class QueryRunner(Protocol):
    """What the routes need: run one query request (the pool, or the cache in front of it)."""

    def run(self, request: dict[str, Any]) -> QueryOutput | str: ...

    async def arun(self, request: dict[str, Any]) -> QueryOutput | str: ...


class QueryTimeout(Exception):
    """The query ran longer than the operator allows; its worker was stopped."""


class MemoryLimitExceeded(QueryTimeout):
    """The query needed more memory than the operator allows; its worker was stopped.

    A `QueryTimeout`, so that the routes answer it as they answer the time limit (503): both are
    limits of this server, which another, or this one set otherwise, may not have."""


class ServerBusy(Exception):
    """Every worker stayed busy for longer than a request may wait."""


class TooManyLongQueries(ServerBusy):
    """As many long-running queries as allowed run already: this one was stopped, or refused
    before it started (its text is known to run long). Retry later (503)."""


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


def _status(pid: int, field: str) -> int | None:
    """A size in a process's `/proc/{pid}/status` (Linux; None elsewhere or once it ended)."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith(field):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        return None
    return None


def resident_bytes(pid: int) -> int | None:
    """A process's resident memory (Linux `/proc`; None elsewhere or once it has ended)."""
    return _status(pid, "VmRSS:")


def heap_bytes(pid: int) -> int | None:
    """A process's anonymous resident memory (`RssAnon`, from `/proc/{pid}/statm`: resident
    less file-backed pages): what its queries allocate, and its in-memory copy of the snapshot,
    not the store files the kernel maps and caches. 6 us (the status file: 20)."""
    try:
        handle = os.open(f"/proc/{pid}/statm", os.O_RDONLY)
        try:
            fields = os.read(handle, 256).split()
        finally:
            os.close(handle)
        return (int(fields[1]) - int(fields[2])) * PAGE_BYTES
    except (OSError, ValueError, IndexError):
        return None


def _give_back_memory(ready: int | None) -> None:
    """After a query that made this worker grow, hand the heap it freed back to the system."""
    heap = heap_bytes(os.getpid())
    if heap is not None and ready is not None and heap - ready > TRIM_BYTES:
        with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to do
            ctypes.CDLL("libc.so.6").malloc_trim(0)


def _load(reader: StoreReader, connection: Connection) -> int | None:
    """Copy the latest snapshot into memory, telling the server when it starts and ends; the
    worker's heap then (its memory limit counts from there)."""
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
    heap = heap_bytes(os.getpid())
    connection.send({"ready": asdict(copy) if copy else None, "heap": heap})
    return heap


def _serve(directory: str, connection: Connection, in_memory: bool, log_level: int) -> None:
    """Worker process: answer queries from `connection` until it closes."""
    logging.basicConfig(level=log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    with contextlib.suppress(EOFError, ConnectionError):  # the server closed the pipe: done
        _answer_queries(StoreReader(Path(directory), in_memory=in_memory), connection)


def _answer_queries(reader: StoreReader, connection: Connection) -> None:
    import pyoxigraph as ox

    in_memory = reader.in_memory
    if in_memory:
        ready = _load(reader, connection)
    else:
        ready = heap_bytes(os.getpid())
        connection.send({"ready": None, "heap": ready})
    while True:
        try:
            # idle, a worker serving from memory loads a new snapshot as soon as it sees one
            # (within a second), so that the next query need not wait for it
            while in_memory and not connection.poll(1.0):
                if not reader.is_current():
                    ready = _load(reader, connection)
            request = connection.recv()
        except EOFError:
            return
        if in_memory and not reader.is_current():  # published since: never answer stale
            ready = _load(reader, connection)
        began = time.perf_counter()
        _reply(ox, reader, request, connection)
        if time.perf_counter() - began > TRIM_AFTER:  # answered: not on the answer's way
            _give_back_memory(ready)


def _reply(ox: Any, reader: StoreReader, request: dict[str, Any], connection: Connection) -> None:
    """Run one query and send its answer, or what went wrong, to the server."""
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
        return
    except ResultTooLarge as error:
        connection.send({"too_large": error.limit, "unit": error.unit})
        return
    except (ValueError, RuntimeError) as error:  # e.g. a value pyoxigraph cannot bind
        connection.send({"invalid": str(error)})
        return
    except (OSError, StoreError) as error:
        connection.send({"error": str(error)})
        return
    if isinstance(output, str):
        connection.send({"kind": output})
        return
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


def _refuse(future: asyncio.Future[Any], error: Exception) -> None:
    if not future.done():
        future.set_exception(error)


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


def _text(request: dict[str, Any]) -> tuple[Any, ...]:
    """What makes a query run long: its text, graphs and bound values (not its formats)."""
    substitutions = request.get("substitutions")
    return (
        request["query"],
        tuple(request.get("default_graphs") or ()),
        tuple(request.get("named_graphs") or ()),
        tuple(sorted(substitutions.items())) if substitutions else (),
    )


@dataclass(eq=False)
class _Worker:
    process: BaseProcess
    connection: Connection
    loading: bool = True  # starting, or copying a snapshot into memory: not a query's time
    memory_copy: dict[str, Any] | None = None  # what it said when it was last ready
    heap: int | None = None  # its heap when it was last ready: the memory limit counts from it
    request: dict[str, Any] | None = None  # the query it was given; None while idle
    started: float = 0.0  # when that query's time began (time.monotonic)
    long: bool = False  # the query holds one of the long-running places
    stopped: Exception | None = None  # why the pool stopped it: what its request raises
    tick: asyncio.TimerHandle | None = None  # the next check of its limits (`arun`)


class _Waiter:
    """A request waiting for a worker: on an event loop (`future`) or in a thread (`event`)."""

    __slots__ = ("error", "event", "future", "request", "worker")

    def __init__(
        self, request: dict[str, Any], future: asyncio.Future[_Worker | None] | None = None
    ) -> None:
        self.request = request
        self.future = future
        self.event = threading.Event() if future is None else None
        self.worker: _Worker | None = None  # for a thread: what it was handed
        self.error: Exception | None = None


class QueryPool:
    """`size` worker processes; `run` is called from request threads, `arun` on the loop.

    On disk, workers start on first use. `in_memory`, all of them start (and load) at once,
    from `start()` or the first query. `long_after`, `long_running_max` (0: one fewer than
    `size`, at least 1) and `memory_bytes` (0: no limit) are the limits in the module's
    docstring.
    """

    def __init__(
        self,
        directory: Path,
        size: int,
        timeout: float,
        wait: float = 10.0,
        in_memory: bool = False,
        long_after: float = 1.0,
        long_running_max: int = 0,
        memory_bytes: int = 2**30,
    ) -> None:
        spare = max(1, size - 1)
        if long_running_max > spare:
            raise ValueError(
                f"long_running_max={long_running_max} leaves no worker of {size} to short queries"
            )
        self.directory = directory
        self.size = size
        self.timeout = timeout
        self.wait = wait
        self.in_memory = in_memory
        self.long_after = long_after
        self.long_running_max = long_running_max or spare
        self.memory_bytes = memory_bytes
        self._first_tick = min(CHECK_INTERVAL, timeout)
        self._context = multiprocessing.get_context("spawn")  # never fork a threaded server
        # all of the pool's state below is guarded by `_lock`
        self._lock = threading.Lock()
        self._workers: dict[int, _Worker] = {}  # every live worker, idle or busy, by pid
        self._idle: deque[_Worker] = deque()
        self._started = 0
        # requests waiting for a worker, first come first served (a free worker goes to them
        # before the idle ones)
        self._waiters: deque[_Waiter] = deque()
        self._long = 0  # queries holding a long-running place
        self._known_long: OrderedDict[tuple[Any, ...], float] = OrderedDict()  # text -> when
        self._standby: _Worker | None = None  # on disk: started, idle, not one of the `size`
        self._standby_starting = False
        self._closed = False

    # -- workers in and out --------------------------------------------------------------------

    def _spawn(
        self, request: dict[str, Any] | None = None, long: bool = False, standby: bool = False
    ) -> _Worker:
        """A new worker process (given `request`, whose place is already counted), or the
        standby; on disk, the first one starts the standby too."""
        parent, child = self._context.Pipe()
        level = logging.getLogger().getEffectiveLevel()
        process = self._context.Process(
            target=_serve, args=(str(self.directory), child, self.in_memory, level), daemon=True
        )
        process.start()
        child.close()
        worker = _Worker(process, parent)
        with self._lock:
            if standby:
                self._standby, self._standby_starting = worker, False
                return worker
            self._workers[process.pid or 0] = worker
            if request is not None:
                self._occupy(worker, request, long)
        self._refill_standby()
        return worker

    def _refill_standby(self) -> None:
        """On disk, keep one more process started, idle, to replace a stopped worker at once:
        a light query waiting for it need not wait for a process to start (0.2 s on a quiet
        machine, 1.2 s measured on two busy CPUs). Serving from memory it would need a copy
        of its own: none."""
        with self._lock:
            if self.in_memory or self._closed or self._standby or self._standby_starting:
                return
            self._standby_starting = True
        self._spawn(standby=True)

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

    def _admit(self, request: dict[str, Any]) -> bool | None:
        """Under the lock, when texts that ran long are known: whether `request` starts as
        long-running (its text ran long lately), or None if it would and every long-running
        place is taken."""
        key = _text(request)
        since = self._known_long.get(key)
        if since is None:
            return False
        if time.monotonic() - since > REMEMBER_SECONDS:
            del self._known_long[key]
            return False
        return True if self._long < self.long_running_max else None

    def _occupy(self, worker: _Worker, request: dict[str, Any], long: bool) -> None:
        """Under the lock: `worker` runs `request` from now (a long-running place, counted by
        the caller, when `long`)."""
        worker.request = request
        worker.started = time.monotonic()
        worker.long = long

    def _finish(self, worker: _Worker, answered: bool = False) -> None:
        """Under the lock: `worker` runs nothing any more (`answered`: it answered)."""
        if worker.long:
            self._long -= 1
            request = worker.request
            if answered and request and time.monotonic() - worker.started < self.long_after:
                self._known_long.pop(_text(request), None)  # not long this time
        worker.request = None
        worker.long = False

    def _take(self, request: dict[str, Any]) -> tuple[_Worker | None, bool, bool]:
        """Under the lock: (an idle worker now running `request`, or None; whether it holds a
        long-running place; whether to start a worker for it, its place counted). Neither: it
        must wait. Raises TooManyLongQueries for a text known to run long while every
        long-running place is taken."""
        long = self._admit(request) if self._known_long else False
        if long is None:
            raise self._too_many()
        if self._idle and not self._waiters:
            worker = self._idle.popleft()
            self._long += long
            self._occupy(worker, request, long)
            return worker, long, False
        if self._started < self.size:
            self._started += 1
            self._long += long
            return None, long, True
        return None, long, False

    def _acquire(self, request: dict[str, Any]) -> _Worker:
        """A worker running `request`, for a thread: at most `wait` seconds later."""
        self.start()
        with self._lock:
            worker, long, spawn = self._take(request)
            if worker is None and not spawn:
                waiter = _Waiter(request)
                self._waiters.append(waiter)
        if worker is not None:
            return worker
        if spawn:
            return self._spawn(request, long)
        assert waiter.event is not None
        if not waiter.event.wait(self.wait):
            with self._lock:
                if waiter.worker is None and waiter.error is None:  # nothing came: give up
                    with contextlib.suppress(ValueError):
                        self._waiters.remove(waiter)
                    raise self._busy()
        if waiter.error is not None:
            raise waiter.error
        assert waiter.worker is not None
        return waiter.worker

    def _busy(self) -> ServerBusy:
        return ServerBusy(f"all {self.size} query workers are busy; try again shortly")

    def _too_many(self) -> TooManyLongQueries:
        return TooManyLongQueries(
            f"too many long-running queries: at most {self.long_running_max} may run longer "
            f"than {self.long_after:g} s at once; retry later"
        )

    async def _acquire_async(self, request: dict[str, Any]) -> _Worker:
        """`_acquire` on the event loop: an idle worker, a new one (started in a thread), or
        the next one freed, at most `wait` seconds later."""
        if self.in_memory and self._started < self.size:
            await anyio.to_thread.run_sync(self.start)
        with self._lock:  # with `_release`'s: no worker is left idle while a request waits
            worker, long, spawn = self._take(request)
            if worker is not None:
                return worker
            if not spawn:
                loop = asyncio.get_running_loop()
                waiter = _Waiter(request, loop.create_future())
                self._waiters.append(waiter)
        if spawn:
            return await anyio.to_thread.run_sync(self._spawn, request, long)
        future = waiter.future
        assert future is not None
        timer = loop.call_later(self.wait, _settle, future, None)
        try:
            worker = await future
        except BaseException:  # cancelled: a worker handed over meanwhile is handed on
            self._forget(waiter)
            if future.done() and not future.cancelled() and future.exception() is None:
                handed = future.result()
                if handed is not None:
                    self._release(handed)
            raise
        finally:
            timer.cancel()
        if worker is None:
            self._forget(waiter)
            raise self._busy()
        return worker

    def _forget(self, waiter: _Waiter) -> None:
        with self._lock, contextlib.suppress(ValueError):
            self._waiters.remove(waiter)

    def _release(self, worker: _Worker, answered: bool = False) -> None:
        """A free worker to the request waiting longest, else to the idle ones (a waiting
        text known to run long, while every long-running place is taken, is refused on the
        way). Called from the loop or from any thread."""
        refused: list[_Waiter] = []
        handed: _Waiter | None = None
        with self._lock:
            if worker.long:
                self._finish(worker, answered)
            worker.request = None
            gone = worker.stopped is not None  # stopped by `_check` as it answered
            if not gone:
                while self._waiters:
                    waiter = self._waiters.popleft()
                    long = self._admit(waiter.request) if self._known_long else False
                    if long is None:
                        refused.append(waiter)
                        continue
                    self._long += long
                    worker.request = waiter.request  # `_occupy`, inline: the hot path
                    worker.started = time.monotonic()
                    worker.long = long
                    handed = waiter
                    break
                else:
                    self._idle.append(worker)
            for waiter in refused:
                if waiter.event is not None:  # a thread's: under the lock, as it gives up
                    waiter.error = self._too_many()
                    waiter.event.set()
            if handed is not None and handed.event is not None:
                handed.worker = worker
                handed.event.set()
        if gone:
            threading.Thread(target=self._replace, args=(worker,), daemon=True).start()
            return
        for waiter in refused:
            if waiter.future is not None:
                _call_on(waiter.future.get_loop(), _refuse, waiter.future, self._too_many())
        if handed is not None and handed.future is not None:
            future = handed.future
            if _running_loop() is future.get_loop():
                _hand_over(self, future, worker)
            elif not _call_on(future.get_loop(), _hand_over, self, future, worker):  # closed
                with self._lock:
                    self._finish(worker)
                    self._idle.append(worker)

    def _replace(self, worker: _Worker) -> None:
        """Kill `worker` (if it still runs) and start another in its place."""
        worker.process.kill()
        worker.process.join(timeout=5)
        worker.connection.close()
        with self._lock:
            self._workers.pop(worker.process.pid or 0, None)
            self._finish(worker)
            fresh, self._standby = self._standby, None
            if fresh is not None and fresh.process.is_alive():
                self._workers[fresh.process.pid or 0] = fresh
            else:
                fresh = None
        if fresh is None:
            self._release(self._spawn())
        else:
            self._release(fresh)
            self._refill_standby()

    def _failure(self, worker: _Worker) -> Exception:
        """What a request whose worker died raises: why `_check` stopped it, or a crash."""
        return worker.stopped or WorkerFailed("the query worker stopped unexpectedly")

    @staticmethod
    def _note(worker: _Worker, message: dict[str, Any]) -> bool:
        """Take in a start-up or loading message; False for anything else (an answer)."""
        if "loading" in message:
            worker.loading = True
        elif "ready" in message:
            worker.memory_copy = message["ready"]
            worker.heap = message.get("heap")
            worker.started = time.monotonic()  # the query's time starts now (before `loading`
            worker.loading = False  # changes: `_check` reads them without the lock)
        else:
            return False
        return True

    def _answer(self, worker: _Worker) -> dict[str, Any] | None:
        """The worker's answer to the request just sent; None when the time limit passed.

        Start-up and loading messages come first: while the worker loads, no limit applies
        (a worker that dies meanwhile ends the wait with EOFError).
        """
        request = worker.request
        while True:
            if worker.loading:
                worker.connection.poll(None)
            else:
                deadline = time.monotonic() + self.timeout
                while not worker.connection.poll(min(CHECK_INTERVAL, deadline - time.monotonic())):
                    if time.monotonic() >= deadline:
                        return None
                    self._check(worker, request)
            message = worker.connection.recv()
            if not self._note(worker, message):
                if "body" in message and message["body"] is None:
                    message["body"] = worker.connection.recv_bytes()
                return message

    async def _answer_async(self, worker: _Worker) -> dict[str, Any] | None:
        """`_answer` on the event loop: the pipe is watched for the answer, no thread waits; one
        timer (`_tick`) checks the limits every CHECK_INTERVAL and ends the wait at the time
        limit."""
        loop = asyncio.get_running_loop()
        connection = worker.connection
        fd = connection.fileno()
        while True:
            readable: asyncio.Future[bool] = loop.create_future()
            loop.add_reader(fd, _settle, readable, True)
            if not worker.loading:  # the time limit counts from `started`
                worker.tick = loop.call_later(self._first_tick, self._tick, worker, readable)
            try:
                if not await readable:
                    return None
            finally:
                loop.remove_reader(fd)
                # uvloop made the pipe non-blocking; threads and `run` read it blocking
                os.set_blocking(fd, True)
                if worker.tick is not None:
                    worker.tick.cancel()
                    worker.tick = None
            message = connection.recv()  # one write: all there (a large body follows)
            if not self._note(worker, message):
                if "body" in message and message["body"] is None:
                    message["body"] = await anyio.to_thread.run_sync(connection.recv_bytes)
                return message

    def run(self, request: dict[str, Any]) -> QueryOutput | str:
        """Run one query (request keys: see `_reply`); raises SyntaxError, QueryTimeout, ..."""
        worker = self._acquire(request)
        try:
            worker.connection.send(request)
            answer = self._answer(worker)
        except (EOFError, OSError) as error:
            self._replace(worker)
            raise self._failure(worker) from error
        except BaseException:
            self._replace(worker)  # its answer must never reach the next request
            raise
        if answer is None:
            log.warning("query over %ss stopped: %.200s", self.timeout, request["query"])
            self._replace(worker)
            raise QueryTimeout(f"the query ran longer than {self.timeout:g} s and was stopped")
        self._release(worker, answered=True)
        return _output(answer)

    async def arun(self, request: dict[str, Any]) -> QueryOutput | str:
        """`run` for the event loop: the same answers and errors, no thread while it waits."""
        worker = await self._acquire_async(request)
        try:
            message = pickle.dumps(request, protocol=pickle.HIGHEST_PROTOCOL)
            if len(message) <= MESSAGE_BYTES:  # one write, into the idle worker's empty pipe
                worker.connection.send_bytes(message)
            else:  # written as the worker reads it: not on the loop
                await anyio.to_thread.run_sync(worker.connection.send_bytes, message)
            answer = await self._answer_async(worker)
        except (EOFError, OSError) as error:
            await anyio.to_thread.run_sync(self._replace, worker)
            raise self._failure(worker) from error
        except BaseException:
            # cancelled (the server stopping) with a query under way: its answer must never
            # reach the next request, so the worker goes
            threading.Thread(target=self._replace, args=(worker,), daemon=True).start()
            raise
        if answer is None:
            log.warning("query over %ss stopped: %.200s", self.timeout, request["query"])
            await anyio.to_thread.run_sync(self._replace, worker)
            raise QueryTimeout(f"the query ran longer than {self.timeout:g} s and was stopped")
        self._release(worker, answered=True)
        return _output(answer)

    # -- the limits ----------------------------------------------------------------------------

    def _tick(self, worker: _Worker, readable: asyncio.Future[bool]) -> None:
        """On the loop, every CHECK_INTERVAL until the answer comes: the query's limits, and at
        its time limit the end of the wait."""
        if readable.done():
            return
        remaining = worker.started + self.timeout - time.monotonic()
        if remaining <= 0:
            readable.set_result(False)
            return
        self._check(worker, worker.request)
        if worker.stopped is None:  # else its pipe ends the wait
            worker.tick = readable.get_loop().call_later(
                min(CHECK_INTERVAL, remaining), self._tick, worker, readable
            )

    def _check(self, worker: _Worker, request: dict[str, Any] | None) -> None:
        """Stop `request` on `worker` if it is past its memory limit, or has just run long with
        every long-running place taken (the newest to run long is the one too many)."""
        if worker.loading or worker.stopped is not None:
            return  # loading is not the query's time, nor its memory
        heap = heap_bytes(worker.process.pid or 0) if self.memory_bytes else None
        with self._lock:
            if worker.request is not request or request is None or worker.stopped is not None:
                return  # answered meanwhile
            ready = worker.heap
            if heap is not None and ready is not None and heap - ready > self.memory_bytes:
                self._remember(request)
                self._stop(worker, self._too_big())
            elif not worker.long and time.monotonic() - worker.started >= self.long_after:
                self._remember(request)
                if self._long < self.long_running_max:
                    worker.long = True
                    self._long += 1
                else:
                    self._stop(worker, self._too_many())

    def _too_big(self) -> MemoryLimitExceeded:
        return MemoryLimitExceeded(
            f"the query needed more than {self.memory_bytes / MiB:g} MiB of memory and was stopped"
        )

    def _remember(self, request: dict[str, Any]) -> None:
        """Under the lock: `request`'s text runs long."""
        key = _text(request)
        self._known_long[key] = time.monotonic()
        self._known_long.move_to_end(key)
        while len(self._known_long) > REMEMBER_TEXTS:
            self._known_long.popitem(last=False)

    def _stop(self, worker: _Worker, error: Exception) -> None:
        """Under the lock: kill `worker`; its request raises `error` and replaces it."""
        worker.stopped = error
        log.warning("stopped a query (%s): %.200s", error, (worker.request or {}).get("query"))
        with contextlib.suppress(OSError):
            worker.process.kill()

    # -- reporting, closing ----------------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        """Where queries are served from, the limits, and each worker process's memory."""
        with self._lock:
            idle = list(self._idle)
            self._idle.clear()
        try:  # what idle workers said since their last query (a load that ended)
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
            long = self._long
            standby = self._standby
        each = [
            {
                "pid": worker.process.pid,
                "resident_bytes": resident_bytes(worker.process.pid or 0),
                "loading": worker.loading,
                "memory_copy": worker.memory_copy,
                "long_running": worker.long,
            }
            for worker in workers
            if worker.process.is_alive()
        ]
        return {
            "serving_from": "memory" if self.in_memory else "disk",
            "processes": len(each),
            "resident_bytes": sum(w["resident_bytes"] or 0 for w in each),
            "long_running": long,
            "long_running_max": self.long_running_max,
            "long_after_seconds": self.long_after,
            "memory_limit_bytes": self.memory_bytes,
            "workers": each,
            "standby": None
            if standby is None
            else {
                "pid": standby.process.pid,
                "resident_bytes": resident_bytes(standby.process.pid or 0),
            },
        }

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle = list(self._idle)
            self._idle.clear()
            if self._standby is not None:
                idle.append(self._standby)
                self._standby = None
        for worker in idle:
            worker.connection.close()
            worker.process.join(timeout=2)
            if worker.process.is_alive():
                worker.process.kill()
            with self._lock:
                self._workers.pop(worker.process.pid or 0, None)


def _call_on(loop: asyncio.AbstractEventLoop, callback: Any, *args: Any) -> bool:
    """`callback(*args)` on `loop`: now if this is its thread, else soon; False once it closed."""
    if _running_loop() is loop:
        callback(*args)
        return True
    try:
        loop.call_soon_threadsafe(callback, *args)
    except RuntimeError:  # the loop has closed: the server is stopping
        return False
    return True
