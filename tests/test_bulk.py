"""Bulk loads in pieces (`creative_graph.bulk`): every triple arrives, whatever the cuts."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest

from creative_graph.bulk import load_ntriples_in_pieces
from creative_graph.store import StoreWriter

GRAPH = ox.NamedNode("http://example.org/graph/g")


def ntriples(count: int) -> bytes:
    lines = (
        f'<http://example.org/id/{i}> <http://schema.org/name> "name {i} \\u00e9\\n{"x" * (i % 50)}"@fr .\n'
        for i in range(count)
    )
    return "".join(lines).encode()


@pytest.mark.parametrize("piece_bytes", [1, 100, 4096, 1 << 20])
def test_every_triple_is_loaded_whatever_the_size_of_the_pieces(
    tmp_path: Path, piece_bytes: int
) -> None:
    data = ntriples(300 if piece_bytes == 1 else 3000)
    path = tmp_path / "in.nt"
    path.write_bytes(data)
    store = ox.Store(str(tmp_path / "store"))
    load_ntriples_in_pieces(store, path.open("rb"), GRAPH, piece_bytes=piece_bytes)
    expected = ox.Store()
    expected.load(data, format=ox.RdfFormat.N_TRIPLES, to_graph=GRAPH)
    assert set(store) == set(expected)


def test_a_last_line_without_line_break_is_loaded(tmp_path: Path) -> None:
    path = tmp_path / "in.nt"
    path.write_bytes(ntriples(10).rstrip(b"\n"))
    store = ox.Store(str(tmp_path / "store"))
    load_ntriples_in_pieces(store, path.open("rb"), GRAPH, piece_bytes=64)
    assert len(store) == 10


def test_a_broken_piece_stops_the_load_with_the_parser_error(tmp_path: Path) -> None:
    path = tmp_path / "in.nt"
    path.write_bytes(ntriples(2000) + b"<http://example.org/id/x> <p> oops .\n" + ntriples(2000))
    store = ox.Store(str(tmp_path / "store"))
    with pytest.raises(SyntaxError):
        load_ntriples_in_pieces(store, path.open("rb"), GRAPH, piece_bytes=4096)


def test_a_new_graph_from_pieces_is_all_or_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A load that fails half-way leaves the store as it was: the pieces went into a copy."""
    monkeypatch.setattr("creative_graph.bulk.PIECE_BYTES", 4096)  # the error is in a late piece
    good, bad = tmp_path / "good.nt", tmp_path / "bad.nt"
    good.write_bytes(ntriples(50))
    bad.write_bytes(ntriples(5000) + b"<http://example.org/id/x> <p> oops .\n")
    run = {
        "http://example.org/graph/runs": {'<http://example.org/id/run> <http://example.org/p> "1"'}
    }
    with StoreWriter(tmp_path / "store") as writer:
        good_file, bad_file = good.open("rb"), bad.open("rb")
        writer.load_new_graph("http://example.org/graph/a", good_file, also=run)
        with pytest.raises(SyntaxError):
            writer.load_new_graph("http://example.org/graph/b", bad_file)
        assert writer.named_graphs() == [
            "http://example.org/graph/a",
            "http://example.org/graph/runs",
        ]
        assert len(writer.graph_lines("http://example.org/graph/a")) == 50
    assert good_file.closed and bad_file.closed  # either way


def test_a_new_graph_is_not_adopted_when_the_last_check_before_adopting_fails(
    tmp_path: Path,
) -> None:
    """The ingest writes its key registry beside the load: if that fails, nothing is loaded."""
    path = tmp_path / "in.nt"
    path.write_bytes(ntriples(100))

    def registry_failed() -> None:
        raise OSError("disk full")

    with StoreWriter(tmp_path / "store") as writer:
        with pytest.raises(OSError, match="disk full"):
            writer.load_new_graph(
                "http://example.org/graph/a", path.open("rb"), before_adopting=registry_failed
            )
        assert writer.named_graphs() == []
        writer.load_new_graph("http://example.org/graph/a", path.open("rb"), before_adopting=list)
        assert len(writer.graph_lines("http://example.org/graph/a")) == 100
    assert [p.name for p in (tmp_path / "store").glob("primary*")] == [
        (tmp_path / "store" / "PRIMARY").read_text().strip()
    ]


def _table_files(store: Path) -> int:
    published = store / "published" / (store / "PUBLISHED").read_text().strip()
    return len(list(published.glob("*.sst")))


def test_compacting_publishes_the_same_triples_in_fewer_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A load in pieces leaves many overlapping files; compacting sorts them into few, which
    every later reader (queries, dumps, the change stream) scans instead."""
    monkeypatch.setattr("creative_graph.bulk.PIECE_BYTES", 4096)  # ~40 pieces
    path = tmp_path / "in.nt"
    path.write_bytes(ntriples(3000))
    store = tmp_path / "store"
    with StoreWriter(store) as writer:
        writer.load_new_graph(GRAPH.value, path.open("rb"))
        loaded = writer.publish()
    before = _table_files(store)
    with StoreWriter(store) as writer:
        compacted = writer.compact()
    assert compacted != loaded
    assert (store / "PUBLISHED").read_text().strip() == compacted
    # laid out as the same triples loaded at once and fully compacted: about one file per
    # table, give or take the one a flush may add (RocksDB's background compaction, stopped
    # when a writer closes, leaves about twice as many)
    reference = ox.Store(str(tmp_path / "reference"))
    reference.bulk_load(path.read_bytes(), format=ox.RdfFormat.N_TRIPLES, to_graph=GRAPH)
    reference.optimize()
    reference.flush()
    one_per_table = len(list((tmp_path / "reference").glob("*.sst")))
    assert _table_files(store) <= one_per_table + 1 < before
    snapshot = ox.Store.read_only(str(store / "published" / compacted))
    assert set(snapshot) == set(reference)
