"""City of Brussels subsidies 2019-2024: the real demo files, read independently of the mapper."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import BASE_IRI, ROOT
from rdflib import BNode, Literal, URIRef
from rdflib.namespace import DCTERMS, PROV, RDF, SKOS
from terms import declared_terms, is_declared

from creative_graph.iris import Iris
from creative_graph.namespaces import ADMS, SCHEMA
from creative_graph.settings import Settings
from creative_graph.store import StoreReader
from ingest.errors import SourceError
from ingest.manifest import load_manifest
from ingest.mappers.city_subsidies import (
    bilingual,
    canonical_decimal,
    looks_like_person,
    map_source,
    parse_amount,
)
from ingest.pipeline import ingest_source

SOURCE = ROOT / "data" / "sources" / "brussels-city-subsidies"
GRAPH = BASE_IRI + "graph/brussels-city-subsidies"
YEARS = range(2019, 2025)
KBO_FIELDS = (
    "numero_bce_kbo_nummer",
    "le_numero_de_bce_du_beneficiaire_de_la_subvention_kbo_nummer_van_de_begunstigde_van_de_subsidie",
)
PREFIXES = """PREFIX schema: <https://schema.org/> PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX adms: <http://www.w3.org/ns/adms#> PREFIX org: <http://www.w3.org/ns/org#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
"""


# ---- the demo files, read here without the mapper ----------------------------------------------


def records(year: int, source: Path = SOURCE) -> list[dict]:
    return json.loads((source / f"data-{year}.json").read_text(encoding="utf-8"))


def amount_of(record: dict) -> Decimal:
    """The granted amount (2019: the budget amount); "3.000,00" strings or JSON numbers."""
    value = record.get("montant_octroye_toegekend_bedrag")
    if value is None:
        (key,) = [k for k in record if k.startswith("budget_")]
        value = record[key]
    if isinstance(value, str):
        return Decimal(value.replace(".", "").replace(",", "."))
    return Decimal(str(value)).quantize(Decimal("0.01"))


def kbo_of(record: dict) -> str | None:
    for key in KBO_FIELDS:
        if record.get(key) is not None:
            return str(record[key]).replace(".", "").zfill(10)
    return None


def valid(number: str) -> bool:
    return 97 - int(number[:8]) % 97 == int(number[8:])


def years_by_kbo() -> dict[str, set[int]]:
    found: dict[str, set[int]] = defaultdict(set)
    for year in YEARS:
        for record in records(year):
            number = kbo_of(record)
            if number and valid(number):
                found[number].add(year)
    return found


def select(settings: Settings, query: str) -> list[dict[str, str]]:
    return StoreReader(settings.store).select(PREFIXES + query)


def store_state(settings: Settings) -> tuple[str | None, list[str]]:
    reader = StoreReader(settings.store)
    rows = reader.select("SELECT ?g ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } }")
    return reader.snapshot.name, sorted(str(r) for r in rows)


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory, validator):
    """The demo source ingested once into a store shared by this module's read-only tests."""
    base = tmp_path_factory.mktemp("subsidies")
    settings = Settings(store=base / "store", base_iri=BASE_IRI, sources=base / "sources")
    outcome = ingest_source(load_manifest(SOURCE), settings, validator)
    assert outcome.status == "loaded", outcome.violations[:5]
    return settings, outcome


def small_copy(tmp_path: Path, keep: int = 3) -> Path:
    """A copy of the source with the first `keep` records of each year, in the files' layout."""
    target = tmp_path / "brussels-city-subsidies"
    target.mkdir()
    shutil.copy(SOURCE / "source.toml", target / "source.toml")
    for year in YEARS:
        write(target, year, records(year)[:keep])
    return target


def write(source: Path, year: int, rows: list[dict]) -> None:
    text = "[" + ",".join(json.dumps(r) for r in rows) + "]"
    (source / f"data-{year}.json").write_text(text, encoding="utf-8")


# ---- the demo files keep the originals' drift ----------------------------------------------------


