"""Kinds: what exactly is needed or offered inside a category (spec v1.1), and the catalogue.

A kind is a dot-separated code, most general first (``goods.school.desks``); its first part is
its category. A kind *covers* itself and every kind below it (``goods.school`` covers
``goods.school.desks``, never ``goods.schoolbus``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property

from matcher.categories import CATEGORY_CODES


def covers(general: str, specific: str) -> bool:
    """True when kind `general` is `specific` or one of its ancestors."""
    return specific == general or specific.startswith(general + ".")


def category_of(code: str) -> str:
    """The category a kind belongs to: its first part."""
    return code.split(".", 1)[0]


def parent_of(code: str) -> str | None:
    """The kind one level up, or None for a category's root kind."""
    return code.rsplit(".", 1)[0] if "." in code else None


def kind_problem(code: object, category: str) -> str | None:
    """What is wrong with a kind named for a record of this category, or None."""
    if not isinstance(code, str) or not all(code.split(".")):
        return f"kind {code!r} is not a dot-separated code"
    if category_of(code) != category:
        return f"kind {code!r} is not of its category {category!r}"
    return None


def offer_fits(items: Iterable[str], need_item: str | None, accepts: Iterable[str] = ()) -> bool:
    """Spec v1.1: an offer with no items is general; else one of its items covers what the
    need asks for or accepts (a need with no item and no alternatives takes general offers only).
    """
    given = tuple(items)
    if not given:
        return True
    wanted = ((need_item,) if need_item else ()) + tuple(accepts)
    return any(covers(g, w) for g in given for w in wanted)


@dataclass(frozen=True)
class Kind:
    """One entry of the catalogue: names, its integer unit, and what it is worth per unit."""

    code: str
    name_zh: str
    name_en: str
    unit_zh: str
    unit_en: str
    ref_value: float  # reference value of one unit in yuan (元), for totals across kinds
    synonyms: tuple[str, ...] = ()
    alternatives: tuple[str, ...] = ()
    retired: bool = False

    @property
    def category(self) -> str:
        """The category code (the code's first part)."""
        return category_of(self.code)

    @property
    def parent(self) -> str | None:
        """The parent kind's code, or None for a category root."""
        return parent_of(self.code)

    @property
    def depth(self) -> int:
        """0 for a category root, 1 for its children, and so on."""
        return self.code.count(".")


@dataclass(frozen=True)
class Catalogue:
    """A tree of kinds under the eight categories, looked up by code."""

    kinds: tuple[Kind, ...]
    _index: dict[str, Kind] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_index", {k.code: k for k in self.kinds})

    def __contains__(self, code: object) -> bool:
        return code in self._index

    def __len__(self) -> int:
        return len(self.kinds)

    def get(self, code: str) -> Kind | None:
        """The kind with this code, or None."""
        return self._index.get(code)

    def __getitem__(self, code: str) -> Kind:
        return self._index[code]

    @cached_property
    def children(self) -> Mapping[str | None, tuple[Kind, ...]]:
        """Each kind's direct children (None: the category roots), in catalogue order."""
        out: dict[str | None, list[Kind]] = {}
        for kind in self.kinds:
            out.setdefault(kind.parent, []).append(kind)
        return {parent: tuple(kinds) for parent, kinds in out.items()}

    def leaves(self) -> tuple[Kind, ...]:
        """Kinds with no children (what a need most often names)."""
        return tuple(k for k in self.kinds if k.code not in self.children)

    def active(self) -> Catalogue:
        """The catalogue without retired kinds (what forms offer), built once per catalogue."""
        return self._active

    @cached_property
    def _active(self) -> Catalogue:
        if not any(k.retired for k in self.kinds):
            return self
        return Catalogue(tuple(k for k in self.kinds if not k.retired))

    def problems(self) -> list[str]:
        """What is wrong with the tree: unknown categories, orphans, duplicates, bad units."""
        out: list[str] = []
        seen: set[str] = set()
        for kind in self.kinds:
            if kind.code in seen:
                out.append(f"{kind.code}: duplicate code")
            seen.add(kind.code)
            if kind.category not in CATEGORY_CODES:
                out.append(f"{kind.code}: unknown category {kind.category!r}")
            if kind.parent is not None and kind.parent not in self._index:
                out.append(f"{kind.code}: parent {kind.parent!r} is not in the catalogue")
            if not kind.unit_zh or not kind.unit_en:
                out.append(f"{kind.code}: no unit")
            if not kind.ref_value > 0:
                out.append(f"{kind.code}: reference value must be > 0")
            for alt in kind.alternatives:
                if alt not in self._index or category_of(alt) != kind.category:
                    out.append(f"{kind.code}: alternative {alt!r} is not a kind of its category")
        return out

    def value_in_yuan(self, code: str | None, category: str, quantity: float) -> float:
        """折合金额: a quantity at its kind's reference value (the category root's if unknown)."""
        kind = self.get(code) if code else None
        kind = kind or self.get(category)
        return quantity * (kind.ref_value if kind else 0.0)

    def units_covered(self, items: Iterable[str]) -> frozenset[str]:
        """The units of every kind the items cover: an offer's quantity is one number, so what
        it gives must count in one unit (a parent such as 种苗 covers 株 and 棒: it cannot)."""
        return frozenset(
            k.unit_zh for k in self.kinds if any(covers(item, k.code) for item in items)
        )

    def unit_of(self, code: str | None, category: str) -> Kind | None:
        """The kind whose unit a quantity is counted in (the category root's if none named)."""
        kind = self.get(code) if code else None
        return kind or self.get(category)


def catalogue_of(kinds: Sequence[Kind]) -> Catalogue:
    """A catalogue of these kinds, refused with every problem if the tree is not sound."""
    catalogue = Catalogue(tuple(kinds))
    problems = catalogue.problems()
    if problems:
        raise ValueError("; ".join(problems))
    return catalogue
