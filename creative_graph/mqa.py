"""The Metadata Quality Assessment (MQA) of data.europa.eu, computed on a DCAT-AP catalogue.

The methodology, as piveau implements it (`../shared/design/eu-portals.md` §3, `docs/CATALOG.md`):
every indicator of the five dimensions with its weight (405 points in all), measured per
distribution and per dataset; a dataset scores its own indicators plus those of its single
best-scoring distribution; the catalogue scores the rounded mean of its datasets; bands
Excellent 351-405, Good 221-350, Sufficient 121-220, Bad 0-120. URL reachability is measured
elsewhere (`creative_graph.harvest`) and handed in; "DCAT-AP compliance" is pySHACL with the
DCAT-AP 2.1.1 shapes piveau validates with. Where the sources leave a point open, this takes
the stricter reading (listed in `docs/CATALOG.md`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from pyshacl import validate
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, RDF, SH
from rdflib.term import Node

import shapes

EU = "http://publications.europa.eu/resource/authority/"
FILE_TYPE = EU + "file-type/"
LICENCE = EU + "licence/"
IANA = re.compile(r"^https?://www\.iana\.org/assignments/media-types/[\w.+-]+/[\w.+-]+$")
DCATAP = Namespace("http://data.europa.eu/r5r/")
# The EU access-right table's codes DCAT-AP 2.1.1 names for dct:accessRights.
ACCESS_RIGHTS = {URIRef(f"{EU}access-right/{c}") for c in ("PUBLIC", "RESTRICTED", "NON_PUBLIC")}
# The European Data Portal's lists of file types it calls machine-readable and non-proprietary,
# as `edp:isMachineReadable` / `edp:isNonProprietary` on EU file-type IRIs: YourOpenDAta/mqa-scoring
# @ 105c863, edp-vocabularies/edp-{machine-readable,non-proprietary}-format.rdf (MIT licence;
# the 2022 lists, also named in eu-portals.md §2.3). The live lists may differ.
MACHINE_READABLE = frozenset((
    "CSV", "GEOJSON", "ICS", "JSON", "JSON_LD", "KML", "KMZ", "NETCDF", "ODS", "RDFA",
    "RDF_N_QUADS", "RDF_N_TRIPLES", "RDF_TRIG", "RDF_TURTLE", "RDF_XML", "RSS", "SHP", "XLS",
    "XLSX", "XML",
))  # fmt: skip
NON_PROPRIETARY = frozenset((
    "BMP", "CSV", "DBF", "GEOJSON", "GZIP", "HTML", "ICS", "JPEG2000", "JSON", "JSON_LD", "KML",
    "KMZ", "NETCDF", "ODS", "PNG", "RDF_N_QUADS", "RDF_N_TRIPLES", "RDF_TRIG", "RDF_TURTLE",
    "RDF_XML", "RSS", "RTF", "TAR", "TIFF", "TSV", "TXT", "WMS_SRVC", "XML", "ZIP",
))  # fmt: skip

DIMENSIONS = {  # dimension -> its maximum
    "findability": 100,
    "accessibility": 100,
    "interoperability": 110,
    "reusability": 75,
    "contextuality": 20,
}
MAXIMUM = sum(DIMENSIONS.values())
BANDS = ((351, "Excellent"), (221, "Good"), (121, "Sufficient"), (0, "Bad"))
DATASET, DISTRIBUTION = "dataset", "distribution"


@dataclass(frozen=True)
class Indicator:
    """One MQA indicator: piveau's metric name, what it checks, its dimension and weight."""

    metric: str
    label: str
    dimension: str
    points: int
    on: str  # DATASET or DISTRIBUTION
    false_points: int = 0  # what a failed check scores (piveau's pv:falseScore)


