"""HTTP validators from the store's last change: ETag and Last-Modified, and 304 on revalidation.

Every published snapshot has a name and a time; a response computed from one snapshot stays
valid until the next. The ETag also names the media type, because one URL has several
representations (`Vary: Accept`), and may name a variant: what else the answer was computed
from (a query's text and dataset), so that no other answer ever shares its validator. An answer
that may differ on the same snapshot (`endpoint.sparql_text.varies`) gets no validator.
"""

from __future__ import annotations

from collections.abc import Mapping
from email.utils import format_datetime, parsedate_to_datetime
from functools import lru_cache

from fastapi import Request
from fastapi.responses import Response

from creative_graph.store import Snapshot

KEPT_ON_304 = ("ETag", "Last-Modified", "Cache-Control", "Vary")


def validators(snapshot: Snapshot, media_type: str, variant: str = "") -> dict[str, str]:
    return dict(_validators(snapshot, media_type, variant))  # a copy: callers add to it


@lru_cache(maxsize=256)  # the same few per snapshot, asked for on every request
def _validators(snapshot: Snapshot, media_type: str, variant: str) -> tuple[tuple[str, str], ...]:
    if snapshot.name is None or snapshot.modified is None:
        return ()
    tag = f"{snapshot.name}:{media_type.split(';')[0].strip()}" + (f":{variant}" if variant else "")
    return (
        ("ETag", f'W/"{tag}"'),
        ("Last-Modified", format_datetime(snapshot.modified.replace(microsecond=0), usegmt=True)),
        # may be stored, but must be revalidated: a new ingest can land at any moment
        ("Cache-Control", "no-cache"),
    )


def _matches(header: str, etag: str) -> bool:
    candidates = {tag.strip().removeprefix("W/") for tag in header.split(",")}
    return "*" in candidates or etag.removeprefix("W/") in candidates


def fresh(request_headers: Mapping[str, str], headers: dict[str, str]) -> dict[str, str] | None:
    """The headers of a 304 when the client's copy is current (RFC 9110 §13.1: If-None-Match
    wins), else None. `request_headers` are looked up by lower-case name."""
    etag = headers.get("ETag")
    if etag is None:
        return None
    if_none_match = request_headers.get("if-none-match")
    if if_none_match is not None:
        current = _matches(if_none_match, etag)
    else:
        since = request_headers.get("if-modified-since")
        try:
            current = since is not None and parsedate_to_datetime(since) >= parsedate_to_datetime(
                headers["Last-Modified"]
            )
        except (TypeError, ValueError):
            current = False
    if not current:
        return None
    return {k: v for k, v in headers.items() if k in KEPT_ON_304}


def not_modified(request: Request, headers: dict[str, str]) -> Response | None:
    """A 304 when the client's copy is current (RFC 9110 §13.1: If-None-Match wins)."""
    kept = fresh(request.headers, headers)
    return None if kept is None else Response(status_code=304, headers=kept)