def test_demo_files_keep_the_type_drift_of_the_originals() -> None:
    assert isinstance(records(2019)[0]["budget_2019_begroting_2019"], str)
    assert isinstance(records(2020)[0][KBO_FIELDS[1]], int)  # leading 0 lost
    assert isinstance(records(2022)[0]["montant_octroye_toegekend_bedrag"], float)
    assert "article_complet_volledig_artikel" in records(2023)[0]
    assert "objet_du_subside_doel_van_de_subsidie" in records(2024)[0]
    for year in YEARS:
        assert 0 < len(records(year)) <= 60


# ---- what the store holds -----------------------------------------------------------------------


def test_one_grant_per_record_with_an_amount_and_totals_per_year(loaded) -> None:
    settings, outcome = loaded
    skipped = {
        (p.file, int(p.record.split()[1]))
        for p in outcome.warnings
        if "natural person" in p.message
    }
    expected_count, expected_total = 0, {}
    for year in YEARS:
        kept = [
            r
            for number, r in enumerate(records(year), start=1)
            if (f"data-{year}.json", number) not in skipped
        ]
        expected_count += len(kept)
        expected_total[str(year)] = sum((amount_of(r) for r in kept), Decimal(0))
    rows = select(
        settings,
        f"""SELECT ?year (COUNT(?grant) AS ?grants) (SUM(?value) AS ?total) WHERE {{
          GRAPH <{GRAPH}> {{ ?grant a schema:MonetaryGrant ; schema:startDate ?year ;
                                  schema:amount/schema:value ?value }}
        }} GROUP BY ?year""",
    )
    assert sum(int(r["grants"]) for r in rows) == expected_count
    totals = {r["year"]: Decimal(r["total"]) for r in rows}
    assert totals == expected_total
    all_grants = select(
        settings, f"SELECT ?g WHERE {{ GRAPH <{GRAPH}> {{ ?g a schema:MonetaryGrant }} }}"
    )
    assert len(all_grants) == expected_count


def test_string_amounts_of_2019_and_numbers_of_2022_load_canonically(loaded) -> None:
    settings, _ = loaded
    first_2019, first_2022 = records(2019)[0], records(2022)[0]
    assert isinstance(first_2019["budget_2019_begroting_2019"], str)  # e.g. "3.000,00"
    values = {
        (r["year"], r["value"])
        for r in select(
            settings,
            f"""SELECT ?year ?value WHERE {{ GRAPH <{GRAPH}> {{
              ?grant schema:startDate ?year ; schema:amount/schema:value ?value }} }}""",
        )
    }
    assert ("2019", canonical_decimal(amount_of(first_2019))) in values
    assert ("2022", canonical_decimal(amount_of(first_2022))) in values
    assert all("," not in v and not v.endswith(".0") for _, v in values)


def test_a_beneficiary_of_several_years_is_one_actor(loaded) -> None:
    settings, _ = loaded
    multi = {n: ys for n, ys in years_by_kbo().items() if len(ys) >= 2}
    assert len(multi) >= 3
    number, years = sorted(multi.items(), key=lambda kv: -len(kv[1]))[0]
    rows = select(
        settings,
        f"""SELECT DISTINCT ?actor ?year WHERE {{ GRAPH <{GRAPH}> {{
          ?actor adms:identifier/skos:notation "{number}" .
          ?grant schema:fundedItem ?actor ; schema:startDate ?year }} }}""",
    )
    assert len({r["actor"] for r in rows}) == 1
    assert {int(r["year"]) for r in rows} == years


def test_a_kbo_number_without_its_leading_zero_becomes_ten_digits(loaded) -> None:
    settings, _ = loaded
    raw = next(r[KBO_FIELDS[1]] for r in records(2020) if r[KBO_FIELDS[1]] is not None)
    assert isinstance(raw, int) and len(str(raw)) == 9
    number = "0" + str(raw)
    assert valid(number)
    notations = {
        r["n"]
        for r in select(
            settings, f"SELECT ?n WHERE {{ GRAPH <{GRAPH}> {{ ?i skos:notation ?n }} }}"
        )
    }
    assert number in notations and str(raw) not in notations
    assert all(len(n) == 10 for n in notations)
    see_also = select(
        settings,
        f"""SELECT ?entity WHERE {{ GRAPH <{GRAPH}> {{
          ?a adms:identifier/skos:notation "{number}" ; rdfs:seeAlso ?entity }} }}""",
    )
    assert [r["entity"] for r in see_also] == [
        f"https://org.belgif.be/id/CbeRegisteredEntity/{number}"
    ]


