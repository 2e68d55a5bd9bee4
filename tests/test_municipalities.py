"""Which Brussels municipality a venue lies in, from the bundled municipal boundaries.

The boundaries are generalised (up to ~80 m off the official ones, see
ingest/reference/PROVENANCE.md), so every landmark below was checked to lie at least
~200 m inside its municipality's polygon.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ingest.municipalities import REFERENCE, Municipality, MunicipalityIndex


@pytest.fixture(scope="module")
def index() -> MunicipalityIndex:
    return MunicipalityIndex()


@pytest.mark.parametrize(
    ("place", "lon", "lat", "refnis", "name_fr", "name_nl"),
    [
        ("Grand-Place", 4.3517, 50.8466, "21004", "Bruxelles", "Brussel"),
        ("Atomium", 4.3417, 50.8949, "21004", "Bruxelles", "Brussel"),
        ("Flagey building", 4.3720, 50.8275, "21009", "Ixelles", "Elsene"),
        ("Maison des Arts de Schaerbeek", 4.3780, 50.8650, "21015", "Schaerbeek", "Schaarbeek"),
        ("Parvis de Saint-Gilles", 4.3460, 50.8280, "21013", "Saint-Gilles", "Sint-Gillis"),
    ],
)
def test_landmark_lies_in_its_municipality(index, place, lon, lat, refnis, name_fr, name_nl):
    assert index.locate(lon, lat) == Municipality(refnis, name_fr, name_nl), place


def test_ixelles_west_of_avenue_louise_is_ixelles(index):
    # Ixelles is a MultiPolygon cut in two by the Avenue Louise strip of the City of Brussels;
    # Place Brugmann is in the smaller, western part.
    assert index.locate(4.3565, 50.8195).refnis == "21009"


def test_bois_de_la_cambre_belongs_to_the_city_of_brussels(index):
    # The lake of the Bois de la Cambre, at the far end of the Avenue Louise strip.
    assert index.locate(4.3745, 50.8115).refnis == "21004"


@pytest.mark.parametrize(
    ("place", "lon", "lat"),
    [("Antwerp", 4.40, 51.22), ("Leuven", 4.70, 50.88), ("Null Island", 0.0, 0.0)],
)
def test_point_outside_brussels_has_no_municipality(index, place, lon, lat):
    assert index.locate(lon, lat) is None, place


def test_longitude_and_latitude_are_not_swapped(index):
    assert index.locate(50.8466, 4.3517) is None


def test_reference_file_holds_the_19_brussels_municipalities():
    features = json.loads(REFERENCE.read_text(encoding="utf-8"))["features"]
    codes = sorted(feature["properties"]["refnis"] for feature in features)
    assert codes == [f"210{number:02d}" for number in range(1, 20)]


def test_every_municipality_has_a_french_and_a_dutch_name():
    features = json.loads(REFERENCE.read_text(encoding="utf-8"))["features"]
    for feature in features:
        properties = feature["properties"]
        assert properties["name_fr"].strip(), properties
        assert properties["name_nl"].strip(), properties


def _write_collection(path: Path, geometry: dict) -> Path:
    feature = {
        "type": "Feature",
        "properties": {"refnis": "99999", "name_fr": "Testville", "name_nl": "Teststad"},
        "geometry": geometry,
    }
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    return path


def _square(x0: float, y0: float, size: float) -> list[list[float]]:
    return [[x0, y0], [x0 + size, y0], [x0 + size, y0 + size], [x0, y0 + size], [x0, y0]]


def test_point_in_a_hole_of_a_polygon_is_outside(tmp_path):
    geometry = {"type": "Polygon", "coordinates": [_square(0, 0, 10), _square(4, 4, 2)]}
    index = MunicipalityIndex(_write_collection(tmp_path / "holed.geojson", geometry))
    assert index.locate(1, 1) == Municipality("99999", "Testville", "Teststad")
    assert index.locate(5, 5) is None


def test_every_part_of_a_multipolygon_counts(tmp_path):
    geometry = {"type": "MultiPolygon", "coordinates": [[_square(0, 0, 1)], [_square(5, 5, 1)]]}
    index = MunicipalityIndex(_write_collection(tmp_path / "multi.geojson", geometry))
    assert index.locate(0.5, 0.5).refnis == "99999"
    assert index.locate(5.5, 5.5).refnis == "99999"
    assert index.locate(3, 3) is None


def test_coordinates_with_an_altitude_are_accepted(tmp_path):
    ring = [[x, y, 100.0] for x, y in _square(0, 0, 1)]
    geometry = {"type": "Polygon", "coordinates": [ring]}
    index = MunicipalityIndex(_write_collection(tmp_path / "3d.geojson", geometry))
    assert index.locate(0.5, 0.5).refnis == "99999"
