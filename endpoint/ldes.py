"""The change stream of actors as a Linked Data Event Stream (LDES 1.0 on TREE) at `/ldes/actors`.

`/ldes/actors` describes the `ldes:EventStream` and its one view, page 1; `/ldes/actors/{n}` is
page n, members in the order they were appended, linked to page n+1 by a
`tree:GreaterThanOrEqualToRelation` on the timestamp. Each member is a version object
(`as:Create`, `as:Update` or `as:Delete`, `dct:isVersionOf` the actor, `prov:generatedAtTime`)
whose payload, the actor's description, is the named graph of the member's IRI. A page with a
next page never changes again: `Cache-Control: immutable`; the last one is revalidated by ETag.
Served as TriG (the default), N-Quads or JSON-LD, which all carry named graphs.
"""

from __future__ import annotations

import hashlib

import pyoxigraph as ox
from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, RedirectResponse, Response

from creative_graph.ldes import PAGE_SIZE, ChangeLog, Member
from creative_graph.namespaces import PREFIXES
from creative_graph.settings import Settings
from endpoint.negotiation import choose

LDES = "https://w3id.org/ldes#"
TREE = "https://w3id.org/tree#"
AS = "https://www.w3.org/ns/activitystreams#"
PROV = "http://www.w3.org/ns/prov#"
DCT = "http://purl.org/dc/terms/"
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
XSD_DATETIME = ox.NamedNode("http://www.w3.org/2001/XMLSchema#dateTime")
TIMESTAMP = ox.NamedNode(PROV + "generatedAtTime")
VERSION_OF = ox.NamedNode(DCT + "isVersionOf")

FORMATS = {
    "application/trig": ox.RdfFormat.TRIG,
    "application/n-quads": ox.RdfFormat.N_QUADS,
    "application/ld+json": ox.RdfFormat.JSON_LD,
}
IMMUTABLE = "public, max-age=31536000, immutable"


def _n(iri: str) -> ox.NamedNode:
    return ox.NamedNode(iri)


def _time(value: str) -> ox.Literal:
    return ox.Literal(value, datatype=XSD_DATETIME)


