"""The SPARQL 1.1 Protocol endpoint at /sparql: query by GET, POST form and POST direct.

Updates (POST form `update=` or POST `application/sparql-update`) go to
`endpoint.sparql_update`, for the holder of the write token only.

The result format is negotiated from `Accept` (or forced with `format=`) once the query kind
is known: SELECT/ASK in SPARQL JSON, XML, CSV or TSV; CONSTRUCT/DESCRIBE in Turtle,
N-Triples, JSON-LD or RDF/XML. Without `default-graph-uri`, the default graph is the union
of all named graphs. Queries run in a worker thread that also serialises the results.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

import pyoxigraph as ox
from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool

from creative_graph.namespaces import sparql_prefixes
from creative_graph.settings import Settings
from creative_graph.store import QueryOutput, ResultTooLarge, StoreReader
from creative_graph.writes import Writes
from endpoint import service_description, sparql_update
from endpoint.caching import not_modified, validators
from endpoint.federation import refused_services
from endpoint.named_queries import load_queries
from endpoint.negotiation import choose
from endpoint.representations import json_for_html
from endpoint.workers import QueryRunner, QueryTimeout, ServerBusy, WorkerFailed

SOLUTION_FORMATS: dict[str, ox.QueryResultsFormat] = {
    "application/sparql-results+json": ox.QueryResultsFormat.JSON,
    "application/sparql-results+xml": ox.QueryResultsFormat.XML,
    "text/csv": ox.QueryResultsFormat.CSV,
    "text/tab-separated-values": ox.QueryResultsFormat.TSV,
    "application/json": ox.QueryResultsFormat.JSON,
    "application/xml": ox.QueryResultsFormat.XML,
}
GRAPH_FORMATS: dict[str, ox.RdfFormat] = {
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "application/ld+json": ox.RdfFormat.JSON_LD,
    "application/rdf+xml": ox.RdfFormat.RDF_XML,
    "text/plain": ox.RdfFormat.N_TRIPLES,
}
# Short names for the `format` parameter, for links typed in a browser.
FORMAT_NAMES = {
    "json": "application/sparql-results+json",
    "xml": "application/sparql-results+xml",
    "csv": "text/csv",
    "tsv": "text/tab-separated-values",
    "turtle": "text/turtle",
    "ttl": "text/turtle",
    "ntriples": "application/n-triples",
    "nt": "application/n-triples",
    "jsonld": "application/ld+json",
    "rdfxml": "application/rdf+xml",
}
SD_FORMATS = {
    "text/turtle": "turtle",
    "application/ld+json": "json-ld",
    "application/rdf+xml": "xml",
    "application/n-triples": "nt",
}
FORM_TYPE = "application/x-www-form-urlencoded"
QUERY_TYPE = "application/sparql-query"
UPDATE_TYPE = "application/sparql-update"

EXAMPLE_QUERY = """SELECT ?type (COUNT(?actor) AS ?actors) WHERE {
  ?actor a org:Organization ; org:classification ?concept .
  ?concept skos:prefLabel ?type .
  FILTER (LANG(?type) = "en")
}
GROUP BY ?type
ORDER BY DESC(?actors)"""


class ProtocolError(Exception):
    """A request the SPARQL protocol rejects, with the HTTP status to answer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _single(params: list[tuple[str, str]], name: str) -> str | None:
    values = [value for key, value in params if key == name]
    if len(values) > 1:
        raise ProtocolError(
            400, f"the '{name}' parameter must be given once, not {len(values)} times"
        )
    return values[0] if values else None


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refused with 413 beyond `limit` bytes (before reading it when declared)."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise ProtocolError(413, f"request body over the limit of {limit} bytes")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise ProtocolError(413, f"request body over the limit of {limit} bytes")
    return body


