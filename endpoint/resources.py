"""Dereferencing instance IRIs: `/id/{type}/{key}` answers 303 to `/doc/{type}/{key}`.

The document describes the thing with what every source says about it (and the nodes it owns:
site, address, geometry, identifiers, contact point), as HTML for people or as Turtle, JSON-LD,
RDF/XML or N-Triples by `Accept` or suffix. An IRI replaced by a merge redirects permanently to
its survivor; an unknown IRI is 404. Ecosystems and networks of ecosystems get a richer page
(`endpoint/ecosystems.py`: territory, networks, members, `?page=N` of them).
"""

from __future__ import annotations

import pyoxigraph as ox
from fastapi import APIRouter, Query, Request
from fastapi.responses import PlainTextResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from rdflib import Graph, Literal, URIRef

from creative_graph.descriptions import ACTOR_CLASSES, describe_query
from creative_graph.namespaces import PREFIXES
from creative_graph.settings import Settings
from creative_graph.store import QueryOutput, StoreReader
from endpoint import ecosystems, maps
from endpoint.labels import labels as _labels
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

REPLACED = "SELECT ?survivor WHERE { ?thing <http://purl.org/dc/terms/isReplacedBy> ?survivor }"
# Actors that schema.org calls an Organization (people are left without JSON-LD).
ORGANIZATIONS = frozenset(ACTOR_CLASSES) - {"http://xmlns.com/foaf/0.1/Person"}


def _incoming(
    reader: StoreReader, iri: str, base: str, skip: tuple[str, ...] = ()
) -> list[dict[str, str]]:
    """What points at the thing (partners, members, services it provides, grants it received),
    except through the properties in `skip` (shown elsewhere on the page)."""
    leave_out = "".join(f" && ?property != <{p}>" for p in skip)
    rows = reader.select(
        f"SELECT DISTINCT ?subject ?property WHERE {{ ?subject ?property <{iri}> "
        f'FILTER (isIRI(?subject) && STRSTARTS(STR(?subject), "{base}id/"){leave_out}) }} '
        "ORDER BY ?property ?subject LIMIT 500"
    )
    labels = _labels(reader, {row["subject"] for row in rows})
    return [
        {
            "subject": labels.get(row["subject"], row["subject"]),
            "link": row["subject"].replace(f"{base}id/", "/doc/", 1),
            "property": _prefixed(row["property"]),
        }
        for row in rows
    ]


def _sources(reader: StoreReader, iri: str) -> list[dict[str, str]]:
    """The source graphs that say something about the thing, their licence and last ingest."""
    return reader.select(
        "PREFIX dct: <http://purl.org/dc/terms/> PREFIX prov: <http://www.w3.org/ns/prov#> "
        "SELECT ?graph ?title ?licence (MAX(?ended) AS ?updated) WHERE { "
        f"GRAPH ?graph {{ <{iri}> ?p ?o }} "
        "GRAPH ?graph { ?graph dct:title ?title ; dct:license ?licence } "
        "OPTIONAL { ?version prov:specializationOf ?graph . "
        "           ?run prov:generated ?version ; prov:endedAtTime ?ended } "
        "} GROUP BY ?graph ?title ?licence ORDER BY ?title"
    )


def _prefixed(iri: str) -> str:
    for prefix, namespace in PREFIXES.items():
        if iri.startswith(str(namespace)):
            return f"{prefix}:{iri[len(str(namespace)) :]}"
    return iri


def schema_org(graph: Graph, subject: URIRef, title: str) -> dict[str, object] | None:
    """schema.org JSON-LD for search engines: an Organization with its address and place."""
    ns = {k: str(v) for k, v in PREFIXES.items()}
    types = {str(t) for t in graph.objects(subject, URIRef(ns["rdf"] + "type"))}
    if not types & ORGANIZATIONS:
        return None
    document: dict[str, object] = {
        "@context": "https://schema.org",
        "@type": "Organization",
        "@id": str(subject),
        "name": title,
    }
    homepage = graph.value(subject, URIRef(ns["foaf"] + "homepage"))
    if homepage is not None:
        document["url"] = str(homepage)
    descriptions = [str(d) for d in graph.objects(subject, URIRef(ns["dct"] + "description"))]
    if descriptions:
        document["description"] = descriptions[0]
    site = graph.value(subject, URIRef(ns["org"] + "hasPrimarySite"))
    address = graph.value(site, URIRef(ns["locn"] + "address")) if site is not None else None
    if address is not None:
        postal: dict[str, str] = {"@type": "PostalAddress"}
        for key, prop in (
            ("streetAddress", "thoroughfare"), ("postalCode", "postCode"),
            ("addressLocality", "adminUnitL2"), ("addressCountry", "adminUnitL1"),
        ):  # fmt: skip
            value = graph.value(address, URIRef(ns["locn"] + prop))
            if value is not None:
                postal[key] = str(value)
        document["address"] = postal
    geometry = graph.value(site, URIRef(ns["geo"] + "hasGeometry")) if site is not None else None
    wkt = graph.value(geometry, URIRef(ns["geo"] + "asWKT")) if geometry is not None else None
    point = maps.wkt_point(str(wkt)) if wkt is not None else None
    if point:
        document["geo"] = {"@type": "GeoCoordinates", "longitude": point[0], "latitude": point[1]}
    return document


