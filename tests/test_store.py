"""The store access layer: atomic graph replacement, publishing, thread-safe reads."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pyoxigraph as ox
import pytest

from creative_graph.store import QueryOutput, StoreError, StoreReader, StoreWriter, canonical_lines

G = "http://example.org/graph/a"


def triples(n: int, tag: str = "") -> bytes:
    return "".join(
        f'<http://example.org/s{i}> <http://example.org/p> "{tag}{i}" .\n' for i in range(n)
    ).encode()


def count(reader: StoreReader, graph: str = G) -> int:
    rows = reader.select(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}")
    return int(rows[0]["n"])


def test_reader_sees_nothing_until_published(tmp_path: Path) -> None:
    reader = StoreReader(tmp_path / "store")
    assert reader.snapshot.name is None
    with StoreWriter(tmp_path / "store") as writer:
        writer.replace_graph(G, triples(5), "k1")
        assert count(reader) == 0  # written to the primary, not yet published
        name = writer.publish()
    assert reader.snapshot.name == name
    assert count(reader) == 5


def test_replace_graph_swaps_whole_graph_and_runs_the_extra_update(tmp_path: Path) -> None:
    reader = StoreReader(tmp_path / "store")
    with StoreWriter(tmp_path / "store") as writer:
        writer.replace_graph(G, triples(5, "old"), "k1")
        writer.replace_graph(
            G,
            triples(3, "new"),
            "k2",
            also="INSERT DATA { GRAPH <http://x/runs> { <http://x/r> a <http://x/Run> } }",
        )
        writer.publish()
        assert writer.graph_lines(G) == canonical_lines(triples(3, "new"))
    assert count(reader) == 3
    assert count(reader, "http://x/runs") == 1
    assert not any(g.startswith("urn:x-creative-graph:staging") for g in _graphs(reader))


def _graphs(reader: StoreReader) -> list[str]:
    return [row["g"] for row in reader.select("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }")]


def test_failed_load_leaves_previous_graph_intact(tmp_path: Path) -> None:
    with StoreWriter(tmp_path / "store") as writer:
        writer.replace_graph(G, triples(4), "k1")
        broken = triples(10) + b"<http://example.org/s> <http://example.org/p> .\n"
        with pytest.raises(SyntaxError):
            writer.replace_graph(G, broken, "k2")
        assert len(writer.graph_lines(G)) == 4
        assert writer.drop_stale_staging() == 0  # the failed load wrote nothing at all


def test_stale_staging_graph_is_dropped_and_never_published(tmp_path: Path) -> None:
    with StoreWriter(tmp_path / "store") as writer:
        writer.update(
            "INSERT DATA { GRAPH <urn:x-creative-graph:staging:dead> { <http://a> <http://b> 1 } }"
        )
        assert writer.drop_stale_staging() == 1
        assert writer.named_graphs() == []


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
        writer.replace_graph(G, triples(2), "k")
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
        writer.replace_graph(G, triples(500), "k")
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
            writer.replace_graph(G, triples(n), f"k{n}")
            writer.publish()
            assert count(reader) == n
