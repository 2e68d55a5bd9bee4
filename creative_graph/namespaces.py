"""Namespaces used across the project, as rdflib `Namespace`s and as a SPARQL prefix block."""

from __future__ import annotations

from rdflib import Namespace
from rdflib.namespace import DCAT, DCTERMS, FOAF, OWL, PROV, RDF, RDFS, SKOS, VOID, XSD

CG = Namespace("https://w3id.org/creative-graph/ns#")
CONCEPT = Namespace("https://w3id.org/creative-graph/concept/")
CGSH = Namespace("https://w3id.org/creative-graph/shapes#")
ORG = Namespace("http://www.w3.org/ns/org#")
LOCN = Namespace("http://www.w3.org/ns/locn#")
GEO = Namespace("http://www.opengis.net/ont/geosparql#")
CV = Namespace("http://data.europa.eu/m8g/")
ADMS = Namespace("http://www.w3.org/ns/adms#")
SCHEMA = Namespace("https://schema.org/")
SPDX = Namespace("http://spdx.org/rdf/terms#")
VANN = Namespace("http://purl.org/vocab/vann/")
REFNIS = Namespace("http://vocab.belgif.be/auth/refnis2025/")

DCT = DCTERMS

PREFIXES: dict[str, str] = {
    "cg": str(CG),
    "org": str(ORG),
    "skos": str(SKOS),
    "locn": str(LOCN),
    "geo": str(GEO),
    "cv": str(CV),
    "adms": str(ADMS),
    "schema": str(SCHEMA),
    "dct": str(DCTERMS),
    "dcat": str(DCAT),
    "foaf": str(FOAF),
    "prov": str(PROV),
    "void": str(VOID),
    "spdx": str(SPDX),
    "owl": str(OWL),
    "rdf": str(RDF),
    "rdfs": str(RDFS),
    "xsd": str(XSD),
}


def sparql_prefixes() -> str:
    """The project's prefixes as SPARQL `PREFIX` lines, for example queries and forms."""
    return "".join(f"PREFIX {name}: <{iri}>\n" for name, iri in PREFIXES.items())


def concept(scheme: str, code: str) -> str:
    """IRI of concept `code` in our SKOS scheme `scheme`."""
    return f"{CONCEPT}{scheme}/{code}"


def concept_scheme(scheme: str) -> str:
    return f"{CONCEPT}{scheme}"
