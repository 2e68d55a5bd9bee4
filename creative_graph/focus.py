"""Which focus nodes a change can affect: what a write must validate again, and no more.

A check of a focus node reads triples outwards from it: its own (its type for the target, its
values), those of its values (`sh:class` reads a value's `rdf:type`, `sh:node` the value's own
values), and so on as deep as node shapes nest. A changed triple (added or removed) can change
a node's results only if one of its checks reads that triple, so only if the node reaches the
triple's subject along the paths the shapes follow, or its object where a path is followed
backwards (`sh:inversePath`, `sh:targetObjectsOf`). `reach` reads those paths from the shapes
once; `affected` walks them backwards from what a change touched.

Walking the store after the change is enough: if a path the node followed before the change
is gone, its first missing triple was removed, and the node still reaches that triple's
subject (or, backwards, its object) along the part of the path that remains.
"""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef, Variable
from rdflib.collection import Collection as RdfList
from rdflib.namespace import RDF, RDFS, SH
from rdflib.plugins.sparql import prepareQuery
from rdflib.plugins.sparql.parserutils import CompValue

from creative_graph.validation import SEVERITIES

# sh:class reads the value's types, then up their superclasses: one step here
TYPE = f"<{RDF.type}>/<{RDFS.subClassOf}>*"
_TYPE_ENDS = {f"<{RDF.type}>", f"<{RDFS.subClassOf}>"}  # the last triple of a TYPE step
BATCH = 500  # touched nodes per walking query
ALL_SEVERITIES = tuple(SEVERITIES.values())

Word = tuple[str, ...]  # steps (SPARQL paths) from a focus node to a node whose triples are read

_TARGETS = {SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf, SH.target}
# parameters that read nothing but the value (or focus) node itself, or say nothing at all
_SELF = {
    SH.datatype, SH.nodeKind, SH.pattern, SH.flags, SH.languageIn, SH.uniqueLang, SH.hasValue,
    SH["in"], SH.minInclusive, SH.maxInclusive, SH.minExclusive, SH.maxExclusive,
    SH.minLength, SH.maxLength, SH.minCount, SH.maxCount, SH.qualifiedMinCount,
    SH.qualifiedMaxCount, SH.path, SH.message, SH.severity, SH.name, SH.description,
    SH.deactivated, SH.order, SH.group, SH.defaultValue, SH.declare, SH.prefixes,
    RDF.type, RDFS.label, RDFS.comment, *_TARGETS,
}  # fmt: skip
# parameters that read the focus node's own triples (other predicates, or all of them); on a
# property shape they are read as if from each value too, which only widens the walk
_OWN = {SH.equals, SH.disjoint, SH.lessThan, SH.lessThanOrEquals, SH.closed, SH.ignoredProperties}
# what a node shape may say that is not a constraint on the node itself
_NOT_NODE_LEVEL = {
    *_TARGETS, SH.property, SH.message, SH.severity, SH.name, SH.description, SH.deactivated,
    SH.declare, SH.prefixes, RDF.type, RDFS.label, RDFS.comment,
}  # fmt: skip
_LOGICAL = (SH["or"], SH["and"], SH.xone)


class Unbounded(Exception):
    """The shapes read something this reasoning cannot bound (a SPARQL constraint, a
    recursive or repeated path, ...): every node must be validated."""


@dataclass(frozen=True)
class Reach:
    """How far the checks of the shapes read from a focus node."""

    words: frozenset[Word]  # each a path to nodes whose triples are read (() the node itself)
    backwards: bool  # a triple is read from its object: changed triples' objects count

    @property
    def prefixes(self) -> frozenset[Word]:
        """Every non-empty prefix of every word."""
        return frozenset(w[:i] for w in self.words for i in range(1, len(w) + 1))

    @property
    def paths(self) -> frozenset[str]:
        """Every non-empty prefix of every word, as a SPARQL property path."""
        return frozenset("/".join(prefix) for prefix in self.prefixes)

    @property
    def depth(self) -> int:
        """Steps from a focus node to the farthest node whose triples its checks read."""
        return max((len(w) for w in self.words), default=0)