def test_grants_of_the_city_to_a_beneficiary_in_2023(loaded) -> None:
    settings, _ = loaded
    beneficiary = next(r for r in records(2023) if kbo_of(r) and valid(kbo_of(r)))
    number = kbo_of(beneficiary)
    expected = sorted(amount_of(r) for r in records(2023) if kbo_of(r) == number)
    rows = select(
        settings,
        f"""SELECT ?value ?article WHERE {{
          ?city skos:prefLabel "Ville de Bruxelles"@fr , "Stad Brussel"@nl ;
                org:classification <https://w3id.org/creative-graph/concept/actor-type/public-body> .
          ?x adms:identifier/skos:notation "{number}" ; schema:funder ?city .
          ?grant a schema:MonetaryGrant ; schema:funder ?city ; schema:fundedItem ?x ;
                 schema:startDate ?year ; schema:identifier ?article ;
                 schema:amount [ schema:value ?value ; schema:currency "EUR" ] .
          FILTER (STR(?year) = "2023")
        }}""",
    )
    assert sorted(Decimal(r["value"]) for r in rows) == expected
    assert {r["article"] for r in rows} == {
        r["article_complet_volledig_artikel"] for r in records(2023) if kbo_of(r) == number
    }


def test_the_city_is_a_public_body_in_brussels_with_its_enterprise_number(loaded) -> None:
    settings, _ = loaded
    rows = select(
        settings,
        f"""PREFIX cv: <http://data.europa.eu/m8g/> PREFIX locn: <http://www.w3.org/ns/locn#>
        SELECT ?kbo ?unit WHERE {{ GRAPH <{GRAPH}> {{
          ?city a cv:PublicOrganisation ; skos:prefLabel "Ville de Bruxelles"@fr ;
                adms:identifier/skos:notation ?kbo ;
                org:hasPrimarySite/locn:address/cv:adminUnit ?unit }} }}""",
    )
    assert {r["kbo"] for r in rows} == {"0207373429"}
    assert {r["unit"] for r in rows} == {
        "http://vocab.belgif.be/auth/refnis2025/21004",
        "http://data.europa.eu/nuts/code/BE100",
        "http://publications.europa.eu/resource/authority/country/BEL",
    }


def test_bilingual_names_are_split_and_every_name_is_tagged(loaded) -> None:
    settings, _ = loaded
    rows = select(
        settings,
        f"""SELECT ?fr ?nl WHERE {{ GRAPH <{GRAPH}> {{
          ?grant schema:name ?fr , ?nl . FILTER (LANG(?fr) = "fr" && LANG(?nl) = "nl") }} }}""",
    )
    assert ("Subside budget ordinaire", "Toelage gewone begroting") in {
        (r["fr"], r["nl"]) for r in rows
    }
    untagged = select(
        settings,
        f"""SELECT ?label WHERE {{ GRAPH <{GRAPH}> {{
          ?a skos:prefLabel|schema:description|schema:name ?label . FILTER (LANG(?label) = "") }} }}""",
    )
    assert untagged == []


def test_invalid_kbo_is_a_warning_and_not_an_identifier(loaded) -> None:
    settings, outcome = loaded
    invalid = [
        (year, number, str(r[KBO_FIELDS[1]]))
        for year in YEARS
        for number, r in enumerate(records(year), start=1)
        if kbo_of(r) and not valid(kbo_of(r))
    ]
    assert invalid, "the demo keeps at least one number failing the mod-97 check"
    for year, number, value in invalid:
        (problem,) = [
            p
            for p in outcome.warnings
            if p.file == f"data-{year}.json"
            and p.record.startswith(f"record {number} (")
            and "mod-97" in p.message
        ]
        assert problem.severity == "Warning" and problem.value == value
        rows = select(
            settings,
            f'SELECT ?i WHERE {{ ?i skos:notation "{value.zfill(10)}" }}',
        )
        assert rows == []


