"""Ingest benchmark: each stage of ingesting a generated steward CSV, next to bare pyoxigraph.

For each size N (`--actors`, default 10000) it generates two steward CSVs of N actors with
`bench/steward_generator.py` and ingests one of them through the real pipeline
(`ingest.pipeline.ingest_source`):

- `empty`: into an empty store;
- `again`: the same source into that store again, unchanged (what a steward's re-run costs);
- `prefilled`: into a store that already holds the other N-actor source (ingested first by
  the real pipeline with SHACL validation skipped, shown as the `prefill` row).

Stage times come from the pipeline's `on_stage` callback; records/s = N / stage seconds. Each
ingest, and each peer load, runs in a fresh subprocess, so its peak memory (the process's peak
resident set, `ru_maxrss`) is its own. The peer is a bare pyoxigraph store loading the same
N-Triples (the mapper's output) into a named graph with `Store.load` (one transaction, from
bytes in memory) and with `Store.bulk_load` (from the file): what the store alone costs.

Run: make bench                                    (10,000 actors, every scenario)
     .venv/bin/python bench/ingest_bench.py --actors 100000 --timeout 1200
     .venv/bin/python bench/ingest_bench.py --help
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from measured import load_average, revision  # bench/measured.py (this script's folder)

ROOT = Path(__file__).resolve().parents[1]
# Measure the code of the checkout this file lives in (a git worktree of another commit too),
# whatever the virtual environment's editable install points at.
sys.path.insert(1, str(ROOT))
# Memory figures are ru_maxrss in MiB (printed "MB"); "2 GB" is checked in decimal units, the
# stricter reading: 2,000,000,000 bytes = 1,907 MiB.
TARGET_ACTORS, TARGET_SECONDS, TARGET_MB = 100_000, 60.0, 2e9 / 2**20
TARGET = (
    "target: 100,000 actors (2-3 million triples) fully ingested in under 60 s "
    "with peak memory under 2 GB (checked as 2,000,000,000 bytes = 1,907 MiB; memory figures "
    "are MiB), on a 2-core machine"
)
SOURCE_NAME, PREFILL_NAME = "bench-steward", "bench-prefill"
EXPECTED_STATUS = {"again (unchanged)": "unchanged"}


# ---- in the child processes ---------------------------------------------------------------------


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


def _emit(event: str, **facts: Any) -> None:
    print(json.dumps({"event": event, "peak_mb": round(_peak_mb(), 1), **facts}), flush=True)


def child_prepare(spec: dict[str, Any]) -> None:
    """Generate one source and write the mapper's output as N-Triples (the peer's input)."""
    import steward_generator

    from creative_graph.iris import Iris
    from creative_graph.settings import Settings
    from ingest.manifest import load_manifest
    from ingest.mappers import mappers

    directory = Path(spec["directory"])
    started = time.perf_counter()
    steward_generator.write_source(directory, spec["actors"], spec["seed"], spec["name"])
    generated = time.perf_counter() - started
    manifest = load_manifest(directory)
    mapped = mappers()[manifest.mapper](manifest, Iris(Settings().base_iri))
    staged = mapped.staged()
    Path(spec["ntriples"]).write_bytes(staged.ntriples())
    _emit(
        "prepared",
        generate_s=round(generated, 3),
        csv_bytes=(directory / "actors.csv").stat().st_size,
        triples=len(staged),
        problems=len(mapped.problems),
        map_s=round(time.perf_counter() - started - generated, 3),
    )


def child_ingest(spec: dict[str, Any]) -> None:
    """One real ingest, printing a JSON line at each stage (so a killed run says how far it got)."""
    from rdflib import Graph

    from creative_graph.settings import Settings
    from creative_graph.validation import ValidationReport
    from ingest.manifest import load_manifest
    from ingest.pipeline import default_validator, ingest_source

    class SkippingValidator:
        """Validates nothing: for the prefill, which sets the scene and is not measured."""

        shapes = Graph()  # no shapes: nothing to check, no context to look up

        def validate(self, data):  # type: ignore[no-untyped-def]
            return ValidationReport(())

        def validate_store(self, store):  # type: ignore[no-untyped-def]
            return ValidationReport(())

    started = time.perf_counter()
    if spec["skip_validation"]:
        validator = SkippingValidator()
    elif spec["validator"] == "pyshacl":
        from creative_graph.validation import Validator

        validator = Validator.default()
    else:
        validator = default_validator()
    settings = Settings(store=Path(spec["store"]), sources=Path(spec["source"]).parent)
    manifest = load_manifest(Path(spec["source"]))
    kind = type(validator)
    _emit(
        "ready",
        setup_s=round(time.perf_counter() - started, 3),
        wall=time.time(),
        validator=f"{kind.__module__}.{kind.__qualname__}",
    )
    start = time.perf_counter()

    def on_stage(stage: str) -> None:
        _emit("stage", stage=stage, at=round(time.perf_counter() - start, 3))

    outcome = ingest_source(manifest, settings, validator, on_stage=on_stage)
    total = time.perf_counter() - start
    _emit(
        "done",
        at=round(total, 3),
        status=outcome.status,
        records=outcome.records_read,
        actors=outcome.actors,
        triples=outcome.triples,
        matched=outcome.matched,
        violations=len(outcome.violations),
        warnings=len(outcome.warnings),
        first_violations=[str(p) for p in outcome.violations[:3]],
    )
    if outcome.snapshot is not None:
        # what `creative-graph ingest` does next, once for all the sources of a run: the
        # store a later ingest finds is the compacted one
        from creative_graph.store import StoreWriter

        start = time.perf_counter()
        with StoreWriter(settings.store, settings.snapshots_kept) as writer:
            writer.compact()
        _emit("compacted", at=round(time.perf_counter() - start, 3))


def child_peer(spec: dict[str, Any]) -> None:
    """The peer: pyoxigraph alone loads the N-Triples into a named graph of a store on disk."""
    import pyoxigraph as ox

    store = ox.Store(spec["store"])
    graph = ox.NamedNode(spec["graph"])
    path = spec["ntriples"]
    before = len(store)
    if spec["method"] == "load":  # from bytes in memory, as the pipeline hands them over
        data = Path(path).read_bytes()
        start = time.perf_counter()
        store.load(data, format=ox.RdfFormat.N_TRIPLES, to_graph=graph)
    else:
        start = time.perf_counter()
        store.bulk_load(path=path, format=ox.RdfFormat.N_TRIPLES, to_graph=graph)
    store.flush()
    seconds = time.perf_counter() - start
    _emit("done", at=round(seconds, 3), before=before, after=len(store))


CHILDREN = {"prepare": child_prepare, "ingest": child_ingest, "peer": child_peer}


# ---- in the parent ------------------------------------------------------------------------------


def _status_mb(pid: int, field: str) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        return None
    return None


def run_child(kind: str, spec: dict[str, Any], timeout: float, max_mb: float) -> dict[str, Any]:
    """Run one child: its events, and how it ended (`done`, `timeout`, `memory`, `failed`)."""
    command = [sys.executable, __file__, "--child", kind, json.dumps(spec)]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT
    )
    events: list[dict[str, Any]] = []
    errors: list[str] = []

    def read_events() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            if line.startswith("{"):
                events.append(json.loads(line))

    def read_errors() -> None:
        assert process.stderr is not None
        errors.extend(process.stderr)

    readers = [threading.Thread(target=read_events), threading.Thread(target=read_errors)]
    for reader in readers:
        reader.start()
    spawned = time.time()
    ended, hwm = "done", 0.0
    while process.poll() is None:
        hwm = max(hwm, _status_mb(process.pid, "VmHWM") or 0.0)
        rss = _status_mb(process.pid, "VmRSS") or 0.0
        if time.time() - spawned > timeout or rss > max_mb:
            ended = "timeout" if rss <= max_mb else "memory"
            process.kill()  # our own child, by its id
            break
        time.sleep(0.25)
    process.wait()
    stopped = time.time()
    for reader in readers:
        reader.join()
    finished = bool(events) and events[-1]["event"] != "ready"
    if ended == "done" and (process.returncode != 0 or not finished):
        ended = "failed"
    return {
        "ended": ended,
        "events": events,
        "hwm_mb": round(hwm, 1),
        "stopped_wall": stopped,
        "stderr": "".join(errors[-20:]),
    }


def stage_figures(run: dict[str, Any], actors: int) -> dict[str, Any]:
    """Seconds, records/s and peak MB per reported stage, from the child's events."""
    events = run["events"]
    ready = next((e for e in events if e["event"] == "ready"), None)
    marks = {e["stage"]: e for e in events if e["event"] == "stage"}
    done = next((e for e in events if e["event"] == "done"), None)
    compacted = next((e for e in events if e["event"] == "compacted"), None)
    end_at = done["at"] if done else None
    if ready and not done:  # killed: how long the last stage had run
        end_at = round(run["stopped_wall"] - ready["wall"], 1)
    # reported stage -> (event that starts it, event that ends it)
    spans = {
        "read+map": (None, "identifying"),
        "identify": ("identifying", "validating"),
        "validate": ("validating", "loading"),
        "load+publish": ("loading", None),
        "publish": ("publishing", None),
    }
    figures: dict[str, Any] = {}
    for name, (first, last) in spans.items():
        begin = 0.0 if first is None else marks.get(first, {}).get("at")
        finish_event = marks.get(last) if last else done
        if begin is None:
            continue
        if finish_event is not None:
            seconds = finish_event["at"] - begin
            figures[name] = {
                "s": round(seconds, 3),
                "per_s": round(actors / seconds) if seconds > 0 else None,
                "peak_mb": finish_event["peak_mb"],
                "finished": True,
            }
        elif end_at is not None:
            figures[name] = {
                "s": round(end_at - begin, 1),
                "peak_mb": run["hwm_mb"],
                "finished": False,
            }
            break
    result: dict[str, Any] = {
        "ended": run["ended"],
        "stages": figures,
        "setup_s": ready["setup_s"] if ready else None,
        "baseline_mb": ready["peak_mb"] if ready else None,
        "peak_mb": done["peak_mb"] if done else run["hwm_mb"],
        "validator": ready["validator"] if ready else None,
        "compact_s": compacted["at"] if compacted else None,
        "compact_peak_mb": compacted["peak_mb"] if compacted else None,
    }
    if done:
        result.update(
            {k: done[k] for k in ("at", "status", "triples", "matched", "violations", "warnings")}
        )
        result["first_violations"] = done["first_violations"]
    else:
        result["at"] = end_at
        result["stderr"] = run["stderr"]
    return result


