"""The ingest pipeline of one declared source: map, identify, validate, load atomically, publish."""

from __future__ import annotations

import csv
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from rdflib import Graph, URIRef
from rdflib import Literal as RdfLiteral
from rdflib.namespace import DCTERMS

import ontology
from creative_graph.iris import Iris, run_key
from creative_graph.settings import Settings
from creative_graph.sparql_validation import SparqlValidator
from creative_graph.store import StoreReader, StoreWriter, canonical_lines
from creative_graph.validation import GraphValidator, class_checked_predicates
from ingest import gate, identity
from ingest.coverage import Coverage, coverage
from ingest.errors import Problem, SourceError
from ingest.manifest import SourceManifest
from ingest.mappers import mappers
from ingest.provenance import (
    RunFacts,
    checksum,
    data_modified,
    describe_source,
    run_record,
    version_iri,
)
from ingest.registry import Registry
from ingest.staging import SPILL_DIR, Staging, keep_big_blocks_out_of_the_heap, return_free_memory

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
    rejected: tuple[tuple[str, str], ...] = ()
    matched: int = 0  # actors identified with an actor of another source
    coverage: Coverage | None = None
    report: str | None = None  # file listing rejected records, with --skip-invalid
    reasons: tuple[Problem, ...] = field(default=())


def default_validator() -> GraphValidator:
    """The compiled SPARQL validator: same results as pySHACL on our shapes, 10-20x faster."""
    return SparqlValidator.default()


def _published_reader(settings: Settings) -> StoreReader | None:
    reader = StoreReader(settings.store)
    return reader if reader.snapshot.name else None


