"""The change stream's cost: `ChangeLog.sync` after a first ingest, and after a one-triple write.

    .venv/bin/python bench/ldes_bench.py --actors 10000
    .venv/bin/python bench/ldes_bench.py --store /path/to/store   # an ingested store, copied

A generated steward source is ingested first (not timed), or an ingested store is copied (the
original is never written). Then, in this process: the first sync (nothing followed yet: every
actor compared), two one-triple SPARQL Updates through `Writes.apply` (shapes skipped: they
are not what is measured) and the sync each runs (following the journal; after a store made
before the journal existed, the first compares every actor), and a third with the journal
deleted first (the fallback: every actor compared). Prints seconds, versions
appended, actors described, the way each sync went, and the process's peak memory.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from unittest.mock import patch

from measured import load_average, revision  # bench/measured.py (this script's folder)

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(1, str(ROOT))  # measure the code of this checkout
ALT_LABEL = "http://www.w3.org/2004/02/skos/core#altLabel"
LEFT_OUT = ("ldes.sqlite3*", "journal.sqlite3*", "dumps", "incoming", "ldes-scratch-*")


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


def prepare(args: argparse.Namespace, workdir: Path) -> Path:
    """A store with one ingested source and no change stream yet."""
    store = workdir / "store"
    if args.store:
        shutil.copytree(args.store, store, ignore=shutil.ignore_patterns(*LEFT_OUT))
        return store
    import steward_generator

    source = steward_generator.write_source(workdir / "sources" / "bench-steward", args.actors)
    ingest = (
        "import sys; from pathlib import Path\n"
        "from creative_graph.settings import Settings\n"
        "from ingest.manifest import load_manifest\n"
        "from ingest.pipeline import default_validator, ingest_source\n"
        "settings = Settings(store=Path(sys.argv[1]), base_iri=sys.argv[3])\n"
        "outcome = ingest_source(load_manifest(Path(sys.argv[2])), settings, default_validator())\n"
        "assert outcome.status == 'loaded', outcome.violations[:3]\n"
    )
    command = [sys.executable, "-c", ingest, str(store), str(source), args.base_iri]
    subprocess.run(command, check=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    return store


def measure(store: Path, base: str) -> list[dict[str, Any]]:
    import pyoxigraph as ox

    from creative_graph import writes
    from creative_graph.descriptions import actors_query
    from creative_graph.iris import Iris
    from creative_graph.ldes import ChangeLog, SyncResult
    from creative_graph.store import StoreReader
    from creative_graph.validation import ValidationReport

    rows: list[dict[str, Any]] = []

    def row(step: str, seconds: float, result: SyncResult, write: float | None = None) -> None:
        way = "every actor compared" if result.full else "journal followed"
        rows.append(
            {"step": step, "sync_s": seconds, "write_s": write, "appended": result.appended,
             "compared": result.compared, "way": way, "peak_mb": _peak_mb()}
        )  # fmt: skip
        print(f"  {step}: sync {seconds:.3f} s, {way}", flush=True)

    started = time.perf_counter()
    result = ChangeLog(store).sync_latest(StoreReader(store), base)
    row("first sync", time.perf_counter() - started, result)

    timed: list[tuple[float, SyncResult]] = []

    class TimedLog(ChangeLog):  # the sync a write runs, timed on its own
        def sync_latest(self, *args: Any, **options: Any) -> SyncResult:
            began = time.perf_counter()
            result = super().sync_latest(*args, **options)
            timed.append((time.perf_counter() - began, result))
            return result

    class NoShapes:
        def validate_store(self, store: ox.Store, union: bool = False) -> ValidationReport:
            return ValidationReport(())

    reader = StoreReader(store)
    actors = sorted(r["actor"] for r in reader.select(actors_query() + " LIMIT 3"))
    for step, actor, lose_journal in (
        ("one-triple write", actors[0], False),  # a store from before the journal: fallback
        ("another one-triple write", actors[1], False),
        ("one-triple write, journal lost", actors[2], True),
    ):
        if lose_journal:
            (store / "journal.sqlite3").unlink()
        graph = reader.select(f"SELECT ?g WHERE {{ GRAPH ?g {{ <{actor}> a ?c }} }}")[0]["g"]
        update = f'INSERT DATA {{ GRAPH <{graph}> {{ <{actor}> <{ALT_LABEL}> "bench"@en }} }}'
        began = time.perf_counter()
        with patch.object(writes, "ChangeLog", TimedLog):
            writes.Writes(store, NoShapes(), Iris(base), refresh_dumps=False).apply(
                lambda copy, text=update: copy.update(text), "bench write"
            )
        seconds, result = timed[-1]
        row(step, seconds, result, time.perf_counter() - began)
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--actors", type=int, default=10_000, help="actors to generate")
    parser.add_argument("--store", type=Path, help="an ingested store to copy instead")
    parser.add_argument("--base-iri", default="http://localhost:8000/", help="the store's")
    parser.add_argument("--workdir", type=Path, help="keep the store there (default: removed)")
    args = parser.parse_args(argv)
    print(f"measured: {revision()}")
    print(f"load average at start: {load_average()}", flush=True)
    with tempfile.TemporaryDirectory(prefix="ldes-bench-") as temporary:
        workdir = args.workdir or Path(temporary)
        workdir.mkdir(parents=True, exist_ok=True)
        store = prepare(args, workdir)
        print(f"store ready: {store}", flush=True)
        rows = measure(store, args.base_iri)
    print(f"load average at end: {load_average()}")
    print("\n| step | sync s | write s | versions | actors described | way | peak MB |")
    print("|---|---:|---:|---:|---:|---|---:|")
    for r in rows:
        write = "" if r["write_s"] is None else f"{r['write_s']:.2f}"
        print(
            f"| {r['step']} | {r['sync_s']:.3f} | {write} | {r['appended']:,} | "
            f"{r['compared']:,} | {r['way']} | {r['peak_mb']:.0f} |"
        )


if __name__ == "__main__":
    main()
