"""The application factory: `create_app(settings)` builds the app; nothing happens at import."""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, PlainTextResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from rdflib import Graph
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

from creative_graph import __version__
from creative_graph import dumps as dumps_files
from creative_graph.settings import Settings
from creative_graph.store import StoreError, StoreReader
from endpoint import (
    catalog,
    datasets,
    dumps,
    graph_store,
    home,
    ldes,
    named_queries,
    oai,
    resources,
    sparql,
    vocabulary,
    void,
)
from endpoint.result_cache import CachedPool
from endpoint.sparql_fast import SparqlFastPath
from endpoint.workers import QueryPool, resident_bytes
from endpoint.write_worker import WriteWorker

log = logging.getLogger(__name__)
HERE = Path(__file__).parent
# YASGUI as npm installs it (`make install`: endpoint/ui/package.json); absent without npm
YASGUI = HERE / "ui" / "node_modules" / "@zazuko" / "yasgui" / "build"


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    reader = StoreReader(settings.store)
    templates = Jinja2Templates(directory=HERE / "templates")  # autoescapes .html templates
    templates.env.globals["version"] = __version__

    pool = CachedPool(
        QueryPool(
            settings.store,
            settings.query_workers,
            settings.query_timeout,
            in_memory=settings.serve_from_memory,
            long_after=settings.query_long_after,
            long_running_max=settings.query_long_running_max,
            memory_bytes=settings.query_memory_bytes,
        ),
        reader,
        settings.query_cache_bytes,
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        pool.pool.start()  # serving from memory: the workers load the snapshot now
        if writes is not None:
            writes.start()  # the write worker loads its modules and shapes now
        _catch_up_dumps(writes, settings)
        yield
        pool.close()  # worker processes are daemons too: they end with the server anyway
        if writes is not None:
            writes.close()

    app = Application(
        lifespan=lifespan,
        title="creative-graph",
        version=__version__,
        description="Linked data about a creative ecosystem, with a SPARQL 1.1 endpoint. "
        "The named queries under /api/queries are documented here.",
        # FastAPI's own docs pages load their scripts from a CDN, and nothing may be fetched
        # from the internet at run time: /docs is served by named_queries.document instead
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    answers = sparql.QueryAnswers(reader, pool, settings)
    app.sparql_queries = SparqlFastPath(
        app.framework, answers, settings.max_body_bytes, vary_origin=bool(settings.cors_origins)
    )
    if settings.cors_origins:
        # reads are public, so any page may run queries from a browser (YASGUI elsewhere,
        # notebooks); no credentials are ever allowed and `Authorization` is not an allowed
        # header, so no page on another origin can send a write
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "HEAD", "POST"],
            allow_headers=["Accept", "Content-Type", "If-None-Match", "If-Modified-Since"],
            expose_headers=["ETag", "Last-Modified", "Link", "Location", "Retry-After"],
            max_age=86400,
        )
    app.state.reader = reader
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    templates.env.globals["yasgui"] = YASGUI.is_dir()
    if YASGUI.is_dir():
        app.mount("/ui/yasgui", StaticFiles(directory=YASGUI), name="yasgui")
    else:
        log.info("YASGUI is not installed (npm ci --prefix endpoint/ui): /sparql is a plain form")
    app.include_router(home.router(reader, templates, settings))
    app.state.query_pool = pool
    writes = _writes(settings)
    app.include_router(sparql.router(reader, answers, templates, settings, writes))
    app.include_router(graph_store.router(reader, settings, writes))
    app.include_router(vocabulary.router(templates))
    app.include_router(resources.router(reader, templates, settings))
    app.include_router(void.router(reader, settings))
    app.include_router(named_queries.router(reader, pool, settings))
    named_queries.document(app)  # /openapi.json completed, shown at /docs
    app.include_router(dumps.router(reader, settings))
    app.include_router(ldes.router(settings))
    # one catalogue, built once per snapshot, behind /catalog, /oai and /graph/{name}
    described = catalog.Catalog(reader, settings)
    app.include_router(catalog.router(reader, described, settings))
    app.include_router(oai.router(reader, described, settings))
    app.include_router(datasets.router(reader, described, templates, settings))

    @app.get("/healthz")
    def healthz() -> JSONResponse:
        snapshot = reader.snapshot
        return JSONResponse(
            {
                "status": "ok",
                "version": __version__,
                "snapshot": snapshot.name,
                "server_resident_bytes": resident_bytes(os.getpid()),
                "query_workers": pool.pool.health(),
            }
        )

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException) -> Response:
        """FastAPI's answer, but a 405 that allows GET says it allows HEAD too (`Application`)."""
        if error.status_code == 405 and error.headers:
            allowed = {**error.headers, "Allow": with_head(error.headers.get("Allow", ""))}
            error = HTTPException(405, error.detail, allowed)
        return await http_exception_handler(request, error)

    @app.exception_handler(StoreError)
    @app.exception_handler(OSError)
    async def store_unavailable(request: Request, error: Exception) -> PlainTextResponse:
        log.error("store error on %s: %s", request.url.path, error)
        return PlainTextResponse(f"The store is unavailable: {error}\n", status_code=503)

    return app


