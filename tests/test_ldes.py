"""The change stream's log: versions follow published snapshots, all or nothing, in time order;
only the actors a publish could have changed are described."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pyoxigraph as ox
import pytest

from creative_graph import ldes
from creative_graph.descriptions import actors_query, describe_query
from creative_graph.iris import Iris
from creative_graph.ldes import ChangeLog
from creative_graph.store import QueryOutput, StoreReader, StoreWriter
from creative_graph.validation import ValidationReport
from creative_graph.writes import Writes

BASE = "http://test.example/"
GRAPH = BASE + "graph/g"
ORG = "<http://www.w3.org/ns/org#Organization>"
TYPE = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
LABEL = "<http://www.w3.org/2004/02/skos/core#prefLabel>"
NT = ox.RdfFormat.N_TRIPLES


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
    real = ldes._some

    def broken(reader, actors, base):  # type: ignore[no-untyped-def]
        yield next(real(reader, actors, base))
        raise OSError("disk full")

    monkeypatch.setattr(ldes, "_some", broken)
    with pytest.raises(OSError):
        log.sync_latest(StoreReader(store), BASE)
    assert kinds(log) == [("Create", "a")]
    monkeypatch.setattr(ldes, "_some", real)
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


# ---- only what changed is described ----------------------------------------------------------

SITE = "<http://www.w3.org/ns/org#hasSite>"
ADDRESS = "<http://www.w3.org/ns/org#siteAddress>"
STREET = "<http://www.w3.org/ns/locn#thoroughfare>"
SAME_AS = "<http://www.w3.org/2002/07/owl#sameAs>"
ALT = "http://www.w3.org/2004/02/skos/core#altLabel"
IDENTITY = BASE + "graph/identity"


def sited(key: str, name: str, street: str) -> set[str]:
    """An actor with a site and the site's address: owned nodes, under id/site/, id/address/."""
    iri, site, address = (f"<{BASE}id/{kind}/{key}>" for kind in ("actor", "site", "address"))
    return actor(key, name) | {
        f"{iri} {SITE} {site}",
        f"{site} {ADDRESS} {address}",
        f'{address} {STREET} "{street}"',
    }


def truth(store: Path) -> dict[str, set[str]]:
    """Each actor of the published snapshot with its description, by the page's own query."""
    reader = StoreReader(store)
    found = {}
    for row in reader.select(actors_query()):
        output = reader.query(
            describe_query(row["actor"], BASE), results_format=None, graph_format=NT
        )
        assert isinstance(output, QueryOutput)
        found[row["actor"]] = {f"{t} ." for t in ox.parse(output.body, NT)}
    return found


def replay(log: ChangeLog) -> dict[str, set[str]]:
    """What a consumer rebuilds from every member, in order."""
    actors: dict[str, set[str]] = {}
    for member in log.members(1, 10_000):
        if member.kind == "Delete":
            del actors[member.actor]
        else:
            assert (member.actor in actors) == (member.kind == "Update")
            actors[member.actor] = set(member.lines)
    return actors


class Conforms:
    """A validator that finds nothing: these tests are about the stream, not the shapes."""

    def validate_store(self, store: ox.Store, union: bool = False) -> ValidationReport:
        return ValidationReport(())


def write(store: Path, change: Callable[[ox.Store], object]) -> None:
    Writes(store, Conforms(), Iris(BASE)).apply(change, "a test write")


def sync(store: Path, full: bool = False) -> ldes.SyncResult:
    return ChangeLog(store).sync_latest(StoreReader(store), BASE, full=full)


def a_b_c(store: Path) -> None:
    publish(store, sited("a", "A", "Rue A"), sited("b", "B", "Rue B"), sited("c", "C", "Rue C"))


