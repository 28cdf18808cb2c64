"""The invented demo organizations: name, home district, categories offered, product, vetting."""

from __future__ import annotations

from dataclasses import dataclass

CITY = ""  # home district code for city- or region-level actors
BABU, PINGGUI, ZHAOPING, ZHONGSHAN, FUCHUAN = "451102", "451103", "451121", "451122", "451123"


@dataclass(frozen=True)
class OrgSpec:
    """A fixed organization of the demo; names are invented (units are real-sounding)."""

    kind: str
    name: str
    home: str
    categories: tuple[str, ...]
    product: str = ""
    pending: bool = False


def _specs(kind: str, rows: tuple[tuple[str, str, str, str, bool], ...]) -> tuple[OrgSpec, ...]:
    """Expand compact rows (name, home, space-separated categories, product, pending)."""
    return tuple(OrgSpec(kind, n, h, tuple(c.split()), p, pend) for n, h, c, p, pend in rows)


ENTERPRISES = _specs(
    "enterprise",
    (
        ("贺州市瑶香茶业有限公司", BABU, "purchase training jobs funds", "茶叶", False),
        ("昭平县云岭茶业有限公司", ZHAOPING, "purchase training jobs", "茶叶", False),
        ("昭平县桂江茶叶专业合作社", ZHAOPING, "purchase training", "茶叶", False),
        ("贺州市绿源油茶开发有限公司", PINGGUI, "purchase training goods", "油茶", False),
        ("昭平县金山茶油有限公司", ZHAOPING, "purchase jobs training", "油茶", False),
        ("钟山县金果砂糖橘专业合作社", ZHONGSHAN, "purchase training jobs", "砂糖橘", False),
        ("贺州市桂东果业有限公司", BABU, "purchase jobs goods", "砂糖橘", False),
        ("富川瑶族自治县瑶乡脐橙开发有限公司", FUCHUAN, "purchase training jobs", "脐橙", False),
        ("八步区山里香食用菌有限公司", BABU, "purchase training goods", "食用菌", False),
        ("贺州市百草园中药材种植有限公司", PINGGUI, "purchase training goods", "中药材", False),
        ("钟山县荣丰中药材有限公司", ZHONGSHAN, "purchase training", "中药材", False),
        ("贺州市新农电子商务有限公司", BABU, "purchase training jobs", "农特产品", False),
        ("贺州市桂嘉农产品冷链物流有限公司", PINGGUI, "purchase jobs", "农特产品", False),
        ("贺州市长寿食品有限公司", BABU, "purchase jobs funds", "农特产品", False),
        ("贺州市瑶绣服饰有限公司", FUCHUAN, "jobs training", "瑶绣", False),
        ("广西贺州华晟电子科技有限公司", PINGGUI, "jobs training funds", "", False),
        ("贺州市恒达建筑工程有限公司", BABU, "infrastructure jobs funds", "", False),
        ("贺州市石韵新材料有限公司", PINGGUI, "jobs funds infrastructure", "", False),
        ("钟山县华源家具有限公司", ZHONGSHAN, "jobs goods", "", False),
        ("贺州市乐业人力资源服务有限公司", BABU, "jobs training", "", False),
        ("富川瑶族自治县丰裕农业发展有限公司", FUCHUAN, "purchase goods training", "食用菌", False),
        ("昭平县古镇乡村旅游开发有限公司", ZHAOPING, "jobs training purchase", "农特产品", False),
        ("贺州市惠民大药房连锁有限公司", BABU, "medical goods", "", False),
        ("贺州市明德教育科技有限公司", BABU, "education goods", "", False),
        ("钟山县阳光农资有限公司", ZHONGSHAN, "goods training", "", False),
        ("昭平县天成建设工程有限公司", ZHAOPING, "infrastructure jobs", "", False),
        ("钟山县贡柑种植专业合作社", ZHONGSHAN, "purchase training", "贡柑", True),
        ("平桂区桂花香米业有限公司", PINGGUI, "purchase", "大米", True),
        ("贺州市速达网络科技有限公司", BABU, "jobs training", "", True),
    ),
)

