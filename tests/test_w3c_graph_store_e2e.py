"""The W3C SPARQL 1.1 Graph Store HTTP Protocol tests, run against the real server over HTTP.

Each manifest test becomes one pytest test, on an emptied store: its requests are sent in
order as the manifest writes them (path prefix `/gsp` -> our `/store`, with the write token),
`$LOCATION$` carries a created graph's IRI to the next request, and each response is judged
by status, headers, `Location` and graph isomorphism. Tests needing a feature we do not offer
are skipped with the reason `docs/CONFORMANCE.md` gives.

The test data (a foaf:Person without foaf:name) does not meet the project's shapes, and with
them the server rightly refuses it (422, `test_writes_e2e.py`); the protocol is judged with an
empty shapes file (`WRITE_SHAPES`), so that only the protocol is under test.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from conftest import LiveServer, run_server
from w3c_protocol import ProtocolTest, load_graph_store

from creative_graph.settings import Settings
from creative_graph.store import StoreWriter

pytestmark = pytest.mark.e2e

TESTS = load_graph_store()
TOKEN = "w3c-graph-store-runner-token-0123"
OFFERED = {"IndirectGraphIdentification", "POSTGraphCreation"}
NOT_APPLICABLE = {
    test.id: "direct graph identification is not offered: a graph IRI {BASE_IRI}graph/{name} "
    "dereferences to the dataset's description; graphs are named with /store?graph=<IRI>"
    for test in TESTS
    if set(test.requires) - OFFERED
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("gsp")
    shapes = folder / "no-shapes.ttl"
    shapes.write_text("# no shapes: only the protocol is under test\n", encoding="utf-8")
    settings = Settings(store=folder / "store", write_token=TOKEN, write_shapes=shapes)
    StoreWriter(settings.store).close()
    yield from run_server(settings)


def empty(store: Path) -> None:
    with StoreWriter(store) as writer:
        writer.update("DROP ALL")
        writer.publish()


def test_the_manifests_are_read_whole() -> None:
    assert len(TESTS) == 13
    assert sum(1 for test in TESTS if test.id not in NOT_APPLICABLE) == 9


@pytest.mark.parametrize("test", TESTS, ids=lambda t: t.id)
def test_w3c_graph_store(server: LiveServer, test: ProtocolTest) -> None:
    if test.id in NOT_APPLICABLE:
        pytest.skip(NOT_APPLICABLE[test.id])
    empty(server.settings.store)
    location = None
    with httpx.Client(base_url=server.url, timeout=30) as client:
        for number, (request, expected) in enumerate(test.steps, 1):
            path = "/store" + request.path.removeprefix("/gsp")
            if "$LOCATION$" in path:
                assert location, "a request uses $LOCATION$ before any response gave one"
                path = path.replace("$LOCATION$", quote(location, safe=""))
            headers = dict(request.headers) | {"authorization": f"Bearer {TOKEN}"}
            response = client.request(request.method, path, headers=headers, content=request.body)
            problems = expected.problems(
                response.status_code,
                response.headers.get("content-type", ""),
                response.content,
                dict(response.headers),
            )
            assert not problems, (
                f"{test.id} ({test.name}), request {number} {request.method} {path}: "
                + "; ".join(problems)
                + f"\n{response.text[:300]}"
            )
            location = response.headers.get("location", location)


def test_the_documented_exceptions_are_the_skipped_tests() -> None:
    doc = (Path(__file__).parents[1] / "docs" / "CONFORMANCE.md").read_text(encoding="utf-8")
    section = doc.split("## Graph Store HTTP Protocol", 1)[1]
    documented = {line.split("`")[1] for line in section.splitlines() if "not applicable" in line}
    assert documented == set(NOT_APPLICABLE)


def test_the_judge_fails_wrong_graphs_and_headers() -> None:
    """The runner can fail: a different graph, a wrong media type or a missing Location."""
    test = next(t for t in TESTS if t.id == "put_get_repeat_indirect")
    _, expected = test.steps[1]
    assert expected.graph is not None
    wrong = b"<http://www.example/gsp/person/1> a <http://xmlns.com/foaf/0.1/Person> ."
    assert expected.problems(200, "text/turtle", wrong, {"content-type": "text/turtle"})
    assert expected.problems(200, "application/json", b"{}", {"content-type": "application/json"})
    created = next(t for t in TESTS if t.id == "post_get_new_graph")
    assert created.steps[0][1].problems(201, "", b"", {}) == ["no Location header"]