def peer_figures(run: dict[str, Any], actors: int) -> dict[str, Any]:
    done = next((e for e in run["events"] if e["event"] == "done"), None)
    if done is None:
        return {"ended": run["ended"], "peak_mb": run["hwm_mb"], "stderr": run["stderr"]}
    return {
        "ended": "done",
        "s": done["at"],
        "per_s": round(actors / done["at"]) if done["at"] > 0 else None,
        "peak_mb": done["peak_mb"],
        "triples_before": done["before"],
        "triples_after": done["after"],
    }


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def fresh(path: Path) -> Path:
    """`path`, emptied: a kept workdir must not turn an empty store into a re-ingest."""
    shutil.rmtree(path, ignore_errors=True)
    return path


def bench_size(args: argparse.Namespace, actors: int, workdir: Path) -> list[dict[str, Any]]:
    base = workdir / f"n{actors}"
    limits = (args.timeout, args.max_memory_mb)
    graph = f"http://localhost:8000/graph/{SOURCE_NAME}"
    prefill_graph = f"http://localhost:8000/graph/{PREFILL_NAME}"
    log(f"[{actors:,} actors] generating and mapping the source (seed {args.seed + 1}) ...")
    source = base / "sources" / SOURCE_NAME
    prepared = run_child(
        "prepare",
        {"directory": str(source), "actors": actors, "seed": args.seed + 1, "name": SOURCE_NAME,
         "ntriples": str(base / "source.nt")},
        *limits,
    )  # fmt: skip
    if prepared["ended"] != "done":
        raise SystemExit(f"preparing the source failed: {prepared['ended']}\n{prepared['stderr']}")
    facts = prepared["events"][-1]
    rows: list[dict[str, Any]] = []

    def peer(kind: str, store: Path) -> dict[str, Any]:
        spec = {"store": str(store), "graph": graph, "ntriples": str(base / "source.nt")}
        log(f"[{actors:,} actors] peer: pyoxigraph {kind} ...")
        return peer_figures(run_child("peer", {**spec, "method": kind}, *limits), actors)

    if "empty" in args.scenarios:
        log(f"[{actors:,} actors] empty: ingesting into an empty store ...")
        run = run_child(
            "ingest",
            {"store": str(fresh(base / "empty" / "store")), "source": str(source),
             "skip_validation": False, "validator": args.validator},
            *limits,
        )  # fmt: skip
        rows.append(
            {
                "scenario": "empty",
                "actors": actors,
                "mapped_triples": facts["triples"],
                "store_before": 0,
                **stage_figures(run, actors),
                "peer_load": peer("load", fresh(base / "peer-empty-load")),
                "peer_bulk_load": peer("bulk_load", fresh(base / "peer-empty-bulk")),
            }
        )
        if "again" in args.scenarios:
            log(f"[{actors:,} actors] again: the same source again, unchanged ...")
            again = run_child(
                "ingest",
                {"store": str(base / "empty" / "store"), "source": str(source),
                 "skip_validation": False, "validator": args.validator},
                *limits,
            )  # fmt: skip
            rows.append(
                {
                    "scenario": "again (unchanged)",
                    "actors": actors,
                    "mapped_triples": facts["triples"],
                    "store_before": facts["triples"],
                    **stage_figures(again, actors),
                }
            )
    if "prefilled" in args.scenarios:
        log(f"[{actors:,} actors] prefill: generating the other source (seed {args.seed}) ...")
        other = base / "sources" / PREFILL_NAME
        prepared_other = run_child(
            "prepare",
            {"directory": str(other), "actors": actors, "seed": args.seed, "name": PREFILL_NAME,
             "ntriples": str(base / "prefill.nt")},
            *limits,
        )  # fmt: skip
        if prepared_other["ended"] != "done":
            raise SystemExit(f"preparing the prefill failed\n{prepared_other['stderr']}")
        store = fresh(base / "prefilled" / "store")
        log(f"[{actors:,} actors] prefill: ingesting it (SHACL validation skipped) ...")
        prefill = stage_figures(
            run_child(
                "ingest",
                {"store": str(store), "source": str(other), "skip_validation": True,
                 "validator": None},
                *limits,
            ),
            actors,
        )  # fmt: skip
        rows.append(
            {
                "scenario": "prefill (no SHACL)",
                "actors": actors,
                "mapped_triples": prepared_other["events"][-1]["triples"],
                "store_before": 0,
                **prefill,
            }
        )
        if prefill["ended"] != "done":
            rows.append({"scenario": "prefilled", "actors": actors, "ended": "not run"})
            return rows
        log(f"[{actors:,} actors] prefilled: ingesting into the prefilled store ...")
        run = run_child(
            "ingest",
            {"store": str(store), "source": str(source), "skip_validation": False,
             "validator": args.validator},
            *limits,
        )  # fmt: skip
        # the peer's store holds the same other source, bulk-loaded (not timed)
        peer_base = fresh(base / "peer-prefilled")
        seeded = run_child(
            "peer",
            {"store": str(peer_base), "graph": prefill_graph,
             "ntriples": str(base / "prefill.nt"), "method": "bulk_load"},
            *limits,
        )  # fmt: skip
        if seeded["ended"] != "done":
            raise SystemExit(f"prefilling the peer store failed\n{seeded['stderr']}")
        shutil.copytree(peer_base, fresh(base / "peer-prefilled-load"))
        shutil.copytree(peer_base, fresh(base / "peer-prefilled-bulk"))
        rows.append(
            {
                "scenario": "prefilled",
                "actors": actors,
                "mapped_triples": facts["triples"],
                "store_before": prefill.get("triples", 0),
                **stage_figures(run, actors),
                "peer_load": peer("load", base / "peer-prefilled-load"),
                "peer_bulk_load": peer("bulk_load", base / "peer-prefilled-bulk"),
            }
        )
    for row in rows:
        if row["ended"] == "not run":
            continue
        row["csv_mb"] = round(facts["csv_bytes"] / 1e6, 1)
        row["generate_s"] = facts["generate_s"]
    return rows


