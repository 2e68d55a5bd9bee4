"""The MQA self-check on small hand-written DCAT-AP catalogues: each indicator's weight as the
methodology gives it (eu-portals.md §3.2, piveau's DQV vocabulary), the best distribution,
the rounded mean and the bands; and the URL checker against a real loopback HTTP server."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest
from rdflib import Graph
from typer.testing import CliRunner

from creative_graph import harvest, mqa
from creative_graph.cli import app

EU = "http://publications.europa.eu/resource/authority/"

PREFIXES = """
@prefix dcat: <http://www.w3.org/ns/dcat#> . @prefix dct: <http://purl.org/dc/terms/> .
@prefix foaf: <http://xmlns.com/foaf/0.1/> . @prefix vcard: <http://www.w3.org/2006/vcard/ns#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> . @prefix dcatap: <http://data.europa.eu/r5r/> .
@prefix hydra: <http://www.w3.org/ns/hydra/core#> .
"""
CATALOGUE = """
<http://ex.org/catalog> a dcat:Catalog ; dct:title "Catalogue"@en ;
    dct:description "A test catalogue."@en ; dct:publisher <http://ex.org/agent> ;
    foaf:homepage <http://ex.org/> ; dct:language <http://publications.europa.eu/resource/authority/language/ENG> ;
    dct:license <http://publications.europa.eu/resource/authority/licence/CC_BY_4_0> ;
    dct:issued "2024-01-01T00:00:00"^^xsd:dateTime ; dct:modified "2024-02-01T00:00:00"^^xsd:dateTime ;
    dct:spatial <http://publications.europa.eu/resource/authority/country/BEL> ;
    dcat:themeTaxonomy <http://publications.europa.eu/resource/authority/data-theme> .
<http://ex.org/agent> a foaf:Agent ; foaf:name "Publisher" ;
    dct:type <http://purl.org/adms/publishertype/NonProfitOrganisation> .
<http://publications.europa.eu/resource/authority/licence/CC_BY_4_0> a dct:LicenseDocument ;
    dct:type <http://purl.org/adms/licencetype/Attribution> .
