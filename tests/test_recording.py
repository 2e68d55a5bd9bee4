"""A change run on a `RecordingStore` says which subjects it touched (or that it cannot say)."""

from __future__ import annotations

from collections.abc import Callable

import pyoxigraph as ox
import pytest

from creative_graph import recording
from creative_graph.recording import RecordingStore

EX = "http://example.org/"
G1, G2 = f"{EX}g1", f"{EX}g2"
P, Q = f"<{EX}p>", f"<{EX}q>"
PREFIX = f"PREFIX ex: <{EX}>\n"

DATA = f"""
<{EX}a> {P} "A" <{G1}> .
<{EX}a> {Q} <{EX}b> <{G1}> .
<{EX}b> {P} "B" <{G1}> .
<{EX}c> {P} "C" <{G2}> .
<{EX}d> {Q} <{EX}b> <{G2}> .
<{EX}e> {P} "E" .
_:x {P} "blank" <{G1}> .
"""


def store() -> ox.Store:
    fresh = ox.Store()
    fresh.load(DATA.encode(), format=ox.RdfFormat.N_QUADS)
    return fresh


def changed(before: ox.Store, after: ox.Store) -> set[str]:
    """The IRIs whose quads differ: what a change really touched."""
    old, new = set(before), set(after)
    return {q.subject.value for q in old ^ new if isinstance(q.subject, ox.NamedNode)}


def run(change: Callable[[ox.Store], object]) -> tuple[set[str] | None, set[str]]:
    """What the recording store noted, and what really changed."""
    copy = store()
    recorder = RecordingStore(copy)
    change(recorder)  # type: ignore[arg-type]
    return recorder.touched(), changed(store(), copy)


EXACT = {
    "insert data": (f'INSERT DATA {{ GRAPH <{G1}> {{ <{EX}n> {P} "N" }} }}', {f"{EX}n"}),
    "delete data, prefixed": (
        f"{PREFIX}DELETE DATA {{ GRAPH <{G1}> {{ ex:a ex:p 'A' }} }}",
        {f"{EX}a"},
    ),
    "both, with words in strings and comments": (
        f"{PREFIX}# DELETE WHERE {{ ?s ?p ?o }}\n"
        f"INSERT DATA {{ ex:n ex:p 'DELETE DATA {{' }} ;\n"
        f'DELETE DATA {{ GRAPH <{G2}> {{ ex:c ex:p "C" }} }}',
        {f"{EX}n", f"{EX}c"},
    ),
    "a fixed subject": (
        f"{PREFIX}DELETE {{ GRAPH ?g {{ ex:a ex:p ?o }} }} WHERE {{ GRAPH ?g {{ ex:a ex:p ?o }} }}",
        {f"{EX}a"},
    ),
    # matches compared before and after: only the subjects whose quads changed
    "a variable subject, a fixed predicate": (
        f"{PREFIX}DELETE {{ GRAPH ?g {{ ?s ex:p 'B' }} }} INSERT {{ GRAPH ?g {{ ?s ex:p 'B2' }} }} "
        f"WHERE {{ GRAPH ?g {{ ?s ex:p 'B' }} }}",
        {f"{EX}b"},
    ),
    "a variable subject, a fixed object": (
        f"{PREFIX}DELETE WHERE {{ GRAPH <{G2}> {{ ?s ?p ex:b }} }}",
        {f"{EX}d"},
    ),
    "WITH a graph": (
        f"{PREFIX}WITH <{G1}> DELETE {{ ?s ?p ?o }} WHERE {{ ?s ?p ?o FILTER (?o = 'A') }}",
        {f"{EX}a"},
    ),
    "the default graph": (f"{PREFIX}DELETE WHERE {{ ?s ex:p 'E' }}", {f"{EX}e"}),
    "CLEAR GRAPH": (f"CLEAR GRAPH <{G2}>", {f"{EX}c", f"{EX}d"}),
    "COPY": (f"COPY <{G2}> TO <{G1}>", {f"{EX}a", f"{EX}b", f"{EX}c", f"{EX}d"}),
}


@pytest.mark.parametrize(("update", "expected"), EXACT.values(), ids=EXACT.keys())
def test_an_update_names_the_subjects_it_touches(update: str, expected: set[str]) -> None:
    touched, really = run(lambda copy: copy.update(update))
    assert really == expected  # the update did change something
    assert touched == expected


def test_a_large_data_update_is_read_by_pyoxigraph() -> None:
    lines = " ".join(f'<{EX}s{i}> {P} "{i}" .' for i in range(2000))
    update = f"INSERT DATA {{ GRAPH <{G1}> {{ {lines} }} }} ; DELETE DATA {{ <{EX}e> {P} 'E' }}"
    assert len(update) > recording.READ_LIMIT
    touched, really = run(lambda copy: copy.update(update))
    assert touched == really == {f"{EX}s{i}" for i in range(2000)} | {f"{EX}e"}


UNKNOWN = {
    "CLEAR ALL": "CLEAR ALL",
    "DROP NAMED": "DROP NAMED",
    "nothing fixed": "DELETE WHERE { GRAPH ?g { ?s ?p ?o } }",
    "too large to read": f"{PREFIX}DELETE WHERE {{ ?s ex:p 'E' }} # {'x' * recording.READ_LIMIT}",
}


@pytest.mark.parametrize("update", UNKNOWN.values(), ids=UNKNOWN.keys())
def test_an_update_that_cannot_say_is_unknown(update: str) -> None:
    touched, really = run(lambda copy: copy.update(update))
    assert really  # it did change something, and says it cannot say what
    assert touched is None


def test_too_many_matches_to_compare_is_unknown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(recording, "MATCH_LIMIT", 1)
    update = f"{PREFIX}DELETE WHERE {{ GRAPH ?g {{ ?s ex:q ex:b }} }}"  # two matches
    assert run(lambda copy: copy.update(update))[0] is None


def test_graph_store_changes_name_their_subjects() -> None:
    g1, g3 = ox.NamedNode(G1), ox.NamedNode(f"{EX}g3")

    def put(copy: ox.Store) -> None:  # as a Graph Store PUT: the graph's old and new subjects
        copy.clear_graph(g1)
        new = [(ox.NamedNode(f"{EX}n"), ox.NamedNode(P[1:-1]), ox.Literal("N"))]
        copy.extend(ox.Quad(s, p, o, g1) for s, p, o in new)  # a generator, read once

    touched, really = run(put)
    assert touched == really == {f"{EX}a", f"{EX}b", f"{EX}n"}
    assert run(lambda copy: copy.remove_graph(g1))[0] == {f"{EX}a", f"{EX}b"}
    assert run(lambda copy: copy.add_graph(g3))[0] == set()
    quad = ox.Quad(ox.NamedNode(f"{EX}c"), ox.NamedNode(P[1:-1]), ox.Literal("C"), ox.NamedNode(G2))
    assert run(lambda copy: copy.remove(quad))[0] == {f"{EX}c"}
    # a way to change the store that says nothing of what it changed
    load = f'<{EX}z> {P} "Z" .'.encode()
    assert run(lambda copy: copy.load(load, format=ox.RdfFormat.N_TRIPLES))[0] is None
    # reading is not changing
    assert run(lambda copy: list(copy.quads_for_pattern(None, None, None)))[0] == set()
