"""The worker pool on the event loop (`QueryPool.arun`): the same guarantees as from threads.

Real worker processes on a small published store, under uvloop as the server runs them.
"""

from __future__ import annotations

import asyncio
import json
import threading
from pathlib import Path

import pytest
import uvloop

from creative_graph.store import QueryOutput, StoreWriter
from endpoint.workers import QueryPool, QueryTimeout, ServerBusy

pytestmark = pytest.mark.e2e
SMALL = 200  # triples: a three-way cross product of them never ends within the tests
ENDLESS = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"


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


def test_requests_wait_their_turn_then_get_503(store: Path) -> None:
    """One worker: waiting requests are served first come, first served; one that cannot get
    a worker within `wait` is refused, and the worker still serves whoever comes next."""

    async def main(pool: QueryPool) -> None:
        finished: list[str] = []

        async def run(label: str) -> None:
            await pool.arun(_count(label))
            finished.append(label)

        await asyncio.gather(*(run(f"r{i}") for i in range(6)))
        assert finished == [f"r{i}" for i in range(6)]
        endless = asyncio.ensure_future(pool.arun(_request(ENDLESS)))
        await asyncio.sleep(0.2)  # it holds the only worker
        with pytest.raises(ServerBusy):
            await pool.arun(_count("refused"))
        with pytest.raises(QueryTimeout):
            await endless
        assert _answer(await pool.arun(_count("after")))[1] == f"after,{SMALL}"

    pool = QueryPool(store, size=1, timeout=2, wait=0.5)
    try:
        uvloop.run(main(pool))
    finally:
        pool.close()


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
