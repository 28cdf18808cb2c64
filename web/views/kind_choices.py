"""The two-level kind picker's choices: kinds grouped under their first-level kind."""

from __future__ import annotations

from flask_babel import gettext as _
from wtforms import SelectChoice

from matcher.kinds import Catalogue, Kind
from web.i18n import is_english


def kind_label(kind: Kind) -> str:
    """A kind's name with its unit, in the current language."""
    if is_english():
        return f"{kind.name_en} ({kind.unit_en})"
    return f"{kind.name_zh}（{kind.unit_zh}）"


def _group_of(kind: Kind) -> str:
    """The code of the group a kind is listed under: its first-level ancestor."""
    parts = kind.code.split(".")
    return ".".join(parts[:2])


def kind_choices(catalogue: Catalogue, *, parents: bool) -> list[SelectChoice]:
    """Options of the active kinds below the category roots in optgroups of their first-level
    kind, each tagged with its category; with `parents` a first-level kind that has children is
    itself a choice ("any of …")."""
    active = catalogue.active()
    out: list[SelectChoice] = []
    for kind in active.kinds:
        if kind.depth == 0:
            continue
        group = active.get(_group_of(kind))
        root = active.get(kind.category)
        has_children = group is not None and group.code in active.children
        title = group if has_children and group is not None else root
        if title is None:
            continue
        group_name = title.name_en if is_english() else title.name_zh
        data = {"data-category": kind.category}
        if kind.depth == 1 and has_children:
            if parents:
                label = _("any of %(kind)s", kind=kind_label(kind))
                out.append(SelectChoice(kind.code, label, data, group_name))
            continue
        out.append(SelectChoice(kind.code, kind_label(kind), data, group_name))
    return out
