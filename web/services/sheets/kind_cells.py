"""Kinds in spreadsheets: reading a kind cell (Chinese names or codes), writing one back.

A cell names one or several kinds by their Chinese name (茶苗) or code (goods.seedling.tea),
separated by | or 、. This module only turns the text into codes and codes into text; whether
those kinds may be named for a need or an offer, and what is recognised when none is named, is
decided by web.services.kinds (need_kind / offer_kinds), as for the forms.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from flask_babel import gettext as _

from matcher.kinds import Catalogue, Kind
from web.i18n import is_english
from web.services.kinds import recognise

# Between the kinds of one cell; codes hold dots and underscores, names none of these.
KIND_SEPARATORS = re.compile(r"[|｜、,，;；]+")
# How an export joins kinds: names as a Chinese list, codes as the catalogue's lists.
NAME_JOIN = "、"
CODE_JOIN = "|"
# Where the sheets tell users to look the kinds up.
CATALOGUE_SHEET = "品类表"
CATALOGUE_PAGE = "/admin/kinds"


class KindCellError(ValueError):
    """A kind cell names something that is not one kind of the catalogue; the message says why."""


@dataclass(frozen=True)
class RecognisedKind:
    """A row whose empty kind was filled by recognition from its title."""

    row: int
    title: str
    kind: Kind

    def __str__(self) -> str:
        # The command's language (`duijie import --lang`) or the request's.
        english = is_english()
        name = self.kind.name_en if english else self.kind.name_zh
        return _(
            "Row %(row)s: the kind was recognised from the title “%(title)s” as %(name)s "
            "(%(code)s)",
            row=self.row,
            title=self.title,
            name=name,
            code=self.kind.code,
        )


def kind_codes(catalogue: Catalogue, text: str, category: str) -> tuple[str, ...]:
    """The codes a cell names, in its order without repeats; KindCellError for a part that is
    neither a code nor exactly one kind's Chinese name."""
    codes: list[str] = []
    for part in KIND_SEPARATORS.split(text):
        part = part.strip()
        if part:
            codes.append(_code_of(catalogue, part, category))
    return tuple(dict.fromkeys(codes))


def _code_of(catalogue: Catalogue, part: str, category: str) -> str:
    """The code one part of a cell names: a code as it is, a Chinese name through the catalogue."""
    if part in catalogue:
        return part
    if part.lower() in catalogue:
        return part.lower()
    named = [k for k in catalogue.kinds if k.name_zh == part]
    if len(named) > 1:
        # The same name in two places: the active one of the row's category, if just one.
        ours = [k for k in named if k.category == category and not k.retired]
        if len(ours) == 1:
            return ours[0].code
        raise KindCellError(
            _(
                "“%(name)s” is the name of several kinds (%(codes)s): write the code instead.",
                name=part,
                codes="、".join(k.code for k in named),
            )
        )
    if named:
        return named[0].code
    guess = recognise(catalogue, category, part, "") if category else None
    if guess is not None:
        kind = catalogue[guess]
        hint = _("Perhaps %(name)s (%(code)s)?", name=kind.name_zh, code=guess)
        raise KindCellError(f"{_unknown(part)} {hint}")
    raise KindCellError(_unknown(part))


def _unknown(part: str) -> str:
    return _(
        "Unknown kind “%(value)s”: write a kind's Chinese name or its code, as listed on the "
        "sheet %(sheet)s of the template.",
        value=part,
        sheet=CATALOGUE_SHEET,
    )


def kind_names(catalogue: Catalogue, codes: Iterable[str]) -> str:
    """The Chinese names of kinds for an export cell (a code the catalogue lacks as it is)."""
    return NAME_JOIN.join(_name(catalogue, code) for code in codes)


def _name(catalogue: Catalogue, code: str) -> str:
    kind = catalogue.get(code)
    return kind.name_zh if kind else code


def unit_of_items(catalogue: Catalogue, items: Iterable[str], category: str) -> str:
    """The unit a quantity of these kinds is counted in (the category's with none named)."""
    codes = tuple(items)
    units = catalogue.active().units_covered(codes) if codes else frozenset()
    if len(units) == 1:
        return next(iter(units))
    root = catalogue.get(category)
    return root.unit_zh if (root and not codes) else ""


def same_unit(kind_unit: str, written: str, catalogue: Catalogue) -> bool:
    """True when a unit cell names the kind's unit (in Chinese or, any case, in English)."""
    if written == kind_unit:
        return True
    english = {k.unit_en.lower() for k in catalogue.kinds if k.unit_zh == kind_unit}
    return written.lower() in english


def catalogue_table(catalogue: Catalogue) -> list[list[str | float]]:
    """The active kinds as a sheet: code, Chinese name, unit, reference value, category."""
    table: list[list[str | float]] = [["编码", "中文名", "单位", "参考单价（元）", "所属类别"]]
    active = catalogue.active()
    for kind in active.kinds:
        root = active.get(kind.category)
        table.append(
            [kind.code, kind.name_zh, kind.unit_zh, kind.ref_value, root.name_zh if root else ""]
        )
    return table


KIND_NOTE = (
    f"填品类的中文名（如 茶苗）或编码（如 goods.seedling.tea），模板的「{CATALOGUE_SHEET}」"
    f"工作表列出全部品类，管理员可在 {CATALOGUE_PAGE} 查看；不填则按标题识别，识别不出时须填写"
)


CODES_NOTE = "导出时附带的品类编码，可不填；与中文名同时填写时须一致"


UNIT_NOTE = "可不填：数量按品类的单位计（见品类表）；填写时须与品类的单位一致"


KINDS_GUIDE = (
    "品类可填中文名（如 茶苗、化肥）或编码（如 goods.seedling.tea）。"
    f"全部品类及其编码、单位见本文件的「{CATALOGUE_SHEET}」工作表，"
    f"管理员也可在平台的品类目录页 {CATALOGUE_PAGE} 查看。"
    "品类须属于该行的类别；不填品类时按标题识别，识别结果列在导入报告中，"
    "识别不出的行须填写品类。"
)