def test_reingest_reports_unchanged(loaded, tmp_path, validator) -> None:
    # a copy of the first records of every year, as a source of its own: the full demo takes
    # seconds to validate (one SPARQL check per enterprise number)
    settings, _ = loaded
    copy = small_copy(tmp_path, keep=4)
    toml = (copy / "source.toml").read_text(encoding="utf-8")
    (copy / "source.toml").write_text(
        toml.replace('name = "brussels-city-subsidies"', 'name = "subsidies-copy"'),
        encoding="utf-8",
    )
    manifest = load_manifest(copy)
    first = ingest_source(manifest, settings, validator)
    again = ingest_source(manifest, settings, validator)
    assert (first.status, again.status) == ("loaded", "unchanged")
    assert (again.added, again.removed) == (0, 0)


def test_mapping_is_the_same_in_another_process() -> None:
    """Same IRIs and triples whatever the hash seed: re-ingest is identical, not just similar."""
    script = (
        "from pathlib import Path; from creative_graph.iris import Iris; "
        "from ingest.manifest import load_manifest; "
        "from ingest.mappers.city_subsidies import map_source; "
        f"g = map_source(load_manifest(Path({str(SOURCE)!r})), Iris({BASE_IRI!r})).graph; "
        "print(g.serialize(format='nt'))"
    )
    environment = {**os.environ, "PYTHONHASHSEED": "12345"}
    output = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=environment, check=True
    ).stdout
    here = map_source(load_manifest(SOURCE), Iris(BASE_IRI)).graph.serialize(format="nt")
    assert set(output.splitlines()) - {""} == set(here.splitlines()) - {""}


# ---- broken copies fail cleanly -----------------------------------------------------------------


def test_invalid_json_names_file_and_line_and_changes_nothing(loaded, tmp_path, validator) -> None:
    settings, _ = loaded
    before = store_state(settings)
    broken = small_copy(tmp_path)
    (broken / "data-2021.json").write_text('[{"a": 1},\n {"b": ,}]', encoding="utf-8")
    with pytest.raises(SourceError) as raised:
        ingest_source(load_manifest(broken), settings, validator)
    assert raised.value.path.name == "data-2021.json" and raised.value.line == 2
    assert store_state(settings) == before


def test_an_unparseable_amount_is_a_violation_naming_file_record_field_value(
    loaded, tmp_path, validator
) -> None:
    settings, _ = loaded
    before = store_state(settings)
    broken = small_copy(tmp_path)
    rows = records(2022)[:3]
    rows[1]["montant_octroye_toegekend_bedrag"] = "abc"
    write(broken, 2022, rows)
    outcome = ingest_source(load_manifest(broken), settings, validator)
    assert outcome.status == "invalid"
    (problem,) = outcome.violations
    name = rows[1]["nom_du_beneficiaire_de_la_subvention_naam_begunstigde_van_de_subsidie"]
    assert (problem.file, problem.record) == ("data-2022.json", f"record 2 ({name})")
    assert (problem.field, problem.value) == ("montant_octroye_toegekend_bedrag", "abc")
    assert store_state(settings) == before


def test_persons_without_enterprise_number_are_not_published(tmp_path) -> None:
    copy = small_copy(tmp_path)
    rows = records(2023)[:3]
    rows[0]["beneficiaire_begunstigde"] = "Anne-Marie DUPONT"
    rows[0][KBO_FIELDS[1]] = None
    write(copy, 2023, rows)
    mapped = map_source(load_manifest(copy), Iris(BASE_IRI))
    (problem,) = [p for p in mapped.problems if "natural person" in p.message]
    assert (problem.severity, problem.file, problem.record) == (
        "Info",
        "data-2023.json",
        "record 1",
    )
    assert "DUPONT" not in mapped.graph.serialize(format="nt")


