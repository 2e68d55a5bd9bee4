"""Mappers turn one source's files into RDF; `MAPPERS` names them for source manifests."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from rdflib import Graph

from creative_graph.iris import Iris
from ingest.errors import Problem
from ingest.manifest import SourceManifest


@dataclass
class Mapped:
    """What a mapper produced: the triples, plus what a report needs to point back at records."""

    graph: Graph
    records_read: int = 0
    actors: int = 0
    problems: list[Problem] = field(default_factory=list)
    # IRI of every node minted for a record -> (file name, record locator), to place SHACL results
    locators: dict[str, tuple[str, str]] = field(default_factory=dict)
    # predicate (prefixed) -> source field, to name the field a SHACL result is about
    fields: dict[str, str] = field(default_factory=dict)


Mapper = Callable[[SourceManifest, Iris], Mapped]


def mappers() -> dict[str, Mapper]:
    """Mapper name (as written in source.toml) -> mapper function."""
    from ingest.mappers import urbis_culture

    return {"urbis-culture-geojson": urbis_culture.map_source}
