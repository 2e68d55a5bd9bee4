"""The project's SHACL shapes compiled to SPARQL and run in pyoxigraph: the fast validator.

pySHACL walks the data graph node by node in Python (~140 µs per triple here); an ingest of
100,000 actors would take minutes. This module compiles each constraint of our shapes into one
SPARQL SELECT that returns every violating focus node at once, and runs them all on an
in-memory pyoxigraph store. It implements the SHACL Core components our shapes use (targets by
class and SPARQL; paths: predicate, inverse, alternative, sequence; min/maxCount, datatype,
nodeKind, pattern, languageIn, uniqueLang, class, node, hasValue, or, not, minInclusive) and
refuses shapes that use anything else, so it can never silently skip a rule. Its reports are
checked against pySHACL on every example file (`tests/test_sparql_validation.py`).

A validation may be limited to some focus nodes (a write checks only those its change may
affect, `creative_graph.focus`): each check runs for those its target selects, and since a
check reads only outwards from its focus node, the results are the whole validation's about
them.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, replace

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import RDF, SH

from creative_graph import focus as focusing
from creative_graph.validation import SEVERITIES, ValidationReport, ValidationResult, _render

RDF_TYPE_CLASS = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>/<http://www.w3.org/2000/01/rdf-schema#subClassOf>*"
CLASSES = f"?this {RDF_TYPE_CLASS} ?class"  # the classes a node is an instance of
KNOWN = {
    SH.path, SH.minCount, SH.maxCount, SH.datatype, SH.nodeKind, SH.pattern, SH.languageIn,
    SH.uniqueLang, SH["class"], SH.node, SH.hasValue, SH["or"], SH["not"], SH.minInclusive,
    SH.message, SH.severity, SH.name, SH.description, RDF.type,
    URIRef("http://www.w3.org/2000/01/rdf-schema#label"),
}  # fmt: skip
# Where each check's target may be joined with the focus nodes (a comment until it is).
FOCUS = "#focus\n"
FOCUS_BATCH = 500  # focus nodes per query (VALUES rows)
_SIMPLE_SELECT = re.compile(r"\s*SELECT\s+(DISTINCT\s+)?[?$]this\s+WHERE\s*\{", re.IGNORECASE)
_SLICED = re.compile(r"\b(LIMIT|OFFSET|GROUP)\b", re.IGNORECASE)


class UnsupportedShape(Exception):
    """A shape uses a SHACL feature this compiler does not implement."""


@dataclass(frozen=True)
class Check:
    shape: str  # the named shape reported as sh:sourceShape
    path: str  # rendered path, "" for node-level constraints
    severity: str
    message: str
    query: str  # SELECT ?this ?value, with FOCUS inside its target
    # one row per value, joined into one result: GROUP_CONCAT's order would depend on the plan
    joined: bool = False
    target: str = ""  # the group of `query` that selects its focus nodes (with FOCUS inside)
    # the target is the instances of these classes (SPARQL terms) and nothing else; None: it is
    # (also) a SPARQL target, asked with `selecting`
    classes: frozenset[str] | None = None
    prologue: str = ""  # the PREFIX lines `query` starts with

    def selecting(self, values: str) -> str:
        """SELECT ?this: which of the nodes `values` (SPARQL terms, space-separated) the
        check's target selects."""
        focused = self.target.replace(FOCUS, f"VALUES ?this {{ {values} }}\n")
        return f"{self.prologue}SELECT ?this WHERE {{ {focused} }}"

    def among(self, values: str) -> str:
        """The query for only the nodes `values`, every one of them selected by its target
        (`selecting`): they take the target's place, which is not evaluated again."""
        return self.query.replace(self.target, f"{{ VALUES ?this {{ {values} }} }}")


def _term(node: object) -> str:
    if isinstance(node, URIRef):
        return f"<{node}>"
    if isinstance(node, Literal):
        return node.n3()
    raise UnsupportedShape(f"cannot use {node!r} in a query")


