"""What harvesters see change, and what they must not: the catalogue and OAI-PMH across ingests.

A dataset's `dct:modified` (and its OAI-PMH datestamp) is when its data last changed, so a run
that changes nothing changes no record but the whole graph's (whose files hold every run's
record); its period is the one its data covers; a harvest goes on from its snapshot while the
store keeps it. Each test ingests, serves and ingests again on a store of its own.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from xml.etree import ElementTree

import httpx
import pytest
from conftest import BASE_IRI, DEMO_SOURCE, LiveServer, copy_source, run_server
from oai_schema import problems
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import DCTERMS, RDF

from creative_graph import dumps
from creative_graph.iris import Iris
from creative_graph.settings import Settings
from creative_graph.store import StoreReader
from creative_graph.writes import Writes
from ingest.manifest import load_manifest
from ingest.pipeline import ingest_source

pytestmark = pytest.mark.e2e
DCAT = Namespace("http://www.w3.org/ns/dcat#")  # open: the closed rdflib one warns under pytest
HYDRA = Namespace("http://www.w3.org/ns/hydra/core#")
XSD_DATE = URIRef("http://www.w3.org/2001/XMLSchema#date")
NS = {"oai": "http://www.openarchives.org/OAI/2.0/"}
SOURCES = Path(__file__).resolve().parents[1] / "data" / "sources"
POI, STEWARD = f"{BASE_IRI}graph/brussels-culture-poi", f"{BASE_IRI}graph/steward-example"
HOST = "oai:test.example:"


@pytest.fixture
def served(tmp_path: Path, validator) -> Iterator[tuple[LiveServer, Path]]:
    """The demo source (a copy that tests change) and the steward example, with their dumps,
    served; two records a page, the fewest snapshots kept."""
    settings = Settings(store=tmp_path / "store", base_iri=BASE_IRI, catalog_page_size=2,
                        snapshots_kept=2)  # fmt: skip
    source = copy_source(DEMO_SOURCE, tmp_path / "sources" / "brussels-culture-poi")
    for folder in (source, SOURCES / "steward-example"):
        assert ingest_source(load_manifest(folder), settings, validator).status == "loaded"
    dumps.write(settings.store)
    for server in run_server(settings):
        yield server, source


def _ingest(server: LiveServer, source: Path, validator, expected: str) -> None:
    """Ingest again once the clock has moved to the next second (datestamps are to the second),
    and write the dumps, as `creative-graph ingest` does."""
    second = datetime.now(UTC).replace(microsecond=0)
    while datetime.now(UTC).replace(microsecond=0) == second:
        time.sleep(0.05)
    outcome = ingest_source(load_manifest(source), server.settings, validator)
    assert outcome.status == expected
    dumps.write(server.settings.store)


def _rename_first_venue(source: Path) -> None:
    (path,) = source.glob("*.geojson")
    document = json.loads(path.read_text(encoding="utf-8"))
    document["features"][0]["properties"]["TXT_FRE"] += " (renamed)"
    path.write_text(json.dumps(document), encoding="utf-8")


def _catalogue(server: LiveServer) -> Graph:
    """Every page of the catalogue, in one graph."""
    catalogue, url = Graph(), server.url + "/catalog.ttl"
    while url:
        response = httpx.get(url)
        assert response.status_code == 200
        page = Graph().parse(data=response.text, format="turtle")
        following = next(page.objects(None, HYDRA.next), None)
        url = str(following).replace(BASE_IRI, server.url + "/") if following else ""
        catalogue += page
    return catalogue


def _modified(catalogue: Graph) -> dict[str, datetime]:
    """dct:modified of the catalogue ("catalog") and of each dataset, by identifier."""
    found = {"catalog": catalogue.value(URIRef(BASE_IRI + "catalog"), DCTERMS.modified)}
    for dataset in catalogue.subjects(RDF.type, DCAT.Dataset):
        found[str(catalogue.value(dataset, DCTERMS.identifier))] = catalogue.value(
            dataset, DCTERMS.modified
        )
    return {name: value.toPython() for name, value in found.items()}


def _oai(server: LiveServer, **args: str) -> ElementTree.Element:
    root = ElementTree.fromstring(httpx.get(server.url + "/oai", params=args).content)
    assert problems(root) == []
    return root


def _datestamps(server: LiveServer, **args: str) -> dict[str, str]:
    """Every record's datestamp, by identifier, through all the pages of ListIdentifiers."""
    found, request = {}, {"verb": "ListIdentifiers", "metadataPrefix": "dcat_ap", **args}
    while True:
        root = _oai(server, **request)
        error = root.find("oai:error", NS)
        if error is not None:
            assert error.get("code") == "noRecordsMatch"
            return found
        for header in root.iterfind("oai:ListIdentifiers/oai:header", NS):
            found[header.find("oai:identifier", NS).text] = header.find("oai:datestamp", NS).text
        token = root.find("oai:ListIdentifiers/oai:resumptionToken", NS)
        if token is None or not token.text:
            return found
        request = {"verb": "ListIdentifiers", "resumptionToken": token.text}