# Weights: piveau-vocabularies piveau-dqv-vocabulary.ttl @ 7b29f2a (pv:trueScore, pv:falseScore).
INDICATORS = {
    i.metric: i
    for i in (
        Indicator("keywordAvailability", "keywords (dcat:keyword)", "findability", 30, DATASET),
        Indicator("categoryAvailability", "categories (dcat:theme)", "findability", 30, DATASET),
        Indicator("spatialAvailability", "geo search (dct:spatial)", "findability", 20, DATASET),
        Indicator("temporalAvailability", "time search (dct:temporal)", "findability", 20, DATASET),
        Indicator("accessUrlStatusCode", "access URL answers 2xx", "accessibility", 50,
                  DISTRIBUTION),
        Indicator("downloadUrlAvailability", "download URL (dcat:downloadURL)", "accessibility",
                  20, DISTRIBUTION),
        Indicator("downloadUrlStatusCode", "download URL answers 2xx", "accessibility", 30,
                  DISTRIBUTION),
        # A missing format or media type costs 5 points (pv:falseScore): the stricter reading.
        Indicator("formatAvailability", "format (dct:format)", "interoperability", 20,
                  DISTRIBUTION, -5),
        Indicator("mediaTypeAvailability", "media type (dcat:mediaType)", "interoperability", 10,
                  DISTRIBUTION, -5),
        Indicator("formatMediaTypeVocabularyAlignment", "format and media type from vocabularies",
                  "interoperability", 10, DISTRIBUTION),
        Indicator("formatMediaTypeNonProprietary", "non-proprietary format", "interoperability",
                  20, DISTRIBUTION),
        Indicator("formatMediaTypeMachineInterpretable", "machine-readable format",
                  "interoperability", 20, DISTRIBUTION),
        Indicator("dcatApCompliance", "DCAT-AP 2.1.1 compliance (SHACL)", "interoperability", 30,
                  DATASET),
        Indicator("licenceAvailability", "licence (dct:license)", "reusability", 20, DISTRIBUTION),
        Indicator("knownLicence", "licence from the EU licence table", "reusability", 10,
                  DISTRIBUTION),
        Indicator("accessRightsAvailability", "access rights (dct:accessRights)", "reusability",
                  10, DATASET),
        Indicator("accessRightsVocabularyAlignment", "access rights from the EU table",
                  "reusability", 5, DATASET),
        Indicator("contactPointAvailability", "contact point (dcat:contactPoint)", "reusability",
                  20, DATASET),
        Indicator("publisherAvailability", "publisher (dct:publisher)", "reusability", 10,
                  DATASET),
        Indicator("rightsAvailability", "rights (dct:rights)", "contextuality", 5, DISTRIBUTION),
        Indicator("byteSizeAvailability", "file size (dcat:byteSize)", "contextuality", 5,
                  DISTRIBUTION),
        # Measured on the dataset and on each distribution; see DatasetScore.checks.
        Indicator("dateIssuedAvailability", "date of issue (dct:issued)", "contextuality", 5,
                  DISTRIBUTION),
        Indicator("dateModifiedAvailability", "modification date (dct:modified)",
                  "contextuality", 5, DISTRIBUTION),
    )
}  # fmt: skip
DATES = ("dateIssuedAvailability", "dateModifiedAvailability")
DISTRIBUTION_MAXIMUM = sum(i.points for i in INDICATORS.values() if i.on == DISTRIBUTION)


@dataclass(frozen=True)
class UrlStatus:
    """What an HTTP HEAD on a URL answered (code None: no answer), and a note for people."""

    code: int | None
    note: str = ""

    @property
    def ok(self) -> bool:
        return self.code is not None and 200 <= self.code <= 299  # piveau counts only 2xx


@dataclass(frozen=True)
class Check:
    """One indicator measured on one dataset or distribution."""

    indicator: Indicator
    passed: bool
    note: str

    @property
    def points(self) -> int:
        return self.indicator.points if self.passed else self.indicator.false_points

    @property
    def lost(self) -> int:
        return self.indicator.points - self.points


def _total(checks: list[Check]) -> int:
    return sum(c.points for c in checks)


@dataclass(frozen=True)
class DistributionScore:
    iri: str
    checks: list[Check]

    @property
    def total(self) -> int:
        return _total(self.checks)


@dataclass(frozen=True)
class DatasetScore:
    iri: str
    identifier: str
    title: str
    own: list[Check]  # the dataset-level measurements, dates included
    distributions: list[DistributionScore]  # best first
    problems: list[str] = field(default_factory=list)  # SHACL results on the dataset's record

    @property
    def best(self) -> DistributionScore | None:
        return self.distributions[0] if self.distributions else None

    @property
    def checks(self) -> list[Check]:
        """What counts: the dataset's own indicators and its best distribution's. A date counts
        from the best distribution; the dataset's own only when it has no distribution."""
        if self.best is None:
            return self.own
        return [c for c in self.own if c.indicator.metric not in DATES] + self.best.checks

    @property
    def total(self) -> int:
        return _total(self.checks)

    @property
    def band(self) -> str:
        return band(self.total)

    def dimensions(self) -> dict[str, int]:
        scores = dict.fromkeys(DIMENSIONS, 0)
        for check in self.checks:
            scores[check.indicator.dimension] += check.points
        return scores

    def missing(self) -> list[Check]:
        return [c for c in self.checks if c.lost]


@dataclass(frozen=True)
class CatalogueScore:
    datasets: list[DatasetScore]
    problems: list[str]  # SHACL results outside every dataset's record (the catalogue itself)

    @property
    def total(self) -> int:
        if not self.datasets:
            return 0
        # piveau rounds the mean (half up, as Java's Math.round and SPARQL's ROUND do)
        return math.floor(sum(d.total for d in self.datasets) / len(self.datasets) + 0.5)

    @property
    def band(self) -> str:
        return band(self.total)