def _path(shapes: Graph, node: object) -> str:
    if isinstance(node, URIRef):
        return f"<{node}>"
    assert isinstance(node, BNode)
    inverse = shapes.value(node, SH.inversePath)
    if inverse is not None:
        return f"^({_path(shapes, inverse)})"
    alternatives = shapes.value(node, SH.alternativePath)
    if alternatives is not None:
        return (
            "(" + "|".join(_path(shapes, item) for item in Collection(shapes, alternatives)) + ")"
        )
    if shapes.value(node, RDF.first) is not None:
        return "(" + "/".join(_path(shapes, item) for item in Collection(shapes, node)) + ")"
    raise UnsupportedShape(f"unsupported property path {node}")


class Compiler:
    def __init__(self, shapes: Graph) -> None:
        self.shapes = shapes
        self.counter = 0

    def fresh(self) -> str:
        self.counter += 1
        return f"?v{self.counter}"

    # ---- conditions: SPARQL boolean expressions that hold when `var` conforms ------------

    def value_ok(self, shape: object, var: str, node_level: bool = False) -> str:
        """Expression true when the value `var` satisfies the value-type constraints of `shape`.

        sh:hasValue is a constraint on the whole value set (some value equals it), so it only
        counts here for node shapes (`node_level`), where the focus node itself is the value.
        """
        parts = []
        for predicate, obj in self.shapes.predicate_objects(shape):
            if predicate == SH.datatype:
                parts.append(f"(isLiteral({var}) && datatype({var}) = {_term(obj)})")
            elif predicate == SH.nodeKind:
                kinds = {
                    SH.IRI: f"isIRI({var})",
                    SH.Literal: f"isLiteral({var})",
                    SH.BlankNode: f"isBlank({var})",
                }
                if obj not in kinds:
                    raise UnsupportedShape(f"nodeKind {obj}")
                parts.append(kinds[obj])
            elif predicate == SH.pattern:
                parts.append(f"(!isBlank({var}) && REGEX(STR({var}), {json.dumps(str(obj))}))")
            elif predicate == SH.languageIn:
                tags = " || ".join(
                    f"langMatches(lang({var}), {json.dumps(str(t))})"
                    for t in Collection(self.shapes, obj)
                )
                parts.append(f'(isLiteral({var}) && lang({var}) != "" && ({tags}))')
            elif predicate == SH["class"]:
                parts.append(f"EXISTS {{ {var} {RDF_TYPE_CLASS} {_term(obj)} }}")
            elif predicate == SH.node:
                parts.append(self.conforms(obj, var))
            elif predicate == SH.hasValue and node_level:
                parts.append(f"({var} = {_term(obj)})")
            elif predicate == SH.minInclusive:
                parts.append(f"COALESCE({var} >= {_term(obj)}, false)")
            elif predicate == SH["or"]:
                options = [self.conforms(item, var) for item in Collection(self.shapes, obj)]
                parts.append("(" + " || ".join(options) + ")")
        return " && ".join(parts) if parts else "true"

    def conforms(self, shape: object, var: str) -> str:
        """Expression true when the node `var` conforms to `shape` (sh:node, sh:or, sh:not)."""
        parts = [self.value_ok(shape, var, node_level=True)]
        negated = self.shapes.value(shape, SH["not"])
        if negated is not None:
            parts.append(f"!({self.conforms(negated, var)})")
        for prop in self.shapes.objects(shape, SH.property):
            parts.append(self.property_ok(prop, var))
        return "(" + " && ".join(parts) + ")"

    def property_ok(self, prop: object, focus: str) -> str:
        path = _path(self.shapes, self.shapes.value(prop, SH.path))
        value = self.fresh()
        parts = []
        minimum, maximum = (
            self.shapes.value(prop, SH.minCount),
            self.shapes.value(prop, SH.maxCount),
        )
        if minimum is not None and int(minimum) > 0:
            if int(minimum) != 1:
                raise UnsupportedShape("nested sh:minCount other than 1")
            parts.append(f"EXISTS {{ {focus} {path} {value} }}")
        if maximum is not None:
            if int(maximum) != 0:
                raise UnsupportedShape("nested sh:maxCount other than 0")
            parts.append(f"NOT EXISTS {{ {focus} {path} {value} }}")
        required = self.shapes.value(prop, SH.hasValue)
        if required is not None:
            parts.append(f"EXISTS {{ {focus} {path} {_term(required)} }}")
        condition = self.value_ok(prop, value)
        if condition != "true":
            parts.append(f"NOT EXISTS {{ {focus} {path} {value} FILTER (!({condition})) }}")
        return "(" + " && ".join(parts) + ")" if parts else "true"

    # ---- top-level checks ------------------------------------------------------------------

    def target(self, node_shape: object) -> str:
        patterns = [
            f"{{ ?this {RDF_TYPE_CLASS} {_term(c)} }}"
            for c in self.shapes.objects(node_shape, SH.targetClass)
        ]
        for target in self.shapes.objects(node_shape, SH.target):
            select = self.shapes.value(target, SH.select)
            if select is None:
                raise UnsupportedShape(f"target {target}")
            select = str(select).replace("\n", " ")
            # a subquery is evaluated whole before any join: give the focus nodes to it too
            # when that cannot change which of them it selects (no LIMIT, OFFSET, GROUP BY)
            simple = _SIMPLE_SELECT.match(select)
            if simple and not _SLICED.search(select):
                select = select[: simple.end()] + " " + FOCUS + select[simple.end() :]
            patterns.append("{ " + select + " }")
        if not patterns:
            raise UnsupportedShape(f"{node_shape} has no target")
        # the focus nodes join here, so that every constraint is evaluated for them only
        return "{ SELECT DISTINCT ?this WHERE { " + FOCUS + " UNION ".join(patterns) + " } }"

    def target_classes(self, node_shape: object) -> frozenset[str] | None:
        """The classes whose instances are the target of `node_shape`, if nothing else is."""
        classes = list(self.shapes.objects(node_shape, SH.targetClass))
        if self.shapes.value(node_shape, SH.target) is not None:
            return None
        if not all(isinstance(c, URIRef) for c in classes):
            return None  # asked as the target is written
        return frozenset(_term(c) for c in classes)

    def checks(self, node_shape: object) -> list[Check]:
        target = self.target(node_shape)
        classes = self.target_classes(node_shape)
        found = []
        for prop in self.shapes.objects(node_shape, SH.property):
            unknown = set(self.shapes.predicates(prop)) - KNOWN
            if unknown:
                raise UnsupportedShape(f"{prop} uses {sorted(unknown)}")
            path_node = self.shapes.value(prop, SH.path)
            path = _path(self.shapes, path_node)
            meta = (
                str(prop),
                _render(self.shapes, path_node),
                SEVERITIES.get(self.shapes.value(prop, SH.severity), "Violation"),
                " ".join(sorted(str(m) for m in self.shapes.objects(prop, SH.message))),
            )
            minimum, maximum = (
                self.shapes.value(prop, SH.minCount),
                self.shapes.value(prop, SH.maxCount),
            )
            values = "(STR(?v) AS ?value)"  # one row per value (`Check.joined`)
            # The common counts get shapes pyoxigraph runs 2-3x faster than a GROUP BY over
            # every focus node: "none" is a NOT EXISTS, "more than one" a pair of distinct values.
            if minimum is not None and int(minimum) == 1:
                query = f"SELECT ?this WHERE {{ {target} FILTER NOT EXISTS {{ ?this {path} ?v }} }}"
                found.append(Check(*meta, query))
            elif minimum is not None:
                found.append(Check(*meta, _counted(target, path, f"< {int(minimum)}"), joined=True))
            if maximum is not None and int(maximum) == 1:
                pairs = (
                    f"{{ SELECT DISTINCT ?this WHERE {{ {target} ?this {path} ?a , ?b "
                    "FILTER (!sameTerm(?a, ?b)) } }"
                )
                query = f"SELECT ?this {values} WHERE {{ {pairs} ?this {path} ?v }}"
                found.append(Check(*meta, query, joined=True))
            elif maximum is not None:
                found.append(Check(*meta, _counted(target, path, f"> {int(maximum)}"), joined=True))
            if self.shapes.value(prop, SH.uniqueLang) == Literal(True):
                found.append(
                    Check(
                        *meta,
                        f"SELECT DISTINCT ?this ?value WHERE {{ {target} ?this {path} ?a , ?b . "
                        'FILTER (?a != ?b && lang(?a) != "" && lang(?a) = lang(?b)) }',
                    )
                )
            required = self.shapes.value(prop, SH.hasValue)
            if required is not None:
                absent = f"FILTER NOT EXISTS {{ ?this {path} {_term(required)} }}"
                query = f"SELECT ?this ?value WHERE {{ {target} {absent} }}"
                found.append(Check(*meta, query))
            condition = self.value_ok(prop, "?value")
            if condition != "true":
                found.append(
                    Check(
                        *meta,
                        f"SELECT DISTINCT ?this ?value WHERE {{ {target} ?this {path} ?value . "
                        f"FILTER (!({condition})) }}",
                    )
                )
        node_level = [
            p
            for p in (SH["or"], SH["not"], SH["class"], SH.node)
            if self.shapes.value(node_shape, p) is not None
        ]
        if node_level:
            message = " ".join(sorted(str(m) for m in self.shapes.objects(node_shape, SH.message)))
            condition = self.value_ok(node_shape, "?this", node_level=True)
            negated = self.shapes.value(node_shape, SH["not"])
            if negated is not None:
                condition = f"({condition}) && !({self.conforms(negated, '?this')})"
            found.append(
                Check(
                    str(node_shape),
                    "",
                    "Violation",
                    message,
                    f"SELECT DISTINCT ?this ?value WHERE {{ {target} FILTER (!({condition})) }}",
                )
            )
        return [replace(check, target=target, classes=classes) for check in found]


