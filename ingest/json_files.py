"""Reading JSON and GeoJSON sources, with errors that name the file, line and column."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ingest.errors import SourceError


def read_json(path: Path) -> Any:
    """The parsed document; a byte-order mark is accepted (spreadsheet exports write one)."""
    try:
        return json.loads(path.read_bytes().decode("utf-8-sig"))
    except FileNotFoundError as error:
        raise SourceError(path, "file not found") from error
    except UnicodeDecodeError as error:
        raise SourceError(path, f"not UTF-8 text (byte {error.start})") from error
    except json.JSONDecodeError as error:
        raise SourceError(
            path, f"not valid JSON: {error.msg} (column {error.colno})", error.lineno
        ) from error


def read_features(path: Path) -> list[Any]:
    """The features of a GeoJSON FeatureCollection."""
    document = read_json(path)
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        raise SourceError(path, "not a GeoJSON FeatureCollection")
    features = document.get("features")
    if not isinstance(features, list):
        raise SourceError(path, "the FeatureCollection has no 'features' list")
    return features
