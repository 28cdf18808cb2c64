"""Write dedupe_pairs.json, the labelled duplicate set, from the hand-written bases.

Run: .venv/bin/python -m tests.matcher.data.make_dedupe_pairs  (deterministic; seed fixed)

Labelling rules (docs/matcher.md): a duplicate is the same village (and the same household,
when a household is named) asking for the same thing in an overlapping period, however worded.
Only-the-quantity-differs counts as a duplicate: a second entry of the same thing is a revision
or a double count, and the administrator should merge it. Different villages, different
households, different things, other categories or periods that do not overlap are not duplicates.
Bases with an even index form the dev split, odd ones the held-out test split; FRESH_BASES,
written after the vocabulary was frozen, form the `fresh` split.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

from tests.matcher.data.bases import BASES, FRESH_BASES, Base, Text

VILLAGES = (
    "451123108210", "451122108204", "451102103204", "451102106209", "451123104202",
    "451102101212", "451121103202", "451102106205", "451121109201", "451102101201",
    "451121103213", "451122106203", "451123203205", "451102109203", "451121206211",
)
HOUSEHOLDS = ("黄某某", "李某某", "莫某某", "邓某某", "盘某某", "赵某某", "陈某某", "钟某某")
DIGITS = "零一二三四五六七八九"


def chinese_number(n: int) -> str:
    """Write 0 < n < 10^8 in Chinese numerals the way cadres do (十五, 五万, 一百二十)."""
    if n >= 10000:
        hi, lo = divmod(n, 10000)
        rest = "" if lo == 0 else ("零" if lo < 1000 else "") + chinese_number(lo)
        return chinese_number(hi) + "万" + rest
    out, zero = "", False
    for value, name in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        d, n = divmod(n, value)
        if d:
            if zero and out:
                out += "零"
            out += ("" if (value == 10 and d == 1 and not out) else DIGITS[d]) + name
            zero = False
        else:
            zero = True
    return out


def fullwidth(text: str) -> str:
    """ASCII letters, digits and punctuation as their full-width forms."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def render(text: Text, n: int, style: str) -> Text:
    """Fill in the quantity: digits, Chinese numerals, full-width digits, or no unit after it."""
    title, desc = text
    number = {"digits": str(n), "chinese": chinese_number(n), "fullwidth": fullwidth(str(n))}
    value = number.get(style, str(n))
    return title.replace("{n}", value), desc.replace("{n}", value)


def punctuate(text: Text, rng: random.Random) -> Text:
    """Cadre-style punctuation noise: half-width commas, spaces, brackets, trailing marks."""
    title, desc = text
    desc = desc.replace("，", rng.choice([",", " ", "，", "；"]))
    desc = desc.replace("、", rng.choice(["/", "，"]))
    title = title.replace("（", "(").replace("）", ")")
    return title + rng.choice(["", "！", "。", " "]), desc + rng.choice(["", "。", "!!", "…"])


UNITS = ("人次", "人天", "公里", "元", "吨", "床", "袋", "株", "盏", "斤", "个", "套", "名",
         "处", "座", "辆", "台", "册", "本", "例", "箱", "双", "副", "根", "卷")


def drop_unit(text: Text, n: int) -> Text:
    """Remove the unit after the quantity ('50套' -> '50'), as hurried cadres do."""
    title, desc = text
    for unit in UNITS:
        title = title.replace(f"{n}{unit}", f"{n}", 1)
    return title, desc


def record(base: Base, text: Text, village: str, household: str | None, qty: int,
           start: str = "2026-11-01", end: str = "2026-12-31") -> dict[str, Any]:
    """One need as the pair file stores it."""
    return {"village": village, "household": household, "category": base.category,
            "title": text[0], "description": text[1], "quantity": qty,
            "start": start, "end": end}


def pairs_for(i: int, base: Base, rng: random.Random, split: str = "") -> list[dict[str, Any]]:
    """Positives and hard negatives built around one base need."""
    village = rng.choice(VILLAGES)
    other_village = rng.choice([v for v in VILLAGES if v != village])
    hh = rng.sample(HOUSEHOLDS, 2) if base.household else [None, None]
    n = base.n
    orig = render(base.forms[0], n, "digits")

    def rec(text: Text, v: str = village, h: str | None = hh[0], q: int = n,
            **period: str) -> dict[str, Any]:
        """A record of this base in the pair's village, by default."""
        return record(base, text, v, h, q, **period)

    out: list[tuple[str, int, dict[str, Any], dict[str, Any]]] = []
    for form in base.forms[1:]:
        style = rng.choice(["digits", "chinese", "fullwidth"])
        out.append(("paraphrase", 1, rec(orig), rec(punctuate(render(form, n, style), rng))))
    out.append(("numeral", 1, rec(orig), rec(render(base.forms[0], n, "chinese"))))
    out.append(("width_punct", 1, rec(orig),
                rec(punctuate(render(base.forms[0], n, "fullwidth"), rng))))
    out.append(("unit", 1, rec(orig), rec(drop_unit(orig, n))))
    other_n = n * rng.choice([2, 3]) if n > 1 else n + 1
    form = rng.choice(base.forms)
    out.append(("quantity_only", 1, rec(orig),
                rec(render(form, other_n, rng.choice(["digits", "chinese"])), q=other_n)))
    out.append(("other_village", 0, rec(orig),
                rec(render(rng.choice(base.forms), n, "digits"), v=other_village, h=hh[1])))
    for sib in base.siblings:
        style = rng.choice(["digits", "chinese"])
        out.append(("other_object", 0, rec(orig), rec(render(sib, n, style))))
    if base.household:
        out.append(("other_household", 0, rec(orig), rec(orig, h=hh[1])))
    out.append(("other_period", 0, rec(orig),
                rec(render(base.forms[-1], n, "digits"), start="2026-03-01", end="2026-04-30")))
    far = BASES[(i + 7) % len(BASES)]  # a base of another category, for an easy negative
    if far.category != base.category:
        out.append(("other_category", 0, rec(orig),
                    record(far, render(far.forms[0], far.n, "digits"), village, hh[0], far.n)))
    split = split or ("dev" if i % 2 == 0 else "test")
    return [{"kind": k, "label": y, "split": split, "base": i, "a": a, "b": b}
            for k, y, a, b in out]


def main() -> None:
    """Build every pair and write the JSON next to this script."""
    rng = random.Random(20261125)
    pairs = [p for i, base in enumerate(BASES) for p in pairs_for(i, base, rng)]
    pairs += [p for i, base in enumerate(FRESH_BASES, start=len(BASES))
              for p in pairs_for(i, base, rng, split="fresh")]
    for k, p in enumerate(pairs):
        p["id"] = f"P{k:04d}"
        p["a"]["id"], p["b"]["id"] = f"P{k:04d}a", f"P{k:04d}b"
    path = Path(__file__).with_name("dedupe_pairs.json")
    path.write_text(json.dumps(pairs, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"{len(pairs)} pairs -> {path}")


if __name__ == "__main__":
    main()
