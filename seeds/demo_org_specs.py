"""The invented demo organizations: name, home district, the kinds they offer, vetting."""

from __future__ import annotations

from dataclasses import dataclass

CITY = ""  # home district code for city- or region-level actors
BABU, PINGGUI, ZHAOPING, ZHONGSHAN, FUCHUAN = "451102", "451103", "451121", "451122", "451123"


@dataclass(frozen=True)
class OrgSpec:
    """A fixed organization of the demo; names are invented (units are real-sounding).

    lines are the offers it can post, one per line: catalogue kinds joined by '+' (every kind
    they cover counted in one unit; a parent kind such as jobs.away offers everything under
    it), or '*category' for a general offer of that category (no items: rare,
    e.g. a paired unit's 不限用途 funds). product is its own crop
    (茶叶, 脐橙...), named by texts such as 采摘季节工.
    """

    kind: str
    name: str
    home: str
    lines: tuple[str, ...]
    product: str = ""
    pending: bool = False

    @property
    def categories(self) -> tuple[str, ...]:
        """The categories it offers in, in the order its lines first name them."""
        return tuple(dict.fromkeys(line_category(line) for line in self.lines))


def line_items(line: str) -> tuple[str, ...]:
    """The kinds an offer line offers (empty for a general offer '*category')."""
    return () if line.startswith("*") else tuple(line.split("+"))


def line_category(line: str) -> str:
    """The category of an offer line."""
    return line.lstrip("*").split("+", 1)[0].split(".", 1)[0]


def _specs(kind: str, rows: tuple[tuple[str, str, str, str, bool], ...]) -> tuple[OrgSpec, ...]:
    """Expand compact rows (name, home, space-separated offer lines, product, pending)."""
    return tuple(OrgSpec(kind, n, h, tuple(c.split()), p, pend) for n, h, c, p, pend in rows)


_COUNTY_GOV = (
    "infrastructure.road infrastructure.water.drinking infrastructure.culture_room "
    "infrastructure.clinic infrastructure.broadband funds.industry training.crop.{p} "
    "jobs.local.public medical.checkup"
)

ENTERPRISES = _specs(
    "enterprise",
    (
        (
            "贺州市瑶香茶业有限公司",
            BABU,
            "purchase.tea training.crop.tea jobs.local.seasonal funds.industry",
            "茶叶",
            False,
        ),
        (
            "昭平县云岭茶业有限公司",
            ZHAOPING,
            "purchase.tea training.crop.tea jobs.local.workshop goods.seedling.tea",
            "茶叶",
            False,
        ),
        ("昭平县桂江茶叶专业合作社", ZHAOPING, "purchase.tea training.crop.tea", "茶叶", False),
        (
            "贺州市绿源油茶开发有限公司",
            PINGGUI,
            "purchase.oiltea training.crop.oiltea goods.seedling.oiltea",
            "油茶",
            False,
        ),
        (
            "昭平县金山茶油有限公司",
            ZHAOPING,
            "purchase.oiltea jobs.local.workshop training.crop.oiltea",
            "油茶",
            False,
        ),
        (
            "钟山县金果砂糖橘专业合作社",
            ZHONGSHAN,
            "purchase.orange training.crop.orange jobs.local.seasonal",
            "砂糖橘",
            False,
        ),
        (
            "贺州市桂东果业有限公司",
            BABU,
            "purchase.orange jobs.local.seasonal goods.seedling.orange",
            "砂糖橘",
            False,
        ),
        (
            "富川瑶族自治县瑶乡脐橙开发有限公司",
            FUCHUAN,
            "purchase.orange training.crop.orange jobs.local.seasonal",
            "脐橙",
            False,
        ),
        (
            "八步区山里香食用菌有限公司",
            BABU,
            "purchase.mushroom training.crop.mushroom goods.seedling.mushroom",
            "食用菌",
            False,
        ),
        (
            "贺州市百草园中药材种植有限公司",
            PINGGUI,
            "purchase.herb training.crop.herb goods.seedling.herb",
            "中药材",
            False,
        ),
        (
            "钟山县荣丰中药材有限公司",
            ZHONGSHAN,
            "purchase.herb training.crop.herb",
            "中药材",
            False,
        ),
        (
            "贺州市新农电子商务有限公司",
            BABU,
            "purchase training.ecommerce jobs.local.workshop",
            "农特产品",
            False,
        ),
        (
            "贺州市桂嘉农产品冷链物流有限公司",
            PINGGUI,
            "purchase.poultry+purchase.produce jobs.away.logistics",
            "农特产品",
            False,
        ),
        (
            "贺州市长寿食品有限公司",
            BABU,
            "purchase.poultry purchase.produce jobs.local.workshop funds.collective",
            "农特产品",
            False,
        ),
        (
            "贺州市瑶绣服饰有限公司",
            FUCHUAN,
            "jobs.local.workshop training.embroidery",
            "瑶绣",
            False,
        ),
        (
            "广西贺州华晟电子科技有限公司",
            PINGGUI,
            "jobs.away.factory training.trades funds.relief",
            "",
            False,
        ),
        (
            "贺州市恒达建筑工程有限公司",
            BABU,
            "infrastructure.road infrastructure.housing jobs.away.construction funds.collective",
            "",
            False,
        ),
        (
            "贺州市石韵新材料有限公司",
            PINGGUI,
            "jobs.away.factory funds.industry infrastructure.road",
            "",
            False,
        ),
        ("钟山县华源家具有限公司", ZHONGSHAN, "jobs.local.workshop goods.school.desks", "", False),
        (
            "贺州市乐业人力资源服务有限公司",
            BABU,
            "jobs.away jobs.away.factory training.housekeeping",
            "",
            False,
        ),
        (
            "富川瑶族自治县丰裕农业发展有限公司",
            FUCHUAN,
            "purchase.mushroom goods.seedling.mushroom training.crop.mushroom",
            "食用菌",
            False,
        ),
        (
            "昭平县古镇乡村旅游开发有限公司",
            ZHAOPING,
            "jobs.local.seasonal training.ecommerce purchase.poultry+purchase.produce",
            "农特产品",
            False,
        ),
        (
            "贺州市惠民大药房连锁有限公司",
            BABU,
            "medical.chronic medical.checkup goods.health.glasses",
            "",
            False,
        ),
        (
            "贺州市明德教育科技有限公司",
            BABU,
            "education.tutoring goods.school.computer goods.school.lamp",
            "",
            False,
        ),
        (
            "钟山县阳光农资有限公司",
            ZHONGSHAN,
            "goods.agri.fertiliser goods.agri.pesticide goods.agri.sprayer training.crop",
            "",
            False,
        ),
        (
            "昭平县天成建设工程有限公司",
            ZHAOPING,
            "infrastructure.road infrastructure.water.irrigation jobs.away.construction",
            "",
            False,
        ),
        (
            "钟山县贡柑种植专业合作社",
            ZHONGSHAN,
            "purchase.orange training.crop.orange",
            "贡柑",
            True,
        ),
        ("平桂区桂花香米业有限公司", PINGGUI, "purchase.produce", "大米", True),
        ("贺州市速达网络科技有限公司", BABU, "jobs.away.logistics training.ecommerce", "", True),
    ),
)