def test_a_change_describes_only_the_actors_it_concerns(tmp_path: Path) -> None:
    store, log = tmp_path / "store", ChangeLog(tmp_path / "store")
    a_b_c(store)
    first = sync(store)
    assert (first.created, first.full) == (3, True)  # nothing followed yet: every actor
    a, b, b2, c = (
        sited("a", "A renamed", "Rue A"), sited("b", "B", "Rue B"),
        sited("b", "B", "Chaussée B"), sited("c", "C", "Rue C"),
    )  # fmt: skip

    publish(store, a, b, c)
    result = sync(store)
    assert (result.updated, result.compared, result.full) == (1, 1, False)

    # an owned node two links away (the address of b's site) changes: b is updated
    publish(store, a, b2, c)
    result = sync(store)
    assert (result.updated, result.compared, result.full) == (1, 1, False)
    assert f'<{BASE}id/address/b> {STREET} "Chaussée B" .' in log.members(5, 5)[0].lines

    publish(store, a, b2)
    result = sync(store)
    assert (result.deleted, result.compared, result.full) == (1, 0, False)

    # a merge: b is found to be a; its IRI is replaced by a's (the identity graph says so)
    merged = {f"<{BASE}id/actor/b> {SAME_AS} <{BASE}id/actor/a>"}
    publish_graphs(store, {GRAPH: a | {f'<{BASE}id/actor/a> {LABEL} "B"@fr'}, IDENTITY: merged})
    result = sync(store)
    assert (result.created, result.updated, result.deleted, result.full) == (0, 1, 1, False)
    assert kinds(log) == [
        ("Create", "a"), ("Create", "b"), ("Create", "c"),
        ("Update", "a"), ("Update", "b"), ("Delete", "c"), ("Update", "a"), ("Delete", "b"),
    ]  # fmt: skip
    assert replay(log) == truth(store)


def test_writes_append_the_versions_of_what_they_touched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store, log = tmp_path / "store", ChangeLog(tmp_path / "store")
    a_b_c(store)
    sync(store)

    def everything(*args: object) -> None:
        raise AssertionError("a write compared every actor")

    monkeypatch.setattr(ldes, "describe_all", everything)
    update = f'INSERT DATA {{ GRAPH <{GRAPH}> {{ <{BASE}id/actor/b> <{ALT}> "Bee"@en }} }}'
    write(store, lambda copy: copy.update(update))  # the write syncs the stream itself
    assert kinds(log)[3:] == [("Update", "b")]

    # a template with a variable subject: its matches are compared before and after
    write(
        store,
        lambda copy: copy.update(
            f'DELETE {{ GRAPH ?g {{ ?s <{ALT}> "Bee"@en }} }} '
            f'INSERT {{ GRAPH ?g {{ ?s <{ALT}> "Bea"@en }} }} '
            f'WHERE {{ GRAPH ?g {{ ?s <{ALT}> "Bee"@en }} }}'
        ),
    )
    # Graph Store requests on a graph of edits: POST c's address, PUT a's instead, DELETE
    edits = ox.NamedNode(BASE + "graph/edits")

    def post(copy: ox.Store) -> None:
        copy.add_graph(edits)
        line = f'<{BASE}id/address/c> {STREET} "Avenue C"'
        copy.extend(ox.Quad(*_terms(line), edits) for line in [line])

    def put(copy: ox.Store) -> None:
        copy.clear_graph(edits)
        copy.extend([ox.Quad(*_terms(f'<{BASE}id/address/a> {STREET} "Avenue A"'), edits)])

    for change in (post, put, lambda copy: copy.remove_graph(edits)):
        write(store, change)
    assert kinds(log)[3:] == [
        ("Update", "b"), ("Update", "b"), ("Update", "c"), ("Update", "a"), ("Update", "c"),
        ("Update", "a"),
    ]  # fmt: skip
    assert replay(log) == truth(store)


def test_a_new_graph_is_followed_through_the_subjects_it_holds(tmp_path: Path) -> None:
    store, log = tmp_path / "store", ChangeLog(tmp_path / "store")
    a_b_c(store)
    sync(store)
    run = {f'<{BASE}id/run/1> {LABEL} "a run"'}
    with StoreWriter(store) as writer:  # a first ingest of another source: a bulk load
        triples = "".join(f"{line} .\n" for line in sited("e", "E", "Rue E"))
        ntriples = io.BytesIO(triples.encode())
        writer.load_new_graph(BASE + "graph/other", ntriples, also={BASE + "graph/runs": run})
        writer.publish()
    result = sync(store)
    assert (result.created, result.compared, result.full) == (1, 1, False)
    # a graph new to the store, holding one owned node of b's
    publish_graphs(store, {BASE + "graph/more": {f'<{BASE}id/address/b> {STREET} "Rue B bis"'}})
    result = sync(store)
    assert (result.updated, result.compared, result.full) == (1, 1, False)
    assert kinds(log)[3:] == [("Create", "e"), ("Update", "b")]
    assert replay(log) == truth(store)