# ---- printing ----------------------------------------------------------------------------------


def _stage_cell(figure: dict[str, Any] | None) -> str:
    if figure is None:
        return "-"
    if not figure["finished"]:
        return f"STOPPED after {figure['s']:.1f}s"
    rate = f"{figure['per_s']:,}/s" if figure["per_s"] else "-"
    return f"{figure['s']:.1f}s {rate}"


def _peer_cell(figure: dict[str, Any] | None) -> str:
    if figure is None:
        return ""
    if figure["ended"] != "done":
        return f"{figure['ended']}"
    rate = f"{figure['per_s']:,}/s" if figure["per_s"] else "-"
    return f"{figure['s']:.2f}s {rate} {figure['peak_mb']:.0f}MB"


def print_table(rows: list[dict[str, Any]]) -> None:
    stages = ("read+map", "identify", "validate", "load+publish")
    header = (
        f"{'scenario':<19}{'actors':>8}{'triples':>10}{'in store':>10}  "
        + "".join(f"{s:<19}" for s in stages)
        + f"{'total':>8}{'peak MB':>9}{'compact':>9}  | {'peer load':<27}| peer bulk_load"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        if row["ended"] == "not run":
            print(f"{row['scenario']:<19}{row['actors']:>8,}  not run: the prefill did not finish")
            continue
        total = f"{row['at']:.1f}s" if row["ended"] == "done" else f">{row['at'] or 0:.0f}s"
        peak = f"{row['peak_mb']:.0f}" + ("" if row["ended"] == "done" else "+")
        compact = f"{row['compact_s']:.1f}s" if row.get("compact_s") is not None else "-"
        skipped = row["scenario"].startswith("prefill (")
        cells = "".join(
            f"{'skipped' if skipped and s == 'validate' else _stage_cell(row['stages'].get(s)):<19}"
            for s in stages
        )
        print(
            f"{row['scenario']:<19}{row['actors']:>8,}{row['mapped_triples']:>10,}"
            f"{row['store_before']:>10,}  {cells}{total:>8}{peak:>9}{compact:>9}  | "
            f"{_peer_cell(row.get('peer_load')):<27}| {_peer_cell(row.get('peer_bulk_load'))}"
        )
    used = sorted(
        {r["validator"] for r in rows if r.get("validator") and "Skipping" not in r["validator"]}
    )
    print(f"validator: {', '.join(used) or '-'}")
    print()
    print("peak MB (ru_maxrss) at the end of each stage; the process starts at 'ready':")
    for row in (r for r in rows if r["ended"] != "not run"):
        peaks = ", ".join(
            f"{name} {figure['peak_mb']:.0f}" + ("" if figure["finished"] else " (stopped)")
            for name, figure in row["stages"].items()
        )
        ready = row["baseline_mb"] or 0
        print(f"  {row['scenario']:<19}{row['actors']:>8,}: ready {ready:.0f}, {peaks}")
    print()
    for row in (r for r in rows if r["ended"] != "not run"):
        if row["ended"] != "done":
            last = list(row["stages"])[-1] if row["stages"] else "startup"
            print(
                f"{row['scenario']} {row['actors']:,}: {row['ended'].upper()} during {last} "
                f"after {row['at'] or 0:.0f}s (peak resident memory so far {row['peak_mb']:.0f} MB)"
            )
        elif row.get("status") != EXPECTED_STATUS.get(row["scenario"], "loaded") or row.get(
            "violations"
        ):
            print(f"{row['scenario']} {row['actors']:,}: status {row.get('status')}, "
                  f"{row.get('violations')} violations {row.get('first_violations')}")  # fmt: skip
    for row in rows:
        if row["actors"] == TARGET_ACTORS and not row["scenario"].startswith("prefill ("):
            if row["ended"] == "not run":
                print(f"target check, {row['scenario']}: not run: NOT MET")
                continue
            met = (
                row["ended"] == "done" and row["at"] < TARGET_SECONDS and row["peak_mb"] < TARGET_MB
            )
            print(
                f"target check, {row['scenario']}: "
                + (
                    f"{row['at']:.1f}s, peak {row['peak_mb']:.0f} MB: "
                    if row["ended"] == "done"
                    else f"did not finish ({row['ended']}): "
                )
                + ("MET" if met else "NOT MET")
            )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description="Time each ingest stage of a generated steward CSV against a bare "
        "pyoxigraph load of the same triples.",
        epilog=TARGET,
    )
    parser.add_argument(
        "--actors", type=int, nargs="+", default=[10_000],
        help="actors per source, one or more sizes (default 10000; the target is 100000)",
    )  # fmt: skip
    parser.add_argument(
        "--scenarios", nargs="+", choices=("empty", "again", "prefilled"),
        default=["empty", "again", "prefilled"],
        help="into an empty store; the same source again, unchanged (after 'empty'); into a "
        "store holding another source of the same size",
    )  # fmt: skip
    parser.add_argument(
        "--validator", choices=("default", "pyshacl"), default="default",
        help="the pipeline's default validator, or pySHACL (creative_graph.validation.Validator)",
    )  # fmt: skip
    parser.add_argument("--seed", type=int, default=1, help="generator seed (default 1)")
    parser.add_argument(
        "--timeout", type=float, default=3600,
        help="seconds after which a child process is stopped and reported (default 3600)",
    )  # fmt: skip
    parser.add_argument(
        "--max-memory-mb", type=float, default=16_000,
        help="a child whose resident memory exceeds this is stopped and reported (default 16000)",
    )  # fmt: skip
    parser.add_argument("--workdir", type=Path, help="keep sources and stores here")
    parser.add_argument("--json", type=Path, help="also write the raw figures to this file")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args, rest = parser.parse_known_args(argv)
    if args.child:
        CHILDREN[args.child](json.loads(rest[0]))
        return
    import pyoxigraph
    import pyshacl
    import rdflib

    print(
        f"creative-graph ingest benchmark: generated steward CSV (bench/steward_generator.py, "
        f"seeds {args.seed} and {args.seed + 1})\n"
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}, rdflib {rdflib.__version__}, "
        f"pySHACL {pyshacl.__version__}, pyoxigraph {pyoxigraph.__version__}\n{TARGET}\n"
        "records/s = actors / stage seconds; read+map includes the input checksum; "
        "load+publish is the atomic load, the identity graph and the snapshot\n"
        f"load average at the start (1, 5, 15 min): "
        f"{load_average()}\n",
        flush=True,
    )
    print(f"code measured: {ROOT} at {revision()}", flush=True)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="creative-graph-bench-"))
    rows: list[dict[str, Any]] = []
    try:
        for actors in args.actors:
            rows += bench_size(args, actors, workdir)
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    print_table(rows)
    print(f"\nload average at the end (1, 5, 15 min): {load_average()} on {os.cpu_count()} CPUs")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
