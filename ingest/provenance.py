"""PROV-O records of ingest runs, and the description of each source graph (DCAT + VoID)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

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


def run_record(facts: RunFacts, iris: Iris) -> Graph:
    """One `prov:Activity` per run: what was read (with checksums), when, and what it produced."""
    graph = Graph()
    run = URIRef(iris.thing("run", facts.run_key))
    agent = URIRef(iris.thing("agent", f"creative-graph-{__version__}"))
    version = URIRef(iris.thing("graph-version", facts.run_key))
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
    return graph
