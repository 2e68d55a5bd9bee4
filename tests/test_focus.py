"""Which focus nodes a change can affect: read from the shapes, walked in real stores.

The reasoning is checked on small hand-written shapes, then against whole validations: for
random changes to the worked example, every node whose results changed must be among those
`affected` names, and validating only those gives the whole validation's results about them.
"""

from __future__ import annotations

import gc
import random
import weakref
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import Graph
from rdflib.namespace import RDFS

import ontology
import shapes
from creative_graph.focus import ALL_SEVERITIES, TYPE, Reach, affected, reach, sparql_term
from creative_graph.sparql_validation import SparqlValidator
from creative_graph.validation import FocusValidator

EX = "https://example.org/"
PREFIXES = f"""@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .
@prefix ex: <{EX}> .
"""
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
EXAMPLE = Path(__file__).resolve().parents[1] / "ontology" / "examples" / "brussels-creative.ttl"

# Y points to X with sh:class: X's type decides Y's validity.
CLASS = """ex:S sh:targetClass ex:Actor ;
    sh:property [ sh:path ex:memberOf ; sh:class ex:Org ] ."""
# Two levels of sh:node: A's validity depends on C, two hops away.
NESTED = """ex:S sh:targetClass ex:A ; sh:property [ sh:path ex:p ; sh:node ex:T ] .
ex:T sh:property [ sh:path ex:q ; sh:node ex:U ] .
ex:U sh:property [ sh:path ex:r ; sh:minCount 1 ] ."""


def shapes_of(text: str) -> Graph:
    return Graph().parse(data=PREFIXES + text, format="turtle")


def iri(name: str) -> str:
    return f"<{EX}{name}>"


def store_of(turtle: str) -> ox.Store:
    store = ox.Store()
    store.load((PREFIXES + turtle).encode(), format=ox.RdfFormat.TURTLE)
    return store


def test_a_class_check_is_read_one_step_away_then_up_the_class_hierarchy() -> None:
    found = reach(shapes_of(CLASS))
    assert found is not None and not found.backwards
    assert found.paths == {TYPE, iri("memberOf"), f"{iri('memberOf')}/{TYPE}"}
    assert found.depth == 2


def test_the_depth_is_how_deep_node_shapes_nest() -> None:
    found = reach(shapes_of(NESTED))
    assert found is not None
    assert found.paths == {TYPE, iri("p"), f"{iri('p')}/{iri('q')}"}
    assert found.depth == 2
    deeper = NESTED.replace("sh:minCount 1", "sh:class ex:C")
    assert reach(shapes_of(deeper)).depth == 4  # ex:p / ex:q / ex:r / the type's classes


def test_removing_a_type_makes_the_nodes_pointing_to_it_affected() -> None:
    data = "ex:y a ex:Actor ; ex:memberOf ex:x . ex:z a ex:Actor . ex:x a ex:Org ."
    store = store_of(data)
    validator = SparqlValidator(shapes_of(CLASS), Graph())
    assert validator.validate_store(store).conforms
    store.remove(ox.Quad(ox.NamedNode(EX + "x"), RDF_TYPE, ox.NamedNode(EX + "Org")))
    focus = validator.affected(store, [EX + "x"])
    assert focus == {EX + "x", EX + "y"}  # not ex:z, which points nowhere
    restricted = validator.validate_store(store, focus=focus)
    assert [r.focus_node for r in restricted.violations] == [EX + "y"]
    assert restricted == validator.validate_store(store)


def test_a_change_two_node_shapes_down_reaches_back_to_the_focus_node() -> None:
    data = "ex:a a ex:A ; ex:p ex:b . ex:b ex:q ex:c . ex:c ex:r 1 . ex:other a ex:A ."
    store = store_of(data)
    validator = SparqlValidator(shapes_of(NESTED), Graph())
    assert validator.validate_store(store).conforms
    store.update(f"DELETE DATA {{ <{EX}c> <{EX}r> 1 }}")
    focus = validator.affected(store, [EX + "c"])
    assert focus == {EX + "a", EX + "c"}  # ex:b is no focus node: it is checked only from ex:a
    report = validator.validate_store(store, focus=focus)
    assert [r.focus_node for r in report.violations] == [EX + "a"]
    assert report == validator.validate_store(store)


def test_a_subclass_axiom_reaches_the_instances_of_the_subclass() -> None:
    data = "ex:y a ex:Actor ; ex:memberOf ex:x . ex:x a ex:Venue . ex:Venue a ex:Class ."
    store = store_of(data)
    validator = SparqlValidator(shapes_of(CLASS), Graph())
    assert not validator.validate_store(store).conforms
    store.update(f"INSERT DATA {{ <{EX}Venue> <http://www.w3.org/2000/01/rdf-schema#subClassOf> <{EX}Org> }}")  # fmt: skip
    assert validator.affected(store, [EX + "Venue"]) == {EX + "Venue", EX + "x", EX + "y"}


