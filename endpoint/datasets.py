"""Each named graph's IRI resolves: `/graph/{name}` describes the graph, not its content.

A source graph is a dataset: for machines, its DCAT-AP description from the catalogue (Turtle,
JSON-LD, RDF/XML, N-Triples, by `Accept` or suffix); for people, a page with what it is, who
publishes it under which licence, its size, its downloads and a query to start with, and
schema.org `Dataset` JSON-LD so that dataset search engines find it. The instance's own graphs
(`ontology`, `runs`, `identity`) and any other named graph under `{BASE_IRI}graph/` get a
shorter description (VoID): what the graph holds, its triples, its dumps, and where to read on
(the ontology's pages, the runs, the replaced actor IRIs). The content itself is in the dumps
and the SPARQL endpoint.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response
from fastapi.templating import Jinja2Templates
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF, RDFS, VOID, XSD

from creative_graph import dumps
from creative_graph.settings import Settings
from creative_graph.store import Snapshot, StoreReader
from endpoint.caching import not_modified
from endpoint.catalog import Catalog, reachable
from endpoint.representations import (
    BY_MEDIA_TYPE,
    HTML,
    RdfFormat,
    alternates,
    json_for_html,
    not_acceptable,
    preferred,
    rdf_response,
    split_suffix,
)

SCHEMA_FORMATS = {"application/n-quads": "application/n-quads", "text/turtle": "text/turtle"}
SD = "http://www.w3.org/ns/sparql-service-description#"
# a graph `{BASE_IRI}graph/{name}` has a page when its name needs no escaping in a path, an IRI
# or a query
GRAPH_NAME = re.compile(r"[A-Za-z0-9_~-]+")
LISTED = 100  # runs or replaced IRIs shown on a graph's page; a query gives them all
# what the instance's own graphs hold (`ingest.pipeline`, `ingest.identity`, `writes`)
OWN_GRAPHS = {
    "ontology": "The model this instance publishes: the creative-graph ontology and its SKOS "
    "concept schemes, as the last ingest loaded them.",
    "runs": "Provenance: one PROV-O activity for each ingest run and each validated write, with "
    "when it ran, what it read (files or requests, with SHA-256 checksums) and what it produced.",
    "identity": "Actor identity: when two actor IRIs turn out to name the same actor, one "
    "survives; each replaced IRI is owl:sameAs and dct:isReplacedBy its survivor, and redirects "
    "to it.",
}
RUNS_QUERY = """PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?run ?label ?started ?ended WHERE { GRAPH <%s> {
  ?run a prov:Activity ; rdfs:label ?label ; prov:startedAtTime ?started ;
       prov:endedAtTime ?ended } }
ORDER BY DESC(?ended) ?run"""
REPLACED_QUERY = """PREFIX dct: <http://purl.org/dc/terms/>
SELECT ?replaced ?survivor WHERE { GRAPH <%s> { ?replaced dct:isReplacedBy ?survivor } }
ORDER BY ?replaced"""


def graph_page(graph: str, base: str) -> str | None:
    """The path of a named graph's page on this instance, or None when it has none."""
    name = graph.removeprefix(f"{base}graph/")
    return f"/graph/{name}" if name != graph and GRAPH_NAME.fullmatch(name) else None


def description(full: Graph, dataset: URIRef, base: str) -> Graph:
    """The dataset's part of the catalogue: itself and everything reachable from it."""
    others = set(full.subjects(RDF.type, DCAT.Dataset)) - {dataset}
    part = reachable(full, [dataset], {URIRef(base + "catalog"), *others}, Graph())
    part.namespace_manager = full.namespace_manager
    return part


def licence(part: Graph, dataset: URIRef) -> str:
    """The dataset's licence: DCAT-AP puts it on the distributions (all carry the same one)."""
    found = {str(o) for d in part.objects(dataset, DCAT.distribution)
             for o in part.objects(d, DCTERMS.license)}  # fmt: skip
    return min(found) if found else ""


