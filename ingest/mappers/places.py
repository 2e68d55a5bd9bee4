"""Premises of a Belgian actor known by a point: site, WKT point, address and municipality."""

from __future__ import annotations

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF

from creative_graph.namespaces import CV, GEO, LOCN, ORG
from ingest.linking import Reference


def add_point_site(
    graph: Graph,
    actor: URIRef,
    nodes: tuple[URIRef, URIRef, URIRef],
    lon: float,
    lat: float,
    reference: Reference,
) -> None:
    """Give `actor` a primary site at (lon, lat) in Belgium: country, municipality and NUTS 3.

    `nodes` are the IRIs of the site, its address and its geometry.
    """
    site, address, geometry = nodes
    graph.add((actor, ORG.hasPrimarySite, site))
    graph.add((site, RDF.type, ORG.Site))
    graph.add((site, GEO.hasGeometry, geometry))
    graph.add((geometry, RDF.type, GEO.Geometry))
    graph.add((geometry, GEO.asWKT, Literal(f"POINT({lon} {lat})", datatype=GEO.wktLiteral)))
    graph.add((site, LOCN.address, address))
    graph.add((address, RDF.type, LOCN.Address))
    graph.add((address, LOCN.adminUnitL1, Literal("BE")))
    country = reference.country_iri("BE")
    if country:
        graph.add((address, CV.adminUnit, URIRef(country)))
    municipality = reference.municipality_at(lon, lat)
    if municipality is not None:
        graph.add((address, CV.adminUnit, URIRef(municipality.iri)))
        graph.add((address, CV.adminUnit, URIRef(municipality.nuts3_iri)))
        graph.add((address, LOCN.adminUnitL2, Literal(municipality.name_fr, lang="fr")))
        graph.add((address, LOCN.adminUnitL2, Literal(municipality.name_nl, lang="nl")))
