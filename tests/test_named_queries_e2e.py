"""Named, parameterised queries at /api/queries/{name}, against the real server and demo data."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from html import unescape
from pathlib import Path
from urllib.parse import parse_qs

import httpx
import pytest
from conftest import LiveServer, run_server

from creative_graph.settings import Settings
from endpoint import named_queries
from endpoint.named_queries import Parameter, QueryFileError, binding, load_queries, read_query

pytestmark = pytest.mark.e2e
JSON = {"Accept": "application/sparql-results+json"}


def rows(response: httpx.Response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    bindings = response.json()["results"]["bindings"]
    return [{k: v["value"] for k, v in b.items()} for b in bindings]


def sparql(server_url: str, query: str) -> list[dict[str, str]]:
    return rows(httpx.get(server_url + "/sparql", params={"query": query}, headers=JSON))


@pytest.fixture(scope="module")
def demo(every_source_store: Settings) -> Iterator[LiveServer]:
    """The server on what `make demo` loads: every bundled source."""
    yield from run_server(every_source_store)


def test_a_parameter_is_bound_not_pasted(live_server) -> None:
    url = live_server.url + "/api/queries/actors-by-sector"
    theatres = rows(httpx.get(url, params={"sector": "performing-arts"}, headers=JSON))
    expected = sparql(
        live_server.url,
        "SELECT (COUNT(DISTINCT ?a) AS ?n) WHERE { ?a "
        "<http://data.europa.eu/m8g/sector> <https://w3id.org/creative-graph/concept/sector/performing-arts> ; "
        "<http://www.w3.org/2004/02/skos/core#prefLabel> ?l }",
    )
    assert len(theatres) == int(expected[0]["n"])
    # text that would break a query if pasted into it is just text to look for
    hostile = '"))) } DELETE WHERE { ?s ?p ?o } #'
    search = httpx.get(
        live_server.url + "/api/queries/search-actors", params={"text": hostile}, headers=JSON
    )
    assert rows(search) == []


def refused(response: httpx.Response) -> tuple[str, list[dict[str, object]]]:
    """The message and details of a 400 about parameters."""
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    return body["message"], body["detail"]


def test_a_value_of_the_wrong_type_gets_400_naming_parameter_value_and_type(
    live_server,
) -> None:
    base = live_server.url + "/api/queries/"
    message, (detail,) = refused(httpx.get(base + "actors-by-sector?sector=nonsense"))
    assert message.startswith("parameter 'sector': 'nonsense' is not a code of the sector scheme")
    assert "performing-arts" in message  # the codes it takes
    assert detail["parameter"] == "sector" and detail["value"] == "nonsense"
    assert str(detail["expected"]).startswith("a code of the sector scheme (")

    message, (detail,) = refused(httpx.get(base + "actors-in-municipality?municipality=2100"))
    assert message == "parameter 'municipality': '2100' is not a five-digit REFNIS code"
    assert detail == {
        "parameter": "municipality",
        "value": "2100",
        "expected": "a five-digit REFNIS code",
        "message": message,
    }
    message, (detail,) = refused(httpx.get(base + "actors-by-type"))  # required
    assert message.startswith("parameter 'type' is missing: give a code of the actor-type scheme")
    assert detail["value"] is None

    csv = httpx.get(base + "actors-per-municipality", headers={"Accept": "text/csv"})
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert csv.text.splitlines()[0] == "municipality,name,actors"
    assert httpx.get(base + "funded-venues", headers={"Accept": "image/png"}).status_code == 406


def test_a_repeated_parameter_is_refused_naming_it(live_server) -> None:
    url = live_server.url + "/api/queries/search-actors?text=a&text=theater"
    message, (detail,) = refused(httpx.get(url, headers=JSON))
    assert message == "parameter 'text' is given 2 times ('a', 'theater'); it takes one value, text"
    assert detail["parameter"] == "text" and detail["value"] == ["a", "theater"]
    # once, each value is fine
    assert rows(httpx.get(url.replace("text=a&", ""), headers=JSON))


def test_types_are_checked_before_binding() -> None:
    number = Parameter("n", "integer", "a number")
    assert binding(number, "+007") == ("literal", "7", "http://www.w3.org/2001/XMLSchema#integer")
    with pytest.raises(ValueError, match="is not an integer"):
        binding(number, "7; DROP")
    with pytest.raises(ValueError, match="is not an absolute IRI"):
        binding(Parameter("i", "iri", "an IRI"), "> } <x")
    found = named_queries.problems(
        named_queries.NamedQuery("q", "s", "", (number,), ""), [("n", "x")], {}
    )
    assert [(p.parameter, p.value, p.expected) for p in found] == [("n", "x", "an integer")]


def test_openapi_describes_the_named_queries_and_sparql_and_validates(live_server) -> None:
    from openapi_spec_validator import validate

    spec = httpx.get(live_server.url + "/openapi.json").json()
    validate(spec)  # a valid OpenAPI 3 document, every $ref resolved
    operation = spec["paths"]["/api/queries/actors-by-type"]["get"]
    (parameter,) = operation["parameters"]
    assert parameter["name"] == "type" and parameter["required"] is True
    assert "fablab" in parameter["schema"]["enum"] and "theatre" in parameter["schema"]["enum"]
    assert parameter["example"] == "fablab"
    assert operation["summary"] == "Actors of one type"
    answers = operation["responses"]["200"]["content"]
    assert set(answers) == {
        "application/sparql-results+json",
        "application/sparql-results+xml",
        "text/csv",
        "text/tab-separated-values",
    }
    assert "422" not in operation["responses"]
    error = operation["responses"]["400"]["content"]["application/json"]["schema"]["$ref"]
    assert error == "#/components/schemas/ParameterError"
    (municipality,) = spec["paths"]["/api/queries/actors-in-municipality"]["get"]["parameters"]
    assert municipality["schema"]["pattern"] == r"^\d{5}$" and municipality["example"] == "21004"
    for named in load_queries():
        operation = spec["paths"][f"/api/queries/{named.name}"]["get"]
        assert all("example" in p for p in operation["parameters"]), named.name

    get, post = spec["paths"]["/sparql"]["get"], spec["paths"]["/sparql"]["post"]
    assert {p["name"] for p in get["parameters"]} == {
        "query",
        "default-graph-uri",
        "named-graph-uri",
        "format",
    }
    assert "csv" in next(p for p in get["parameters"] if p["name"] == "format")["schema"]["enum"]
    assert {"default-graph-uri", "named-graph-uri"} <= {p["name"] for p in post["parameters"]}
    bodies = post["requestBody"]["content"]
    assert {"application/sparql-query", "application/x-www-form-urlencoded"} <= set(bodies)
    form = bodies["application/x-www-form-urlencoded"]["schema"]["properties"]
    assert {"query", "default-graph-uri", "named-graph-uri", "format"} <= set(form)
    for operation in (get, post):
        media_types = set(operation["responses"]["200"]["content"])
        assert {"application/sparql-results+json", "text/csv", "text/turtle"} <= media_types
        assert "400" in operation["responses"]


def test_every_declared_example_answers_on_the_demo(demo: LiveServer) -> None:
    for named in load_queries():
        assert all(p.example is not None for p in named.parameters), named.name
        params = {p.name: p.example for p in named.parameters}
        url = f"{demo.url}/api/queries/{named.name}"
        assert rows(httpx.get(url, params=params, headers=JSON)), f"{named.name} found nothing"


def page_examples(page: str) -> dict[str, str]:
    """The example queries as the query page gives them: YASGUI's configuration or, without
    npm, the plain form's links."""
    config = re.search(r'id="query-config">(.*?)</script>', page, re.DOTALL)
    if config is not None:
        return {e["name"]: e["query"] for e in json.loads(config.group(1))["examples"]}
    links = re.findall(r'href="/sparql\?format=csv&amp;query=([^"]*)"', page)
    return {str(i): parse_qs("query=" + unescape(link))["query"][0] for i, link in enumerate(links)}


