"""Each source graph's IRI resolves: `/graph/{name}` describes the dataset, not its content.

For machines, the dataset's DCAT-AP description from the catalogue (Turtle, JSON-LD, RDF/XML,
N-Triples, by `Accept` or suffix); for people, a page with what it is, who publishes it under
which licence, its size, its downloads and a query to start with, and schema.org `Dataset`
JSON-LD so that dataset search engines find it. The content itself is in the dumps and the
SPARQL endpoint.
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response
from fastapi.templating import Jinja2Templates
from rdflib import Graph, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF, RDFS

from creative_graph.settings import Settings
from creative_graph.store import StoreReader
from endpoint.caching import not_modified
from endpoint.catalog import Catalog, reachable
from endpoint.representations import (
    BY_MEDIA_TYPE,
    HTML,
    alternates,
    json_for_html,
    not_acceptable,
    preferred,
    rdf_response,
    split_suffix,
)

SCHEMA_FORMATS = {"application/n-quads": "application/n-quads", "text/turtle": "text/turtle"}


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

    @api.get("/graph/{name}", summary="A source graph's description (DCAT-AP; HTML for people)")
    def dataset(request: Request, name: str) -> Response:
        name, forced = split_suffix(name)
        snapshot = reader.snapshot
        full = catalog.graph(snapshot)
        iri = URIRef(f"{base}graph/{name}")
        if (iri, RDF.type, DCAT.Dataset) not in full:
            return PlainTextResponse(f"No dataset <{iri}> here; see /catalog\n", status_code=404)
        media_type = forced.media_type if forced else preferred(request)
        if media_type is None:
            return not_acceptable()
        headers = {"Vary": "Accept", "Link": alternates(f"/graph/{name}")}
        headers |= catalog.validators(snapshot, media_type)
        unchanged = not_modified(request, headers)
        if unchanged is not None:
            return unchanged
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
            "query_link": "/sparql?" + urlencode({"query": example}),
            "json_ld": json_for_html(schema_dataset(part, iri)),
        }
        return templates.TemplateResponse(request, "dataset.html", context, headers=headers)

    return api
