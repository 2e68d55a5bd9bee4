"""The change stream benchmark runs, and its table says what each sync did (untimed)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import load_bench

pytestmark = pytest.mark.e2e  # ingests a generated source in a child process


def test_the_bench_measures_a_first_sync_and_writes_following_the_journal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    load_bench("ldes_bench").main(["--actors", "60", "--workdir", str(tmp_path)])
    table = [line.split(" | ") for line in capsys.readouterr().out.splitlines() if "| " in line]
    found = {cells[0].strip("| "): cells[3:6] for cells in table[1:]}  # versions, described, way
    assert found == {
        "first sync": ["60", "60", "every actor compared"],
        "one-triple write": ["1", "1", "journal followed"],
        "another one-triple write": ["1", "1", "journal followed"],
        "one-triple write, journal lost": ["1", "60", "every actor compared"],
    }
