"""What `creative-graph mqa` prints: per dataset, the points per dimension, the best
distribution and every missing point with its reason; then the catalogue's score and band."""

from __future__ import annotations

from creative_graph.harvest import Harvest
from creative_graph.mqa import (
    DIMENSIONS,
    DISTRIBUTION_MAXIMUM,
    MAXIMUM,
    CatalogueScore,
    Check,
    DatasetScore,
)


def lines(url: str, harvest: Harvest, result: CatalogueScore) -> list[str]:
    out = [f"{url}: {len(harvest.pages)} page(s), {len(result.datasets)} dataset(s)"]
    out += [f"  harvest: {note}" for note in harvest.notes]
    for dataset in result.datasets:
        out += ["", *_dataset(dataset)]
    if result.problems:
        out += ["", f"catalogue-level SHACL results (not scored): {len(result.problems)}"]
        out += [f"  {problem}" for problem in result.problems]
    out += [
        "",
        f"catalogue: {result.total}/{MAXIMUM} {result.band} "
        f"(rounded mean of {len(result.datasets)} dataset score(s); Excellent is 351 or more)",
    ]
    return out


def _dataset(dataset: DatasetScore) -> list[str]:
    scores = dataset.dimensions()
    name = dataset.identifier or dataset.title or dataset.iri
    out = [
        f"{name}: {dataset.total}/{MAXIMUM} {dataset.band}  <{dataset.iri}>",
        "  " + " · ".join(f"{d} {scores[d]}/{top}" for d, top in DIMENSIONS.items()),
    ]
    best = dataset.best
    if best is None:
        out.append("  best distribution: none (the dataset has no dcat:distribution)")
    else:
        out.append(
            f"  best distribution: <{best.iri}> {best.total}/{DISTRIBUTION_MAXIMUM} "
            f"(of {len(dataset.distributions)})"
        )
    missing = dataset.missing()
    out += [f"  -{c.lost:<3} {c.indicator.dimension}: {_why(c)}" for c in missing]
    if not missing:
        out.append("  nothing missing")
    return out


def _why(check: Check) -> str:
    return f"{check.indicator.label} [{check.indicator.metric}]: {check.note}"


def as_json(url: str, harvest: Harvest, result: CatalogueScore) -> dict:
    return {
        "url": url,
        "pages": harvest.pages,
        "harvest_notes": harvest.notes,
        "score": result.total,
        "maximum": MAXIMUM,
        "band": result.band,
        "datasets": [_dataset_json(d) for d in result.datasets],
        "catalogue_problems": result.problems,
    }


def _dataset_json(dataset: DatasetScore) -> dict:
    best = dataset.best
    return {
        "iri": dataset.iri,
        "identifier": dataset.identifier,
        "title": dataset.title,
        "score": dataset.total,
        "band": dataset.band,
        "dimensions": dataset.dimensions(),
        "best_distribution": None if best is None else {"iri": best.iri, "score": best.total},
        "distributions": [{"iri": d.iri, "score": d.total} for d in dataset.distributions],
        "checks": [_check_json(c) for c in dataset.checks],
        "missing": [_check_json(c) for c in dataset.missing()],
        "shacl_results": dataset.problems,
    }


def _check_json(check: Check) -> dict:
    indicator = check.indicator
    return {
        "indicator": indicator.metric,
        "label": indicator.label,
        "dimension": indicator.dimension,
        "on": indicator.on,
        "points": check.points,
        "weight": indicator.points,
        "lost": check.lost,
        "note": check.note,
    }