def _counted(target: str, path: str, comparison: str) -> str:
    """The focus nodes whose number of values compares so, one row per value (`joined`)."""
    grouped = f"{target} OPTIONAL {{ ?this {path} ?v }}"
    having = f"GROUP BY ?this HAVING (COUNT(DISTINCT ?v) {comparison})"
    return (
        f"SELECT ?this (STR(?v) AS ?value) WHERE {{ {{ SELECT ?this WHERE {{ {grouped} }} "
        f"{having} }} OPTIONAL {{ ?this {path} ?v }} }}"
    )


def compile_shapes(shapes: Graph) -> list[Check]:
    """One SPARQL query per constraint of every node shape that has a target."""
    compiler = Compiler(shapes)
    prologue = "".join(
        f"PREFIX {shapes.value(d, SH.prefix)}: <{shapes.value(d, SH.namespace)}>\n"
        for d in shapes.objects(None, SH.declare)
    )
    node_shapes = set(shapes.subjects(SH.targetClass, None)) | set(shapes.subjects(SH.target, None))
    checks = []
    for node_shape in sorted(node_shapes, key=str):
        for check in compiler.checks(node_shape):
            assert FOCUS in check.target and check.target in check.query, check.query
            checks.append(replace(check, query=prologue + check.query, prologue=prologue))
    return checks


