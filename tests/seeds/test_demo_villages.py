"""Tests of the synthetic poor villages."""

from __future__ import annotations

from collections import Counter

from seeds.checklist import CHECKLIST_CODES, INCIDENCE_THRESHOLD
from seeds.demo import DemoData
from seeds.hezhou import point_in_county, townships, village_units


def test_267_distinct_real_rural_villages(data: DemoData) -> None:
    rural = {u.code for u in village_units() if u.kind == "village"}
    codes = [v.code for v in data.villages]
    assert len(codes) == 267 == len(set(codes))
    assert set(codes) <= rural


def test_districts_share_in_proportion(data: DemoData) -> None:
    rural = Counter(u.county_code for u in village_units() if u.kind == "village")
    poor = Counter(v.code[:6] for v in data.villages)
    assert set(poor) == set(rural)
    for county, count in rural.items():
        assert abs(poor[county] - 267 * count / 707) <= 1


def test_every_village_inside_its_district(data: DemoData) -> None:
    for village in data.villages:
        assert point_in_county(village.code[:6], village.lon, village.lat)
        assert round(village.lat, 5) == village.lat and round(village.lon, 5) == village.lon


def test_figures_are_consistent(data: DemoData) -> None:
    for v in data.villages:
        assert 1 <= v.poor_households <= v.poor_population <= v.population
        assert 1.0 <= v.poverty_weight <= 2.0
        assert list(v.checklist) == list(CHECKLIST_CODES)
        if v.status == "exited":
            assert v.poverty_incidence < INCIDENCE_THRESHOLD and all(v.checklist.values())
            assert v.exit_year is not None and 2016 <= v.exit_year <= 2020
        else:
            assert v.status == "poor" and v.exit_year is None
            assert v.poverty_incidence >= INCIDENCE_THRESHOLD and not v.checklist["incidence"]
    statuses = Counter(v.status for v in data.villages)
    assert statuses["poor"] > statuses["exited"] > 0


def test_ethnic_minority_follows_fuchuan_and_yao_townships(data: DemoData) -> None:
    township_of = {u.code: u.township_code for u in village_units()}
    names = {t.code: t.name for t in townships()}
    for v in data.villages:
        expected = v.code.startswith("451123") or "瑶族乡" in names[township_of[v.code]]
        assert v.ethnic_minority == expected