def test_publishes_not_followed_by_a_sync_are_caught_up_together(tmp_path: Path) -> None:
    store, log = tmp_path / "store", ChangeLog(tmp_path / "store")
    a_b_c(store)
    sync(store)
    a, b, b2, c = (
        sited("a", "A2", "Rue A"), sited("b", "B", "Rue B"), sited("b", "B", "Rue B2"),
        sited("c", "C", "Rue C"),
    )  # fmt: skip
    # a crash after each publish: the stream is not synced until a later run
    publish(store, a, b, c)
    publish(store, a, b2, c)
    with StoreWriter(store) as writer:  # a run killed after loading, before publishing
        writer.replace_graph(GRAPH, a | b2 | sited("c", "C", "Rue C2"))
    # the next run publishes that change with its own
    publish_graphs(store, {BASE + "graph/other": {f'<{BASE}id/actor/a> {LABEL} "A"@nl'}})
    result = sync(store)
    assert (result.updated, result.deleted, result.full) == (3, 0, False)
    assert kinds(log)[3:] == [("Update", "a"), ("Update", "b"), ("Update", "c")]
    assert replay(log) == truth(store)


def test_an_unknown_change_or_a_lost_journal_compares_every_actor(tmp_path: Path) -> None:
    store, log = tmp_path / "store", ChangeLog(tmp_path / "store")
    a_b_c(store)
    sync(store)
    with StoreWriter(store) as writer:  # an update the writer cannot read
        writer.update(f'INSERT DATA {{ GRAPH <{GRAPH}> {{ <{BASE}id/actor/a> <{ALT}> "A" }} }}')
        writer.publish()
    result = sync(store)
    assert (result.updated, result.compared, result.full) == (1, 3, True)

    publish(store, sited("a", "A", "Rue A"), sited("b", "B", "Rue B"))
    (store / "journal.sqlite3").unlink()  # an older store, or notes lost
    result = sync(store)
    assert (result.updated, result.deleted, result.full) == (1, 1, True)
    assert replay(log) == truth(store)


def scenario(store: Path, lose_notes: bool) -> list[bool]:
    """Creations, changes, removals, a merge and a write, each followed by a sync; with
    `lose_notes`, the journal is deleted before each. Says which syncs compared everything."""
    a, b2, b3, c, d = (
        sited("a", "A2", "Rue A"), sited("b", "B", "Rue B2"), sited("b", "B", "Rue B3"),
        sited("c", "C", "Rue C"), sited("d", "D", "Rue D"),
    )  # fmt: skip
    merged = {f"<{BASE}id/actor/d> {SAME_AS} <{BASE}id/actor/b>"}
    update = f'INSERT DATA {{ GRAPH <{GRAPH}> {{ <{BASE}id/site/a> <{ALT}> "Site A" }} }}'
    steps: list[Callable[[], object]] = [
        lambda: a_b_c(store),
        lambda: publish(store, a, b2, c),
        lambda: [publish(store, a, b2, d), publish(store, a, b3, d)],  # two publishes, one sync
        lambda: publish_graphs(store, {IDENTITY: merged, GRAPH: a | sited("b", "B", "Rue D")}),
        lambda: write(store, lambda copy: copy.update(update)),
    ]
    paths = []
    for step in steps:
        if lose_notes:  # notes lost (or never made): comparing everything is all there is
            (store / "journal.sqlite3").unlink(missing_ok=True)
        step()
        paths.append(sync(store).full)
    return paths


def publish_graphs(store: Path, graphs: dict[str, set[str]]) -> None:
    with StoreWriter(store) as writer:
        for graph, lines in graphs.items():
            writer.replace_graph(graph, lines)
        writer.publish()


def test_comparing_every_actor_appends_what_following_the_journal_appends(
    tmp_path: Path,
) -> None:
    followed, compared = tmp_path / "followed", tmp_path / "compared"
    # the first sync has nothing to follow; a write syncs itself, so the sync after it is idle
    assert scenario(followed, lose_notes=False) == [True, False, False, False, False]
    assert scenario(compared, lose_notes=True) == [True, True, True, True, False]
    logs = [
        [(m.actor, m.kind, m.lines) for m in ChangeLog(store).members(1, 10_000)]
        for store in (followed, compared)
    ]
    assert logs[0] == logs[1]
    assert [kind for _, kind, _ in logs[0]] == [
        "Create", "Create", "Create", "Update", "Update", "Update", "Create", "Delete",
        "Update", "Delete", "Update",
    ]  # fmt: skip
    assert replay(ChangeLog(followed)) == truth(followed)


def _terms(line: str) -> tuple[ox.NamedNode, ox.NamedNode, ox.Term]:
    (quad,) = ox.parse(f"{line} .".encode(), ox.RdfFormat.N_TRIPLES)
    return quad.subject, quad.predicate, quad.object  # type: ignore[return-value]
