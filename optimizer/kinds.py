"""Kinds (spec v1.1): what exactly is needed or offered inside a category.

A kind is a non-empty string of dot-separated codes, most general first
(``goods.school.desks``). Kind A *covers* B when B == A or B starts with A + ".". An offer
with no items is general; otherwise one of its items must cover the need's item or one of its
accepted alternatives. The model only compares strings (no catalogue here: the optimizer
never imports matcher).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from optimizer.model import Need, Offer


def covers(general: str, specific: str) -> bool:
    """True when kind `general` is `specific` or one of its ancestors."""
    return specific == general or specific.startswith(general + ".")


def prefixes(kind: str) -> Iterator[str]:
    """Every kind that covers `kind`, most general first: a, a.b, a.b.c."""
    end = kind.find(".")
    while end != -1:
        yield kind[:end]
        end = kind.find(".", end + 1)
    yield kind


def wanted(need: Need) -> tuple[str, ...]:
    """The kinds a need takes: its item, then its alternatives (empty: general offers only)."""
    return ((need.item,) if need.item is not None else ()) + need.accepts


def fits(items: Sequence[str], kinds: Iterable[str]) -> bool:
    """Whether an offer with `items` may serve a need that takes `kinds` (its wanted kinds)."""
    if not items:
        return True
    return any(covers(g, w) for w in kinds for g in items)


def offer_fits(offer: Offer, need: Need) -> bool:
    """The kind rule of eligibility for one (offer, need) pair."""
    return not offer.items or fits(offer.items, wanted(need))


def kind_problem(value: object) -> str | None:
    """Why `value` is not a kind, or None when it is one."""
    if not isinstance(value, str) or not value:
        return "must be a non-empty string"
    if any(not code or code != code.strip() for code in value.split(".")):
        return "must be dot-separated non-empty codes without surrounding spaces"
    return None


class NeedsByKind:
    """Needs indexed by (category, every prefix of every kind they take), so an offer's items
    find the needs they cover by lookups instead of testing every need of its category."""

    def __init__(self, needs: Sequence[Need], subset: Iterable[int] | None = None) -> None:
        self._index: dict[tuple[str, str], list[int]] = {}
        for n in range(len(needs)) if subset is None else subset:
            need = needs[n]
            seen: set[str] = set()
            for kind in wanted(need):
                for prefix in prefixes(kind):
                    if prefix not in seen:
                        seen.add(prefix)
                        self._index.setdefault((need.category, prefix), []).append(n)

    def covered(self, category: str, items: Iterable[str]) -> list[int]:
        """The needs of `category` that some kind in `items` covers, in index order."""
        lists = [self._index.get((category, k), []) for k in set(items)]
        lists = [found for found in lists if found]
        if len(lists) == 1:
            return lists[0]
        return sorted({n for found in lists for n in found})
