"""Realistic integer quantities per aid category, drawn log-uniformly and rounded to nice values."""

from __future__ import annotations

import math
import random

# (low, high) of one need's quantity in the category's unit (see matcher.categories).
NEED_RANGES: dict[str, tuple[int, int]] = {
    "funds": (5_000, 200_000),
    "goods": (20, 600),
    "training": (20, 300),
    "jobs": (3, 40),
    "purchase": (10_000, 300_000),
    "infrastructure": (1, 1),
    "education": (3, 40),
    "medical": (30, 400),
}
# (low, high) of one offer's quantity; individuals give a tenth of it.
OFFER_RANGES: dict[str, tuple[int, int]] = {
    "funds": (10_000, 300_000),
    "goods": (50, 2_000),
    "training": (60, 1_500),
    "jobs": (5, 80),
    "purchase": (20_000, 500_000),
    "infrastructure": (1, 3),
    "education": (10, 200),
    "medical": (50, 1_000),
}


def nice(value: float) -> int:
    """Round to two significant digits (small values to the integer), never below 1."""
    if value < 100:
        return max(1, round(value))
    step = 10 ** (int(math.log10(value)) - 1)
    return int(round(value / step) * step)


def draw(rng: random.Random, low: float, high: float) -> int:
    """Draw a nice integer log-uniformly in [low, high]; small ranges are drawn uniformly."""
    if high <= 10:
        return rng.randint(int(low), int(high))
    return nice(math.exp(rng.uniform(math.log(low), math.log(high))))