@pytest.mark.parametrize(
    "text",
    [
        'ex:S sh:targetClass ex:A ; sh:sparql [ sh:select "SELECT $this WHERE { }" ] .',
        "ex:S sh:targetClass ex:A ; sh:property [ sh:path ex:p ; sh:node ex:S ] .",  # recursive
        "ex:S sh:targetClass ex:A ; sh:property [ sh:path [ sh:zeroOrMorePath ex:p ] ; "
        "sh:class ex:C ] .",
        "ex:S sh:targetClass ex:A ; sh:property [ sh:path ex:p ; sh:expression ex:f ] .",
        # a SPARQL target reading another node's triples
        f'ex:S sh:target [ sh:select "SELECT ?this WHERE {{ ?this <{EX}p> ?o . ?o <{EX}q> 1 }}" ] ; '
        "sh:property [ sh:path ex:p ; sh:minCount 1 ] .",
    ],
    ids=["sparql-constraint", "recursive", "repeated-path", "unknown", "sparql-target"],
)
def test_what_cannot_be_bounded_means_validate_everything(text: str) -> None:
    assert reach(shapes_of(text)) is None


def test_a_sparql_target_reading_only_its_node_is_bounded() -> None:
    text = (
        f'ex:S sh:target [ sh:select "SELECT ?this WHERE {{ ?this <{EX}p> ?v '
        f'FILTER (?v > 3 || EXISTS {{ ?this <{EX}q> 1 }}) }}" ] ; '
        "sh:property [ sh:path ex:p ; sh:maxCount 0 ] ."
    )
    found = reach(shapes_of(text))
    assert found is not None and found.paths == frozenset()


def test_backward_paths_need_the_objects_of_the_change() -> None:
    text = "ex:S sh:targetClass ex:A ; sh:property [ sh:path [ sh:inversePath ex:p ] ; "
    text += "sh:minCount 1 ] ."
    found = reach(shapes_of(text))
    assert found is not None and found.backwards
    store = store_of("ex:a a ex:A .")
    assert affected(store, found, [EX + "b"], None) is None  # who lost an ex:p? unknown
    assert affected(store, found, [EX + "b"], [EX + "a"]) == {EX + "a", EX + "b"}
    objects = "ex:S sh:targetObjectsOf ex:p ; sh:property [ sh:path ex:q ; sh:maxCount 0 ] ."
    assert reach(shapes_of(objects)).backwards


def test_only_the_severities_asked_for_are_read() -> None:
    text = "ex:S sh:targetClass ex:A ; sh:property [ sh:path [ sh:inversePath ex:p ] ; "
    text += "sh:minCount 1 ; sh:severity sh:Info ] , [ sh:path ex:q ; sh:class ex:C ] ."
    assert reach(shapes_of(text)).backwards
    violations = reach(shapes_of(text), ["Violation"])
    assert not violations.backwards and iri("q") in violations.paths


def test_blank_nodes_cannot_be_named_so_everything_is_validated() -> None:
    found = reach(shapes_of(CLASS))
    store = store_of("[] a ex:Actor ; ex:memberOf ex:x . ex:x a ex:Org .")
    assert affected(store, found, ["_:b1"], None) is None  # touched
    assert affected(store, found, [EX + "x"], None) is None  # reached


def test_the_projects_shapes_are_bounded() -> None:
    every = reach(shapes.graph())
    assert every is not None and every.backwards  # networks count their members (an Info)
    violations = reach(shapes.graph(), ["Violation"])
    assert violations is not None and not violations.backwards
    assert violations.depth == 2  # a run's input, its checksum; a value's type, its classes
    org = "<http://www.w3.org/ns/org#"
    assert {f"{org}memberOf>", f"{org}memberOf>/{TYPE}"} <= violations.paths


def test_reading_the_shapes_keeps_nothing_of_its_callers_alive() -> None:
    """rdflib's SPARQL parser (for SPARQL targets) leaves reference cycles through its callers'
    frames: a write's store would stay open, and locked, until the garbage collector ran."""

    class Held:
        pass

    def caller() -> weakref.ref[Held]:
        held = Held()
        assert reach(shapes.graph()) is not None
        return weakref.ref(held)

    gc.disable()
    try:
        assert caller()() is None
    finally:
        gc.enable()


def walked_whole(store: ox.Store, found: Reach, start: set[str]) -> set[str]:
    """What `affected` finds, walked with one path that is any prefix of any word."""
    values = " ".join(sparql_term(node) for node in start)
    path = "|".join(sorted(found.paths))
    query = f"SELECT DISTINCT ?f WHERE {{ VALUES ?t {{ {values} }} ?f ({path}) ?t }}"
    return start | {
        row["f"].value if isinstance(row["f"], ox.NamedNode) else str(row["f"])
        for row in store.query(query)  # type: ignore[union-attr]
    }