class Stream:
    """The IRIs of the stream, its pages and its members, and the quads of each document."""

    def __init__(self, base: str, log: ChangeLog) -> None:
        self.iri = f"{base}ldes/actors"
        self.log = log

    def page(self, number: int) -> str:
        return f"{self.iri}/{number}"

    def member(self, seq: int) -> str:
        return f"{self.iri}/v/{seq}"

    def pages(self) -> int:
        return max(1, -(-self.log.count() // PAGE_SIZE))

    def description(self) -> list[ox.Quad]:
        stream = _n(self.iri)
        return [
            ox.Quad(stream, RDF_TYPE, _n(LDES + "EventStream")),
            ox.Quad(stream, _n(DCT + "title"), ox.Literal("Changes to the actors", language="en")),
            ox.Quad(stream, _n(LDES + "timestampPath"), TIMESTAMP),
            ox.Quad(stream, _n(LDES + "versionOfPath"), VERSION_OF),
            ox.Quad(stream, _n(LDES + "versionCreateObject"), _n(AS + "Create")),
            ox.Quad(stream, _n(LDES + "versionUpdateObject"), _n(AS + "Update")),
            ox.Quad(stream, _n(LDES + "versionDeleteObject"), _n(AS + "Delete")),
            ox.Quad(stream, _n(TREE + "view"), _n(self.page(1))),
        ]

    def page_quads(
        self, number: int, members: list[Member], next_time: str | None
    ) -> list[ox.Quad]:
        # hypermedia first, then each member followed by its payload, oldest first
        node = _n(self.page(number))
        quads = self.description() if number == 1 else []
        quads.append(ox.Quad(node, RDF_TYPE, _n(TREE + "Node")))
        if next_time is not None:
            relation = ox.BlankNode()
            quads += [
                ox.Quad(node, _n(TREE + "relation"), relation),
                ox.Quad(relation, RDF_TYPE, _n(TREE + "GreaterThanOrEqualToRelation")),
                ox.Quad(relation, _n(TREE + "node"), _n(self.page(number + 1))),
                ox.Quad(relation, _n(TREE + "path"), TIMESTAMP),
                ox.Quad(relation, _n(TREE + "value"), _time(next_time)),
            ]
        for member in members:
            version = _n(self.member(member.seq))
            quads += [
                ox.Quad(_n(self.iri), _n(TREE + "member"), version),
                ox.Quad(version, RDF_TYPE, _n(AS + member.kind)),
                ox.Quad(version, VERSION_OF, _n(member.actor)),
                ox.Quad(version, TIMESTAMP, _time(member.time)),
            ]
            if member.lines:
                payload = "\n".join(member.lines) + "\n"
                for triple in ox.parse(payload.encode("utf-8"), ox.RdfFormat.N_TRIPLES):
                    quads.append(ox.Quad(triple.subject, triple.predicate, triple.object, version))
        return quads


def _etag(*parts: object) -> str:
    return '"' + hashlib.sha256(repr(parts).encode("utf-8")).hexdigest()[:32] + '"'


def _respond(
    request: Request, quads: list[ox.Quad], etag_parts: tuple[object, ...], cache: str
) -> Response:
    accept = request.headers.get("accept") or "*/*"
    chosen = "application/trig" if accept.strip() == "*/*" else choose(accept, list(FORMATS))
    if chosen is None:
        offered = ", ".join(FORMATS)
        return PlainTextResponse(
            f"Not available in any type you accept; available: {offered}\n", status_code=406
        )
    etag = _etag(*etag_parts, chosen)
    headers = {"ETag": etag, "Cache-Control": cache, "Vary": "Accept"}
    if etag in {t.strip() for t in request.headers.get("if-none-match", "").split(",")}:
        return Response(status_code=304, headers=headers)
    body = ox.serialize(quads, format=FORMATS[chosen], prefixes=_prefixes())
    media_type = chosen + ("; charset=utf-8" if chosen != "application/n-quads" else "")
    return Response(body, media_type=media_type, headers=headers)


def _prefixes() -> dict[str, str]:
    return {**PREFIXES, "ldes": LDES, "tree": TREE, "as": AS}


def router(settings: Settings) -> APIRouter:
    api = APIRouter(tags=["change stream"])
    stream = Stream(settings.base_iri, ChangeLog(settings.store))

    @api.head("/ldes/actors", include_in_schema=False)
    @api.get("/ldes/actors", summary="The change stream of actors (LDES): where to start")
    def event_stream(request: Request) -> Response:
        return _respond(request, stream.description(), ("stream",), "no-cache")

    @api.head("/ldes/actors/{number}", include_in_schema=False)
    @api.get("/ldes/actors/{number}", summary="One page of the change stream, oldest first")
    def page(number: int, request: Request) -> Response:
        pages = stream.pages()
        if not 1 <= number <= pages:
            return PlainTextResponse(
                f"No page {number}: the stream has pages 1 to {pages}\n", status_code=404
            )
        first = (number - 1) * PAGE_SIZE + 1
        members, next_time = stream.log.page(first, number * PAGE_SIZE)
        last = members[-1].seq if members else 0
        cache = IMMUTABLE if next_time is not None else "no-cache"
        quads = stream.page_quads(number, members, next_time)
        return _respond(request, quads, ("page", stream.iri, number, last, next_time), cache)

    @api.get("/ldes/actors/v/{seq}", include_in_schema=False)
    def member(seq: int) -> Response:
        """A version's IRI: 303 to the page that holds it."""
        if not 1 <= seq <= stream.log.count():
            return PlainTextResponse(f"No version {seq} in the stream\n", status_code=404)
        number = (seq - 1) // PAGE_SIZE + 1
        return RedirectResponse(f"/ldes/actors/{number}", status_code=303)

    return api
