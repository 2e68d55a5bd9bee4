"""Mapper for the City of Brussels cultural places, theatres and museums (opendata.brussels.be).

Each GeoJSON file (`cultural-places`, `theatres`, `museums0`) comes with a CSV file of the same
name: header-less, tab-separated, quoted lines `name, website, image`. A feature and its CSV
line are joined by normalised name (`linking.name_key`), so a feature gets its website
(`foaf:homepage`, http(s) only; `foaf:page` for the many pages on the City's own portal
`bruxelles.be`/`brussels.be`, which are pages about a venue, not its homepage) and image
(`schema:image`). Quirks of these files, all handled:

- the properties `coordinates` (cultural places, museums) and `geo` (theatres) are
  `[lat, lon]`, the reverse of GeoJSON; the geometry (`[lon, lat]`) is used, the property only
  when the geometry is unusable, and a disagreement between the two is a warning;
- one CSV line ("Brigittines") separates its last two fields by a space instead of a tab, and
  one ("(La) Monnaie") lacks an opening quote: fields are split on tabs, else on `" "`, and
  stripped of their quotes;
- the CSV files do not end with a newline, so `wc -l` counts one line fewer than there are
  features: every line and every feature is matched, and one without its partner is a warning.

Actors (`org:Organization`): the name as `skos:prefLabel`, tagged `@fr` when it has a French
accent or a French word (`_FRENCH_WORDS`), else `@en` — the files come from the portal's English
pages, so a name without French marks is the one English readers are given, Dutch proper names
such as "Beursschouwburg" included. A leading article in brackets ("(La) Monnaie") is moved into
the name ("La Monnaie"); the name as written is kept as `skos:hiddenLabel` when it differs.
Type from the name (`venue_kinds.venue_kind`), else the file's default (theatres -> theatre,
museums -> museum); sector from the type (`SECTORS`). Site, address (municipality by
point-in-polygon, its NUTS 3 region, Belgium) and a WKT point `POINT(lon lat)`.

The files have no identifiers: a record is keyed by file name and normalised name
(`theatres.geojson/theatre poche`), a repeated name in one file by its occurrence (`#2`).
`records_read` counts features (the CSV lines only add to them).
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, FOAF, PROV, RDF, SKOS

from creative_graph.iris import Iris, record_key
from creative_graph.namespaces import CV, ORG, SCHEMA, concept
from ingest.errors import Problem, SourceError
from ingest.json_files import read_features
from ingest.linking import Reference, name_key, website_host
from ingest.manifest import SourceManifest
from ingest.mappers import Mapped
from ingest.mappers.places import add_point_site
from ingest.mappers.venue_kinds import FALLBACK, SECTOR_OF_KIND, venue_kind

# Actor type when the name says nothing, by file stem.
FILE_DEFAULT_KIND = {"theatres": "theatre", "museums0": "museum", "museums": "museum"}
# Property holding the venue's name, tried in this order (one per file of the portal).
NAME_PROPERTIES = ("cultural_place", "description", "museum", "name")
# Property holding the reversed [lat, lon] pair, checked against the geometry.
LAT_LON_PROPERTIES = ("coordinates", "geo")
SECTORS = SECTOR_OF_KIND  # other types (cultural centres, venues) span several domains
# Words that make a name French (accents aside); "theatre" without accent is English too.
_FRENCH_WORDS = frozenset({
    "le", "la", "les", "l", "du", "des", "de", "d", "au", "aux", "et", "un", "une", "maison",
    "musee", "palais", "rue", "place", "culturel", "jardin", "soeur", "rideau", "galeries",
    "communaute", "royale",
})  # fmt: skip
_FRENCH_ACCENTS = frozenset("àâæçéèêëîïôœùûüÿ")
_BRACKETED_ARTICLE = re.compile(r"^\((le|la|les|l')\)\s*", re.IGNORECASE)
_UNSAFE_IRI = re.compile(r'[\s<>"{}|\\^`]')
# Hosts of the City's own portal: a URL there is a page about the venue (`foaf:page`), not its
# homepage. foaf:homepage is inverse-functional (one homepage, one thing), and identity matching
# compares homepage hosts, so a shared portal host must never be a homepage.
PORTAL_HOSTS = frozenset({"bruxelles.be", "brussel.be", "brussels.be"})
# Geometry and [lat, lon] property may differ by rounding (the museums file keeps 11 digits in
# one and 15 in the other); more than ~1 m apart is a disagreement.
_AGREEMENT = 1e-5

FIELDS = {
    "skos:prefLabel": "name",
    "skos:hiddenLabel": "name",
    "org:classification": "name",
    "cv:sector": "name",
    "foaf:homepage": "website (CSV)",
    "foaf:page": "website (CSV)",
    "schema:image": "image (CSV)",
    "geo:asWKT": "geometry.coordinates",
    "geo:hasGeometry": "geometry",
    "org:hasPrimarySite": "geometry",
    "org:hasPrimarySite|org:hasSite": "geometry",
    "cv:adminUnit": "geometry.coordinates",
}


@dataclass(frozen=True)
class CsvLine:
    number: int
    name: str
    website: str
    image: str


def language_of(name: str) -> str:
    """`fr` when a name has a French accent or word, else `en` (see the module docstring)."""
    if _FRENCH_ACCENTS & set(name.lower()):
        return "fr"
    plain = "".join(
        c for c in unicodedata.normalize("NFKD", name.lower()) if not unicodedata.combining(c)
    )
    return "fr" if _FRENCH_WORDS & set(re.findall(r"[a-z]+", plain)) else "en"


def display_name(name: str) -> str:
    """The name with a leading bracketed article moved in: "(La) Monnaie" -> "La Monnaie"."""
    name = " ".join(name.split())
    match = _BRACKETED_ARTICLE.match(name)
    if not match:
        return name
    article = match.group(1)
    return article + ("" if article.endswith("'") else " ") + name[match.end() :]


def web_iri(text: str) -> str | None:
    """`text` when it is an absolute http(s) IRI that can be written as one, else None."""
    text = text.strip()
    if not text or _UNSAFE_IRI.search(text):
        return None
    parts = urlsplit(text)
    return text if parts.scheme in ("http", "https") and parts.hostname else None


def split_csv_line(line: str) -> list[str]:
    """Fields of one CSV line: split on tabs, else (the "Brigittines" line) on `" "`."""
    fields = line.split("\t")
    if len(fields) < 3:
        fields = [part for field in fields for part in field.split('" "')]
    return [field.strip().strip('"').strip() for field in fields]


def read_csv(path: Path) -> list[CsvLine]:
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError as error:
        raise SourceError(path, "file not found") from error
    except UnicodeDecodeError as error:
        raise SourceError(path, f"not UTF-8 text (byte {error.start})") from error
    lines = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        fields = split_csv_line(line)
        if len(fields) != 3:
            raise SourceError(
                path,
                f"expected 3 quoted fields (name, website, image) separated by tabs, "
                f"found {len(fields)}",
                number,
            )
        lines.append(CsvLine(number, *fields))
    return lines


def _pair(value: Any) -> tuple[float, float] | None:
    if (
        isinstance(value, list)
        and len(value) >= 2
        and all(
            isinstance(c, int | float) and not isinstance(c, bool) and math.isfinite(c)
            for c in value[:2]
        )
    ):
        return float(value[0]), float(value[1])
    return None


def _position(feature: dict[str, Any], properties: dict[str, Any]) -> tuple[Any, str | None]:
    """((lon, lat) or None, what is wrong) from the geometry, else the reversed property."""
    geometry = feature.get("geometry")
    point = None
    if isinstance(geometry, dict) and geometry.get("type") == "Point":
        point = _pair(geometry.get("coordinates"))
    reversed_pair = next(
        (_pair(properties[k]) for k in LAT_LON_PROPERTIES if _pair(properties.get(k))), None
    )
    if point is None:
        if reversed_pair is None:
            return None, "no Point geometry and no [lat, lon] property: the venue has no position"
        lat, lon = reversed_pair
        return (lon, lat), "no usable Point geometry: position taken from the [lat, lon] property"
    if reversed_pair is not None:
        lat, lon = reversed_pair
        if abs(lon - point[0]) > _AGREEMENT or abs(lat - point[1]) > _AGREEMENT:
            return point, (
                f"the [lat, lon] property {[lat, lon]} disagrees with the geometry "
                f"{list(point)}: the geometry is used"
            )
    return point, None


def _pairs(manifest: SourceManifest) -> list[tuple[Path, Path | None]]:
    """(GeoJSON, its CSV or None) per GeoJSON file; a CSV without GeoJSON is an error."""
    by_suffix: dict[str, dict[str, Path]] = {".geojson": {}, ".csv": {}}
    for path in manifest.files:
        suffix = path.suffix.lower()
        if suffix not in by_suffix:
            raise SourceError(path, "expected a .geojson file or its .csv companion")
        by_suffix[suffix][path.stem] = path
    for stem, path in by_suffix[".csv"].items():
        if stem not in by_suffix[".geojson"]:
            raise SourceError(path, f"no {stem}.geojson in the source to join this CSV file with")
    return [(path, by_suffix[".csv"].get(stem)) for stem, path in by_suffix[".geojson"].items()]


def map_source(manifest: SourceManifest, iris: Iris) -> Mapped:
    mapped = Mapped(graph=Graph(), fields=dict(FIELDS))
    reference = Reference()
    for geojson, csv_path in _pairs(manifest):
        features = read_features(geojson)
        lines = read_csv(csv_path) if csv_path else []
        by_name: dict[str, CsvLine] = {}
        for line in lines:
            key = name_key(line.name)
            if key in by_name:
                mapped.problems.append(
                    Problem(
                        csv_path.name if csv_path else "", f"line {line.number} ({line.name})",
                        "name", line.name,
                        f"same name as line {by_name[key].number}: this line is ignored",
                        "Warning",
                    )
                )  # fmt: skip
                continue
            by_name[key] = line
        used: set[str] = set()
        seen: dict[str, int] = {}
        for number, feature in enumerate(features, start=1):
            mapped.records_read += 1
            _map_feature(
                feature, number, geojson, csv_path, by_name, used, seen,
                manifest.name, iris, reference, mapped,
            )  # fmt: skip
        for key, line in by_name.items():
            if key not in used and csv_path is not None:
                mapped.problems.append(
                    Problem(
                        csv_path.name, f"line {line.number} ({line.name})", "name", line.name,
                        f"no feature with this name in {geojson.name}: website and image unused",
                        "Warning",
                    )
                )  # fmt: skip
    return mapped


def _map_feature(
    feature: Any,
    number: int,
    geojson: Path,
    csv_path: Path | None,
    by_name: dict[str, CsvLine],
    used: set[str],
    seen: dict[str, int],
    source: str,
    iris: Iris,
    reference: Reference,
    mapped: Mapped,
) -> None:
    file = geojson.name
    properties = feature.get("properties") if isinstance(feature, dict) else None
    if not isinstance(properties, dict):
        mapped.problems.append(
            Problem(file, f"feature {number}", "properties", "", "not a GeoJSON feature")
        )
        return
    raw_name = next(
        (properties[k] for k in NAME_PROPERTIES if isinstance(properties.get(k), str)), ""
    )
    if not raw_name.strip():
        mapped.problems.append(
            Problem(
                file, f"feature {number}", "/".join(NAME_PROPERTIES), "",
                "the venue has no name: it cannot be listed or joined with its CSV line",
            )
        )  # fmt: skip
        return
    source_name = " ".join(raw_name.split())
    key = name_key(source_name) or source_name.lower()
    seen[key] = seen.get(key, 0) + 1
    record_id = f"{file}/{key}" + (f"#{seen[key]}" if seen[key] > 1 else "")
    locator = f"feature {number} ({source_name})"
    stable = record_key(source, record_id)
    actor, site = URIRef(iris.thing("actor", stable)), URIRef(iris.thing("site", stable))
    address, geometry = (
        URIRef(iris.thing("address", stable)),
        URIRef(iris.thing("geometry", stable)),
    )
    record = URIRef(iris.thing("record", stable))
    for node in (actor, site, address, geometry, record):
        mapped.locators[str(node)] = (file, locator)

    graph = mapped.graph
    name = display_name(source_name)
    graph.add((actor, RDF.type, ORG.Organization))
    graph.add((actor, SKOS.prefLabel, Literal(name, lang=language_of(name))))
    if name != source_name:
        graph.add((actor, SKOS.hiddenLabel, Literal(source_name, lang=language_of(name))))
    kind = venue_kind(name)
    if kind == FALLBACK:
        kind = FILE_DEFAULT_KIND.get(geojson.stem, FALLBACK)
    graph.add((actor, ORG.classification, URIRef(concept("actor-type", kind))))
    if kind in SECTORS:
        graph.add((actor, CV.sector, URIRef(concept("sector", SECTORS[kind]))))
    graph.add((actor, PROV.wasDerivedFrom, record))
    graph.add((record, RDF.type, PROV.Entity))
    graph.add((record, DCTERMS.identifier, Literal(record_id)))
    mapped.actors += 1

    line = by_name.get(key) if key not in used else None
    if line is None:
        if csv_path is not None:
            mapped.problems.append(
                Problem(
                    file, locator, "name", source_name,
                    f"no line with this name in {csv_path.name}: no website or image",
                    "Warning",
                )
            )  # fmt: skip
    else:
        used.add(key)
        assert csv_path is not None
        for column, value, predicate in (
            ("website", line.website, FOAF.homepage),
            ("image", line.image, SCHEMA.image),
        ):
            iri = web_iri(value)
            if iri and predicate == FOAF.homepage and website_host(iri) in PORTAL_HOSTS:
                predicate = FOAF.page
            if iri:
                graph.add((actor, predicate, URIRef(iri)))
            elif value:
                mapped.problems.append(
                    Problem(
                        csv_path.name, f"line {line.number} ({line.name})", column, value,
                        f"not an http(s) address: the {column} is left out", "Warning",
                    )
                )  # fmt: skip

    position, trouble = _position(feature, properties)
    if trouble:
        severity = "Violation" if position is None else "Warning"
        mapped.problems.append(Problem(file, locator, "geometry", "", trouble, severity))
    if position is None:
        return
    lon, lat = position
    add_point_site(graph, actor, (site, address, geometry), lon, lat, reference)
