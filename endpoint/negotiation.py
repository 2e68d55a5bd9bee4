"""HTTP content negotiation: pick the best of the media types we offer for an Accept header."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class MediaRange:
    type: str
    subtype: str
    q: float

    def specificity(self, media_type: str) -> int:
        """3 exact, 2 type/*, 1 */*, 0 no match."""
        main, _, sub = media_type.partition("/")
        if self.type == "*":
            return 1
        if self.type != main:
            return 0
        if self.subtype == "*":
            return 2
        return 3 if self.subtype == sub else 0


def parse_accept(header: str | None) -> list[MediaRange]:
    """Media ranges of an Accept header; malformed q values count as q=1 (be liberal)."""
    ranges = []
    for part in (header or "").split(","):
        fields = [f.strip() for f in part.split(";")]
        main, _, sub = fields[0].lower().partition("/")
        if not main or not sub:
            continue
        q = 1.0
        for parameter in fields[1:]:
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 1.0
                q = min(max(q, 0.0), 1.0) if math.isfinite(q) else 1.0
        ranges.append(MediaRange(main, sub, q))
    return ranges


def choose(accept: str | None, offers: Sequence[str]) -> str | None:
    """The offer the client prefers most; the first offer when it states no preference.

    Each offer takes the q of the most specific range that matches it (RFC 9110 §12.5.1);
    ties go to the earlier offer. Returns None when every offer is unacceptable (406).
    """
    ranges = parse_accept(accept)
    if not ranges:
        return offers[0] if offers else None
    best, best_q = None, 0.0
    for offer in offers:
        matches = [(r.specificity(offer), r.q) for r in ranges if r.specificity(offer)]
        if not matches:
            continue
        q = max(matches)[1]
        if q > best_q:
            best, best_q = offer, q
    return best