class SparqlValidator:
    """Same contract as `Validator`, for the same shapes: data in, `ValidationReport` out."""

    def __init__(self, shapes: Graph, ontology: Graph) -> None:
        self.shapes = shapes
        self.checks = compile_shapes(shapes)
        context = ontology.serialize(format="nt", encoding="utf-8")
        self._ontology = [
            ox.Quad(t.subject, t.predicate, t.object, ox.DefaultGraph())
            for t in ox.parse(context, format=ox.RdfFormat.N_TRIPLES)
        ]
        self._reach: dict[frozenset[str], focusing.Reach | None] = {}

    @classmethod
    def default(cls) -> SparqlValidator:
        """The project's shapes with its ontology, concept schemes and reused class hierarchy."""
        import ontology
        import shapes

        return cls(shapes.graph(), ontology.validation_graph())

    def validate_ntriples(self, data: bytes) -> ValidationReport:
        store = ox.Store()
        store.load(data, format=ox.RdfFormat.N_TRIPLES)
        return self.validate_store(store)

    def validate_store(
        self, store: ox.Store, union: bool = False, focus: Iterable[str] | None = None
    ) -> ValidationReport:
        """Validate the default graph of a store (`union`: all its graphs), leaving it as it was.

        `focus`: check only these focus nodes (IRIs, or literals in N-Triples syntax, as in
        `ValidationResult.focus_node`); the results are exactly the whole validation's results
        about them, since a check reads only outwards from its focus node. A blank node cannot
        be named in a query: `ValueError`.
        The ontology (class hierarchy, concept schemes) is added for the time of the checks:
        only its triples the data does not already hold, which are removed afterwards.
        """
        batches = None if focus is None else _batches(focus)
        with self._context(store):
            return self._run(store, union, batches)

    def affected(
        self,
        store: ox.Store,
        subjects: Iterable[str],
        objects: Iterable[str] | None = None,
        union: bool = False,
        severities: Iterable[str] = focusing.ALL_SEVERITIES,
    ) -> set[str] | None:
        """The focus nodes whose results (of these `severities`) a change may have changed.

        `store` holds the data after the change; `subjects` and `objects` are those of the
        quads it added or removed (see `creative_graph.focus.affected`). None: it cannot be
        bounded, validate everything.
        """
        key = frozenset(severities)
        if key not in self._reach:
            self._reach[key] = focusing.reach(self.shapes, key)
        reach = self._reach[key]
        if reach is None:
            return None
        with self._context(store):  # the walk follows the ontology's class hierarchy too
            return focusing.affected(store, reach, subjects, objects, union)

    @contextmanager
    def _context(self, store: ox.Store) -> Iterator[None]:
        """The ontology's triples the store lacks, added for the time of the block."""
        added = [quad for quad in self._ontology if quad not in store]
        store.extend(added)
        try:
            yield
        finally:
            for quad in added:
                store.remove(quad)

    def _run(
        self, store: ox.Store, union: bool, batches: list[str] | None = None
    ) -> ValidationReport:
        """Run every check (for the focus nodes in `batches` only, if given), as many at a time
        as there are CPUs.

        pyoxigraph releases the GIL while it evaluates and serialises a query, so threads
        share the work; each thread serialises its own results (to TSV, whose cells are terms
        in N-Triples syntax), so no result object crosses threads.
        """

        def solutions(query: tuple[Check, str]) -> bytes:
            results = store.query(query[1], use_default_graph_as_union=union)
            return results.serialize(format=ox.QueryResultsFormat.TSV)

        results = []
        with ThreadPoolExecutor(max_workers=_cpus()) as pool:
            if batches is None:
                queries = [(check, check.query) for check in self.checks]
            else:
                queries = self._focused(store, union, batches, pool)
            for (check, _), body in zip(queries, pool.map(solutions, queries), strict=True):
                results.extend(_results(check, body.decode("utf-8")))
        order = {"Violation": 0, "Warning": 1, "Info": 2}
        results.sort(key=lambda r: (order[r.severity], r.focus_node, r.path, r.message))
        return ValidationReport(tuple(results))

    def _focused(
        self, store: ox.Store, union: bool, batches: list[str], pool: ThreadPoolExecutor
    ) -> list[tuple[Check, str]]:
        """Each check's queries for the focus nodes in `batches` that its target selects.

        The checks share a few targets (an actor's dozens of checks, its class). Which focus
        nodes each target selects is asked first: the classes of each focus node in one query
        per batch (`rdf:type/rdfs:subClassOf*`, as the class targets read them), and each SPARQL
        target on its own. Each check then runs for those nodes only, given in its target's
        place; a check whose target selects none of them does not run. Joining every focus node
        into every check instead cost ~10 ms a check for 500 nodes: 8 s for a write touching
        2,000 nodes, 15 times a whole validation of the demo store.
        """
        targets = {check.target: check for check in self.checks}  # a check to ask each one
        asked = [("", batch) for batch in batches]
        asked += [(t, b) for t, c in targets.items() if c.classes is None for b in batches]

        def selected(item: tuple[str, str]) -> list[tuple[str, str]]:
            """(node, class) of each focus node in the batch; (node, "") for a SPARQL target."""
            target, batch = item
            if target:
                query = targets[target].selecting(batch)
            else:
                query = f"SELECT ?this ?class WHERE {{ VALUES ?this {{ {batch} }} {CLASSES} }}"
            rows = store.query(query, use_default_graph_as_union=union)
            assert isinstance(rows, ox.QuerySolutions)
            # terms read in the thread that ran the query, as SPARQL terms
            return [(str(row["this"]), str(row["class"]) if not target else "") for row in rows]

        classes: dict[str, set[str]] = {}  # class -> its instances among the focus nodes
        members: dict[str, set[str]] = {}  # SPARQL target -> the focus nodes it selects
        for (target, _), found in zip(asked, pool.map(selected, asked), strict=True):
            for node, class_ in found:
                if target:
                    members.setdefault(target, set()).add(node)
                else:
                    classes.setdefault(class_, set()).add(node)
        for target, check in targets.items():
            if check.classes is not None:
                members[target] = set().union(*(classes.get(c, set()) for c in check.classes))
        queries = []
        for check in self.checks:
            terms = sorted(members.get(check.target, ()))
            for start in range(0, len(terms), FOCUS_BATCH):
                queries.append((check, check.among(" ".join(terms[start : start + FOCUS_BATCH]))))
        return queries

    def validate(self, data: Graph) -> ValidationReport:
        return self.validate_ntriples(data.serialize(format="nt", encoding="utf-8"))


