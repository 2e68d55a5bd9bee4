"""The worker pool on the event loop (`QueryPool.arun`) and from threads (`run`): answers to
the right request, waiting in turn, light queries beside heavy ones, the cap on long-running
queries and the memory limit.

Real worker processes on a small published store, under uvloop as the server runs them.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from pathlib import Path

import pytest
import uvloop

from creative_graph.store import QueryOutput, StoreWriter
from endpoint.workers import (
    MemoryLimitExceeded,
    QueryPool,
    QueryTimeout,
    ServerBusy,
    TooManyLongQueries,
    heap_bytes,
)

pytestmark = pytest.mark.e2e
SMALL = 200  # triples: a three-way cross product of them never ends within the tests
LARGER = 100_000  # triples: copied into memory, a worker's heap is larger than 32 MiB
ENDLESS = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
# 8 million strings sorted: the worker grows by ~100 MB/s, to 2 GB in 20 s
HUNGRY = (
    "SELECT ?x WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i "
    "BIND(CONCAT(STR(?a), STR(?d), STR(?g)) AS ?x) } ORDER BY ?x LIMIT 1"
)


def _request(query: str, results: str = "text/csv") -> dict:
    return {"query": query, "results": results, "graph": None, "default_graphs": [],
            "named_graphs": []}  # fmt: skip


def _count(label: str) -> dict:
    """A query whose answer says which request it answers."""
    return _request(f'SELECT ("{label}" AS ?label) (COUNT(*) AS ?n) WHERE {{ ?s ?p ?o }}')


def _answer(output: QueryOutput | str) -> list[str]:
    assert isinstance(output, QueryOutput)
    return output.body.decode().splitlines()


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("pool") / "store"
    with StoreWriter(directory) as writer:
        writer.replace_graph(
            "http://x.example/g",
            {f'<http://x.example/s{i}> <http://x.example/p> "{i}"' for i in range(SMALL)},
        )
        writer.publish()
    return directory


def test_answers_come_in_any_size_and_to_the_right_request(store: Path) -> None:
    async def main(pool: QueryPool) -> None:
        labels = [f"r{i}" for i in range(12)]
        outputs = await asyncio.gather(*(pool.arun(_count(label)) for label in labels))
        assert [_answer(o)[1] for o in outputs] == [f"{label},{SMALL}" for label in labels]
        # over 16 kB: the body comes as raw bytes after its description
        everything = await pool.arun(
            _request("SELECT ?s ?o WHERE { ?s ?p ?o }", "application/sparql-results+json")
        )
        assert isinstance(everything, QueryOutput) and len(everything.body) > 16_000
        assert len(json.loads(everything.body)["results"]["bindings"]) == SMALL
        with pytest.raises(SyntaxError):
            await pool.arun(_request("SELECT nonsense"))

    pool = QueryPool(store, size=2, timeout=30)
    try:
        uvloop.run(main(pool))
    finally:
        pool.close()


def test_requests_wait_their_turn(store: Path) -> None:
    """One worker: waiting requests are served first come, first served."""

    async def main(pool: QueryPool) -> None:
        finished: list[str] = []

        async def run(label: str) -> None:
            await pool.arun(_count(label))
            finished.append(label)

        await asyncio.gather(*(run(f"r{i}") for i in range(6)))
        assert finished == [f"r{i}" for i in range(6)]

    pool = QueryPool(store, size=1, timeout=30)
    try:
        uvloop.run(main(pool))
    finally:
        pool.close()


def test_while_queries_are_not_yet_long_a_request_waits_then_gets_503(store: Path) -> None:
    """Both workers run queries not yet long-running: a request waits `wait`, then gets 503.
    Once they run long, one of them is stopped and a worker is free for short queries again
    (the pool used to refuse them for as long as heavy queries held every worker)."""

    async def main(pool: QueryPool) -> None:
        await asyncio.gather(*(pool.arun(_count(f"warm{i}")) for i in range(2)))
        heavy = [asyncio.ensure_future(pool.arun(_request(f"{ENDLESS} # {i}"))) for i in range(2)]
        await asyncio.sleep(0.1)
        with pytest.raises(ServerBusy, match="busy"):
            await pool.arun(_count("refused"))
        await asyncio.sleep(1.5)  # both long-running: one of them stopped, its worker replaced
        assert _answer(await pool.arun(_count("served"))) == ["label,n", f"served,{SMALL}"]
        assert pool.health()["long_running"] == 1
        outcomes = await asyncio.gather(*heavy, return_exceptions=True)
        assert sorted(type(o).__name__ for o in outcomes) == ["QueryTimeout", "TooManyLongQueries"]
        assert _answer(await pool.arun(_count("after")))[1] == f"after,{SMALL}"

    pool = QueryPool(store, size=2, timeout=4, wait=0.5, long_after=1.5)
    try:
        uvloop.run(main(pool))
    finally:
        pool.close()


def test_heavy_queries_do_not_starve_light_ones(store: Path) -> None:
    """More heavy queries than workers: light ones sent meanwhile are answered within about
    `long_after` (+ starting the worker that replaces a stopped one), not after the heavy ones'
    time limit; one heavy query keeps its worker, the others get 503 "retry later".

    With first come, first served alone, the light ones waited for a heavy one's time limit."""

    async def main(pool: QueryPool) -> None:
        await asyncio.gather(*(pool.arun(_count(f"warm{i}")) for i in range(2)))  # both started
        heavy = [asyncio.ensure_future(pool.arun(_request(ENDLESS))) for _ in range(4)]
        await asyncio.sleep(0.2)
        for label in ("light", "then"):
            started = time.monotonic()
            assert _answer(await pool.arun(_count(label))) == ["label,n", f"{label},{SMALL}"]
            assert time.monotonic() - started < 1.5  # the heavy ones run for 6 s
        # sent again while the long-running place is taken, a heavy text is refused at once
        started = time.monotonic()
        with pytest.raises(TooManyLongQueries, match="retry later"):
            await pool.arun(_request(ENDLESS))
        assert time.monotonic() - started < 0.5
        outcomes = await asyncio.gather(*heavy, return_exceptions=True)
        assert sorted(type(o).__name__ for o in outcomes) == [
            "QueryTimeout",
            *["TooManyLongQueries"] * 3,
        ]

    pool = QueryPool(store, size=2, timeout=6, long_after=0.5)
    try:
        uvloop.run(main(pool))
    finally:
        pool.close()


