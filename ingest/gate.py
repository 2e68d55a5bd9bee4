"""The validation gate: what a run would load is validated before the store changes.

Results are turned into `Problem`s that name the file, record, source field, value and message.
With `skip_invalid`, records with a violation are removed (with everything minted for them) and
the rest is validated again, until what remains conforms.
"""

from __future__ import annotations

from dataclasses import dataclass

from rdflib import Graph, URIRef
from rdflib.namespace import RDF

from creative_graph.sparql_validation import SparqlValidator
from creative_graph.store import StoreReader
from creative_graph.validation import GraphValidator, ValidationReport
from ingest.errors import Problem
from ingest.mappers import Mapped

MAX_ROUNDS = 5  # removing a record can orphan a reference to it; a few rounds settle it


@dataclass(frozen=True)
class GateResult:
    blocking: tuple[Problem, ...]  # violations in what would be loaded: nothing loads
    reasons: tuple[Problem, ...]  # every violation found, including those of rejected records
    warnings: tuple[Problem, ...]
    rejected_records: tuple[tuple[str, str], ...]  # (file, record) removed by skip_invalid
    data: bytes = b""  # the N-Triples validated last: what will be loaded


def _problems(report: ValidationReport, mapped: Mapped, source: str) -> list[Problem]:
    problems = []
    for result in report.results:
        file, record = mapped.locators.get(
            result.focus_node, (source, f"node <{result.focus_node}>")
        )
        field = mapped.fields.get(result.path, result.path)
        problems.append(Problem(file, record, field, result.value, result.message, result.severity))
    return problems


def context_types(graph: Graph, reader: StoreReader | None) -> Graph:
    """Types, from the store, of the IRIs this graph points to but does not describe.

    A steward's CSV may relate an actor to one loaded from another source; the shapes need to
    know that the target is an organisation, without this run loading anything about it.
    """
    context = Graph()
    if reader is None:
        return context
    described = set(graph.subjects(RDF.type, None))
    referenced = {o for o in graph.objects() if isinstance(o, URIRef) and o not in described}
    referenced = {o for o in referenced if "/id/" in str(o)}  # only instance IRIs can be actors
    for start in range(0, len(referenced), 500):
        chunk = sorted(referenced)[start : start + 500]
        values = " ".join(f"<{iri}>" for iri in chunk)
        rows = reader.select(f"SELECT ?s ?t WHERE {{ VALUES ?s {{ {values} }} ?s a ?t }}")
        for row in rows:
            context.add((URIRef(row["s"]), RDF.type, URIRef(row["t"])))
    return context


def _drop_records(mapped: Mapped, records: set[tuple[str, str]]) -> None:
    doomed = {URIRef(iri) for iri, where in mapped.locators.items() if where in records}
    for node in doomed:
        mapped.graph.remove((node, None, None))
        mapped.graph.remove((None, None, node))


def check(
    mapped: Mapped,
    source: str,
    validator: GraphValidator,
    reader: StoreReader | None,
    skip_invalid: bool = False,
) -> GateResult:
    rejected: set[tuple[str, str]] = set()
    mapping_violations = [p for p in mapped.problems if p.severity == "Violation"]
    mapping_warnings = [p for p in mapped.problems if p.severity != "Violation"]
    if skip_invalid and mapping_violations:
        rejected |= {(p.file, p.record) for p in mapping_violations}
        _drop_records(mapped, rejected)
    reasons = list(mapping_violations)
    violations: list[Problem] = []
    warnings: list[Problem] = []
    data = b""
    for _ in range(MAX_ROUNDS):
        data = mapped.graph.serialize(format="nt", encoding="utf-8")
        context = context_types(mapped.graph, reader)
        if isinstance(validator, SparqlValidator):  # serialise once, reuse the bytes for loading
            report = validator.validate_ntriples(
                data + context.serialize(format="nt", encoding="utf-8")
            )
        else:
            report = validator.validate(mapped.graph + context)
        problems = _problems(report, mapped, source)
        violations = [p for p in problems if p.severity == "Violation"]
        warnings = [p for p in problems if p.severity != "Violation"]
        reasons += violations
        if not skip_invalid or not violations:
            break
        rejected |= {(p.file, p.record) for p in violations}
        _drop_records(mapped, rejected)
    blocking = violations if skip_invalid else mapping_violations + violations
    return GateResult(
        tuple(blocking),
        tuple(reasons),
        tuple(mapping_warnings + warnings),
        tuple(sorted(rejected)),
        data,
    )
