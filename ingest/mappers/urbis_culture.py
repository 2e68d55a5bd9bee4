"""Mapper for the UrbIS "zones of interest - culture" GeoJSON layer (Brussels cultural venues).

Each Point feature becomes an actor (`org:Organization`, typed from its name) with a primary
site, an address naming its municipality (point-in-polygon) and a GeoSPARQL WKT point.
Keys come from the UrbIS object id, so re-ingesting yields the same IRIs.
"""

from __future__ import annotations

import math
from typing import Any

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, PROV, RDF, SKOS

from creative_graph.iris import Iris, record_key
from creative_graph.namespaces import CV, ORG, concept
from ingest.errors import Problem
from ingest.json_files import read_features
from ingest.labels import readable
from ingest.linking import Reference
from ingest.manifest import SourceManifest
from ingest.mappers import Mapped
from ingest.mappers.places import add_point_site
from ingest.mappers.venue_kinds import SECTOR_OF_KIND, venue_kind

FIELDS = {
    "skos:prefLabel": "TXT_FRE / TXT_DUT",
    "skos:hiddenLabel": "TXT_FRE / TXT_DUT",
    "org:classification": "TXT_FRE / TXT_DUT",
    "geo:asWKT": "geometry.coordinates",
    "geo:hasGeometry": "geometry",
    "org:hasPrimarySite": "geometry",
    "cv:adminUnit": "geometry.coordinates",
}


def _coordinates(feature: dict[str, Any]) -> tuple[float, float] | str:
    """(lon, lat) of a Point feature, or what is wrong with its geometry."""
    geometry = feature.get("geometry")
    if not isinstance(geometry, dict) or geometry.get("type") != "Point":
        kind = geometry.get("type") if isinstance(geometry, dict) else geometry
        return f"geometry must be a GeoJSON Point, found {kind!r}"
    position = geometry.get("coordinates")
    if (
        not isinstance(position, list)
        or len(position) < 2
        or not all(isinstance(c, int | float) and math.isfinite(c) for c in position[:2])
    ):
        return f"coordinates must be [longitude, latitude] numbers, found {position!r}"
    return float(position[0]), float(position[1])


def map_source(manifest: SourceManifest, iris: Iris) -> Mapped:
    graph = Graph()
    mapped = Mapped(graph=graph, fields=dict(FIELDS))
    reference = Reference()
    for path in manifest.files:
        for number, feature in enumerate(read_features(path), start=1):
            mapped.records_read += 1
            _map_feature(feature, number, path.name, manifest.name, iris, reference, mapped)
    return mapped


def _map_feature(
    feature: Any,
    number: int,
    file: str,
    source: str,
    iris: Iris,
    reference: Reference,
    mapped: Mapped,
) -> None:
    properties = feature.get("properties") if isinstance(feature, dict) else None
    if not isinstance(properties, dict):
        mapped.problems.append(
            Problem(
                file, f"feature {number}", "properties", "", "not a GeoJSON feature with properties"
            )
        )
        return
    object_id = properties.get("ID")
    if not isinstance(object_id, int | float) or isinstance(object_id, bool):
        mapped.problems.append(
            Problem(
                file,
                f"feature {number}",
                "ID",
                repr(object_id),
                "the UrbIS object id is missing or not a number",
            )
        )
        return
    record_id = str(int(object_id)) if float(object_id).is_integer() else str(object_id)
    locator = f"feature {number} (ID {record_id})"
    key = record_key(source, record_id)
    actor, site = URIRef(iris.thing("actor", key)), URIRef(iris.thing("site", key))
    address, geometry = URIRef(iris.thing("address", key)), URIRef(iris.thing("geometry", key))
    record = URIRef(iris.thing("record", f"{source}-{record_id}"))
    for node in (actor, site, address, geometry, record):
        mapped.locators[str(node)] = (file, locator)

    graph = mapped.graph
    graph.add((actor, RDF.type, ORG.Organization))
    names = {}
    for field, language in (("TXT_FRE", "fr"), ("TXT_DUT", "nl")):
        value = properties.get(field)
        if isinstance(value, str) and value.strip():
            names[language] = value.strip()
            graph.add((actor, SKOS.prefLabel, Literal(readable(value), lang=language)))
            graph.add((actor, SKOS.hiddenLabel, Literal(" ".join(value.split()), lang=language)))
    kind = venue_kind(*names.values()) if names else "cultural-venue"
    graph.add((actor, ORG.classification, URIRef(concept("actor-type", kind))))
    if kind in SECTOR_OF_KIND:
        graph.add((actor, CV.sector, URIRef(concept("sector", SECTOR_OF_KIND[kind]))))
    graph.add((actor, PROV.wasDerivedFrom, record))
    graph.add((record, RDF.type, PROV.Entity))
    graph.add((record, DCTERMS.identifier, Literal(record_id)))
    mapped.actors += 1

    position = _coordinates(feature)
    if isinstance(position, str):
        mapped.problems.append(Problem(file, locator, "geometry", "", position))
        return
    lon, lat = position
    add_point_site(graph, actor, (site, address, geometry), lon, lat, reference)
