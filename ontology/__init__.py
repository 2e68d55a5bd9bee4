"""The creative-graph ontology (`creative-graph.ttl`) and its SKOS concept schemes (`concepts/`)."""

from __future__ import annotations

from pathlib import Path

from rdflib import Graph

DIRECTORY = Path(__file__).parent
ONTOLOGY_FILE = DIRECTORY / "creative-graph.ttl"
ONTOLOGY_IRI = "https://w3id.org/creative-graph/ns"


def files() -> list[Path]:
    """The ontology file followed by every concept-scheme file."""
    return [ONTOLOGY_FILE, *sorted((DIRECTORY / "concepts").glob("*.ttl"))]


def graph() -> Graph:
    """The ontology and all concept schemes in one rdflib graph."""
    combined = Graph()
    for path in files():
        combined.parse(path, format="turtle")
    return combined
