"""Issue 23: the README's table of pages says which need a sign-in, and says it truly.

Each row's "where" paths must be routes of the app; signed out, a path of a row whose sign-in
is "none", or one named in backticks in its sign-in cell, opens (200); every other path sends
the visitor to a sign-in page."""

from __future__ import annotations

import re
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

README = Path(__file__).resolve().parents[3] / "README.md"


def _rows() -> list[tuple[str, str, list[str]]]:
    """(who, sign-in cell, paths) of the journeys table."""
    text = README.read_text(encoding="utf-8")
    table = text[text.index("| who | sign-in | where | what |") :].split("\n\n", 1)[0]
    rows = []
    for line in table.splitlines()[2:]:
        who, signin, where, _what = [c.strip() for c in line.strip("|").split(" | ", 3)]
        rows.append((who, signin, re.findall(r"`(/[^`]*)`", where)))
    return rows


def test_every_page_in_the_readme_says_truly_whether_it_needs_a_sign_in(
    client: FlaskClient, demo_app: Flask
) -> None:
    rows = _rows()
    assert {who for who, _s, _p in rows} >= {"the public", "auditor", "administrator (市扶贫办)"}
    adapter = demo_app.url_map.bind("localhost")
    wrong = []
    for who, signin, paths in rows:
        open_paths = set(re.findall(r"`(/[^`]*)`", signin))
        for path in paths:
            url = path.replace("<id>", "1")
            adapter.match(url, method="GET")  # a route of the app, or NotFound
            response = client.get(url)
            if signin == "none" or path in open_paths:
                if response.status_code != 200:
                    wrong.append(f"{who}: {path} says no sign-in, answers {response.status_code}")
            else:
                to_login = response.status_code == 302 and "login" in response.location
                if not to_login:
                    wrong.append(f"{who}: {path} says sign-in, answers {response.status_code}")
    assert not wrong, "\n".join(wrong)
