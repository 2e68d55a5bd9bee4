"""The SPARQL 1.1 Graph Store HTTP Protocol at /store, with indirect graph identification.

`/store?graph=<IRI>` names a graph, `/store?default` the store's own default graph (queries
see the union of all graphs as theirs). GET and HEAD are open to all and read the published
snapshot, by content negotiation, with ETag and 304. PUT (replace), POST (merge; to `/store`
alone: a new graph, answered 201 with its IRI in `Location`) and DELETE need the write token
and go through `creative_graph.writes` in the write worker (`endpoint.write_worker`): tried on
a copy, validated by the shapes, published whole or refused whole (422); stopped past
`WRITE_TIMEOUT` (503, nothing changed). Blank nodes of a body are always new nodes: two POSTs
never share one by accident. Direct identification (the graph IRI as the request URL) is not
offered: a graph IRI `{BASE_IRI}graph/{name}` dereferences to the dataset's description.
"""

from __future__ import annotations

import email.parser
import email.policy
from collections.abc import Iterable
from urllib.parse import parse_qsl

import pyoxigraph as ox
from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response
from starlette.concurrency import run_in_threadpool

from creative_graph.iris import run_key
from creative_graph.settings import Settings
from creative_graph.store import ResultTooLarge, StoreError, StoreReader
from creative_graph.writes import WriteRefused
from endpoint import authorization
from endpoint.caching import not_modified, validators
from endpoint.negotiation import choose
from endpoint.sparql import (
    GRAPH_FORMATS,
    ProtocolError,
    read_body,
    route_each_method,
    with_charset,
)
from endpoint.sparql_update import busy_response, stopped_response, violations_response
from endpoint.write_worker import (
    Drop,
    Merge,
    Replace,
    Target,
    WriterFailed,
    WriteTimeout,
    WriteWorker,
)

ALLOWED = "GET, HEAD, PUT, POST, DELETE"


def _target(request: Request, creating: bool = False) -> Target | None:
    """The graph a request names; None for a POST to the store itself (a new graph)."""
    params = parse_qsl(request.url.query, keep_blank_values=True)  # decoded exactly once
    graphs = [value for key, value in params if key == "graph"]
    default = any(key == "default" for key, _ in params)
    if len(graphs) > 1 or (graphs and default):
        raise ProtocolError(400, "name one graph: either ?graph=<IRI> or ?default")
    if graphs:
        try:
            return ox.NamedNode(graphs[0])
        except ValueError as error:
            raise ProtocolError(
                400, f"?graph= must be an absolute IRI, not {graphs[0]!r}: {error}"
            ) from error
    if default:
        return ox.DefaultGraph()
    if creating:
        return None
    raise ProtocolError(
        400,
        "name a graph: /store?graph=<IRI> or /store?default (whole-store downloads are at /dumps)",
    )


def _parts(content_type: str, body: bytes) -> list[tuple[str, bytes]]:
    """(media type, bytes) of each RDF document in the body; multipart/form-data has several."""
    media_type = content_type.split(";")[0].strip().lower()
    if media_type != "multipart/form-data":
        return [(content_type, body)]
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode("latin-1") + body
    )
    if not message.is_multipart():
        raise ProtocolError(400, "the multipart/form-data body has no parts")
    return [
        (
            part.get_content_type() if part.get("content-type") else "",
            part.get_payload(decode=True) or b"",
        )
        for part in message.iter_parts()
    ]


def _triples(content_type: str, body: bytes, base_iri: str) -> list[ox.Triple]:
    """The triples of a request body, each document's blank nodes made fresh."""
    triples: list[ox.Triple] = []
    for number, (part_type, data) in enumerate(_parts(content_type, body), start=1):
        where = f"part {number} of the body" if number > 1 or part_type != content_type else "body"
        media_type = part_type.split(";")[0].strip()
        rdf_format = ox.RdfFormat.from_media_type(media_type) if media_type else None
        if rdf_format is None:
            offered = ", ".join(t for t in GRAPH_FORMATS if t != "text/plain")
            raise ProtocolError(
                415, f"the {where} must be RDF ({offered}), not {part_type or 'untyped'}"
            )
        if rdf_format.supports_datasets:
            raise ProtocolError(415, f"the {where} must be one graph, not a dataset ({part_type})")
        try:
            triples += _fresh_blank_nodes(ox.parse(data, format=rdf_format, base_iri=base_iri))
        except SyntaxError as error:
            raise ProtocolError(
                400, f"the {where} is not valid {rdf_format.name}: {error}"
            ) from error
    return triples