def test_long_running_queries_are_capped_newest_stopped(store: Path) -> None:
    """Three workers, at most two long-running queries: of three heavy ones, the one that
    became long-running last is stopped when it does; the two others run to their limit."""

    async def main(pool: QueryPool) -> None:
        await asyncio.gather(*(pool.arun(_count(f"warm{i}")) for i in range(3)))
        first = [asyncio.ensure_future(pool.arun(_request(f"{ENDLESS} # {i}"))) for i in range(2)]
        await asyncio.sleep(0.3)
        newest = asyncio.ensure_future(pool.arun(_request(f"{ENDLESS} # newest")))
        with pytest.raises(TooManyLongQueries, match=r"at most 2 may run longer than 0\.5 s"):
            await newest
        health = pool.health()
        assert health["long_running"] == 2 and health["long_running_max"] == 2
        assert _answer(await pool.arun(_count("light")))[1] == f"light,{SMALL}"
        for task in first:
            with pytest.raises(QueryTimeout) as stopped:
                await task
            assert type(stopped.value) is QueryTimeout  # the time limit, not another
        assert pool.health()["long_running"] == 0

    pool = QueryPool(store, size=3, timeout=3, long_after=0.5)
    try:
        uvloop.run(main(pool))
    finally:
        pool.close()


def test_a_query_over_its_memory_limit_is_stopped(store: Path) -> None:
    """A worker growing past `memory_bytes` is killed: its request gets MemoryLimitExceeded
    (a QueryTimeout, 503 for the routes), a fresh worker takes its place, and the next query
    is answered; a query under the limit is not disturbed."""

    async def main(pool: QueryPool) -> None:
        assert _answer(await pool.arun(_count("before")))[1] == f"before,{SMALL}"
        (before,) = pool.health()["workers"]
        started = time.monotonic()
        with pytest.raises(MemoryLimitExceeded, match="needed more than 64 MiB") as stopped:
            await pool.arun(_request(HUNGRY))
        assert isinstance(stopped.value, QueryTimeout)
        assert time.monotonic() - started < 10  # ~100 MB/s: stopped after about 0.6 s
        assert _answer(await pool.arun(_count("after")))[1] == f"after,{SMALL}"
        (after,) = pool.health()["workers"]
        assert after["pid"] != before["pid"]
        assert after["resident_bytes"] < before["resident_bytes"] + 64 * 2**20

    pool = QueryPool(store, size=1, timeout=30, long_after=30, memory_bytes=64 * 2**20)
    try:
        uvloop.run(main(pool))
    finally:
        pool.close()


