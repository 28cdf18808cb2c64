"""Synthetic choice of the 267 poor villages, their figures, checklists and coordinates."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence

from seeds.checklist import CHECKLIST_CODES, INCIDENCE_THRESHOLD
from seeds.demo_model import PoorVillage
from seeds.hezhou import (
    Township,
    VillageUnit,
    counties,
    county_outlines,
    point_in_county,
    townships,
)

Box = tuple[float, float, float, float]

POOR_VILLAGE_COUNT = 267
# Share of the poor villages that already exited (2016..2020). The demo is set in 2026 but keeps
# most villages 'poor' because the weekly allocation targets them; exited ones show consolidation.
EXITED_SHARE = 0.2
AUTONOMOUS_COUNTY = "富川瑶族自治县"
# How likely a village at the top poverty incidence is to miss each "有" item; why: roads,
# water and power were mostly built early, pillar industry and collective income lag.
MISS_CHANCE: dict[str, float] = {
    "industry": 0.7,
    "road": 0.45,
    "water": 0.4,
    "power": 0.25,
    "broadband": 0.5,
    "tv": 0.2,
    "culture": 0.5,
    "clinic": 0.4,
    "school": 0.2,
    "income": 0.75,
    "housing": 0.45,
}
TOWNSHIP_SPREAD_DEG = 0.035
CENTRE_CANDIDATES = 12


def district_quotas(rural: dict[str, int], total: int) -> dict[str, int]:
    """Split total over districts in proportion to their rural villages (largest remainder)."""
    all_rural = sum(rural.values())
    exact = {code: total * n / all_rural for code, n in rural.items()}
    quotas = {code: int(x) for code, x in exact.items()}
    by_remainder = sorted(exact, key=lambda c: (-(exact[c] - quotas[c]), c))
    for code in by_remainder[: total - sum(quotas.values())]:
        quotas[code] += 1
    return quotas


def choose_poor(rng: random.Random, units: Sequence[VillageUnit]) -> list[VillageUnit]:
    """Pick the poor villages among rural villages, district by district, sorted by code."""
    rural = [u for u in units if u.kind == "village"]
    per_county: dict[str, list[VillageUnit]] = {}
    for unit in rural:
        per_county.setdefault(unit.county_code, []).append(unit)
    quotas = district_quotas({c: len(v) for c, v in per_county.items()}, POOR_VILLAGE_COUNT)
    chosen: list[VillageUnit] = []
    for code in sorted(per_county):
        chosen.extend(rng.sample(per_county[code], quotas[code]))
    return sorted(chosen, key=lambda u: u.code)


def _random_inside(rng: random.Random, county: str, box: Box) -> tuple[float, float]:
    """Draw a uniform point inside the district's bounding box until it falls inside."""
    west, south, east, north = box
    while True:
        lon, lat = round(rng.uniform(west, east), 5), round(rng.uniform(south, north), 5)
        if point_in_county(county, lon, lat):
            return lon, lat


def township_centres(rng: random.Random, boxes: dict[str, Box]) -> dict[str, tuple[float, float]]:
    """Give each township a centre inside its district, spread apart (best-candidate sampling)."""
    centres: dict[str, tuple[float, float]] = {}
    for township in townships():
        placed = [
            centres[t.code]
            for t in townships()
            if t.code in centres and t.county_code == township.county_code
        ]
        best: tuple[float, float] | None = None
        best_gap = -1.0
        for _ in range(CENTRE_CANDIDATES if placed else 1):
            point = _random_inside(rng, township.county_code, boxes[township.county_code])
            gap = min((math.dist(point, p) for p in placed), default=0.0)
            if gap > best_gap:
                best, best_gap = point, gap
        assert best is not None
        centres[township.code] = best
    return centres


def scatter(rng: random.Random, county: str, centre: tuple[float, float]) -> tuple[float, float]:
    """Draw a point near a township centre, re-drawing until it is inside the district."""
    for _ in range(200):
        lon = centre[0] + rng.gauss(0.0, TOWNSHIP_SPREAD_DEG)
        lat = centre[1] + rng.gauss(0.0, TOWNSHIP_SPREAD_DEG)
        if point_in_county(county, round(lon, 5), round(lat, 5)):
            return round(lon, 5), round(lat, 5)
    return round(centre[0], 5), round(centre[1], 5)


def checklist_for(rng: random.Random, incidence: float, exited: bool) -> dict[str, bool]:
    """Draw a checklist: exited villages meet every item, poorer villages miss more."""
    if exited:
        return dict.fromkeys(CHECKLIST_CODES, True)
    severity = min(1.0, incidence / 0.25)
    items = {
        code: rng.random() >= chance * (0.3 + 0.7 * severity)
        for code, chance in MISS_CHANCE.items()
    }
    items["incidence"] = False
    return {code: items[code] for code in CHECKLIST_CODES}


def poverty_weight(incidence: float) -> float:
    """Weight in [1.0, 2.0] that grows with poverty incidence (1 + 4 x incidence, capped)."""
    return round(min(2.0, 1.0 + 4.0 * incidence), 2)


def make_village(
    rng: random.Random, unit: VillageUnit, township: Township, point: tuple[float, float]
) -> PoorVillage:
    """Draw the synthetic figures of one poor village."""
    exited = rng.random() < EXITED_SHARE
    if exited:
        incidence = round(rng.uniform(0.005, INCIDENCE_THRESHOLD - 0.001), 4)
    else:
        incidence = round(0.03 + 0.22 * rng.betavariate(1.6, 3.0), 4)
    population = rng.randrange(900, 4800, 10)
    poor_population = max(1, round(population * incidence))
    poor_households = max(1, round(poor_population / rng.uniform(3.2, 4.3)))
    minority = "瑶族乡" in township.name or _county_name(unit.county_code) == AUTONOMOUS_COUNTY
    return PoorVillage(
        code=unit.code,
        population=population,
        poor_households=poor_households,
        poor_population=poor_population,
        poverty_incidence=incidence,
        poverty_weight=poverty_weight(incidence),
        ethnic_minority=minority,
        status="exited" if exited else "poor",
        exit_year=rng.randint(2016, 2020) if exited else None,
        checklist=checklist_for(rng, incidence, exited),
        lat=point[1],
        lon=point[0],
    )


def _county_name(code: str) -> str:
    """Return a district's name from its code."""
    return next(c.name for c in counties() if c.code == code)


def district_boxes() -> dict[str, Box]:
    """Return (west, south, east, north) of each district's outline."""
    boxes = {}
    for feature in county_outlines()["features"]:
        geometry = feature["geometry"]
        polygons = geometry["coordinates"]
        if geometry["type"] == "Polygon":
            polygons = [polygons]
        points = [p for polygon in polygons for p in polygon[0]]
        lons, lats = [p[0] for p in points], [p[1] for p in points]
        boxes[feature["properties"]["code"]] = (min(lons), min(lats), max(lons), max(lats))
    return boxes


def make_villages(
    rng: random.Random, units: Sequence[VillageUnit], centres: dict[str, tuple[float, float]]
) -> tuple[PoorVillage, ...]:
    """Choose the poor villages and draw each one's figures and position."""
    by_code = {t.code: t for t in townships()}
    result = []
    for unit in choose_poor(rng, units):
        point = scatter(rng, unit.county_code, centres[unit.township_code])
        result.append(make_village(rng, unit, by_code[unit.township_code], point))
    return tuple(result)
