"""Validate v2 JSON (specs/allocation-model-v2.md): v1's rules for v1's keys, then v2's."""

from __future__ import annotations

import json
import math
from typing import Any

from optimizer.parse import InvalidInstance, parse_instance
from optimizer.rolling.model import MAX_HORIZON, History, RollingInstance

_NEED_KEYS = ("open_from", "due")
_OFFER_KEYS = ("available_from", "available_until")
_POLICY_KEYS = ("window", "catch_up", "waiting_penalty")
_HISTORY_KEYS = {"village", "weeks_ago", "coverage"}
MAX_WEEK = 520  # ten years either way: beyond that a week number is a mistake


def _show(value: object) -> str:
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _where(list_name: str, index: int, raw: dict[str, Any]) -> str:
    ident = raw.get("id")
    return f"{list_name}[{index}] id={ident!r}" if isinstance(ident, str) and ident else (
        f"{list_name}[{index}]"
    )


def _int(value: object, low: int, high: int) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or not low <= value <= high:
        return None
    return value


def _week(
    raw: dict[str, Any], key: str, where: str, problems: list[str], *, low: int,
    nullable: bool, default: int | None,
) -> int | None:
    if key not in raw or (nullable and raw[key] is None):
        return default
    number = _int(raw[key], low, MAX_WEEK)
    if number is None:
        kind = "an integer week" + (" or null" if nullable else "")
        problems.append(f"{where}: {key}: must be {kind} within [{low}, {MAX_WEEK}], got "
                        f"{_show(raw[key])}")
    return number


def _split(
    items: object, keys: tuple[str, ...]
) -> tuple[object, list[dict[str, Any]]]:
    """The list with v2 keys removed from each object (for v1's parser), and the v2 parts."""
    if not isinstance(items, list):
        return items, []
    plain: list[object] = []
    extra: list[dict[str, Any]] = []
    for item in items:
        if isinstance(item, dict):
            plain.append({k: v for k, v in item.items() if k not in keys})
            extra.append({k: item[k] for k in keys if k in item} | {"id": item.get("id")})
        else:
            plain.append(item)
            extra.append({})
    return plain, extra


def parse_rolling(data: object) -> RollingInstance:
    """Validate decoded JSON into a RollingInstance, or raise InvalidInstance listing every
    problem (v1's and v2's together)."""
    if not isinstance(data, dict):
        raise InvalidInstance([f"instance: must be a JSON object, got {_show(data)}"])
    problems: list[str] = []
    v1 = {k: v for k, v in data.items() if k not in ("horizon", "history")}
    v1["needs"], need_extra = _split(data.get("needs"), _NEED_KEYS)
    v1["offers"], offer_extra = _split(data.get("offers"), _OFFER_KEYS)
    for key in ("needs", "offers"):
        if key not in data:
            del v1[key]
    policy = data.get("policy")
    policy_extra: dict[str, Any] = {}
    if isinstance(policy, dict):
        v1["policy"] = {k: v for k, v in policy.items() if k not in _POLICY_KEYS}
        policy_extra = {k: policy[k] for k in _POLICY_KEYS if k in policy}
    base = None
    try:
        base = parse_instance(v1)
    except InvalidInstance as error:
        problems += error.problems

    horizon = 1
    if "horizon" in data:
        found = _int(data["horizon"], 1, MAX_HORIZON)
        if found is None:
            problems.append(
                f"instance: horizon: must be an integer within [1, {MAX_HORIZON}], got "
                f"{_show(data['horizon'])}"
            )
        horizon = found or 1

    need_open: list[int] = []
    need_due: list[int | None] = []
    for index, raw in enumerate(need_extra):
        where = _where("needs", index, raw)
        start = _week(raw, "open_from", where, problems, low=0, nullable=False, default=0)
        due = _week(raw, "due", where, problems, low=-MAX_WEEK, nullable=True, default=None)
        if start and due is not None and due < start:  # only a need open now can be overdue
            problems.append(f"{where}: due: must not be before open_from ({start}), got {due}")
        need_open.append(start or 0)
        need_due.append(due)
    offer_from: list[int] = []
    offer_until: list[int | None] = []
    for index, raw in enumerate(offer_extra):
        where = _where("offers", index, raw)
        start = _week(raw, "available_from", where, problems, low=0, nullable=False, default=0)
        until = _week(raw, "available_until", where, problems, low=0, nullable=True,
                      default=None)
        if start is not None and until is not None and until < start:
            problems.append(
                f"{where}: available_until: must not be before available_from ({start}), "
                f"got {until}"
            )
        offer_from.append(start or 0)
        offer_until.append(until)

    window, catch_up, waiting = 2, 1.0, 5000.0
    if "window" in policy_extra:
        found = _int(policy_extra["window"], 1, MAX_WEEK)
        if found is None:
            problems.append(f"policy: window: must be an integer >= 1, got "
                            f"{_show(policy_extra['window'])}")
        window = found or 2
    for key in ("catch_up", "waiting_penalty"):
        if key not in policy_extra:
            continue
        value = policy_extra[key]
        if (
            isinstance(value, bool) or not isinstance(value, int | float)
            or not math.isfinite(value) or value < 0
        ):
            problems.append(f"policy: {key}: must be a number >= 0, got {_show(value)}")
        elif key == "catch_up":
            catch_up = float(value)
        else:
            waiting = float(value)

    villages = {v.get("id") for v in data.get("villages", []) if isinstance(v, dict)} if (
        isinstance(data.get("villages"), list)
    ) else set()
    history = _history(data.get("history", []), villages, problems)
    if problems or base is None:
        raise InvalidInstance(problems)
    return RollingInstance(
        base, horizon, tuple(need_open), tuple(need_due), tuple(offer_from),
        tuple(offer_until), history, window, catch_up, waiting,
    )


