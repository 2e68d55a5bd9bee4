"""SHACL validation with the project's shapes, as a typed report (for ingest, CLI and writes)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import pyoxigraph as ox
import pyshacl
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import RDF, SH
from rdflib.paths import Path as RdfPath

SEVERITIES = {SH.Violation: "Violation", SH.Warning: "Warning", SH.Info: "Info"}
_ORDER = {"Violation": 0, "Warning": 1, "Info": 2}


@dataclass(frozen=True, slots=True)
class ValidationResult:
    """One SHACL result: which node, which path, which value, what is wrong, how bad."""

    focus_node: str
    path: str
    value: str
    message: str
    severity: str
    source_shape: str
    source_constraint: str = ""  # the SPARQL constraint, when a node shape's sh:sparql failed


class GraphValidator(Protocol):
    """What ingest needs of a validator: pySHACL (`Validator`) or the compiled SPARQL one."""

    shapes: Graph

    def validate(self, data: Graph) -> ValidationReport: ...


@runtime_checkable
class StoreValidator(Protocol):
    """A validator that can also check the default graph of a pyoxigraph store in place."""

    def validate(self, data: Graph) -> ValidationReport: ...

    def validate_store(self, store: ox.Store, union: bool = False) -> ValidationReport: ...


@runtime_checkable
class FocusValidator(Protocol):
    """A store validator that can check only some focus nodes, and name those a change may
    affect (`SparqlValidator`): a write then validates what it touched, not the whole store."""

    def validate_store(
        self, store: ox.Store, union: bool = False, focus: Iterable[str] | None = None
    ) -> ValidationReport: ...

    def affected(
        self,
        store: ox.Store,
        subjects: Iterable[str],
        objects: Iterable[str] | None = None,
        union: bool = False,
        severities: Iterable[str] = ...,
    ) -> set[str] | None: ...


_LOGICAL = (SH["or"], SH["and"], SH.xone)
_MENTIONS_TYPE = re.compile(r"[\s;,]a[\s<?]|rdf:type|22-rdf-syntax-ns#type")


def _checks_class(shapes: Graph, shape: object, seen: set[object]) -> bool:
    """Whether conforming to `shape` depends on the value node's rdf:type (sh:class)."""
    if shape in seen:
        return False
    seen.add(shape)
    if shapes.value(shape, SH["class"]) is not None:
        return True
    nested = [shapes.value(shape, SH.node), shapes.value(shape, SH["not"])]
    nested.append(shapes.value(shape, SH.qualifiedValueShape))
    for logical in _LOGICAL:
        for members in shapes.objects(shape, logical):
            nested.extend(Collection(shapes, members))
    return any(_checks_class(shapes, n, seen) for n in nested if n is not None)


def class_checked_predicates(shapes: Graph) -> frozenset[str] | None:
    """The predicates whose objects the shapes check the type of, or None if it cannot be told.

    What a source points to but does not describe needs its type from the store only when it
    is reached by one of these; a path other than a predicate or an alternative of predicates
    (inverse, sequence, repetition) makes every object potentially checked, hence None.
    """
    predicates: set[str] = set()
    for shape, path in shapes.subject_objects(SH.path):
        if not _checks_class(shapes, shape, set()):
            continue
        if isinstance(path, URIRef):
            predicates.add(str(path))
            continue
        alternatives = shapes.value(path, SH.alternativePath)
        members = list(Collection(shapes, alternatives)) if alternatives is not None else []
        if not members or not all(isinstance(m, URIRef) for m in members):
            return None
        predicates.update(str(m) for m in members)
    for shape, predicate in shapes.subject_objects(SH.targetObjectsOf):
        if _checks_class(shapes, shape, set()):
            predicates.add(str(predicate))
    for query in shapes.objects(None, SH.select):
        if _MENTIONS_TYPE.search(str(query)):  # a SPARQL constraint may look at any type
            return None
    return frozenset(predicates)


