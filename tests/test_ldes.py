"""The change stream's log: versions follow published snapshots, all or nothing, in time order."""

from __future__ import annotations

from pathlib import Path

import pytest

from creative_graph import ldes
from creative_graph.ldes import ChangeLog
from creative_graph.store import StoreReader, StoreWriter

BASE = "http://test.example/"
GRAPH = BASE + "graph/g"
ORG = "<http://www.w3.org/ns/org#Organization>"
TYPE = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
LABEL = "<http://www.w3.org/2004/02/skos/core#prefLabel>"


def actor(key: str, name: str) -> set[str]:
    iri = f"<{BASE}id/actor/{key}>"
    return {f"{iri} {TYPE} {ORG}", f'{iri} {LABEL} "{name}"@en'}  # canonical lines


def publish(store: Path, *actors: set[str]) -> str:
    with StoreWriter(store) as writer:
        writer.replace_graph(GRAPH, set().union(*actors))
        return writer.publish()


def kinds(log: ChangeLog) -> list[tuple[str, str]]:
    return [(m.kind, m.actor.rsplit("/", 1)[1]) for m in log.members(1, 10_000)]


def test_versions_follow_snapshots_once_each(tmp_path: Path) -> None:
    store, log = tmp_path / "store", ChangeLog(tmp_path / "store")
    publish(store, actor("a", "A"), actor("b", "B"))
    assert log.sync_latest(StoreReader(store), BASE).created == 2
    assert log.sync_latest(StoreReader(store), BASE).appended == 0  # same snapshot
    # two publishes without a sync in between (a crash, say): the next sync makes up for them
    publish(store, actor("a", "A renamed"), actor("b", "B"))
    publish(store, actor("a", "A renamed"))
    result = log.sync_latest(StoreReader(store), BASE)
    assert (result.created, result.updated, result.deleted) == (0, 1, 1)
    publish(store, actor("a", "A renamed"), actor("b", "B is back"))
    log.sync_latest(StoreReader(store), BASE)
    assert kinds(log) == [
        ("Create", "a"), ("Create", "b"), ("Update", "a"), ("Delete", "b"), ("Create", "b"),
    ]  # fmt: skip
    (update,) = [m for m in log.members(1, 10) if m.kind == "Update"]
    assert f'<{BASE}id/actor/a> {LABEL} "A renamed"@en .' in update.lines
    (delete,) = [m for m in log.members(1, 10) if m.kind == "Delete"]
    assert delete.lines == ()


def test_a_failed_sync_appends_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store, log = tmp_path / "store", ChangeLog(tmp_path / "store")
    publish(store, actor("a", "A"))
    log.sync_latest(StoreReader(store), BASE)
    publish(store, actor("a", "A2"), actor("b", "B"))
    real = ldes._descriptions

    def broken(reader, base):  # type: ignore[no-untyped-def]
        yield next(real(reader, base))
        raise OSError("disk full")

    monkeypatch.setattr(ldes, "_descriptions", broken)
    with pytest.raises(OSError):
        log.sync_latest(StoreReader(store), BASE)
    assert kinds(log) == [("Create", "a")]
    monkeypatch.setattr(ldes, "_descriptions", real)
    log.sync_latest(StoreReader(store), BASE)
    assert kinds(log) == [("Create", "a"), ("Update", "a"), ("Create", "b")]


def test_timestamps_never_go_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store, log = tmp_path / "store", ChangeLog(tmp_path / "store")
    publish(store, actor("a", "A"))
    log.sync_latest(StoreReader(store), BASE)
    first = log.members(1, 1)[0].time
    monkeypatch.setattr(ldes, "_now", lambda: "2001-01-01T00:00:00.000000Z")  # clock set back
    publish(store, actor("a", "A2"))
    log.sync_latest(StoreReader(store), BASE)
    assert log.members(2, 2)[0].time == first