NGOS = _specs(
    "ngo",
    (
        ("贺州市慈善总会", CITY, "funds goods education medical", "", False),
        ("贺州市乡村振兴促进会", CITY, "funds training purchase", "农特产品", False),
        ("贺州市青年志愿者协会", CITY, "training goods education", "", False),
        ("贺州市妇女儿童发展基金会", CITY, "education goods funds", "", False),
        ("贺州市残疾人福利基金会", CITY, "goods medical funds", "", False),
        ("贺州市医师协会", CITY, "medical training", "", False),
        ("贺州市农村专业技术协会", CITY, "training goods", "茶叶", False),
        ("贺州市电子商务协会", CITY, "purchase training", "农特产品", False),
        ("贺州市爱心助学协会", CITY, "education funds", "", False),
        ("贺州市义工联合会", CITY, "goods medical", "", False),
        ("贺州市红十字会", CITY, "medical goods funds", "", False),
        ("富川瑶族自治县瑶族文化促进会", FUCHUAN, "training funds", "瑶绣", False),
        ("昭平县茶叶协会", ZHAOPING, "training purchase", "茶叶", False),
        ("深圳市鹏程公益基金会", CITY, "funds education goods", "", False),
        ("贺州市同心互助协会", CITY, "goods funds", "", True),
        ("贺州市乡音公益服务中心", CITY, "education training", "", True),
    ),
)

PAIRED_UNITS = _specs(
    "paired_unit",
    (
        ("贺州市农业农村局", CITY, "training goods purchase funds", "茶叶", False),
        ("贺州市教育局", CITY, "education goods funds", "", False),
        ("贺州市卫生健康委员会", CITY, "medical training", "", False),
        ("贺州市交通运输局", CITY, "infrastructure funds", "", False),
        ("贺州市水利局", CITY, "infrastructure funds", "", False),
        ("贺州市住房和城乡建设局", CITY, "infrastructure funds", "", False),
        ("贺州市人力资源和社会保障局", CITY, "jobs training", "", False),
        ("贺州市商务局", CITY, "purchase training", "农特产品", False),
        ("贺州市财政局", CITY, "funds infrastructure", "", False),
        ("贺州市自然资源局", CITY, "infrastructure funds", "", False),
        ("贺州市供销合作社联合社", CITY, "purchase goods", "农特产品", False),
        ("广西壮族自治区农业农村厅", CITY, "funds training infrastructure", "油茶", False),
        ("广西壮族自治区交通运输厅", CITY, "infrastructure funds", "", False),
        ("贺州学院", CITY, "education training", "", False),
        ("贺州市人民医院", CITY, "medical", "", False),
        ("国网贺州供电局", CITY, "infrastructure funds", "", False),
        ("八步区民政局", BABU, "goods funds", "", False),
        ("平桂区农业农村局", PINGGUI, "training goods", "中药材", False),
        ("钟山县人民医院", ZHONGSHAN, "medical", "", False),
        ("昭平县教育局", ZHAOPING, "education goods", "", False),
        ("富川瑶族自治县卫生健康局", FUCHUAN, "medical training", "", False),
    ),
)

GOVERNMENTS = _specs(
    "government",
    (
        ("贺州市乡村振兴局", CITY, "funds training jobs infrastructure", "", False),
        ("八步区人民政府", BABU, "infrastructure funds training jobs medical", "", False),
        ("平桂区人民政府", PINGGUI, "infrastructure funds training jobs medical", "", False),
        ("昭平县人民政府", ZHAOPING, "infrastructure funds training jobs medical", "", False),
        ("钟山县人民政府", ZHONGSHAN, "infrastructure funds training jobs medical", "", False),
        (
            "富川瑶族自治县人民政府",
            FUCHUAN,
            "infrastructure funds training jobs medical",
            "",
            False,
        ),
    ),
)

# Individual donors (爱心人士) are shown by surname only.
INDIVIDUALS = _specs(
    "individual",
    tuple(
        (f"爱心人士{surname}**", home, "goods funds education", "", surname == "罗")
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
