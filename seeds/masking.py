"""Masked personal data for demo records: surname-only names and partly hidden phone numbers."""

from __future__ import annotations

import random

# Common surnames in Hezhou, including the Yao surnames 盘 and 奉.
SURNAMES = (
    "黄",
    "李",
    "陈",
    "梁",
    "莫",
    "钟",
    "邓",
    "廖",
    "覃",
    "何",
    "罗",
    "周",
    "盘",
    "赵",
    "冯",
    "唐",
    "蒋",
    "奉",
    "谢",
    "林",
)
MOBILE_PREFIXES = ("133", "135", "136", "138", "139", "150", "151", "177", "180", "187", "189")


def masked_name(rng: random.Random) -> str:
    """Return a surname followed by ** (e.g. 黄**)."""
    return rng.choice(SURNAMES) + "**"


def masked_phone(rng: random.Random) -> str:
    """Return a mobile number with its middle four digits hidden (e.g. 138****1234)."""
    return f"{rng.choice(MOBILE_PREFIXES)}****{rng.randrange(10000):04d}"
