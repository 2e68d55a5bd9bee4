"""The benchmark's steward CSV generator: deterministic, and its output ingests cleanly."""

from __future__ import annotations

import csv
from pathlib import Path
from types import ModuleType

from conftest import load_bench

from ingest.linking import kbo_is_valid, normalise_kbo
from ingest.manifest import load_manifest
from ingest.mappers.steward_csv import COLUMNS
from ingest.pipeline import ingest_source


def _generator() -> ModuleType:
    return load_bench("steward_generator")


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_the_generator_is_deterministic(tmp_path: Path) -> None:
    generator = _generator()
    first, again, other = tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "c.csv"
    generator.write_csv(first, 200, seed=7)
    generator.write_csv(again, 200, seed=7)
    generator.write_csv(other, 200, seed=8)
    assert first.read_bytes() == again.read_bytes()
    assert first.read_bytes() != other.read_bytes()
    # two seeds share no id, name or enterprise number: their actors never match each other
    a, c = _rows(first), _rows(other)
    assert not {r["id"] for r in a} & {r["id"] for r in c}
    assert not {r["enterprise_number"] for r in a if r["enterprise_number"]} & {
        r["enterprise_number"] for r in c if r["enterprise_number"]
    }


def test_the_rows_look_like_a_steward_file(tmp_path: Path) -> None:
    path = tmp_path / "actors.csv"
    _generator().write_csv(path, 500, seed=3)
    rows = _rows(path)
    assert tuple(rows[0]) == COLUMNS
    assert len({r["id"] for r in rows}) == 500
    numbers = [normalise_kbo(r["enterprise_number"]) for r in rows if r["enterprise_number"]]
    assert 0.2 < len(numbers) / 500 < 0.4
    assert all(n and kbo_is_valid(n) for n in numbers)
    assert all(r["postcode"].startswith("1") for r in rows if r["postcode"])
    placed = [r for r in rows if r["longitude"]]
    assert placed and all(4.2 < float(r["longitude"]) < 4.5 for r in placed)
    assert all(50.7 < float(r["latitude"]) < 51.0 for r in placed)
    assert sum(bool(r["member_of"] or r["partner_of"] or r["funded_by"]) for r in rows) > 100
    assert {bool(r[f"name_{lang}"]) for r in rows for lang in ("en", "fr", "nl")} == {True, False}


def test_a_generated_source_ingests_without_violations(tmp_path: Path, settings, validator):
    source = _generator().write_source(tmp_path / "generated", 50, seed=5, name="generated")
    stages: list[str] = []
    outcome = ingest_source(load_manifest(source), settings, validator, on_stage=stages.append)
    assert outcome.status == "loaded", [str(p) for p in outcome.violations[:5]]
    assert outcome.violations == ()
    assert outcome.records_read == outcome.actors == 50
    assert outcome.matched == 0
    # the stages the benchmark times, in this order (others may come between them)
    timed = ("mapping", "identifying", "validating", "loading", "publishing")
    assert [stage for stage in stages if stage in timed] == list(timed)