async def _protocol_parameters(request: Request, limit: int) -> list[tuple[str, str]]:
    """All protocol parameters of a request: the URL's, plus a form body's or a direct query."""
    params = list(parse_qsl(request.url.query, keep_blank_values=True))
    if request.method != "POST":
        return params
    media_type, _, parameters = request.headers.get("content-type", "").partition(";")
    content_type = media_type.strip().lower()
    charset = _charset(parameters)
    if charset not in (None, "utf-8", "utf8"):
        raise ProtocolError(415, f"send the request body in UTF-8, not {charset}")
    body = await read_body(request, limit)
    if content_type == FORM_TYPE:
        try:
            return params + parse_qsl(
                body.decode("utf-8"), keep_blank_values=True, strict_parsing=False
            )
        except UnicodeDecodeError as error:
            raise ProtocolError(400, "the form body is not UTF-8") from error
    direct = {QUERY_TYPE: "query", UPDATE_TYPE: "update"}.get(content_type)
    if direct is not None:
        if any(key in ("query", "update") for key, _ in params):
            raise ProtocolError(
                400, f"a direct POST carries the {direct} in its body, not in the URL"
            )
        try:
            return [*params, (direct, body.decode("utf-8"))]
        except UnicodeDecodeError as error:
            raise ProtocolError(400, f"the {direct} body is not UTF-8") from error
    raise ProtocolError(
        415,
        f"POST a query as {FORM_TYPE} (query=...) or as {QUERY_TYPE}, an update as "
        f"{FORM_TYPE} (update=...) or as {UPDATE_TYPE}; not {content_type or 'no type'}",
    )


def _charset(parameters: str) -> str | None:
    for parameter in parameters.split(";"):
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset":
            return value.strip().strip('"').lower()
    return None


def _formats(request: Request, params: list[tuple[str, str]]) -> tuple[str | None, str | None]:
    """Best media type for solutions and for graphs, from `format=` or else `Accept`."""
    forced = _single(params, "format")
    if forced is not None:
        media_type = FORMAT_NAMES.get(forced.lower(), forced.lower())
        if media_type not in SOLUTION_FORMATS and media_type not in GRAPH_FORMATS:
            raise ProtocolError(
                400, f"unknown format {forced!r}; use one of {', '.join(FORMAT_NAMES)}"
            )
        return (
            media_type if media_type in SOLUTION_FORMATS else None,
            media_type if media_type in GRAPH_FORMATS else None,
        )
    accept = request.headers.get("accept")
    return choose(accept, list(SOLUTION_FORMATS)), choose(accept, list(GRAPH_FORMATS))


def with_charset(media_type: str) -> str:
    textual = media_type.startswith("text/") or media_type.endswith(
        ("+json", "+xml", "/json", "/xml")
    )
    return f"{media_type}; charset=utf-8" if textual else media_type


