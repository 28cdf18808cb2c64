"""The aid category taxonomy: one code per kind of aid, with its unit, in Chinese and English."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Category:
    """A kind of aid and the integer unit its quantities are counted in."""

    code: str
    name_zh: str
    name_en: str
    unit_zh: str
    unit_en: str


CATEGORIES: tuple[Category, ...] = (
    Category("funds", "资金", "Funds", "元", "CNY"),
    Category("goods", "物资", "Goods", "件", "items"),
    Category("training", "技能培训", "Training", "人天", "person-days"),
    Category("jobs", "就业岗位", "Jobs", "个岗位", "positions"),
    Category("purchase", "消费扶贫订单", "Purchase orders", "元", "CNY"),
    Category("infrastructure", "基础设施项目", "Infrastructure", "个项目", "projects"),
    Category("education", "助学", "Education", "名学生", "students"),
    Category("medical", "医疗帮扶", "Medical aid", "人次", "person-visits"),
)

CATEGORY_CODES: frozenset[str] = frozenset(c.code for c in CATEGORIES)
BY_CODE: dict[str, Category] = {c.code: c for c in CATEGORIES}
