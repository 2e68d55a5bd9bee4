"""OAI-PMH 2.0 at /oai, checked against the protocol's rules on the running server."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from urllib.parse import urlsplit
from xml.etree import ElementTree

import httpx
import pytest
from conftest import BASE_IRI, run_server
from oai_schema import problems
from rdflib import Graph, Namespace
from rdflib.namespace import RDF

from creative_graph import dumps
from creative_graph.settings import Settings
from endpoint.oai import admin_email
from ingest.manifest import load_manifest
from ingest.pipeline import ingest_source

pytestmark = pytest.mark.e2e
DCAT = Namespace("http://www.w3.org/ns/dcat#")  # open: the closed rdflib one warns under pytest
HERE = Path(__file__).parent
NS = {"oai": "http://www.openarchives.org/OAI/2.0/"}
SOURCES = [
    HERE.parent / "data" / "sources" / n for n in ("brussels-culture-poi", "steward-example")
]


@pytest.fixture(scope="module")
def oai(tmp_path_factory: pytest.TempPathFactory, validator):
    base = tmp_path_factory.mktemp("oai")
    settings = Settings(
        store=base / "store", base_iri=BASE_IRI, catalog_page_size=2,
        catalog_contact="mailto:steward@example.org",
    )  # fmt: skip
    for source in SOURCES:
        ingest_source(load_manifest(source), settings, validator)
    dumps.write(settings.store)
    yield from run_server(settings)


def call(server, method: str = "GET", **args: str) -> ElementTree.Element:
    url = server.url + "/oai"
    response = httpx.get(url, params=args) if method == "GET" else httpx.post(url, data=args)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/xml")
    root = ElementTree.fromstring(response.content)
    assert problems(root) == []  # every answer, errors too, as the OAI-PMH schema wants it
    assert root.find("oai:request", NS).text == BASE_IRI + "oai"
    return root


def error_code(root: ElementTree.Element) -> str | None:
    error = root.find("oai:error", NS)
    return None if error is None else error.get("code")


def test_identify(oai) -> None:
    root = call(oai, verb="Identify")
    identify = root.find("oai:Identify", NS)
    assert identify.find("oai:protocolVersion", NS).text == "2.0"
    assert identify.find("oai:baseURL", NS).text == BASE_IRI + "oai"
    assert identify.find("oai:adminEmail", NS).text == "steward@example.org"
    assert identify.find("oai:granularity", NS).text == "YYYY-MM-DDThh:mm:ssZ"
    assert identify.find("oai:deletedRecord", NS).text == "no"
    assert call(oai, "POST", verb="Identify").find("oai:Identify", NS) is not None


def test_list_records_with_resumption_gives_every_dataset_as_dcat_ap(oai) -> None:
    identifiers, datasets, token = [], 0, None
    while True:
        args = {"resumptionToken": token} if token else {"metadataPrefix": "dcat_ap"}
        root = call(oai, verb="ListRecords", **args)
        assert error_code(root) is None
        for record in root.iterfind("oai:ListRecords/oai:record", NS):
            identifiers.append(record.find("oai:header/oai:identifier", NS).text)
            (payload,) = list(record.find("oai:metadata", NS))
            assert payload.tag == "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}RDF"
            graph = Graph().parse(data=ElementTree.tostring(payload), format="xml")
            datasets += len(set(graph.subjects(RDF.type, DCAT.Dataset)))
            assert set(graph.objects(None, DCAT.distribution))
        resumption = root.find("oai:ListRecords/oai:resumptionToken", NS)
        token = resumption.text if resumption is not None else None
        if not token:
            break
    host = urlsplit(BASE_IRI).hostname
    assert sorted(identifiers) == sorted(
        f"oai:{host}:{n}" for n in ("all", "brussels-culture-poi", "steward-example")
    )
    assert datasets == 3


def test_list_identifiers_get_record_and_formats(oai) -> None:
    root = call(oai, verb="ListIdentifiers", metadataPrefix="oai_dc")
    first = root.find("oai:ListIdentifiers/oai:header/oai:identifier", NS).text
    record = call(oai, verb="GetRecord", identifier=first, metadataPrefix="oai_dc")
    dc = record.find("oai:GetRecord/oai:record/oai:metadata", NS)[0]
    assert dc.tag == "{http://www.openarchives.org/OAI/2.0/oai_dc/}dc"
    assert dc.find("{http://purl.org/dc/elements/1.1/}title").text
    formats = call(oai, verb="ListMetadataFormats")
    prefixes = {e.text for e in formats.iterfind(".//oai:metadataPrefix", NS)}
    assert prefixes == {"dcat_ap", "oai_dc"}


@pytest.mark.parametrize(
    ("args", "code"),
    [
        ({}, "badVerb"),
        ({"verb": "Dance"}, "badVerb"),
        ({"verb": "ListRecords"}, "badArgument"),
        ({"verb": "Identify", "extra": "1"}, "badArgument"),
        ({"verb": "ListRecords", "metadataPrefix": "marc21"}, "cannotDisseminateFormat"),
        ({"verb": "GetRecord", "identifier": "oai:test.example:nope", "metadataPrefix": "oai_dc"}, "idDoesNotExist"),
        ({"verb": "ListRecords", "resumptionToken": "garbage"}, "badResumptionToken"),
        ({"verb": "ListRecords", "resumptionToken": "x", "metadataPrefix": "oai_dc"}, "badArgument"),
        ({"verb": "ListSets"}, "noSetHierarchy"),
        ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "set": "x"}, "noSetHierarchy"),
        ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "2999-01-01"}, "noRecordsMatch"),
        ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "yesterday"}, "badArgument"),
        ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "2020-01-01",
          "until": "2019-01-01"}, "badArgument"),
        ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "2020-01-01",
          "until": "2030-01-01T00:00:00Z"}, "badArgument"),
    ],
)  # fmt: skip
def test_protocol_errors(oai, args: dict[str, str], code: str) -> None:
    root = call(oai, **args)
    assert error_code(root) == code
    request = root.find("oai:request", NS)
    if code in ("badVerb", "badArgument"):
        assert request.attrib == {}  # the arguments were the problem: not echoed


def test_a_repeated_verb_is_a_bad_verb_and_another_repeated_argument_a_bad_argument(oai) -> None:
    # OAI-PMH 2.0 §3.6: badVerb is "... the verb argument is missing, or the verb argument is
    # repeated"; badArgument "... includes a repeated argument"
    for query, code in (
        ("verb=Identify&verb=Identify", "badVerb"),
        ("verb=ListRecords&verb=Identify&metadataPrefix=oai_dc", "badVerb"),
        ("verb=ListRecords&metadataPrefix=oai_dc&metadataPrefix=oai_dc", "badArgument"),
        ("verb=GetRecord&identifier=a&identifier=b&metadataPrefix=oai_dc", "badArgument"),
    ):
        root = ElementTree.fromstring(httpx.get(f"{oai.url}/oai?{query}").content)
        assert problems(root) == []
        assert error_code(root) == code, query
        assert root.find("oai:request", NS).attrib == {}


def _first_token(server, verb: str = "ListIdentifiers", prefix: str = "oai_dc") -> str:
    root = call(server, verb=verb, metadataPrefix=prefix)
    return root.find(f"oai:{verb}/oai:resumptionToken", NS).text


def _edited(token: str, **changes: object) -> str:
    state = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    state.update(changes)
    text = json.dumps(state, sort_keys=True, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def test_a_resumption_token_goes_on_where_the_list_stopped(oai) -> None:
    token = _first_token(oai)
    root = call(oai, verb="ListIdentifiers", resumptionToken=token)
    assert error_code(root) is None
    headers = root.findall("oai:ListIdentifiers/oai:header", NS)
    assert len(headers) == 1  # 3 records, 2 a page
    last = root.find("oai:ListIdentifiers/oai:resumptionToken", NS)
    assert (last.text, last.get("cursor"), last.get("completeListSize")) == (None, "2", "3")


@pytest.mark.parametrize(
    "change",
    [
        {"offset": -3},  # past the start: was an empty list
        {"offset": 0},  # the first page never has a token
        {"offset": 3},  # past the end of a list of 3
        {"offset": "2"},
        {"offset": True},
        {"prefix": "marc"},  # was accepted
        {"prefix": ["oai_dc"]},
        {"start": "yesterday"},
        {"start": "2020-01-01", "end": "2019-01-01"},
        {"start": "2020-01-01", "end": "2030-01-01T00:00:00Z"},
        {"snapshot": "../../../etc"},
        {"snapshot": "000001-20200101T000000000000Z"},  # never published here
        {"snapshot": None},
        {"extra": 1},
    ],
)
def test_an_edited_resumption_token_is_refused(oai, change: dict[str, object]) -> None:
    token = _edited(_first_token(oai), **change)
    root = call(oai, verb="ListIdentifiers", resumptionToken=token)
    assert error_code(root) == "badResumptionToken"


def test_a_token_not_in_the_form_this_repository_issues_is_refused(oai) -> None:
    token = _first_token(oai)
    state = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    for forged in (
        token + "==",  # padded
        base64.urlsafe_b64encode(json.dumps(state).encode()).decode(),  # other spacing
        token[:-2],
        "é",
    ):
        root = call(oai, verb="ListRecords", resumptionToken=forged)
        assert error_code(root) == "badResumptionToken", forged


@pytest.fixture(scope="module")
def uncontacted(tmp_path_factory: pytest.TempPathFactory, validator):
    """A server with the default settings: no CATALOG_CONTACT."""
    store = tmp_path_factory.mktemp("oai-default") / "store"
    settings = Settings(store=store, base_iri=BASE_IRI, catalog_contact="")
    ingest_source(load_manifest(SOURCES[1]), settings, validator)
    yield from run_server(settings)


def test_identify_names_an_admin_email_without_a_configured_contact(uncontacted) -> None:
    root = call(uncontacted, verb="Identify")  # schema-valid: adminEmail is required
    emails = [e.text for e in root.iterfind("oai:Identify/oai:adminEmail", NS)]
    assert emails == ["webmaster@test.example"]  # RFC 2142's mailbox at BASE_IRI's host


@pytest.mark.parametrize(
    ("base_iri", "contact", "email"),
    [
        ("https://creative.example.be/", "mailto:steward@example.org", "steward@example.org"),
        ("https://creative.example.be/", "", "webmaster@creative.example.be"),
        ("https://creative.example.be/", "https://creative.example.be/contact",
         "webmaster@creative.example.be"),
        ("http://localhost:8000/", "", "webmaster@localhost.invalid"),
        ("http://127.0.0.1:8000/", "", "webmaster@localhost.invalid"),
        ("http://[::1]:8000/", "", "webmaster@localhost.invalid"),
        ("http://localhost:8000/", "mailto:not-an-address", "webmaster@localhost.invalid"),
    ],
)  # fmt: skip
def test_the_admin_email_falls_back_to_an_address_the_schema_accepts(
    base_iri: str, contact: str, email: str
) -> None:
    assert admin_email(Settings(base_iri=base_iri, catalog_contact=contact)) == email
