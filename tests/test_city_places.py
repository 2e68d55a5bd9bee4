"""City of Brussels places, theatres and museums: join with the CSVs, reversed coordinates, quirks."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from conftest import BASE_IRI, ROOT, copy_source
from rdflib import BNode, URIRef
from rdflib.namespace import RDF
from terms import is_declared

from creative_graph.iris import Iris
from creative_graph.settings import Settings
from creative_graph.store import StoreReader
from ingest.errors import SourceError
from ingest.linking import Reference
from ingest.manifest import load_manifest
from ingest.mappers.city_places import display_name, language_of, map_source, split_csv_line
from ingest.pipeline import ingest_source

SOURCE = ROOT / "data" / "sources" / "brussels-city-places"
SHARED = ROOT.parent / "shared" / "data" / "sources" / "brussels-culture-poi"
GRAPH = BASE_IRI + "graph/brussels-city-places"
STEMS = ("cultural-places", "theatres", "museums0")
PREFIXES = """PREFIX org: <http://www.w3.org/ns/org#> PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX geo: <http://www.opengis.net/ont/geosparql#> PREFIX locn: <http://www.w3.org/ns/locn#>
PREFIX cv: <http://data.europa.eu/m8g/> PREFIX foaf: <http://xmlns.com/foaf/0.1/>
PREFIX schema: <https://schema.org/> PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX dct: <http://purl.org/dc/terms/>
"""


def features(stem: str, source: Path = SOURCE) -> list[dict]:
    return json.loads((source / f"{stem}.geojson").read_text(encoding="utf-8"))["features"]


def csv_lines(stem: str, source: Path = SOURCE) -> list[str]:
    """Non-empty lines, counted without `wc -l`'s blind spot (no newline after the last line)."""
    text = (source / f"{stem}.csv").read_text(encoding="utf-8")
    return [line for line in text.split("\n") if line.strip()]


@pytest.fixture
def city_copy(tmp_path: Path) -> Path:
    return copy_source(SOURCE, tmp_path / "sources" / "brussels-city-places")


@pytest.fixture(scope="module")
def city_store(tmp_path_factory: pytest.TempPathFactory, validator) -> Settings:
    base = tmp_path_factory.mktemp("city")
    settings = Settings(store=base / "store", base_iri=BASE_IRI, sources=base / "sources")
    outcome = ingest_source(load_manifest(SOURCE), settings, validator)
    assert outcome.status == "loaded", outcome.violations[:5]
    return settings


def select(settings: Settings, query: str) -> list[dict[str, str]]:
    return StoreReader(settings.store).select(PREFIXES + query)


def store_state(settings: Settings) -> tuple[str | None, list[str]]:
    reader = StoreReader(settings.store)
    rows = reader.select("SELECT ?g ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } }")
    return reader.snapshot.name, sorted(str(r) for r in rows)


def test_demo_copies_are_byte_for_byte_the_shared_files() -> None:
    if not SHARED.exists():
        pytest.skip("shared data folder not mounted")
    for stem in STEMS:
        for suffix in (".geojson", ".csv"):
            name = stem + suffix
            assert (SOURCE / name).read_bytes() == (SHARED / name).read_bytes(), name


def test_every_feature_becomes_one_actor_and_every_line_is_joined(city_store) -> None:
    total = sum(len(features(stem)) for stem in STEMS)
    assert total == sum(len(csv_lines(stem)) for stem in STEMS) == 52
    mapped = map_source(load_manifest(SOURCE), Iris(BASE_IRI))
    assert (mapped.records_read, mapped.actors) == (total, total)
    assert [p for p in mapped.problems if p.severity == "Violation"] == []
    assert not any("no feature" in p.message or "no line" in p.message for p in mapped.problems)
    rows = select(city_store, f"SELECT ?a WHERE {{ GRAPH <{GRAPH}> {{ ?a a org:Organization }} }}")
    assert len(rows) == total
    with_site = select(
        city_store,
        f"SELECT DISTINCT ?a WHERE {{ GRAPH <{GRAPH}> {{ ?a org:hasPrimarySite/geo:hasGeometry ?g }} }}",
    )
    assert len(with_site) == total


