"""Mappers turn one source's files into RDF; `MAPPERS` names them for source manifests."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field

from rdflib import Graph

from creative_graph.iris import Iris
from ingest.errors import Problem
from ingest.manifest import SourceManifest
from ingest.staging import Staging


@dataclass
class Mapped:
    """What a mapper produced: the triples, plus what a report needs to point back at records.

    Small sources are built as an rdflib `graph`; mappers of sources that can be large write
    N-Triples terms straight to `triples`. `staged()` gives the pipeline all of them in one place.
    """

    graph: Graph = field(default_factory=Graph)
    triples: Staging = field(default_factory=Staging)
    records_read: int = 0
    actors: int = 0
    problems: list[Problem] = field(default_factory=list)
    # IRI of every node minted for a record -> (file name, record locator), to place SHACL results
    locators: dict[str, tuple[str, str]] = field(default_factory=dict)
    # record key -> (file, record locator), for mappers whose IRIs end with the record's key
    # (`{BASE_IRI}id/{kind}/{key}`): one entry a record instead of one a node; see `locate`
    keys: dict[str, tuple[str, str]] = field(default_factory=dict)
    # predicate (prefixed) -> source field, to name the field a SHACL result is about
    fields: dict[str, str] = field(default_factory=dict)

    def locate(self, iri: str) -> tuple[str, str] | None:
        """(file, record) of the record a node was minted for, if this run minted it."""
        return self.locators.get(iri) or self.keys.get(iri.rsplit("/", 1)[-1])

    def minted(self, iri: str) -> bool:
        return self.locate(iri) is not None

    def staged(self) -> Staging:
        """Every triple the mapper produced, in the staging store (`graph` is moved there)."""
        if len(self.graph):
            self.triples.add_graph(self.graph)
            self.graph = Graph()
        self.triples.flush()
        return self.triples

    def to_graph(self) -> Graph:
        """Every triple the mapper produced, as an rdflib graph (for tests and small sources)."""
        return self.staged().to_graph()


Mapper = Callable[[SourceManifest, Iris], Mapped]


# Mapper name (as written in source.toml) -> module with a `map_source(manifest, iris)` function.
MAPPER_MODULES = {
    "urbis-culture-geojson": "ingest.mappers.urbis_culture",
    "brussels-city-places": "ingest.mappers.city_places",
    "nesta-makerspaces-csv": "ingest.mappers.nesta_makerspaces",
    "brussels-subsidies-json": "ingest.mappers.city_subsidies",
    "reinherit-markdown": "ingest.mappers.reinherit",
    "steward-csv": "ingest.mappers.steward_csv",
    "rdf": "ingest.mappers.plain_rdf",
}


def mappers() -> dict[str, Mapper]:
    """Mapper name -> mapper function, for the mappers whose module exists."""
    found: dict[str, Mapper] = {}
    for name, module in MAPPER_MODULES.items():
        try:
            found[name] = importlib.import_module(module).map_source
        except ModuleNotFoundError as error:
            if error.name != module:
                raise
    return found
