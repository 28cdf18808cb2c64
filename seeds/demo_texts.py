"""Chinese titles and descriptions for demo offers and needs, each template tied to its kind.

A template's kind may hold the product slot ``{p}`` (``purchase.{p}``, ``training.crop.{p}``):
it then expands to one kind per pillar product (``purchase.tea``, ``training.crop.orange``), and
its text names that product. A need's title always contains its kind's Chinese name or one of
its synonyms (tests/seeds check it), so what a cadre reads is what the matcher compares.
"""

from __future__ import annotations

from dataclasses import dataclass

PRODUCT_SLOT = "{p}"
GENERAL_MARK = "*"  # an offer line "*funds" is a general offer of its category (no items)
ITEM_SEPARATOR = "+"  # an offer line "a+b" offers the two kinds a and b


@dataclass(frozen=True)
class Product:
    """One of Hezhou's five pillar industries, with the words texts use for it.

    code is the last part of its kinds (goods.seedling.tea, purchase.tea); name is the industry
    (茶叶), produce what a village sells (茶叶, 山茶油), seedling what it plants (茶苗).
    """

    code: str
    name: str
    produce: str
    seedling: str


PRODUCTS: tuple[Product, ...] = (
    Product("tea", "茶叶", "茶叶", "茶苗"),
    Product("oiltea", "油茶", "山茶油", "油茶苗"),
    Product("orange", "砂糖橘", "砂糖橘", "砂糖橘苗"),
    Product("mushroom", "食用菌", "食用菌", "食用菌菌棒"),
    Product("herb", "中药材", "中药材", "中药材种苗"),
)
BY_PRODUCT: dict[str, Product] = {p.code: p for p in PRODUCTS}


def product_words(product: Product | None) -> dict[str, str]:
    """The format fields {product}, {produce} and {seedling} of a product (empty if none)."""
    if product is None:
        return {"product": "", "produce": "", "seedling": ""}
    return {"product": product.name, "produce": product.produce, "seedling": product.seedling}


def with_product(kind: str, product: Product | None) -> str:
    """A template's kind with the product slot filled in."""
    if PRODUCT_SLOT not in kind:
        return kind
    if product is None:
        raise ValueError(f"{kind} needs a product")
    return kind.replace(PRODUCT_SLOT, product.code)


def product_of(kind: str) -> Product | None:
    """The pillar product a kind is about (its last part), if any."""
    return BY_PRODUCT.get(kind.rsplit(".", 1)[-1])


def as_template(kind: str) -> str:
    """A product kind with its product replaced by the slot (purchase.tea -> purchase.{p})."""
    head, _, last = kind.rpartition(".")
    return f"{head}.{PRODUCT_SLOT}" if head and last in BY_PRODUCT else kind


@dataclass(frozen=True)
class NeedText:
    """A need template: its kind (maybe with {p}), title and description, relative weight.

    accepts are alternatives every need of this template takes (its title says so); {village}
    and the product words are filled in by the need builder.
    """

    kind: str
    title: str
    description: str
    weight: float = 1.0
    accepts: tuple[str, ...] = ()


