"""Normalise cadres' short Chinese need texts into comparable tokens."""

from __future__ import annotations

import re
import unicodedata

from matcher.vocabulary import HYPERNYMS, OBJECTS, STOP_WORDS, SYNONYMS, VOCABULARY

_DIGIT = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6,
          "七": 7, "八": 8, "九": 9}
_SMALL_UNIT = {"十": 10, "百": 100, "千": 1000}
_NUMERAL = re.compile(r"[零〇一二两三四五六七八九十百千万]+")
# A number followed by 万/千 in figures ("5万元"), read as one quantity.
_SCALED = re.compile(r"(\d+(?:\.\d+)?)([万千])")
# Counting units: a number followed by one is a quantity, not part of what is asked for.
QUANTITY_UNITS: tuple[str, ...] = (
    "人次", "人天", "公里", "千米", "公斤", "平方米", "立方米", "万元", "元", "吨", "斤", "亩",
    "米", "床", "袋", "株", "棵", "盏", "个", "套", "件", "名", "人", "户", "处", "座", "辆",
    "台", "册", "本", "例", "箱", "双", "副", "根", "卷", "份", "张", "块", "只", "头", "条",
    "间", "批", "期", "次", "天", "口", "眼", "瓶", "盒", "包", "部", "把",
)
# Numbers before these name which one (the third group, grade 5): they stay in the text.
ORDINAL_SUFFIXES: tuple[str, ...] = ("村民小组", "小组", "组", "队", "号", "年级", "级", "屯", "社")
_QUANTITY = re.compile(
    r"第?\d+(?:\.\d+)?(?!\d)(?!" + "|".join(ORDINAL_SUFFIXES) + r")(?:"
    + "|".join(sorted(QUANTITY_UNITS, key=len, reverse=True)) + r")?"
)
_ORDINAL = re.compile(r"第?(\d+)(?:" + "|".join(ORDINAL_SUFFIXES) + r")")
_ORDINAL_TOKEN = re.compile(r"\d+组")
_NOT_WORD = re.compile(r"[^\w]+")


def chinese_to_int(text: str) -> int | None:
    """Read a Chinese numeral ('五十', '一百零五', '两万', '二〇二六'); None if it is not one."""
    if not text or any(c not in _DIGIT and c not in _SMALL_UNIT and c != "万" for c in text):
        return None
    if text[0] in "百千万":
        # A bare '千' or '万' is a word ('千米', '万元' after figures), not a number.
        return None
    if all(c in _DIGIT for c in text):
        # Digit by digit, as years are written ('二〇二六'); a lone '一' is one.
        return int("".join(str(_DIGIT[c]) for c in text))
    total = section = digit = 0
    for c in text:
        if c in _DIGIT:
            digit = _DIGIT[c]
        elif c in _SMALL_UNIT:
            section += (digit or 1) * _SMALL_UNIT[c]
            digit = 0
        else:  # 万
            total += (section + digit) * 10000
            section = digit = 0
    return total + section + digit


def _numerals_to_digits(text: str) -> str:
    """Replace Chinese numerals and figures scaled by 万/千 with plain figures."""

    def convert(m: re.Match[str]) -> str:
        value = chinese_to_int(m.group(0))
        return m.group(0) if value is None else str(value)

    text = _SCALED.sub(
        lambda m: str(round(float(m.group(1)) * (10000 if m.group(2) == "万" else 1000))), text
    )
    return _NUMERAL.sub(convert, text)


def fold(text: str) -> str:
    """Width-fold (NFKC), lower-case, figures for numerals, quantities out, ordinals kept."""
    text = unicodedata.normalize("NFKC", text).lower()
    for phrase in STOP_WORDS:
        # Stop phrases go first so that '一批' is not read as the number one.
        if len(phrase) > 1:
            text = text.replace(phrase, " ")
    text = _numerals_to_digits(text)
    text = _ORDINAL.sub(lambda m: f" {m.group(1)}组 ", text)
    text = _QUANTITY.sub(" ", text)
    return _NOT_WORD.sub(" ", text).strip()


def _segment(chunk: str) -> list[str]:
    """Greedy longest match against the vocabulary; other characters stand alone."""
    out: list[str] = []
    i = 0
    while i < len(chunk):
        for j in range(min(len(chunk), i + 8), i, -1):
            if chunk[i:j] in VOCABULARY or j == i + 1:
                out.append(chunk[i:j])
                i = j
                break
    return out


def tokens(text: str) -> list[str]:
    """Canonical content tokens of a text: synonyms merged, stop words and quantities out."""
    out: list[str] = []
    for chunk in fold(text).split():
        if _ORDINAL_TOKEN.fullmatch(chunk) or (chunk.isascii() and not chunk.isdigit()):
            out.append(chunk)
            continue
        for tok in _segment(chunk):
            out.extend(t for t in SYNONYMS.get(tok, tok).split() if t not in STOP_WORDS)
    return out


def objects(toks: list[str]) -> frozenset[str]:
    """The things asked for among the tokens: known object words and numbered groups."""
    return frozenset(t for t in toks if t in OBJECTS or _ORDINAL_TOKEN.fullmatch(t))


def different_things(a: frozenset[str], b: frozenset[str]) -> bool:
    """True when each side names a thing the other does not (a wider word covers a narrower)."""
    wide_a = a | {HYPERNYMS[t] for t in a if t in HYPERNYMS}
    wide_b = b | {HYPERNYMS[t] for t in b if t in HYPERNYMS}
    return bool(a - wide_b) and bool(b - wide_a)
