"""The project's shapes: what a steward is told about broken and incomplete data."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import Graph

HERE = Path(__file__).parent
VALID = (HERE / "data" / "valid-actor.ttl").read_text(encoding="utf-8")
ACTOR = "http://test.example/id/actor-1"
GEOMETRY = "http://test.example/id/geometry-1"


def variant(old: str, new: str) -> Graph:
    assert old in VALID, old
    return Graph().parse(data=VALID.replace(old, new), format="turtle")


def test_valid_actor_conforms_without_any_result(validator) -> None:
    report = validator.validate(Graph().parse(data=VALID, format="turtle"))
    assert report.conforms
    assert report.results == ()


BROKEN = {
    "no name": ('skos:prefLabel "Théâtre de Poche"@fr , "Theater de Poche"@nl ;', "", ACTOR, "skos:prefLabel", "needs a name"),
    "name without language": ('"Theater de Poche"@nl', '"Theater de Poche"', ACTOR, "skos:prefLabel", "language tag"),
    "name in unexpected language": ('"Theater de Poche"@nl', '"Theater de Poche"@xx', ACTOR, "skos:prefLabel", "must be tagged"),
    "two names in one language": ('"Theater de Poche"@nl', '"Theater de Poche"@fr', ACTOR, "skos:prefLabel", "one name"),
    "no type": ("org:classification at:theatre ;", "", ACTOR, "org:classification", "needs a type"),
    "type outside the scheme": ("at:theatre", "<http://example.org/theatre>", ACTOR, "org:classification", "concept of"),
    "type that is a literal": ("at:theatre", '"theatre"', ACTOR, "org:classification", "concept of"),
    "malformed WKT": ('"POINT(4.371463 50.812219)"', '"POINT(4.371463, 50.812219)"', GEOMETRY, "geo:asWKT", "WKT point"),
    "longitude out of range": ('"POINT(4.371463 50.812219)"', '"POINT(204.37 50.81)"', GEOMETRY, "geo:asWKT", "longitude in [-180, 180]"),
    "latitude out of range": ('"POINT(4.371463 50.812219)"', '"POINT(4.37 95.81)"', GEOMETRY, "geo:asWKT", "latitude in [-90, 90]"),
    "WKT as plain string": ('"POINT(4.371463 50.812219)"^^geo:wktLiteral', '"POINT(4.371463 50.812219)"', GEOMETRY, "geo:asWKT", "geo:wktLiteral"),
    "municipality not a REFNIS IRI": ("<http://vocab.belgif.be/auth/refnis2025/21009>", "<http://example.org/ixelles>", "http://test.example/id/address-1", "cv:adminUnit", "REFNIS"),
}  # fmt: skip


@pytest.mark.parametrize("case", BROKEN, ids=list(BROKEN))
def test_broken_data_is_a_violation_on_the_right_node_and_path(validator, case: str) -> None:
    old, new, focus, path, message = BROKEN[case]
    report = validator.validate(variant(old, new))
    assert not report.conforms
    assert any(
        r.focus_node == focus and r.path == path and message in r.message for r in report.violations
    ), [(r.focus_node, r.path, r.message) for r in report.results]


def test_actor_without_site_only_warns(validator) -> None:
    report = validator.validate(variant("org:hasPrimarySite ex:site-1 .", "."))
    assert report.conforms
    assert [(r.focus_node, r.path, r.severity) for r in report.results] == [
        (ACTOR, "org:hasPrimarySite|org:hasSite", "Warning")
    ]


def test_unknown_municipality_only_warns(validator) -> None:
    graph = variant("cv:adminUnit <http://vocab.belgif.be/auth/refnis2025/21009> ;", "")
    report = validator.validate(graph)
    assert report.conforms
    assert {r.path for r in report.warnings} == {"cv:adminUnit"}


def test_every_constraint_has_a_plain_words_message(validator) -> None:
    from rdflib import URIRef
    from rdflib.namespace import SH

    shapes = validator.shapes
    # value-set and helper node shapes report through the property shape that uses them
    helpers = {
        s
        for s in shapes.subjects(SH.property, None)
        if str(s).endswith(("Scheme", "ChecksummedFile"))
    }
    # anonymous node shapes (inside sh:or/sh:not) report through the named shape around them
    checked = [
        (node, prop)
        for node, prop in shapes.subject_objects(SH.property)
        if isinstance(node, URIRef) and node not in helpers
    ]
    assert len(checked) >= 90
    assert [str(prop) for node, prop in checked if shapes.value(prop, SH.message) is None] == []


SHAPES_PREFIXES = """@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix ex: <https://example.org/> .
"""


@pytest.mark.parametrize(
    ("shapes", "expected"),
    [
        # a predicate with sh:class, directly or through sh:node / sh:or
        ("ex:S sh:property [ sh:path ex:p ; sh:class ex:C ] .", {"p"}),
        (
            "ex:S sh:property [ sh:path ex:p ; sh:node ex:T ] . "
            "ex:T sh:or ( [ sh:class ex:C ] [ sh:class ex:D ] ) .",
            {"p"},
        ),
        (
            "ex:S sh:property [ sh:path [ sh:alternativePath ( ex:p ex:q ) ] ; sh:class ex:C ] .",
            {"p", "q"},
        ),
        # a predicate whose values are only counted is not looked at
        ("ex:S sh:property [ sh:path ex:p ; sh:minCount 1 ] .", set()),
        # paths through other nodes, or SPARQL that reads types: every object may matter
        ("ex:S sh:property [ sh:path ( ex:p ex:q ) ; sh:class ex:C ] .", None),
        ("ex:S sh:property [ sh:path [ sh:inversePath ex:p ] ; sh:class ex:C ] .", None),
        ('ex:S sh:sparql [ sh:select "SELECT $this WHERE { $this ex:p ?o . ?o a ex:C }" ] .', None),
    ],
)
def test_class_checked_predicates(shapes: str, expected: set[str] | None) -> None:
    from creative_graph.validation import class_checked_predicates

    found = class_checked_predicates(Graph().parse(data=SHAPES_PREFIXES + shapes, format="turtle"))
    if expected is None:
        assert found is None
    else:
        assert found == {f"https://example.org/{name}" for name in expected}
