"""The query page in a real browser: YASGUI (from npm) in headless Debian Chromium, by Playwright.

A user opens /sparql, picks an example query, runs it and reads the results table; the page
must reach nothing but this server. Without npm the page is a plain form whose example links
run the same queries. The API documentation at /docs (Swagger UI, from npm too) likewise.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import httpx
import pytest
from conftest import LiveServer
from test_named_queries_e2e import demo  # noqa: F401 (every bundled source, served)

from endpoint import app as app_module
from endpoint import named_queries
from endpoint.named_queries import load_queries

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# what Chromium must not do on a machine without internet: background calls to Google
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip


def _missing(what: str, how: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{what} is missing in CI: {how}")
    pytest.skip(f"{what} is not installed ({how}); CI installs it")


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        _missing("Debian's chromium", "apt-get install chromium; .ci/run does it")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def yasgui() -> None:
    if not app_module.YASGUI.is_dir():
        _missing("YASGUI", "make install runs npm ci --prefix endpoint/ui")


def count_rows(server: LiveServer, query: str) -> int:
    response = httpx.post(
        server.url + "/sparql",
        data={"query": query},
        headers={"Accept": "application/sparql-results+json"},
        timeout=30,
    )
    return len(response.json()["results"]["bindings"])


def test_an_example_query_runs_in_yasgui_and_nothing_leaves_the_site(
    live_server: LiveServer, browser, yasgui
) -> None:
    example = next(q for q in load_queries() if q.name == "actors-by-type")
    expected = count_rows(live_server, example.text)
    assert expected > 0
    page = browser.new_page()
    hosts: set[str] = set()
    page.on("request", lambda request: hosts.add(urlparse(request.url).hostname or ""))
    page.goto(live_server.url + "/sparql")
    page.wait_for_selector(".yasqe .CodeMirror")
    editor = page.evaluate("window.creativeGraphYasgui.getTab().getQuery()")
    assert "PREFIX org: <http://www.w3.org/ns/org#>" in editor  # the project's prefixes
    page.click(f"button[data-example={example.name}]")
    page.wait_for_selector(".yasr table tbody tr")
    assert page.locator(".yasr_response_chip").inner_text().startswith(f"{expected} results")
    first_row = page.locator(".yasr table tbody tr").first.inner_text()
    assert "/id/actor/" in first_row
    assert hosts == {"127.0.0.1"}, f"the page reached other hosts: {hosts}"
    page.close()


def test_without_npm_the_query_page_is_a_plain_form(
    demo_store, monkeypatch: pytest.MonkeyPatch
) -> None:
    from conftest import run_server

    monkeypatch.setattr(app_module, "YASGUI", Path("/nonexistent/yasgui"))
    for server in run_server(demo_store):
        page = httpx.get(server.url + "/sparql", headers={"Accept": "text/html"}).text
        assert '<form method="post" action="/sparql">' in page and "yasgui" not in page
        assert httpx.get(server.url + "/ui/yasgui/yasgui.min.js").status_code == 404
        link = page.split('href="/sparql?format=csv&amp;query=', 1)[1].split('"', 1)[0]
        answer = httpx.get(server.url + "/sparql?format=csv&query=" + link, timeout=30)
        assert answer.status_code == 200 and answer.text.count("\n") > 1


def test_every_example_answers_in_yasgui_as_the_page_loads_it(
    demo: LiveServer,  # noqa: F811
    browser,
    yasgui,
) -> None:
    """Each example button of the query page, clicked on the demo's data, shows results."""
    page = browser.new_page()
    for named in load_queries():
        page.goto(demo.url + "/sparql")
        page.wait_for_selector(".yasqe .CodeMirror")
        page.click(f"button[data-example={named.name}]")
        page.wait_for_selector(".yasr table tbody tr")
        chip = page.locator(".yasr_response_chip").inner_text()
        found = re.match(r"(\d+) results?", chip)
        assert found is not None and int(found.group(1)) > 0, (named.name, chip)
    page.close()


def test_the_api_docs_page_shows_the_named_queries_and_nothing_leaves_the_site(
    live_server: LiveServer, browser
) -> None:
    if not named_queries.SWAGGER_UI.is_dir():
        _missing("Swagger UI", "make install runs npm ci --prefix endpoint/ui")
    page = browser.new_page()
    hosts: set[str] = set()
    page.on("request", lambda request: hosts.add(urlparse(request.url).hostname or ""))
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(live_server.url + "/docs")
    page.wait_for_selector(".swagger-ui .opblock")
    shown = page.locator(".opblock-summary-path").all_inner_texts()
    paths = {text.replace("\u200b", "").strip() for text in shown}
    for named in load_queries():
        assert f"/api/queries/{named.name}" in paths, paths
    assert "/sparql" in paths
    # a named query opened: its parameter, typed, with its example
    page.click("#operations-named_queries-actors-in-municipality")
    page.wait_for_selector(".parameters-container .parameter__name")
    parameters = page.locator(".parameters-container").inner_text()
    assert "municipality" in parameters and "21004" in parameters
    page.wait_for_load_state("networkidle")
    assert errors == []
    assert hosts == {"127.0.0.1"}, f"the page reached other hosts: {hosts}"
    page.close()
