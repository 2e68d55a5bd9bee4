"""The project's SHACL shapes (`creative-graph-shapes.ttl`), and SEMIC's DCAT-AP shapes.

`dcat-ap/` holds untouched copies of the DCAT-AP SHACL files (`dcat-ap/PROVENANCE.md`): the
catalogue's tests and the MQA self-check validate with them, offline.
"""

from __future__ import annotations

from pathlib import Path

from rdflib import Graph

DIRECTORY = Path(__file__).parent
SHAPES_IRI = "https://w3id.org/creative-graph/shapes"
DCAT_AP = DIRECTORY / "dcat-ap"
# What data.europa.eu's piveau validator loads by default (DCATAP211Level2).
DCAT_AP_2_1_1 = tuple(
    DCAT_AP / "2.1.1" / f"dcat-ap_2.1.1_shacl_{name}.ttl"
    for name in ("shapes", "shapes_recommended", "deprecateduris")
)


def files() -> list[Path]:
    return sorted(DIRECTORY.glob("*.ttl"))


def graph() -> Graph:
    combined = Graph()
    for path in files():
        combined.parse(path, format="turtle")
    return combined


def dcat_ap_2_1_1() -> Graph:
    """The DCAT-AP 2.1.1 shapes, recommended-property shapes and deprecated-URI warnings."""
    combined = Graph()
    for path in DCAT_AP_2_1_1:
        combined.parse(path, format="turtle")
    return combined
