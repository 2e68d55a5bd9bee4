"""The application factory: `create_app(settings)` builds the app; nothing happens at import."""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, PlainTextResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from rdflib import Graph
from starlette.types import Receive, Scope, Send

from creative_graph import __version__
from creative_graph.iris import Iris
from creative_graph.settings import Settings
from creative_graph.store import StoreError, StoreReader
from creative_graph.writes import Writes
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
        ),
        reader,
        settings.query_cache_bytes,
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        pool.pool.start()  # serving from memory: the workers load the snapshot now
        yield
        pool.close()  # worker processes are daemons too: they end with the server anyway

    app = Application(
        lifespan=lifespan,
        title="creative-graph",
        version=__version__,
        description="Linked data about a creative ecosystem, with a SPARQL 1.1 endpoint. "
        "The named queries under /api/queries are documented here.",
        # the interactive docs pages load their scripts from a CDN: nothing may be fetched
        # from the internet at run time, so only the OpenAPI document itself is served
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

    @app.exception_handler(StoreError)
    @app.exception_handler(OSError)
    async def store_unavailable(request: Request, error: Exception) -> PlainTextResponse:
        log.error("store error on %s: %s", request.url.path, error)
        return PlainTextResponse(f"The store is unavailable: {error}\n", status_code=503)

    return app


class Application(FastAPI):
    """FastAPI, with SPARQL query requests answered in front of it (`endpoint.sparql_fast`)."""

    sparql_queries: SparqlFastPath | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.sparql_queries is not None and scope["type"] == "http":
            await self.sparql_queries(scope, receive, send)
        else:
            await super().__call__(scope, receive, send)

    async def framework(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Everything the fast path does not answer: FastAPI's middleware and routes."""
        await super().__call__(scope, receive, send)


def _writes(settings: Settings) -> Writes | None:
    """The validated writer, only when the operator has set a write token."""
    if not settings.write_token.get_secret_value():
        return None
    import ontology
    from creative_graph.sparql_validation import SparqlValidator

    if settings.write_shapes is None:
        validator = SparqlValidator.default()
    else:
        shapes = Graph().parse(settings.write_shapes, format="turtle")
        validator = SparqlValidator(shapes, ontology.validation_graph())
    return Writes(settings.store, validator, Iris(settings.base_iri), settings.snapshots_kept)