def schema_dataset(part: Graph, dataset: URIRef) -> dict[str, object]:
    """schema.org `Dataset`, the shape dataset search engines read."""
    value = part.value
    document: dict[str, object] = {
        "@context": "https://schema.org",
        "@type": "Dataset",
        "@id": str(dataset),
        "name": str(value(dataset, DCTERMS.title)),
        "description": str(value(dataset, DCTERMS.description)),
        "identifier": str(value(dataset, DCTERMS.identifier)),
        "license": licence(part, dataset),
        "isAccessibleForFree": True,
        "keywords": sorted({str(k) for k in part.objects(dataset, DCAT.keyword)}),
    }
    publisher = value(dataset, DCTERMS.publisher)
    if publisher is not None:
        document["publisher"] = {"@type": "Organization", "name": str(value(publisher, FOAF.name))}
    modified = value(dataset, DCTERMS.modified)
    if modified is not None:
        document["dateModified"] = str(modified)
    downloads = []
    for distribution in part.objects(dataset, DCAT.distribution):
        url = value(distribution, DCAT.downloadURL)
        media = value(distribution, DCAT.mediaType)
        if url is None or media is None:
            continue
        media_type = str(media).split("media-types/", 1)[-1]
        downloads.append(
            {"@type": "DataDownload", "contentUrl": str(url), "encodingFormat": media_type}
        )
    if downloads:
        document["distribution"] = sorted(downloads, key=lambda d: str(d["contentUrl"]))
    return document


def router(
    reader: StoreReader, catalog: Catalog, templates: Jinja2Templates, settings: Settings
) -> APIRouter:
    api = APIRouter(tags=["datasets"])
    base = settings.base_iri

    @api.get("/graph/{name}", summary="A named graph's description (DCAT-AP or VoID; HTML)")
    def named_graph(request: Request, name: str) -> Response:
        name, forced = split_suffix(name)
        snapshot = reader.snapshot
        full = catalog.graph(snapshot)
        iri = URIRef(f"{base}graph/{name}")
        is_dataset = (iri, RDF.type, DCAT.Dataset) in full
        if not is_dataset and not (GRAPH_NAME.fullmatch(name) and reader.has_graph(str(iri))):
            return PlainTextResponse(f"No graph <{iri}> here; see /catalog\n", status_code=404)
        media_type, headers = negotiated(request, name, forced, snapshot)
        if media_type is None:
            return not_acceptable()
        unchanged = not_modified(request, headers)
        if unchanged is not None:
            return unchanged
        if is_dataset:
            return dataset(request, name, iri, media_type, headers, full)
        return other_graph(request, name, iri, media_type, headers, snapshot)

    def negotiated(
        request: Request, name: str, forced: RdfFormat | None, snapshot: Snapshot
    ) -> tuple[str | None, dict[str, str]]:
        media_type = forced.media_type if forced else preferred(request)
        headers = {"Vary": "Accept", "Link": alternates(f"/graph/{name}")}
        if media_type is not None:
            headers |= catalog.validators(snapshot, media_type)  # its dumps change it too
        return media_type, headers

    def dataset(
        request: Request,
        name: str,
        iri: URIRef,
        media_type: str,
        headers: dict[str, str],
        full: Graph,
    ) -> Response:
        part = description(full, iri, base)
        if media_type != HTML:
            return rdf_response(part, BY_MEDIA_TYPE[media_type], headers)
        value = part.value
        rights = value(iri, DCTERMS.rights)
        example = (
            "SELECT ?actor ?name WHERE { GRAPH <" + str(iri) + "> { ?actor a "
            "<http://www.w3.org/ns/org#Organization> ; "
            "<http://www.w3.org/2004/02/skos/core#prefLabel> ?name } } LIMIT 100"
        )
        downloads = [
            {
                "title": str(value(d, DCTERMS.title)),
                "url": str(value(d, DCAT.downloadURL)),
                "bytes": str(value(d, DCAT.byteSize)),
            }
            for d in sorted(part.objects(iri, DCAT.distribution), key=str)
            if value(d, DCAT.downloadURL) is not None
        ]
        context = {
            "iri": str(iri),
            "path": f"/graph/{name}",
            "title": str(value(iri, DCTERMS.title)),
            "description": str(value(iri, DCTERMS.description)),
            "publisher": str(value(value(iri, DCTERMS.publisher), FOAF.name)),
            "licence": licence(part, iri),
            "rights": str(value(rights, RDFS.label)) if rights is not None else "",
            "modified": str(value(iri, DCTERMS.modified) or ""),
            "downloads": downloads,
            "query_link": query_link(example),
            "json_ld": json_for_html(schema_dataset(part, iri)),
        }
        return templates.TemplateResponse(request, "dataset.html", context, headers=headers)

    def other_graph(
        request: Request,
        name: str,
        iri: URIRef,
        media_type: str,
        headers: dict[str, str],
        snapshot: Snapshot,
    ) -> Response:
        about = GraphAbout.read(reader, settings, snapshot, name, str(iri))
        if media_type != HTML:
            return rdf_response(about.void(base), BY_MEDIA_TYPE[media_type], headers)
        content = f"SELECT ?s ?p ?o WHERE {{ GRAPH <{iri}> {{ ?s ?p ?o }} }} LIMIT 100"
        context = {
            "about": about,
            "path": f"/graph/{name}",
            "listed": LISTED,
            "content_link": query_link(content),
        }
        return templates.TemplateResponse(request, "graph.html", context, headers=headers)

    return api


