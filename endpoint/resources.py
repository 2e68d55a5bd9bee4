"""Dereferencing instance IRIs: `/id/{type}/{key}` answers 303 to `/doc/{type}/{key}`.

The document describes the thing with what every source says about it (and the nodes it owns:
site, address, geometry, identifiers, contact point), as HTML for people or as Turtle, JSON-LD,
RDF/XML or N-Triples by `Accept` or suffix. An IRI replaced by a merge redirects permanently to
its survivor; an unknown IRI is 404.
"""

from __future__ import annotations

import pyoxigraph as ox
from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from rdflib import Graph, Literal, URIRef

from creative_graph.namespaces import PREFIXES
from creative_graph.settings import Settings
from creative_graph.store import QueryOutput, StoreReader
from endpoint.representations import (
    BY_MEDIA_TYPE,
    HTML,
    alternates,
    not_acceptable,
    preferred,
    rdf_response,
    split_suffix,
)

OWNED = ("site", "address", "geometry", "identifier", "contact", "amount")


def _starts(variable: str, base: str, kinds: tuple[str, ...]) -> str:
    return " || ".join(f'STRSTARTS(STR({variable}), "{base}id/{kind}/")' for kind in kinds)


def _describe_query(iri: str, base: str) -> str:
    """The thing, the nodes it owns, and the address and geometry of its sites."""
    return f"""
    CONSTRUCT {{ <{iri}> ?p ?o . ?part ?q ?v . }}
    WHERE {{
      {{ <{iri}> ?p ?o }}
      UNION
      {{ <{iri}> ?link ?part . ?part ?q ?v .
         FILTER (isIRI(?part) && ({_starts("?part", base, OWNED)})) }}
      UNION
      {{ <{iri}> ?link ?site . ?site ?link2 ?part . ?part ?q ?v .
         FILTER (isIRI(?site) && isIRI(?part) && ({_starts("?site", base, ("site",))})
                 && ({_starts("?part", base, ("address", "geometry"))})) }}
    }}"""


REPLACED = "SELECT ?survivor WHERE { ?thing <http://purl.org/dc/terms/isReplacedBy> ?survivor }"


def _describe(reader: StoreReader, iri: str, base: str) -> Graph:
    query = _describe_query(iri, base)
    output = reader.query(query, results_format=None, graph_format=ox.RdfFormat.N_TRIPLES)
    graph = Graph()
    for prefix, namespace in PREFIXES.items():
        graph.bind(prefix, namespace)
    if isinstance(output, QueryOutput) and output.body:
        graph.parse(data=output.body, format="nt")
    return graph


def _rows(graph: Graph, subject: URIRef, base: str) -> list[dict[str, str]]:
    rows = []
    for predicate, obj in sorted(graph.predicate_objects(subject)):
        link = ""
        if isinstance(obj, URIRef):
            text = (
                graph.namespace_manager.normalizeUri(obj) if "#" in obj or "/" in obj else str(obj)
            )
            link = (
                str(obj).replace(f"{base}id/", "/doc/", 1)
                if str(obj).startswith(base)
                else str(obj)
            )
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
    def document(request: Request, kind: str, key: str) -> Response:
        """What the graph says about a thing, for people (HTML) and machines (RDF)."""
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
            context = {
                "iri": iri, "title": title, "path": path, "rows": _rows(graph, subject, base),
                "parts": [{"iri": str(p), "rows": _rows(graph, p, base)} for p in parts],
            }  # fmt: skip
            return templates.TemplateResponse(request, "resource.html", context, headers=headers)
        if media_type not in BY_MEDIA_TYPE:
            return not_acceptable()
        return rdf_response(graph, BY_MEDIA_TYPE[media_type], headers)

    return api