def reach(shapes: Graph, severities: Iterable[str] = ALL_SEVERITIES) -> Reach | None:
    """What the checks of `shapes` whose results have one of these `severities` read, or None
    when that cannot be bounded."""
    try:
        return _Reader(shapes, frozenset(severities)).read()
    except Unbounded:
        return None


def affected(
    store: ox.Store,
    reach: Reach,
    subjects: Iterable[str],
    objects: Iterable[str] | None,
    union: bool = False,
) -> set[str] | None:
    """The nodes whose results may differ between the store before a change and `store` after.

    `subjects` and `objects`: those of every quad the change added or removed (IRIs, literals
    in N-Triples syntax, blank nodes as `_:id`); `objects` may be None when the shapes never
    read backwards. None: unbounded (objects needed but unknown, or a blank node, which no
    query can name), so validate everything. `union`: the data is every graph of the store.
    """
    if reach.backwards and objects is None:
        return None
    start = set(subjects) | (set(objects or ()) if reach.backwards else set())
    if any(node.startswith("_:") for node in start):
        return None
    found = set(start)
    prefixes = reach.prefixes
    terms = sorted(sparql_term(node) for node in start)
    for i in range(0, len(terms) if prefixes else 0, BATCH):
        batch = terms[i : i + BATCH]
        for lasts, nodes in _by_last_steps(store, prefixes, batch, union).items():
            path = _alternatives({w for w in prefixes if w[-1] in lasts})
            values = " ".join(nodes)
            query = f"SELECT DISTINCT ?f WHERE {{ VALUES ?t {{ {values} }} ?f ({path}) ?t }}"
            solutions = store.query(query, use_default_graph_as_union=union)
            assert isinstance(solutions, ox.QuerySolutions)
            for solution in solutions:
                node = solution["f"]
                if isinstance(node, ox.BlankNode):
                    return None
                found.add(node.value if isinstance(node, ox.NamedNode) else str(node))
    return found


def _by_last_steps(
    store: ox.Store, prefixes: frozenset[Word], terms: list[str], union: bool
) -> dict[frozenset[str], list[str]]:
    """The nodes `terms` grouped by the last steps a path could reach them by (none: left out).

    A step `<p>` ends at a node only along a triple `?x <p> node`, and `TYPE` along `rdf:type`
    or `rdfs:subClassOf`; so the predicates of the triples whose object is each node, read in
    one query, rule out most of the words (the walk was 1.5 s for 2,000 nodes with all of
    them, 0.1 s so). Other steps (`^<p>`) are always kept.
    """
    lasts = {word[-1] for word in prefixes}
    values = " ".join(terms)
    query = f"SELECT DISTINCT ?t ?p WHERE {{ VALUES ?t {{ {values} }} ?x ?p ?t }}"
    solutions = store.query(query, use_default_graph_as_union=union)
    assert isinstance(solutions, ox.QuerySolutions)
    entering: dict[str, set[str]] = {}
    for solution in solutions:
        entering.setdefault(str(solution["t"]), set()).add(str(solution["p"]))
    groups: dict[frozenset[str], list[str]] = {}
    for term in terms:
        if term.startswith("<"):  # an IRI is written one way: the query's own term
            ends = frozenset(last for last in lasts if _may_end(last, entering.get(term, set())))
        else:  # a literal may be written otherwise than the query writes it: nothing ruled out
            ends = frozenset(lasts)
        if ends:
            groups.setdefault(ends, []).append(term)
    return groups


def _may_end(step: str, predicates: set[str]) -> bool:
    """Whether `step` can end at a node that is the object of triples with these `predicates`
    (SPARQL terms)."""
    if step == TYPE:
        return bool(predicates & _TYPE_ENDS)
    if step.startswith("<") and step.endswith(">") and ">" not in step[:-1]:
        return step in predicates
    return True  # backwards, or a path this reading does not take apart


