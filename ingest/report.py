"""What an ingest tells its user: one human line per source, or JSON for scripts."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from ingest.pipeline import IngestOutcome


def _problem(problem: Any) -> dict[str, str]:
    return asdict(problem)


def as_json(outcome: IngestOutcome) -> dict[str, Any]:
    """The outcome as plain JSON values (the `--json` output, one object per source)."""
    return {
        "source": outcome.source,
        "graph": outcome.graph,
        "status": outcome.status,
        "records_read": outcome.records_read,
        "actors": outcome.actors,
        "triples": outcome.triples,
        "added": outcome.added,
        "removed": outcome.removed,
        "matched_in_other_sources": outcome.matched,
        "rejected_records": len(outcome.rejected),
        "rejected_report": outcome.report,
        "violations": [_problem(p) for p in outcome.violations],
        "warnings": [_problem(p) for p in outcome.warnings],
        "coverage": outcome.coverage.as_dict() if outcome.coverage else None,
        "run": outcome.run,
        "snapshot": outcome.snapshot,
    }


def summary(outcome: IngestOutcome) -> str:
    """One line saying what happened to a source that was loaded."""
    change = (
        "unchanged: no data triple added or removed (a new run record was added)"
        if outcome.status == "unchanged"
        else f"+{outcome.added} -{outcome.removed} triples"
    )
    parts = [
        f"{outcome.source}: {outcome.actors} actors from {outcome.records_read} records, "
        f"{outcome.triples} triples into <{outcome.graph}> ({change})",
        f"{len(outcome.warnings)} warning(s)",
    ]
    if outcome.matched:
        parts.append(f"{outcome.matched} actor(s) matched in other sources")
    if outcome.rejected:
        parts.append(f"{len(outcome.rejected)} record(s) rejected, see {outcome.report}")
    if outcome.coverage:
        parts.append(outcome.coverage.summary())
    parts.append(f"run <{outcome.run}>")
    return "; ".join(parts)