class Application(FastAPI):
    """FastAPI, with SPARQL query requests answered in front of it (`endpoint.sparql_fast`), and
    HEAD answered wherever GET is.

    FastAPI's routes answer only the methods they name, so a route for GET alone would refuse
    HEAD with 405, and link checkers (data.europa.eu's, `creative-graph mqa`) send HEAD. A HEAD
    request goes to the routes as it is, so a route that answers HEAD itself (dumps, /sparql,
    /catalog, ...) still does; when the routes refuse it with a 405 that allows GET, it is run
    as that GET and answered with the GET's status and headers (`Content-Length` the length
    of the GET's body, validators, `Vary`, `Link`, `Location`) and no body. It costs what the
    GET costs, plus one routing: nothing is answered to HEAD that a GET would not compute.
    """

    sparql_queries: SparqlFastPath | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.sparql_queries is not None and scope["type"] == "http":
            await self.sparql_queries(scope, receive, send)
        else:
            await self.framework(scope, receive, send)

    async def framework(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Everything the fast path does not answer: FastAPI's middleware and routes."""
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await super().__call__(scope, receive, send)
            return
        refused = False

        async def unless_refused(message: Message) -> None:
            nonlocal refused
            if message["type"] == "http.response.start" and message["status"] == 405:
                refused = "GET" in _allowed(message.get("headers", ()))
            if not refused:
                await send(message)

        await super().__call__(dict(scope), receive, unless_refused)  # routing adds to scope
        if refused:
            await super().__call__({**scope, "method": "GET"}, receive, _headers_only(send))


BODY_MESSAGES = ("http.response.body", "http.response.pathsend")
METHOD_ORDER = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def with_head(allow: str) -> str:
    """An `Allow` value with HEAD wherever GET is allowed, methods in a fixed order."""
    methods = {m.strip().upper() for m in allow.split(",") if m.strip()}
    if "GET" in methods:
        methods.add("HEAD")
    rank = {method: i for i, method in enumerate(METHOD_ORDER)}
    return ", ".join(sorted(methods, key=lambda m: (rank.get(m, len(rank)), m)))


def _allowed(headers: list[tuple[bytes, bytes]]) -> set[str]:
    """The methods a response's `Allow` header names."""
    return {
        method.strip().upper()
        for name, value in headers
        if name.lower() == b"allow"
        for method in value.decode("latin-1").split(",")
    }


def _headers_only(send: Send) -> Send:
    """`send` for a GET run for a HEAD: the start as it is, then one empty body."""

    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            await send(message)
        elif message["type"] in BODY_MESSAGES and not message.get("more_body", False):
            await send({"type": "http.response.body", "body": b"", "more_body": False})

    return sending


def _catch_up_dumps(writes: WriteWorker | None, settings: Settings) -> None:
    """A writing server stopped before its dumps caught up with its last write does it now."""
    if writes is None or writes.dumps is None:
        return
    snapshot = StoreReader(settings.store).latest()
    if snapshot and dumps_files.served_snapshot(settings.store, snapshot) != snapshot:
        writes.dumps.request()


def _writes(settings: Settings) -> WriteWorker | None:
    """The validated writer (in its worker process), only when the operator has set a token."""
    if not settings.write_token.get_secret_value():
        return None
    import ontology
    from creative_graph.sparql_validation import SparqlValidator

    if settings.write_shapes is None:
        validator = SparqlValidator.default()
    else:
        shapes = Graph().parse(settings.write_shapes, format="turtle")
        validator = SparqlValidator(shapes, ontology.validation_graph())
    return WriteWorker(settings, validator)