<http://ex.org/contact> a vcard:Organization ; vcard:fn "Contact" ; vcard:hasEmail <mailto:data@ex.org> .
<http://ex.org/rights> a dct:RightsStatement .
"""


def dataset(name: str, *, drop: tuple[str, ...] = (), distributions: str = "full") -> str:
    """A dataset with every property the MQA rewards, without the lines that contain one of
    `drop` ("full:  dct:issued" names a line of the distribution "full" only)."""
    lines = [
        f"<http://ex.org/catalog> dcat:dataset <http://ex.org/{name}> .",
        f'<http://ex.org/{name}> a dcat:Dataset ; dct:identifier "{name}" ;',
        '  dct:title "A dataset"@en ; dct:description "What it holds."@en ;',
        '  dcat:keyword "culture"@en ;',
        f"  dcat:theme <{EU}data-theme/EDUC> ;",
        f"  dct:spatial <{EU}country/BEL> ;",
        f"  dct:temporal <http://ex.org/{name}/period> ;",
        f"  dct:accessRights <{EU}access-right/PUBLIC> ;",
        "  dcat:contactPoint <http://ex.org/contact> ;",
        "  dct:publisher <http://ex.org/agent> ;",
        '  dct:issued "2024-01-01T00:00:00"^^xsd:dateTime ;',
        '  dct:modified "2024-02-01T00:00:00"^^xsd:dateTime ;',
        "  .",
        f"<http://ex.org/{name}/period> a dct:PeriodOfTime ;",
        '  dcat:startDate "2024-01-01T00:00:00"^^xsd:dateTime ;',
        '  dcat:endDate "2024-02-01T00:00:00"^^xsd:dateTime .',
    ]
    kept = [line for line in lines if not any(d in line for d in drop)]
    kept += [distribution(name, kind, drop) for kind in distributions.split()]
    return "\n".join(kept)


def distribution(name: str, kind: str, drop: tuple[str, ...] = ()) -> str:
    """A file distribution with everything ("full", or any name), or a SPARQL one ("sparql")."""
    node = f"<http://ex.org/{name}/{kind}>"
    if kind == "sparql":
        lines = [
            f'{node} a dcat:Distribution ; dct:description "SPARQL"@en ;',
            "  dcat:accessURL <http://ex.org/sparql> ;",
            f"  dct:format <{EU}file-type/SPARQLQ> ;",
            f"  dcatap:availability <{EU}planned-availability/STABLE> ;",
            f"  dct:license <{EU}licence/CC_BY_4_0> ;",
        ]
    else:
        lines = [
            f'{node} a dcat:Distribution ; dct:description "A dump"@en ;',
            f"  dcat:accessURL <http://ex.org/{name}/{kind}/access> ;",
            f"  dcat:downloadURL <http://ex.org/{name}/{kind}/file.ttl> ;",
            f"  dct:format <{EU}file-type/RDF_TURTLE> ;",
            "  dcat:mediaType <http://www.iana.org/assignments/media-types/text/turtle> ;",
            f"  dct:license <{EU}licence/CC_BY_4_0> ;",
            "  dct:rights <http://ex.org/rights> ;",
            '  dcat:byteSize "1024"^^xsd:decimal ;',
            f"  dcatap:availability <{EU}planned-availability/STABLE> ;",
            '  dct:issued "2024-01-01T00:00:00"^^xsd:dateTime ;',
            '  dct:modified "2024-02-01T00:00:00"^^xsd:dateTime ;',
        ]
    kept = [line for line in lines if not any(d in line or d in f"{kind}:{line}" for d in drop)]
    return "\n".join([f"<http://ex.org/{name}> dcat:distribution {node} .", *kept, "  ."])


def catalogue(*datasets: str) -> Graph:
    return Graph().parse(data=PREFIXES + CATALOGUE + "\n".join(datasets), format="turtle")


def answering(graph: Graph, code: int = 200, **overrides: int) -> dict[str, mqa.UrlStatus]:
    """Every URL of `graph` answering `code`, but those whose path ends as an override key."""
    statuses = {}
    for url in mqa.urls(graph):
        tail = url.rsplit("/", 1)[-1].replace(".", "_")
        statuses[url] = mqa.UrlStatus(overrides.get(tail, code))
    return statuses


def only(result: mqa.CatalogueScore) -> mqa.DatasetScore:
    (one,) = result.datasets
    return one


def lost(score: mqa.DatasetScore) -> dict[str, int]:
    return {c.indicator.metric: c.lost for c in score.missing()}


# The methodology's table (eu-portals.md §3.2), written out here rather than read from the code.
WEIGHTS = {
    "keywordAvailability": 30, "categoryAvailability": 30, "spatialAvailability": 20,
    "temporalAvailability": 20, "accessUrlStatusCode": 50, "downloadUrlAvailability": 20,
    "downloadUrlStatusCode": 30, "formatAvailability": 20, "mediaTypeAvailability": 10,
    "formatMediaTypeVocabularyAlignment": 10, "formatMediaTypeNonProprietary": 20,
    "formatMediaTypeMachineInterpretable": 20, "dcatApCompliance": 30, "licenceAvailability": 20,
    "knownLicence": 10, "accessRightsAvailability": 10, "accessRightsVocabularyAlignment": 5,
    "contactPointAvailability": 20, "publisherAvailability": 10, "rightsAvailability": 5,
    "byteSizeAvailability": 5, "dateIssuedAvailability": 5, "dateModifiedAvailability": 5,
}  # fmt: skip


def test_the_indicators_and_weights_are_the_methodologys() -> None:
    assert {m: i.points for m, i in mqa.INDICATORS.items()} == WEIGHTS
    per_dimension: dict[str, int] = {}
    for indicator in mqa.INDICATORS.values():
        per_dimension[indicator.dimension] = (
            per_dimension.get(indicator.dimension, 0) + indicator.points
        )
    assert per_dimension == {
        "findability": 100, "accessibility": 100, "interoperability": 110, "reusability": 75,
        "contextuality": 20,
    }  # fmt: skip
    assert mqa.MAXIMUM == 405


@pytest.mark.parametrize(
    ("points", "band"),
    [(405, "Excellent"), (351, "Excellent"), (350, "Good"), (221, "Good"), (220, "Sufficient"),
     (121, "Sufficient"), (120, "Bad"), (0, "Bad")],
)  # fmt: skip
def test_the_bands(points: int, band: str) -> None:
    assert mqa.band(points) == band


def test_a_complete_dataset_scores_every_point() -> None:
    graph = catalogue(dataset("d"))
    assert mqa.dcat_ap_results(graph) == []  # the fixture is DCAT-AP 2.1.1 without a warning
    result = mqa.score(graph, answering(graph))
    score = only(result)
    assert score.missing() == []
    assert score.total == 405 and score.band == "Excellent"
    assert score.dimensions() == {
        "findability": 100, "accessibility": 100, "interoperability": 110, "reusability": 75,
        "contextuality": 20,
    }  # fmt: skip
    assert (result.total, result.band, result.problems) == (405, "Excellent", [])


def test_a_dataset_without_keywords_loses_exactly_the_keyword_points() -> None:
    graph = catalogue(dataset("d", drop=("dcat:keyword",)))
    score = only(mqa.score(graph, answering(graph), results=[]))  # SHACL apart: next test
    assert lost(score) == {"keywordAvailability": 30}
    assert score.total == 405 - 30
    assert score.dimensions()["findability"] == 100 - 30


def test_the_missing_keyword_warning_also_costs_the_dcat_ap_points() -> None:
    """The stricter reading: a sh:Warning of the recommended-property shapes is non-compliance."""
    graph = catalogue(dataset("d", drop=("dcat:keyword",)))
    score = only(mqa.score(graph, answering(graph)))
    assert lost(score) == {"keywordAvailability": 30, "dcatApCompliance": 30}
    assert score.total == 345 and score.band == "Good"
    assert any("keyword" in problem for problem in score.problems)


@pytest.mark.parametrize(
    ("drop", "expected"),
    [
        (("dcat:theme",), {"categoryAvailability": 30}),
        (("dct:spatial",), {"spatialAvailability": 20}),
        (("dct:temporal", "PeriodOfTime", "dcat:startDate", "dcat:endDate"),
         {"temporalAvailability": 20}),
        (("dcat:contactPoint",), {"contactPointAvailability": 20}),
        (("dct:publisher",), {"publisherAvailability": 10}),
        (("dct:accessRights",), {"accessRightsAvailability": 10,
                                 "accessRightsVocabularyAlignment": 5}),
        (("dcat:byteSize",), {"byteSizeAvailability": 5}),
        (("dct:rights",), {"rightsAvailability": 5}),
        (("dcat:downloadURL",), {"downloadUrlAvailability": 20, "downloadUrlStatusCode": 30}),
        (("dct:license",), {"licenceAvailability": 20, "knownLicence": 10}),
    ],
)  # fmt: skip
def test_each_missing_property_loses_its_weight(drop: tuple[str, ...], expected: dict) -> None:
    graph = catalogue(dataset("d", drop=drop))
    score = only(mqa.score(graph, answering(graph), results=[]))
    assert lost(score) == expected
    assert score.total == 405 - sum(expected.values())


def test_a_missing_format_costs_five_points_more_than_its_weight() -> None:
    """piveau's pv:falseScore -5 for a missing format or media type: the stricter reading."""
    graph = catalogue(dataset("d", drop=("dct:format",)))
    score = only(mqa.score(graph, answering(graph), results=[]))
    # no format: 20 + 5, and neither the vocabulary nor the two format lists can be met
    assert lost(score) == {
        "formatAvailability": 25, "formatMediaTypeVocabularyAlignment": 10,
        "formatMediaTypeNonProprietary": 20, "formatMediaTypeMachineInterpretable": 20,
    }  # fmt: skip
    graph = catalogue(dataset("d", drop=("dcat:mediaType",)))
    score = only(mqa.score(graph, answering(graph), results=[]))
    assert lost(score) == {"mediaTypeAvailability": 15, "formatMediaTypeVocabularyAlignment": 10}


