"""Dereferencing instance IRIs: `/id/{type}/{key}` answers 303 to `/doc/{type}/{key}`.

The document describes the thing with what every source says about it (and the nodes it owns:
site, address, geometry, identifiers, contact point), as HTML for people or as Turtle, JSON-LD,
RDF/XML or N-Triples by `Accept` or suffix. An IRI replaced by a merge redirects permanently to
its survivor; an unknown IRI (or a path that cannot be part of one) is 404.

The HTML page of an actor reads it first as a person would (`endpoint/actors.py`: names, type,
sectors, address, contact, identifiers; `endpoint/neighbours.py`: services, relationships both
ways, grants), then lists all statements, what points at it and its sources with their
licences; schema.org JSON-LD for search engines. It takes four queries: the description, its
neighbourhood, the labels of every IRI shown and the sources. Ecosystems and networks of
ecosystems get more (`endpoint/ecosystems.py`: territory, networks, members, `?page=N` of them).
"""

from __future__ import annotations

import re

import pyoxigraph as ox
from fastapi import APIRouter, Query, Request
from fastapi.responses import PlainTextResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from rdflib import Graph, Literal, URIRef

from creative_graph.descriptions import describe_query
from creative_graph.namespaces import PREFIXES
from creative_graph.settings import Settings
from creative_graph.store import QueryOutput, StoreReader
from endpoint import actors, ecosystems, maps, neighbours
from endpoint.ecosystems import Link, href
from endpoint.labels import labels as _labels
from endpoint.labels import name
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
# What may stand in an IRI between `<` and `>` (RFC 3987 leaves these out); a path with any
# other character names nothing here.
IRI_PART = re.compile(r'[^<>"{}|\\^`\x00-\x20]+')


def _incoming(around: neighbours.Around, named: dict[str, str], base: str) -> list[dict[str, str]]:
    """What else points at the thing (partners, members, services, grants), by name, as the
    table of every statement shows it."""
    rows = sorted(
        {(row["p"], row["node"]) for row in around.incoming if row["node"].startswith(f"{base}id/")}
    )
    return [
        {
            "subject": named.get(subject, subject),
            "link": subject.replace(f"{base}id/", "/doc/", 1),
            "property": _prefixed(prop),
        }
        for prop, subject in rows[: neighbours.SHOWN]
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


def _credited(sources: list[dict[str, str]], named: dict[str, str], base: str) -> list[dict]:
    """The sources as the page lists them: linked to their dataset pages, the licence by name."""
    credited = []
    for source in sources:
        graph, licence = source["graph"], source["licence"]
        credited.append(
            {
                "title": source["title"],
                "link": f"/{graph[len(base) :]}" if graph.startswith(base) else href(graph, base),
                "licence": Link(licence, name(licence, named), href(licence, base)),
                "updated": actors.moment(source["updated"]) if source.get("updated") else "",
            }
        )
    return credited


def _prefixed(iri: str) -> str:
    for prefix, namespace in PREFIXES.items():
        if iri.startswith(str(namespace)):
            return f"{prefix}:{iri[len(str(namespace)) :]}"
    return iri


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
        if not (IRI_PART.fullmatch(kind) and IRI_PART.fullmatch(key)):
            return PlainTextResponse("Not an IRI of this site.\n", status_code=404)
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
        if not (IRI_PART.fullmatch(kind) and IRI_PART.fullmatch(key)):
            return PlainTextResponse("Not an IRI of this site.\n", status_code=404)
        iri = f"{base}id/{kind}/{key}"
        graph = _describe(reader, iri, base)
        subject = URIRef(iri)
        if (subject, None, None) not in graph:
            return PlainTextResponse(f"Nothing is known about <{iri}>.\n", status_code=404)
        path = f"/doc/{kind}/{key}"
        headers = {"Vary": "Accept", "Link": alternates(path)}
        media_type = forced.media_type if forced else preferred(request)
        if media_type == HTML:
            try:
                context, template = _page(graph, subject, path, page)
            except ecosystems.NoSuchPage as error:
                return PlainTextResponse(f"{error}\n", status_code=404)
            return templates.TemplateResponse(request, template, context, headers=headers)
        if media_type not in BY_MEDIA_TYPE:
            return not_acceptable()
        return rdf_response(graph, BY_MEDIA_TYPE[media_type], headers)

    def _page(graph: Graph, subject: URIRef, path: str, page: int) -> tuple[dict, str]:
        """The context and template of the HTML page; NoSuchPage past an ecosystem's members."""
        iri = str(subject)
        collective, template, skip = None, "resource.html", ()
        if ecosystems.kind(graph, subject):
            collective = ecosystems.view(reader, graph, subject, base, page)
            template, skip = "ecosystem.html", ecosystems.MEMBER_LINKS
        around = neighbours.neighbourhood(reader, iri, skip)
        sources = _sources(reader, iri)
        linked = {str(o) for o in graph.objects() if isinstance(o, URIRef)}
        named = _labels(reader, linked | around.iris() | {s["licence"] for s in sources})
        actor = actors.is_actor(graph, subject)
        near = neighbours.view(around, iri, named, base) if actor else None
        updated = max((s.get("updated", "") for s in sources), default="")
        structured = actors.schema_org(graph, subject, near, named)
        if collective and structured:
            structured = ecosystems.schema_org(collective, structured)
        parts = sorted({s for s in graph.subjects() if s != subject and isinstance(s, URIRef)})
        context = {
            "iri": iri, "title": actors.title(graph, subject), "path": path,
            "names": actors.by_text(actors.names(graph, subject)) if actor else [],
            "description": actors.preferred(graph, subject, f"{PREFIXES['dct']}description")
            if actor else None,
            "facts": actors.facts(graph, subject, named, base, updated) if actor else [],
            "near": near,
            "rows": _rows(graph, subject, base, named),
            "parts": [{"iri": str(p), "rows": _rows(graph, p, base, named)} for p in parts],
            "incoming": _incoming(around, named, base),
            "incoming_cut": "incoming" in around.cut,
            "shown": neighbours.SHOWN,
            "sources": _credited(sources, named, base),
            "json_ld": json_for_html(structured) if structured else None,
            "map": (collective.map if collective else None) or _map(graph, subject),
            "collective": collective,
        }  # fmt: skip
        return context, template

    return api
