"""The ingest pipeline for one declared source: map -> validate -> load atomically -> publish."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from rdflib import Graph, URIRef
from rdflib import Literal as RdfLiteral
from rdflib.namespace import DCTERMS

import ontology
from creative_graph.iris import Iris, run_key
from creative_graph.namespaces import PREFIXES
from creative_graph.settings import Settings
from creative_graph.store import StoreWriter, canonical_lines
from creative_graph.validation import ValidationReport, Validator
from ingest.errors import Problem, SourceError
from ingest.manifest import SourceManifest
from ingest.mappers import Mapped, mappers
from ingest.provenance import RunFacts, checksum, describe_source, run_record

log = logging.getLogger(__name__)

Status = Literal["loaded", "unchanged", "invalid"]
ONTOLOGY_GRAPH_TITLE = "creative-graph ontology and concept schemes"
RUNS_GRAPH_TITLE = "Ingest runs (PROV-O)"


@dataclass(frozen=True)
class IngestOutcome:
    source: str
    graph: str
    status: Status
    records_read: int
    actors: int
    triples: int
    added: int
    removed: int
    violations: tuple[Problem, ...]
    warnings: tuple[Problem, ...]
    run: str | None = None
    snapshot: str | None = None


def default_validator() -> Validator:
    return Validator.default()


def _as_problems(report: ValidationReport, mapped: Mapped, source: str) -> list[Problem]:
    problems = []
    for result in report.results:
        file, record = mapped.locators.get(
            result.focus_node, (source, f"node <{result.focus_node}>")
        )
        field = mapped.fields.get(result.path, result.path)
        problems.append(Problem(file, record, field, result.value, result.message, result.severity))
    return problems


def _insert_data(graph_iri: str, graph: Graph) -> str:
    body = graph.serialize(format="nt")
    return f"INSERT DATA {{ GRAPH <{graph_iri}> {{\n{body}\n}} }}"


def ingest_source(
    manifest: SourceManifest,
    settings: Settings,
    validator: Validator,
    on_stage: Callable[[str], None] = lambda stage: None,
) -> IngestOutcome:
    """Ingest one source. Invalid input changes nothing in the store.

    Raises `SourceError` when the input cannot be read and `StoreError` when the store cannot
    be written; validation problems are returned in the outcome, not raised.
    """
    iris = Iris(settings.base_iri)
    graph_iri = iris.graph(manifest.name)
    mapper = mappers().get(manifest.mapper)
    if mapper is None:
        known = ", ".join(sorted(mappers()))
        raise SourceError(
            manifest.manifest_path, f"unknown mapper {manifest.mapper!r} (known: {known})"
        )
    started = datetime.now(UTC)
    files = tuple(checksum(path) for path in manifest.files if path.exists())

    on_stage("mapping")
    mapped = mapper(manifest, iris)
    describe_source(mapped.graph, manifest, iris)
    for prefix, namespace in PREFIXES.items():
        mapped.graph.bind(prefix, namespace)

    on_stage("validating")
    problems = mapped.problems + _as_problems(
        validator.validate(mapped.graph), mapped, manifest.name
    )
    violations = tuple(p for p in problems if p.severity == "Violation")
    warnings = tuple(p for p in problems if p.severity != "Violation")
    triples = len(mapped.graph)
    if violations:
        return IngestOutcome(
            manifest.name, graph_iri, "invalid", mapped.records_read, mapped.actors, triples,
            0, 0, violations, warnings,
        )  # fmt: skip

    on_stage("loading")
    data = mapped.graph.serialize(format="nt", encoding="utf-8")
    new_lines = canonical_lines(data)
    key = run_key()
    with StoreWriter(settings.store, settings.snapshots_kept) as writer:
        writer.drop_stale_staging()
        _refresh_ontology(writer, iris)
        old_lines = writer.graph_lines(graph_iri)
        facts = RunFacts(
            source=manifest.name, run_key=key, started=started, ended=datetime.now(UTC),
            files=files, records_read=mapped.records_read, records_loaded=mapped.actors,
            records_rejected=0, warnings=len(warnings), triples=triples, actors=mapped.actors,
        )  # fmt: skip
        run_graph = run_record(facts, iris)
        run_graph.add((URIRef(iris.runs_graph), DCTERMS.title, RdfLiteral(RUNS_GRAPH_TITLE)))
        record = _insert_data(iris.runs_graph, run_graph)
        writer.replace_graph(graph_iri, data, key, also=record)
        on_stage("publishing")
        snapshot = writer.publish()
    added, removed = len(new_lines - old_lines), len(old_lines - new_lines)
    return IngestOutcome(
        manifest.name, graph_iri, "unchanged" if not (added or removed) else "loaded",
        mapped.records_read, mapped.actors, triples, added, removed, (), warnings,
        iris.thing("run", key), snapshot,
    )  # fmt: skip


def _refresh_ontology(writer: StoreWriter, iris: Iris) -> None:
    """Keep the ontology graph equal to the ontology and concept files of this version."""
    graph = ontology.graph()
    graph.add((URIRef(iris.ontology_graph), DCTERMS.title, RdfLiteral(ONTOLOGY_GRAPH_TITLE)))
    data = graph.serialize(format="nt", encoding="utf-8")
    if canonical_lines(data) != writer.graph_lines(iris.ontology_graph):
        writer.replace_graph(iris.ontology_graph, data, run_key())
        log.info("ontology graph updated")