def test_a_format_off_the_edp_lists_or_a_licence_off_the_eu_table_loses_those_points() -> None:
    text = dataset("d").replace("file-type/RDF_TURTLE", "file-type/PDF")
    text = text.replace(
        f"dct:license <{EU}licence/CC_BY_4_0>",
        "dct:license <https://creativecommons.org/licenses/by/4.0/>",
    )
    graph = catalogue(text)
    score = only(mqa.score(graph, answering(graph), results=[]))
    assert lost(score) == {
        "formatMediaTypeNonProprietary": 20, "formatMediaTypeMachineInterpretable": 20,
        "knownLicence": 10,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("code", "metric", "points"),
    [(404, "downloadUrlStatusCode", 30), (301, "downloadUrlStatusCode", 30),
     (405, "downloadUrlStatusCode", 30), (None, "downloadUrlStatusCode", 30)],
)  # fmt: skip
def test_an_unreachable_download_url_loses_the_reachability_points(
    code: int | None, metric: str, points: int
) -> None:
    graph = catalogue(dataset("d"))
    statuses = answering(graph)
    statuses["http://ex.org/d/full/file.ttl"] = mqa.UrlStatus(code, "as the checker saw it")
    score = only(mqa.score(graph, statuses, results=[]))
    assert lost(score) == {metric: points}
    (check,) = score.missing()
    assert "http://ex.org/d/full/file.ttl" in check.note