def _fresh_blank_nodes(quads: Iterable[ox.Quad]) -> list[ox.Triple]:
    fresh: dict[str, ox.BlankNode] = {}

    def renamed(term: ox.Term) -> ox.Term:
        if isinstance(term, ox.BlankNode):
            return fresh.setdefault(term.value, ox.BlankNode())
        return term

    return [ox.Triple(renamed(q.subject), q.predicate, renamed(q.object)) for q in quads]


def _name(graph: Target | None) -> str:
    return "the default graph" if isinstance(graph, ox.DefaultGraph) else f"<{graph.value}>"


def router(reader: StoreReader, settings: Settings, writes: WriteWorker | None) -> APIRouter:
    api = APIRouter()

    def read(request: Request) -> Response:
        graph = _target(request)
        media_type = choose(request.headers.get("accept"), list(GRAPH_FORMATS))
        if media_type is None:
            raise ProtocolError(406, f"graphs are available as {', '.join(GRAPH_FORMATS)}")
        headers = validators(reader.snapshot, media_type) | {"Vary": "Accept"}
        unchanged = not_modified(request, headers)
        if unchanged is not None:
            return unchanged
        name = None if isinstance(graph, ox.DefaultGraph) else graph.value
        found = reader.graph(name, GRAPH_FORMATS[media_type], settings.max_result_bytes)
        if found is None:
            raise ProtocolError(404, f"this store has no graph {_name(graph)}")
        body, snapshot = found
        headers = validators(snapshot, media_type) | {"Vary": "Accept"}
        return Response(body, media_type=with_charset(media_type), headers=headers)

    async def write(request: Request) -> Response:
        refused = authorization.refusal(request, settings)
        if refused is not None:
            return refused
        assert writes is not None  # a token is set, so the app made a `WriteWorker`
        graph = _target(request, creating=request.method == "POST")
        new_graph = graph is None
        if graph is None:
            graph = ox.NamedNode(f"{settings.base_iri}graph/store-{run_key()}")
        body = b""
        change: Replace | Merge | Drop  # each says whether the graph existed
        if request.method in ("PUT", "POST"):
            body = await read_body(request, settings.max_body_bytes)
            content_type = request.headers.get("content-type", "")
            base = graph.value if isinstance(graph, ox.NamedNode) else str(request.url)
            triples = _triples(content_type, body, base)
            change = (Replace if request.method == "PUT" else Merge)(graph, tuple(triples))
        else:
            name = None if isinstance(graph, ox.DefaultGraph) else graph.value
            if not reader.has_graph(name):
                raise ProtocolError(404, f"this store has no graph {_name(graph)}")
            change = Drop(graph)
        label = f"Graph Store {request.method} of {_name(graph)} at /store"
        try:
            outcome = await run_in_threadpool(writes.apply, change, label, body)
        except WriteRefused as error:
            return violations_response(request, error.violations)
        except StoreError as error:
            return busy_response(error)
        except (WriteTimeout, WriterFailed) as error:
            return stopped_response(error)
        existed = bool(outcome.value)
        if new_graph:
            return Response(status_code=201, headers={"Location": graph.value})
        if request.method != "DELETE" and not existed:
            return Response(status_code=201)
        return Response(status_code=204)

    async def handle(request: Request) -> Response:
        try:
            if request.method in ("GET", "HEAD"):
                return await run_in_threadpool(read, request)
            return await write(request)
        except ProtocolError as error:
            return PlainTextResponse(error.message + "\n", status_code=error.status)
        except ResultTooLarge as error:
            return PlainTextResponse(
                f"Refused: {error}; download the dumps at /dumps instead\n", status_code=403
            )

    methods = ("GET", "HEAD", "PUT", "POST", "DELETE")
    route_each_method(api, "/store", handle, methods, "graph_store")

    async def not_allowed() -> Response:
        return PlainTextResponse(f"use {ALLOWED}\n", status_code=405, headers={"Allow": ALLOWED})

    api.add_api_route("/store", not_allowed, methods=["PATCH"], include_in_schema=False)
    return api
