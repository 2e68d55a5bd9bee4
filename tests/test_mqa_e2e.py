"""`creative-graph mqa` against the real served catalogue: every page harvested over HTTP, every
access and download URL checked with a real HEAD, and the score a portal would give."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import LiveServer, free_socket, run_server
from typer.testing import CliRunner

from creative_graph import dumps
from creative_graph.cli import app
from creative_graph.settings import Settings
from ingest.manifest import load_manifest
from ingest.pipeline import ingest_source

pytestmark = pytest.mark.e2e
SOURCES = Path(__file__).resolve().parents[1] / "data" / "sources"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, validator) -> Iterator[LiveServer]:
    """The demo sources served where their IRIs say, so that every URL in the catalogue is
    real; two datasets per page, so that the harvest follows hydra:next."""
    sock = free_socket()
    base = f"http://127.0.0.1:{sock.getsockname()[1]}/"
    store = tmp_path_factory.mktemp("mqa") / "store"
    settings = Settings(store=store, base_iri=base, catalog_page_size=2)
    for name in ("brussels-culture-poi", "steward-example"):
        outcome = ingest_source(load_manifest(SOURCES / name), settings, validator)
        assert outcome.status == "loaded"
    dumps.write(settings.store)
    yield from run_server(settings, sock)


def mqa(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["mqa", *args])
    return result.exit_code, result.stdout


def test_the_served_catalogue_is_excellent(served: LiveServer) -> None:
    code, output = mqa(f"{served.url}/catalog", "--json")
    report = json.loads(output)
    assert code == 0
    assert report["pages"] == [f"{served.url}/catalog", f"{served.url}/catalog?page=2"]
    assert report["harvest_notes"] == []
    scores = {d["identifier"]: d["score"] for d in report["datasets"]}
    assert set(scores) == {"all", "brussels-culture-poi", "steward-example"}
    assert all(score >= 351 for score in scores.values()), scores
    assert report["band"] == "Excellent" and report["score"] >= 351
    assert report["catalogue_problems"] == []
    for dataset in report["datasets"]:
        checks = {c["indicator"]: c for c in dataset["checks"]}
        # the URL points were earned by real HEAD requests to this server
        for metric in ("accessUrlStatusCode", "downloadUrlStatusCode"):
            assert checks[metric]["lost"] == 0
            assert checks[metric]["note"].startswith(served.url)
            assert checks[metric]["note"].endswith(": HEAD 200")
        assert checks["dcatApCompliance"]["lost"] == 0
        assert dataset["best_distribution"]["iri"].startswith(f"{served.url}/catalog#dist-")


def test_the_text_report_names_every_dataset_and_the_band(served: LiveServer) -> None:
    code, output = mqa(f"{served.url}/catalog")
    assert code == 0
    for name in ("all", "brussels-culture-poi", "steward-example"):
        assert f"\n{name}: " in output
    assert "best distribution: <" in output
    assert output.rstrip().splitlines()[-1].startswith("catalogue: ")
    assert " Excellent " in output.rstrip().splitlines()[-1]


def test_a_catalogue_that_cannot_be_harvested_exits_2(served: LiveServer) -> None:
    code, _ = mqa(f"{served.url}/catalog?page=9")  # past the last page: 404
    assert code == 2
