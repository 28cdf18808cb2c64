"""Hezhou's starting catalogue of kinds (seeds/data/catalogue.csv), shipped with the platform.

The CSV's Chinese headers are the administrator's import template too (web imports the same
columns), so the seed and an imported sheet are read alike.
"""

from __future__ import annotations

import csv
import io
from functools import lru_cache
from importlib import resources

from matcher.kinds import Catalogue, Kind, catalogue_of

CATALOGUE_FILE = "catalogue.csv"
# Column headers, in order, of the seed CSV and the catalogue import sheet.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("code", "编码"),
    ("name_zh", "中文名"),
    ("name_en", "英文名"),
    ("unit_zh", "单位"),
    ("unit_en", "英文单位"),
    ("ref_value", "参考单价（元）"),
    ("synonyms", "同义词"),
    ("alternatives", "替代品类"),
)
LIST_SEPARATOR = "|"


def split_list(text: str) -> tuple[str, ...]:
    """A '|'-separated cell as a tuple of its non-empty, stripped parts."""
    return tuple(part.strip() for part in text.split(LIST_SEPARATOR) if part.strip())


def kind_from_row(row: dict[str, str]) -> Kind:
    """One CSV row (Chinese headers) as a Kind."""
    get = {field: (row.get(header) or "").strip() for field, header in COLUMNS}
    return Kind(
        code=get["code"],
        name_zh=get["name_zh"],
        name_en=get["name_en"],
        unit_zh=get["unit_zh"],
        unit_en=get["unit_en"],
        ref_value=float(get["ref_value"]),
        synonyms=split_list(get["synonyms"]),
        alternatives=split_list(get["alternatives"]),
    )


@lru_cache(maxsize=1)
def hezhou_catalogue() -> Catalogue:
    """The starting catalogue, checked (a broken seed file fails loudly)."""
    text = resources.files("seeds").joinpath("data", CATALOGUE_FILE).read_text(encoding="utf-8")
    return catalogue_of([kind_from_row(row) for row in csv.DictReader(io.StringIO(text))])