def write_rejections(
    path: Path, reasons: tuple[Problem, ...], rejected: set[tuple[str, str]]
) -> None:
    """One CSV row per reason a rejected record was refused."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["file", "record", "field", "value", "message"])
        for problem in reasons:
            if (problem.file, problem.record) in rejected:
                writer.writerow(
                    [problem.file, problem.record, problem.field, problem.value, problem.message]
                )


@dataclass(frozen=True)
class Counted:
    """What the staged triples count, and the IRIs they point to without describing them."""

    triples: int
    actors: list[str]
    coverage: Coverage
    targets: list[str]  # for the gate's context look-up (`gate.referenced`)


def _count(staging: Staging, validator: GraphValidator) -> Counted:
    actors = identity.organisations(staging)
    checked = class_checked_predicates(validator.shapes)
    return Counted(
        len(staging), actors, coverage(staging, actors), gate.referenced(staging, checked)
    )


def ingest_source(
    manifest: SourceManifest,
    settings: Settings,
    validator: GraphValidator,
    on_stage: Callable[[str], None] = lambda stage: None,
    skip_invalid: bool = False,
    report_dir: Path | None = None,
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
    missing = [path for path in manifest.files if not path.exists()]
    if missing:
        raise SourceError(missing[0], "file not found (listed in the source manifest)")
    started = datetime.now(UTC)
    files = tuple(checksum(path) for path in manifest.files)
    keep_big_blocks_out_of_the_heap()

    on_stage("mapping")
    # on the store's disk, never a /tmp that may be RAM
    spilling = SPILL_DIR.set(settings.store / "incoming")
    try:
        mapped = mapper(manifest, iris)
    finally:
        SPILL_DIR.reset(spilling)

    on_stage("identifying")
    # each stage's transient memory (mapping's batches, identity's query results) is given
    # back before the next: glibc would keep it for the thread that freed it, and the next
    # stage's threads would take more from the system (see `return_free_memory`)
    return_free_memory()
    description = Graph()
    describe_source(description, manifest, iris)
    staging = mapped.staged()
    staging.add_graph(description)
    registry = Registry(settings.store / "registry.sqlite3")
    try:
        region = manifest.match_region
        # identity is Python on one core: what only a rename could change is counted on the
        # other meanwhile (counted again below if identity renamed or the gate dropped records)
        with ThreadPoolExecutor(max_workers=1) as pool:
            counting = pool.submit(_count, staging, validator)
            resolution = identity.resolve(mapped, manifest.name, registry, iris, region)
            counted: Counted | None = counting.result()
        if resolution.renames:
            counted = None
        identity.apply(mapped, resolution.renames)

        on_stage("validating")
        return_free_memory()
        # the published snapshot is open only while the gate looks up context: a RocksDB
        # store keeps its caches while open, and the bulk load wants that memory
        checked = gate.check(
            mapped,
            manifest.name,
            validator,
            _published_reader(settings),
            skip_invalid,
            targets=counted.targets if counted else None,
        )
        if counted is None or checked.rejected_records:
            counted = _count(staging, validator)
        triples, actors = counted.triples, counted.actors
        if checked.blocking:
            return IngestOutcome(
                manifest.name, graph_iri, "invalid", mapped.records_read, mapped.actors,
                triples, 0, 0, checked.blocking, checked.warnings,
            )  # fmt: skip
        report = None
        if checked.rejected_records:
            report_path = (
                report_dir or settings.store.parent / "reports"
            ) / f"{manifest.name}-rejected.csv"
            write_rejections(report_path, checked.reasons, set(checked.rejected_records))
            report = str(report_path)
        link_coverage = counted.coverage
        actor_count = len(actors)
        del actors, counted
        mapped.locators.clear()  # not needed any more; the bulk load wants the memory
        mapped.keys.clear()
        matched = resolution.matched
        # actors this run proved to be one: the replaced IRI gives way to its survivor
        merged = {iris.thing("actor", y): iris.thing("actor", o) for y, o in resolution.merges}
        on_stage("loading")
        key = run_key()
        with StoreWriter(settings.store, settings.snapshots_kept) as writer:
            _refresh_ontology(writer, iris)
            facts = RunFacts(
                source=manifest.name, run_key=key, started=started, ended=datetime.now(UTC),
                files=files, records_read=mapped.records_read,
                records_loaded=mapped.records_read - len(checked.rejected_records),
                records_rejected=len(checked.rejected_records),
                warnings=len(checked.warnings), triples=triples, actors=actor_count,
            )  # fmt: skip
            first_load = writer.is_empty(graph_iri)  # then the run changes the data for sure
            run_graph = run_record(facts, iris, changed=first_load)
            run_graph.add((URIRef(iris.runs_graph), DCTERMS.title, RdfLiteral(RUNS_GRAPH_TITLE)))
            record = canonical_lines(run_graph.serialize(format="nt", encoding="utf-8"))
            if first_load:
                ntriples = staging.handover(writer.incoming(key))
                # everything but the load's input is given back before the bulk load (~700 MB
                # at 100,000 actors, see `creative_graph.bulk`); freeing the staged triples
                # holds the GIL (~3 s), so nothing else runs meanwhile
                staging.release()
                # the registry's rows are written while the store loads (pyoxigraph releases
                # the GIL): the loaded copy is adopted only if they were, and they are
                # committed only once it has been
                with ThreadPoolExecutor(max_workers=1) as pool:
                    writing = pool.submit(identity.write, resolution, manifest.name, registry)
                    writer.load_new_graph(
                        graph_iri, ntriples, also={iris.runs_graph: record},
                        before_adopting=writing.result,
                    )  # fmt: skip
                added, removed = triples, 0
            else:
                added, removed = writer.replace_graph_with(
                    graph_iri, staging.store, also={iris.runs_graph: record}
                )
                staging.release()
                _record_data_modified(writer, iris, facts, graph_iri, bool(added or removed))
                identity.write(resolution, manifest.name, registry)
            registry.commit()
            # in the other sources' graphs too; the identity graph keeps the old IRIs' links
            writer.rename(merged, keep=[iris.graph("identity"), graph_iri])
            _refresh_identity(writer, registry, iris)
            on_stage("publishing")
            snapshot = writer.publish()
    finally:
        registry.close()
    return IngestOutcome(
        manifest.name, graph_iri, "unchanged" if not (added or removed) else "loaded",
        mapped.records_read, actor_count, triples, added, removed, (), checked.warnings,
        iris.thing("run", key), snapshot, checked.rejected_records, matched,
        link_coverage, report, checked.reasons,
    )  # fmt: skip


def _record_data_modified(
    writer: StoreWriter, iris: Iris, facts: RunFacts, graph_iri: str, changed: bool
) -> None:
    """Say when the graph's data last changed on the version the run generated (`dct:modified`,
    see `ingest.provenance`), once the load has told whether it added or removed a triple.

    A write of its own, right after the load's (which carried the run record): the difference
    is known only once the load has computed it. A run stopped in between leaves a version
    without `dct:modified`, which the catalogue counts as a change: at worst a harvester fetches
    an unchanged dataset again, never misses a changed one.
    """
    runs = writer.graph_lines(iris.runs_graph)
    modified = data_modified(runs, graph_iri, version_iri(facts, iris), changed, facts.ended)
    writer.replace_graph(
        iris.runs_graph, runs | canonical_lines(modified.serialize(format="nt", encoding="utf-8"))
    )


def _refresh_ontology(writer: StoreWriter, iris: Iris) -> None:
    """Keep the ontology graph equal to the ontology and concept files of this version."""
    graph = ontology.graph()
    graph.add((URIRef(iris.ontology_graph), DCTERMS.title, RdfLiteral(ONTOLOGY_GRAPH_TITLE)))
    _replace_if_changed(writer, iris.ontology_graph, graph)


def _refresh_identity(writer: StoreWriter, registry: Registry, iris: Iris) -> None:
    _replace_if_changed(writer, iris.graph("identity"), identity.identity_graph(registry, iris))


def _replace_if_changed(writer: StoreWriter, graph_iri: str, graph: Graph) -> None:
    added, removed = writer.replace_graph(
        graph_iri, canonical_lines(graph.serialize(format="nt", encoding="utf-8"))
    )
    if added or removed:
        log.debug("graph %s updated (+%d -%d)", graph_iri, added, removed)
