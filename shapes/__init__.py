"""The project's SHACL shapes (`creative-graph-shapes.ttl`)."""

from __future__ import annotations

from pathlib import Path

from rdflib import Graph

DIRECTORY = Path(__file__).parent
SHAPES_IRI = "https://w3id.org/creative-graph/shapes"


def files() -> list[Path]:
    return sorted(DIRECTORY.glob("*.ttl"))


def graph() -> Graph:
    combined = Graph()
    for path in files():
        combined.parse(path, format="turtle")
    return combined