NGOS = _specs(
    "ngo",
    (
        (
            "贺州市慈善总会",
            CITY,
            "funds.relief goods.living.winter_clothes education.stipend "
            "medical.cataract goods.living.grain_oil",
            "",
            False,
        ),
        (
            "贺州市乡村振兴促进会",
            CITY,
            "funds.industry+funds.collective training.leader purchase",
            "农特产品",
            False,
        ),
        (
            "贺州市青年志愿者协会",
            CITY,
            "education.tutoring goods.school.books training.ecommerce",
            "",
            False,
        ),
        (
            "贺州市妇女儿童发展基金会",
            CITY,
            "education.stipend.compulsory goods.school.stationery goods.living.winter_clothes "
            "funds.education",
            "",
            False,
        ),
        (
            "贺州市残疾人福利基金会",
            CITY,
            "goods.health.glasses goods.health.hearing_aid goods.health.wheelchair "
            "goods.health.crutch medical.rehab funds.medical",
            "",
            False,
        ),
        (
            "贺州市医师协会",
            CITY,
            "medical.checkup medical.chronic medical.cataract training.housekeeping",
            "",
            False,
        ),
        (
            "贺州市农村专业技术协会",
            CITY,
            "training.crop training.livestock goods.agri.fertiliser",
            "茶叶",
            False,
        ),
        ("贺州市电子商务协会", CITY, "purchase training.ecommerce", "农特产品", False),
        (
            "贺州市爱心助学协会",
            CITY,
            "education.stipend.high_school education.stipend.university funds.education",
            "",
            False,
        ),
        (
            "贺州市义工联合会",
            CITY,
            "goods.living.quilt goods.living.heater goods.living.rice_cooker+goods.living.kettle "
            "medical.checkup",
            "",
            False,
        ),
        (
            "贺州市红十字会",
            CITY,
            "medical.checkup funds.medical goods.living.quilt goods.health.glasses",
            "",
            False,
        ),
        (
            "富川瑶族自治县瑶族文化促进会",
            FUCHUAN,
            "training.embroidery funds.collective",
            "瑶绣",
            False,
        ),
        ("昭平县茶叶协会", ZHAOPING, "training.crop.tea purchase.tea", "茶叶", False),
        (
            "深圳市鹏程公益基金会",
            CITY,
            "funds.education education.meals goods.school.desks goods.school.lamp "
            "goods.health.hearing_aid",
            "",
            False,
        ),
        ("贺州市同心互助协会", CITY, "goods.living.grain_oil funds.relief", "", True),
        ("贺州市乡音公益服务中心", CITY, "education.tutoring training.housekeeping", "", True),
    ),
)