def _results(check: Check, tsv: str) -> list[ValidationResult]:
    """A check's solutions (TSV: cells are terms in N-Triples syntax) as results."""
    header, *rows = tsv.split("\n")
    with_value = "?value" in header.split("\t")
    values: dict[str, list[str]] = {}
    for row in rows:
        if row:
            focus, *rest = row.split("\t")
            values.setdefault(focus, []).append(rest[0] if with_value and rest else "")
    if check.joined:  # the values as one sorted, comma-separated literal ("" when none)
        values = {
            focus: ['"' + ", ".join(sorted({v[1:-1] for v in found if v})) + '"']
            for focus, found in values.items()
        }
    return [
        ValidationResult(
            focus_node=focus[1:-1] if focus.startswith("<") else focus,
            path=check.path,
            value=value,
            message=check.message,
            severity=check.severity,
            source_shape=check.shape,
        )
        for focus, found in values.items()
        for value in found
    ]


def _batches(focus: Iterable[str]) -> list[str]:
    """The focus nodes as SPARQL terms, `FOCUS_BATCH` to a string (no focus node: no batch)."""
    terms = sorted({focusing.sparql_term(node) for node in focus})
    return [" ".join(terms[i : i + FOCUS_BATCH]) for i in range(0, len(terms), FOCUS_BATCH)]


def _cpus() -> int:
    """CPUs this process may use (the machine may have more than its cgroup or affinity allows)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1
