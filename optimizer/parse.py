"""Validate raw JSON data into an Instance, collecting every problem before refusing it."""

from __future__ import annotations

import json
import math
import re
from typing import Any

from optimizer.kinds import kind_problem
from optimizer.model import Instance, Need, Offer, Policy, Village

MAX_QUANTITY = 10**12  # beyond this, integer arithmetic in the solver could overflow
_WEEK = re.compile(r"^\d{4}-W(0[1-9]|[1-4]\d|5[0-3])$")

_TOP_KEYS = {"week", "villages", "needs", "offers", "policy"}
_VILLAGE_KEYS = {"id", "county", "name", "township", "poverty_weight", "lat", "lon"}
_NEED_KEYS = {"id", "village", "category", "quantity", "urgency", "item", "accepts"}
_OFFER_KEYS = {
    "id", "donor", "category", "quantity", "min_lot", "max_villages", "indivisible",
    "counties", "villages", "lat", "lon", "items",
}
_POLICY_KEYS = {
    "fragmentation_penalty", "distance_discount_per_km", "fairness_floor", "fairness_penalty",
}


class InvalidInstance(ValueError):
    """Raised when input is not a valid instance; `problems` holds one message per problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class _Item:
    """One JSON object being read: records problems under its list name and id."""

    def __init__(self, where: str, raw: dict[str, Any], problems: list[str]) -> None:
        self.raw = raw
        self.problems = problems
        ident = raw.get("id")
        self.where = f"{where} id={ident!r}" if isinstance(ident, str) and ident else where

    def problem(self, key: str, message: str) -> None:
        self.problems.append(f"{self.where}: {key}: {message}")

    def unknown_keys(self, allowed: set[str]) -> None:
        for key in sorted(set(self.raw) - allowed, key=str):
            self.problem(str(key), "unknown key")

    def string(self, key: str, *, required: bool = True) -> str | None:
        if key not in self.raw:
            if required:
                self.problem(key, "missing required key")
            return None
        value = self.raw[key]
        if not isinstance(value, str) or not value.strip():
            self.problem(key, f"must be a non-empty string, got {_show(value)}")
            return None
        return value

    def number(self, key: str, low: float, high: float | None = None) -> float | None:
        value = self.raw.get(key)
        if not isinstance(value, int | float) or isinstance(value, bool):
            self.problem(key, f"must be a number, got {_show(value)}")
            return None
        number = float(value)
        if not math.isfinite(number):
            self.problem(key, f"must be finite, got {_show(value)}")
            return None
        if number < low or (high is not None and number > high):
            span = f">= {low:g}" if high is None else f"within [{low:g}, {high:g}]"
            self.problem(key, f"must be {span}, got {_show(value)}")
            return None
        return number

    def integer(self, key: str, low: int, high: int = MAX_QUANTITY) -> int | None:
        if key not in self.raw:
            self.problem(key, "missing required key")
            return None
        value = self.raw[key]
        integral = isinstance(value, int) or (
            isinstance(value, float) and math.isfinite(value) and value.is_integer()
        )
        if isinstance(value, bool) or not integral:
            self.problem(key, f"must be an integer, got {_show(value)}")
            return None
        number = int(value)
        if not low <= number <= high:
            self.problem(key, f"must be within [{low}, {high}], got {_show(value)}")
            return None
        return number

    def coordinates(self) -> tuple[float | None, float | None]:
        has_lat, has_lon = "lat" in self.raw, "lon" in self.raw
        if has_lat != has_lon:
            self.problem("lat" if has_lat else "lon", "lat and lon must be given together")
        lat = self.number("lat", -90.0, 90.0) if has_lat else None
        lon = self.number("lon", -180.0, 180.0) if has_lon else None
        if lat is None or lon is None:
            return None, None
        return lat, lon


def _show(value: object) -> str:
    text = json.dumps(value, ensure_ascii=False, default=repr) if _jsonable(value) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _jsonable(value: object) -> bool:
    try:
        json.dumps(value, allow_nan=True, default=repr)
    except (TypeError, ValueError, RecursionError):
        return False
    return True


def _items(data: dict[str, Any], key: str, problems: list[str]) -> list[tuple[str, dict[str, Any]]]:
    """The objects of list `key`, each with its position label; problems for anything else."""
    if key not in data:
        problems.append(f"{key}: missing required key")
        return []
    values = data[key]
    if not isinstance(values, list):
        problems.append(f"{key}: must be a list, got {_show(values)}")
        return []
    items = []
    for index, value in enumerate(values):
        if isinstance(value, dict):
            items.append((f"{key}[{index}]", value))
        else:
            problems.append(f"{key}[{index}]: must be an object, got {_show(value)}")
    return items


def _unique_ids(
    items: list[tuple[str, dict[str, Any]]], kind: str, problems: list[str]
) -> set[str]:
    seen: set[str] = set()
    for where, raw in items:
        ident = raw.get("id")
        if isinstance(ident, str) and ident:
            if ident in seen:
                problems.append(f"{where} id={ident!r}: id: duplicate {kind} id")
            seen.add(ident)
    return seen


def _village(where: str, raw: dict[str, Any], problems: list[str]) -> Village | None:
    item = _Item(where, raw, problems)
    item.unknown_keys(_VILLAGE_KEYS)
    ident, county = item.string("id"), item.string("county")
    name = item.string("name", required=False)
    township = item.string("township", required=False)
    weight = item.number("poverty_weight", 1.0) if "poverty_weight" in raw else 1.0
    lat, lon = item.coordinates()
    if ident is None or county is None or weight is None:
        return None
    return Village(ident, county, name, township, weight, lat, lon)


def _need(
    where: str, raw: dict[str, Any], villages: set[str], problems: list[str]
) -> Need | None:
    item = _Item(where, raw, problems)
    item.unknown_keys(_NEED_KEYS)
    ident, village = item.string("id"), item.string("village")
    if village is not None and village not in villages:
        item.problem("village", f"unknown village id {village!r}")
        village = None
    category = item.string("category")
    quantity = item.integer("quantity", 1)
    urgency = item.integer("urgency", 1, 5)
    kind = _kind(item, "item")
    accepts = _kinds(item, "accepts")
    if None in (ident, village, category, quantity, urgency, accepts) or kind is False:
        return None
    return Need(
        ident, village, category, quantity, urgency,  # type: ignore[arg-type]
        kind or None, accepts,  # type: ignore[arg-type]
    )


def _kind(item: _Item, key: str) -> str | bool:
    """The kind under `key` ("" when absent), or False after recording why it is not one."""
    if key not in item.raw:
        return ""
    value = item.raw[key]
    problem = kind_problem(value)
    if problem is not None:
        item.problem(key, f"{problem}, got {_show(value)}")
        return False
    return str(value)


def _kinds(item: _Item, key: str) -> tuple[str, ...] | None:
    """The list of kinds under `key` (default empty), or None after recording the problems."""
    value = item.raw.get(key, [])
    if not isinstance(value, list):
        item.problem(key, f"must be a list of kinds, got {_show(value)}")
        return None
    ok = True
    for index, entry in enumerate(value):
        problem = kind_problem(entry)
        if problem is not None:
            item.problem(f"{key}[{index}]", f"{problem}, got {_show(entry)}")
            ok = False
    return tuple(value) if ok else None


def _string_list(item: _Item, key: str) -> tuple[str, ...] | None:
    value = item.raw.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        item.problem(key, f"must be a list of non-empty strings, got {_show(value)}")
        return None
    return tuple(value)


def _offer(
    where: str, raw: dict[str, Any], villages: set[str], problems: list[str]
) -> Offer | None:
    item = _Item(where, raw, problems)
    item.unknown_keys(_OFFER_KEYS)
    ident, donor, category = item.string("id"), item.string("donor"), item.string("category")
    quantity = item.integer("quantity", 1)
    min_lot = item.integer("min_lot", 1) if "min_lot" in raw else 1
    max_villages = item.integer("max_villages", 1) if raw.get("max_villages") is not None else 0
    indivisible = raw.get("indivisible", False)
    if not isinstance(indivisible, bool):
        item.problem("indivisible", f"must be true or false, got {_show(indivisible)}")
    counties = _string_list(item, "counties")
    allowed = _string_list(item, "villages")
    for village in allowed or ():
        if village not in villages:
            item.problem("villages", f"unknown village id {village!r}")
    lat, lon = item.coordinates()
    kinds = _kinds(item, "items")
    values = (ident, donor, category, quantity, min_lot, max_villages, counties, allowed, kinds)
    if None in values or not isinstance(indivisible, bool):
        return None
    return Offer(
        ident, donor, category, quantity, min_lot,  # type: ignore[arg-type]
        max_villages or None, indivisible, counties, allowed, lat, lon,  # type: ignore[arg-type]
        kinds,  # type: ignore[arg-type]
    )


def _policy(raw: object, problems: list[str]) -> Policy | None:
    if raw is None:
        return Policy()
    if not isinstance(raw, dict):
        problems.append(f"policy: must be an object, got {_show(raw)}")
        return None
    item = _Item("policy", raw, problems)
    item.unknown_keys(_POLICY_KEYS)
    default = Policy()
    values: dict[str, float | None] = {}
    for key in sorted(_POLICY_KEYS):
        high = 1.0 if key == "fairness_floor" else None
        values[key] = item.number(key, 0.0, high) if key in raw else getattr(default, key)
    if None in values.values():
        return None
    return Policy(**values)  # type: ignore[arg-type]


def parse_instance(data: object) -> Instance:
    """Validate decoded JSON into an Instance, or raise InvalidInstance listing every problem."""
    problems: list[str] = []
    if not isinstance(data, dict):
        raise InvalidInstance([f"instance: must be a JSON object, got {_show(data)}"])
    for key in sorted(set(data) - _TOP_KEYS, key=str):
        problems.append(f"instance: {key}: unknown key")
    week = data.get("week")
    if week is not None and not (isinstance(week, str) and _WEEK.match(week)):
        problems.append(f"instance: week: must be an ISO week like 2026-W48, got {_show(week)}")
    village_items = _items(data, "villages", problems)
    need_items = _items(data, "needs", problems)
    offer_items = _items(data, "offers", problems)
    village_ids = _unique_ids(village_items, "village", problems)
    _unique_ids(need_items, "need", problems)
    _unique_ids(offer_items, "offer", problems)
    villages = [_village(w, r, problems) for w, r in village_items]
    needs = [_need(w, r, village_ids, problems) for w, r in need_items]
    offers = [_offer(w, r, village_ids, problems) for w, r in offer_items]
    policy = _policy(data.get("policy"), problems)
    if problems or policy is None:
        raise InvalidInstance(problems)
    return Instance(
        villages=tuple(v for v in villages if v is not None),
        needs=tuple(n for n in needs if n is not None),
        offers=tuple(o for o in offers if o is not None),
        policy=policy,
        week=week,
    )


def loads_instance(text: str | bytes) -> Instance:
    """Decode JSON text and validate it into an Instance (NaN and Infinity are refused there,
    naming the field, rather than failing the whole document)."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as error:
        raise InvalidInstance([f"instance: not valid JSON: {error}"]) from None
    return parse_instance(data)


def load_instance(path: str) -> Instance:
    """Read and validate an instance file; unreadable files are reported as InvalidInstance."""
    try:
        with open(path, "rb") as handle:
            text = handle.read()
    except OSError as error:
        raise InvalidInstance([f"{path}: cannot read file: {error.strerror or error}"]) from None
    return loads_instance(text)
