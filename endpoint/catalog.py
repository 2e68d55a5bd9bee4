"""The DCAT-AP catalogue at `/catalog`, for open-data portals to harvest.

Built in Python, once per published snapshot, from what the store says about each source graph
(title, publisher, licence, attribution, the versions its runs generated, the places and dates
of its data) and from the dump manifest (sizes, checksums). It targets DCAT-AP 2.1.1, what
data.europa.eu converts everything to (`docs/CATALOG.md`): `dcat:byteSize` as `xsd:decimal`,
SHA-1 checksums as `xsd:hexBinary`. One `dcat:Dataset` per source graph and one for the whole
graph; every dataset has its dumps as file distributions and the SPARQL endpoint as a
distribution with a `dcat:accessService`. A dataset's `dct:modified` is when its data last
changed (`ingest.provenance`), so a run that changes nothing changes no record.
"""

from __future__ import annotations

import calendar
import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

import pyoxigraph as ox
from fastapi import APIRouter, Query, Request
from fastapi.responses import PlainTextResponse, Response
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF, RDFS, XSD

from creative_graph import dumps
from creative_graph.settings import Settings
from creative_graph.store import Snapshot, StoreReader
from endpoint.caching import not_modified, validators
from endpoint.negotiation import choose
from endpoint.representations import BY_MEDIA_TYPE, not_acceptable, rdf_response

EU = "http://publications.europa.eu/resource/authority/"
IANA = "http://www.iana.org/assignments/media-types/"
NUTS = "http://data.europa.eu/nuts/code/"
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
# Every version of a graph its runs generated (`ingest.provenance`): when the run started, when
# the version was generated and, since the runs record it, when the graph's data last changed.
VERSIONS_QUERY = """
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX dct: <http://purl.org/dc/terms/>
SELECT ?graph ?started ?generated ?modified WHERE {
  ?run prov:generated ?version ; prov:startedAtTime ?started .
  ?version prov:specializationOf ?graph ; prov:generatedAtTime ?generated .
  OPTIONAL { ?version dct:modified ?modified }
}
"""
# The administrative units of the addresses in each graph (only the sites of actors have one).
# Grouped before anything looks at the terms: the few distinct units are sorted out in Python.
# A filter on every address (STRSTARTS, even isIRI) costs 0.8-3 s on 50,000 actors where this
# takes 0.1 s (it reads the index of cv:adminUnit and nothing else).
UNITS_QUERY = """
PREFIX cv: <http://data.europa.eu/m8g/>
SELECT ?graph ?unit (isIRI(?unit) AS ?iri) WHERE { GRAPH ?graph { ?address cv:adminUnit ?unit } }
GROUP BY ?graph ?unit
"""
# The properties whose dates say when the things a graph describes happened: grants (start and
# end), founding and dissolution of actors, the instants of periods (memberships), publication
# of works, creation of source records (a survey answer). The distinct dates of each graph,
# grouped before anything looks at the terms (100,000 grants and 100,000 founding dates: 0.1 s),
# are read as days in Python.
DATE_PROPERTIES = (
    "https://schema.org/startDate",
    "https://schema.org/endDate",
    "https://schema.org/foundingDate",
    "https://schema.org/dissolutionDate",
    "http://www.w3.org/2006/time#inXSDDate",
    "https://schema.org/datePublished",
    "http://purl.org/dc/terms/created",
)
DATES_QUERY = (
    "SELECT ?graph ?date (DATATYPE(?date) AS ?type) WHERE {\n"
    f"  VALUES ?property {{ {' '.join(f'<{p}>' for p in DATE_PROPERTIES)} }}\n"
    "  GRAPH ?graph { ?thing ?property ?date }\n"
    "} GROUP BY ?graph ?date"
)
_CALENDAR = re.compile(r"^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?")
_PRECISION = {  # datatype -> how many of year, month, day its lexical form gives
    str(XSD.gYear): 1,
    str(XSD.gYearMonth): 2,
    str(XSD.date): 3,
    str(XSD.dateTime): 3,
}
Select = Callable[[str], list[dict[str, str]]]


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


def _moment(value: str) -> datetime:
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Bound:
    """One end of a period: the instant it stands for (to compare) and its literal."""

    moment: datetime
    literal: Literal


@dataclass(frozen=True)
class Period:
    start: Bound
    end: Bound

    def union(self, other: Period | None) -> Period:
        if other is None:
            return self
        start = min(self.start, other.start, key=lambda b: b.moment)
        return Period(start, max(self.end, other.end, key=lambda b: b.moment))


