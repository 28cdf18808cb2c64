"""How an offer's kinds meet a need's, in words: the allocation lists and the explanations.

Its own module, below web.services.explain and web.i18n alike: both use it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from matcher.kinds import Catalogue, covers
from web.services.translate import _


def kind_name(catalogue: Catalogue, code: str, lang: str) -> str:
    """A kind's name in `lang` (its code when the catalogue does not know it)."""
    kind = catalogue.get(code)
    if kind is None:
        return code
    return kind.name_en if lang == "en" else kind.name_zh


def kind_names(catalogue: Catalogue, codes: Iterable[str], lang: str) -> str:
    """Several kinds by name, joined as `lang` joins them."""
    return (", " if lang == "en" else "、").join(kind_name(catalogue, c, lang) for c in codes)


def kind_match(
    catalogue: Catalogue,
    items: Sequence[str],
    need_item: str | None,
    accepts: Sequence[str],
    lang: str = "zh",
) -> str:
    """How an offer's kinds meet a need's: 供给 X → 需求 Y, or through an alternative it takes."""
    need = kind_name(catalogue, need_item, lang) if need_item else _("a need of no named kind")
    if not items:
        return _("general offer → need %(need)s", need=need)
    for given in items:
        if need_item and covers(given, need_item):
            offered = kind_name(catalogue, given, lang)
            return _("offer %(offer)s → need %(need)s", offer=offered, need=need)
    for given in items:
        for alternative in accepts:
            if covers(given, alternative):
                return _(
                    "offer %(offer)s → need %(need)s, through %(alternative)s, which it also "
                    "accepts",
                    offer=kind_name(catalogue, given, lang),
                    need=need,
                    alternative=kind_name(catalogue, alternative, lang),
                )
    offered = kind_names(catalogue, items, lang)
    return _("offer %(offer)s → need %(need)s", offer=offered, need=need)
