"""Which Brussels municipality a point lies in (REFNIS code and names), by point-in-polygon."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from creative_graph.reference import BRUSSELS_MUNICIPALITIES

REFERENCE = BRUSSELS_MUNICIPALITIES

Ring = list[tuple[float, float]]
Box = tuple[float, float, float, float]  # west, south, east, north


@dataclass(frozen=True)
class Municipality:
    refnis: str
    name_fr: str
    name_nl: str


def _inside(lon: float, lat: float, ring: Ring) -> bool:
    """Even-odd ray casting; good enough for municipal boundaries at metre scale."""
    inside = False
    j = len(ring) - 1
    for i, (xi, yi) in enumerate(ring):
        xj, yj = ring[j]
        if (yi > lat) != (yj > lat) and lon < (xj - xi) * (lat - yi) / (yj - yi) + xi:
            inside = not inside
        j = i
    return inside


def _box(ring: list[list[float]]) -> Box:
    xs = [point[0] for point in ring]
    ys = [point[1] for point in ring]
    return min(xs), min(ys), max(xs), max(ys)


class MunicipalityIndex:
    """Municipality polygons loaded once; `locate(lon, lat)` answers None outside all of them."""

    def __init__(self, path: Path = REFERENCE) -> None:
        self.path = path

    @cached_property
    def _polygons(self) -> list[tuple[Municipality, list[tuple[Box, list[Ring]]]]]:
        collection = json.loads(self.path.read_text(encoding="utf-8"))
        polygons = []
        for feature in collection["features"]:
            props = feature["properties"]
            geometry = feature["geometry"]
            parts = (
                [geometry["coordinates"]]
                if geometry["type"] == "Polygon"
                else geometry["coordinates"]
            )
            rings = [
                (_box(part[0]), [[(x, y) for x, y, *_ in ring] for ring in part]) for part in parts
            ]
            polygons.append(
                (Municipality(props["refnis"], props["name_fr"], props["name_nl"]), rings)
            )
        return polygons

    def locate(self, lon: float, lat: float) -> Municipality | None:
        for municipality, parts in self._polygons:
            for (west, south, east, north), (outer, *holes) in parts:
                # most points lie outside most municipalities' boxes: no ray casting for those
                if not (west <= lon <= east and south <= lat <= north):
                    continue
                if _inside(lon, lat, outer) and not any(_inside(lon, lat, h) for h in holes):
                    return municipality
        return None
