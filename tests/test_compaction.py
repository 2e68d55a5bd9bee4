"""Compaction after an ingest (`StoreWriter.compact`, run by `creative-graph ingest`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from creative_graph.cli import _compact
from creative_graph.settings import Settings
from creative_graph.store import StoreWriter

TRIPLE = '<http://example.org/id/a> <http://schema.org/name> "a"'


def _published(store: Path) -> str:
    return (store / "PUBLISHED").read_text().strip()


def test_compacting_after_an_ingest_publishes_the_same_triples_again(tmp_path: Path) -> None:
    store = tmp_path / "store"
    with StoreWriter(store) as writer:
        writer.replace_graph("http://example.org/graph/g", {TRIPLE})
        loaded = writer.publish()
    _compact(Settings(store=store))
    assert _published(store) != loaded
    with StoreWriter(store) as writer:
        assert writer.graph_lines("http://example.org/graph/g") == {TRIPLE}


def test_a_store_another_process_is_writing_is_left_as_published_with_a_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The data is published already: a busy store is only not compacted this time."""
    store = tmp_path / "store"
    with StoreWriter(store) as writer:
        writer.replace_graph("http://example.org/graph/g", {TRIPLE})
        loaded = writer.publish()
        _compact(Settings(store=store))  # the lock is held: as by a write over HTTP
    said = capsys.readouterr().err
    assert "Not compacted" in said and "being written by another process" in said
    assert _published(store) == loaded
