"""The parser: valid input becomes an Instance; anything else an InvalidInstance listing all."""

from __future__ import annotations

import contextlib
import copy
import json
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optimizer import Instance, InvalidInstance, loads_instance, parse_instance
from tests.optimizer.factories import instance, need, offer, random_instance, village


def problems(data: object) -> list[str]:
    with pytest.raises(InvalidInstance) as caught:
        parse_instance(data)
    return caught.value.problems


def base() -> dict:
    return instance(
        [village("V1", lat=24.0, lon=111.0), village("V2", "c2")],
        [need("N1", "V1", 3, 2), need("N2", "V2", 1, 5)],
        [offer("O1", 5, min_lot=2, max_villages=None, counties=["c1"], villages=["V1"])],
    )


def test_valid_instance_and_defaults() -> None:
    data = base()
    del data["policy"]
    parsed = parse_instance(data)
    assert parsed.villages[1].poverty_weight == 1.0
    assert parsed.offers[0].max_villages is None and parsed.offers[0].villages == ("V1",)
    assert parsed.policy.fragmentation_penalty == 5 and parsed.policy.fairness_floor == 0.3


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: d["needs"][0].update(quantity=True), "needs[0] id='N1': quantity"),
        (lambda d: d["needs"][0].update(quantity="3"), "needs[0] id='N1': quantity"),
        (lambda d: d["needs"][0].update(quantity=2.5), "needs[0] id='N1': quantity"),
        (lambda d: d["needs"][0].update(quantity=-1), "needs[0] id='N1': quantity"),
        (lambda d: d["needs"][0].update(urgency=7), "needs[0] id='N1': urgency"),
        (lambda d: d["needs"][0].update(village="V9"), "needs[0] id='N1': village"),
        (lambda d: d["needs"][1].update(id="N1"), "needs[1] id='N1': id: duplicate"),
        (lambda d: d["needs"][0].pop("category"), "needs[0] id='N1': category: missing"),
        (lambda d: d["needs"][0].update(colour="red"), "needs[0] id='N1': colour: unknown key"),
        (lambda d: d["villages"][0].pop("lon"), "villages[0] id='V1': lat: lat and lon"),
        (lambda d: d["villages"][0].update(lat=math.nan), "villages[0] id='V1': lat"),
        (lambda d: d["villages"][0].update(lat=91), "villages[0] id='V1': lat"),
        (lambda d: d["villages"][1].update(poverty_weight=0.5), "villages[1] id='V2': poverty"),
        (lambda d: d["offers"][0].update(min_lot=0), "offers[0] id='O1': min_lot"),
        (lambda d: d["offers"][0].update(max_villages=False), "offers[0] id='O1': max_villages"),
        (lambda d: d["offers"][0].update(indivisible=1), "offers[0] id='O1': indivisible"),
        (lambda d: d["offers"][0].update(villages=["V7"]), "offers[0] id='O1': villages"),
        (lambda d: d["offers"][0].update(counties="c1"), "offers[0] id='O1': counties"),
        (lambda d: d["policy"].update(fairness_floor=1.5), "policy: fairness_floor"),
        (lambda d: d["policy"].update(fairness_penalty=math.inf), "policy: fairness_penalty"),
        (lambda d: d["policy"].update(extra=1), "policy: extra: unknown key"),
        (lambda d: d.update(week="soon"), "instance: week"),
        (lambda d: d.update(hello=1), "instance: hello: unknown key"),
        (lambda d: d.pop("offers"), "offers: missing required key"),
        (lambda d: d.update(needs={}), "needs: must be a list"),
    ],
)
def test_each_problem_is_named(change, expected: str) -> None:
    data = base()
    change(data)
    found = problems(data)
    assert any(p.startswith(expected) for p in found), found


def test_all_problems_are_collected() -> None:
    data = base()
    data["needs"][0]["quantity"] = 0
    data["needs"][1]["urgency"] = "high"
    data["offers"][0]["lat"] = 200
    data["offers"][0]["lon"] = 0
    assert len(problems(data)) == 3


def test_nan_and_infinity_in_json_text_are_refused_by_field() -> None:
    text = json.dumps(base()).replace('"lat": 24.0', '"lat": NaN')
    with pytest.raises(InvalidInstance) as caught:
        loads_instance(text)
    assert caught.value.problems == ["villages[0] id='V1': lat: must be finite, got NaN"]


def test_bad_json_text() -> None:
    with pytest.raises(InvalidInstance) as caught:
        loads_instance("{not json")
    assert caught.value.problems[0].startswith("instance: not valid JSON")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=5)
    ),
    max_leaves=25,
)


def _outcome(data: object) -> None:
    try:
        assert isinstance(parse_instance(data), Instance)
    except InvalidInstance as error:
        assert error.problems and all(isinstance(p, str) for p in error.problems)


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_any_value_gives_instance_or_invalid(data: object) -> None:
    _outcome(data)


keys = st.sampled_from(
    ["id", "village", "county", "category", "quantity", "urgency", "min_lot", "max_villages",
     "indivisible", "counties", "villages", "lat", "lon", "poverty_weight", "donor", "other"]
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 50), st.lists(st.tuples(st.sampled_from(["villages", "needs", "offers"]),
       st.integers(0, 5), keys, json_values), max_size=4))
def test_mutated_instances_give_instance_or_invalid(seed: int, edits: list) -> None:
    data = copy.deepcopy(random_instance(seed))
    for section, index, key, value in edits:
        items = data[section]
        if items:
            items[index % len(items)][key] = value
    _outcome(data)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=60) | st.text(max_size=60))
def test_any_text_gives_instance_or_invalid(text: bytes | str) -> None:
    with contextlib.suppress(InvalidInstance):
        loads_instance(text)