def test_a_name_without_number_joins_the_numbered_actor_of_that_name(tmp_path) -> None:
    copy = small_copy(tmp_path, keep=1)
    numbered = next(r for r in records(2020) if kbo_of(r) and valid(kbo_of(r)))
    write(copy, 2020, [numbered])
    name_field = "nom_du_beneficiaire_de_la_subvention_naam_begunstigde_van_de_subsidie"
    unnumbered = {**records(2024)[0], name_field: numbered[name_field], KBO_FIELDS[1]: None}
    write(copy, 2024, [unnumbered])
    graph = map_source(load_manifest(copy), Iris(BASE_IRI)).graph

    def beneficiary(file: str) -> URIRef:
        (record,) = graph.subjects(DCTERMS.identifier, Literal(f"{file} record 1"))
        (grant,) = set(graph.subjects(PROV.wasDerivedFrom, record)) & set(
            graph.subjects(RDF.type, SCHEMA.MonetaryGrant)
        )
        return graph.value(grant, SCHEMA.fundedItem)

    assert beneficiary("data-2024.json") == beneficiary("data-2020.json")
    identifier = graph.value(beneficiary("data-2024.json"), ADMS.identifier)
    assert str(graph.value(identifier, SKOS.notation)) == kbo_of(numbered)


# ---- the mapper's output, term by term ------------------------------------------------------------


def test_only_declared_terms_and_no_blank_nodes() -> None:
    graph = map_source(load_manifest(SOURCE), Iris(BASE_IRI)).graph
    declared = declared_terms()
    for s, p, o in graph:
        assert not isinstance(s, BNode) and not isinstance(o, BNode)
        assert is_declared(p, declared), p
        if p == RDF.type:
            assert is_declared(o, declared), o
    assert all(isinstance(o, URIRef | Literal) for o in graph.objects())


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("3.000,00", "3000"),
        ("1.050.000,00", "1050000"),
        ("150,00", "150"),
        ("842,40", "842.4"),
        ("1 250", "1250"),
        ("1\u00a0250,50", "1250.5"),
        ("1.250", "1250"),
        ("12500.50", "12500.5"),
        ("12500", "12500"),
        ("€ 2.500,00", "2500"),
        (1500.0, "1500"),
        (53935.020000000004, "53935.02"),
        (300, "300"),
        ("0,05", "0.05"),
    ],
)
def test_amounts_in_european_and_plain_formats(text, amount) -> None:
    assert canonical_decimal(parse_amount(text)) == amount


@pytest.mark.parametrize("text", ["abc", "#REF!", "", "1,250.00", "1.2.3", "-5,00", True, None])
def test_what_is_not_an_amount(text) -> None:
    with pytest.raises(ValueError):
        parse_amount(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Subside budget ordinaire \u2013 Toelage gewone begroting",
            {"fr": "Subside budget ordinaire", "nl": "Toelage gewone begroting"},
        ),
        (
            "voor de organisatie van het project / pour l'organisation du projet",
            {"nl": "voor de organisatie van het project", "fr": "pour l'organisation du projet"},
        ),
        (
            "Conseil Bruxellois des Musées - Brusselse Museumraad - Brusselse Museumraad - "
            "Conseil Bruxellois des Musées",
            {"fr": "Conseil Bruxellois des Musées", "nl": "Brusselse Museumraad"},
        ),
        (
            "Festival La Belle Hip Hop 2019 / Festival La Belle Hip Hop 2019",
            {"fr": "Festival La Belle Hip Hop 2019"},
        ),
        (
            "DiverCity le 5/10/2019, pour les artistes",
            {"fr": "DiverCity le 5/10/2019, pour les artistes"},
        ),
        ("Magellan / Comité scolaire des Ecoles", {"fr": "Magellan / Comité scolaire des Ecoles"}),
        ("Koninklijke Vlaamse Schouwburg", {"nl": "Koninklijke Vlaamse Schouwburg"}),
        ("PIZZICATO", {"mul": "PIZZICATO"}),
    ],
)
def test_bilingual_texts(text, expected) -> None:
    assert bilingual(text, "mul" if text == "PIZZICATO" else "fr") == expected


@pytest.mark.parametrize(
    ("name", "person"),
    [
        ("Anne Drabs", True),
        ("ARIU Federico", True),
        ("Elsa de Lacerda", True),
        ("Nicodème Lonfils, Guillermo Borragán, Sugir Selliah", True),
        ("Autour de Marguerite", False),
        ("Le Syndicat des Immenses", False),
        ("Brussels Art Week", False),
        ("Tintinnabulum", False),
        ("Comité de Haren", False),
        ("Burns Owens Partnership Limited", False),
    ],
)
def test_person_names(name, person) -> None:
    assert looks_like_person(name) is person
