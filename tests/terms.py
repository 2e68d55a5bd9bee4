"""Is a term declared? By our ontology and concept files, or by a reused vocabulary we ship."""

from __future__ import annotations

from functools import cache

from rdflib import Graph, URIRef
from rdflib.namespace import DCTERMS, FOAF, GEO, OWL, RDF, RDFS, SH, SKOS, TIME, VANN, VOID, XSD

import ontology

# W3C vocabularies that rdflib defines term by term (closed namespaces raise on unknown terms).
RDFLIB_NAMESPACES = (DCTERMS, FOAF, GEO, OWL, RDF, RDFS, SH, SKOS, TIME, VANN, VOID, XSD)
# SPDX 2.3 terms DCAT-AP uses for checksums (no SPDX RDF file is available offline).
SPDX = "http://spdx.org/rdf/terms#"
SPDX_TERMS = {"checksum", "Checksum", "algorithm", "checksumValue", "checksumAlgorithm_sha256"}


@cache
def declared_terms() -> frozenset[URIRef]:
    graph = (
        Graph().parse(ontology.ONTOLOGY_FILE) + ontology.graph() + ontology.reused_vocabularies()
    )
    return frozenset(s for s in graph.subjects(RDF.type, None) if isinstance(s, URIRef))


def _in_rdflib_namespaces(term: URIRef) -> bool:
    for namespace in RDFLIB_NAMESPACES:
        base = str(namespace)
        if str(term).startswith(base):
            try:
                return getattr(namespace, str(term)[len(base) :]) == term
            except AttributeError:
                return False
    return False


def is_declared(term: URIRef, declared: frozenset[URIRef] | None = None) -> bool:
    if term in (declared if declared is not None else declared_terms()):
        return True
    if str(term).startswith(SPDX):
        return str(term)[len(SPDX) :] in SPDX_TERMS
    return _in_rdflib_namespaces(term)
