"""The change stream (LDES): a consumer replicates the actors from scratch, then stays in sync.

The consumer below is written from the specifications, not from our code: it starts at the
stream's IRI, finds the root page through `tree:view` (TREE, initialisation), reads each page's
members in order with their payload from the named graph of the member (TREE, member
extraction), follows `tree:relation`s to the next page, and keeps its state (members seen, the
last page and its ETag) to come back later. It must end with the actors the store holds.
"""

from __future__ import annotations

import csv
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest
from conftest import BASE_IRI, run_server
from pydantic import SecretStr

from creative_graph.descriptions import actors_query, describe_query
from creative_graph.ldes import PAGE_SIZE, ChangeLog
from creative_graph.store import QueryOutput, StoreReader
from ingest.manifest import load_manifest
from ingest.pipeline import ingest_source

pytestmark = pytest.mark.e2e

LDES = "https://w3id.org/ldes#"
TREE = "https://w3id.org/tree#"
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
STEWARD = Path(__file__).parents[1] / "data" / "sources" / "steward-example"
TOKEN = "ldes-e2e-token-0123456789abcdefgh"


Quads = list[ox.Quad]


def _match(quads: Quads, s=None, p=None, o=None, g=None) -> Quads:  # type: ignore[no-untyped-def]
    return [
        q
        for q in quads
        if (s is None or q.subject == s)
        and (p is None or q.predicate == p)
        and (o is None or q.object == o)
        and (g is None or q.graph_name == g)
    ]


def _one(dataset: Quads, subject: object, predicate: str) -> ox.NamedNode | None:
    found = [q.object for q in _match(dataset, subject, ox.NamedNode(predicate))]
    assert len(found) <= 1, (subject, predicate, found)
    return found[0] if found else None  # type: ignore[return-value]


@dataclass
class Replica:
    """An LDES consumer's state: actors rebuilt from versions, and where to resume."""

    stream_url: str
    actors: dict[str, set[str]] = field(default_factory=dict)
    seen: set[str] = field(default_factory=set)
    resume: str | None = None  # the last page read (not yet immutable)
    etag: str | None = None
    kinds: dict[str, str] = field(default_factory=dict)  # as:Create -> "create" ...
    version_of: ox.NamedNode | None = None
    timestamps: list[str] = field(default_factory=list)
    fetched: list[str] = field(default_factory=list)

    def _get(self, client: httpx.Client, url: str, etag: str | None = None) -> httpx.Response:
        headers = {"Accept": "application/trig"} | ({"If-None-Match": etag} if etag else {})
        response = client.get(url, headers=headers)
        assert response.status_code in (200, 304), (url, response.text)
        self.fetched.append(url)
        return response

    def start(self, client: httpx.Client) -> None:
        response = self._get(client, self.stream_url)
        dataset = list(ox.parse(response.content, ox.RdfFormat.TRIG, base_iri=self.stream_url))
        stream = ox.NamedNode(self.stream_url)
        views = list(_match(dataset, stream, ox.NamedNode(TREE + "view"), None))
        assert len(views) == 1  # exactly one root node
        self.resume = views[0].object.value
        for kind in ("Create", "Update", "Delete"):
            declared = _one(dataset, stream, f"{LDES}version{kind}Object")
            assert declared is not None
            self.kinds[declared.value] = kind
        self.version_of = _one(dataset, stream, LDES + "versionOfPath")

    def sync(self, client: httpx.Client) -> int:
        """Read from the resume page on; returns the number of new members applied."""
        if self.resume is None:
            self.start(client)
        applied = 0
        url, etag = self.resume, self.etag
        while url is not None:
            response = self._get(client, url, etag)
            if response.status_code == 304:
                break
            dataset = list(ox.parse(response.content, ox.RdfFormat.TRIG, base_iri=url))
            members = [
                q.object
                for q in ox.parse(response.content, ox.RdfFormat.TRIG, base_iri=url)
                if q.subject == ox.NamedNode(self.stream_url)
                and q.predicate == ox.NamedNode(TREE + "member")
            ]  # document order: the order of the stream
            for member in members:
                if member.value in self.seen:
                    continue
                self._apply(dataset, member)
                applied += 1
            relations = list(
                _match(dataset, ox.NamedNode(url), ox.NamedNode(TREE + "relation"), None)
            )
            if relations:
                (relation,) = relations
                url = _one(dataset, relation.object, TREE + "node").value  # type: ignore[arg-type, union-attr]
                etag = None
            else:
                self.resume, self.etag = url, response.headers["etag"]
                url = None
        return applied

    def _apply(self, dataset: Quads, member: ox.NamedNode) -> None:
        assert self.version_of is not None
        types = {q.object.value for q in _match(dataset, member, RDF_TYPE, None)}
        (kind,) = [self.kinds[t] for t in types if t in self.kinds]
        actor = _one(dataset, member, self.version_of.value)
        assert actor is not None
        stamp = _one(dataset, member, "http://www.w3.org/ns/prov#generatedAtTime")
        assert stamp is not None
        self.timestamps.append(stamp.value)
        payload = {
            f"{q.subject} {q.predicate} {q.object} ."
            for q in _match(dataset, None, None, None, member)
        }
        if kind == "Delete":
            assert actor.value in self.actors and not payload
            del self.actors[actor.value]
        else:
            assert (actor.value in self.actors) == (kind == "Update"), (kind, actor)
            self.actors[actor.value] = payload
        self.seen.add(member.value)


