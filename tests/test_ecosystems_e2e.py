"""Ecosystem and network pages: territory, networks with role and period, members, counts, map."""

from __future__ import annotations

import csv
import html
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from conftest import BASE_IRI, ROOT, LiveServer, copy_source, run_server
from rdflib import Graph, URIRef
from rdflib.namespace import SKOS

from creative_graph.settings import Settings
from creative_graph.store import StoreReader
from ingest.manifest import load_manifest
from ingest.pipeline import ingest_source

pytestmark = pytest.mark.e2e

STEWARD = ROOT / "data" / "sources" / "steward-example"
HOSTILE = "</script><script>alert(1)</script>"
SCRIPT_IRI = "javascript:alert(1)"  # a valid IRI: the shapes only ask a territory to be an IRI
NUTS = "http://data.europa.eu/nuts/code/BE100"
ECOSYSTEM, NETWORK = f"{BASE_IRI}id/ecosystem/brussels", f"{BASE_IRI}id/network/ring"
LARGE, EMPTY = f"{BASE_IRI}id/ecosystem/large", f"{BASE_IRI}id/ecosystem/empty"
LARGE_SIZE = 105  # more than a page of members
# steward rows that join the ecosystem: directly (org:memberOf) or by a membership with a role
DIRECT, BY_MEMBERSHIP = ("mad", "imal", "canal-makers"), "shared-studio"


@dataclass
class Ecosystems:
    server: LiveServer
    actors: dict[str, str]  # steward row id -> actor IRI
    rows: dict[str, dict[str, str]]  # steward row id -> CSV row


def _large(n: int) -> str:
    """The IRI of "Member {n}" of the large ecosystem: IRIs sort the other way from names."""
    return f"{BASE_IRI}id/actor/large-{LARGE_SIZE + 1 - n:03d}"


def _source(folder: Path, name: str, turtle: str) -> Path:
    folder.mkdir(parents=True)
    (folder / "data.ttl").write_text(turtle, encoding="utf-8")
    (folder / "source.toml").write_text(
        f'name = "{name}"\ntitle = "Ecosystems for tests"\nmapper = "rdf"\nfiles = ["data.ttl"]\n'
        'publisher = "tests"\nattribution = "tests"\n'
        '[licence]\nname = "CC BY 4.0"\niri = "https://creativecommons.org/licenses/by/4.0/"\n',
        encoding="utf-8",
    )
    return folder


def _turtle(actors: dict[str, str]) -> str:
    """An ecosystem in a network (founding member since 2017-07-19), steward actors as its
    members, a member with a hostile name, a large ecosystem and an empty one."""
    direct = "\n".join(f"<{actors[row]}> org:memberOf <{ECOSYSTEM}> ." for row in DIRECT)
    large = "\n".join(
        f'<{_large(n)}> a org:Organization ; skos:prefLabel "Member {n:03d}"@en'
        f" ; org:classification at:studio ; org:memberOf <{LARGE}> ."
        for n in range(1, LARGE_SIZE + 1)
    )
    return f"""
@prefix cg: <https://w3id.org/creative-graph/ns#> . @prefix dct: <http://purl.org/dc/terms/> .
@prefix org: <http://www.w3.org/ns/org#> . @prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix time: <http://www.w3.org/2006/time#> . @prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix at: <https://w3id.org/creative-graph/concept/actor-type/> .
@prefix role: <https://w3id.org/creative-graph/concept/membership-role/> .

<{NETWORK}> a cg:EcosystemNetwork ; skos:prefLabel "The Creative Ring (test)"@en ;
    org:classification at:network .
<{ECOSYSTEM}> a cg:CreativeEcosystem ;
    skos:prefLabel "Brussels Creative (test)"@en , "Bruxelles créative (test)"@fr ;
    org:classification at:network ; dct:spatial <{NUTS}> ;
    dct:description "The creative ecosystem of the Brussels-Capital Region (test)."@en ;
    org:memberOf <{NETWORK}> .
<{NUTS}> skos:prefLabel "Région de Bruxelles-Capitale"@fr .
<{BASE_IRI}id/membership/brussels-ring> a org:Membership ;
    org:member <{ECOSYSTEM}> ; org:organization <{NETWORK}> ; org:role role:founding-member ;
    org:memberDuring [ a time:Interval ;
        time:hasBeginning [ a time:Instant ; time:inXSDDate "2017-07-19"^^xsd:date ] ] .
{direct}
<{BASE_IRI}id/membership/studio> a org:Membership ; org:member <{actors[BY_MEMBERSHIP]}> ;
    org:organization <{ECOSYSTEM}> ; org:role role:full-member .
<{BASE_IRI}id/actor/hostile> a org:Organization ; skos:prefLabel "{HOSTILE}"@en ;
    org:classification at:studio ; org:memberOf <{ECOSYSTEM}> .

<{LARGE}> a cg:CreativeEcosystem ; skos:prefLabel "Large (test)"@en ;
    org:classification at:network ;
    dct:spatial <http://vocab.belgif.be/auth/refnis2025/21001> , <{SCRIPT_IRI}> .
{large}
<{EMPTY}> a cg:CreativeEcosystem ; skos:prefLabel "Empty (test)"@en ;
    org:classification at:network ; dct:spatial <http://vocab.belgif.be/auth/refnis2025/21004> .
"""


