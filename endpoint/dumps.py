"""The dumps of the published snapshot, as files: `/dumps` (the list) and `/dumps/{file}`.

Files are written by `creative_graph.dumps` after an ingest or a write; this module only serves
them, with their media type, length, a strong ETag (their SHA-256), Last-Modified, HEAD and
304. What is served is the newest complete set (`dumps.latest`): while the current snapshot's
set is being written, the previous one, and `/dumps` says which snapshot the files are of and
whether newer changes are not in them yet.
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

    def current() -> tuple[str | None, dumps.DumpSet | None]:
        snapshot = reader.snapshot.name
        return snapshot, dumps.latest(settings.store, snapshot)

    @api.get("/dumps", summary="The downloadable dumps of the current graph")
    def index() -> Response:
        snapshot, served = current()
        if served is None:
            return _missing(snapshot)
        document: dict[str, object] = {
            "snapshot": served.snapshot,  # the snapshot the files are of
            "published_snapshot": snapshot,  # the one queries answer from
            "up_to_date": served.snapshot == snapshot,
        }
        if served.snapshot != snapshot:
            document["note"] = (
                f"changes published after snapshot {served.snapshot} are not in these files "
                f"yet; those of snapshot {snapshot} are written after it is published (in the "
                "background after a write, by the ingest command, or by creative-graph dumps)"
            )
        document["files"] = [
            {**asdict(f), "url": f"{settings.base_iri}dumps/{f.name}", "type": f.served_type}
            for f in served.files
        ]
        return JSONResponse(document, headers={"Cache-Control": "no-cache"})

    @api.head("/dumps/{name}", include_in_schema=False)
    @api.get("/dumps/{name}", summary="One dump file")
    def file(name: str, request: Request) -> Response:
        snapshot, served = current()
        if served is None:
            return _missing(snapshot)
        found = next((f for f in served.files if f.name == name), None)
        if found is None:
            return PlainTextResponse(f"No dump called {name!r}; see /dumps\n", status_code=404)
        etag = f'"{found.sha256}"'
        modified = format_datetime(
            datetime.fromisoformat(found.modified).replace(microsecond=0), usegmt=True
        )
        headers = {"ETag": etag, "Last-Modified": modified, "Cache-Control": "no-cache"}
        if etag in {t.strip() for t in request.headers.get("if-none-match", "").split(",")}:
            return Response(status_code=304, headers=headers)
        return FileResponse(
            served.folder / found.name,
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