def test_every_example_of_the_query_page_answers_as_it_is(demo: LiveServer) -> None:
    page = httpx.get(demo.url + "/sparql", headers={"Accept": "text/html"}).text
    examples = page_examples(page)
    assert len(examples) == len(load_queries())
    for name, query in examples.items():
        # as YASGUI sends it: POST, a form, nothing bound
        answer = httpx.post(demo.url + "/sparql", data={"query": query}, headers=JSON, timeout=30)
        assert rows(answer), f"the example {name} finds nothing on the query page"
    # each example's API call is linked to its documentation (its parameters, Try it out)
    for named in load_queries():
        assert f'href="/docs#/named%20queries/{named.name}"' in page
    assert httpx.get(demo.url + "/docs").status_code == 200


def test_the_docs_page_is_served_and_plain_without_npm(
    live_server, demo_store, monkeypatch: pytest.MonkeyPatch
) -> None:
    docs = httpx.get(live_server.url + "/docs")
    assert docs.status_code == 200 and "/openapi.json" in docs.text
    assert "https://" not in docs.text.split("<main>", 1)[1].split("</main>", 1)[0]

    monkeypatch.setattr(named_queries, "SWAGGER_UI", Path("/nonexistent/swagger-ui-dist"))
    for server in run_server(demo_store):
        page = httpx.get(server.url + "/docs").text
        assert "swagger" not in page.lower()
        for named in load_queries():
            assert f"<code>GET /api/queries/{named.name}</code>: {named.summary}" in unescape(page)
        assert "<code>GET /sparql</code>" in page
        assert httpx.get(server.url + "/ui/swagger/swagger-ui-bundle.js").status_code == 404


def test_a_broken_query_file_is_named_with_its_line(tmp_path: Path) -> None:
    broken = tmp_path / "broken.rq"
    broken.write_text(
        "#+ summary: x\n#+ param nope string: absent variable\nSELECT * WHERE { ?s ?p ?o }\n"
    )
    with pytest.raises(QueryFileError, match=r"broken.rq:2: the query has no variable \?nope"):
        read_query(broken)
    broken.write_text("#+ summary: x\n#+ example nope: 1\nSELECT ?s WHERE { ?s ?p ?o }\n")
    with pytest.raises(QueryFileError, match=r"broken.rq:2: an example of no parameter \(nope\)"):
        read_query(broken)