@pytest.mark.parametrize("seed", range(4))
def test_the_walk_finds_what_one_path_of_every_word_finds(seed: int) -> None:
    """The walk groups nodes by the last steps that can reach them and factors the paths;
    it finds exactly what following every word from every node finds (classes, concepts,
    actors, parts and literals among the nodes), for the shapes a write reads (violations:
    forwards only) and for all of them (backwards too)."""
    store = ox.Store()
    data = Graph().parse(EXAMPLE) + ontology.validation_graph()
    store.load(data.serialize(format="nt", encoding="utf-8"), format=ox.RdfFormat.N_TRIPLES)
    found = reach(shapes.graph(), ("Violation",) if seed % 2 else ALL_SEVERITIES)
    assert found is not None and found.backwards == (seed % 2 == 0)
    nodes = sorted(
        {q.subject.value for q in store if isinstance(q.subject, ox.NamedNode)}
        | {q.object.value for q in store if isinstance(q.object, ox.NamedNode)}
    )
    superclasses = {
        q.object.value
        for q in store.quads_for_pattern(None, ox.NamedNode(str(RDFS.subClassOf)), None)
        if isinstance(q.object, ox.NamedNode)
    }
    rng = random.Random(seed)
    start = set(rng.sample(nodes, rng.randint(1, 600))) | {'"not a node"@en'}
    start |= set(rng.sample(sorted(superclasses), 20))
    assert affected(store, found, start, start) == walked_whole(store, found, start)


def test_the_walk_backwards_and_to_literals_finds_what_one_path_of_every_word_finds() -> None:
    found = reach(
        shapes_of("""ex:S sh:targetClass ex:A ;
            sh:property [ sh:path [ sh:inversePath ex:p ] ; sh:class ex:B ] ;
            sh:property [ sh:path ex:name ; sh:class ex:Label ] ;
            sh:property [ sh:path ( ex:site ex:address ) ; sh:class ex:Address ] .""")
    )
    assert found is not None and found.backwards
    store = store_of("""ex:a a ex:A ; ex:name "x" ; ex:site ex:s . ex:s ex:address ex:d .
        ex:d a ex:Address . ex:b a ex:B ; ex:p ex:a . ex:c ex:name 1 .""")
    for start in (
        {f"{EX}b"},
        {'"x"'},
        {'"1"^^<http://www.w3.org/2001/XMLSchema#integer>'},
        {f"{EX}d", f"{EX}Address", f"{EX}s"},
        {f"{EX}B", f"{EX}a"},
    ):
        walked = affected(store, found, start, start)
        assert walked == walked_whole(store, found, start), start


@pytest.fixture(scope="module")
def validator() -> SparqlValidator:
    return SparqlValidator(shapes.graph(), ontology.validation_graph())


def random_changes(store: ox.Store, count: int, seed: int) -> list[tuple[str, ox.Quad]]:
    """Removals of random triples (types first among them) and additions of random links."""
    rng = random.Random(seed)
    quads = sorted(store, key=str)
    types = [q for q in quads if q.predicate.value.endswith("#type")]
    nodes = sorted({q.subject for q in quads} | {q.object for q in quads}, key=str)
    links = sorted({q.predicate for q in quads}, key=str)
    changes = []
    for i in range(count):
        if i % 3 == 0:
            changes.append(("remove", rng.choice(types)))
        elif i % 3 == 1:
            changes.append(("remove", rng.choice(quads)))
        else:
            quad = ox.Quad(rng.choice(quads).subject, rng.choice(links), rng.choice(nodes))
            changes.append(("add", quad))
    return changes


@pytest.mark.parametrize("severities", [("Violation",), ("Violation", "Warning", "Info")])
def test_every_result_a_random_change_alters_is_about_an_affected_node(
    validator: SparqlValidator, severities: tuple[str, ...]
) -> None:
    store = ox.Store()
    store.load(Graph().parse(EXAMPLE).serialize(format="nt", encoding="utf-8"),
               format=ox.RdfFormat.N_TRIPLES)  # fmt: skip
    before = {r for r in validator.validate_store(store).results if r.severity in severities}
    altered = 0
    for kind, quad in random_changes(store, 45, seed=len(severities)):
        if (kind == "add") == (quad in store):
            continue
        store.add(quad) if kind == "add" else store.remove(quad)
        subjects, objects = [quad.subject.value], [quad.object.value]
        if isinstance(quad.object, ox.Literal):
            objects = [str(quad.object)]
        focus = validator.affected(store, subjects, objects, severities=severities)
        assert focus is not None
        after = {r for r in validator.validate_store(store).results if r.severity in severities}
        changed = {r.focus_node for r in before ^ after}
        assert changed <= focus, (kind, str(quad))
        altered += bool(changed - set(subjects))
        restricted = validator.validate_store(store, focus=focus).results
        assert {r for r in restricted if r.severity in severities} == {
            r for r in after if r.focus_node in focus
        }
        store.remove(quad) if kind == "add" else store.add(quad)  # back to the example
    assert altered >= 3  # changes whose effect reached beyond the changed triple's subject


def test_the_compiled_validator_can_focus_a_stand_in_cannot(validator: SparqlValidator) -> None:
    class WholeOnly:
        def validate_store(self, store: ox.Store, union: bool = False) -> None: ...

    assert isinstance(validator, FocusValidator) and not isinstance(WholeOnly(), FocusValidator)