@pytest.fixture(scope="module")
def ecosystems(tmp_path_factory: pytest.TempPathFactory, validator) -> Iterator[Ecosystems]:
    base = tmp_path_factory.mktemp("ecosystems")
    settings = Settings(store=base / "store", base_iri=BASE_IRI, sources=base / "sources")
    steward = copy_source(STEWARD, base / "steward")
    assert ingest_source(load_manifest(steward), settings, validator).status == "loaded"
    with (STEWARD / "hubs.csv").open(encoding="utf-8", newline="") as sheet:
        rows = {row["id"]: row for row in csv.DictReader(sheet)}
    reader = StoreReader(settings.store)
    named = 'SELECT ?a WHERE {{ ?a <{}> "{}"@en }}'
    actors = {
        key: reader.select(named.format(SKOS.prefLabel, row["name_en"]))[0]["a"]
        for key, row in rows.items()
    }
    source = _source(base / "ecosystems", "ecosystems", _turtle(actors))
    outcome = ingest_source(load_manifest(source), settings, validator)
    assert outcome.status == "loaded", outcome.violations[:5]
    for server in run_server(settings):
        yield Ecosystems(server, actors, rows)


def _page(server: LiveServer, iri: str, query: str = "") -> httpx.Response:
    path = iri.removeprefix(BASE_IRI).replace("id/", "doc/", 1)
    return httpx.get(f"{server.url}/{path}{query}", headers={"Accept": "text/html"})