def _record(server: LiveServer, name: str) -> Graph:
    root = _oai(server, verb="GetRecord", identifier=HOST + name, metadataPrefix="dcat_ap")
    (payload,) = list(root.find("oai:GetRecord/oai:record/oai:metadata", NS))
    return Graph().parse(data=ElementTree.tostring(payload), format="xml")


def test_an_ingest_that_changes_nothing_changes_no_date_and_a_change_moves_them(
    served, validator
) -> None:
    server, source = served
    before, stamps = _modified(_catalogue(server)), _datestamps(server)
    records = {name: _record(server, name) for name in ("brussels-culture-poi", "steward-example")}
    assert set(stamps) == {HOST + n for n in ("all", "brussels-culture-poi", "steward-example")}
    assert before["catalog"] == max(before.values())  # the catalogue follows its datasets

    # datestamps are to the second and `from` is inclusive: the harvest is taken in a second
    # after the loads, or it would count them as changes made since
    second = datetime.now(UTC).replace(microsecond=0)
    while datetime.now(UTC).replace(microsecond=0) == second:
        time.sleep(0.05)
    harvested = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    _ingest(server, source, validator, "unchanged")
    after = _modified(_catalogue(server))
    assert after == before  # every dataset's data, the whole graph's and the catalogue's
    now = _datestamps(server)
    for name in ("brussels-culture-poi", "steward-example"):
        assert now[HOST + name] == stamps[HOST + name]
        assert isomorphic(_record(server, name), records[name])  # the record itself: unchanged
    # an incremental harvest gets only the whole graph, whose files now hold one more run record
    assert set(_datestamps(server, **{"from": harvested})) == {HOST + "all"}

    _rename_first_venue(source)
    _ingest(server, source, validator, "loaded")
    changed = _modified(_catalogue(server))
    assert changed["brussels-culture-poi"] > before["brussels-culture-poi"]
    assert changed["catalog"] == changed["all"] == changed["brussels-culture-poi"]
    assert changed["steward-example"] == before["steward-example"]
    later = _datestamps(server)
    assert later[HOST + "brussels-culture-poi"] > stamps[HOST + "brussels-culture-poi"]
    assert later[HOST + "steward-example"] == stamps[HOST + "steward-example"]


def test_a_write_moves_the_dates_of_the_graphs_it_changed_only(served, validator) -> None:
    server, _ = served
    before, stamps = _modified(_catalogue(server)), _datestamps(server)
    second = datetime.now(UTC).replace(microsecond=0)
    while datetime.now(UTC).replace(microsecond=0) == second:
        time.sleep(0.05)
    reader = StoreReader(server.settings.store)
    (actor,) = reader.select(
        f"SELECT ?a WHERE {{ GRAPH <{STEWARD}> {{ ?a a <http://www.w3.org/ns/org#Organization> }} }}"
        " ORDER BY ?a LIMIT 1"
    )
    label = "<http://www.w3.org/2004/02/skos/core#altLabel>"
    update = f'INSERT DATA {{ GRAPH <{STEWARD}> {{ <{actor["a"]}> {label} "Written"@en }} }}'
    writes = Writes(server.settings.store, validator, Iris(BASE_IRI), refresh_dumps=False)
    writes.apply(lambda copy: copy.update(update), "a test write")
    dumps.write(server.settings.store)
    after, now = _modified(_catalogue(server)), _datestamps(server)
    assert after["steward-example"] > before["steward-example"]
    assert after["catalog"] == after["all"] == after["steward-example"]
    assert after["brussels-culture-poi"] == before["brussels-culture-poi"]
    assert now[HOST + "steward-example"] > stamps[HOST + "steward-example"]
    assert now[HOST + "brussels-culture-poi"] == stamps[HOST + "brussels-culture-poi"]