def test_an_unreachable_access_url_loses_fifty_points() -> None:
    graph = catalogue(dataset("d"))
    score = only(mqa.score(graph, answering(graph, access=503), results=[]))
    assert lost(score) == {"accessUrlStatusCode": 50}
    assert score.total == 355


def test_the_best_distribution_counts_alone() -> None:
    """Points are not pooled across distributions: the best one's total is what counts."""
    worse = distribution("d", "b", drop=("dct:license",))  # 30 points less than a full one
    graph = catalogue(dataset("d", distributions="full sparql"), worse)
    # the full distribution's download URL fails (-30); the other one lacks a licence (-30),
    # the SPARQL one has no download URL, media type, size, dates ...
    statuses = answering(graph)
    statuses["http://ex.org/d/full/file.ttl"] = mqa.UrlStatus(404)
    score = only(mqa.score(graph, statuses, results=[]))
    assert [d.iri.rsplit("/", 1)[-1] for d in score.distributions][2] == "sparql"
    assert score.best is not None and score.best.iri == "http://ex.org/d/b"  # a tie: first IRI
    assert score.best.total == 230 - 30
    assert lost(score) == {"licenceAvailability": 20, "knownLicence": 10}
    assert score.total == 175 + 200


def test_dates_count_from_the_best_distribution_not_from_the_dataset() -> None:
    graph = catalogue(dataset("d", drop=("full:  dct:issued", "full:  dct:modified")))
    score = only(mqa.score(graph, answering(graph), results=[]))
    assert lost(score) == {"dateIssuedAvailability": 5, "dateModifiedAvailability": 5}
    # without any distribution the dataset's own dates count
    graph = catalogue(dataset("d", distributions=""))
    score = only(mqa.score(graph, answering(graph), results=[]))
    assert score.best is None
    assert "dateIssuedAvailability" not in lost(score)
    assert score.total == 175 + 10


def test_the_catalogue_scores_the_rounded_mean_of_its_datasets() -> None:
    full = dataset("a")
    poorer = dataset("b", drop=("dcat:keyword", "dcat:theme")).replace("/PUBLIC", "/OPEN")
    result = mqa.score(catalogue(full, poorer), answering(catalogue(full, poorer)), results=[])
    assert sorted(d.total for d in result.datasets) == [405 - 65, 405]
    assert result.total == 373  # (405 + 340) / 2 = 372.5, rounded half up as piveau does
    assert result.band == "Excellent"
    assert mqa.score(catalogue(), {}, results=[]).total == 0


def test_shacl_results_are_charged_to_the_dataset_whose_record_holds_the_node() -> None:
    wrong_size = dataset("b").replace('"1024"^^xsd:decimal', '"big"')  # 2.1.1: xsd:decimal
    graph = catalogue(dataset("a"), wrong_size)
    result = mqa.score(graph, answering(graph))
    by_name = {d.identifier: d for d in result.datasets}
    assert lost(by_name["a"]) == {}
    assert lost(by_name["b"]) == {"dcatApCompliance": 30}
    assert by_name["b"].problems and all("byteSize" in p for p in by_name["b"].problems)


