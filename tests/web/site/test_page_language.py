"""Issue 23: the main pages of every role, in Chinese and in English, carry no interface text
in the other language's script. Only the page's own wording is read (headings, column heads,
labels, buttons, links of the menu, hints and notices); names and data in table cells are
left alone, as are codes, the language switch and the signed-in name."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import pytest
from flask.testing import FlaskClient

PAGES: dict[str, list[str]] = {
    "": [
        "/villages", "/public", "/login", "/register", "/api/v1/docs", "/honours",
        "/certificates",
    ],
    "donor": [
        "/donor/offers", "/donor/offers/new", "/donor/allocations", "/account",
        "/donor/certificates",
    ],
    "village": ["/village/needs", "/village/needs/new", "/village/allocations"],
    "township": ["/township/needs", "/dashboard", "/ledger"],
    "admin": [
        "/admin/week", "/admin/organizations", "/admin/accounts", "/dashboard", "/admin/bulletin",
    ],
    "auditor": ["/ledger"],
    "county": ["/county", "/county/villages", "/county/share", "/county/bulletin"],
}
UI_TAGS = {"h1", "h2", "h3", "th", "label", "button", "legend", "summary", "nav", "caption"}
UI_CLASSES = {"hint", "flash"}
SKIP_TAGS = {"td", "code", "option", "script", "style", "textarea", "select"}
SKIP_CLASSES = {"who", "code", "brand", "data"}
CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")
# Latin words allowed on Chinese pages: formats, units, acronyms, product names, and the name
# of the API reference's own (English) button.
LATIN_OK = {
    "Authorize",
    "CSV",
    "XLSX",
    "Excel",
    "API",
    "PIN",
    "km",
    "English",
    "OpenAPI",
    "JSON",
    "ID",
    "URL",
}


class _Wording(HTMLParser):
    """The interface wording of a page: text inside UI elements, outside data elements."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[tuple[str, bool, bool]] = []  # (tag, is ui, is skipped)
        self.texts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"br", "img", "input", "meta", "link", "hr", "wbr", "source"}:
            return
        found = dict(attrs)
        classes = set((found.get("class") or "").split())
        ui = tag in UI_TAGS or bool(classes & UI_CLASSES)
        switch = "lang" in found and tag != "html"  # the link to the other language
        skip = tag in SKIP_TAGS or bool(classes & SKIP_CLASSES) or switch
        self.stack.append((tag, ui, skip))

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                return

    def handle_data(self, data: str) -> None:
        if not data.strip() or not self.stack:
            return
        if any(skip for _t, _u, skip in self.stack):
            return
        if any(ui for _t, ui, _s in self.stack):
            self.texts.append(data.strip())


def _wrong_script(html: str, english: bool) -> list[str]:
    parser = _Wording()
    parser.feed(html)
    assert parser.texts, "no interface wording found on the page"
    wrong = []
    for text in parser.texts:
        if english and CJK.search(text):
            wrong.append(text)
        if not english:
            words = set(re.findall(r"[A-Za-z]{3,}", text)) - LATIN_OK
            if words:
                wrong.append(text)
    return wrong


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_main_pages_show_no_text_of_the_other_language(
    client: FlaskClient, auth: Any, lang: str
) -> None:
    problems = []
    for role, paths in PAGES.items():
        if role:
            auth.login(role)
            # The sign-in's notice is shown once, in the language it was made in.
            client.get(f"/?lang={lang}", follow_redirects=True)
        for path in paths:
            page = client.get(f"{path}?lang={lang}", follow_redirects=True)
            assert page.status_code == 200, path
            for text in _wrong_script(page.text, english=lang == "en"):
                problems.append(f"{role or 'signed out'} {path}: {text[:80]}")
        if role:
            auth.logout()
    assert not problems, "\n".join(sorted(set(problems)))
