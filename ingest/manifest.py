"""Source manifests (`source.toml`): what a source is, where its files are, how to map it."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from ingest.errors import SourceError

MANIFEST_NAME = "source.toml"
_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


@dataclass(frozen=True)
class SourceManifest:
    """One declared source; `name` also names its graph, `{BASE_IRI}graph/{name}`."""

    name: str
    title: str
    mapper: str
    files: tuple[Path, ...]
    publisher: str
    licence_name: str
    licence_iri: str | None
    attribution: str
    homepage: str | None
    manifest_path: Path
    # NUTS 3 region assumed, for name matching only, of actors the source gives no address
    # (the beneficiaries of a Brussels municipality's subsidies): never published as a fact.
    match_region: str | None = None


def _text(table: dict[str, object], key: str, path: Path, required: bool = True) -> str | None:
    value = table.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise SourceError(path, f"'{key}' must be a non-empty string")
    return value.strip()


def load_manifest(path: Path) -> SourceManifest:
    """Read a manifest, given its path or the directory that holds it."""
    path = path / MANIFEST_NAME if path.is_dir() else path
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise SourceError(path, "no source manifest here (expected a source.toml)") from error
    except tomllib.TOMLDecodeError as error:
        line = getattr(error, "lineno", None)
        raise SourceError(path, f"not valid TOML: {error}", line) from error
    name = _text(table, "name", path)
    assert name is not None
    if not _NAME.match(name):
        raise SourceError(path, f"'name' {name!r} must be lower-case letters, digits and dashes")
    files = table.get("files")
    if not isinstance(files, list) or not files or not all(isinstance(f, str) for f in files):
        raise SourceError(path, "'files' must be a non-empty list of file names")
    licence = table.get("licence")
    if not isinstance(licence, dict):
        raise SourceError(path, "'licence' must be a table with 'name' and optionally 'iri'")
    return SourceManifest(
        name=name,
        title=_text(table, "title", path) or "",
        mapper=_text(table, "mapper", path) or "",
        files=tuple((path.parent / f).resolve() for f in files),
        publisher=_text(table, "publisher", path) or "",
        licence_name=_text(licence, "name", path) or "",
        licence_iri=_text(licence, "iri", path, required=False),
        attribution=_text(table, "attribution", path) or "",
        homepage=_text(table, "homepage", path, required=False),
        manifest_path=path,
        match_region=_text(table, "match_region", path, required=False),
    )