def store_actors(settings) -> dict[str, set[str]]:
    """What the store holds: each actor with its description (the same as its page)."""
    reader = StoreReader(settings.store)
    actors = {}
    for row in reader.select(actors_query()):
        output = reader.query(
            describe_query(row["actor"], BASE_IRI),
            results_format=None,
            graph_format=ox.RdfFormat.N_TRIPLES,
        )
        assert isinstance(output, QueryOutput)
        actors[row["actor"]] = {
            f"{t.subject} {t.predicate} {t.object} ."
            for t in ox.parse(output.body, ox.RdfFormat.N_TRIPLES)
        }
    return actors


def test_a_consumer_replicates_the_actors_then_follows_ingests_and_writes(
    settings, source_copy, validator, tmp_path: Path
) -> None:
    steward = tmp_path / "steward"
    shutil.copytree(STEWARD, steward)
    for source in (source_copy, steward):
        ingest_source(load_manifest(source), settings, validator)
    log = ChangeLog(settings.store)
    first = log.sync_latest(StoreReader(settings.store), BASE_IRI)
    expected = store_actors(settings)
    assert first.created == len(expected) > PAGE_SIZE  # the stream spans several pages
    assert (first.updated, first.deleted) == (0, 0)
    assert log.sync_latest(StoreReader(settings.store), BASE_IRI).appended == 0  # same snapshot

    writable = settings.model_copy(update={"write_token": SecretStr(TOKEN)})
    for server in run_server(writable):
        replica = Replica(f"{BASE_IRI}ldes/actors")
        # the stream's IRIs are under BASE_IRI; the consumer reaches them on this server
        client = httpx.Client(
            base_url=server.url,
            timeout=30,
            transport=_Rebase(server.url),
        )
        assert replica.sync(client) == len(expected)
        assert replica.actors == expected
        assert replica.timestamps == sorted(replica.timestamps)

        # Immutable full pages; the last one is revalidated; nothing new means 304.
        page_one = client.get(f"{BASE_IRI}ldes/actors/1")
        assert "immutable" in page_one.headers["cache-control"]
        assert "Accept" in page_one.headers["vary"]
        last = client.get(replica.resume)  # type: ignore[arg-type]
        assert last.headers["cache-control"] == "no-cache"
        assert replica.sync(client) == 0
        pages = -(-len(expected) // PAGE_SIZE)
        assert client.get(f"{BASE_IRI}ldes/actors/{pages + 1}").status_code == 404
        assert client.head(f"{BASE_IRI}ldes/actors/1").status_code == 200
        for accept in ("application/n-quads", "application/ld+json"):
            other = client.get(f"{BASE_IRI}ldes/actors/1", headers={"Accept": accept})
            assert other.headers["content-type"].startswith(accept)
            kind = ox.RdfFormat.N_QUADS if "quads" in accept else ox.RdfFormat.JSON_LD
            assert len(list(ox.parse(other.content, kind))) == len(
                list(ox.parse(page_one.content, ox.RdfFormat.TRIG))
            )
        assert (
            client.get(f"{BASE_IRI}ldes/actors/1", headers={"Accept": "text/csv"}).status_code
            == 406
        )
        member = client.get(f"{BASE_IRI}ldes/actors/v/1", follow_redirects=False)
        assert (member.status_code, member.headers["location"]) == (303, "/ldes/actors/1")

        # A steward edits the source: one row gone, one renamed, one new; the CLI then syncs.
        _edit_steward_csv(steward / "hubs.csv")
        ingest_source(load_manifest(steward), settings, validator)
        edited = log.sync_latest(StoreReader(settings.store), BASE_IRI)
        middle = store_actors(settings)
        assert (edited.created, edited.updated, edited.deleted) == (
            len(middle.keys() - expected.keys()),
            sum(1 for a in middle.keys() & expected.keys() if middle[a] != expected[a]),
            len(expected.keys() - middle.keys()),
        )
        assert edited.created >= 1 and edited.updated >= 1 and edited.deleted >= 1
        # ... and an authorised write names an actor the edit left alone: the write appends.
        target = sorted(a for a in middle if middle[a] == expected.get(a))[0]
        update = (
            "INSERT DATA { GRAPH <" + BASE_IRI + "graph/steward-example> { <" + target + "> "
            '<http://www.w3.org/2004/02/skos/core#altLabel> "Also known as this"@en } }'
        )
        before = log.count()
        written = client.post(
            "/sparql",
            content=update,
            headers={
                "Content-Type": "application/sparql-update",
                "Authorization": f"Bearer {TOKEN}",
            },
        )
        assert written.status_code in (200, 204), written.text
        assert log.count() == before + 1
        now = store_actors(settings)
        assert now[target] - middle[target] == {
            f'<{target}> <http://www.w3.org/2004/02/skos/core#altLabel> "Also known as this"@en .'
        }

        fetched = len(replica.fetched)
        applied = replica.sync(client)
        assert applied == edited.appended + 1
        assert replica.actors == now
        assert replica.timestamps == sorted(replica.timestamps)
        assert replica.fetched[fetched] == f"{BASE_IRI}ldes/actors/{pages}"  # resumed there
        assert replica.fetched.count(f"{BASE_IRI}ldes/actors/1") == 1


def _edit_steward_csv(path: Path) -> None:
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        columns, rows = list(reader.fieldnames or []), list(reader)
    relations = ("member_of", "partner_of", "hosted_by", "funded_by")
    named = {v for row in rows for c in relations for v in row[c].split(";") if v}
    gone = next(row for row in rows if row["id"] not in named)
    rows.remove(gone)
    rows[0]["name_en"] += " (renamed)"
    new = dict(rows[-1], id="new-studio", name_en="A New Studio", name_fr="", name_nl="")
    new.update(website="https://new-studio.example.be/", enterprise_number="")
    new.update({c: "" for c in relations})
    rows.append(new)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


class _Rebase(httpx.HTTPTransport):
    """Sends requests for BASE_IRI to the test server (as a proxy or DNS would)."""

    def __init__(self, server_url: str) -> None:
        super().__init__()
        self.server = httpx.URL(server_url)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if str(request.url).startswith(BASE_IRI):
            request.url = request.url.copy_with(
                scheme=self.server.scheme, host=self.server.host, port=self.server.port
            )
        return super().handle_request(request)
