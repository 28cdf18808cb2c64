"""Ineligibility reasons as sentences in Chinese or English, for villages and donors.

Kinds are named from a catalogue when the caller passes one (``catalogue=``); without one, or
for a code the catalogue lacks, the code itself is shown.
"""

from __future__ import annotations

from matcher.categories import BY_CODE
from matcher.eligibility import Ineligibility, Param, Reason, Verdict
from matcher.kinds import Catalogue

LANGUAGES = ("zh", "en")

_TEMPLATES: dict[Reason, dict[str, str]] = {
    Reason.CATEGORY: {
        "zh": "类别不同：捐赠为“{offer}”，需求为“{need}”",
        "en": "Different category: the offer is {offer}, the need is {need}",
    },
    Reason.KIND: {
        "zh": "品类不符：供给是{offer}，需求是{need}",
        "en": "Different kind: the offer is {offer}, the need is {need}",
    },
    Reason.COUNTY: {
        "zh": "不在捐赠指定的县区内（本村属{county}，限{allowed}）",
        "en": "Outside the offer's counties (the village is in {county}; allowed: {allowed})",
    },
    Reason.PAIRED_VILLAGE: {
        "zh": "本村不是该帮扶单位结对帮扶的村",
        "en": "The village is not one of the paired unit's villages",
    },
    Reason.DISTANCE: {
        "zh": "距离太远：{km} 公里，超过距离折扣允许的 {max_km} 公里",
        "en": "Too far: {km} km, beyond the {max_km} km the distance discount allows",
    },
    Reason.EXPIRED: {
        "zh": "捐赠有效期已过（截至 {until}，本周为 {on}）",
        "en": "The offer's validity window is over (it ended {until}; this week is {on})",
    },
    Reason.UNVERIFIED: {
        "zh": "需求尚未经乡镇审核",
        "en": "The need has not been verified by the township",
    },
    Reason.MIN_LOT: {
        "zh": "起捐量 {min_lot} 大于本村可承接的同类需求剩余总量 {room}",
        "en": "The minimum lot {min_lot} is larger than the village can absorb ({room})",
    },
    Reason.INDIVISIBLE: {
        "zh": "捐赠不可拆分，数量 {quantity} 大于本村可承接的同类需求剩余总量 {room}",
        "en": "The offer is indivisible and its quantity {quantity} exceeds what the village "
        "can absorb ({room})",
    },
}


def _category_name(code: object, lang: str) -> str:
    """A category's name in the language, or the code itself if unknown."""
    cat = BY_CODE.get(str(code))
    if cat is None:
        return str(code)
    return cat.name_zh if lang == "zh" else cat.name_en


# KIND when the need names no kind: then it takes general offers only.
_NO_KIND: dict[str, str] = {
    "zh": "品类不符：供给是{offer}，需求未指明品类，只接受不限品类的供给",
    "en": "Different kind: the offer is {offer}; the need names no kind and takes general "
    "offers only",
}
_KIND_JOINERS = {"zh": ("、", "或"), "en": (", ", " or ")}


def _kind_names(codes: Param, lang: str, catalogue: Catalogue | None, joiner: str) -> str:
    """Kinds by name in the language (their codes when the catalogue lacks them), joined."""
    names = []
    for code in codes if isinstance(codes, tuple) else (str(codes),):
        kind = catalogue.get(code) if catalogue is not None else None
        names.append(code if kind is None else kind.name_zh if lang == "zh" else kind.name_en)
    return joiner.join(names)


def _number(value: object) -> str:
    """A figure without a spurious '.0'."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def message(item: Ineligibility, lang: str = "zh", *, catalogue: Catalogue | None = None) -> str:
    """The reason as a sentence in 'zh' or 'en', kinds named from the catalogue if given."""
    if lang not in LANGUAGES:
        raise ValueError(f"unsupported language {lang!r}; use one of {LANGUAGES}")
    if item.reason is Reason.KIND:
        both, either = _KIND_JOINERS[lang]
        offer = _kind_names(item.params["offer"], lang, catalogue, both)
        need = _kind_names(item.params["need"], lang, catalogue, either)
        template = _TEMPLATES[Reason.KIND] if need else _NO_KIND
        return template[lang].format(offer=offer, need=need)
    params = {k: _number(v) for k, v in item.params.items()}
    if item.reason is Reason.CATEGORY:
        params = {k: _category_name(v, lang) for k, v in item.params.items()}
    if item.reason is Reason.COUNTY and lang == "en":
        params["allowed"] = params["allowed"].replace("、", ", ")
    return _TEMPLATES[item.reason][lang].format(**params)


def messages(
    verdict: Verdict, lang: str = "zh", *, catalogue: Catalogue | None = None
) -> tuple[str, ...]:
    """Every reason of a verdict as sentences, in order."""
    return tuple(message(r, lang, catalogue=catalogue) for r in verdict.reasons)
