"""The write benchmark runs: its writes are accepted, and its tables name each stage (untimed)."""

from __future__ import annotations

import pytest
from conftest import load_bench

pytestmark = pytest.mark.e2e  # builds the demo store with the CLI and starts a real server


def test_the_bench_times_each_stage_of_three_writes_and_three_puts_over_http(
    capsys: pytest.CaptureFixture[str],
) -> None:
    load_bench("write_bench").main(["--actors", "5"])
    lines = capsys.readouterr().out.splitlines()
    rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in lines if "| " in line]
    assert rows[0] == ["stage of Writes.apply, s", "PUT, new graph", "PUT, replacing",
                       "1-triple update"]  # fmt: skip
    stages = [row[0] for row in rows[1:] if len(row) == 4]
    assert stages[:3] == ["parse", "change", "changed graphs"]
    assert {"focus", "shapes after", "shapes before", "change stream", "rest"} <= set(stages)
    assert stages[-1] == "total"
    statuses = [row[1] for row in rows if row[0].startswith("PUT ") and len(row) == 3]
    assert statuses == ["201", "204", "201"]  # accepted: a new graph, replaced, a new graph
