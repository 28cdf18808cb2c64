"""Project sameness (项目趋同化): how concentrated a county's funded categories are."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from matcher.categories import CATEGORIES


@dataclass(frozen=True)
class FundedProject:
    """One village funded in one category (on a day, if known)."""

    village: str
    county: str
    category: str
    day: date | None = None


def project_sameness(
    projects: Iterable[FundedProject],
    county: str,
    start: date | None = None,
    end: date | None = None,
) -> float:
    """Normalised Herfindahl of funded categories over a county's villages, 0 (even) to 1 (same).

    Each (village, category) counts once; 1 means every funded village got the same kind of
    project, 0 means the categories are spread evenly over the whole taxonomy. Projects
    without a day count in any period; 0 when nothing was funded.
    """
    pairs = {
        (p.village, p.category)
        for p in projects
        if p.county == county
        and (p.day is None or ((start is None or p.day >= start) and (end is None or p.day <= end)))
    }
    if not pairs:
        return 0.0
    counts = Counter(category for _village, category in pairs)
    total = sum(counts.values())
    hhi = sum((c / total) ** 2 for c in counts.values())
    k = len(CATEGORIES)
    return max(0.0, (hhi - 1 / k) / (1 - 1 / k))