def _alternatives(words: set[Word]) -> str:
    """Non-empty `words` as one SPARQL path, those ending in the same step sharing it
    (`(a|b)?/(c)` for `c`, `a/c` and `b/c`): walked backwards from a node, each last step is
    followed once, not once per word (3 times faster with the project's shapes)."""
    before: dict[str, set[Word]] = {}  # last step -> the words' steps before it
    for word in words:
        before.setdefault(word[-1], set()).add(word[:-1])
    paths = []
    for last, firsts in sorted(before.items()):
        if firsts == {()}:
            paths.append(f"({last})")
        else:
            optional = "?" if () in firsts else ""
            paths.append(f"({_alternatives(firsts - {()})}){optional}/({last})")
    return "|".join(paths)


def sparql_term(node: str) -> str:
    """A node as written in `ValidationResult.focus_node` (IRI, or literal in N-Triples
    syntax) as a SPARQL term; a blank node cannot be one (`ValueError`)."""
    if node.startswith("_:"):
        raise ValueError(f"a blank node cannot be named in a query: {node}")
    if node.startswith('"'):
        return node
    return str(ox.NamedNode(node))  # ValueError if it is not an IRI


class _Reader:
    def __init__(self, shapes: Graph, severities: frozenset[str]) -> None:
        self.shapes = shapes
        self.severities = severities
        self.backwards = False

    def read(self) -> Reach:
        words: set[Word] = set()
        for node_shape in {s for t in _TARGETS for s in self.shapes.subjects(t, None)}:
            checks = False
            if self._severity(node_shape) in self.severities:
                checks = bool(set(self.shapes.predicates(node_shape)) - _NOT_NODE_LEVEL)
                words |= self.node(node_shape, (), properties=False)
            for prop in self.shapes.objects(node_shape, SH.property):
                if self._severity(prop) in self.severities:
                    checks = True
                    words |= self.property(prop, (node_shape,))
            if checks:  # the target matters only if some check does
                words |= self.targets(node_shape)
        return Reach(frozenset(words), self.backwards)

    def _severity(self, shape: object) -> str:
        return SEVERITIES.get(self.shapes.value(shape, SH.severity), "Violation")

    def targets(self, node_shape: object) -> set[Word]:
        words: set[Word] = set()
        if self.shapes.value(node_shape, SH.targetClass) is not None:
            words |= {(), (TYPE,)}
        if self.shapes.value(node_shape, SH.targetSubjectsOf) is not None:
            words.add(())
        if self.shapes.value(node_shape, SH.targetObjectsOf) is not None:
            words.add(())
            self.backwards = True
        for target in self.shapes.objects(node_shape, SH.target):
            self._sparql_target(target)
            words.add(())
        return words  # sh:targetNode reads nothing

    def _sparql_target(self, target: object) -> None:
        """A SPARQL target is bounded when it reads only triples of ?this (a star around it)."""
        select = self.shapes.value(target, SH.select)
        if select is None:
            raise Unbounded(f"target {target}")
        prefixes = {
            str(self.shapes.value(d, SH.prefix)): str(self.shapes.value(d, SH.namespace))
            for d in self.shapes.objects(None, SH.declare)
        }
        try:
            algebra = _parsed(str(select), prefixes)
        except Exception as error:  # rdflib raises many kinds
            raise Unbounded(f"unreadable SPARQL target {target}") from error
        if not _star(algebra, [0]):
            raise Unbounded(f"SPARQL target {target} reads beyond ?this")

    def node(self, shape: object, stack: tuple[object, ...], properties: bool = True) -> set[Word]:
        """What evaluating `shape` at a node reads, from that node."""
        if shape in stack:
            raise Unbounded(f"{shape} is recursive")
        stack += (shape,)
        words: set[Word] = set()
        for predicate, value in self.shapes.predicate_objects(shape):
            if predicate == SH.property:
                if properties:
                    words |= self.property(value, stack)
            else:
                words |= self.value(predicate, value, stack)
        return words

    def value(self, predicate: object, value: object, stack: tuple[object, ...]) -> set[Word]:
        """What a value-level parameter reads, from the value node it checks."""
        if predicate == SH["class"]:
            return {(), (TYPE,)}  # the value's rdf:type, its classes' rdfs:subClassOf
        if predicate in (SH.node, SH["not"], SH.qualifiedValueShape):
            return self.node(value, stack)
        if predicate in _LOGICAL:
            return {w for member in RdfList(self.shapes, value) for w in self.node(member, stack)}
        if predicate in _OWN:
            return {()}
        if predicate in _SELF:
            return set()
        if predicate == SH.qualifiedValueShapesDisjoint and value != Literal(True):
            return set()  # true would read the sibling qualified shapes: not bounded here
        raise Unbounded(f"{predicate} is not known to this reasoning")

    def property(self, prop: object, stack: tuple[object, ...]) -> set[Word]:
        """What a property shape reads from its focus node: the path's triples (from each node
        along it), then what its value-level parameters read from each value."""
        path = self.shapes.value(prop, SH.path)
        if path is None:
            raise Unbounded(f"{prop} has no sh:path")
        sequences = self._sequences(path, inverse=False)
        values = self.node(prop, stack)
        words = {sequence[:i] for sequence in sequences for i in range(len(sequence))}
        return words | {sequence + word for sequence in sequences for word in values}

    def _sequences(self, path: object, inverse: bool) -> list[Word]:
        """A SHACL path as the step sequences it may follow (alternatives spelled out)."""
        if isinstance(path, URIRef):
            if inverse:
                self.backwards = True  # the triple is read from its object
            return [(f"^<{path}>" if inverse else f"<{path}>",)]
        if not isinstance(path, BNode):
            raise Unbounded(f"path {path}")
        inner = self.shapes.value(path, SH.inversePath)
        if inner is not None:
            return self._sequences(inner, not inverse)
        alternatives = self.shapes.value(path, SH.alternativePath)
        if alternatives is not None:
            return [
                s for a in RdfList(self.shapes, alternatives) for s in self._sequences(a, inverse)
            ]
        if self.shapes.value(path, RDF.first) is not None:
            members = list(RdfList(self.shapes, path))
            sequences: list[Word] = [()]
            for member in reversed(members) if inverse else members:  # ^(a/b) is ^b/^a
                sequences = [s + m for s in sequences for m in self._sequences(member, inverse)]
            return sequences
        raise Unbounded(f"path {path} repeats")  # zeroOrMore, oneOrMore, zeroOrOne