# Ordinary village needs, by kind; the category is the kind's first part.
NEED_TEXTS: tuple[NeedText, ...] = (
    # funds (元)
    NeedText(
        "funds.collective",
        "村集体经济发展启动资金",
        "{village}计划入股{product}合作社，尚缺启动资金。",
        2,
    ),
    NeedText(
        "funds.industry",
        "{product}产业奖补资金缺口",
        "{village}贫困户发展{product}种植，产业奖补资金不足。",
        2,
    ),
    NeedText("funds.relief", "临时救助资金", "{village}有因病因灾致贫返贫风险户，需临时救助。", 2),
    NeedText(
        "funds.medical", "大病医疗救助资金", "{village}有贫困户家庭成员患大病，自付医疗费用负担重。"
    ),
    NeedText("funds.education", "贫困学生助学资金", "{village}贫困家庭在校学生较多，学费负担重。"),
    # goods, village level
    NeedText(
        "goods.agri.fertiliser", "春耕化肥", "{village}贫困户春耕需要复合肥（50公斤/袋）。", 3
    ),
    NeedText(
        "goods.seedling.{p}",
        "扩种{product}所需{seedling}",
        "{village}扩种{product}，需要优质{seedling}。",
        3,
    ),
    NeedText(
        "goods.living.quilt", "冬季御寒棉被", "{village}独居老人和残疾人家庭缺少御寒被褥。", 2
    ),
    NeedText("goods.living.winter_clothes", "留守儿童冬衣", "{village}留守儿童缺少过冬衣物。"),
    NeedText(
        "goods.living.grain_oil", "困难群众节日米面油", "{village}特困供养户和低保户节日慰问。"
    ),
    NeedText("goods.school.desks", "村小学课桌椅", "{village}教学点课桌椅老旧破损。", 1.5),
    NeedText("goods.school.books", "农家书屋图书", "{village}农家书屋图书陈旧，缺少少儿读物。"),
    NeedText(
        "goods.school.computer",
        "教学点电脑",
        "{village}教学点缺少电脑和多媒体设备，无法开展远程教学。",
        0.7,
    ),
    NeedText(
        "goods.agri.sprayer", "农用喷雾器", "{village}{product}种植户需要病虫害防治器械。", 1.5
    ),
    NeedText(
        "goods.agri.pesticide",
        "{product}病虫害防治农药",
        "{village}{product}病虫害多发，缺少低毒农药。",
    ),
    NeedText(
        "goods.agri.tools",
        "小型农机具（微耕机）",
        "{village}山地多、劳力少，贫困户需要微耕机等小型农机具。",
        0.8,
    ),
    # training (人天)
    NeedText(
        "training.crop.{p}",
        "{product}种植技术培训",
        "{village}{product}种植户需要修剪、施肥和病虫害防治培训。",
        4,
    ),
    NeedText(
        "training.ecommerce", "电商直播带货培训", "{village}青年希望学习网上销售农特产品。", 2
    ),
    NeedText(
        "training.housekeeping",
        "家政服务技能培训",
        "{village}有留守妇女希望学习家政技能外出就业。",
        1.5,
    ),
    NeedText(
        "training.livestock", "养殖技术培训", "{village}贫困户养鸡养猪缺少防疫和饲养技术。", 1.5
    ),
    NeedText(
        "training.embroidery",
        "瑶绣手工技能培训",
        "{village}瑶族妇女希望学习瑶绣刺绣，在家接单增收。",
        0.7,
    ),
    NeedText(
        "training.leader", "致富带头人培训", "{village}合作社负责人缺少产业规划和经营管理能力。"
    ),
    NeedText(
        "training.trades", "职业技能培训（电焊、厨师）", "{village}青年劳动力希望学一门手艺再就业。"
    ),
    # jobs (个岗位)
    NeedText(
        "jobs.local.workshop",
        "扶贫车间就业岗位",
        "{village}有富余劳动力希望就近务工、照顾家庭。",
        2,
    ),
    NeedText(
        "jobs.away.factory", "外出务工普工岗位", "{village}有青壮年劳动力希望到广东进厂务工。", 2
    ),
    NeedText(
        "jobs.away.factory",
        "外出务工岗位（普工、物流、建筑均可）",
        "{village}有青壮年劳动力希望到市区或广东务工，工种不限。",
        1.5,
        ("jobs.away.logistics", "jobs.away.construction"),
    ),
    NeedText(
        "jobs.local.seasonal", "季节性用工岗位", "{village}农闲时节劳动力需要短期务工机会。", 1.5
    ),
    NeedText(
        "jobs.local.public",
        "公益性岗位",
        "{village}有弱劳力贫困户，需要护林员、保洁员等公益性岗位。",
    ),
    NeedText(
        "jobs.away.construction", "建筑工地务工岗位", "{village}有泥水工、钢筋工希望外出务工。"
    ),
    NeedText("jobs.away.logistics", "物流分拣岗位", "{village}青年劳动力希望到物流园区务工。", 0.7),
    # purchase (元)
    NeedText(
        "purchase.{p}",
        "{produce}销售订单",
        "{village}今年{produce}丰产，销路不畅，请求采购。",
        4,
    ),
    NeedText(
        "purchase.{p}",
        "合作社{produce}销售渠道",
        "{village}合作社加工的{produce}产品需要稳定订单。",
        2,
    ),
    NeedText(
        "purchase.poultry", "农家土鸡土鸭销售", "{village}贫困户散养土鸡土鸭，需要稳定买家。", 2
    ),
    NeedText(
        "purchase.produce",
        "高山蔬菜和香芋销售",
        "{village}贫困户种植的高山蔬菜和香芋需要买家。",
        1.5,
    ),
    # infrastructure (个项目)
    NeedText("infrastructure.road", "{product}产业路修建", "{village}{product}基地缺少生产便道。"),
    NeedText(
        "infrastructure.water.irrigation",
        "小型水利灌溉渠修复",
        "{village}灌溉水渠年久失修，影响农田灌溉。",
    ),
    NeedText("infrastructure.waste", "村级垃圾处理设施", "{village}缺少垃圾收集和转运设施。"),
    NeedText("infrastructure.lighting", "村屯太阳能路灯", "{village}主要村道夜间没有照明。", 0.7),
    # education (名学生)
    NeedText(
        "education.stipend.compulsory",
        "义务教育阶段学生助学金",
        "{village}建档立卡贫困家庭在校中小学生需要助学资助。",
        2,
    ),
    NeedText(
        "education.stipend.high_school",
        "高中（中职）贫困学生助学金",
        "{village}有贫困家庭学生升入高中和中职，生活费困难。",
        1.5,
    ),
    NeedText(
        "education.stipend.university",
        "大学新生入学资助",
        "{village}有贫困家庭子女考上大学，学费困难。",
    ),
    NeedText(
        "education.tutoring", "留守儿童课后辅导", "{village}留守儿童较多，需要课后辅导和关爱。", 1.5
    ),
    NeedText("education.meals", "教学点学生营养午餐", "{village}教学点学生午餐营养不足。"),
    # medical (人次)
    NeedText("medical.checkup", "村民健康义诊", "{village}村民就医路远，希望医生到村义诊。", 2),
    NeedText("medical.checkup", "老年人健康体检", "{village}65岁以上老人需要免费体检。", 1.5),
    NeedText(
        "medical.chronic",
        "慢性病患者送医送药",
        "{village}高血压、糖尿病患者需要随访和用药指导。",
        2,
    ),
    NeedText(
        "medical.cataract", "老人白内障筛查", "{village}不少老人视物模糊，需要白内障筛查和手术。"
    ),
    NeedText("medical.rehab", "残疾人康复治疗", "{village}有肢体残疾人需要康复训练和理疗。"),
)