def band(points: int) -> str:
    return next(name for floor, name in BANDS if points >= floor)


def urls(graph: Graph) -> set[str]:
    """Every access and download URL of every distribution: what the URL checker requests."""
    return {
        str(o)
        for p in (DCAT.accessURL, DCAT.downloadURL)
        for o in graph.objects(None, p)
        if isinstance(o, URIRef)
    }


def score(
    graph: Graph,
    statuses: Mapping[str, UrlStatus],
    results: list[tuple[Node, str]] | None = None,
) -> CatalogueScore:
    """Score every `dcat:Dataset` of `graph`. `statuses` holds the HEAD answer of each URL;
    `results` the SHACL results as (focus node, text), by default pySHACL's with DCAT-AP 2.1.1."""
    if results is None:
        results = dcat_ap_results(graph)
    datasets = sorted(set(graph.subjects(RDF.type, DCAT.Dataset)), key=str)
    catalogues = set(graph.subjects(RDF.type, DCAT.Catalog))
    placed: set[int] = set()
    scores = []
    for dataset in datasets:
        record = _record(graph, dataset, catalogues | set(datasets) - {dataset})
        problems = [i for i, (focus, _) in enumerate(results) if focus in record]
        placed.update(problems)
        scores.append(_dataset(graph, dataset, statuses, [results[i][1] for i in problems]))
    outside = [text for i, (_, text) in enumerate(results) if i not in placed]
    return CatalogueScore(scores, outside)


def dcat_ap_results(graph: Graph) -> list[tuple[Node, str]]:
    """Every result of the DCAT-AP 2.1.1 shapes, whatever its severity: whether piveau counts a
    warning as non-compliance is unverified, so a warning costs the points here too."""
    _, report, _ = validate(graph, shacl_graph=shapes.dcat_ap_2_1_1(), inference="none")
    found = []
    for result in report.subjects(RDF.type, SH.ValidationResult):
        focus = report.value(result, SH.focusNode)
        severity = str(report.value(result, SH.resultSeverity)).rsplit("#", 1)[-1]
        path = report.value(result, SH.resultPath)
        message = report.value(result, SH.resultMessage)
        where = f" {_short(path)}" if path is not None else ""
        found.append((focus, f"{severity}: {_short(focus)}{where}: {message}"))
    return sorted(found, key=lambda r: r[1])


def _record(graph: Graph, dataset: Node, stop: set[Node]) -> set[Node]:
    """The nodes a harvester takes with the dataset: those reachable by outgoing links, without
    passing through the catalogue or another dataset."""
    nodes: set[Node] = set()
    todo = [dataset]
    while todo:
        node = todo.pop()
        if node not in nodes and node not in stop:
            nodes.add(node)
            todo.extend(o for o in graph.objects(node) if isinstance(o, URIRef | BNode))
    return nodes


def _dataset(
    graph: Graph, dataset: Node, statuses: Mapping[str, UrlStatus], problems: list[str]
) -> DatasetScore:
    def has(metric: str, predicate: URIRef) -> Check:
        values = list(graph.objects(dataset, predicate))
        shown = ", ".join(sorted(_short(v) for v in values)[:3])
        note = f"{len(values)}: {shown}" if values else f"no {graph.qname(predicate)}"
        return Check(INDICATORS[metric], bool(values), note)

    rights = set(graph.objects(dataset, DCTERMS.accessRights))
    aligned = rights & ACCESS_RIGHTS
    own = [
        has("keywordAvailability", DCAT.keyword),
        has("categoryAvailability", DCAT.theme),
        has("spatialAvailability", DCTERMS.spatial),
        has("temporalAvailability", DCTERMS.temporal),
        Check(
            INDICATORS["dcatApCompliance"],
            not problems,
            f"{len(problems)} SHACL result(s), first: {problems[0]}" if problems else "conforms",
        ),
        has("accessRightsAvailability", DCTERMS.accessRights),
        Check(
            INDICATORS["accessRightsVocabularyAlignment"],
            bool(aligned),
            _short(next(iter(aligned)))
            if aligned
            else f"{', '.join(_short(r) for r in rights) or 'none'} is not PUBLIC, RESTRICTED "
            "or NON_PUBLIC of the EU access-right table",
        ),
        has("contactPointAvailability", DCAT.contactPoint),
        has("publisherAvailability", DCTERMS.publisher),
        has("dateIssuedAvailability", DCTERMS.issued),
        has("dateModifiedAvailability", DCTERMS.modified),
    ]
    distributions = [
        DistributionScore(str(d), _distribution(graph, d, statuses))
        for d in sorted(graph.objects(dataset, DCAT.distribution), key=str)
    ]
    # The best distribution counts; on a tie the first (by IRI) stays, as piveau keeps the first.
    distributions.sort(key=lambda d: -d.total)
    return DatasetScore(
        str(dataset),
        str(graph.value(dataset, DCTERMS.identifier) or ""),
        str(graph.value(dataset, DCTERMS.title) or ""),
        own,
        distributions,
        problems,
    )


