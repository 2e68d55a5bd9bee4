"""The W3C SPARQL 1.1 Protocol tests, run against the real server over HTTP.

Each manifest test becomes one pytest test: its graphs are loaded into the store and published
(the running server picks the snapshot up), its requests are sent in order exactly as the
manifest writes them (path prefix `/sparql/` -> our `/sparql`), and each response is judged
by the manifest's expectations. The server has writes on, and every request carries the
write token (writes need it; the manifest, written for open servers, has no way to say so).
Tests that are not applicable are skipped with the reason that `docs/CONFORMANCE.md` gives.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from conftest import LiveServer, run_server
from w3c_protocol import ProtocolTest, load

from creative_graph.settings import Settings
from creative_graph.store import StoreWriter, canonical_lines

pytestmark = pytest.mark.e2e

TESTS = load()
NOT_APPLICABLE: dict[str, str] = {}
TOKEN = "w3c-runner-token-0123456789abcdef"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    settings = Settings(store=tmp_path_factory.mktemp("w3c") / "store", write_token=TOKEN)
    StoreWriter(settings.store).close()
    yield from run_server(settings)


def publish(store: Path, graphs: tuple[tuple[str, Path], ...]) -> None:
    """Make the published store hold exactly these named graphs."""
    with StoreWriter(store) as writer:
        for name in writer.named_graphs():
            writer.replace_graph(name, set())
        for name, path in graphs:
            writer.replace_graph(name, canonical_lines(path.read_bytes()))
        writer.publish()


def test_the_manifest_is_read_whole() -> None:
    assert len(TESTS) == 34
    assert all(test.approved and test.steps for test in TESTS)
    assert {test.id for test in TESTS if not test.is_update} >= {
        "query_post_form", "query_get", "bad_query_syntax", "bad_query_non_utf8",
    }  # fmt: skip


@pytest.mark.parametrize("test", TESTS, ids=lambda t: t.id)
def test_w3c_protocol(server: LiveServer, test: ProtocolTest) -> None:
    if test.id in NOT_APPLICABLE:
        pytest.skip(NOT_APPLICABLE[test.id])
    publish(server.settings.store, test.graph_data)
    with httpx.Client(base_url=server.url, timeout=30) as client:
        for number, (request, expected) in enumerate(test.steps, 1):
            path = "/sparql" + request.path.removeprefix("/sparql/")
            headers = dict(request.headers) | {"authorization": f"Bearer {TOKEN}"}
            response = client.request(request.method, path, headers=headers, content=request.body)
            problems = expected.problems(
                response.status_code, response.headers.get("content-type", ""), response.content
            )
            assert not problems, (
                f"{test.id} ({test.name}), request {number} {request.method} {path}: "
                + "; ".join(problems)
                + f"\n{response.text[:300]}"
            )


def test_the_documented_exceptions_are_the_skipped_tests() -> None:
    doc = (Path(__file__).parents[1] / "docs" / "CONFORMANCE.md").read_text(encoding="utf-8")
    documented = {
        line.split("`")[1]
        for line in doc.splitlines()
        if "not applicable yet" in line and "`" in line
    }
    assert documented == set(NOT_APPLICABLE)


def test_the_judge_fails_wrong_answers() -> None:
    """The runner can fail: a wrong status, format or ASK answer is reported in words."""
    ask = next(t for t in TESTS if t.id == "query_get")
    _, expected = ask.steps[0]
    assert expected.problems(200, "application/sparql-results+json", b'{"boolean": true}') == []
    assert expected.problems(200, "application/sparql-results+json", b'{"boolean": false}')
    assert expected.problems(200, "text/plain", b"true")
    assert expected.problems(500, "application/sparql-results+json", b'{"boolean": true}')
