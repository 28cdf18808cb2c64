"""Query strings: an empty filter is refused naming it, not read as "no filter"."""

from __future__ import annotations

import pytest

from tests.web.test_api_helpers import Api, api  # noqa: F401  (api is a fixture)


@pytest.mark.parametrize(
    ("who", "path"),
    [
        ("admin", "/allocations?status="),
        ("donor", "/offers?status=&page=1"),
        (None, "/villages?q="),
    ],
)
def test_an_empty_query_parameter_is_a_400_naming_it(api: Api, who: str | None, path: str) -> None:  # noqa: F811
    response = api.get(who, path)
    assert response.status_code == 400
    assert response.headers["Content-Type"].startswith("application/problem+json")
    name = path.split("?")[1].split("=")[0]
    assert response.json["errors"] == [{"field": name, "message": "must not be empty"}]


def test_the_same_list_without_the_parameter_answers(api: Api) -> None:  # noqa: F811
    assert api.get("admin", "/allocations").status_code == 200