def test_reversed_coordinates_put_a_known_theatre_in_its_municipality(city_store) -> None:
    (poche,) = [
        f for f in features("theatres") if f["properties"]["description"] == "Théâtre de Poche"
    ]
    lon, lat = poche["geometry"]["coordinates"]
    assert poche["properties"]["geo"] == [lat, lon]  # the property is [lat, lon]: reversed
    assert Reference().municipality_at(*poche["properties"]["geo"]) is None  # read naively: nowhere
    rows = select(
        city_store,
        f"""SELECT ?wkt ?unit ?label WHERE {{ GRAPH <{GRAPH}> {{
          ?a skos:prefLabel ?label ; prov:wasDerivedFrom/dct:identifier "theatres.geojson/theatre poche" ;
             org:hasPrimarySite ?site . ?site geo:hasGeometry/geo:asWKT ?wkt ;
             locn:address/cv:adminUnit ?unit }} }}""",
    )
    assert {r["wkt"] for r in rows} == {f"POINT({lon} {lat})"}
    assert {r["label"] for r in rows} == {"Théâtre de Poche"}
    assert {r["unit"] for r in rows} == {
        "http://vocab.belgif.be/auth/refnis2025/21004",  # City of Brussels (Bois de la Cambre)
        "http://data.europa.eu/nuts/code/BE100",
        "http://publications.europa.eu/resource/authority/country/BEL",
    }


def test_quirky_csv_lines_still_give_website_and_image(city_store) -> None:
    # "(La) Monnaie" lacks the opening quote of its website; "Brigittines" uses a space, not a tab.
    monnaie = [line for line in csv_lines("theatres") if line.startswith('"(La) Monnaie"')]
    brigittines = [
        line for line in csv_lines("cultural-places") if line.startswith('"Brigittines"')
    ]
    assert '\thttp://www.lamonnaie.be/"' in monnaie[0]
    assert brigittines[0].count("\t") == 1 and '" "' in brigittines[0]
    rows = select(
        city_store,
        f"""SELECT ?label ?home ?image WHERE {{ GRAPH <{GRAPH}> {{
          ?a skos:prefLabel ?label ; foaf:homepage ?home ; schema:image ?image .
          FILTER (STR(?label) IN ("La Monnaie", "Brigittines")) }} }}""",
    )
    found = {(r["label"], r["home"]) for r in rows}
    assert found == {
        ("La Monnaie", "http://www.lamonnaie.be/"),
        ("Brigittines", "http://www.brigittines.be/"),
    }
    assert all(
        r["image"].startswith("http") and r["image"].endswith((".jpg", ".JPG")) for r in rows
    )


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").removeprefix("www.")


def test_city_portal_pages_are_pages_not_homepages(city_store) -> None:
    portal = {"brussels.be", "bruxelles.be"}
    homes = select(city_store, f"SELECT ?h WHERE {{ GRAPH <{GRAPH}> {{ ?a foaf:homepage ?h }} }}")
    assert homes and not any(_host(r["h"]) in portal for r in homes)
    pages = select(city_store, f"SELECT ?p WHERE {{ GRAPH <{GRAPH}> {{ ?a foaf:page ?p }} }}")
    websites = [split_csv_line(line)[1] for stem in STEMS for line in csv_lines(stem)]
    assert len(pages) == len([w for w in websites if _host(w) in portal]) > 5
    assert len(homes) + len(pages) == len(websites)


def test_types_labels_and_sectors_follow_the_names_and_files(city_store) -> None:
    rows = select(
        city_store,
        f"""SELECT ?label ?lang ?type ?sector WHERE {{ GRAPH <{GRAPH}> {{
          ?a skos:prefLabel ?label ; org:classification ?type . BIND (LANG(?label) AS ?lang)
          OPTIONAL {{ ?a cv:sector ?sector }} }} }}""",
    )
    by_label = {r["label"]: r for r in rows}
    assert by_label["Sewer Museum"]["type"].endswith("/museum")
    assert by_label["Sewer Museum"]["sector"].endswith("/sector/heritage")
    assert by_label["City Hall"]["type"].endswith("/museum")  # museums file default
    assert by_label["Beursschouwburg"]["type"].endswith("/theatre")  # theatres file default
    assert by_label["Beursschouwburg"]["sector"].endswith("/sector/performing-arts")
    assert by_label["House of Creation"]["type"].endswith("/cultural-venue")
    assert "sector" not in by_label["House of Creation"]
    assert by_label["Théâtre de Poche"]["lang"] == "fr"
    assert by_label["Toone Theatre"]["lang"] == "en"
    assert by_label["La Bellone"]["lang"] == "fr"


@pytest.mark.parametrize(
    ("name", "language"),
    [
        ("Théâtre de Poche", "fr"),
        ("La Bellone", "fr"),
        ("Sewer Museum", "en"),
        ("Cité Culture", "fr"),
        ("Koninklijke Vlaamse Schouwburg", "en"),
        ("Palais des Beaux-Arts (BOZAR)", "fr"),
        ("Toone Theatre", "en"),
    ],
)
def test_language_of_a_name(name: str, language: str) -> None:
    assert language_of(name) == language


def test_bracketed_articles_and_csv_splitting() -> None:
    assert display_name("(La) Monnaie") == "La Monnaie"
    assert display_name("(Le)  Jardin de ma Soeur") == "Le Jardin de ma Soeur"
    assert display_name("Recyclart") == "Recyclart"
    assert split_csv_line('"A"\t"http://a/" "http://a/i.jpg"') == [
        "A",
        "http://a/",
        "http://a/i.jpg",
    ]
    assert split_csv_line('"A"\thttp://a/"\t""') == ["A", "http://a/", ""]