def query_link(query: str) -> str:
    return "/sparql?" + urlencode({"query": query})


@dataclass(frozen=True)
class GraphAbout:
    """What a named graph that is not a dataset holds, as its page and its VoID say it."""

    iri: str
    name: str
    title: str
    description: str
    triples: int
    downloads: tuple[dumps.DumpFile, ...]
    runs: tuple[dict[str, str], ...] = ()  # the runs graph: the latest runs
    replaced: tuple[dict[str, str], ...] = ()  # the identity graph: replaced -> survivor
    listing_link: str = ""  # a query listing all the runs or replaced IRIs

    @classmethod
    def read(
        cls, reader: StoreReader, settings: Settings, snapshot: Snapshot, name: str, iri: str
    ) -> GraphAbout:
        (counted,) = reader.select(
            f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{iri}> {{ ?s ?p ?o }} }}"
        )
        titles = reader.select(
            f"SELECT ?title WHERE {{ GRAPH <{iri}> {{ <{iri}> <{DCTERMS.title}> ?title }} }}"
        )
        files = dumps.read(settings.store, snapshot.name)  # maybe an earlier snapshot's
        found = cls(
            iri=iri,
            name=name,
            title=min((row["title"] for row in titles), default=f"Named graph {name}"),
            description=OWN_GRAPHS.get(name, "A named graph of this instance."),
            triples=int(counted["n"]),
            downloads=tuple(f for f in files or () if f.graph == iri),
        )
        if name == "runs":
            listing = RUNS_QUERY % iri
            runs = tuple(
                {**row, "link": _path(row["run"], settings.base_iri)}
                for row in reader.select(f"{listing} LIMIT {LISTED}")
            )
            return replace(found, runs=runs, listing_link=query_link(listing))
        if name == "identity":
            listing = REPLACED_QUERY % iri
            replaced = tuple(
                {**row, **{f"{k}_link": _path(row[k], settings.base_iri) for k in row}}
                for row in reader.select(f"{listing} LIMIT {LISTED}")
            )
            return replace(found, replaced=replaced, listing_link=query_link(listing))
        return found

    def void(self, base: str) -> Graph:
        """The graph described in VoID, as `/.well-known/void` describes it among the others."""
        graph = Graph()
        graph.bind("void", VOID)
        graph.bind("dct", DCTERMS)
        graph.bind("sd", SD)
        me = URIRef(self.iri)
        graph.add((me, RDF.type, VOID.Dataset))
        graph.add((me, RDF.type, URIRef(SD + "NamedGraph")))
        graph.add((me, URIRef(SD + "name"), me))
        graph.add((me, DCTERMS.title, Literal(self.title)))
        graph.add((me, DCTERMS.description, Literal(self.description, lang="en")))
        graph.add((me, VOID.triples, Literal(self.triples, datatype=XSD.integer)))
        graph.add((me, VOID.sparqlEndpoint, URIRef(base + "sparql")))
        graph.add((me, RDFS.seeAlso, URIRef(base + ".well-known/void")))
        for file in self.downloads:
            graph.add((me, VOID.dataDump, URIRef(f"{base}dumps/{file.name}")))
        if self.name == "ontology":
            graph.add((me, RDFS.seeAlso, URIRef(base + "ns")))
            graph.add((me, RDFS.seeAlso, URIRef(base + "concept")))
        for row in self.runs:
            graph.add((me, VOID.exampleResource, URIRef(row["run"])))
        for row in self.replaced:
            graph.add((me, VOID.exampleResource, URIRef(row["replaced"])))
        return graph


def _path(iri: str, base: str) -> str:
    """Where a thing's IRI is dereferenced on this instance; other IRIs as they are."""
    return iri.replace(base, "/", 1) if iri.startswith(base) else iri