def test_threads_get_the_same_limits(store: Path) -> None:
    """`run` from threads: a short query is answered beside a long-running one, and the same
    heavy text is refused at once while it runs."""
    pool = QueryPool(store, size=2, timeout=3, long_after=0.5)
    errors: list[BaseException] = []

    def heavy() -> None:
        try:
            pool.run(_request(ENDLESS))
        except BaseException as error:
            errors.append(error)

    thread = threading.Thread(target=heavy)
    try:
        pool.run(_count("warm"))
        thread.start()
        time.sleep(1.0)
        started = time.monotonic()
        assert _answer(pool.run(_count("beside")))[1] == f"beside,{SMALL}"
        with pytest.raises(TooManyLongQueries):
            pool.run(_request(ENDLESS))
        assert time.monotonic() - started < 1.0
        thread.join()
    finally:
        pool.close()
    assert [type(e) for e in errors] == [QueryTimeout]


def test_a_cancelled_request_leaves_no_answer_behind(store: Path) -> None:
    """Cancelled while its query runs, the worker goes (its answer would reach the next
    request); cancelled while waiting, the worker it was handed goes to the next one."""

    async def main(pool: QueryPool) -> None:
        running = asyncio.ensure_future(pool.arun(_request(ENDLESS)))
        waiting = asyncio.ensure_future(pool.arun(_count("cancelled while waiting")))
        await asyncio.sleep(0.2)
        waiting.cancel()
        running.cancel()
        for task in (running, waiting):
            with pytest.raises(asyncio.CancelledError):
                await task
        for label in ("next", "then"):
            assert _answer(await pool.arun(_count(label)))[1] == f"{label},{SMALL}"

    pool = QueryPool(store, size=1, timeout=30, wait=30)
    try:
        uvloop.run(main(pool))
    finally:
        pool.close()


def test_threads_and_the_event_loop_share_the_workers(store: Path) -> None:
    """`run` (threads) and `arun` (the loop) draw on the same bounded pool."""
    pool = QueryPool(store, size=2, timeout=30)
    from_threads: list[list[str]] = []

    def in_thread(label: str) -> None:
        for _ in range(5):
            from_threads.append(_answer(pool.run(_count(label))))

    async def main() -> list[list[str]]:
        outputs = await asyncio.gather(*(pool.arun(_count(f"loop{i}")) for i in range(10)))
        return [_answer(o) for o in outputs]

    threads = [threading.Thread(target=in_thread, args=(f"thread{i}",)) for i in range(2)]
    try:
        for thread in threads:
            thread.start()
        from_loop = uvloop.run(main())
        for thread in threads:
            thread.join()
    finally:
        pool.close()
    assert [a[1] for a in from_loop] == [f"loop{i},{SMALL}" for i in range(10)]
    assert sorted(a[1] for a in from_threads) == sorted(
        f"thread{i},{SMALL}" for i in range(2) for _ in range(5)
    )
    assert len(pool.health()["workers"]) <= 2


@pytest.fixture(scope="module")
def larger_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("larger") / "store"
    with StoreWriter(directory) as writer:
        writer.replace_graph(
            "http://x.example/g",
            {f'<http://x.example/s{i // 10}> <http://x.example/p{i % 10}> "{i}"'
             for i in range(LARGER)},
        )  # fmt: skip
        writer.publish()
    return directory


def test_serving_from_memory_the_limit_counts_above_the_copy(larger_store: Path) -> None:
    """A worker's copy of the snapshot is bigger than the limit: queries are answered, since
    the limit counts what a query adds to the copy; one that adds too much is stopped."""

    async def main(pool: QueryPool) -> None:
        count = _request("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
        assert _answer(await pool.arun(count)) == ["n", str(LARGER)]
        (worker,) = pool.health()["workers"]
        assert worker["memory_copy"]["quads"] == LARGER
        assert heap_bytes(worker["pid"]) > pool.memory_bytes  # what this test is about
        # a query that runs a while (checked several times) without needing much memory
        started = time.monotonic()
        pairs = _request("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o . ?s ?q ?x }")
        assert _answer(await pool.arun(pairs)) == ["n", str(LARGER * 10)]
        assert time.monotonic() - started > 0.2
        with pytest.raises(MemoryLimitExceeded, match="more than 32 MiB"):
            await pool.arun(_request(HUNGRY))
        assert _answer(await pool.arun(_request(pairs["query"] + " # again"))) == [
            "n",
            str(LARGER * 10),
        ]

    pool = QueryPool(
        larger_store, size=1, timeout=30, in_memory=True, long_after=30, memory_bytes=32 * 2**20
    )
    try:
        uvloop.run(main(pool))
    finally:
        pool.close()