PAIRED_UNITS = _specs(
    "paired_unit",
    (
        (
            "贺州市农业农村局",
            CITY,
            "training.crop goods.agri.fertiliser purchase funds.industry",
            "茶叶",
            False,
        ),
        (
            "贺州市教育局",
            CITY,
            "education.stipend goods.school.desks goods.school.stationery education.meals",
            "",
            False,
        ),
        (
            "贺州市卫生健康委员会",
            CITY,
            "medical.checkup medical.chronic training.housekeeping",
            "",
            False,
        ),
        ("贺州市交通运输局", CITY, "infrastructure.road funds.collective", "", False),
        (
            "贺州市水利局",
            CITY,
            "infrastructure.water.drinking infrastructure.water.irrigation funds.industry",
            "",
            False,
        ),
        (
            "贺州市住房和城乡建设局",
            CITY,
            "infrastructure.housing infrastructure.waste funds.relief",
            "",
            False,
        ),
        (
            "贺州市人力资源和社会保障局",
            CITY,
            "jobs.away jobs.local.public training.trades training.housekeeping",
            "",
            False,
        ),
        ("贺州市商务局", CITY, "purchase training.ecommerce", "农特产品", False),
        ("贺州市财政局", CITY, "*funds infrastructure.lighting", "", False),
        (
            "贺州市自然资源局",
            CITY,
            "infrastructure.road *funds jobs.local.public",
            "",
            False,
        ),
        (
            "贺州市供销合作社联合社",
            CITY,
            "purchase.poultry+purchase.produce goods.agri.fertiliser goods.agri.pesticide",
            "农特产品",
            False,
        ),
        (
            "广西壮族自治区农业农村厅",
            CITY,
            "funds.industry training.crop.oiltea infrastructure.water.irrigation",
            "油茶",
            False,
        ),
        ("广西壮族自治区交通运输厅", CITY, "infrastructure.road funds.collective", "", False),
        (
            "贺州学院",
            CITY,
            "education.tutoring training.ecommerce training.leader",
            "",
            False,
        ),
        (
            "贺州市人民医院",
            CITY,
            "medical.checkup medical.cataract medical.rehab",
            "",
            False,
        ),
        ("国网贺州供电局", CITY, "infrastructure.power funds.collective", "", False),
        (
            "八步区民政局",
            BABU,
            "goods.living.grain_oil goods.living.quilt funds.relief",
            "",
            False,
        ),
        (
            "平桂区农业农村局",
            PINGGUI,
            "training.crop.herb goods.seedling.herb goods.agri.sprayer",
            "中药材",
            False,
        ),
        ("钟山县人民医院", ZHONGSHAN, "medical.checkup+medical.chronic medical.chronic", "", False),
        (
            "昭平县教育局",
            ZHAOPING,
            "education.stipend.compulsory goods.school.desks education.meals",
            "",
            False,
        ),
        (
            "富川瑶族自治县卫生健康局",
            FUCHUAN,
            "medical.checkup medical.chronic training.housekeeping",
            "",
            False,
        ),
    ),
)

GOVERNMENTS = _specs(
    "government",
    (
        (
            "贺州市乡村振兴局",
            CITY,
            "funds.industry funds.collective training.leader jobs.local.public "
            "infrastructure.water.drinking infrastructure.broadband infrastructure.power "
            "infrastructure.waste infrastructure.lighting",
            "",
            False,
        ),
        ("八步区人民政府", BABU, _COUNTY_GOV.replace("{p}", "tea"), "", False),
        ("平桂区人民政府", PINGGUI, _COUNTY_GOV.replace("{p}", "herb"), "", False),
        ("昭平县人民政府", ZHAOPING, _COUNTY_GOV.replace("{p}", "oiltea"), "", False),
        ("钟山县人民政府", ZHONGSHAN, _COUNTY_GOV.replace("{p}", "orange"), "", False),
        ("富川瑶族自治县人民政府", FUCHUAN, _COUNTY_GOV.replace("{p}", "mushroom"), "", False),
    ),
)

# Individual donors (爱心人士) are shown by surname only.
INDIVIDUALS = _specs(
    "individual",
    tuple(
        (
            f"爱心人士{surname}**",
            home,
            "goods.school.stationery goods.living.quilt education.stipend.compulsory funds.relief",
            "",
            surname == "罗",
        )
        for surname, home in (
            ("陈", BABU),
            ("李", PINGGUI),
            ("黄", ZHAOPING),
            ("梁", ZHONGSHAN),
            ("莫", FUCHUAN),
            ("钟", BABU),
            ("邓", CITY),
            ("廖", PINGGUI),
            ("覃", ZHAOPING),
            ("何", CITY),
            ("罗", BABU),
        )
    ),
)

KEY_PREFIX = {
    "enterprise": "ent",
    "ngo": "ngo",
    "paired_unit": "unit",
    "individual": "ind",
    "government": "gov",
}
ALL_SPECS: tuple[OrgSpec, ...] = ENTERPRISES + NGOS + PAIRED_UNITS + GOVERNMENTS + INDIVIDUALS