def router(
    reader: StoreReader,
    pool: QueryRunner,
    templates: Jinja2Templates,
    settings: Settings,
    writes: Writes | None = None,
) -> APIRouter:
    api = APIRouter()
    allowlist = frozenset(settings.service_allowlist)

    def description(request: Request) -> Response:
        """The Service Description, for clients that GET the endpoint without a query."""
        rdf_type = (
            choose(request.headers.get("accept"), list(SD_FORMATS)) if _wants_rdf(request) else None
        )
        if rdf_type is None:
            raise ProtocolError(400, "missing 'query' parameter")
        names = [row["g"] for row in reader.select("SELECT DISTINCT ?g WHERE { GRAPH ?g { } }")]
        graph = service_description.describe(
            str(request.url.replace(query="")), names, updates=writes is not None
        )
        body = graph.serialize(format=SD_FORMATS[rdf_type], encoding="utf-8")
        return Response(body, media_type=with_charset(rdf_type), headers={"Vary": "Accept"})

    examples = [
        {"name": q.name, "summary": q.summary, "description": q.description, "query": q.text}
        for q in load_queries()
    ]

    def query_page(request: Request) -> Response:
        """YASGUI (when npm installed it) or a plain form, with the example queries."""
        endpoint = str(request.url.replace(query=""))
        initial = f"{sparql_prefixes()}\n{EXAMPLE_QUERY}"
        config = {"endpoint": endpoint, "initial": initial, "examples": examples}
        return templates.TemplateResponse(
            request,
            "sparql.html",
            {
                "initial": initial,
                "endpoint": endpoint,
                "examples": examples,
                "config": json_for_html(config),
            },
        )

    async def answer(request: Request) -> Response:
        try:
            params = await _protocol_parameters(request, settings.max_body_bytes)
            query = _single(params, "query")
            update = _single(params, "update")
            if query is not None and update is not None:
                raise ProtocolError(400, "send a query or an update, not both")
            if update is not None:
                if request.method != "POST":
                    raise ProtocolError(400, "an update changes data: send it with POST, never GET")
                return await sparql_update.answer(request, update, params, writes, settings)
            if query is None:
                if choose(request.headers.get("accept"), ["text/html"]) == "text/html":
                    return query_page(request)
                return description(request)
            refused = refused_services(query, allowlist)
            if refused:
                raise ProtocolError(
                    403,
                    "federated queries are only allowed to the operator's allow-list; "
                    f"refused SERVICE {', '.join(refused)}",
                )
            solutions_type, graph_type = _formats(request, params)
            cacheable = request.method in ("GET", "HEAD")
            if cacheable:
                snapshot = reader.snapshot
                for candidate in filter(None, (solutions_type, graph_type)):
                    unchanged = not_modified(
                        request, validators(snapshot, candidate) | {"Vary": "Accept"}
                    )
                    if unchanged is not None:
                        return unchanged
            request_for_worker = {
                "query": query,
                "results": SOLUTION_FORMATS[solutions_type].media_type if solutions_type else None,
                "graph": GRAPH_FORMATS[graph_type].media_type if graph_type else None,
                "default_graphs": [v for k, v in params if k == "default-graph-uri"],
                "named_graphs": [v for k, v in params if k == "named-graph-uri"],
                # relative IRIs in a query resolve against the endpoint (SPARQL 1.1 Protocol 2.1.4)
                "base_iri": settings.base_iri + "sparql",
                "max_result_bytes": settings.max_result_bytes,
                "max_result_rows": settings.max_result_rows,
            }
            output = await run_in_threadpool(pool.run, request_for_worker)
        except ProtocolError as error:
            return PlainTextResponse(error.message + "\n", status_code=error.status)
        except (QueryTimeout, ServerBusy) as error:
            return PlainTextResponse(f"{error}\n", status_code=503, headers={"Retry-After": "5"})
        except ResultTooLarge as error:
            return PlainTextResponse(
                f"Refused: {error}; ask for fewer rows (LIMIT, OFFSET) or fewer variables\n",
                status_code=403,
            )
        except WorkerFailed as error:
            return PlainTextResponse(f"{error}\n", status_code=500)
        except SyntaxError as error:
            return PlainTextResponse(f"Malformed query: {error}\n", status_code=400)
        if not isinstance(output, QueryOutput):
            offered = SOLUTION_FORMATS if output != "graph" else GRAPH_FORMATS
            return PlainTextResponse(
                f"Cannot answer a {output} result in any type you accept; available: "
                f"{', '.join(offered)}\n",
                status_code=406,
            )
        media_type = solutions_type if output.kind != "graph" else graph_type
        assert media_type is not None
        headers = {"Vary": "Accept", "X-Cache": "hit" if output.cached else "miss"}
        if cacheable:
            headers |= validators(output.snapshot, media_type)
        return Response(output.body, media_type=with_charset(media_type), headers=headers)

    route_each_method(api, "/sparql", answer, ("GET", "POST", "HEAD"), "sparql")
    api.add_api_route(
        "/sparql", _not_allowed, methods=["PUT", "DELETE", "PATCH"], include_in_schema=False
    )
    return api


def route_each_method(
    api: APIRouter, path: str, handler: Callable[..., Any], methods: tuple[str, ...], name: str
) -> None:
    """One OpenAPI operation per method (FastAPI names them after the route, not the method)."""
    for method in methods:
        api.add_api_route(
            path,
            handler,
            methods=[method],
            response_class=Response,
            name=f"{name}_{method.lower()}",
            include_in_schema=method != "HEAD",
        )


def _wants_rdf(request: Request) -> bool:
    accept = request.headers.get("accept")
    return bool(accept) and choose(accept, list(SD_FORMATS)) is not None


async def _not_allowed() -> Response:
    return PlainTextResponse(
        "use GET, HEAD or POST\n", status_code=405, headers={"Allow": "GET, HEAD, POST"}
    )
