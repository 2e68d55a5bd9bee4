"""The dumps of the published snapshot, as files: `/dumps` (the list) and `/dumps/{file}`.

Files are written by `creative_graph.dumps` after an ingest; this module only serves them,
with their media type, length, a strong ETag (their SHA-256), Last-Modified, HEAD and 304.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from email.utils import format_datetime

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse, PlainTextResponse, Response

from creative_graph import dumps
from creative_graph.settings import Settings
from creative_graph.store import StoreReader


def router(reader: StoreReader, settings: Settings) -> APIRouter:
    api = APIRouter(tags=["dumps"])

    def current() -> tuple[str | None, list[dumps.DumpFile] | None]:
        snapshot = reader.snapshot.name
        return snapshot, dumps.read(settings.store, snapshot) if snapshot else None

    @api.get("/dumps", summary="The downloadable dumps of the current graph")
    def index() -> Response:
        snapshot, files = current()
        if files is None:
            return _missing(snapshot)
        return JSONResponse(
            {
                "snapshot": snapshot,
                "files": [
                    {
                        **asdict(f),
                        "url": f"{settings.base_iri}dumps/{f.name}",
                        "type": f.served_type,
                    }
                    for f in files
                ],
            }
        )

    @api.head("/dumps/{name}", include_in_schema=False)
    @api.get("/dumps/{name}", summary="One dump file")
    def file(name: str, request: Request) -> Response:
        snapshot, files = current()
        if files is None:
            return _missing(snapshot)
        found = next((f for f in files if f.name == name), None)
        if found is None or snapshot is None:
            return PlainTextResponse(f"No dump called {name!r}; see /dumps\n", status_code=404)
        etag = f'"{found.sha256}"'
        modified = format_datetime(
            datetime.fromisoformat(found.modified).replace(microsecond=0), usegmt=True
        )
        headers = {"ETag": etag, "Last-Modified": modified, "Cache-Control": "no-cache"}
        if etag in {t.strip() for t in request.headers.get("if-none-match", "").split(",")}:
            return Response(status_code=304, headers=headers)
        return FileResponse(
            dumps.directory(settings.store, snapshot) / found.name,
            media_type=found.served_type,
            filename=found.name,
            headers=headers,
        )

    return api


def _missing(snapshot: str | None) -> Response:
    reason = (
        "nothing is published yet"
        if snapshot is None
        else f"the dumps of snapshot {snapshot} are not written yet (creative-graph dumps)"
    )
    return PlainTextResponse(f"No dumps: {reason}\n", status_code=404)
