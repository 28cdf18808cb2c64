"""The 十一有一低于 village exit checklist: eleven things a village must have and one rate."""

from __future__ import annotations

# A paraphrase of Guangxi's poor-village exit standard (贫困村脱贫摘帽"十一有一低于"), not its
# official wording: (code, Chinese label, English label). The last item is the one rate.
CHECKLIST_ITEMS: tuple[tuple[str, str, str], ...] = (
    ("industry", "有特色产业", "Has a pillar industry"),
    ("road", "有通村屯硬化路", "Has hardened roads to the village and its hamlets"),
    ("water", "有安全饮用水", "Has safe drinking water"),
    ("power", "有通动力电", "Has three-phase (motive) power"),
    ("broadband", "有通宽带网络", "Has broadband internet"),
    ("tv", "有广播电视", "Has radio and television coverage"),
    ("culture", "有综合文化活动室", "Has a public cultural activity room"),
    ("clinic", "有标准化卫生室", "Has a standard village clinic"),
    ("school", "有义务教育保障", "Has access to compulsory schooling"),
    ("income", "有村集体经济收入", "Has collective economic income"),
    ("housing", "有安全住房", "Has safe housing for all households"),
    ("incidence", "贫困发生率低于3%", "Poverty incidence below 3%"),
)

CHECKLIST_CODES: tuple[str, ...] = tuple(code for code, _, _ in CHECKLIST_ITEMS)

# Poverty incidence (fraction of the registered population still poor) a village must stay below.
INCIDENCE_THRESHOLD = 0.03