def _distribution(graph: Graph, node: Node, statuses: Mapping[str, UrlStatus]) -> list[Check]:
    def has(metric: str, predicate: URIRef) -> Check:
        value = graph.value(node, predicate)
        note = _short(value) if value is not None else f"no {graph.qname(predicate)}"
        return Check(INDICATORS[metric], value is not None, note)

    def reachable(metric: str, predicate: URIRef) -> Check:
        values = list(graph.objects(node, predicate))
        if not values:
            return Check(INDICATORS[metric], False, f"no {graph.qname(predicate)} to check")
        answers = [(str(v), _status(v, statuses)) for v in values]
        good = [(url, s) for url, s in answers if s.ok]
        url, status = (good or answers)[0]
        return Check(INDICATORS[metric], bool(good), f"{url}: {_describe(status)}")

    formats = [f for f in graph.objects(node, DCTERMS.format) if isinstance(f, URIRef)]
    codes = {str(f)[len(FILE_TYPE) :] for f in formats if str(f).startswith(FILE_TYPE)}
    media_types = list(graph.objects(node, DCAT.mediaType))
    licences = list(graph.objects(node, DCTERMS.license))
    known = [lic for lic in licences if _eu_code(lic, LICENCE)]
    shown_format = ", ".join(_short(f) for f in graph.objects(node, DCTERMS.format)) or "none"

    def listed(metric: str, allowed: frozenset[str], name: str) -> Check:
        hit = sorted(codes & allowed)
        note = hit[0] if hit else f"format {shown_format} is not on the EDP {name} list"
        return Check(INDICATORS[metric], bool(hit), note)

    format_ok = any(_eu_code(f, FILE_TYPE) for f in formats)
    media_ok = any(IANA.match(str(m)) for m in media_types if isinstance(m, URIRef))
    return [
        reachable("accessUrlStatusCode", DCAT.accessURL),
        has("downloadUrlAvailability", DCAT.downloadURL),
        reachable("downloadUrlStatusCode", DCAT.downloadURL),
        has("formatAvailability", DCTERMS.format),
        has("mediaTypeAvailability", DCAT.mediaType),
        Check(
            INDICATORS["formatMediaTypeVocabularyAlignment"],
            format_ok and media_ok,
            "EU file type and IANA media type"
            if format_ok and media_ok
            else ("" if format_ok else f"format {shown_format} is not an EU file-type IRI; ")
            + ("" if media_ok else "the media type is not an IANA media-types IRI"),
        ),
        listed("formatMediaTypeNonProprietary", NON_PROPRIETARY, "non-proprietary"),
        listed("formatMediaTypeMachineInterpretable", MACHINE_READABLE, "machine-readable"),
        has("licenceAvailability", DCTERMS.license),
        Check(
            INDICATORS["knownLicence"],
            bool(known),
            _short(known[0])
            if known
            else f"{', '.join(_short(x) for x in licences) or 'no licence'}: not an IRI of the EU "
            f"licence table ({LICENCE}CODE)",
        ),
        has("rightsAvailability", DCTERMS.rights),
        has("byteSizeAvailability", DCAT.byteSize),
        has("dateIssuedAvailability", DCTERMS.issued),
        has("dateModifiedAvailability", DCTERMS.modified),
    ]


def _eu_code(value: Node, table: str) -> bool:
    """Is `value` an IRI of this EU authority table (…/table/CODE)?"""
    code = re.escape(table) + r"[A-Z0-9_.-]+"
    return isinstance(value, URIRef) and re.fullmatch(code, value) is not None


def _status(value: Node, statuses: Mapping[str, UrlStatus]) -> UrlStatus:
    if isinstance(value, Literal):
        return UrlStatus(None, "a literal, not an IRI: nothing to request")
    return statuses.get(str(value), UrlStatus(None, "not checked"))


def _describe(status: UrlStatus) -> str:
    answer = f"HEAD {status.code}" if status.code is not None else "no answer"
    return f"{answer} ({status.note})" if status.note else answer


def _short(node: Node | None) -> str:
    if isinstance(node, Literal):
        text = str(node)
        return repr(text if len(text) <= 60 else text[:57] + "...")
    if isinstance(node, BNode):
        return "[blank node]"
    return f"<{node}>"
