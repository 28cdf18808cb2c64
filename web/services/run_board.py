"""What a run's allocation would look like on the map: coverage by village, county and category
(in 折合金额, 元, since units of different kinds are never added).

Works for a preview (from the run's stored input and output, nothing pledged yet) as for a
committed run, so the administrator sees the map and charts before committing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from web.models import AllocationRun, Village
from web.services.dashboard import Bar, DashboardFilter, Dot, _coverage_bars, _dots
from web.services.kinds import request_catalogue
from web.services.mapping import Outline, Projection, district_map


@dataclass(frozen=True)
class RunBoard:
    """The run's map and charts."""

    projection: Projection
    outlines: tuple[Outline, ...]
    dots: list[Dot]
    coverage_by_county: list[Bar]
    allocated_by_category: list[Bar]
    villages_reached: int
    villages_asking: int
    coverage_by_city: list[Bar]  # empty when the villages lie in one city


def run_board(session: Session, run: AllocationRun) -> RunBoard | None:
    """The map and charts of a run with a stored input and output; None before it has them."""
    if not run.input or not run.output:
        return None
    # Units of different kinds are added as 折合金额 (元): quantity × the kind's reference value.
    catalogue = request_catalogue(session)
    needs = {n["id"]: n for n in run.input.get("needs", [])}

    def value(need: Mapping[str, Any], quantity: int) -> float:
        return catalogue.value_in_yuan(need.get("item"), need["category"], quantity)

    wanted_by_code: dict[str, float] = defaultdict(float)
    wanted_by_category: dict[str, float] = defaultdict(float)
    for need in needs.values():
        wanted_by_code[need["village"]] += value(need, int(need["quantity"]))
        wanted_by_category[need["category"]] += value(need, int(need["quantity"]))
    met_by_code: dict[str, float] = defaultdict(float)
    met_by_category: dict[str, float] = defaultdict(float)
    for item in run.output.get("allocations", []):
        found = needs.get(item["need"])
        if found is not None:
            met_by_code[found["village"]] += value(found, int(item["quantity"]))
            met_by_category[found["category"]] += value(found, int(item["quantity"]))
    ids = {code: vid for code, vid in session.execute(select(Village.code, Village.id))}
    coverage = {
        ids[code]: (wanted, met_by_code.get(code, 0.0))
        for code, wanted in wanted_by_code.items()
        if code in ids
    }
    projection, outlines = district_map()
    by_city, by_county = _coverage_bars(session, coverage, DashboardFilter())
    category_bars = [
        Bar(code, met / wanted, met / wanted, f"{met:.0f}/{wanted:.0f}", met=met, wanted=wanted)
        for code, wanted in sorted(wanted_by_category.items())
        if wanted
        for met in [met_by_category.get(code, 0.0)]
    ]
    return RunBoard(
        projection=projection,
        outlines=outlines,
        dots=_dots(session, projection, coverage, None),
        coverage_by_county=by_county,
        coverage_by_city=by_city,
        allocated_by_category=category_bars,
        villages_reached=sum(1 for code in wanted_by_code if met_by_code.get(code)),
        villages_asking=len(wanted_by_code),
    )
