"""Duplicate needs and offers: the same asker wanting the same thing twice, in other words."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from rapidfuzz import fuzz

from matcher.kinds import covers
from matcher.normalize import different_things, objects, tokens

# Score (0..100) from which two texts of the same asker are taken for the same need; chosen
# on the dev split of tests/matcher/data/dedupe_pairs.json (benchmarks/dedupe_bench.py).
DUPLICATE_THRESHOLD = 70.0


@dataclass(frozen=True)
class NeedText:
    """A need as entered: who asks (village, household), what, and for when."""

    id: str
    village: str
    category: str
    title: str
    description: str = ""
    quantity: int | None = None
    household: str | None = None
    start: date | None = None
    end: date | None = None
    item: str | None = None  # the kind asked for (spec v1.1), when named


@dataclass(frozen=True)
class OfferText:
    """An offer as posted by a donor."""

    id: str
    donor: str
    category: str
    title: str
    description: str = ""
    quantity: int | None = None
    start: date | None = None
    end: date | None = None


@dataclass(frozen=True)
class DuplicateMatch:
    """An existing record that is likely the same as the candidate, with its score (0..100)."""

    id: str
    score: float


def _overlap(a_start: date | None, a_end: date | None, b_start: date | None,
             b_end: date | None) -> bool:
    """True when two periods overlap; an open end overlaps everything on that side."""
    return (a_end is None or b_start is None or b_start <= a_end) and (
        b_end is None or a_start is None or a_start <= b_end
    )


@dataclass(frozen=True)
class _Prepared:
    """A text normalised once: title tokens, all tokens, and the things each names."""

    title: str
    full: str
    title_size: int
    title_objects: frozenset[str]
    full_objects: frozenset[str]


def _prepare(title: str, description: str) -> _Prepared:
    """Normalise a title and description for comparison."""
    t = tokens(title)
    f = t + tokens(description)
    return _Prepared(" ".join(t), " ".join(f), len(t), objects(t), objects(f))


def _similarity(a: _Prepared, b: _Prepared) -> float:
    """How alike two prepared texts are, 0..100; 0 if they name different things."""
    if different_things(a.title_objects, b.title_objects) or different_things(
        a.full_objects, b.full_objects
    ):
        return 0.0
    title = fuzz.token_set_ratio(a.title, b.title)
    full = fuzz.token_set_ratio(a.full, b.full)
    # The title says what is asked for; the description mostly says why, so it only tips.
    return max(title, full) if min(a.title_size, b.title_size) < 2 else 0.6 * title + 0.4 * full


def text_similarity(title_a: str, desc_a: str, title_b: str, desc_b: str) -> float:
    """How alike two need or offer texts are, 0..100, after normalisation; 0 if different things."""
    return _similarity(_prepare(title_a, desc_a), _prepare(title_b, desc_b))


def _same_asker(a: NeedText, b: NeedText) -> bool:
    """Same village, category, household and kind (when both name one), overlapping periods."""
    if a.village != b.village or a.category != b.category:
        return False
    if a.household is not None and b.household is not None and a.household != b.household:
        return False
    # Desks are never a repeat of fertiliser; a kind and one of its own kinds may be.
    if a.item and b.item and not (covers(a.item, b.item) or covers(b.item, a.item)):
        return False
    return _overlap(a.start, a.end, b.start, b.end)


def _same_donor(a: OfferText, b: OfferText) -> bool:
    """Same donor and category, overlapping periods."""
    same = a.donor == b.donor and a.category == b.category
    return same and _overlap(a.start, a.end, b.start, b.end)


def need_score(a: NeedText, b: NeedText) -> float:
    """Duplicate score of two needs: 0 unless the same asker, category and overlapping period."""
    if not _same_asker(a, b):
        return 0.0
    return text_similarity(a.title, a.description, b.title, b.description)


def offer_score(a: OfferText, b: OfferText) -> float:
    """Duplicate score of two offers: 0 unless the same donor, category and overlapping period."""
    if not _same_donor(a, b):
        return 0.0
    return text_similarity(a.title, a.description, b.title, b.description)


def likely_duplicates(
    candidate: NeedText,
    existing: Sequence[NeedText],
    *,
    threshold: float = DUPLICATE_THRESHOLD,
) -> tuple[DuplicateMatch, ...]:
    """The existing needs the candidate likely repeats, best first (for the entry-time warning)."""
    mine = _prepare(candidate.title, candidate.description)
    found = [
        DuplicateMatch(n.id, round(s, 1))
        for n in existing
        if n.id != candidate.id
        and _same_asker(candidate, n)
        and (s := _similarity(mine, _prepare(n.title, n.description))) >= threshold
    ]
    return tuple(sorted(found, key=lambda m: (-m.score, m.id)))


def _groups(ids: Sequence[str], linked: list[tuple[int, int]]) -> list[list[str]]:
    """Connected groups (size >= 2) of linked items, in input order."""
    parent = list(range(len(ids)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j in linked:
        parent[root(i)] = root(j)
    by_root: dict[int, list[str]] = {}
    for i, item in enumerate(ids):
        by_root.setdefault(root(i), []).append(item)
    # Dicts keep insertion order, so groups come in the order of their first member.
    return [g for g in by_root.values() if len(g) > 1]


def duplicate_need_groups(
    needs: Sequence[NeedText], *, threshold: float = DUPLICATE_THRESHOLD
) -> list[list[str]]:
    """Groups of needs that duplicate one another (only same village and category compared)."""
    blocks: dict[tuple[str, str], list[int]] = {}
    for i, n in enumerate(needs):
        blocks.setdefault((n.village, n.category), []).append(i)
    texts = [_prepare(n.title, n.description) for n in needs]
    linked = [
        (i, j)
        for block in blocks.values()
        for k, i in enumerate(block)
        for j in block[k + 1 :]
        if _same_asker(needs[i], needs[j]) and _similarity(texts[i], texts[j]) >= threshold
    ]
    return _groups([n.id for n in needs], linked)


def duplicate_offer_groups(
    offers: Sequence[OfferText], *, threshold: float = DUPLICATE_THRESHOLD
) -> list[list[str]]:
    """Groups of offers one donor posted more than once."""
    texts = [_prepare(o.title, o.description) for o in offers]
    linked = [
        (i, j)
        for i, a in enumerate(offers)
        for j in range(i + 1, len(offers))
        if _same_donor(a, offers[j]) and _similarity(texts[i], texts[j]) >= threshold
    ]
    return _groups([o.id for o in offers], linked)
