"""A validated write judges only what its change can affect, with the whole store's verdict.

The same changes are applied to two copies of the demo store: one judged on the nodes each
change may affect, the other on the whole store before and after. Every verdict and every
violation named must be the same. A change to a blank node's triples is judged on the whole
store (no query can name a blank node): the recording store must tell.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pyoxigraph as ox
import pytest

from creative_graph.iris import Iris
from creative_graph.recording import RecordingStore
from creative_graph.settings import Settings
from creative_graph.sparql_validation import SparqlValidator
from creative_graph.validation import ValidationReport
from creative_graph.writes import WriteRefused, Writes

ORG = "http://www.w3.org/ns/org#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
CV = "http://data.europa.eu/m8g/"
CGSH = "https://w3id.org/creative-graph/shapes#"


class Whole:
    """The compiled validator without its focus: every write validates the whole store."""

    def __init__(self, validator: SparqlValidator) -> None:
        self.validator = validator

    def validate_store(self, store: ox.Store, union: bool = False) -> ValidationReport:
        return self.validator.validate_store(store, union=union)


class Counted(SparqlValidator):
    """Counts the validations limited to some focus nodes."""

    focused = 0

    def validate_store(self, store, union=False, focus=None):  # type: ignore[no-untyped-def]
        Counted.focused += focus is not None
        return super().validate_store(store, union=union, focus=focus)


def changes(actors: list[str], edits: str) -> list[str]:
    a, b, c, d = actors
    graph = f"GRAPH <{edits}>"
    return [
        f'INSERT DATA {{ {graph} {{ <{a}> <{SKOS}prefLabel> "A name"@en }} }}',
        f'INSERT DATA {{ {graph} {{ <{b}> <{SKOS}prefLabel> "One"@en , "Two"@en }} }}',
        f"INSERT DATA {{ {graph} {{ <{c}> <{ORG}memberOf> <{d}> }} }}",
        # d stops being an organisation: c, which the update never names, breaks
        f"DELETE WHERE {{ GRAPH ?g {{ <{d}> a <{ORG}Organization> }} }}",
        # blank nodes: no query can name them, the whole store is validated
        f"INSERT DATA {{ {graph} {{ <{a}> <{CV}contactPoint> [ a <{CV}ContactPoint> ; "
        f'<{CV}email> "not an address" ] }} }}',
        f"INSERT DATA {{ {graph} {{ <{a}> <{CV}contactPoint> [ a <{CV}ContactPoint> ; "
        f'<{CV}email> "info@example.org" ] }} }}',
        f"DELETE WHERE {{ GRAPH ?g {{ <{a}> <{ORG}classification> ?type }} }}",
        f"DELETE {{ GRAPH ?g {{ ?x <{ORG}memberOf> ?o }} }} WHERE {{ GRAPH ?g {{ ?x <{ORG}memberOf> ?o }} }}",
        f"DELETE WHERE {{ GRAPH ?g {{ <{d}> a <{ORG}Organization> }} }}",  # now nobody points to d
    ]


def verdict(writes: Writes, update: str) -> tuple[str, ...]:
    try:
        writes.apply(lambda store: store.update(update), "test write")
    except WriteRefused as refused:
        # a blank node is named differently in each store
        named = [
            (v, "_:" if v.focus_node.startswith("_:") else v.focus_node) for v in refused.violations
        ]
        return tuple(sorted(f"{node} {v.path} {v.source_shape}" for v, node in named))
    return ("accepted",)


def test_focused_and_whole_validations_give_every_write_the_same_verdict(
    demo_store: Settings, tmp_path: Path
) -> None:
    iris = Iris(demo_store.base_iri)
    shutil.copytree(demo_store.store, tmp_path / "focused")
    shutil.copytree(demo_store.store, tmp_path / "whole")
    focused = Writes(tmp_path / "focused", Counted.default(), iris)
    whole = Writes(tmp_path / "whole", Whole(SparqlValidator.default()), iris)
    reader = ox.Store.read_only(str(next((tmp_path / "whole" / "published").iterdir())))
    query = f"SELECT ?a WHERE {{ ?a a <{ORG}Organization> }} ORDER BY ?a LIMIT 4"
    actors = [row["a"].value for row in reader.query(query, use_default_graph_as_union=True)]
    del reader
    verdicts = []
    for update in changes(actors, demo_store.base_iri + "graph/edits"):
        verdicts.append(verdict(focused, update))
        assert verdicts[-1] == verdict(whole, update), update
    assert verdicts[0] == verdicts[2] == verdicts[5] == verdicts[8] == ("accepted",)
    assert verdicts[3] == (f"{actors[2]} org:memberOf {CGSH}Actor-memberOf",)
    assert verdicts[4] and verdicts[4] != ("accepted",)  # the blank contact point's e-mail
    assert Counted.focused >= 10  # the focus was used, not the whole store every time


EX = "http://example.org/"
DATA = f"""<{EX}a> <{EX}p> <{EX}b> .
GRAPH <{EX}g> {{ _:x <{EX}q> "in g" . }}
GRAPH <{EX}h> {{ <{EX}c> <{EX}q> "in h" . }}
"""


@pytest.mark.parametrize(
    ("change", "blank"),
    [
        (lambda s: s.add(ox.Quad(ox.NamedNode(EX + "a"), ox.NamedNode(EX + "p"), ox.BlankNode())), False),
        (lambda s: s.add(ox.Quad(ox.BlankNode(), ox.NamedNode(EX + "p"), ox.NamedNode(EX + "a"))), True),
        (lambda s: s.update(f'INSERT DATA {{ <{EX}a> <{EX}p> "x" }}'), False),
        (lambda s: s.update(f"INSERT DATA {{ <{EX}a> <{EX}p> [ <{EX}q> 1 ] }}"), True),
        (lambda s: s.update(f"INSERT {{ ?s <{EX}r> [] }} WHERE {{ ?s <{EX}p> ?o }}"), False),
        (lambda s: s.update(f"INSERT {{ [] <{EX}r> ?s }} WHERE {{ ?s <{EX}p> ?o }}"), True),
        (lambda s: s.update(f"DELETE WHERE {{ GRAPH ?g {{ ?s <{EX}q> ?o }} }}"), True),
        (lambda s: s.update(f"CLEAR GRAPH <{EX}g>"), True),
        (lambda s: s.clear_graph(ox.NamedNode(EX + "h")), False),
        (lambda s: s.update("CLEAR ALL"), True),  # cannot say what it touched
    ],
    ids=["iri-add", "blank-add", "data", "blank-data", "blank-object", "blank-template",
         "blank-match", "blank-graph", "iri-graph", "unknown"],
)  # fmt: skip
def test_a_recording_store_tells_when_a_blank_nodes_triples_changed(change, blank: bool) -> None:
    store = ox.Store()
    store.load(DATA.encode(), format=ox.RdfFormat.TRIG)
    recording = RecordingStore(store)
    change(recording)
    assert recording.touched_blank_node() is blank
