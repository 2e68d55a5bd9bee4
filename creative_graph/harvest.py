"""What a portal does over HTTP before it scores a catalogue: harvest it, then check its URLs.

Like piveau's RDF importer, `fetch` GETs the catalogue, takes the RDF syntax from the
`Content-Type`, fails on a non-2xx answer or a non-RDF type, and follows Hydra paging
(`hydra:next` of a `PartialCollectionView`, or `hydra:nextPage` of a `PagedCollection`) to the
last page. Like piveau's URL checker, `check` sends one HEAD per URL and keeps its status code;
redirects are not followed (whether piveau follows them is unverified, so a redirect counts as
a failure). When HEAD fails, a GET says whether the URL works for people, to help the fix.
"""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from urllib.parse import urljoin

import httpx
from rdflib import Graph, Namespace
from rdflib.namespace import DCAT, RDF

from creative_graph.mqa import UrlStatus

HYDRA = Namespace("http://www.w3.org/ns/hydra/core#")
SYNTAXES = {  # Content-Type -> rdflib format
    "text/turtle": "turtle",
    "application/rdf+xml": "xml",
    "application/ld+json": "json-ld",
    "application/n-triples": "nt",
}
ACCEPT = "text/turtle, application/rdf+xml;q=0.9, application/ld+json;q=0.8"
MAX_PAGES = 10_000
USER_AGENT = "creative-graph-mqa (self-check before a portal harvests)"


class HarvestError(Exception):
    """The catalogue cannot be harvested: a page does not answer, or is not RDF."""


@dataclass
class Harvest:
    graph: Graph
    pages: list[str]
    notes: list[str] = field(default_factory=list)  # what a harvester would trip over


def client(timeout: float = 10.0) -> httpx.Client:
    return httpx.Client(timeout=timeout, follow_redirects=False, headers={"User-Agent": USER_AGENT})


def fetch(url: str, http: httpx.Client) -> Harvest:
    """Every page of the catalogue at `url`, merged into one graph."""
    harvest = Harvest(Graph(), [])
    next_url: str | None = url
    while next_url:
        if next_url in harvest.pages or len(harvest.pages) >= MAX_PAGES:
            raise HarvestError(f"{next_url}: the Hydra pages loop back or never end")
        harvest.pages.append(next_url)
        page = _page(next_url, http)
        harvest.graph += page
        next_url = _next(page, next_url, harvest)
    if (None, RDF.type, DCAT.Dataset) not in harvest.graph:
        harvest.notes.append("no subject is typed dcat:Dataset: a harvester takes nothing")
    return harvest


def _page(url: str, http: httpx.Client) -> Graph:
    try:
        response = http.get(url, headers={"Accept": ACCEPT}, follow_redirects=True)
    except httpx.HTTPError as error:
        raise HarvestError(f"{url}: {error}") from error
    if not response.is_success:
        raise HarvestError(f"{url}: HTTP {response.status_code}")
    media_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in SYNTAXES:
        raise HarvestError(f"{url}: Content-Type {media_type or '(none)'} is not an RDF syntax")
    try:
        return Graph().parse(data=response.content, format=SYNTAXES[media_type], publicID=url)
    except Exception as error:  # rdflib raises many kinds on bad input
        raise HarvestError(f"{url}: not parseable as {media_type}: {error}") from error


def _next(page: Graph, url: str, harvest: Harvest) -> str | None:
    for view, link in (
        (HYDRA.PartialCollectionView, HYDRA.next),
        (HYDRA.PagedCollection, HYDRA.nextPage),
    ):
        for node in page.subjects(RDF.type, view):
            if (None, HYDRA.totalItems, None) not in page:
                harvest.notes.append(f"{url}: no hydra:totalItems (piveau reads it on every page)")
            following = page.value(node, link)
            if following is not None:
                return urljoin(url, str(following))  # an IRI or a literal, maybe relative
    return None


def check(urls: Iterable[str], http: httpx.Client, workers: int = 8) -> dict[str, UrlStatus]:
    """The HEAD status of each URL, a few at a time."""
    targets = sorted(set(urls))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return dict(zip(targets, pool.map(lambda u: _head(u, http), targets), strict=True))


def _head(url: str, http: httpx.Client) -> UrlStatus:
    if not url.startswith(("http://", "https://")):
        return UrlStatus(None, "not an HTTP(S) URL")
    try:
        response = http.head(url)
    except httpx.HTTPError as error:
        return UrlStatus(None, f"{type(error).__name__}: {error}")
    if response.is_success:
        return UrlStatus(response.status_code)
    if response.is_redirect:
        target = response.headers.get("location", "?")
        return UrlStatus(response.status_code, f"redirects to {target}; only 2xx counts")
    return UrlStatus(response.status_code, _get_instead(url, http))


def _get_instead(url: str, http: httpx.Client) -> str:
    """Whether GET works where HEAD did not (the body is not read)."""
    try:
        with http.stream("GET", url) as response:
            return f"GET answers {response.status_code}; the portal sends HEAD"
    except httpx.HTTPError as error:
        return f"GET fails too: {type(error).__name__}"