# Checklist items a village-level need can close, with the need's kind and text.
CHECKLIST_NEEDS: dict[str, NeedText] = {
    "road": NeedText(
        "infrastructure.road",
        "屯级道路硬化项目",
        "{village}尚有自然屯未通硬化路，雨天出行和农产品外运困难。",
    ),
    "water": NeedText(
        "infrastructure.water.drinking",
        "饮水安全巩固提升工程",
        "{village}部分屯水源不稳定，需新建蓄水池和管网。",
    ),
    "power": NeedText(
        "infrastructure.power",
        "动力电改造项目",
        "{village}尚未通三相动力电，影响{product}加工设备使用。",
    ),
    "broadband": NeedText(
        "infrastructure.broadband",
        "宽带网络进村项目",
        "{village}未通光纤宽带，电商销售和远程教学受限。",
    ),
    "tv": NeedText(
        "infrastructure.tv", "广播电视户户通安装", "{village}部分农户未实现广播电视覆盖。"
    ),
    "culture": NeedText(
        "infrastructure.culture_room", "综合文化活动室建设", "{village}缺少村级综合文化活动场所。"
    ),
    "clinic": NeedText(
        "infrastructure.clinic", "村卫生室标准化建设", "{village}卫生室面积和设备未达标准化要求。"
    ),
    "housing": NeedText(
        "infrastructure.housing", "危房改造项目", "{village}仍有贫困户居住在C、D级危房。"
    ),
    "school": NeedText(
        "education.stipend.compulsory",
        "义务教育阶段控辍保学资助",
        "{village}有贫困家庭学生面临辍学风险，需资助保障就学。",
    ),
    "industry": NeedText(
        "training.crop.{p}",
        "{product}种植加工技术培训",
        "{village}发展{product}特色产业，缺少种植和加工技术。",
    ),
    "income": NeedText(
        "purchase.{p}",
        "村集体{produce}销售订单",
        "{village}集体经济{product}基地已投产，需稳定销路增加集体收入。",
    ),
}