@dataclass(frozen=True)
class ValidationReport:
    results: tuple[ValidationResult, ...]

    @property
    def conforms(self) -> bool:
        """True when nothing is a Violation: warnings and infos never block."""
        return not self.violations

    @property
    def violations(self) -> tuple[ValidationResult, ...]:
        return tuple(r for r in self.results if r.severity == "Violation")

    @property
    def warnings(self) -> tuple[ValidationResult, ...]:
        return tuple(r for r in self.results if r.severity != "Violation")


def _render(graph: Graph, node: object) -> str:
    """A node or SHACL path as readable text (prefixed names where we know the prefix)."""
    if node is None:
        return ""
    if isinstance(node, URIRef):
        return (
            graph.namespace_manager.normalizeUri(node) if "#" in node or "/" in node else str(node)
        )
    if isinstance(node, Literal):
        return node.n3(graph.namespace_manager)
    if isinstance(node, RdfPath):
        return node.n3(graph.namespace_manager)
    if isinstance(node, BNode):
        return _render_path(graph, node)
    return str(node)


def _render_path(graph: Graph, node: BNode) -> str:
    """A SHACL property path (inverse, alternative, sequence, repetition) in SPARQL syntax."""
    for predicate, template in (
        (SH.inversePath, "^{}"),
        (SH.zeroOrMorePath, "{}*"),
        (SH.oneOrMorePath, "{}+"),
        (SH.zeroOrOnePath, "{}?"),
    ):
        inner = graph.value(node, predicate)
        if inner is not None:
            return template.format(_render(graph, inner))
    alternatives = graph.value(node, SH.alternativePath)
    if alternatives is not None:
        return "|".join(_render(graph, item) for item in Collection(graph, alternatives))
    if graph.value(node, RDF.first) is not None:
        return "/".join(_render(graph, item) for item in Collection(graph, node))
    return "[blank node]"


def _values_on_path(data: Graph, report: Graph, result: object) -> str:
    """The focus node's values on the result path, for results that carry none (sh:maxCount)."""
    focus, path = report.value(result, SH.focusNode), report.value(result, SH.resultPath)
    if not isinstance(path, URIRef) or focus is None:
        return ""
    values = sorted(_render(report, value) for value in data.objects(focus, path))
    return ", ".join(values[:3]) + (", ..." if len(values) > 3 else "")


class Validator:
    """Holds the shapes and the ontology (with concept schemes) the data is validated against."""

    def __init__(self, shapes: Graph, ontology: Graph) -> None:
        self.shapes = shapes
        self.ontology = ontology

    @classmethod
    def default(cls) -> Validator:
        """The project's shapes with its ontology, concept schemes and reused class hierarchy."""
        import ontology
        import shapes

        return cls(shapes.graph(), ontology.validation_graph())

    def validate(self, data: Graph) -> ValidationReport:
        # pyshacl mixes `ont_graph` in only when it infers; merge it ourselves so that
        # concepts (skos:inScheme) and subclass axioms are visible to the shapes.
        _, report, _ = pyshacl.validate(
            data + self.ontology,
            shacl_graph=self.shapes,
            inference="none",
            advanced=True,
            allow_warnings=True,
        )
        assert isinstance(report, Graph)
        for prefix, namespace in list(data.namespaces()) + list(self.shapes.namespaces()):
            report.bind(prefix, namespace, override=False)
        results = []
        # Only the report's own results: nested sh:detail results repeat them.
        for result in report.objects(None, SH.result):
            messages = sorted(str(m) for m in report.objects(result, SH.resultMessage))
            results.append(
                ValidationResult(
                    focus_node=str(report.value(result, SH.focusNode)),
                    path=_render(report, report.value(result, SH.resultPath)),
                    value=_render(report, report.value(result, SH.value))
                    or _values_on_path(data, report, result),
                    message=" ".join(messages),
                    severity=SEVERITIES.get(report.value(result, SH.resultSeverity), "Violation"),
                    source_shape=str(report.value(result, SH.sourceShape) or ""),
                    source_constraint=str(report.value(result, SH.sourceConstraint) or ""),
                )
            )
        results.sort(key=lambda r: (_ORDER[r.severity], r.focus_node, r.path, r.message))
        return ValidationReport(tuple(results))
