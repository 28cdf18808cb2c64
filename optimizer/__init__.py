"""The weekly allocation optimizer (model v1) on OR-Tools."""

from optimizer.evaluate import evaluate
from optimizer.greedy import solve_greedy
from optimizer.model import (
    Allocation,
    Evaluation,
    Instance,
    Need,
    Offer,
    Policy,
    Progress,
    Result,
    Village,
)
from optimizer.parse import InvalidInstance, load_instance, loads_instance, parse_instance
from optimizer.problem import sharing_problems
from optimizer.result import result_to_json
from optimizer.solve import solve

__all__ = [
    "Allocation",
    "Evaluation",
    "Instance",
    "InvalidInstance",
    "Need",
    "Offer",
    "Policy",
    "Progress",
    "Result",
    "Village",
    "evaluate",
    "load_instance",
    "loads_instance",
    "parse_instance",
    "result_to_json",
    "sharing_problems",
    "solve",
    "solve_greedy",
]
