"""The DCAT-AP catalogue at /catalog: what a portal's harvester gets, judged by the SEMIC shapes."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from conftest import BASE_IRI, run_server
from pyshacl import validate
from rdflib import Graph, Namespace, URIRef
from rdflib.namespace import DCTERMS, RDF, RDFS

import shapes as project_shapes
from creative_graph import dumps
from ingest.manifest import load_manifest
from ingest.pipeline import ingest_source

pytestmark = pytest.mark.e2e
DCAT = Namespace("http://www.w3.org/ns/dcat#")  # open: the closed rdflib one warns under pytest
HERE = Path(__file__).parent
DCAT_AP = project_shapes.DCAT_AP
STEWARD = HERE.parent / "data" / "sources" / "steward-example"


def shapes(version: str, names: tuple[str, ...]) -> Graph:
    graph = Graph()
    for name in names:
        graph.parse(DCAT_AP / version / name, format="turtle")
    return graph


DCAT_AP_211 = (
    "dcat-ap_2.1.1_shacl_shapes.ttl",
    "dcat-ap_2.1.1_shacl_shapes_recommended.ttl",
    "dcat-ap_2.1.1_shacl_deprecateduris.ttl",
)
DCAT_AP_301 = ("shapes.ttl", "shapes_recommended.ttl", "deprecateduris.ttl")


@pytest.fixture(scope="module")
def catalog_server(tmp_path_factory: pytest.TempPathFactory, validator):
    from creative_graph.settings import Settings

    base = tmp_path_factory.mktemp("catalog")
    settings = Settings(store=base / "store", base_iri=BASE_IRI)
    for source in (HERE.parent / "data" / "sources" / "brussels-culture-poi", STEWARD):
        assert ingest_source(load_manifest(source), settings, validator).status == "loaded"
    dumps.write(settings.store)
    yield from run_server(settings)


def results(report: Graph) -> list[tuple[str, str, str]]:
    sh = "http://www.w3.org/ns/shacl#"
    return sorted(
        (str(report.value(r, URIRef(sh + "focusNode"))), str(report.value(r, URIRef(sh + "resultPath"))),
         str(report.value(r, URIRef(sh + "resultMessage"))))
        for r in report.subjects(RDF.type, URIRef(sh + "ValidationResult"))
    )  # fmt: skip


def test_the_catalogue_conforms_to_dcat_ap_2_1_1_without_a_warning(catalog_server) -> None:
    response = httpx.get(catalog_server.url + "/catalog", headers={"Accept": "text/turtle"})
    assert response.status_code == 200
    catalogue = Graph().parse(data=response.text, format="turtle")
    conforms, report, _ = validate(catalogue, shacl_graph=shapes("2.1.1", DCAT_AP_211))
    assert results(report) == [] and conforms


def test_the_catalogue_conforms_to_dcat_ap_3_0_1_except_where_the_versions_contradict(
    catalog_server,
) -> None:
    response = httpx.get(catalog_server.url + "/catalog", headers={"Accept": "text/turtle"})
    catalogue = Graph().parse(data=response.text, format="turtle")
    _, report, _ = validate(catalogue, shacl_graph=shapes("3.0.1", DCAT_AP_301))
    # 3.0.1 wants dcat:byteSize as xsd:nonNegativeInteger, 2.1.1 as xsd:decimal (docs/CATALOG.md)
    left = [r for r in results(report) if not r[1].endswith("#byteSize")]
    assert left == []


def test_every_dataset_has_what_a_harvester_needs_and_every_link_answers(catalog_server) -> None:
    for media_type in ("text/turtle", "application/rdf+xml", "application/ld+json"):
        response = httpx.get(catalog_server.url + "/catalog", headers={"Accept": media_type})
        assert response.status_code == 200 and response.headers["content-type"].startswith(
            media_type
        )
    catalogue = Graph().parse(
        data=httpx.get(catalog_server.url + "/catalog", headers={"Accept": "text/turtle"}).text,
        format="turtle",
    )
    datasets = set(catalogue.subjects(RDF.type, DCAT.Dataset))
    names = {str(catalogue.value(d, DCTERMS.identifier)) for d in datasets}
    assert names == {"all", "brussels-culture-poi", "steward-example"}
    links = set()
    for dataset in datasets:
        for prop in (DCTERMS.title, DCTERMS.description, DCAT.keyword, DCAT.theme, DCTERMS.spatial,
                     DCTERMS.temporal, DCTERMS.publisher, DCAT.contactPoint, DCTERMS.issued,
                     DCTERMS.modified, DCTERMS.accessRights):  # fmt: skip
            assert catalogue.value(dataset, prop) is not None, (dataset, prop)
        distributions = list(catalogue.objects(dataset, DCAT.distribution))
        assert any(catalogue.value(d, DCAT.downloadURL) for d in distributions)
        assert any(catalogue.value(d, DCAT.accessService) for d in distributions)
        for distribution in distributions:
            links |= set(catalogue.objects(distribution, DCAT.accessURL))
            links |= set(catalogue.objects(distribution, DCAT.downloadURL))
    assert len(links) >= 7
    for link in links:
        path = str(link).removeprefix(BASE_IRI)
        head = httpx.head(f"{catalog_server.url}/{path}")
        assert head.status_code == 200, link


def test_a_harvester_following_hydra_pages_gets_every_dataset(catalog_server) -> None:
    from creative_graph.settings import Settings

    hydra = "http://www.w3.org/ns/hydra/core#"
    paged = Settings(**{**catalog_server.settings.model_dump(), "catalog_page_size": 1})
    for server in run_server(paged):
        url, seen, totals = server.url + "/catalog", [], set()
        while url:
            response = httpx.get(url, headers={"Accept": "text/turtle"})
            assert response.status_code == 200
            document = Graph().parse(data=response.text, format="turtle")
            page_datasets = set(document.subjects(RDF.type, DCAT.Dataset))
            assert len(page_datasets) == 1
            seen += [str(document.value(d, DCTERMS.identifier)) for d in page_datasets]
            _, report, _ = validate(document, shacl_graph=shapes("2.1.1", DCAT_AP_211))
            assert results(report) == []  # every page is a complete DCAT-AP document
            (view,) = document.subjects(RDF.type, URIRef(hydra + "PartialCollectionView"))
            totals.add(document.value(view, URIRef(hydra + "totalItems")).toPython())
            following = document.value(view, URIRef(hydra + "next"))
            url = str(following).replace(BASE_IRI, server.url + "/") if following else None
        assert sorted(seen) == ["all", "brussels-culture-poi", "steward-example"]
        assert totals == {3}
        assert httpx.get(server.url + "/catalog?page=4").status_code == 404
        assert httpx.get(server.url + "/catalog?page=0").status_code == 422


def test_licences_come_from_the_eu_licence_table_where_it_has_them(catalog_server) -> None:
    catalogue = Graph().parse(
        data=httpx.get(catalog_server.url + "/catalog", headers={"Accept": "text/turtle"}).text,
        format="turtle",
    )
    eu_cc_by = URIRef("http://publications.europa.eu/resource/authority/licence/CC_BY_4_0")
    deed = URIRef("https://creativecommons.org/licenses/by/4.0/")
    cited = {
        licence
        for distribution in catalogue.subjects(RDF.type, DCAT.Distribution)
        for licence in catalogue.objects(distribution, DCTERMS.license)
    }
    # the steward example is CC BY 4.0; the UrbIS licence has no IRI of its own or in the table
    assert cited == {eu_cc_by, URIRef(f"{BASE_IRI}id/licence/brussels-culture-poi")}
    assert (eu_cc_by, RDFS.seeAlso, deed) in catalogue  # the deed the source named
    assert (eu_cc_by, DCTERMS.type, URIRef("http://purl.org/adms/licencetype/Attribution")) in (
        catalogue
    )


def _without_view(graph: Graph) -> Graph:
    """The catalogue without its Hydra view (which names the URL it was read from), decimals
    in one lexical form (Turtle writes 5.0 where N-Triples keeps "5")."""
    from decimal import Decimal

    from rdflib import Literal

    hydra = "http://www.w3.org/ns/hydra/core#"
    kept = Graph()
    for s, p, o in graph:
        if str(p).startswith(hydra) or str(o).startswith(hydra):
            continue
        if isinstance(o, Literal) and isinstance(o.toPython(), Decimal):
            o = Literal(format(o.toPython().normalize(), "f"), datatype=o.datatype)
        kept.add((s, p, o))
    return kept


def _turtle(url: str) -> Graph:
    response = httpx.get(url, headers={"Accept": "text/turtle"})
    assert response.status_code == 200
    return Graph().parse(data=response.text, format="turtle")


def test_each_source_dataset_lands_on_its_own_page(catalog_server) -> None:
    catalogue = _turtle(catalog_server.url + "/catalog")
    for dataset in catalogue.subjects(RDF.type, DCAT.Dataset):
        name = str(catalogue.value(dataset, DCTERMS.identifier))
        page = catalogue.value(dataset, DCAT.landingPage)
        if name == "all":  # the whole graph has no page of its own: the home page
            assert page == URIRef(BASE_IRI)
            continue
        assert page == URIRef(f"{BASE_IRI}graph/{name}") == dataset
        html = httpx.get(f"{catalog_server.url}/graph/{name}", headers={"Accept": "text/html"})
        assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")


def test_spatial_coverage_names_the_nuts_regions_of_the_actors(catalog_server) -> None:
    catalogue = _turtle(catalog_server.url + "/catalog")
    bel = URIRef("http://publications.europa.eu/resource/authority/country/BEL")
    brussels = URIRef("http://data.europa.eu/nuts/code/BE100")  # NUTS 3 of every actor here
    for dataset in catalogue.subjects(RDF.type, DCAT.Dataset):
        assert set(catalogue.objects(dataset, DCTERMS.spatial)) == {bel, brussels}, dataset


def test_without_dates_in_the_data_the_period_is_from_first_ingest_to_last_change(
    catalog_server,
) -> None:
    # neither source says when anything happened: the period they were observed over
    catalogue = _turtle(catalog_server.url + "/catalog")
    for dataset in catalogue.subjects(RDF.type, DCAT.Dataset):
        period = catalogue.value(dataset, DCTERMS.temporal)
        start = catalogue.value(period, DCAT.startDate)
        end = catalogue.value(period, DCAT.endDate)
        assert start == catalogue.value(dataset, DCTERMS.issued)
        assert end == catalogue.value(dataset, DCTERMS.modified)


@pytest.mark.parametrize(
    ("path", "accept", "media_type", "syntax"),
    [
        ("/catalog.ttl", None, "text/turtle", "turtle"),
        ("/catalog.rdf", None, "application/rdf+xml", "xml"),
        ("/catalog.jsonld", None, "application/ld+json", "json-ld"),
        ("/catalog.nt", None, "application/n-triples", "nt"),
        ("/catalog.rdf", "text/turtle", "application/rdf+xml", "xml"),  # the suffix decides
        ("/catalog", "application/xml", "application/rdf+xml", "xml"),
        ("/catalog", "text/xml", "application/rdf+xml", "xml"),
        ("/catalog", "text/html, application/xml;q=0.9", "application/rdf+xml", "xml"),
        ("/catalog?format=rdfxml", "text/turtle", "application/rdf+xml", "xml"),
        ("/catalog?format=turtle", "application/rdf+xml", "text/turtle", "turtle"),
        ("/catalog?format=jsonld", None, "application/ld+json", "json-ld"),
        ("/catalog?format=ntriples", None, "application/n-triples", "nt"),
    ],
)
def test_every_representation_without_content_negotiation(
    catalog_server, path: str, accept: str | None, media_type: str, syntax: str
) -> None:
    from rdflib.compare import isomorphic

    headers = {"Accept": accept} if accept else {}
    response = httpx.get(catalog_server.url + path, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].split(";")[0] == media_type
    document = Graph().parse(data=response.content, format=syntax)
    negotiated = _turtle(catalog_server.url + "/catalog")
    assert isomorphic(*(_without_view(g) for g in (document, negotiated)))
    assert httpx.head(catalog_server.url + path, headers=headers).status_code == 200


def test_unknown_representations_are_refused(catalog_server) -> None:
    assert httpx.get(catalog_server.url + "/catalog.xyz").status_code == 404
    assert httpx.get(catalog_server.url + "/catalog?format=marc").status_code == 400
    image = httpx.get(catalog_server.url + "/catalog", headers={"Accept": "image/png"})
    assert image.status_code == 406


@pytest.mark.parametrize(
    ("start", "syntax"),
    [("/catalog.rdf", "xml"), ("/catalog.jsonld", "json-ld"), ("/catalog?format=rdfxml", "xml")],
)
def test_hydra_pages_stay_in_the_representation_a_harvester_chose(
    catalog_server, start: str, syntax: str
) -> None:
    from creative_graph.settings import Settings

    hydra = "http://www.w3.org/ns/hydra/core#"
    paged = Settings(**{**catalog_server.settings.model_dump(), "catalog_page_size": 1})
    for server in run_server(paged):
        url, seen, pages = server.url + start, [], []
        while url:
            response = httpx.get(url, headers={"Accept": "text/turtle"})  # ignored: the URL says
            assert response.status_code == 200
            pages.append(url.removeprefix(server.url))
            document = Graph().parse(data=response.content, format=syntax)
            seen += [str(document.value(d, DCTERMS.identifier))
                     for d in document.subjects(RDF.type, DCAT.Dataset)]  # fmt: skip
            (view,) = document.subjects(RDF.type, URIRef(hydra + "PartialCollectionView"))
            following = document.value(view, URIRef(hydra + "next"))
            url = str(following).replace(BASE_IRI, server.url + "/") if following else None
        assert sorted(seen) == ["all", "brussels-culture-poi", "steward-example"]
        joiner = "&" if "?" in start else "?"
        assert pages == [start] + [f"{start}{joiner}page={n}" for n in (2, 3)]
