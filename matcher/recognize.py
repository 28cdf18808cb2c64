"""Recognise the kind of a need or offer from its Chinese title and description.

Evidence comes from three sources, all precomputed per catalogue (`Recognizer`):

* **kind terms**: each non-root kind's Chinese name and synonyms (砂糖橘苗, 茶叶采购 ...);
* **product stems**: the common beginning (at least two characters) of terms of kinds in
  *different* categories (茶叶 of 茶叶采购 / 茶叶种植 / 茶叶苗): a stem alone names the product,
  not what is done with it, so it supports every kind of that family and no category;
* **category cues**: words saying what kind of aid it is (采购/滞销 purchase, 培训 training,
  岗位 jobs, 资金 funds ...), including the terms of the category roots.

Matching is longest-first: a match inside a longer match is dropped (砂糖橘苗 is a seedling, the
砂糖橘 inside it says nothing more). Title matches weigh 1, description matches 0.5. A kind term
weighs 0.3 when it only describes something else: followed by 户/基地/合作社/厂 ... (砂糖橘种植户),
overlapping a later term of another lineage, or before a request verb with a term after it
(扶贫车间需要通三相电). A stem never rivals a kind its category names by a term (油茶林杀虫剂).
The confidence of a kind is P(category) x P(kind | category) x strength:

* P(category): the category's squared evidence over all categories' squared evidence (plus a
  little smoothing); cues and kind terms of one category count, product words (terms or stems
  of several categories: 茶叶, 大米) count for none; 1 when the caller knows the category;
* P(kind | category): the evidence for the kind and its descendants over that plus the best
  rival in the category that is neither its ancestor nor its descendant (two tied leaves get
  0.5 each, their parent 1);
* strength: min(1, evidence / 0.5): 1 from one title term, less for a lone description stem.

Category roots are never recognised (they say no more than the category). `best_kind` returns
a kind only when its confidence reaches `THRESHOLD`, else None: it declines rather than guesses.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache

from matcher.kinds import Catalogue, Kind, covers

THRESHOLD = 0.6
TITLE_WEIGHT = 1.0
DESCRIPTION_WEIGHT = 0.5
STEM_WEIGHT = 0.6
# A kind term followed by one of these is an attribute of something else (砂糖橘种植户).
ATTRIBUTE_SUFFIXES: tuple[str, ...] = (
    "户", "大户", "基地", "园区", "合作社", "示范", "企业", "公司", "协会", "专业", "产业园", "厂",
)
# What follows one of these is what is asked for: kind terms before it only describe the asker
# (砂糖橘种植户急需复合肥, 扶贫车间需要通三相电).
REQUEST_VERBS: tuple[str, ...] = ("需要", "急需", "想要", "申请", "缺少", "缺乏", "缺", "要")
ATTRIBUTE_FACTOR = 0.3
# Evidence for a kind at which its strength is full (one title term is 1, a title stem 0.6).
FULL_STRENGTH = 0.5
# Added to the evidence of all categories when shares are taken: faint evidence stays faint.
CATEGORY_SMOOTHING = 0.1

# Words that say which category a text is about, with how much they say.
CATEGORY_CUES: dict[str, dict[str, float]] = {
    "purchase": {
        "采购": 1.5, "收购": 1.5, "订单": 1.5, "滞销": 2.0, "销售": 1.5, "帮销": 2.0, "代销": 2.0,
        "销路": 2.0, "卖难": 2.0, "认购": 1.5, "订购": 1.5, "求购": 1.5, "消费扶贫": 2.0,
        "以购代捐": 2.0, "助销": 2.0, "推销": 1.5, "供货": 1.0, "斤": 0.6, "公斤": 0.6,
        "农产品": 1.0, "销": 0.5, "购": 0.3,
    },
    "training": {
        "培训": 2.0, "技术": 1.0, "培训班": 2.0, "讲座": 1.5, "学习班": 2.0, "技术指导": 1.5,
        "课程": 1.0, "授课": 1.5, "传授": 1.0, "实训": 1.5, "学习": 0.5,
        "技能": 1.0, "种植": 0.3,
    },
    "jobs": {
        "岗位": 2.0, "务工": 1.5, "用工": 2.0, "招聘": 2.0, "招工": 2.0, "就业": 1.5,
        "工人": 1.0, "工资": 1.0, "月薪": 1.5, "日薪": 1.5, "包吃住": 1.5, "员工": 1.0,
        "工作": 0.5, "上岗": 1.5, "招": 0.5,
    },
    "goods": {
        "捐赠": 0.3, "物资": 1.0, "捐": 0.3, "赠送": 0.3, "发放": 0.3, "御寒": 0.5,
    },
    "funds": {
        "资金": 1.5, "元": 0.3, "万元": 0.5, "补助": 1.0, "补贴": 1.0, "奖补": 1.5, "经费": 1.5,
        "款": 0.5, "捐款": 1.5, "善款": 1.5, "救助": 1.0,
    },
    "infrastructure": {
        "项目": 0.3, "工程": 1.0, "建设": 1.0, "修建": 1.5, "新建": 1.0, "硬化": 1.5,
        "改造": 0.8, "修缮": 1.0, "维修": 0.8, "铺设": 1.5, "安装": 0.5, "基础设施": 2.0,
        "施工": 1.0, "扩建": 1.0, "建": 0.3,
    },
    "education": {
        "助学": 1.5, "学生": 0.5, "上学": 0.5, "读书": 0.5, "学费": 1.5, "入学": 1.0,
        "辍学": 1.5, "就读": 1.0, "学业": 1.0, "贫困生": 1.5, "在读": 1.0,
    },
    "medical": {
        "义诊": 1.5, "医疗": 1.5, "看病": 1.5, "就医": 1.5, "医生": 1.0, "治疗": 1.0,
        "手术": 1.5, "患者": 1.0, "筛查": 1.5, "病": 0.3, "医院": 1.0, "健康": 0.5,
    },
}

_VARIANTS: tuple[tuple[str, str], ...] = (
    ("桔", "橘"), ("沙糖橘", "砂糖橘"), ("砂糖柑", "砂糖橘"), ("沙糖柑", "砂糖橘"),
)
_SEPARATORS = re.compile(r"[^\w]+|_")
_MICRO_WISH = re.compile(r"^\s*微心愿\s*[:：]?\s*")


def normalise(text: str) -> str:
    """Width-fold (NFKC), lower-case, fold variants (沙糖桔 -> 砂糖橘), punctuation to '|'."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = _MICRO_WISH.sub("", text)
    for variant, canonical in _VARIANTS:
        text = text.replace(variant, canonical)
    return _SEPARATORS.sub("|", text).strip("|")


