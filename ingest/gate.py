"""The validation gate: what a run would load is validated before the store changes.

Results are turned into `Problem`s that name the file, record, source field, value and message.
With `skip_invalid`, records with a violation are removed (with everything minted for them) and
the rest is validated again, until what remains conforms.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyoxigraph as ox
from rdflib import Graph

from creative_graph.store import StoreReader
from creative_graph.validation import (
    GraphValidator,
    StoreValidator,
    ValidationReport,
    class_checked_predicates,
)
from ingest.errors import Problem
from ingest.mappers import Mapped
from ingest.staging import Staging

RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")

MAX_ROUNDS = 5  # removing a record can orphan a reference to it; a few rounds settle it


@dataclass(frozen=True)
class GateResult:
    blocking: tuple[Problem, ...]  # violations in what would be loaded: nothing loads
    reasons: tuple[Problem, ...]  # every violation found, including those of rejected records
    warnings: tuple[Problem, ...]
    rejected_records: tuple[tuple[str, str], ...]  # (file, record) removed by skip_invalid


def _problems(
    report: ValidationReport, mapped: Mapped, source: str, unknown: frozenset[str] = frozenset()
) -> list[Problem]:
    problems = []
    for result in report.results:
        file, record = mapped.locate(result.focus_node) or (
            source,
            f"node <{result.focus_node}>",
        )
        field = mapped.fields.get(result.path, result.path)
        message = result.message
        if result.value.removeprefix("<").removesuffix(">") in unknown:
            # the usual cause: the source that describes the target has not been loaded (yet)
            message += (
                f" Nothing loaded describes {result.value}: ingest the source that does first "
                "(`creative-graph ingest` runs sources in the order of their names), or fix "
                "the IRI."
            )
        problems.append(Problem(file, record, field, result.value, message, result.severity))
    return problems


def referenced(staging: Staging, checked: frozenset[str] | None) -> list[str]:
    """Instance IRIs the staged triples point to (through the `checked` predicates; every
    predicate when None) but give no type."""
    if checked is not None and not checked:
        return []
    # only instance IRIs can be actors
    wanted = 'isIRI(?o) && CONTAINS(STR(?o), "/id/")'
    if checked is None:
        pattern = f"?s ?p ?o FILTER (?p != <{RDF_TYPE.value}> && {wanted})"
    else:
        predicates = " ".join(f"<{p}>" for p in sorted(checked))
        pattern = f"VALUES ?p {{ {predicates} }} ?s ?p ?o FILTER ({wanted})"
    return sorted(
        iri
        for (iri,) in staging.select(
            f"SELECT DISTINCT ?o WHERE {{ {pattern} FILTER NOT EXISTS {{ ?o a ?type }} }}"
        )
    )


def context_types(iris: list[str], reader: StoreReader) -> list[ox.Triple]:
    """Types, from the store, of the `referenced` IRIs the staged triples do not describe.

    A steward's CSV may relate an actor to one loaded from another source; the shapes need to
    know that the target is an organisation, without this run loading anything about it.
    Only objects of the class-checked predicates matter: looking them up through the predicate
    index costs what the source relates, not a scan of all it holds.
    """
    context = []
    for start in range(0, len(iris), 500):
        values = " ".join(f"<{iri}>" for iri in iris[start : start + 500])
        rows = reader.select(f"SELECT ?s ?t WHERE {{ VALUES ?s {{ {values} }} ?s a ?t }}")
        for row in rows:
            context.append(ox.Triple(ox.NamedNode(row["s"]), RDF_TYPE, ox.NamedNode(row["t"])))
    return context


def _drop_records(mapped: Mapped, records: set[tuple[str, str]]) -> None:
    found = {iri for iri, where in mapped.locators.items() if where in records}
    doomed_keys = {key for key, where in mapped.keys.items() if where in records}
    if doomed_keys:  # nodes found by the record key their IRI ends with
        every_iri = "SELECT DISTINCT ?n WHERE { { ?n ?p ?o } UNION { ?s ?p ?n } FILTER isIRI(?n) }"
        found |= {
            iri
            for (iri,) in mapped.staged().select(every_iri)
            if iri.rsplit("/", 1)[-1] in doomed_keys
        }
    doomed = sorted(found)
    for start in range(0, len(doomed), 1000):
        values = " ".join(f"<{iri}>" for iri in doomed[start : start + 1000])
        mapped.staged().update(
            f"DELETE {{ ?n ?p ?o }} WHERE {{ VALUES ?n {{ {values} }} ?n ?p ?o }} ;\n"
            f"DELETE {{ ?s ?p ?n }} WHERE {{ VALUES ?n {{ {values} }} ?s ?p ?n }}"
        )


def _validate(
    staging: Staging, validator: GraphValidator, context: list[ox.Triple]
) -> ValidationReport:
    """Validate the staged triples, with `context` visible but not judged.

    The context types make the nodes they describe targets of the shapes; what the store holds
    about them was judged when it was loaded, so results about them are not this run's.
    """
    if isinstance(validator, StoreValidator):  # validates the staged triples where they are
        added = staging.add_temporarily(context)
        try:
            report = validator.validate_store(staging.store)
        finally:
            staging.remove(added)
    else:
        extra = Graph().parse(data="".join(f"{t} .\n" for t in context), format="nt")
        report = validator.validate(staging.to_graph() + extra)
    outside = {triple.subject.value for triple in context}
    return ValidationReport(tuple(r for r in report.results if r.focus_node not in outside))


def check(
    mapped: Mapped,
    source: str,
    validator: GraphValidator,
    reader: StoreReader | None,
    skip_invalid: bool = False,
    targets: list[str] | None = None,
) -> GateResult:
    """Validate what `mapped` would load (`targets`: its `referenced` IRIs, if known already)."""
    rejected: set[tuple[str, str]] = set()
    mapping_violations = [p for p in mapped.problems if p.severity == "Violation"]
    mapping_warnings = [p for p in mapped.problems if p.severity != "Violation"]
    if skip_invalid and mapping_violations:
        rejected |= {(p.file, p.record) for p in mapping_violations}
        _drop_records(mapped, rejected)
        targets = None  # counted before the drop
    reasons = list(mapping_violations)
    violations: list[Problem] = []
    warnings: list[Problem] = []
    staging = mapped.staged()
    checked = class_checked_predicates(validator.shapes)
    for _ in range(MAX_ROUNDS):
        if targets is None:
            targets = referenced(staging, checked)
        context = context_types(targets, reader) if reader is not None else []
        unknown = frozenset(targets) - {triple.subject.value for triple in context}
        report = _validate(staging, validator, context)
        problems = _problems(report, mapped, source, unknown)
        violations = [p for p in problems if p.severity == "Violation"]
        warnings = [p for p in problems if p.severity != "Violation"]
        reasons += violations
        if not skip_invalid or not violations:
            break
        rejected |= {(p.file, p.record) for p in violations}
        _drop_records(mapped, rejected)
        targets = None
    blocking = violations if skip_invalid else mapping_violations + violations
    return GateResult(
        tuple(blocking),
        tuple(reasons),
        tuple(mapping_warnings + warnings),
        tuple(sorted(rejected)),
    )
