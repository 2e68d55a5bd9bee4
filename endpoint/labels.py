"""Readable labels for IRIs, as the pages show them: English first, then French, Dutch, any.

`labels` reads them from the graph (`skos:prefLabel` or `rdfs:label`); `fallback` names the
IRIs of well-known code lists and licences the graph does not label (a Brussels municipality,
a NUTS region, a country, a NACE class, a Creative Commons licence) from the IRI itself.
"""

from __future__ import annotations

import re

from creative_graph.store import StoreReader
from endpoint import maps

SKOS_LABEL = "http://www.w3.org/2004/02/skos/core#prefLabel"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
LANGUAGE_ORDER = {"en": 0, "fr": 1, "nl": 2}

REFNIS = "http://vocab.belgif.be/auth/refnis"
# IRI prefix -> how its last segment (a code) reads
CODE_LISTS = (
    ("http://data.europa.eu/nuts/code/", "NUTS {}"),
    ("http://publications.europa.eu/resource/authority/country/", "{}"),
    ("http://ec.europa.eu/eurostat/ramon/rdfdata/nace_r2/", "NACE Rev. 2 {}"),
    ("http://data.europa.eu/ux2/nace2.1/", "NACE Rev. 2.1 {}"),
    ("http://vocab.belgif.be/auth/nace2025/", "NACE-BEL 2025 {}"),
)
CREATIVE_COMMONS = re.compile(
    r"https?://(?:www\.)?creativecommons\.org/"
    r"(?:licenses/(?P<licence>[a-z-]+)|publicdomain/(?P<domain>zero|mark))/(?P<version>[\d.]+)"
)


def rank(language: str) -> int:
    """Where a literal of this language comes in the pages' preference (lower first)."""
    return LANGUAGE_ORDER.get(language, 3)


def labels(reader: StoreReader, iris: set[str]) -> dict[str, str]:
    """A readable label for each IRI that has one (skos:prefLabel or rdfs:label)."""
    if not iris:
        return {}
    values = " ".join(f"<{iri}>" for iri in sorted(iris))
    ranked: dict[str, tuple[int, str]] = {}
    for row in reader.select(
        f"SELECT ?thing ?label (LANG(?label) AS ?lang) WHERE {{ VALUES ?thing {{ {values} }} "
        f"?thing <{SKOS_LABEL}>|<{RDFS_LABEL}> ?label }}"
    ):
        order = rank(row.get("lang", ""))
        # ties within a language go to the smallest label, so a page reads the same every time
        if row["thing"] not in ranked or (order, row["label"]) < ranked[row["thing"]]:
            ranked[row["thing"]] = (order, row["label"])
    return {thing: label for thing, (_, label) in ranked.items()}


def fallback(iri: str) -> str | None:
    """A readable name for an IRI of a well-known code list or licence, or None."""
    if iri.startswith(REFNIS):
        code = iri.rstrip("/").rsplit("/", 1)[-1]
        return maps.municipality_name(code) or f"REFNIS {code}"
    for prefix, pattern in CODE_LISTS:
        if iri.startswith(prefix) and iri[len(prefix) :].strip("/"):
            return pattern.format(iri[len(prefix) :].strip("/"))
    found = CREATIVE_COMMONS.match(iri)
    if found:
        if found["domain"]:
            name = "CC0" if found["domain"] == "zero" else "Public Domain Mark"
        else:
            name = f"CC {found['licence'].upper()}"
        return f"{name} {found['version']}"
    return None


def name(iri: str, named: dict[str, str]) -> str:
    """The label the graph gives `iri`, else its well-known name, else the IRI itself."""
    return named.get(iri) or fallback(iri) or iri