# Offer texts by offer line (its kinds joined by '+', '*category' for a general offer, product
# kinds as their {p} template): (title, description); {org}, {crop} and the product words are
# filled in by the offer builder ({crop} is the organization's own product, or 农产品).
OFFER_TEXTS: dict[str, tuple[tuple[str, str], ...]] = {
    # funds
    "*funds": (
        (
            "乡村振兴帮扶资金（不限用途）",
            "{org}出资支持结对村发展产业、改善生产生活条件，由村里统筹使用，按台账拨付。",
        ),
    ),
    "funds.industry": (
        ("产业发展扶持资金", "用于贫困村特色产业的种苗、肥料和加工设备投入，按产业奖补台账拨付。"),
        ("{crop}产业奖补资金", "{org}出资奖补贫困户发展特色种养，验收后兑现。"),
    ),
    "funds.collective": (
        ("村集体经济发展资金", "支持村集体入股合作社或建设小型加工厂，增加村集体经济收入。"),
    ),
    "funds.industry+funds.collective": (
        ("产业和村集体经济发展资金", "可用于产业奖补或村集体入股合作社，按项目申报拨付。"),
    ),
    "funds.relief": (
        ("助困帮扶专项资金", "用于因病因灾返贫风险户的临时救助，由村委会公示后发放。"),
        ("临时救助资金", "{org}捐赠的困难群众临时救助金，专款专用。"),
    ),
    "funds.education": (("爱心助学资金", "{org}设立的助学资金，资助贫困家庭学生完成学业。"),),
    "funds.medical": (("大病医疗救助资金", "对贫困户大病住院自付费用给予救助。"),),
    # goods
    "goods.agri.fertiliser": (
        ("捐赠春耕化肥", "复合肥（50公斤/袋），春耕前送达村委会，由村里统一分发给贫困户。"),
    ),
    "goods.agri.pesticide": (("捐赠低毒农药", "高效低毒农药，配套病虫害防治技术指导。"),),
    "goods.agri.sprayer": (("捐赠农用喷雾器", "电动农用喷雾器，用于果茶病虫害防治。"),),
    "goods.seedling.{p}": (("捐赠{seedling}", "优质{seedling}，配套种植技术指导。"),),
    "goods.living.quilt": (("捐赠冬季棉被", "加厚棉被，优先发放给独居老人和重度残疾人家庭。"),),
    "goods.living.winter_clothes": (("捐赠过冬棉衣", "全新冬衣，按老人和儿童尺码配送。"),),
    "goods.living.heater": (("捐赠取暖器", "节能取暖器，发放给高龄独居老人。"),),
    "goods.living.rice_cooker+goods.living.kettle": (
        ("捐赠电饭锅和保温水壶", "全新电饭锅和保温水壶，改善困难家庭生活条件。"),
    ),
    "goods.living.grain_oil": (("节日慰问米面油", "大米和食用油，用于特困户和低保户节日慰问。"),),
    "goods.school.desks": (("捐赠课桌椅", "{org}捐赠标准课桌椅，可调节高度，送货安装。"),),
    "goods.school.stationery": (("捐赠书包文具", "书包及文具套装，发放给贫困家庭在校学生。"),),
    "goods.school.books": (("捐赠图书", "少儿读物和农业实用技术图书，充实村小学和农家书屋。"),),
    "goods.school.lamp": (("捐赠护眼学习台灯", "LED护眼台灯，发放给晚上写作业光线不足的学生。"),),
    "goods.school.computer": (
        ("捐赠电脑和多媒体设备", "教学电脑和电子白板，支持教学点远程教学。"),
    ),
    "goods.health.hearing_aid": (("捐赠助听器", "专业验配助听器，为听力下降的困难老人免费适配。"),),
    "goods.health.wheelchair": (("捐赠轮椅", "折叠轮椅，发放给下肢残疾的困难群众。"),),
    "goods.health.crutch": (("捐赠拐杖和助行器", "四脚拐杖和助行器，发放给行动不便的老人。"),),
    "goods.health.glasses": (("捐赠老花镜", "验光后配发老花镜，方便老人看清药品说明。"),),
    # training
    "training.crop.{p}": (
        ("{product}种植技术培训", "由{org}技术员授课，含田间实操，每期5天，结业发证。"),
    ),
    "training.crop": (("农村实用种植技术培训", "果茶、油茶和中药材种植技术，送教下乡。"),),
    "training.livestock": (("养殖技术培训", "土鸡、生猪和肉牛养殖及防疫技术，送教下乡。"),),
    "training.ecommerce": (
        ("电商直播带货培训班", "教授网店开设、短视频拍摄和直播销售农特产品，每期3天。"),
    ),
    "training.housekeeping": (
        ("家政服务技能培训", "面向农村妇女的月嫂、育婴和养老护理培训，推荐就业。"),
    ),
    "training.embroidery": (("瑶绣手工技能培训", "瑶绣刺绣技艺培训，结业后可在家接单。"),),
    "training.leader": (("致富带头人培训", "面向村干部和合作社负责人，学习产业规划与经营管理。"),),
    "training.trades": (
        ("职业技能培训（电焊、厨师、电工）", "职业技能培训，考取职业资格证书，推荐就业。"),
    ),
    # jobs
    "jobs.away": (
        ("外出务工岗位（普工、物流、建筑）", "{org}对接广东等地用工企业，统一组织输送，包车返岗。"),
    ),
    "jobs.away.factory": (
        ("普工岗位", "{org}提供普工岗位，包吃住，月薪3500元起，优先录用建档立卡贫困劳动力。"),
    ),
    "jobs.away.logistics": (
        ("物流分拣员岗位", "农产品物流中心分拣、包装岗位，签订劳动合同，缴纳社保。"),
    ),
    "jobs.away.construction": (
        ("建筑工地务工岗位", "市区建筑项目普工和技工岗位，工资按月足额发放。"),
    ),
    "jobs.local": (("家门口就业岗位", "扶贫车间、季节性用工和公益性岗位，就近安排。"),),
    "jobs.local.workshop": (
        ("扶贫车间就业岗位", "在乡镇扶贫车间从事来料加工，离家近，可照顾家庭。"),
    ),
    "jobs.local.seasonal": (("{crop}采摘季节工", "采摘季用工，按天结算，提供往返交通。"),),
    "jobs.local.public": (
        ("公益性岗位（护林员、保洁员）", "面向弱劳力贫困户的公益性岗位，按月发放补贴。"),
    ),
    # purchase
    "purchase.{p}": (
        ("{produce}采购订单", "{org}按不低于市场价收购贫困村{produce}，签订购销协议，现款结算。"),
    ),
    "purchase": (
        (
            "年货节农产品采购",
            "春节前集中采购贫困村农特产品（茶叶、山茶油、砂糖橘、土鸡等），线上销售。",
        ),
    ),
    "purchase.poultry": (("土鸡土鸭禽蛋采购", "定向收购贫困户散养土鸡、土鸭和鸡蛋。"),),
    "purchase.produce": (("食堂蔬菜大米定向采购", "单位食堂长期定向采购贫困村蔬菜、大米和香芋。"),),
    "purchase.poultry+purchase.produce": (
        ("消费扶贫土鸡和蔬菜采购", "采购贫困村土鸡、土鸭、腊味和蔬菜，用于单位食堂和节日慰问。"),
    ),
    # infrastructure
    "infrastructure.road": (
        ("村道硬化项目", "援建屯级道路硬化，宽3.5米，含排水沟，由有资质单位施工。"),
    ),
    "infrastructure.water.drinking": (
        ("饮水安全工程", "新建或改造集中供水设施，解决贫困村安全饮水问题。"),
    ),
    "infrastructure.water.irrigation": (
        ("农田灌溉水渠修复", "修复灌溉渠和提灌站，保障农田灌溉。"),
    ),
    "infrastructure.power": (("农网动力电改造", "新建或改造三相动力电线路，满足加工用电。"),),
    "infrastructure.broadband": (("光纤宽带进村", "铺设光纤到村委会和自然屯，开通宽带网络。"),),
    "infrastructure.clinic": (("村卫生室标准化建设", "按标准建设村卫生室并配备基本诊疗设备。"),),
    "infrastructure.culture_room": (
        ("综合文化活动室建设", "建设村级综合文化活动室，配齐桌椅、音响和图书。"),
    ),
    "infrastructure.housing": (("危房改造援建", "为贫困户危房改造提供施工队伍和建材。"),),
    "infrastructure.waste": (("村级垃圾处理设施建设", "建设垃圾收集池和转运设施，配备垃圾车。"),),
    "infrastructure.lighting": (("太阳能路灯亮化工程", "在主要村道安装太阳能路灯。"),),
    # education
    "education.stipend": (
        ("助学金", "资助建档立卡贫困家庭在校学生（小学到大学），每人每学年一次性发放。"),
    ),
    "education.stipend.compulsory": (
        ("义务教育阶段助学金", "资助贫困家庭中小学生，保障不因贫失学辍学。"),
    ),
    "education.stipend.high_school": (
        ("高中中职助学金", "资助贫困家庭高中和中职学生，每人每学年发放。"),
    ),
    "education.stipend.university": (
        ("大学新生圆梦助学", "资助当年考上大学的贫困家庭新生，用于学费和路费。"),
    ),
    "education.meals": (("营养午餐资助", "资助村小学和教学点学生营养午餐。"),),
    "education.tutoring": (
        ("留守儿童关爱课后辅导", "志愿者到村开展课后辅导和陪伴，按学生人数计。"),
    ),
    # medical
    "medical.checkup": (
        ("送医下乡义诊", "组织医生到村开展义诊，免费测血压血糖，赠送常用药品。"),
        ("巡回医疗服务", "医疗队定期到偏远村屯巡诊，开展健康教育。"),
    ),
    "medical.cataract": (
        ("免费白内障筛查与手术", "为贫困老人免费筛查白内障，符合条件的免费手术。"),
    ),
    "medical.chronic": (("慢性病健康管理服务", "为高血压、糖尿病患者提供随访和用药指导。"),),
    "medical.rehab": (("残疾人康复治疗", "为肢体残疾人提供康复评估、训练和理疗。"),),
    "medical.checkup+medical.chronic": (
        ("巡回义诊和慢病随访", "医疗队到村义诊体检，并为慢性病患者建档随访。"),
    ),
}


