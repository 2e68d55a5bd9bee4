"""The creative-graph ontology (`creative-graph.ttl`), its SKOS concept schemes (`concepts/`),
and copies of the vocabularies it reuses (`vocabularies/`)."""

from __future__ import annotations

from pathlib import Path

from rdflib import Graph
from rdflib.namespace import RDFS

DIRECTORY = Path(__file__).parent
ONTOLOGY_FILE = DIRECTORY / "creative-graph.ttl"
ONTOLOGY_IRI = "https://w3id.org/creative-graph/ns"
VOCABULARIES = DIRECTORY / "vocabularies"


def files() -> list[Path]:
    """The ontology file followed by every concept-scheme file."""
    return [ONTOLOGY_FILE, *sorted((DIRECTORY / "concepts").glob("*.ttl"))]


def graph() -> Graph:
    """The ontology and all concept schemes in one rdflib graph."""
    combined = Graph()
    for path in files():
        combined.parse(path, format="turtle")
    return combined


def vocabulary_files() -> list[Path]:
    return sorted(VOCABULARIES.glob("*.ttl"))


def reused_vocabularies() -> Graph:
    """Every reused vocabulary shipped in `vocabularies/`, in one graph."""
    combined = Graph()
    for path in vocabulary_files():
        combined.parse(path, format="turtle")
    return combined


def validation_graph() -> Graph:
    """What validation needs besides the data: our ontology, concepts, and the class hierarchy
    of the reused vocabularies (so a cg:CreativeEcosystem counts as an org:Organization)."""
    combined = graph()
    for path in vocabulary_files():
        if path.name.startswith("schemaorg"):
            continue  # 18k triples; none of its classes is a target of our shapes
        vocabulary = Graph().parse(path, format="turtle")
        for triple in vocabulary.triples((None, RDFS.subClassOf, None)):
            combined.add(triple)
    return combined