def _history(raw: object, villages: set[object], problems: list[str]) -> tuple[History, ...]:
    if not isinstance(raw, list):
        problems.append(f"history: must be a list, got {_show(raw)}")
        return ()
    found: list[History] = []
    seen: set[tuple[str, int]] = set()
    for index, item in enumerate(raw):
        where = f"history[{index}]"
        if not isinstance(item, dict):
            problems.append(f"{where}: must be an object, got {_show(item)}")
            continue
        for key in sorted(set(item) - _HISTORY_KEYS, key=str):
            problems.append(f"{where}: {key}: unknown key")
        village = item.get("village")
        if not isinstance(village, str) or village not in villages:
            problems.append(f"{where}: village: unknown village id {_show(village)}")
        weeks_ago = _int(item.get("weeks_ago"), 1, MAX_WEEK)
        if weeks_ago is None:
            problems.append(f"{where}: weeks_ago: must be an integer within [1, {MAX_WEEK}], "
                            f"got {_show(item.get('weeks_ago'))}")
        coverage = item.get("coverage")
        if (
            isinstance(coverage, bool) or not isinstance(coverage, int | float)
            or not math.isfinite(coverage) or not 0 <= coverage <= 1
        ):
            problems.append(f"{where}: coverage: must be a number within [0, 1], got "
                            f"{_show(coverage)}")
            coverage = None
        if isinstance(village, str) and weeks_ago is not None:
            if (village, weeks_ago) in seen:
                problems.append(f"{where}: duplicate history of village {village!r} "
                                f"{weeks_ago} weeks ago")
            seen.add((village, weeks_ago))
            if coverage is not None and village in villages:
                found.append(History(village, weeks_ago, float(coverage)))
    return tuple(found)


def loads_rolling(text: str | bytes) -> RollingInstance:
    """Decode JSON text and validate it into a RollingInstance."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as error:
        raise InvalidInstance([f"instance: not valid JSON: {error}"]) from None
    return parse_rolling(data)


def load_rolling(path: str) -> RollingInstance:
    """Read and validate a v2 instance file; unreadable files are reported as InvalidInstance."""
    try:
        with open(path, "rb") as handle:
            text = handle.read()
    except OSError as error:
        raise InvalidInstance([f"{path}: cannot read file: {error.strerror or error}"]) from None
    return loads_rolling(text)
