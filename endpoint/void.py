"""The VoID description at `/.well-known/void` (RFC 5785 well-known URI, VoID §7.2).

One `void:Dataset` for the whole graph, with the SPARQL endpoint, the entity URI space and one
`void:subset` per named graph; each with its real statistics: triples, entities (IRIs in the
`{BASE_IRI}id/` space that are subjects), distinct subjects and objects, classes, properties,
and class and property partitions. The statistics are counted on the published snapshot once
and kept until the next snapshot, so they are current after every ingest.
"""

from __future__ import annotations

import threading

from fastapi import APIRouter, Request
from fastapi.responses import Response
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, RDF, VOID, XSD

from creative_graph.settings import Settings
from creative_graph.store import Snapshot, StoreReader
from endpoint.caching import not_modified, validators
from endpoint.representations import BY_MEDIA_TYPE, not_acceptable, preferred, rdf_response

SD = "http://www.w3.org/ns/sparql-service-description#"
TITLE = "creative-graph: the creative ecosystem graph"


def _count(value: str) -> Literal:
    return Literal(int(value), datatype=XSD.integer)


class VoidDescription:
    """Builds the description from a reader, once per published snapshot."""

    def __init__(self, reader: StoreReader, settings: Settings) -> None:
        self.reader = reader
        self.base = settings.base_iri
        self._lock = threading.Lock()
        self._cached: tuple[str | None, Graph] | None = None

    def graph(self, snapshot: Snapshot) -> Graph:
        with self._lock:
            if self._cached is None or self._cached[0] != snapshot.name:
                self._cached = (snapshot.name, self._build())
            return self._cached[1]

    def _rows(self, query: str) -> list[dict[str, str]]:
        return self.reader.select(query)

    def _build(self) -> Graph:
        base, space = self.base, self.base + "id/"
        graph = Graph()
        graph.bind("void", VOID)
        graph.bind("dct", DCTERMS)
        whole = URIRef(base + "void#dataset")
        description = URIRef(base + ".well-known/void")
        graph.add((description, RDF.type, VOID.DatasetDescription))
        graph.add(
            (description, DCTERMS.title, Literal("VoID description of creative-graph", lang="en"))
        )
        graph.add((description, URIRef("http://xmlns.com/foaf/0.1/primaryTopic"), whole))
        graph.add((whole, RDF.type, VOID.Dataset))
        graph.add((whole, DCTERMS.title, Literal(TITLE, lang="en")))
        graph.add((whole, VOID.sparqlEndpoint, URIRef(base + "sparql")))
        graph.add((whole, VOID.uriSpace, Literal(space)))
        graph.add((whole, VOID.rootResource, URIRef(base)))
        entity = f'FILTER (isIRI(?s) && STRSTARTS(STR(?s), "{space}"))'
        per_graph = {
            row["g"]: row
            for row in self._rows(
                "SELECT ?g (COUNT(*) AS ?triples) (COUNT(DISTINCT ?s) AS ?subjects) "
                "(COUNT(DISTINCT ?p) AS ?properties) (COUNT(DISTINCT ?o) AS ?objects) "
                "WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"
            )
        }
        entities = {
            row["g"]: row["n"]
            for row in self._rows(
                "SELECT ?g (COUNT(DISTINCT ?s) AS ?n) "
                f"WHERE {{ GRAPH ?g {{ ?s ?p ?o }} {entity} }} GROUP BY ?g"
            )
        }
        classes: dict[str, list[tuple[str, str]]] = {}
        for row in self._rows(
            "SELECT ?g ?c (COUNT(DISTINCT ?s) AS ?n) WHERE { GRAPH ?g { ?s a ?c } } GROUP BY ?g ?c"
        ):
            classes.setdefault(row["g"], []).append((row["c"], row["n"]))
        properties: dict[str, list[tuple[str, str]]] = {}
        for row in self._rows(
            "SELECT ?g ?p (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g ?p"
        ):
            properties.setdefault(row["g"], []).append((row["p"], row["n"]))
        for name, row in sorted(per_graph.items()):
            subset = URIRef(name)
            graph.add((whole, VOID.subset, subset))
            graph.add((subset, RDF.type, VOID.Dataset))
            graph.add((subset, RDF.type, URIRef(SD + "NamedGraph")))
            graph.add((subset, URIRef(SD + "name"), subset))
            graph.add((subset, VOID.sparqlEndpoint, URIRef(base + "sparql")))
            graph.add((subset, VOID.triples, _count(row["triples"])))
            graph.add((subset, VOID.distinctSubjects, _count(row["subjects"])))
            graph.add((subset, VOID.distinctObjects, _count(row["objects"])))
            graph.add((subset, VOID.properties, _count(row["properties"])))
            graph.add((subset, VOID.entities, _count(entities.get(name, "0"))))
            graph.add((subset, VOID.classes, _count(str(len(classes.get(name, []))))))
            for kind, items, term in (
                (VOID.classPartition, classes.get(name, []), VOID["class"]),
                (VOID.propertyPartition, properties.get(name, []), VOID.property),
            ):
                for iri, count in sorted(items):
                    partition = BNode()
                    graph.add((subset, kind, partition))
                    graph.add((partition, term, URIRef(iri)))
                    counted = VOID.entities if kind == VOID.classPartition else VOID.triples
                    graph.add((partition, counted, _count(count)))
        (totals,) = self._rows(
            "SELECT (COUNT(*) AS ?triples) (COUNT(DISTINCT ?s) AS ?subjects) "
            "(COUNT(DISTINCT ?p) AS ?properties) (COUNT(DISTINCT ?o) AS ?objects) "
            "WHERE { SELECT DISTINCT ?s ?p ?o WHERE { ?s ?p ?o } }"
        )  # distinct: the default graph is the union of the named graphs
        (counted_classes,) = self._rows("SELECT (COUNT(DISTINCT ?c) AS ?n) WHERE { ?s a ?c }")
        (counted_entities,) = self._rows(
            f"SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{ ?s ?p ?o {entity} }}"
        )
        graph.add((whole, VOID.triples, _count(totals["triples"])))
        graph.add((whole, VOID.distinctSubjects, _count(totals["subjects"])))
        graph.add((whole, VOID.distinctObjects, _count(totals["objects"])))
        graph.add((whole, VOID.properties, _count(totals["properties"])))
        graph.add((whole, VOID.classes, _count(counted_classes["n"])))
        graph.add((whole, VOID.entities, _count(counted_entities["n"])))
        return graph


def router(reader: StoreReader, settings: Settings) -> APIRouter:
    api = APIRouter()
    description = VoidDescription(reader, settings)

    @api.head("/.well-known/void", include_in_schema=False)
    @api.get("/.well-known/void", summary="The VoID description, with statistics")
    def void(request: Request) -> Response:
        media_type = preferred(request, html=False)
        if media_type is None:
            return not_acceptable()
        snapshot = reader.snapshot
        headers = {"Vary": "Accept", **validators(snapshot, media_type)}
        unchanged = not_modified(request, headers)
        if unchanged is not None:
            return unchanged
        return rdf_response(description.graph(snapshot), BY_MEDIA_TYPE[media_type], headers)

    return api
