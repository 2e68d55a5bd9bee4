"""Content negotiation for RDF documents: HTML, Turtle, JSON-LD, RDF/XML or N-Triples."""

from __future__ import annotations

import json
from dataclasses import dataclass

from fastapi import Request
from fastapi.responses import PlainTextResponse, Response
from rdflib import Graph

from endpoint.negotiation import choose


@dataclass(frozen=True)
class RdfFormat:
    media_type: str
    rdflib_name: str
    suffix: str


RDF_FORMATS = (
    RdfFormat("text/turtle", "turtle", ".ttl"),
    RdfFormat("application/ld+json", "json-ld", ".jsonld"),
    RdfFormat("application/rdf+xml", "xml", ".rdf"),
    RdfFormat("application/n-triples", "nt", ".nt"),
)
BY_MEDIA_TYPE = {f.media_type: f for f in RDF_FORMATS}
BY_SUFFIX = {f.suffix: f for f in RDF_FORMATS}
HTML = "text/html"


def split_suffix(name: str) -> tuple[str, RdfFormat | None]:
    """`concept.ttl` -> (`concept`, Turtle); other names come back unchanged, with None."""
    for suffix, rdf_format in BY_SUFFIX.items():
        if name.endswith(suffix):
            return name[: -len(suffix)], rdf_format
    return name, None


def preferred(request: Request, html: bool = True) -> str | None:
    """The media type to answer with: HTML for browsers, else the best RDF format (Turtle first)."""
    offers = ([HTML] if html else []) + [f.media_type for f in RDF_FORMATS]
    accept = request.headers.get("accept")
    if not accept or accept.strip() == "*/*":
        return RDF_FORMATS[0].media_type  # machines that say nothing get Turtle
    return choose(accept, offers)


def alternates(path: str) -> str:
    """A `Link` header naming each RDF representation of the document at `path`."""
    return ", ".join(
        f'<{path}{f.suffix}>; rel="alternate"; type="{f.media_type}"' for f in RDF_FORMATS
    )


def rdf_response(
    graph: Graph, rdf_format: RdfFormat, headers: dict[str, str] | None = None
) -> Response:
    body = graph.serialize(format=rdf_format.rdflib_name, encoding="utf-8")
    media_type = rdf_format.media_type
    if media_type.startswith("text/") or media_type.endswith(("json", "xml")):
        media_type += "; charset=utf-8"
    return Response(body, media_type=media_type, headers=headers)


def not_acceptable() -> Response:
    offered = ", ".join([HTML, *BY_MEDIA_TYPE])
    return PlainTextResponse(
        f"Not available in any type you accept; available: {offered}\n", status_code=406
    )


def json_for_html(document: dict[str, object]) -> str:
    """JSON safe inside <script>: no "</script>" or "<!--" can come out of user text."""
    text = json.dumps(document, ensure_ascii=False, indent=1)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
