"""Precision and recall of the duplicate-need finder on the labelled pairs, per split and kind.

Run: .venv/bin/python benchmarks/dedupe_bench.py [--threshold 70]
The threshold was chosen on the dev split; the test split (other base needs) is held out; the
fresh split was written after the vocabulary was frozen (things and words it has not seen).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from datetime import date
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from matcher.dedupe import DUPLICATE_THRESHOLD, NeedText, need_score

PAIRS = Path(__file__).resolve().parents[1] / "tests/matcher/data/dedupe_pairs.json"


def need(rec: dict[str, Any]) -> NeedText:
    """A pair-file record as a NeedText."""
    return NeedText(
        id=rec["id"], village=rec["village"], category=rec["category"], title=rec["title"],
        description=rec["description"], quantity=rec["quantity"], household=rec["household"],
        start=date.fromisoformat(rec["start"]), end=date.fromisoformat(rec["end"]),
    )


def load() -> list[dict[str, Any]]:
    """The labelled pairs."""
    pairs: list[dict[str, Any]] = json.loads(PAIRS.read_text(encoding="utf-8"))
    return pairs


def scores(pairs: list[dict[str, Any]], threshold: float) -> dict[str, float]:
    """Precision, recall and F1 of the finder's verdicts on some pairs."""
    tp = fp = fn = 0
    for p in pairs:
        said = need_score(need(p["a"]), need(p["b"])) >= threshold
        tp += said and p["label"] == 1
        fp += said and p["label"] == 0
        fn += (not said) and p["label"] == 1
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"pairs": len(pairs), "precision": precision, "recall": recall, "f1": f1}


def per_kind(pairs: list[dict[str, Any]], threshold: float) -> dict[str, str]:
    """Per kind of pair: how many the finder labels right."""
    right: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for p in pairs:
        said = need_score(need(p["a"]), need(p["b"])) >= threshold
        right[p["kind"]][0] += said == (p["label"] == 1)
        right[p["kind"]][1] += 1
    return {k: f"{r}/{n} right (label {'dup' if k in _DUP_KINDS else 'not dup'})"
            for k, (r, n) in sorted(right.items())}


_DUP_KINDS = {"paraphrase", "numeral", "width_punct", "unit", "quantity_only"}


def main() -> None:
    """Print the figures for all pairs, each split, and each kind."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--threshold", type=float, default=DUPLICATE_THRESHOLD)
    parser.add_argument("--errors", action="store_true", help="list the pairs it gets wrong")
    args = parser.parse_args()
    pairs = load()
    print(f"threshold {args.threshold}")
    for name, subset in (("all", pairs), ("dev", [p for p in pairs if p["split"] == "dev"]),
                         ("test (held out)", [p for p in pairs if p["split"] == "test"]),
                         ("fresh (unseen)", [p for p in pairs if p["split"] == "fresh"])):
        s = scores(subset, args.threshold)
        print(f"{name:16} pairs {s['pairs']:4}  precision {s['precision']:.3f}  "
              f"recall {s['recall']:.3f}  F1 {s['f1']:.3f}")
    print("per kind (all pairs):")
    for kind, line in per_kind(pairs, args.threshold).items():
        print(f"  {kind:15} {line}")
    if args.errors:
        for p in pairs:
            s = need_score(need(p["a"]), need(p["b"]))
            if (s >= args.threshold) != (p["label"] == 1):
                print(f"{p['id']} {p['kind']} {s:.1f}: {p['a']['title']} / {p['a']['description']}"
                      f" || {p['b']['title']} / {p['b']['description']}")


if __name__ == "__main__":
    main()
