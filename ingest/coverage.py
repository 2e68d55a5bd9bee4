"""Link coverage: how many of a source's actors are linked to each kind of reference data."""

from __future__ import annotations

from dataclasses import dataclass

from creative_graph.namespaces import CV
from ingest.identity import enterprise_numbers, units_by_actor
from ingest.linking import COUNTRY, NUTS, REFNIS
from ingest.staging import Staging


@dataclass(frozen=True)
class Coverage:
    actors: int
    municipality: int
    nuts3: int
    country: int
    enterprise_number: int
    sector: int

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)

    def summary(self) -> str:
        if not self.actors:
            return "no actors"
        parts = [
            f"{name.replace('_', ' ')} {count}/{self.actors} ({100 * count / self.actors:.0f}%)"
            for name, count in self.as_dict().items()
            if name != "actors"
        ]
        return "links: " + ", ".join(parts)


def coverage(staging: Staging, actors: list[str]) -> Coverage:
    """Count the actors linked to each kind of reference data (after identity and the gate)."""
    wanted = set(actors)
    units = units_by_actor(staging)
    numbered = {actor for actor, number in enterprise_numbers(staging) if number}
    with_sector = {
        a for (a,) in staging.select(f"SELECT DISTINCT ?a WHERE {{ ?a <{CV.sector}> ?s }}")
    }
    counts = dict.fromkeys(("municipality", "nuts3", "country", "enterprise_number", "sector"), 0)
    for actor in wanted:
        linked = units.get(actor, set())
        counts["municipality"] += any(u.startswith(REFNIS) for u in linked)
        counts["nuts3"] += any(u.startswith(NUTS) and len(u) - len(NUTS) == 5 for u in linked)
        counts["country"] += any(u.startswith(COUNTRY) for u in linked)
        counts["enterprise_number"] += actor in numbered
        counts["sector"] += actor in with_sector
    return Coverage(actors=len(wanted), **counts)
