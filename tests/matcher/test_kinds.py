"""Kinds: covering, the v1.1 fit of an offer's items to a need, and the catalogue's soundness."""

from __future__ import annotations

import re

import pytest

from matcher.kinds import Kind, catalogue_of, covers, offer_fits
from matcher.model import Need, Offer
from seeds.catalogue import hezhou_catalogue


def test_a_kind_covers_itself_and_its_descendants_only() -> None:
    assert covers("goods.school", "goods.school.desks")
    assert covers("goods.school.desks", "goods.school.desks")
    assert not covers("goods.school", "goods.schoolbus")
    assert not covers("goods.school.desks", "goods.school")


def test_a_general_offer_serves_any_need_of_its_category() -> None:
    assert offer_fits([], "goods.school.desks")
    assert offer_fits([], None)


def test_fertiliser_never_serves_desks() -> None:
    assert not offer_fits(["goods.agri.fertiliser"], "goods.school.desks")


def test_an_offer_serves_an_alternative_the_need_accepts() -> None:
    assert offer_fits(["goods.living.winter_clothes"], "goods.living.quilt",
                      ["goods.living.winter_clothes"])


def test_a_need_without_a_kind_takes_general_offers_only() -> None:
    assert not offer_fits(["goods"], None)


def test_hezhou_catalogue_is_a_sound_tree_with_every_category() -> None:
    catalogue = hezhou_catalogue()
    assert catalogue.problems() == []
    roots = {k.code for k in catalogue.children[None]}
    assert roots == {"funds", "goods", "training", "jobs", "purchase", "infrastructure",
                     "education", "medical"}
    assert catalogue["goods.school.desks"].unit_zh == "套"


def test_a_broken_tree_is_refused_naming_the_kind() -> None:
    orphan = Kind("goods.toys.dolls", "玩偶", "Dolls", "个", "units", 30)
    with pytest.raises(ValueError, match=re.escape("goods.toys.dolls: parent 'goods.toys'")):
        catalogue_of([orphan])


def test_needs_and_offers_carry_kinds_of_their_category() -> None:
    need = Need("N1", "V1", "goods", 10, item="goods.school.desks",
                accepts=frozenset({"goods.school.stationery"}))
    assert need.item == "goods.school.desks"
    assert Offer("O1", "D1", "goods", 5, items=frozenset({"goods.school"})).items == {
        "goods.school"
    }
    assert Need("N2", "V1", "goods", 1).item is None and Offer("O2", "D", "goods", 1).items == set()


@pytest.mark.parametrize(
    ("kw", "problem"),
    [
        ({"item": "funds.relief"}, "need N1: kind 'funds.relief' is not of its category 'goods'"),
        ({"accepts": frozenset({"medical"})}, "need N1: kind 'medical' is not of its category"),
        ({"item": ""}, "need N1: kind '' is not a dot-separated code"),
        ({"item": "goods..desks"}, "need N1: kind 'goods..desks' is not a dot-separated code"),
        ({"accepts": frozenset({"goods."})}, "need N1: kind 'goods.' is not a dot-separated"),
    ],
)
def test_a_need_with_a_kind_outside_its_category_is_refused(
    kw: dict[str, object], problem: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(problem)):
        Need("N1", "V1", "goods", 10, **kw)  # type: ignore[arg-type]


def test_an_offer_with_a_kind_outside_its_category_is_refused() -> None:
    with pytest.raises(ValueError, match=re.escape("offer O1: kind 'goods.agri' is not of")):
        Offer("O1", "D1", "funds", 100, items=frozenset({"funds.relief", "goods.agri"}))
    with pytest.raises(ValueError, match=re.escape("offer O1: kind '.x' is not a dot-separated")):
        Offer("O1", "D1", "funds", 100, items=frozenset({".x"}))
