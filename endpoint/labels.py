"""Readable labels for IRIs, as the pages show them: English first, then French, Dutch, any."""

from __future__ import annotations

from creative_graph.store import StoreReader

SKOS_LABEL = "http://www.w3.org/2004/02/skos/core#prefLabel"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
LANGUAGE_ORDER = {"en": 0, "fr": 1, "nl": 2}


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
