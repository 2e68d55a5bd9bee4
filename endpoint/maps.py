"""A small map for a page: the 19 Brussels municipalities as inline SVG, with points.

An actor's page shows its point; an ecosystem's page the points of its members, each linked to
its page, with the municipalities where members are shaded. No tiles and no script: nothing is
fetched from the internet, the page stays light, and the map prints. The outlines are the
bundled Statbel boundaries (`creative_graph/reference`). Points outside the Brussels-Capital
Region are left out; with nothing to show in it there is no map.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from html import escape

from creative_graph.reference import BRUSSELS_MUNICIPALITIES

WIDTH = 320
MARGIN = 0.004  # degrees around the region


@lru_cache(maxsize=1)
def _outlines() -> tuple[tuple[str, str, tuple[tuple[float, float], ...]], ...]:
    """(REFNIS, French / Dutch name, outer ring) of each municipality."""
    collection = json.loads(BRUSSELS_MUNICIPALITIES.read_text(encoding="utf-8"))
    found = []
    for feature in collection["features"]:
        props, geometry = feature["properties"], feature["geometry"]
        parts = (
            [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
        )
        for part in parts:
            ring = tuple((float(x), float(y)) for x, y, *_ in part[0])
            name = (
                props["name_fr"]
                if props["name_fr"] == props["name_nl"]
                else (f"{props['name_fr']} / {props['name_nl']}")
            )
            found.append((props["refnis"], name, ring))
    return tuple(found)


@lru_cache(maxsize=1)
def _frame() -> tuple[float, float, float, float, float]:
    """west, north, scale x, scale y, height of the drawing (equirectangular at Brussels)."""
    points = [p for _, _, ring in _outlines() for p in ring]
    west, east = min(x for x, _ in points) - MARGIN, max(x for x, _ in points) + MARGIN
    south, north = min(y for _, y in points) - MARGIN, max(y for _, y in points) + MARGIN
    squeeze = math.cos(math.radians((north + south) / 2))
    scale = WIDTH / ((east - west) * squeeze)
    return west, north, scale * squeeze, scale, (north - south) * scale


def _xy(lon: float, lat: float) -> tuple[float, float]:
    west, north, sx, sy, _ = _frame()
    return (lon - west) * sx, (north - lat) * sy


def inside_region(lon: float, lat: float) -> bool:
    height = _frame()[4]
    x, y = _xy(lon, lat)
    return 0 <= x <= WIDTH and 0 <= y <= height


def wkt_point(wkt: str) -> tuple[float, float] | None:
    """(longitude, latitude) of a WKT point (a CRS IRI before it allowed), else None."""
    match = re.match(
        r"^\s*(?:<[^>]*>\s*)?POINT\s*\(\s*(-?[0-9.]+)\s+(-?[0-9.]+)\s*\)\s*$", wkt, re.I
    )
    return (float(match.group(1)), float(match.group(2))) if match else None


@dataclass(frozen=True)
class Point:
    """A point to draw: its title shows on hover; with a link, a click opens that page."""

    lon: float
    lat: float
    title: str
    link: str | None = None


def municipality_name(refnis: str) -> str | None:
    """The French / Dutch name of a Brussels municipality by its REFNIS code."""
    return next((name for code, name, _ in _outlines() if code == refnis), None)


def svg(lon: float, lat: float, municipality: str | None = None) -> str | None:
    """The map as SVG markup, or None when the point is not in the Brussels region's frame."""
    if not inside_region(lon, lat):
        return None
    here = {municipality: ""} if municipality else {}
    return draw([Point(lon, lat, f"{lat:.5f}, {lon:.5f}")], here)


def draw(
    points: Sequence[Point],
    highlighted: Mapping[str, str] | None = None,
    label: str = "Location in the Brussels-Capital Region",
) -> str | None:
    """The map with `points` (those in the region's frame) and the `highlighted` municipalities
    (REFNIS code -> a note added to its name, e.g. "3 members"); None when nothing is in it."""
    highlighted = highlighted or {}
    inside = [p for p in points if inside_region(p.lon, p.lat)]
    if not inside and not any(code in highlighted for code, _, _ in _outlines()):
        return None
    height = _frame()[4]
    shapes = []
    for refnis, name, ring in _outlines():
        path = "M" + " L".join(f"{x:.1f},{y:.1f}" for x, y in (_xy(*p) for p in ring)) + " Z"
        css = "municipality here" if refnis in highlighted else "municipality"
        note = highlighted.get(refnis)
        title = f"{name} · {note}" if note else name
        shapes.append(f'<path class="{css}" d="{path}"><title>{escape(title)}</title></path>')
    radius = 5 if len(inside) == 1 else 4
    for point in inside:
        x, y = _xy(point.lon, point.lat)
        circle = (
            f'<circle class="point" cx="{x:.1f}" cy="{y:.1f}" r="{radius}">'
            f"<title>{escape(point.title)}</title></circle>"
        )
        shapes.append(f'<a href="{escape(point.link)}">{circle}</a>' if point.link else circle)
    return (
        f'<svg class="map" viewBox="0 0 {WIDTH} {height:.0f}" width="{WIDTH}" '
        f'height="{height:.0f}" role="img" aria-label="{escape(label)}">'
        + "".join(shapes)
        + "</svg>"
    )
