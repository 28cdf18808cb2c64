"""schemathesis against the in-process app from its own OpenAPI document, as every role.

Every operation is exercised with valid (positive) and invalid (negative) requests, as each
demo role and anonymously. Checks: no server error, status codes, content types, headers and
bodies as documented, invalid requests refused, and operations needing a token refusing none.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import load_all_checks
from schemathesis.specs.openapi import checks as oa

from tests.web.test_api_helpers import ROLES, Api

EXAMPLES = {GenerationMode.POSITIVE: 10, GenerationMode.NEGATIVE: 5}
CHECKS = [
    oa.status_code_conformance,
    oa.content_type_conformance,
    oa.response_headers_conformance,
    oa.response_schema_conformance,
    oa.negative_data_rejection,
    oa.ignored_auth,
]


def _not_a_server_error(response: Any) -> None:
    assert response.status_code < 500, f"{response.status_code}: {response.text[:500]}"


def _summary(error: BaseException) -> str:
    """The first lines of a failure, with the request to reproduce it."""
    text = str(error)
    lines = [line for line in text.splitlines() if line.strip()]
    curl = [line.strip() for line in lines if line.strip().startswith("curl ")]
    return " | ".join(lines[:4] + curl[:1])[:900]


def _drops_authorization(case: Any) -> bool:
    """True when schemathesis made this case invalid by leaving out the Authorization header."""
    meta = getattr(case, "meta", None)
    data = getattr(getattr(meta, "phase", None), "data", None)
    described = f"{getattr(data, 'description', '')} {getattr(data, 'mutations', '')}"
    return "authorization" in described.lower()


def _fuzz(
    operation: Any, mode: GenerationMode, headers: dict[str, str], calls: Counter[str]
) -> None:
    """Run one operation's generated cases in one mode with the given credentials."""

    @settings(
        max_examples=EXAMPLES[mode],
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def exercise(case: Any) -> None:
        # A negative case that drops the Authorization header must go without our token, or the
        # token we add would turn it back into a valid request.
        sent = {} if _drops_authorization(case) else headers
        # In-process (WSGI) answers are not un-gzipped as an HTTP client's are: ask for none.
        sent = {"Accept-Encoding": "identity", **sent}
        response = case.call(headers=sent)
        calls[operation.label] += 1
        _not_a_server_error(response)
        case.validate_response(response, checks=CHECKS, headers=sent)

    exercise()


@pytest.mark.slow
def test_schemathesis_finds_no_server_error_and_no_schema_break(demo_app: Flask) -> None:
    load_all_checks()
    demo_app.config["DUIJIE_API_SOLVE_SECONDS"] = 0.2
    demo_app.config["DUIJIE_API_RATE_LIMIT"] = 1_000_000  # counted, never reached
    api = Api(demo_app)
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", demo_app)
    calls: Counter[str] = Counter()
    failures: list[str] = []
    seconds: Counter[str] = Counter()
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 27
    for operation in operations:
        for who in (*ROLES, None):
            for mode in EXAMPLES:
                started = time.perf_counter()
                try:
                    _fuzz(operation, mode, api.headers(who), calls)
                except Unsatisfiable:
                    assert mode == GenerationMode.NEGATIVE, operation.label  # nothing to break
                except Exception as error:  # collect, to report every operation at once
                    failures.append(f"{operation.label} as {who} ({mode}): {_summary(error)}")
                seconds[operation.label] += time.perf_counter() - started
    print(f"schemathesis requests: {sum(calls.values())} over {len(calls)} operations")
    print("slowest:", ", ".join(f"{k} {v:.0f}s" for k, v in seconds.most_common(5)))
    assert len(calls) == len(operations), "every operation is exercised"
    assert not failures, "\n\n".join(failures)