def _table(page: str, css: str) -> list[list[str]]:
    """The body rows of the table of class `css`, each cell as the text a reader sees."""
    (body,) = re.findall(rf'<table class="{css}">.*?<tbody>(.*?)</tbody>', page, re.S)
    return [
        [
            html.unescape(re.sub(r"<[^>]+>", "", cell)).strip()
            for cell in re.findall(r"<td[^>]*>(.*?)</td>", row)
        ]
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


def _json_ld(page: str) -> dict:
    (script,) = re.findall(r'<script type="application/ld\+json">(.*?)</script>', page, re.S)
    assert "<" not in script  # nothing in it can end the script element or open another
    return json.loads(script)


def _type_labels() -> dict[str, str]:
    schemes = Graph().parse(ROOT / "ontology" / "concepts" / "actor-type.ttl")
    return {
        str(concept).rsplit("/", 1)[1]: str(label)
        for concept, label in schemes.subject_objects(SKOS.prefLabel)
        if label.language == "en"
    }


def test_the_ecosystem_iri_answers_303_and_its_page_names_and_places_it(ecosystems) -> None:
    server = ecosystems.server
    response = httpx.get(server.url + "/id/ecosystem/brussels")
    assert response.status_code == 303
    assert response.headers["location"] == "/doc/ecosystem/brussels"
    page = _page(server, ECOSYSTEM)
    assert page.status_code == 200
    assert "<h1>Brussels Creative (test)</h1>" in page.text
    assert "Bruxelles créative (test)" in page.text  # every name, not only the title
    assert "The creative ecosystem of the Brussels-Capital Region (test)." in page.text
    # the territory by the label the graph gives it, linked to its IRI
    assert f'Territory: <a href="{NUTS}">Région de Bruxelles-Capitale</a>' in page.text


def test_the_ecosystem_page_lists_its_network_with_role_and_period(ecosystems) -> None:
    page = _page(ecosystems.server, ECOSYSTEM).text
    assert _table(page, "networks") == [
        ["The Creative Ring (test)", "Founding member", "since 2017-07-19"]
    ]
    assert '<a href="/doc/network/ring">The Creative Ring (test)</a>' in page


def test_the_ecosystem_page_lists_its_members_with_type_and_municipality(ecosystems) -> None:
    page = _page(ecosystems.server, ECOSYSTEM).text
    labels = _type_labels()
    expected = [
        [row["name_en"], labels[row["type"]], row["municipality"]]
        for key, row in ecosystems.rows.items()
        if key in (*DIRECT, BY_MEMBERSHIP)
    ] + [[HOSTILE, labels["studio"], ""]]
    members = _table(page, "members")
    assert sorted(row[:3] for row in members) == sorted(expected)
    names = [row[0] for row in members]
    assert names == sorted(names, key=str.lower)  # in the order of the names shown
    # the one that joined by a membership shows its role; the others have none
    roles = {row[0]: row[3] for row in members}
    assert roles.pop(ecosystems.rows[BY_MEMBERSHIP]["name_en"]) == "Full member"
    assert set(roles.values()) == {""}
    for key in (*DIRECT, BY_MEMBERSHIP):  # each links to its own page
        assert ecosystems.actors[key].replace(BASE_IRI + "id/", 'href="/doc/') in page
    assert "Members (5)" in page
    # members appear under "Members", not again under "Pointed to by"
    assert "Pointed to by" not in page


def test_the_ecosystem_page_counts_members_by_type(ecosystems) -> None:
    page = _page(ecosystems.server, ECOSYSTEM).text
    labels = _type_labels()
    kinds = [ecosystems.rows[key]["type"] for key in (*DIRECT, BY_MEMBERSHIP)] + ["studio"]
    expected = {labels[kind]: str(kinds.count(kind)) for kind in kinds}
    assert dict(_table(page, "by-type")) == expected


def test_members_with_a_point_are_on_the_map_linked_to_their_pages(ecosystems) -> None:
    page = _page(ecosystems.server, ECOSYSTEM).text
    svg = page.split("<svg")[1].split("</svg>")[0]
    located = [key for key in (*DIRECT, BY_MEMBERSHIP) if ecosystems.rows[key]["longitude"]]
    drawn = re.findall(r'<a href="([^"]+)"><circle class="point"[^>]*><title>([^<]+)</title>', svg)
    assert sorted(drawn) == sorted(
        (ecosystems.actors[key].replace(BASE_IRI + "id/", "/doc/"), ecosystems.rows[key]["name_en"])
        for key in located
    )
    # the municipalities of every member are shaded, with how many members are there
    shaded = re.findall(r'<path class="municipality here" d="[^"]+"><title>([^<]+)</title>', svg)
    assert "Anderlecht · 2 members" in shaded  # Canal Makers and Shared Studio, no point each
    assert "http://" not in svg.replace('xmlns="http://www.w3.org/2000/svg"', "")


def test_a_hostile_member_name_is_escaped_in_the_page_and_in_its_json_ld(ecosystems) -> None:
    page = _page(ecosystems.server, ECOSYSTEM).text
    assert "<script>alert(1)</script>" not in page
    assert "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in page
    names = [member["name"] for member in _json_ld(page)["member"] if "name" in member]
    assert HOSTILE in names  # intact once parsed, unable to close the script element


def test_an_iri_that_runs_a_script_is_shown_but_never_linked(ecosystems) -> None:
    page = _page(ecosystems.server, LARGE).text
    # in the territory line and in the table of every statement
    assert page.count(SCRIPT_IRI) >= 2
    assert not re.search(r'href="\s*javascript:', page, re.I)


def test_the_ecosystem_json_ld_says_territory_network_role_and_members(ecosystems) -> None:
    data = _json_ld(_page(ecosystems.server, ECOSYSTEM).text)
    assert data["@type"] == "Organization" and data["@id"] == ECOSYSTEM
    assert data["name"] == "Brussels Creative (test)"
    assert data["alternateName"] == ["Bruxelles créative (test)"]
    assert data["areaServed"] == [
        {"@type": "AdministrativeArea", "@id": NUTS, "name": "Région de Bruxelles-Capitale"}
    ]
    assert data["memberOf"] == [
        {
            "@type": "OrganizationRole",
            "memberOf": {
                "@type": "Organization",
                "@id": NETWORK,
                "name": "The Creative Ring (test)",
            },
            "roleName": "Founding member",
            "startDate": "2017-07-19",
        }
    ]
    members = {
        (m.get("member", m)["@id"], m.get("roleName")) for m in data["member"]
    }  # plain Organization, or an OrganizationRole holding it
    assert members == {
        *((ecosystems.actors[key], None) for key in DIRECT),
        (ecosystems.actors[BY_MEMBERSHIP], "Full member"),
        (f"{BASE_IRI}id/actor/hostile", None),
    }
    # the graph parses as JSON-LD with schema.org's context given inline (nothing fetched)
    data["@context"] = {"@vocab": "https://schema.org/"}
    graph = Graph().parse(data=json.dumps(data), format="json-ld")
    assert (URIRef(ECOSYSTEM), URIRef("https://schema.org/areaServed"), URIRef(NUTS)) in graph


def test_the_network_page_lists_its_member_ecosystems_with_role_period_territory(
    ecosystems,
) -> None:
    page = _page(ecosystems.server, NETWORK).text
    assert "Network of creative ecosystems" in page and "Member ecosystems (1)" in page
    assert _table(page, "members") == [
        [
            "Brussels Creative (test)", "Network", "Région de Bruxelles-Capitale",
            "Founding member", "since 2017-07-19",
        ]
    ]  # fmt: skip
    (member,) = _json_ld(page)["member"]
    assert member["member"]["@id"] == ECOSYSTEM and member["roleName"] == "Founding member"


def test_an_ecosystem_without_members_says_so(ecosystems) -> None:
    page = _page(ecosystems.server, EMPTY).text
    assert "Members (0)" in page and "No members are recorded yet." in page
    assert "not recorded as a member of any network" in page
    # a Brussels municipality the graph does not label is named from the bundled boundaries
    assert "Territory: <a href=" in page and ">Bruxelles / Brussel</a>" in page
    assert "member" not in _json_ld(page)


def test_a_large_ecosystem_is_listed_a_page_at_a_time(ecosystems) -> None:
    server = ecosystems.server
    first = _page(server, LARGE).text
    names = [row[0] for row in _table(first, "members")]
    assert names == [f"Member {n:03d}" for n in range(1, 101)]  # by name, 100 a page
    assert f"Members ({LARGE_SIZE})" in first and f"Members 1\u2013100 of {LARGE_SIZE}." in first
    assert dict(_table(first, "by-type")) == {"Studio": str(LARGE_SIZE)}  # counts all of them
    assert len(_json_ld(first)["member"]) == 100
    assert 'rel="next" href="/doc/ecosystem/large?page=2"' in first
    second = _page(server, LARGE, "?page=2").text
    assert [row[0] for row in _table(second, "members")] == [
        f"Member {n:03d}" for n in range(101, LARGE_SIZE + 1)
    ]
    assert 'rel="prev" href="/doc/ecosystem/large?page=1"' in second and 'rel="next"' not in second
    assert _page(server, LARGE, "?page=3").status_code == 404
    assert _page(server, LARGE, "?page=0").status_code == 422
    # the SPARQL link runs the query that lists every member
    (link,) = re.findall(r'<a href="(/sparql\?query=[^"]+)">', first)
    answer = httpx.get(
        server.url + link.replace("&amp;", "&"),
        headers={"Accept": "application/sparql-results+json"},
    )
    listed = {b["member"]["value"] for b in answer.json()["results"]["bindings"]}
    assert listed == {_large(n) for n in range(1, LARGE_SIZE + 1)}


def test_the_ecosystem_document_is_still_rdf_for_machines(ecosystems) -> None:
    response = httpx.get(
        ecosystems.server.url + "/doc/ecosystem/brussels", headers={"Accept": "text/turtle"}
    )
    assert response.status_code == 200 and "Accept" in response.headers["vary"]
    graph = Graph().parse(data=response.text, format="turtle")
    assert (URIRef(ECOSYSTEM), URIRef("http://purl.org/dc/terms/spatial"), URIRef(NUTS)) in graph
