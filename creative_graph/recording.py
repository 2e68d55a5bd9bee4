"""A store that notes which subjects a change touches, for the change journal.

A validated write (`creative_graph.writes`) runs an arbitrary change on a trial copy of the
store; the journal wants the IRIs whose triples it added or removed, without comparing the
whole copy with the primary. Quads added or removed name their subjects; a graph cleared or
removed names the subjects it held. A SPARQL Update is read: `INSERT DATA`/`DELETE DATA` name
their subjects (pyoxigraph reads them, whatever their size); other operations are read by
rdflib when small: a template's subject IRI is named, and the matches of a template with a
variable subject (by its predicate, object or graph) are compared before and after. Anything
else (LOAD, CLEAR ALL, a template with nothing fixed, an update too large to read) makes the
change unknown, and the change stream then compares every actor. It also notes whether a
blank node's triples changed: the write's validation cannot name one in a query, so it then
checks the whole store.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import pyoxigraph as ox
from rdflib.plugins.sparql.algebra import translateUpdate
from rdflib.plugins.sparql.parser import parseUpdate
from rdflib.plugins.sparql.parserutils import CompValue
from rdflib.term import URIRef, Variable

READ_LIMIT = 16_000  # characters of an update rdflib reads (its parser is slow: 3 KB, 0.1 s)
MATCH_LIMIT = 200_000  # quads of a template's matches compared before and after

Graph = ox.NamedNode | ox.DefaultGraph
Pattern = tuple[ox.NamedNode | None, ox.NamedNode | None, Graph | None]  # predicate, object, graph

_READS = frozenset(
    {"query", "quads_for_pattern", "contains_named_graph", "named_graphs", "dump", "flush"}
)


class RecordingStore:
    """Forwards to an `ox.Store`, noting the IRIs whose triples each change adds or removes."""

    def __init__(self, store: ox.Store) -> None:
        self._store = store
        self._subjects: set[str] | None = set()
        self._blank = False  # a blank node's own triples changed

    def touched_blank_node(self) -> bool:
        """Whether a change added or removed a triple whose subject is a blank node (or could
        not say): no query can name one, so a validation of what changed must check all."""
        return self._blank or self._subjects is None

    def touched(self) -> set[str] | None:
        """The IRIs noted so far, or None when a change could not say what it touched."""
        return None if self._subjects is None else set(self._subjects)

    def _note(self, subjects: Iterable[str] | None) -> None:
        if subjects is None:
            self._subjects = None
        elif self._subjects is not None:
            self._subjects.update(subjects)

    def add(self, quad: ox.Quad) -> None:
        self._note(_subjects([quad]))
        self._blank |= _blank([quad])
        self._store.add(quad)

    def remove(self, quad: ox.Quad) -> None:
        self._note(_subjects([quad]))
        self._blank |= _blank([quad])
        self._store.remove(quad)

    def extend(self, quads: Iterable[ox.Quad]) -> None:
        listed = list(quads)
        self._note(_subjects(listed))
        self._blank |= _blank(listed)
        self._store.extend(listed)

    def add_graph(self, graph: ox.NamedNode | ox.BlankNode) -> None:
        self._store.add_graph(graph)

    def clear_graph(self, graph: Graph) -> None:
        self._note(_held(self._store, graph))
        self._blank |= _holds_blank(self._store, graph)
        self._store.clear_graph(graph)

    def remove_graph(self, graph: ox.NamedNode) -> None:
        self._note(_held(self._store, graph))
        self._blank |= _holds_blank(self._store, graph)
        self._store.remove_graph(graph)

    def update(self, update: str, base_iri: str | None = None) -> None:
        plan = _plan(update, base_iri)
        if plan is None:
            self._note(None)
            self._store.update(update, base_iri=base_iri)
            return
        self._note(plan.subjects)
        self._blank |= plan.blank
        for graph in plan.graphs:
            self._note(_held(self._store, graph))
            self._blank |= _holds_blank(self._store, graph)
        before = [_matches(self._store, pattern) for pattern in plan.patterns]
        self._store.update(update, base_iri=base_iri)
        for pattern, earlier in zip(plan.patterns, before, strict=True):
            later = _matches(self._store, pattern)
            if earlier is None or later is None:
                self._note(None)
            else:
                changed = {subject for subject, _ in earlier ^ later}
                self._note(subject for subject in changed if subject)
                self._blank |= "" in changed

    def __len__(self) -> int:
        return len(self._store)

    def __iter__(self) -> Iterator[ox.Quad]:
        return iter(self._store)

    def __contains__(self, quad: ox.Quad) -> bool:
        return quad in self._store

    def __getattr__(self, name: str) -> object:
        if name not in _READS:  # a way to change the store that says nothing of what changed
            self._note(None)
        return getattr(self._store, name)


def _subjects(quads: Iterable[ox.Quad]) -> set[str]:
    return {q.subject.value for q in quads if isinstance(q.subject, ox.NamedNode)}


def _blank(quads: Iterable[ox.Quad]) -> bool:
    return any(isinstance(q.subject, ox.BlankNode) for q in quads)


def _holds_blank(store: ox.Store, graph: Graph | ox.BlankNode) -> bool:
    """Whether `graph` has a triple whose subject is a blank node."""
    if isinstance(graph, ox.NamedNode) and not store.contains_named_graph(graph):
        return False
    return bool(store.query("ASK { ?s ?p ?o FILTER isBlank(?s) }", default_graph=graph))


def _held(store: ox.Store, graph: Graph | ox.BlankNode) -> set[str]:
    """The IRIs with triples in `graph` (whose triples clearing it removes)."""
    if isinstance(graph, ox.NamedNode) and not store.contains_named_graph(graph):
        return set()
    solutions = store.query(
        "SELECT DISTINCT ?s WHERE { ?s ?p ?o FILTER isIRI(?s) }", default_graph=graph
    )
    assert isinstance(solutions, ox.QuerySolutions)
    return {solution["s"].value for solution in solutions}  # type: ignore[union-attr]


def _matches(store: ox.Store, pattern: Pattern) -> set[tuple[str, str]] | None:
    """The quads matching `pattern` with their subject IRIs ("" for a blank node); None past
    `MATCH_LIMIT`."""
    found = set()
    for quad in store.quads_for_pattern(None, *pattern):
        if len(found) == MATCH_LIMIT:
            return None
        subject = quad.subject.value if isinstance(quad.subject, ox.NamedNode) else ""
        found.add((subject, str(quad)))
    return found


@dataclass
class _Plan:
    """What an update touches: these subjects, the subjects these graphs hold before it, and
    the subjects of the quads matching these patterns that differ after it."""

    subjects: set[str] = field(default_factory=set)
    graphs: list[Graph] = field(default_factory=list)
    patterns: list[Pattern] = field(default_factory=list)
    blank: bool = False  # a blank node subject is written


def _plan(update: str, base_iri: str | None) -> _Plan | None:
    data = _data_subjects(update, base_iri)
    if data is not None:
        return _Plan(subjects=data[0], blank=data[1])
    if len(update) > READ_LIMIT:
        return None
    # in a thread of its own: pyparsing keeps exceptions it met, whose frames would otherwise
    # lead back to ours, and keep the trial store open after the write
    with ThreadPoolExecutor(max_workers=1) as reading:
        return reading.submit(_read, update, base_iri).result()


def _read(update: str, base_iri: str | None) -> _Plan | None:
    plan = _Plan()
    try:
        operations = translateUpdate(parseUpdate(update), base=base_iri).algebra
        if all(_read_operation(operation, plan) for operation in operations):
            return plan
    except Exception:  # rdflib raises many kinds, and pyoxigraph may refuse its IRIs: unknown
        return None
    return None


def _read_operation(operation: CompValue, plan: _Plan) -> bool:
    """Add what `operation` touches to `plan`; False when that cannot be said."""
    name = operation.name
    if name == "Create":
        return True
    if name in ("Clear", "Drop"):
        graph = _graph(operation["graphiri"])
        if graph is None:  # NAMED, ALL
            return False
        plan.graphs.append(graph)
        return True
    if name in ("Add", "Copy", "Move"):
        graphs = [_graph(g) for g in operation["graph"]]
        if None in graphs:
            return False
        plan.graphs.extend(g for g in graphs if g is not None)  # the source's, the target's
        return True
    if name in ("InsertData", "DeleteData", "DeleteWhere"):
        return _read_template(operation, None, plan)
    if name == "Modify":
        default = operation.get("withClause")
        clauses = [operation.get(k) for k in ("delete", "insert")]
        return all(
            _read_template(clause, default, plan)
            for clause in clauses
            if isinstance(clause, CompValue)
        )
    return False  # LOAD, or an operation this reading does not know


def _read_template(template: CompValue, default: URIRef | None, plan: _Plan) -> bool:
    triples = [(t, default) for t in template.get("triples") or []]
    for graph, quads in (template.get("quads") or {}).items():
        triples += [(t, graph) for t in quads]
    for (subject, predicate, obj), graph in triples:
        if isinstance(subject, URIRef):
            plan.subjects.add(str(subject))
        elif isinstance(subject, Variable):
            pattern: Pattern = (
                ox.NamedNode(str(predicate)) if isinstance(predicate, URIRef) else None,
                ox.NamedNode(str(obj)) if isinstance(obj, URIRef) else None,
                None if isinstance(graph, Variable) else _graph(graph or "DEFAULT"),
            )
            if pattern == (None, None, None):
                return False
            plan.patterns.append(pattern)
        else:  # a blank node subject is new (INSERT) and never part of a description
            plan.blank = True
    return True


def _graph(name: object) -> Graph | None:
    if name == "DEFAULT":
        return ox.DefaultGraph()
    if isinstance(name, URIRef):
        return ox.NamedNode(str(name))
    return None


# ---- INSERT DATA / DELETE DATA, read by pyoxigraph ---------------------------------------

_TOKEN = re.compile(
    r"""
      (?P<comment>\#[^\n]*)
    | (?P<string>'''(?:[^'\\]|\\.|'(?!''))*'''|\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"
                 |'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*")
    | (?P<iri><[^<>"{}|^`\\\s]*>)
    | (?P<word>[A-Za-z_][\w\-.:]*|[?$]\w+)
    | (?P<other>\S)
    """,
    re.VERBOSE,
)


def _data_subjects(update: str, base_iri: str | None) -> tuple[set[str], bool] | None:
    """The subject IRIs of an update made only of `INSERT DATA` and `DELETE DATA` operations,
    and whether a subject is a blank node (None for any other update): each `DELETE` becomes
    `INSERT`, run on an empty store."""
    top = []  # the tokens outside { } blocks, and the blocks' own braces
    depth = 0
    for match in _TOKEN.finditer(update):
        if match.lastgroup == "comment":
            continue
        text = match.group()
        if text == "}":
            depth -= 1
        if depth == 0:
            top.append((match.lastgroup, text.upper(), match.start()))
        if text == "{":
            depth += 1
    deletes = []
    i = 0
    while i < len(top):
        _, word, start = top[i]
        if word == "PREFIX":  # PREFIX name: <iri>
            while i < len(top) and top[i][0] != "iri":
                i += 1
            i += 1
        elif word == "BASE":
            i += 2
        elif word in ("INSERT", "DELETE") and [t[1] for t in top[i + 1 : i + 4]] == [
            "DATA",
            "{",
            "}",
        ]:
            if word == "DELETE":
                deletes.append(start)
            i += 4 + (i + 4 < len(top) and top[i + 4][1] == ";")
        else:
            return None
    if not top:
        return None
    text = list(update)
    for start in deletes:
        text[start : start + 6] = "INSERT"
    probe = ox.Store()
    try:
        probe.update("".join(text), base_iri=base_iri)
    except (SyntaxError, ValueError, OSError):
        return None
    return _subjects(probe), _blank(probe)
