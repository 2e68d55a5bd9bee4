"""PROV-O records of ingest runs, and the description of each source graph (DCAT + VoID).

Every run generates a version of its graph (`prov:Entity`, `prov:specializationOf` the graph)
with `dct:modified`: when the graph's data last changed, that is the run's end when it added or
removed a triple, else the `dct:modified` of the version before (a run that changed nothing
carries it forward). The catalogue's `dct:modified` of a dataset is that of its latest version.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pyoxigraph as ox
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, PROV, RDF, RDFS, VOID, XSD

from creative_graph import __version__
from creative_graph.iris import Iris
from creative_graph.namespaces import CG, SPDX
from ingest.manifest import SourceManifest


@dataclass(frozen=True)
class FileChecksum:
    path: Path
    sha256: str
    size: int


def checksum(path: Path) -> FileChecksum:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return FileChecksum(path, digest.hexdigest(), path.stat().st_size)


def describe_source(graph: Graph, manifest: SourceManifest, iris: Iris) -> None:
    """Add the source graph's own description (title, publisher, licence, attribution) to it.

    Only facts that change with the manifest go here, so re-ingesting unchanged input changes
    no triple of the graph; times and counts go to the run record.
    """
    dataset = URIRef(iris.graph(manifest.name))
    publisher = URIRef(iris.thing("publisher", manifest.name))
    licence = URIRef(manifest.licence_iri or iris.thing("licence", manifest.name))
    rights = URIRef(iris.thing("rights", manifest.name))
    graph.add((dataset, RDF.type, DCAT.Dataset))
    graph.add((dataset, RDF.type, VOID.Dataset))
    graph.add((dataset, DCTERMS.title, Literal(manifest.title)))
    graph.add((dataset, DCTERMS.identifier, Literal(manifest.name)))
    graph.add((dataset, DCTERMS.publisher, publisher))
    graph.add((publisher, RDF.type, FOAF.Agent))
    graph.add((publisher, FOAF.name, Literal(manifest.publisher)))
    graph.add((dataset, DCTERMS.license, licence))
    graph.add((licence, RDF.type, DCTERMS.LicenseDocument))
    if manifest.licence_iri is None:
        graph.add((licence, RDFS.label, Literal(manifest.licence_name)))
    graph.add((dataset, DCTERMS.rights, rights))
    graph.add((rights, RDF.type, DCTERMS.RightsStatement))
    graph.add((rights, RDFS.label, Literal(manifest.attribution)))
    if manifest.homepage:
        graph.add((dataset, DCTERMS.source, URIRef(manifest.homepage)))


@dataclass(frozen=True)
class RunFacts:
    source: str
    run_key: str
    started: datetime
    ended: datetime
    files: tuple[FileChecksum, ...]
    records_read: int
    records_loaded: int
    records_rejected: int
    warnings: int
    triples: int
    actors: int


def version_iri(facts: RunFacts, iris: Iris) -> str:
    """The version of its graph a run generates."""
    return iris.thing("graph-version", facts.run_key)


def run_record(facts: RunFacts, iris: Iris, changed: bool = False) -> Graph:
    """One `prov:Activity` per run: what was read (with checksums), when, and what it produced.

    `changed`: the run is known to change the graph's data (a first load), so its version's
    `dct:modified` is the run's end; otherwise `data_modified` adds it once the load has said.
    """
    graph = Graph()
    run = URIRef(iris.thing("run", facts.run_key))
    agent = URIRef(iris.thing("agent", f"creative-graph-{__version__}"))
    version = URIRef(version_iri(facts, iris))
    graph.add((run, RDF.type, PROV.Activity))
    graph.add((run, RDFS.label, Literal(f"ingest of {facts.source}", lang="en")))
    graph.add((run, PROV.startedAtTime, Literal(facts.started.isoformat(), datatype=XSD.dateTime)))
    graph.add((run, PROV.endedAtTime, Literal(facts.ended.isoformat(), datatype=XSD.dateTime)))
    graph.add((run, PROV.wasAssociatedWith, agent))
    graph.add((agent, RDF.type, PROV.SoftwareAgent))
    graph.add((agent, RDFS.label, Literal(f"creative-graph {__version__}")))
    for count, value in (
        (CG.recordsRead, facts.records_read),
        (CG.recordsLoaded, facts.records_loaded),
        (CG.recordsRejected, facts.records_rejected),
        (CG.warnings, facts.warnings),
    ):
        graph.add((run, count, Literal(value, datatype=XSD.integer)))
    for file in facts.files:
        entity = URIRef(iris.thing("file", file.sha256))
        digest = URIRef(iris.thing("checksum", file.sha256))
        graph.add((run, PROV.used, entity))
        graph.add((entity, RDF.type, PROV.Entity))
        graph.add((entity, DCTERMS.title, Literal(file.path.name)))
        graph.add((entity, DCAT.byteSize, Literal(file.size, datatype=XSD.integer)))
        graph.add((entity, SPDX.checksum, digest))
        graph.add((digest, RDF.type, SPDX.Checksum))
        graph.add((digest, SPDX.algorithm, SPDX.checksumAlgorithm_sha256))
        graph.add((digest, SPDX.checksumValue, Literal(file.sha256, datatype=XSD.hexBinary)))
    graph.add((run, PROV.generated, version))
    graph.add((version, RDF.type, PROV.Entity))
    graph.add((version, PROV.specializationOf, URIRef(iris.graph(facts.source))))
    graph.add((version, PROV.wasGeneratedBy, run))
    graph.add(
        (version, PROV.generatedAtTime, Literal(facts.ended.isoformat(), datatype=XSD.dateTime))
    )
    graph.add((version, VOID.triples, Literal(facts.triples, datatype=XSD.integer)))
    graph.add((version, VOID.entities, Literal(facts.actors, datatype=XSD.integer)))
    if changed:
        graph.add((version, DCTERMS.modified, _date_time(facts.ended.isoformat())))
    return graph


def _date_time(value: str) -> Literal:
    return Literal(value, datatype=XSD.dateTime)


_LAST_CHANGE = """
PREFIX prov: <http://www.w3.org/ns/prov#> PREFIX dct: <http://purl.org/dc/terms/>
SELECT ?graph ?version ?generated ?modified WHERE {
  ?version prov:specializationOf ?graph ; prov:generatedAtTime ?generated .
  OPTIONAL { ?version dct:modified ?modified }
}
"""


def data_modified(
    runs: Iterable[str], graph: str, version: str, changed: bool, ended: datetime
) -> Graph:
    """The `dct:modified` of the version a run generated, once its load has said whether it
    `changed` the graph's data: the run's end if it did (or when no version came before), else
    the `dct:modified` of the version before it, read from `runs` (the runs graph as canonical
    N-Triples lines). A version without one (recorded before this existed, or by a run stopped
    between its load and this) counts as a change at its generation time."""
    modified = ended.isoformat()
    if not changed:
        store = ox.Store()
        store.load("".join(f"{line} .\n" for line in runs).encode(), format=ox.RdfFormat.N_TRIPLES)
        bound = {ox.Variable("graph"): ox.NamedNode(graph)}
        results = store.query(_LAST_CHANGE, substitutions=bound)
        assert isinstance(results, ox.QuerySolutions)
        earlier = [
            (datetime.fromisoformat(row["generated"].value), (row["modified"] or row["generated"]))
            for row in results
            if row["version"].value != version
        ]
        if earlier:
            modified = max(earlier, key=lambda pair: pair[0])[1].value
    found = Graph()
    found.add((URIRef(version), DCTERMS.modified, _date_time(modified)))
    return found