def _day(day: date, end: bool) -> Bound:
    moment = datetime.combine(day, time.max if end else time.min, UTC)
    return Bound(moment, Literal(day.isoformat(), datatype=XSD.date))


def _days(datatype: str, lexical: str) -> tuple[date, date] | None:
    """The first and last day a date, year-month or year stands for (a dateTime: its day)."""
    precision, found = _PRECISION.get(datatype), _CALENDAR.match(lexical)
    if precision is None or found is None:
        return None
    year, month, day = (int(part) if part else None for part in found.groups())
    try:
        if precision == 1:
            return date(year, 1, 1), date(year, 12, 31)  # type: ignore[arg-type]
        if precision == 2 and month:
            last = calendar.monthrange(year, month)[1]  # type: ignore[arg-type]
            return date(year, month, 1), date(year, month, last)  # type: ignore[arg-type]
        if month and day:
            return date(year, month, day), date(year, month, day)  # type: ignore[arg-type]
    except ValueError:  # a month 13, a 30 February: not a date
        pass
    return None


def data_periods(rows: list[dict[str, str]]) -> dict[str, Period]:
    """The period each graph's data covers, from the rows of `DATES_QUERY`: from the first day
    of its earliest date to the last day of its latest (as `xsd:date`); values that are not
    dates of a known type are left out."""
    days: dict[str, tuple[date, date]] = {}
    for row in rows:
        found = _days(row.get("type", ""), row.get("date", ""))
        if found is None:
            continue
        first, last = days.get(row["graph"], found)
        days[row["graph"]] = (min(first, found[0]), max(last, found[1]))
    return {
        graph: Period(_day(first, end=False), _day(last, end=True))
        for graph, (first, last) in days.items()
    }


@dataclass(frozen=True)
class History:
    """What a graph's runs say: its first ingest and when its data last changed."""

    issued: str  # xsd:dateTime, the start of its first run
    modified: str  # xsd:dateTime, when its data last changed

    @property
    def window(self) -> Period:
        """From the first ingest to the last change: what the graph was observed over."""
        issued, modified = _date_time(self.issued), _date_time(self.modified)
        return Period(Bound(_moment(self.issued), issued), Bound(_moment(self.modified), modified))


def histories(rows: list[dict[str, str]]) -> dict[str, History]:
    """Each graph's `History` from the rows of `VERSIONS_QUERY`: the `dct:modified` of its
    latest version, or that version's generation time when it has none (a version recorded
    before runs said so, or by a run stopped before it could: counted as a change)."""
    by_graph: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        by_graph.setdefault(row["graph"], []).append(row)
    found = {}
    for graph, versions in by_graph.items():
        first = min((v["started"] for v in versions), key=_moment)
        latest = max(versions, key=lambda v: _moment(v["generated"]))
        found[graph] = History(first, latest.get("modified") or latest["generated"])
    return found


def _select_in(path: str) -> Select:
    """SELECT over a kept published snapshot other than the one the reader serves."""
    store = ox.Store.read_only(path)

    def select(query: str) -> list[dict[str, str]]:
        results = store.query(query, use_default_graph_as_union=True)
        assert isinstance(results, ox.QuerySolutions)
        names = [variable.value for variable in results.variables]
        return [
            {name: term.value for name in names if (term := row[name]) is not None}
            for row in results
        ]

    return select


_SNAPSHOT_NAME = re.compile(r"^\d{6}-\d{8}T\d{12}Z$")  # as StoreWriter.publish names them


