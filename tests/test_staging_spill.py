"""The staged triples handed to the load: the spilled batches, unless the store was rewritten."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox

from ingest.staging import BATCH, SPILL_DIR, Staging, iri, literal

EX = "http://example.org/id/"


def staged(spill_dir: Path, count: int) -> Staging:
    token = SPILL_DIR.set(spill_dir)
    try:
        staging = Staging()
    finally:
        SPILL_DIR.reset(token)
    for i in range(count):
        staging.add(iri(f"{EX}{i}"), iri("http://schema.org/name"), literal(f"n {i}", "fr"))
    return staging


def triples(ntriples: bytes) -> set[ox.Quad]:
    store = ox.Store()
    store.load(ntriples, format=ox.RdfFormat.N_TRIPLES)
    return set(store)


def test_unrewritten_triples_are_handed_over_from_the_spill(tmp_path: Path) -> None:
    staging = staged(tmp_path, BATCH + 10)  # more than one batch
    expected = triples(staging.ntriples())
    handed = staging.handover(tmp_path / "dump.nt")
    assert triples(handed.read()) == expected
    assert not (tmp_path / "dump.nt").exists()  # no dump was needed
    assert list(tmp_path.iterdir()) == []  # the spill has no name: a killed run leaves nothing


def test_a_rewritten_store_is_dumped_instead(tmp_path: Path) -> None:
    staging = staged(tmp_path, 20)
    staging.update(f"DELETE WHERE {{ <{EX}3> ?p ?o }}")
    handed = staging.handover(tmp_path / "dump.nt")
    loaded = triples(handed.read())
    assert len(loaded) == 19
    assert not any(quad.subject == ox.NamedNode(f"{EX}3") for quad in loaded)
    assert list(tmp_path.iterdir()) == []  # the dump is only open, not left behind


def test_temporary_additions_do_not_count_as_rewriting(tmp_path: Path) -> None:
    staging = staged(tmp_path, 5)
    added = staging.add_temporarily(
        [ox.Triple(ox.NamedNode(f"{EX}x"), ox.NamedNode("http://example.org/p"), ox.Literal("1"))]
    )
    staging.remove(added)
    assert len(triples(staging.handover(tmp_path / "dump.nt").read())) == 5
    assert not (tmp_path / "dump.nt").exists()