def test_each_run_records_when_the_data_of_its_graph_last_changed(served, validator) -> None:
    server, source = served
    _ingest(server, source, validator, "unchanged")
    _rename_first_venue(source)
    _ingest(server, source, validator, "loaded")
    rows = StoreReader(server.settings.store).select(
        "PREFIX prov: <http://www.w3.org/ns/prov#> PREFIX dct: <http://purl.org/dc/terms/> "
        "SELECT ?ended ?modified WHERE { ?run prov:endedAtTime ?ended ; prov:generated ?version . "
        f"?version prov:specializationOf <{POI}> ; dct:modified ?modified }} ORDER BY ?ended"
    )
    ended = [datetime.fromisoformat(r["ended"]) for r in rows]
    modified = [datetime.fromisoformat(r["modified"]) for r in rows]
    # a first load and a change: the run's end; the run that changed nothing: carried forward
    assert modified == [ended[0], ended[0], ended[2]]


def test_a_harvest_goes_on_from_its_snapshot_until_the_store_drops_it(served, validator) -> None:
    server, source = served
    first = _oai(server, verb="ListRecords", metadataPrefix="dcat_ap")
    token = first.find("oai:ListRecords/oai:resumptionToken", NS).text
    seen = [h.text for h in first.iterfind(".//oai:header/oai:identifier", NS)]
    stamps = _datestamps(server)

    _rename_first_venue(source)
    _ingest(server, source, validator, "loaded")  # a new snapshot: the harvest's is still kept
    rest = _oai(server, verb="ListRecords", resumptionToken=token)
    assert rest.find("oai:error", NS) is None
    for record in rest.iterfind("oai:ListRecords/oai:record", NS):
        identifier = record.find("oai:header/oai:identifier", NS).text
        seen.append(identifier)
        assert record.find("oai:header/oai:datestamp", NS).text == stamps[identifier]
    assert sorted(seen) == sorted(stamps)  # every record once, as they were when it began
    assert _datestamps(server) != stamps  # a new harvest sees the change

    _ingest(server, source, validator, "unchanged")  # and another: SNAPSHOTS_KEPT=2 drops it
    gone = _oai(server, verb="ListRecords", resumptionToken=token)
    assert gone.find("oai:error", NS).get("code") == "badResumptionToken"


def test_the_period_is_the_one_the_data_covers(tmp_path: Path, validator) -> None:
    settings = Settings(store=tmp_path / "store", base_iri=BASE_IRI)
    for name in ("brussels-city-subsidies", "steward-example"):
        assert ingest_source(load_manifest(SOURCES / name), settings, validator).status == "loaded"
    for server in run_server(settings):
        catalogue = _catalogue(server)

    def period(dataset: str) -> tuple[Literal, Literal]:
        temporal = catalogue.value(URIRef(dataset), DCTERMS.temporal)
        return catalogue.value(temporal, DCAT.startDate), catalogue.value(temporal, DCAT.endDate)

    # the City's grants of 2019 to 2024 (schema:startDate, xsd:gYear), not the ingest's seconds
    start, end = period(f"{BASE_IRI}graph/brussels-city-subsidies")
    assert (start, end) == (Literal("2019-01-01", datatype=XSD_DATE),
                            Literal("2024-12-31", datatype=XSD_DATE))  # fmt: skip
    # the steward example gives no date: the period it was observed over, first ingest to change
    steward = catalogue.value(URIRef(f"{BASE_IRI}graph/steward-example"), DCTERMS.issued)
    assert period(f"{BASE_IRI}graph/steward-example")[0] == steward
    # the whole graph covers what its parts cover
    whole_start, whole_end = period(BASE_IRI + "catalog#all")
    assert whole_start == start
    assert whole_end == catalogue.value(URIRef(STEWARD), DCTERMS.modified)