def test_a_literal_url_is_not_requested_and_earns_nothing() -> None:
    graph = catalogue(dataset("d").replace("<http://ex.org/d/full/access>", '"http://ex.org/a"'))
    assert mqa.urls(graph) == {"http://ex.org/d/full/file.ttl"}
    score = only(mqa.score(graph, answering(graph), results=[]))
    assert lost(score) == {"accessUrlStatusCode": 50}
    assert "literal" in score.missing()[0].note


class Handler(BaseHTTPRequestHandler):
    """/ok answers 200, /get-only 405 to HEAD and 200 to GET, /moved 301; a page of `pages` is
    Turtle, and HEAD on a file of theirs (".../access", "....ttl") 200; anything else 404."""

    pages: ClassVar[dict[str, str]] = {}

    def do_HEAD(self) -> None:
        codes = {"/ok": 200, "/get-only": 405, "/moved": 301}
        is_file = self.path.endswith(("/access", ".ttl"))
        self.send_response(200 if is_file else codes.get(self.path, 404))
        if self.path == "/moved":
            self.send_header("Location", "/ok")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self) -> None:
        body = self.pages.get(self.path, "").encode()
        self.send_response(200 if body or self.path in ("/ok", "/get-only") else 404)
        if body:
            self.send_header("Content-Type", "text/turtle")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def loopback() -> Iterator[str]:
    Handler.pages = {}  # a test sets its own
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_the_url_checker_sends_head_and_counts_only_2xx(loopback: str) -> None:
    urls = [f"{loopback}/ok", f"{loopback}/get-only", f"{loopback}/moved", f"{loopback}/gone",
            "ftp://ex.org/file", "http://127.0.0.1:9/refused"]  # fmt: skip
    with harvest.client(timeout=2) as http:
        statuses = harvest.check(urls, http)
    assert {url.rsplit("/", 1)[-1]: (s.code, s.ok) for url, s in statuses.items()} == {
        "ok": (200, True), "get-only": (405, False), "moved": (301, False), "gone": (404, False),
        "file": (None, False), "refused": (None, False),
    }  # fmt: skip
    assert "GET answers 200" in statuses[f"{loopback}/get-only"].note
    assert "redirects to /ok" in statuses[f"{loopback}/moved"].note


def test_the_harvester_refuses_a_failing_or_non_rdf_page(loopback: str) -> None:
    with harvest.client(timeout=2) as http:
        with pytest.raises(harvest.HarvestError, match="HTTP 404"):
            harvest.fetch(f"{loopback}/catalog", http)
        with pytest.raises(harvest.HarvestError, match="not an RDF syntax"):
            harvest.fetch(f"{loopback}/ok", http)


def test_the_command_harvests_every_page_and_exits_1_below_excellent(loopback: str) -> None:
    """Two Hydra pages (the next link a relative literal), each with a dataset without keywords:
    345 each under the stricter reading, Good, exit 1; every URL is on the loopback server."""

    def page(name: str, following: str) -> str:
        view = (
            f"<http://ex.org/catalog> hydra:view <http://ex.org/catalog?{name}> . "
            f"<http://ex.org/catalog?{name}> a hydra:PartialCollectionView ; hydra:totalItems 2"
            + (f' ; hydra:next "{following}" .' if following else " .")
        )
        text = PREFIXES + CATALOGUE + dataset(name, drop=("dcat:keyword",)) + "\n" + view
        return text.replace("http://ex.org/", f"{loopback}/")

    Handler.pages = {"/catalog": page("a", "/catalog2"), "/catalog2": page("b", "")}
    result = CliRunner().invoke(app, ["mqa", f"{loopback}/catalog", "--timeout", "5"])
    assert result.exit_code == 1, result.stdout
    lines = result.stdout.splitlines()
    assert lines[0] == f"{loopback}/catalog: 2 page(s), 2 dataset(s)"
    assert f"a: 345/405 Good  <{loopback}/a>" in lines
    assert f"b: 345/405 Good  <{loopback}/b>" in lines
    assert (
        "  -30  findability: keywords (dcat:keyword) [keywordAvailability]: no dcat:keyword"
        in lines
    )
    assert lines[-1].startswith("catalogue: 345/405 Good")
