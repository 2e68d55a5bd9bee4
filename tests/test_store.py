"""The store access layer: atomic graph replacement, publishing, thread-safe reads."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pyoxigraph as ox
import pytest

from creative_graph.store import (
    QueryOutput,
    ResultTooLarge,
    StoreError,
    StoreReader,
    StoreWriter,
    canonical_lines,
)

G = "http://example.org/graph/a"


def triples(n: int, tag: str = "") -> bytes:
    return "".join(
        f'<http://example.org/s{i}> <http://example.org/p> "{tag}{i}" .\n' for i in range(n)
    ).encode()


def count(reader: StoreReader, graph: str = G) -> int:
    rows = reader.select(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}")
    return int(rows[0]["n"])


def load(writer: StoreWriter, data: bytes, **also: set[str]) -> tuple[int, int]:
    return writer.replace_graph(G, canonical_lines(data), also=also or None)


def test_reader_sees_nothing_until_published(tmp_path: Path) -> None:
    reader = StoreReader(tmp_path / "store")
    assert reader.snapshot.name is None
    with StoreWriter(tmp_path / "store") as writer:
        load(writer, triples(5))
        assert count(reader) == 0  # written to the primary, not yet published
        name = writer.publish()
    assert reader.snapshot.name == name
    assert count(reader) == 5


def test_replace_graph_writes_only_the_difference_with_its_companions(tmp_path: Path) -> None:
    reader = StoreReader(tmp_path / "store")
    runs = "http://x/runs"
    record = canonical_lines(b"<http://x/r> <http://x/p> <http://x/Run> .\n")
    with StoreWriter(tmp_path / "store") as writer:
        assert load(writer, triples(5, "old")) == (5, 0)
        assert writer.replace_graph(G, canonical_lines(triples(3, "new")), also={runs: record}) == (
            3,
            5,
        )
        assert load(writer, triples(3, "new")) == (0, 0)  # unchanged: nothing written
        writer.publish()
        assert writer.graph_lines(G) == canonical_lines(triples(3, "new"))
    assert count(reader) == 3
    assert count(reader, runs) == 1


def staged(data: bytes) -> ox.Store:
    """Triples in the default graph of an in-memory store, as a run stages them."""
    store = ox.Store()
    store.load(data, format=ox.RdfFormat.N_TRIPLES)
    return store


def test_replace_graph_with_staged_triples_writes_only_the_difference(tmp_path: Path) -> None:
    """The same answers as `replace_graph` with lines: the staged store is compared in place."""
    typed = b'<http://example.org/s> <http://example.org/amount> "12500.00"^^<http://www.w3.org/2001/XMLSchema#decimal> .\n'
    with StoreWriter(tmp_path / "store") as writer:
        assert writer.replace_graph_with(G, staged(triples(5, "old") + typed)) == (6, 0)
        assert writer.replace_graph_with(G, staged(triples(5, "old") + typed)) == (0, 0)
        changed = triples(3, "old") + triples(2, "new") + typed
        assert writer.replace_graph_with(G, staged(changed)) == (2, 2)
        assert writer.graph_lines(G) == canonical_lines(changed)
        assert load(writer, changed) == (0, 0)  # both ways agree on what the graph holds
        more = changed + triples(2, "more")
        assert writer.replace_graph_with(G, staged(more)) == (2, 0)  # additions only
        assert writer.replace_graph_with(G, staged(triples(3, "old"))) == (0, 5)  # removals only
        assert writer.graph_lines(G) == canonical_lines(triples(3, "old"))


def test_malformed_data_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    with StoreWriter(tmp_path / "store") as writer:
        load(writer, triples(4))
        broken = triples(10) + b"<http://example.org/s> <http://example.org/p> .\n"
        with pytest.raises(SyntaxError):
            load(writer, broken)
        assert len(writer.graph_lines(G)) == 4


def test_second_writer_is_refused_with_a_clear_error(tmp_path: Path) -> None:
    with StoreWriter(tmp_path / "store"), pytest.raises(StoreError, match="another process"):
        StoreWriter(tmp_path / "store")


def test_publish_keeps_only_the_newest_snapshots(tmp_path: Path) -> None:
    with StoreWriter(tmp_path / "store", snapshots_kept=2) as writer:
        names = [writer.publish() for _ in range(4)]
    kept = sorted(p.name for p in (tmp_path / "store" / "published").iterdir())
    assert kept == names[-2:]


def test_query_formats_and_kinds(tmp_path: Path) -> None:
    with StoreWriter(tmp_path / "store") as writer:
        load(writer, triples(2))
        writer.publish()
    reader = StoreReader(tmp_path / "store")
    select = reader.query(
        "SELECT ?o WHERE { ?s ?p ?o }", results_format=ox.QueryResultsFormat.JSON, graph_format=None
    )
    assert isinstance(select, QueryOutput) and select.kind == "solutions"
    assert len(json.loads(select.body)["results"]["bindings"]) == 2  # union default graph
    ask = reader.query(
        "ASK { ?s ?p ?o }", results_format=ox.QueryResultsFormat.JSON, graph_format=None
    )
    assert isinstance(ask, QueryOutput) and json.loads(ask.body)["boolean"] is True
    graph = reader.query("CONSTRUCT WHERE { ?s ?p ?o }", results_format=None, graph_format=None)
    assert graph == "graph"  # no format for this kind: nothing serialised, caller answers 406
    only_default = reader.query(
        "ASK { ?s ?p ?o }",
        results_format=ox.QueryResultsFormat.JSON,
        graph_format=None,
        default_graphs=["http://example.org/graph/empty"],
    )
    assert (
        isinstance(only_default, QueryOutput) and json.loads(only_default.body)["boolean"] is False
    )
    with pytest.raises(SyntaxError, match="1:"):
        reader.query("SELECT WHERE {", results_format=ox.QueryResultsFormat.JSON, graph_format=None)


def test_concurrent_queries_from_many_threads_are_correct(tmp_path: Path) -> None:
    """pyoxigraph results are thread-bound: results must be serialised in the querying call."""
    with StoreWriter(tmp_path / "store") as writer:
        load(writer, triples(500))
        writer.publish()
    reader = StoreReader(tmp_path / "store")
    barrier = threading.Barrier(32)

    def work(i: int) -> int:
        barrier.wait()
        if i % 2:
            return count(reader)
        out = reader.query(
            "CONSTRUCT WHERE { ?s ?p ?o }", results_format=None, graph_format=ox.RdfFormat.N_TRIPLES
        )
        assert isinstance(out, QueryOutput)
        return len(out.body.splitlines())

    with ThreadPoolExecutor(max_workers=32) as pool:
        assert list(pool.map(work, range(64))) == [500] * 64


def test_reader_switches_snapshots_while_in_use(tmp_path: Path) -> None:
    reader = StoreReader(tmp_path / "store")
    with StoreWriter(tmp_path / "store") as writer:
        for n in (1, 2, 3):
            load(writer, triples(n))
            writer.publish()
            assert count(reader) == n


def test_an_adopted_trial_becomes_the_primary_and_a_dropped_one_leaves_no_trace(
    tmp_path: Path,
) -> None:
    reader = StoreReader(tmp_path / "store")
    with StoreWriter(tmp_path / "store") as writer:
        load(writer, triples(3))
        with writer.trial() as copy:
            copy.update(
                f'INSERT DATA {{ GRAPH <{G}> {{ <http://example.org/x> <http://example.org/p> "x" }} }}'
            )
        assert writer.graph_lines(G) == canonical_lines(triples(3))  # primary untouched
        assert [p.name for p in (tmp_path / "store").glob("primary*")] == ["primary"]
        with writer.trial() as copy:
            copy.update(f"CLEAR GRAPH <{G}>")
            writer.adopt(copy)
        del copy  # a store stays open while anything refers to it
        assert writer.graph_lines(G) == set()
        writer.publish()
    assert count(reader) == 0
    # the next writer opens the adopted copy, named by PRIMARY, and nothing else is left
    with StoreWriter(tmp_path / "store") as writer:
        assert writer.graph_lines(G) == set()
    (adopted,) = (tmp_path / "store").glob("primary*")
    assert adopted.name == (tmp_path / "store" / "PRIMARY").read_text().strip()
    assert adopted.name.startswith("primary-")


def test_a_trial_left_by_a_killed_writer_is_removed_by_the_next(tmp_path: Path) -> None:
    with StoreWriter(tmp_path / "store") as writer:
        load(writer, triples(2))
    (tmp_path / "store" / "primary-000007").mkdir()  # what a killed write leaves behind
    with StoreWriter(tmp_path / "store") as writer:
        assert writer.graph_lines(G) == canonical_lines(triples(2))
    assert not (tmp_path / "store" / "primary-000007").exists()


def test_adopt_takes_only_this_writers_trial(tmp_path: Path) -> None:
    with StoreWriter(tmp_path / "store") as writer, pytest.raises(ValueError, match="trial"):
        writer.adopt(ox.Store())


TRICKY = 'Text with "quotes", commas,{ braces },{"and a line\nbreak\\" and <result> too'


@pytest.mark.parametrize(
    "results_format",
    [ox.QueryResultsFormat.JSON, ox.QueryResultsFormat.XML, ox.QueryResultsFormat.CSV,
     ox.QueryResultsFormat.TSV],
    ids=["json", "xml", "csv", "tsv"],
)  # fmt: skip
def test_the_row_limit_counts_solutions_whatever_their_text(
    tmp_path: Path, results_format: ox.QueryResultsFormat
) -> None:
    """Literals holding line breaks, quotes, `,{` or `<result>` count once per solution."""
    reader = StoreReader(tmp_path / "store")
    data = "".join(
        f"<http://example.org/s{i}> <http://example.org/p> {json.dumps(TRICKY + str(i))} .\n"
        for i in range(40)
    ).encode()
    with StoreWriter(tmp_path / "store") as writer:
        load(writer, data)
        writer.publish()
    query = f"SELECT ?s ?o WHERE {{ GRAPH <{G}> {{ ?s ?p ?o }} }}"

    def run(limit: int) -> QueryOutput:
        output = reader.query(
            query, results_format=results_format, graph_format=None, max_rows=limit
        )
        assert isinstance(output, QueryOutput)
        return output

    assert run(40).body
    with pytest.raises(ResultTooLarge, match="limit of 39 rows"):
        run(39)
    with pytest.raises(ResultTooLarge, match="limit of 1 rows"):
        run(1)


def test_a_reader_in_memory_answers_like_disk_and_follows_publishes(tmp_path: Path) -> None:
    store = tmp_path / "store"
    with StoreWriter(store) as writer:
        load(writer, triples(5))
        first = writer.publish()
        disk, memory = StoreReader(store), StoreReader(store, in_memory=True)
        query = f"SELECT ?s ?o WHERE {{ GRAPH <{G}> {{ ?s ?p ?o }} }} ORDER BY ?s"
        assert memory.select(query) == disk.select(query) and len(disk.select(query)) == 5
        assert memory.memory_copy is not None and disk.memory_copy is None
        assert (memory.memory_copy.snapshot, memory.memory_copy.quads) == (first, 5)
        load(writer, triples(8))
        assert memory.is_current()  # nothing new is published yet
        second = writer.publish()
    assert not memory.is_current()
    assert count(memory) == 8 and memory.snapshot.name == second
    assert memory.memory_copy is not None and memory.memory_copy.quads == 8
    assert memory.is_current()


def test_a_snapshot_removed_before_it_was_read_gives_way_to_the_newer_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Copying takes seconds: meanwhile later publishes may remove the snapshot being read."""
    import creative_graph.store as store_module

    store = tmp_path / "store"
    writer = StoreWriter(store, snapshots_kept=2)
    load(writer, triples(3))
    writer.publish()
    copy = store_module._copy_into_memory
    calls: list[Path] = []

    def two_publishes_first(path: Path) -> tuple[ox.Store, int]:
        calls.append(path)
        if len(calls) == 1:  # the snapshot about to be read is removed by two publishes
            load(writer, triples(4))
            writer.publish()
            writer.publish()
        return copy(path)

    monkeypatch.setattr(store_module, "_copy_into_memory", two_publishes_first)
    reader = StoreReader(store, in_memory=True)
    assert count(reader) == 4
    assert not calls[0].exists() and reader.snapshot.name == calls[1].name
    writer.close()


def test_a_change_the_journal_cannot_note_is_not_made(tmp_path: Path) -> None:
    """The change stream relies on the notes: a change is noted before it is made, or not made."""
    store = tmp_path / "store"
    with StoreWriter(store) as writer:
        load(writer, triples(2))
        writer.publish()
    (store / "journal.sqlite3").unlink()
    (store / "journal.sqlite3").mkdir()  # unwritable
    with StoreWriter(store) as writer:
        with pytest.raises(StoreError, match="change journal"):
            load(writer, triples(3))
        assert len(writer.graph_lines(G)) == 2
        with pytest.raises(StoreError, match="change journal"):
            writer.publish()
    assert count(StoreReader(store)) == 2