@dataclass(frozen=True)
class Guess:
    """One recognised kind and how sure the recogniser is, in [0, 1]."""

    code: str
    confidence: float


@dataclass(frozen=True)
class _Entry:
    """What a matched string says: evidence per kind, and per category."""

    kinds: tuple[tuple[str, float], ...]  # (kind code, weight)
    categories: tuple[tuple[str, float], ...]  # (category, weight)
    is_kind_term: bool


@dataclass(frozen=True)
class _Match:
    start: int
    end: int
    entry: _Entry
    weight: float


def _common_prefix(a: str, b: str) -> str:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return a[:n]


def _related(a: _Entry, b: _Entry) -> bool:
    """True when some kind of one entry is an ancestor or descendant of some kind of the other."""
    return any(covers(x, y) or covers(y, x) for x, _ in a.kinds for y, _ in b.kinds)


class Recognizer:
    """Kind recognition for one catalogue: its terms, stems and cues, built once."""

    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue
        kinds = [k for k in catalogue.kinds if not k.retired]
        self._kinds: dict[str, Kind] = {k.code: k for k in kinds}
        term_kinds: dict[str, set[str]] = defaultdict(set)
        cues: dict[str, dict[str, float]] = defaultdict(dict)
        for category, words in CATEGORY_CUES.items():
            for word, weight in words.items():
                cues[normalise(word)][category] = weight
        for kind in kinds:
            for term in {normalise(t) for t in (kind.name_zh, *kind.synonyms)}:
                if not term:
                    continue
                if kind.depth == 0:
                    cues[term][kind.category] = max(cues[term].get(kind.category, 0.0), 1.5)
                else:
                    term_kinds[term].add(kind.code)
        # Product stems: common beginnings of terms of kinds in different categories.
        stem_kinds: dict[str, set[str]] = defaultdict(set)
        terms = sorted(term_kinds)
        for i, a in enumerate(terms):
            for b in terms[i + 1:]:
                stem = _common_prefix(a, b)
                if len(stem) < 2:
                    continue
                cats = {c.split(".", 1)[0] for c in term_kinds[a] | term_kinds[b]}
                if len(cats) > 1 and stem not in cues:
                    stem_kinds[stem] |= term_kinds[a] | term_kinds[b]
        for stem in stem_kinds:
            # Every kind with a term beginning with the stem belongs to its family.
            stem_kinds[stem] |= {c for t, cs in term_kinds.items() if t.startswith(stem)
                                 for c in cs}
        entries: dict[str, _Entry] = {}
        for text in set(term_kinds) | set(stem_kinds) | set(cues):
            weights: dict[str, float] = {c: STEM_WEIGHT for c in stem_kinds.get(text, ())}
            weights.update({c: 1.0 for c in term_kinds.get(text, ())})
            categories: dict[str, float] = defaultdict(float)
            kind_cats = {c.split(".", 1)[0] for c in weights}
            if len(kind_cats) == 1:
                # A product word of several categories (茶叶, 大米) says nothing of the category.
                categories[kind_cats.pop()] += 1.0
            for cat, w in cues.get(text, {}).items():
                if text not in term_kinds:
                    categories[cat] += w
            entries[text] = _Entry(
                kinds=tuple(sorted(weights.items())),
                categories=tuple(sorted(categories.items())),
                is_kind_term=bool(weights),
            )
        self._entries = entries
        self._longest = max((len(t) for t in entries), default=1)

    def _matches(self, text: str, weight: float) -> list[_Match]:
        found: list[_Match] = []
        n = len(text)
        for i in range(n):
            for j in range(min(n, i + self._longest), i, -1):
                entry = self._entries.get(text[i:j])
                if entry is not None:
                    found.append(_Match(i, j, entry, weight))
        # Longest match wins: drop a match lying inside a longer one.
        kept = [m for m in found
                if not any(o.start <= m.start and m.end <= o.end and o.end - o.start
                           > m.end - m.start for o in found)]
        terms = [m for m in kept if m.entry.is_kind_term]
        verbs = [i for i in range(len(text)) if text.startswith(REQUEST_VERBS, i)]
        out: list[_Match] = []
        for m in kept:
            w = weight
            if m.entry.is_kind_term and (
                text.startswith(ATTRIBUTE_SUFFIXES, m.end)
                # an earlier term overlapping a later term of another lineage describes it
                or any(m.start < o.start < m.end < o.end and not _related(m.entry, o.entry)
                       for o in terms)
                # a term before a request verb, with a term after it, describes the asker
                or any(m.end <= v and any(o.start >= v for o in terms) for v in verbs)
            ):
                w *= ATTRIBUTE_FACTOR
            out.append(_Match(m.start, m.end, m.entry, w))
        return out

    def recognize(self, title: str, description: str = "",
                  category: str | None = None) -> list[Guess]:
        """The likely kinds, most likely first (ties: the more specific kind first)."""
        matches = self._matches(normalise(title), TITLE_WEIGHT)
        if description:
            matches += self._matches(normalise(description), DESCRIPTION_WEIGHT)
        own: dict[str, float] = defaultdict(float)
        evidence: dict[str, float] = defaultdict(float)
        for m in matches:
            for code, w in m.entry.kinds:
                if category is None or code.split(".", 1)[0] == category:
                    own[code] += w * m.weight
            for cat, w in m.entry.categories:
                evidence[cat] += w * m.weight
        # A product stem does not compete with a kind its category names (油茶林杀虫剂).
        exact = {c for m in matches for c, w in m.entry.kinds if w == 1.0 and c in own}
        for code in {c for m in matches for c, w in m.entry.kinds if w < 1.0} - exact:
            same = [e for e in exact if e.split(".", 1)[0] == code.split(".", 1)[0]]
            if same and not any(covers(e, code) or covers(code, e) for e in same):
                own.pop(code, None)
        if not own:
            return []
        # Squared shares: the leading category stands out from faint evidence for others.
        total = sum(v * v for v in evidence.values()) + CATEGORY_SMOOTHING
        # Evidence for a kind counts for its ancestors too.
        agg: dict[str, float] = defaultdict(float)
        for code, w in own.items():
            node: str | None = code
            while node is not None and node in self._kinds and self._kinds[node].depth > 0:
                agg[node] += w
                node = self._kinds[node].parent
        guesses: list[Guess] = []
        for code, w in agg.items():
            cat = code.split(".", 1)[0]
            p_cat = 1.0 if category is not None else evidence[cat] ** 2 / total
            rival = max((v for c, v in agg.items()
                         if c.split(".", 1)[0] == cat and not covers(c, code)
                         and not covers(code, c)), default=0.0)
            strength = min(1.0, w / FULL_STRENGTH)
            guesses.append(Guess(code, round(p_cat * w / (w + rival) * strength, 4)))
        guesses.sort(key=lambda g: (-g.confidence, -g.code.count("."), g.code))
        return guesses

    def best_kind(self, title: str, description: str = "", category: str | None = None,
                  threshold: float = THRESHOLD) -> str | None:
        """The recognised kind when sure enough, else None.

        From the top-ranked kind, the deepest of its descendants that also reaches the
        threshold is taken (a leaf over its parent when the leaf is clear; the parent when
        its leaves tie).
        """
        guesses = self.recognize(title, description, category)
        if not guesses or guesses[0].confidence < threshold:
            return None
        top = guesses[0].code
        sure = [g for g in guesses if g.confidence >= threshold and covers(top, g.code)]
        return max(sure, key=lambda g: (g.code.count("."), g.confidence)).code


@lru_cache(maxsize=8)
def recognizer_for(catalogue: Catalogue) -> Recognizer:
    """The recogniser of a catalogue, built once per catalogue."""
    return Recognizer(catalogue)


def recognize(title: str, description: str, catalogue: Catalogue,
              category: str | None = None) -> list[Guess]:
    """The likely kinds of a need or offer, most likely first, each with its confidence."""
    return recognizer_for(catalogue).recognize(title, description, category)


def best_kind(title: str, description: str, catalogue: Catalogue,
              category: str | None = None, threshold: float = THRESHOLD) -> str | None:
    """The single recognised kind if its confidence reaches the threshold, else None."""
    return recognizer_for(catalogue).best_kind(title, description, category, threshold)

