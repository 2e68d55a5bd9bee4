"""Link coverage: how many of a source's actors are linked to each kind of reference data."""

from __future__ import annotations

from dataclasses import dataclass

from rdflib import Graph, URIRef
from rdflib.namespace import DCTERMS, SKOS

from creative_graph.namespaces import ADMS, CV, LOCN, ORG
from ingest.linking import COUNTRY, NUTS, REFNIS

KBO_SCHEME = URIRef("https://w3id.org/creative-graph/concept/identifier-scheme/be-kbo")


@dataclass(frozen=True)
class Coverage:
    actors: int
    municipality: int
    nuts3: int
    country: int
    enterprise_number: int
    sector: int

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)

    def summary(self) -> str:
        if not self.actors:
            return "no actors"
        parts = [
            f"{name.replace('_', ' ')} {count}/{self.actors} ({100 * count / self.actors:.0f}%)"
            for name, count in self.as_dict().items()
            if name != "actors"
        ]
        return "links: " + ", ".join(parts)


def _units(graph: Graph, actor: URIRef) -> set[str]:
    return {
        str(unit)
        for predicate in (ORG.hasPrimarySite, ORG.hasSite)
        for site in graph.objects(actor, predicate)
        for address in graph.objects(site, LOCN.address)
        for unit in graph.objects(address, CV.adminUnit)
    }


def coverage(graph: Graph, actors: list[URIRef]) -> Coverage:
    counts = dict.fromkeys(("municipality", "nuts3", "country", "enterprise_number", "sector"), 0)
    for actor in actors:
        units = _units(graph, actor)
        counts["municipality"] += any(u.startswith(REFNIS) for u in units)
        counts["nuts3"] += any(u.startswith(NUTS) and len(u) - len(NUTS) == 5 for u in units)
        counts["country"] += any(u.startswith(COUNTRY) for u in units)
        counts["enterprise_number"] += any(
            (identifier, DCTERMS.conformsTo, KBO_SCHEME) in graph
            and graph.value(identifier, SKOS.notation)
            for identifier in graph.objects(actor, ADMS.identifier)
        )
        counts["sector"] += (actor, CV.sector, None) in graph
    return Coverage(actors=len(actors), **counts)