@dataclass(frozen=True)
class Wish:
    """A micro-wish item: its name, kind, estimated price per unit (元), why, and at most how
    many units one household asks for (the unit is its kind's)."""

    item: str
    kind: str
    price: int
    reason: str
    most: int = 3


WISH_ITEMS: tuple[Wish, ...] = (
    Wish("书包", "goods.school.stationery", 60, "家中孩子上小学，书包破旧"),
    Wish("棉被", "goods.living.quilt", 150, "老人独居，冬季御寒被褥不足"),
    Wish("助听器", "goods.health.hearing_aid", 480, "老人听力下降，影响日常交流"),
    Wish("轮椅", "goods.health.wheelchair", 450, "户主下肢残疾，出行困难"),
    Wish("电饭锅", "goods.living.rice_cooker", 180, "家中电饭锅损坏，做饭困难"),
    Wish("学习台灯", "goods.school.lamp", 80, "孩子晚上写作业光线不足"),
    Wish("冬衣", "goods.living.winter_clothes", 120, "家中老人和孩子缺少过冬衣物"),
    Wish("取暖器", "goods.living.heater", 200, "老人体弱怕冷，冬季需要取暖"),
    Wish("拐杖", "goods.health.crutch", 60, "老人腿脚不便，行走需要辅助"),
    Wish("老花镜", "goods.health.glasses", 40, "老人视力下降，看不清药品说明"),
    Wish("儿童绘本", "goods.school.books", 30, "留守儿童缺少课外读物", 10),
    Wish("保温水壶", "goods.living.kettle", 50, "家中没有保温水壶，冬天喝不上热水"),
)
# A wish above this estimated value is not a micro-wish; over-cap wishes are rejected.
WISH_VALUE_CAP = 500
FRIVOLOUS_WISHES: tuple[Wish, ...] = (
    Wish("笔记本电脑", "goods.school.computer", 4500, "想换一台新款笔记本电脑", 1),
    Wish("平板电脑", "goods.school.computer", 3200, "想要一台平板电脑", 1),
)