def test_mapped_graph_has_no_blank_nodes_and_locates_every_node() -> None:
    mapped = map_source(load_manifest(SOURCE), Iris(BASE_IRI))
    minted = {
        str(t) for triple in mapped.graph for t in triple if str(t).startswith(BASE_IRI + "id/")
    }
    assert not any(isinstance(t, BNode) for triple in mapped.graph for t in triple)
    assert minted <= set(mapped.locators)
    used = {p for _, p, _ in mapped.graph} | set(mapped.graph.objects(None, RDF.type))
    assert sorted(str(t) for t in used if not is_declared(t)) == []
    record = next(s for s in mapped.graph.subjects() if "/id/record/" in str(s))
    assert (record, RDF.type, URIRef("http://www.w3.org/ns/prov#Entity")) in mapped.graph


def test_unmatched_csv_line_and_feature_are_warnings_naming_file_and_line(city_copy) -> None:
    theatres = city_copy / "theatres.csv"
    theatres.write_text(
        theatres.read_text(encoding="utf-8") + '\n"Nowhere Theatre"\t"http://nowhere.example/"\t""',
        encoding="utf-8",
    )
    museums = city_copy / "museums0.csv"
    lines = csv_lines("museums0", city_copy)
    museums.write_text(
        "\n".join(line for line in lines if not line.startswith('"Sewer')), encoding="utf-8"
    )
    mapped = map_source(load_manifest(city_copy), Iris(BASE_IRI))
    assert mapped.actors == 52
    located = {(p.severity, p.file, p.record) for p in mapped.problems}
    line_number = len(csv_lines("theatres")) + 1
    assert ("Warning", "theatres.csv", f"line {line_number} (Nowhere Theatre)") in located
    sewer = [
        i
        for i, f in enumerate(features("museums0"), 1)
        if f["properties"]["museum"] == "Sewer Museum"
    ]
    assert ("Warning", "museums0.geojson", f"feature {sewer[0]} (Sewer Museum)") in located
    assert all(p.severity == "Warning" for p in mapped.problems)


def test_malformed_inputs_fail_cleanly_and_change_nothing(city_store, city_copy, validator) -> None:
    manifest = load_manifest(city_copy)  # same source name as the loaded one
    before = store_state(city_store)
    museums = city_copy / "museums0.csv"
    lines = csv_lines("museums0", city_copy)
    lines.insert(2, '"Broken line without separators"')
    museums.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(SourceError) as caught:
        ingest_source(manifest, city_store, validator)
    assert caught.value.path.name == "museums0.csv" and caught.value.line == 3
    assert "3 quoted fields" in caught.value.message
    museums.write_text("\n".join(csv_lines("museums0")), encoding="utf-8")
    (city_copy / "theatres.geojson").write_text(
        '{"type": "FeatureCollection",\n "features": [', encoding="utf-8"
    )
    with pytest.raises(SourceError) as caught:
        ingest_source(manifest, city_store, validator)
    assert caught.value.path.name == "theatres.geojson" and caught.value.line == 2
    assert store_state(city_store) == before


def test_reingest_is_unchanged(city_store, validator) -> None:
    before = select(
        city_store, f"SELECT ?a WHERE {{ GRAPH <{GRAPH}> {{ ?a a org:Organization }} }}"
    )
    again = ingest_source(load_manifest(SOURCE), city_store, validator)
    assert (again.status, again.added, again.removed) == ("unchanged", 0, 0)
    after = select(city_store, f"SELECT ?a WHERE {{ GRAPH <{GRAPH}> {{ ?a a org:Organization }} }}")
    assert sorted(r["a"] for r in after) == sorted(r["a"] for r in before)


def test_reversed_property_is_a_fallback_and_a_cross_check(city_copy) -> None:
    path = city_copy / "museums0.geojson"
    document = json.loads(path.read_text(encoding="utf-8"))
    lon, lat = document["features"][0]["geometry"]["coordinates"]
    document["features"][0]["geometry"] = None  # position from the [lat, lon] property
    document["features"][1]["properties"]["coordinates"] = [4.35, 50.84]  # written lon-first
    path.write_text(json.dumps(document), encoding="utf-8")
    mapped = map_source(load_manifest(city_copy), Iris(BASE_IRI))
    problems = {
        (p.record.split(" (")[0], p.severity) for p in mapped.problems if p.file == path.name
    }
    assert problems == {("feature 1", "Warning"), ("feature 2", "Warning")}
    wkts = {
        str(o)
        for o in mapped.graph.objects(None, URIRef("http://www.opengis.net/ont/geosparql#asWKT"))
    }
    assert f"POINT({lon} {lat})" in wkts