def _map(graph: Graph, subject: URIRef) -> str | None:
    """The thing's point (its own geometry or its primary site's) on the Brussels map."""
    ns = {k: str(v) for k, v in PREFIXES.items()}
    site = graph.value(subject, URIRef(ns["org"] + "hasPrimarySite"))
    holder = site if site is not None else subject
    geometry = graph.value(holder, URIRef(ns["geo"] + "hasGeometry"))
    wkt = graph.value(geometry, URIRef(ns["geo"] + "asWKT")) if geometry is not None else None
    point = maps.wkt_point(str(wkt)) if wkt is not None else None
    if point is None:
        return None
    address = graph.value(holder, URIRef(ns["locn"] + "address"))
    refnis = (
        next(
            (
                str(unit).rsplit("/", 1)[1]
                for unit in graph.objects(address, URIRef(ns["cv"] + "adminUnit"))
                if "/refnis" in str(unit)
            ),
            None,
        )
        if address is not None
        else None
    )
    return maps.svg(point[0], point[1], refnis)


def _describe(reader: StoreReader, iri: str, base: str) -> Graph:
    query = describe_query(iri, base)
    output = reader.query(query, results_format=None, graph_format=ox.RdfFormat.N_TRIPLES)
    graph = Graph()
    for prefix, namespace in PREFIXES.items():
        graph.bind(prefix, namespace)
    if isinstance(output, QueryOutput) and output.body:
        graph.parse(data=output.body, format="nt")
    return graph


def _rows(
    graph: Graph, subject: URIRef, base: str, labels: dict[str, str] | None = None
) -> list[dict[str, str]]:
    rows = []
    for predicate, obj in sorted(graph.predicate_objects(subject)):
        link = ""
        if isinstance(obj, URIRef):
            text = (labels or {}).get(str(obj)) or (
                graph.namespace_manager.normalizeUri(obj) if "#" in obj or "/" in obj else str(obj)
            )
            link = (
                str(obj).replace(f"{base}id/", "/doc/", 1)
                if str(obj).startswith(base)
                else str(obj)
            )
            if not link.startswith(("/", "http://", "https://")):
                link = ""  # a `javascript:` IRI (valid RDF) must not become a link
        elif isinstance(obj, Literal):
            text = f"{obj} ({obj.language})" if obj.language else str(obj)
        else:
            text = str(obj)
        rows.append(
            {
                "property": graph.namespace_manager.normalizeUri(predicate),
                "value": text,
                "link": link,
            }
        )
    return rows


def router(reader: StoreReader, templates: Jinja2Templates, settings: Settings) -> APIRouter:
    api = APIRouter()
    base = settings.base_iri

    @api.get("/id/{kind}/{key}", response_class=Response)
    def thing(kind: str, key: str) -> Response:
        """A real-world thing: 303 See Other to the document that describes it."""
        iri = f"{base}id/{kind}/{key}"
        survivor = reader.select(REPLACED.replace("?thing", f"<{iri}>"))
        if survivor:
            target = survivor[0]["survivor"].replace(base, "/", 1)
            return RedirectResponse(target, status_code=301)
        if not reader.select(f"SELECT ?p WHERE {{ <{iri}> ?p ?o }} LIMIT 1"):
            return PlainTextResponse(f"Nothing is known about <{iri}>.\n", status_code=404)
        return RedirectResponse(f"/doc/{kind}/{key}", status_code=303, headers={"Vary": "Accept"})

    @api.get("/doc/{kind}/{key}", response_class=Response)
    def document(
        request: Request, kind: str, key: str, page: int = Query(1, ge=1, le=1_000_000)
    ) -> Response:
        """What the graph says about a thing, for people (HTML) and machines (RDF); `page` is
        the page of members on the page of an ecosystem or network."""
        key, forced = split_suffix(key)
        iri = f"{base}id/{kind}/{key}"
        graph = _describe(reader, iri, base)
        subject = URIRef(iri)
        if (subject, None, None) not in graph:
            return PlainTextResponse(f"Nothing is known about <{iri}>.\n", status_code=404)
        path = f"/doc/{kind}/{key}"
        headers = {"Vary": "Accept", "Link": alternates(path)}
        media_type = forced.media_type if forced else preferred(request)
        if media_type == HTML:
            labels = {
                o.language or "": str(o)
                for o in graph.objects(subject, URIRef(PREFIXES["skos"] + "prefLabel"))
            }
            title = (
                labels.get("en")
                or labels.get("fr")
                or labels.get("nl")
                or next(iter(labels.values()), iri)
            )
            parts = sorted({s for s in graph.subjects() if s != subject and isinstance(s, URIRef)})
            linked = {str(o) for o in graph.objects() if isinstance(o, URIRef)}
            labels = _labels(reader, linked)
            structured = schema_org(graph, subject, title)
            collective, template, skip = None, "resource.html", ()
            if ecosystems.kind(graph, subject):
                try:
                    collective = ecosystems.view(reader, graph, subject, base, page)
                except ecosystems.NoSuchPage as error:
                    return PlainTextResponse(f"{error}\n", status_code=404)
                structured = structured and ecosystems.schema_org(collective, structured)
                template, skip = "ecosystem.html", ecosystems.MEMBER_LINKS
            context = {
                "iri": iri, "title": title, "path": path,
                "rows": _rows(graph, subject, base, labels),
                "parts": [{"iri": str(p), "rows": _rows(graph, p, base, labels)} for p in parts],
                "incoming": _incoming(reader, iri, base, skip),
                "sources": _sources(reader, iri),
                "json_ld": json_for_html(structured) if structured else None,
                "map": (collective.map if collective else None) or _map(graph, subject),
                "collective": collective,
            }  # fmt: skip
            return templates.TemplateResponse(request, template, context, headers=headers)
        if media_type not in BY_MEDIA_TYPE:
            return not_acceptable()
        return rdf_response(graph, BY_MEDIA_TYPE[media_type], headers)

    return api