def _parsed(query: str, prefixes: dict[str, str]) -> CompValue:
    """A SPARQL query's algebra, parsed in a thread of its own: rdflib's parser leaves reference
    cycles that reach the frames of whoever called it, which would keep their locals (a write's
    store and its lock) alive until the garbage collector runs; a new thread's frames lead
    nowhere else."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: prepareQuery(query, initNs=prefixes).algebra).result()


_FORBIDDEN = {"Graph", "GraphGraphPattern", "ServiceGraphPattern", "SubSelect"}


def _star(node: object, projects: list[int]) -> bool:
    """Whether a query's algebra reads only triples whose subject is ?this (predicates IRIs or
    variables, no GRAPH, SERVICE or subquery, where ?this would be another variable)."""
    if isinstance(node, CompValue):
        if node.name in _FORBIDDEN:
            return False
        if node.name == "Project":
            projects[0] += 1
            if projects[0] > 1:
                return False
        for key, value in node.items():
            if key == "triples" and not all(_from_this(t) for t in _triples(value)):
                return False
            if not _star(value, projects):
                return False
        return True
    if isinstance(node, list | tuple):
        return all(_star(item, projects) for item in node)
    return True


def _triples(value: object) -> Iterable[tuple[object, ...]]:
    return [tuple(t) for t in value] if isinstance(value, list | tuple) else []


def _from_this(triple: tuple[object, ...]) -> bool:
    return (
        len(triple) == 3
        and triple[0] == Variable("this")
        and isinstance(triple[1], URIRef | Variable)
    )