class Catalog:
    """Builds the catalogue graph, once per published snapshot.

    The catalogues of the last few snapshots stay cached (as many as the store keeps), so that
    an OAI-PMH harvest begun on one goes on from it after a newer one is published.
    """

    def __init__(self, reader: StoreReader, settings: Settings) -> None:
        self.reader = reader
        self.settings = settings
        self.base = settings.base_iri
        self._lock = threading.Lock()
        self._cached: OrderedDict[str, tuple[str, Graph]] = OrderedDict()

    def graph(self, snapshot: Snapshot) -> Graph:
        """The catalogue of a snapshot; rebuilt once its dumps have been written."""
        return self._graph(snapshot.name or "", lambda: self.reader.select)

    def kept(self, name: str) -> Graph | None:
        """The catalogue of the published snapshot `name` while the store still keeps it (the
        current one or one of the `SNAPSHOTS_KEPT` before), else None. Raises `OSError` when
        the snapshot is removed while it is read."""
        snapshot = self.reader.snapshot
        if name == snapshot.name:
            return self.graph(snapshot)
        path = self.settings.store / "published" / name
        if not _SNAPSHOT_NAME.match(name) or not path.is_dir():
            return None
        return self._graph(name, lambda: _select_in(str(path)))

    def _graph(self, name: str, select: Callable[[], Select]) -> Graph:
        key = dumps.served_snapshot(self.settings.store, name or None)
        with self._lock:
            cached = self._cached.get(name)
            if cached is None or cached[0] != key:
                cached = (key, self._build(name or None, select()))
                self._cached[name] = cached
            self._cached.move_to_end(name)
            while len(self._cached) > self.settings.snapshots_kept + 1:
                self._cached.popitem(last=False)
            return cached[1]

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

    def _build(self, name: str | None, select: Select) -> Graph:
        base = self.base
        g = Graph()
        prefixes = {"dcat": DCAT, "dct": DCTERMS, "foaf": FOAF, "dcatap": DCATAP, "spdx": SPDX}
        for prefix, namespace in {**prefixes, "vcard": VCARD}.items():
            g.bind(prefix, namespace)
        sources = [
            Source(**{"homepage": None, **row})  # type: ignore[arg-type]
            for row in select(SOURCES_QUERY)
        ]
        history = histories(select(VERSIONS_QUERY))
        places: dict[str, set[str]] = {}
        for row in select(UNITS_QUERY):
            if row["iri"] == "true" and row["unit"].startswith((EU + "country/", NUTS)):
                places.setdefault(row["graph"], set()).add(row["unit"])
        periods = data_periods(select(DATES_QUERY))
        files = dumps.read(self.settings.store, name) if name else None
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
        described = [history[s.graph] for s in sources if s.graph in history]
        every_run = (
            History(
                min((h.issued for h in described), key=_moment),
                max((h.modified for h in described), key=_moment),
            )
            if described
            else None
        )
        if every_run:
            g.add((catalog, DCTERMS.issued, _date_time(every_run.issued)))
            g.add((catalog, DCTERMS.modified, _date_time(every_run.modified)))

        datasets = []
        every_place: set[str] = set()
        every_period: Period | None = None
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
            run = history.get(source.graph)
            period = periods.get(source.graph) or (run.window if run else None)
            place = places.get(source.graph, set())
            every_place |= place
            every_period = period.union(every_period) if period else every_period
            own_page = source.graph.startswith(f"{base}graph/")
            self._dataset(
                g, dataset, source.name, source.title, description, publisher, contact,
                place or {EU + "country/BEL"}, run, period, licence, rights, service,
                URIRef(source.graph if own_page else base),
                [f for f in files or [] if f.graph == source.graph], files_dated=True,
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
        self._dataset(
            g, whole, "all", "creative-graph: the whole graph",
            "Every source graph together, with the ontology, the identity of actors merged "
            "across sources and the record of every ingest (PROV-O).",
            operator, contact, every_place or {EU + "country/BEL"}, every_run, every_period,
            metadata_licence, all_rights, service, URIRef(base),
            [f for f in files or [] if f.graph is None], files_dated=False,
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
        publisher: URIRef, contact: URIRef, places: set[str], run: History | None,
        period: Period | None, licence: URIRef, rights: BNode, service: URIRef,
        landing_page: URIRef, files: list[dumps.DumpFile], files_dated: bool,
    ) -> None:  # fmt: skip
        """One dataset. `files_dated`: its files hold its data and nothing else, so they changed
        when it did (their dates are the dataset's); else each file's own publication time."""
        base = self.base
        g.add((dataset, RDF.type, DCAT.Dataset))
        g.add((dataset, DCTERMS.identifier, Literal(name)))
        g.add((dataset, DCTERMS.title, Literal(title, lang="en")))
        g.add((dataset, DCTERMS.description, Literal(description, lang="en")))
        g.add((dataset, DCTERMS.publisher, publisher))
        g.add((dataset, DCAT.contactPoint, contact))
        g.add((dataset, DCAT.landingPage, landing_page))
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
        for place in sorted(places):
            g.add((dataset, DCTERMS.spatial, URIRef(place)))
        if run:
            g.add((dataset, DCTERMS.issued, _date_time(run.issued)))
            g.add((dataset, DCTERMS.modified, _date_time(run.modified)))
        if period:
            temporal = BNode(f"period-{name}")
            g.add((temporal, RDF.type, DCTERMS.PeriodOfTime))
            g.add((temporal, DCAT.startDate, period.start.literal))
            g.add((temporal, DCAT.endDate, period.end.literal))
            g.add((dataset, DCTERMS.temporal, temporal))
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
            issued, modified = (run.issued, run.modified) if run and files_dated else (
                file.modified, file.modified)  # fmt: skip
            g.add((distribution, DCTERMS.issued, _date_time(issued)))
            g.add((distribution, DCTERMS.modified, _date_time(modified)))
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


def page(full: Graph, base: str, number: int, size: int, location: str = "catalog") -> Graph | None:
    """Page `number` (from 1) of the catalogue: `size` datasets, each with everything reachable
    from it, and a Hydra `PartialCollectionView` with `hydra:totalItems` (piveau reads it on
    every page) and first/previous/next/last links to `{base}{location}` (`catalog`,
    `catalog.rdf`, `catalog?format=rdfxml`: a harvester stays in the representation it chose).
    None past the last page.
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
        return URIRef(f"{base}{location}{'&' if '?' in location else '?'}page={n}")

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


# `format=` names (as /sparql takes them) and file suffixes of the catalogue's representations
FORMAT_NAMES = {
    "turtle": "text/turtle",
    "ttl": "text/turtle",
    "ntriples": "application/n-triples",
    "nt": "application/n-triples",
    "jsonld": "application/ld+json",
    "rdfxml": "application/rdf+xml",
    "rdf": "application/rdf+xml",
    "xml": "application/rdf+xml",
}
SUFFIXES = {f.suffix.removeprefix("."): media_type for media_type, f in BY_MEDIA_TYPE.items()}
# RDF/XML is XML: a client that asks for XML (a plain XML tool, a harvester configured so) gets it
XML_TYPES = ("application/xml", "text/xml")


def negotiated(accept: str | None) -> str | None:
    """The RDF media type to answer `Accept` with (Turtle when it says nothing), None for 406."""
    if not accept or accept.strip() == "*/*":
        return "text/turtle"
    chosen = choose(accept, [*BY_MEDIA_TYPE, *XML_TYPES])
    return "application/rdf+xml" if chosen in XML_TYPES else chosen


def router(reader: StoreReader, catalog: Catalog, settings: Settings) -> APIRouter:
    api = APIRouter(tags=["catalogue"])

    def document(
        request: Request, media_type: str, page_number: int, location: str, vary: bool
    ) -> Response:
        snapshot = reader.snapshot
        headers = {"Vary": "Accept"} if vary else {}
        headers |= catalog.validators(snapshot, media_type)
        unchanged = not_modified(request, headers)
        if unchanged is not None:
            return unchanged
        found = page(
            catalog.graph(snapshot), settings.base_iri, page_number, settings.catalog_page_size,
            location,
        )  # fmt: skip
        if found is None:
            return PlainTextResponse(f"No page {page_number} of the catalogue\n", status_code=404)
        return rdf_response(found, BY_MEDIA_TYPE[media_type], headers)

    @api.head("/catalog", include_in_schema=False)
    @api.get(
        "/catalog",
        summary="The DCAT-AP 2.1.1 catalogue (Turtle, RDF/XML, JSON-LD, N-Triples)",
        description="By `Accept` (`application/xml` and `text/xml` get RDF/XML) or `format=` "
        "(turtle, ntriples, jsonld, rdfxml); `/catalog.ttl`, `.rdf`, `.jsonld`, `.nt` too. "
        "Paged with Hydra: `page=N`.",
    )
    def answer(
        request: Request,
        page_number: int = Query(1, alias="page", ge=1),
        format_name: str | None = Query(None, alias="format"),
    ) -> Response:
        if format_name is not None:
            media_type = FORMAT_NAMES.get(format_name.lower())
            if media_type is None:
                known = ", ".join(FORMAT_NAMES)
                return PlainTextResponse(
                    f"Unknown format {format_name!r}; use one of {known}\n", status_code=400
                )
            location = f"catalog?format={format_name.lower()}"
            return document(request, media_type, page_number, location, vary=False)
        media_type = negotiated(request.headers.get("accept"))
        if media_type is None:
            return not_acceptable()
        return document(request, media_type, page_number, "catalog", vary=True)

    @api.head("/catalog.{suffix}", include_in_schema=False)
    @api.get("/catalog.{suffix}", summary="The catalogue in one format: .ttl, .rdf, .jsonld, .nt")
    def in_format(
        request: Request, suffix: str, page_number: int = Query(1, alias="page", ge=1)
    ) -> Response:
        media_type = SUFFIXES.get(suffix)
        if media_type is None:
            return PlainTextResponse(f"No /catalog.{suffix}; see /catalog\n", status_code=404)
        return document(request, media_type, page_number, f"catalog.{suffix}", vary=False)

    return api
