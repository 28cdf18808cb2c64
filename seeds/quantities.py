"""Realistic integer quantities per kind of aid, drawn log-uniformly and rounded to nice values.

Each kind counts in its own unit (seeds/data/catalogue.csv: 化肥 in 袋, 茶苗 in 株, 课桌椅 in
套, funds in 元, training in 人天...), so ranges are given per kind; a kind without a range of
its own takes its nearest ancestor's (the category's as the last resort).
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from typing import TypeVar

from matcher.kinds import parent_of

T = TypeVar("T")

# (low, high) of one village need's quantity, in the kind's unit.
NEED_RANGES: dict[str, tuple[int, int]] = {
    "funds": (5_000, 200_000),  # 元
    "funds.collective": (50_000, 300_000),
    "funds.relief": (2_000, 50_000),
    "funds.education": (5_000, 60_000),
    "funds.medical": (5_000, 80_000),
    "goods": (10, 150),
    "goods.agri.fertiliser": (20, 300),  # 袋 (50 kg)
    "goods.agri.pesticide": (20, 300),  # 瓶
    "goods.agri.sprayer": (5, 60),  # 台
    "goods.agri.tools": (2, 10),  # 台
    "goods.seedling": (2_000, 50_000),  # 株
    "goods.seedling.tea": (10_000, 200_000),  # 株 (some 4 000 plants per mu)
    "goods.seedling.orange": (1_000, 20_000),  # 株
    "goods.seedling.mushroom": (5_000, 50_000),  # 棒
    "goods.living": (10, 150),  # 床, 套, 台, 个
    "goods.living.grain_oil": (20, 200),  # 份
    "goods.school.desks": (10, 80),  # 套
    "goods.school.stationery": (10, 100),  # 套
    "goods.school.books": (200, 2_000),  # 册
    "goods.school.lamp": (10, 60),  # 盏
    "goods.school.computer": (2, 20),  # 台
    "goods.health": (2, 20),
    "training": (20, 300),  # 人天
    "training.leader": (5, 40),
    "jobs": (3, 40),  # 个岗位
    "jobs.local.public": (1, 10),
    "purchase": (10_000, 300_000),  # 元
    "purchase.poultry": (5_000, 80_000),
    "infrastructure": (1, 1),  # 个项目
    "education": (3, 40),  # 名学生
    "education.stipend.university": (1, 5),
    "education.meals": (20, 120),
    "medical": (30, 400),  # 人次
    "medical.cataract": (3, 30),
    "medical.rehab": (5, 50),
}
# An offer's first draft is drawn from its kind's need range scaled by these factors (before
# calibration scales each kind's supply to its share of demand); individuals give a tenth.
OFFER_FACTORS = (2.0, 6.0)
# Projects per infrastructure offer: (1, 2, 3) with these weights.
PROJECT_WEIGHTS = (0.6, 0.25, 0.15)


def nearest(kind: str, table: Mapping[str, T]) -> T:
    """A kind's entry in a table keyed by kinds: its own, else its nearest ancestor's."""
    code: str | None = kind
    while code is not None:
        if code in table:
            return table[code]
        code = parent_of(code)
    raise KeyError(kind)


def range_of(kind: str) -> tuple[int, int]:
    """The (low, high) of one village need of a kind, in the kind's unit."""
    return nearest(kind, NEED_RANGES)


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
