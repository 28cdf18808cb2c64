"""The normaliser: width folding, numerals, quantities, synonyms, stop words."""

from __future__ import annotations

import pytest

from matcher.normalize import chinese_to_int, different_things, fold, objects, tokens


@pytest.mark.parametrize(
    ("text", "value"),
    [("五十", 50), ("十五", 15), ("一百零五", 105), ("一百二十", 120), ("两万三千", 23000),
     ("五万", 50000), ("十二万", 120000), ("二〇二六", 2026), ("三", 3), ("万", None),
     ("书包", None)],
)
def test_chinese_numerals(text: str, value: int | None) -> None:
    assert chinese_to_int(text) == value


def test_full_and_half_width_fold_together() -> None:
    assert fold("书包５０个！") == fold("书包50个!") == "书包"


def test_numerals_in_figures_or_characters_are_the_same_quantity() -> None:
    assert fold("棉被五十床") == fold("棉被50床") == fold("棉被 50") == "棉被"
    assert fold("资金5万元") == fold("资金五万元") == fold("资金50000元") == "资金"


def test_numbered_groups_are_kept_not_stripped_as_quantities() -> None:
    assert tokens("第三村民小组村道硬化") == tokens("三组 村道 硬化") == ["3组", "道路", "硬化"]
    assert tokens("第五村民小组村道硬化") != tokens("第三村民小组村道硬化")


def test_synonyms_map_to_one_word() -> None:
    assert tokens("沙糖桔") == tokens("砂糖橘") == ["砂糖橘"]
    assert tokens("电饭煲") == tokens("电饭锅")
    assert tokens("复合肥") == tokens("化肥")


def test_stop_words_and_punctuation_go() -> None:
    assert tokens("急需申请一批化肥！！") == ["化肥"]
    assert tokens("【本村】棉被（御寒）") == tokens("棉被 御寒")


def test_different_things() -> None:
    assert different_things(objects(tokens("化肥")), objects(tokens("农药")))
    assert different_things(objects(tokens("书包")), objects(tokens("校服")))
    assert not different_things(objects(tokens("书包")), objects(tokens("小学生书包")))
    # a narrower word is not a different thing from the wider one
    assert not different_things(objects(tokens("黄精种苗")), objects(tokens("中药材种苗")))
    assert different_things(objects(tokens("香菇")), objects(tokens("木耳")))
