"""The DCAT-AP catalogue at `/catalog`, for open-data portals to harvest.

Built in Python, once per published snapshot, from what the store says about each source graph
(title, publisher, licence, attribution, run times, countries of its actors) and from the dump
manifest (sizes, checksums). It targets DCAT-AP 2.1.1, what data.europa.eu converts everything
to (`docs/CATALOG.md`): `dcat:byteSize` as `xsd:decimal`, SHA-1 checksums as `xsd:hexBinary`.
One `dcat:Dataset` per source graph and one for the whole graph; every dataset has its dumps as
file distributions and the SPARQL endpoint as a distribution with a `dcat:accessService`.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from fastapi import APIRouter, Query, Request
from fastapi.responses import PlainTextResponse, Response
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF, RDFS, XSD

from creative_graph import dumps
from creative_graph.settings import Settings
from creative_graph.store import Snapshot, StoreReader
from endpoint.caching import not_modified, validators
from endpoint.representations import BY_MEDIA_TYPE, not_acceptable, preferred, rdf_response

EU = "http://publications.europa.eu/resource/authority/"
IANA = "http://www.iana.org/assignments/media-types/"
DCATAP = Namespace("http://data.europa.eu/r5r/")
SPDX = Namespace("http://spdx.org/rdf/terms#")
VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
HYDRA = Namespace("http://www.w3.org/ns/hydra/core#")
FILE_TYPES = {  # media type -> EU file-type authority code
    "application/n-quads": "RDF_N_QUADS",
    "text/turtle": "RDF_TURTLE",
    "text/csv": "CSV",
}
THEMES = ("EDUC", "ECON")  # Education, culture and sport; Economy and finance
LANGUAGES = ("ENG", "FRA", "NLD")
KEYWORDS = {
    "en": ("creative industries", "culture", "creative ecosystem", "linked data"),
    "fr": ("industries créatives", "culture", "écosystème créatif"),
    "nl": ("creatieve industrie", "cultuur", "creatief ecosysteem"),
}
SOURCES_QUERY = """
PREFIX dct: <http://purl.org/dc/terms/>
PREFIX dcat: <http://www.w3.org/ns/dcat#>
PREFIX foaf: <http://xmlns.com/foaf/0.1/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?graph ?name ?title ?publisher ?licence ?rights ?homepage WHERE {
  GRAPH ?graph {
    ?graph a dcat:Dataset ; dct:identifier ?name ; dct:title ?title ;
           dct:publisher/foaf:name ?publisher ; dct:license ?licence ;
           dct:rights/rdfs:label ?rights .
    OPTIONAL { ?graph dct:source ?homepage }
  }
}
ORDER BY ?name
"""
RUNS_QUERY = """
PREFIX prov: <http://www.w3.org/ns/prov#>
SELECT ?graph (MIN(?started) AS ?first) (MAX(?ended) AS ?last) WHERE {
  ?run prov:generated ?version ; prov:startedAtTime ?started ; prov:endedAtTime ?ended .
  ?version prov:specializationOf ?graph .
} GROUP BY ?graph
"""
COUNTRIES_QUERY = """
PREFIX cv: <http://data.europa.eu/m8g/>
PREFIX org: <http://www.w3.org/ns/org#>
PREFIX locn: <http://www.w3.org/ns/locn#>
SELECT DISTINCT ?graph ?country WHERE {
  GRAPH ?graph { ?actor org:hasPrimarySite|org:hasSite ?site . ?site locn:address ?address .
                 ?address cv:adminUnit ?country }
  FILTER STRSTARTS(STR(?country), "http://publications.europa.eu/resource/authority/country/")
}
"""


@dataclass(frozen=True)
class Source:
    graph: str
    name: str
    title: str
    publisher: str
    licence: str
    rights: str
    homepage: str | None


# Creative Commons deeds (scheme and trailing slash aside) -> the EU licence table, which
# DCAT-AP recommends and the MQA's "known licence" indicator looks for; only the codes whose
# IRIs we have seen in published DCAT-AP data. Any other licence is used as the source gives it.
EU_LICENCES = {
    "creativecommons.org/licenses/by/4.0": ("CC_BY_4_0", ("Attribution",)),
    "creativecommons.org/licenses/by-sa/4.0": ("CC_BYSA_4_0", ("Attribution", "ShareAlike")),
    "creativecommons.org/publicdomain/zero/1.0": ("CC0", ("PublicDomain",)),
}


def _licence(g: Graph, licence: URIRef) -> URIRef:
    """The licence to cite: the EU licence-table IRI when there is one (with `rdfs:seeAlso` the
    deed the source named), typed with the ADMS licence-type vocabulary (DCAT-AP recommends
    it)."""
    iri = str(licence).lower()
    deed = iri.split("://", 1)[-1].removeprefix("www.").rstrip("/").removesuffix("/legalcode")
    kinds: tuple[str, ...] = ()
    if deed in EU_LICENCES:
        code, kinds = EU_LICENCES[deed]
        document = URIRef(f"{EU}licence/{code}")
        g.add((document, RDFS.seeAlso, licence))
    else:
        document = licence
        if "creativecommons.org/licenses/by" in iri:
            kinds = ("Attribution", "ShareAlike") if "-sa" in iri else ("Attribution",)
        elif "publicdomain" in iri:
            kinds = ("PublicDomain",)
    g.add((document, RDF.type, DCTERMS.LicenseDocument))
    for kind in kinds or ("UnknownIPR",):
        g.add((document, DCTERMS.type, URIRef(f"http://purl.org/adms/licencetype/{kind}")))
    return document


def _date_time(value: str) -> Literal:
    return Literal(value, datatype=XSD.dateTime)


class Catalog:
    """Builds the catalogue graph, once per published snapshot."""

    def __init__(self, reader: StoreReader, settings: Settings) -> None:
        self.reader = reader
        self.settings = settings
        self.base = settings.base_iri
        self._lock = threading.Lock()
        self._cached: tuple[str | None, Graph] | None = None

    def graph(self, snapshot: Snapshot) -> Graph:
        """The catalogue of a snapshot; rebuilt once its dumps have been written."""
        key = f"{snapshot.name}:{self.has_dumps(snapshot)}"
        with self._lock:
            if self._cached is None or self._cached[0] != key:
                self._cached = (key, self._build(snapshot))
            return self._cached[1]

    def validators(self, snapshot: Snapshot, media_type: str) -> dict[str, str]:
        """ETag and Last-Modified of a document built from the catalogue of `snapshot`.

        The catalogue changes once the snapshot's dumps are written, so the ETag says whether
        they were there.
        """
        headers = validators(snapshot, media_type)
        if "ETag" in headers and (served := self.has_dumps(snapshot)) != snapshot.name:
            headers["ETag"] = headers["ETag"][:-1] + f':dumps-of-{served or "none"}"'
        return headers

    def has_dumps(self, snapshot: Snapshot) -> str:  # the snapshot whose dumps are served, or ""
        return dumps.served_snapshot(self.settings.store, snapshot.name)

    def _build(self, snapshot: Snapshot) -> Graph:
        base = self.base
        g = Graph()
        prefixes = {"dcat": DCAT, "dct": DCTERMS, "foaf": FOAF, "dcatap": DCATAP, "spdx": SPDX}
        for prefix, namespace in {**prefixes, "vcard": VCARD}.items():
            g.bind(prefix, namespace)
        sources = [
            Source(**{"homepage": None, **row})  # type: ignore[arg-type]
            for row in self.reader.select(SOURCES_QUERY)
        ]
        runs = {row["graph"]: row for row in self.reader.select(RUNS_QUERY)}
        countries: dict[str, set[str]] = {}
        for row in self.reader.select(COUNTRIES_QUERY):
            countries.setdefault(row["graph"], set()).add(row["country"])
        files = dumps.read(self.settings.store, snapshot.name) if snapshot.name else None
        catalog = URIRef(base + "catalog")
        operator = self._operator(g)
        contact = self._contact(g)
        service = URIRef(base + "catalog#sparql")
        metadata_licence = _licence(g, URIRef("https://creativecommons.org/licenses/by/4.0/"))

        g.add((catalog, RDF.type, DCAT.Catalog))
        g.add((catalog, DCTERMS.title, Literal("creative-graph: creative ecosystems", lang="en")))
        g.add((catalog, DCTERMS.description, Literal(
            "Linked open data about the actors of creative ecosystems (hubs, clusters, networks, "
            "fab labs, studios, venues, creative entrepreneurs), their services and relations, "
            "gathered from public sources and validated.", lang="en")))  # fmt: skip
        g.add((catalog, DCTERMS.publisher, operator))
        g.add((catalog, FOAF.homepage, URIRef(base)))
        g.add((catalog, DCTERMS.license, metadata_licence))
        g.add((catalog, DCAT.themeTaxonomy, URIRef(EU + "data-theme")))
        g.add((catalog, DCTERMS.spatial, URIRef(EU + "country/BEL")))
        for language in LANGUAGES:
            g.add((catalog, DCTERMS.language, URIRef(f"{EU}language/{language}")))
        if runs:
            g.add((catalog, DCTERMS.issued, _date_time(min(r["first"] for r in runs.values()))))
            g.add((catalog, DCTERMS.modified, _date_time(max(r["last"] for r in runs.values()))))

        datasets = []
        for source in sources:
            dataset = URIRef(source.graph)
            datasets.append(dataset)
            licence = _licence(g, URIRef(source.licence))
            rights = BNode(f"rights-{source.name}")
            g.add((rights, RDF.type, DCTERMS.RightsStatement))
            g.add((rights, RDFS.label, Literal(source.rights, lang="en")))
            publisher = URIRef(f"{base}id/publisher/{source.name}")
            g.add((publisher, RDF.type, FOAF.Agent))
            g.add((publisher, FOAF.name, Literal(source.publisher)))
            g.add(
                (
                    publisher,
                    DCTERMS.type,
                    URIRef("http://purl.org/adms/publishertype/NonProfitOrganisation"),
                )
            )
            description = (
                f"Actors of the creative ecosystem from the source '{source.title}', published "
                f"by {source.publisher}, mapped to the creative-graph model, linked to European "
                "reference data and validated with its SHACL shapes."
            )
            self._dataset(
                g, dataset, source.name, source.title, description, publisher, contact,
                countries.get(source.graph, set()) or {EU + "country/BEL"}, runs.get(source.graph),
                licence, rights, service,
                [f for f in files or [] if f.graph == source.graph],
            )  # fmt: skip
            if source.homepage:
                g.add((dataset, DCTERMS.source, URIRef(source.homepage)))
        whole = URIRef(base + "catalog#all")
        datasets.append(whole)
        all_rights = BNode("rights-all")
        g.add((all_rights, RDF.type, DCTERMS.RightsStatement))
        g.add((all_rights, RDFS.label, Literal(
            "Each source graph keeps its own licence and attribution, listed in its dataset: "
            "credit every source you use.", lang="en")))  # fmt: skip
        every_country = set().union(*countries.values()) if countries else {EU + "country/BEL"}
        every_run = (
            {
                "first": min(r["first"] for r in runs.values()),
                "last": max(r["last"] for r in runs.values()),
            }
            if runs
            else None
        )
        self._dataset(
            g, whole, "all", "creative-graph: the whole graph",
            "Every source graph together, with the ontology, the identity of actors merged "
            "across sources and the record of every ingest (PROV-O).",
            operator, contact, every_country, every_run, metadata_licence, all_rights, service,
            [f for f in files or [] if f.graph is None],
        )  # fmt: skip
        self._change_stream(g, whole, metadata_licence, all_rights)
        for dataset in datasets:
            g.add((catalog, DCAT.dataset, dataset))
        g.add((catalog, DCAT.service, service))
        g.add((service, RDF.type, DCAT.DataService))
        g.add((service, DCTERMS.title, Literal("SPARQL 1.1 endpoint", lang="en")))
        g.add((service, DCTERMS.description, Literal(
            "SPARQL 1.1 Protocol endpoint over every graph; GET without a query returns its "
            "Service Description.", lang="en")))  # fmt: skip
        g.add((service, DCAT.endpointURL, URIRef(base + "sparql")))
        g.add((service, DCAT.endpointDescription, URIRef(base + "sparql")))
        g.add((service, DCTERMS.conformsTo, URIRef("https://www.w3.org/TR/sparql11-protocol/")))
        g.add((service, DCTERMS.publisher, operator))
        g.add((service, DCAT.contactPoint, contact))
        g.add((service, DCTERMS.license, metadata_licence))
        for dataset in datasets:
            g.add((service, DCAT.servesDataset, dataset))
        for theme in THEMES:
            g.add((service, DCAT.theme, URIRef(f"{EU}data-theme/{theme}")))
        for word in ("SPARQL", "linked data", "creative industries"):
            g.add((service, DCAT.keyword, Literal(word, lang="en")))
        return g

    def _change_stream(self, g: Graph, dataset: URIRef, licence: URIRef, rights: BNode) -> None:
        """The LDES of actors, a distribution of the whole graph (ldes:EventSource)."""
        stream = URIRef(self.base + "catalog#ldes")
        g.add((dataset, DCAT.distribution, stream))
        g.add((stream, RDF.type, DCAT.Distribution))
        g.add((stream, RDF.type, URIRef("https://w3id.org/ldes#EventSource")))
        g.add((stream, DCTERMS.title, Literal("Change stream of the actors (LDES)", lang="en")))
        g.add((stream, DCTERMS.description, Literal(
            "Every version of every actor since the first ingest, oldest first, as a Linked "
            "Data Event Stream: replicate the actors, then stay in sync.", lang="en")))  # fmt: skip
        g.add((stream, DCAT.accessURL, URIRef(self.base + "ldes/actors")))
        g.add((stream, DCTERMS.conformsTo, URIRef("https://w3id.org/ldes/specification")))
        g.add((stream, DCTERMS.format, URIRef(EU + "file-type/RDF_TRIG")))
        g.add((stream, DCAT.mediaType, URIRef(IANA + "application/trig")))
        g.add((stream, DCTERMS.license, licence))
        g.add((stream, DCTERMS.rights, rights))
        g.add((stream, DCATAP.availability, URIRef(EU + "planned-availability/STABLE")))

    def _operator(self, g: Graph) -> URIRef:
        agent = URIRef(self.base + "catalog#publisher")
        g.add((agent, RDF.type, FOAF.Agent))
        g.add((agent, FOAF.name, Literal(self.settings.catalog_publisher)))
        g.add(
            (
                agent,
                DCTERMS.type,
                URIRef("http://purl.org/adms/publishertype/NonProfitOrganisation"),
            )
        )
        return agent

    def _contact(self, g: Graph) -> URIRef:
        contact = URIRef(self.base + "catalog#contact")
        g.add((contact, RDF.type, VCARD.Organization))
        g.add((contact, VCARD.fn, Literal(self.settings.catalog_publisher)))
        address = self.settings.catalog_contact or self.base
        predicate = VCARD.hasEmail if address.startswith("mailto:") else VCARD.hasURL
        g.add((contact, predicate, URIRef(address)))
        return contact

    def _dataset(
        self, g: Graph, dataset: URIRef, name: str, title: str, description: str,
        publisher: URIRef, contact: URIRef, countries: set[str], run: dict[str, str] | None,
        licence: URIRef, rights: BNode, service: URIRef, files: list[dumps.DumpFile],
    ) -> None:  # fmt: skip
        base = self.base
        g.add((dataset, RDF.type, DCAT.Dataset))
        g.add((dataset, DCTERMS.identifier, Literal(name)))
        g.add((dataset, DCTERMS.title, Literal(title, lang="en")))
        g.add((dataset, DCTERMS.description, Literal(description, lang="en")))
        g.add((dataset, DCTERMS.publisher, publisher))
        g.add((dataset, DCAT.contactPoint, contact))
        g.add((dataset, DCAT.landingPage, URIRef(base)))
        g.add((dataset, DCTERMS.accessRights, URIRef(EU + "access-right/PUBLIC")))
        g.add((dataset, DCTERMS.accrualPeriodicity, URIRef(EU + "frequency/IRREG")))
        g.add((dataset, DCTERMS.conformsTo, URIRef("https://w3id.org/creative-graph/ns")))
        for theme in THEMES:
            g.add((dataset, DCAT.theme, URIRef(f"{EU}data-theme/{theme}")))
        for language in LANGUAGES:
            g.add((dataset, DCTERMS.language, URIRef(f"{EU}language/{language}")))
        for language, words in KEYWORDS.items():
            for word in words:
                g.add((dataset, DCAT.keyword, Literal(word, lang=language)))
        for country in sorted(countries):
            g.add((dataset, DCTERMS.spatial, URIRef(country)))
        if run and run.get("first"):
            g.add((dataset, DCTERMS.issued, _date_time(run["first"])))
            g.add((dataset, DCTERMS.modified, _date_time(run["last"])))
            period = BNode(f"period-{name}")
            g.add((period, RDF.type, DCTERMS.PeriodOfTime))
            g.add((period, DCAT.startDate, _date_time(run["first"])))
            g.add((period, DCAT.endDate, _date_time(run["last"])))
            g.add((dataset, DCTERMS.temporal, period))
        for file in files:
            distribution = URIRef(f"{base}catalog#dist-{file.name}")
            url = URIRef(f"{base}dumps/{file.name}")
            g.add((dataset, DCAT.distribution, distribution))
            g.add((distribution, RDF.type, DCAT.Distribution))
            g.add((distribution, DCTERMS.title, Literal(file.title, lang="en")))
            g.add(
                (distribution, DCTERMS.description, Literal(f"Download: {file.title}.", lang="en"))
            )
            g.add((distribution, DCAT.accessURL, url))
            g.add((distribution, DCAT.downloadURL, url))
            g.add(
                (
                    distribution,
                    DCTERMS.format,
                    URIRef(f"{EU}file-type/{FILE_TYPES[file.media_type]}"),
                )
            )
            g.add((distribution, DCAT.mediaType, URIRef(IANA + file.media_type)))
            if file.compressed:
                g.add((distribution, DCAT.compressFormat, URIRef(IANA + "application/gzip")))
            g.add((distribution, DCAT.byteSize, Literal(str(file.bytes), datatype=XSD.decimal)))
            checksum = BNode(f"checksum-{file.sha1}")
            g.add((distribution, SPDX.checksum, checksum))
            g.add((checksum, RDF.type, SPDX.Checksum))
            g.add((checksum, SPDX.algorithm, SPDX.checksumAlgorithm_sha1))
            g.add((checksum, SPDX.checksumValue, Literal(file.sha1, datatype=XSD.hexBinary)))
            g.add((distribution, DCTERMS.license, licence))
            g.add((distribution, DCTERMS.rights, rights))
            g.add((distribution, DCTERMS.issued, _date_time(file.modified)))
            g.add((distribution, DCTERMS.modified, _date_time(file.modified)))
            g.add((distribution, DCATAP.availability, URIRef(EU + "planned-availability/STABLE")))
        sparql = URIRef(f"{base}catalog#sparql-{name}")
        g.add((dataset, DCAT.distribution, sparql))
        g.add((sparql, RDF.type, DCAT.Distribution))
        g.add((sparql, DCTERMS.title, Literal("SPARQL endpoint", lang="en")))
        query_it = "Query this dataset with SPARQL 1.1 (its named graph, or all of them)."
        g.add((sparql, DCTERMS.description, Literal(query_it, lang="en")))
        g.add((sparql, DCAT.accessURL, URIRef(base + "sparql")))
        g.add((sparql, DCAT.accessService, service))
        g.add((sparql, DCTERMS.format, URIRef(EU + "file-type/SPARQLQ")))
        g.add((sparql, DCTERMS.license, licence))
        g.add((sparql, DCTERMS.rights, rights))
        g.add((sparql, DCATAP.availability, URIRef(EU + "planned-availability/STABLE")))


def reachable(full: Graph, start: list, stop: set, into: Graph) -> Graph:  # type: ignore[type-arg]
    """Copy into `into` every triple reachable from `start` by outgoing links, not past `stop`."""
    todo, seen = list(start), set()
    while todo:
        node = todo.pop()
        if node in seen:
            continue
        seen.add(node)
        for p, o in full.predicate_objects(node):
            into.add((node, p, o))
            if isinstance(o, URIRef | BNode) and o not in stop and (o, None, None) in full:
                todo.append(o)
    return into


def page(full: Graph, base: str, number: int, size: int) -> Graph | None:
    """Page `number` (from 1) of the catalogue: `size` datasets, each with everything reachable
    from it, and a Hydra `PartialCollectionView` with `hydra:totalItems` (piveau reads it on
    every page) and first/previous/next/last links. None past the last page.
    """
    catalog = URIRef(base + "catalog")
    datasets = sorted(full.objects(catalog, DCAT.dataset), key=str)
    last = max(1, -(-len(datasets) // size))
    if not 1 <= number <= last:
        return None
    chosen = set(datasets[(number - 1) * size : number * size])
    g = Graph(namespace_manager=full.namespace_manager)
    g.bind("hydra", HYDRA)
    for p, o in full.predicate_objects(catalog):
        if p != DCAT.dataset or o in chosen:
            g.add((catalog, p, o))
    stop = {catalog, *datasets} - chosen
    reachable(full, [*chosen, *full.objects(catalog, DCAT.service)], stop, g)

    def url(n: int) -> URIRef:
        return URIRef(f"{base}catalog?page={n}")

    view = url(number)
    g.add((catalog, HYDRA.view, view))
    g.add((view, RDF.type, HYDRA.PartialCollectionView))
    g.add((view, HYDRA.totalItems, Literal(len(datasets), datatype=XSD.integer)))
    g.add((view, HYDRA.first, url(1)))
    g.add((view, HYDRA.last, url(last)))
    if number > 1:
        g.add((view, HYDRA.previous, url(number - 1)))
    if number < last:
        g.add((view, HYDRA.next, url(number + 1)))
    return g


def router(reader: StoreReader, catalog: Catalog, settings: Settings) -> APIRouter:
    api = APIRouter(tags=["catalogue"])

    @api.head("/catalog", include_in_schema=False)
    @api.get("/catalog", summary="The DCAT-AP 2.1.1 catalogue (Turtle, RDF/XML, JSON-LD)")
    def answer(request: Request, page_number: int = Query(1, alias="page", ge=1)) -> Response:
        media_type = preferred(request, html=False)
        if media_type is None:
            return not_acceptable()
        snapshot = reader.snapshot
        headers = {"Vary": "Accept", **catalog.validators(snapshot, media_type)}
        unchanged = not_modified(request, headers)
        if unchanged is not None:
            return unchanged
        document = page(
            catalog.graph(snapshot), settings.base_iri, page_number, settings.catalog_page_size
        )
        if document is None:
            return PlainTextResponse(f"No page {page_number} of the catalogue\n", status_code=404)
        return rdf_response(document, BY_MEDIA_TYPE[media_type], headers)

    return api
