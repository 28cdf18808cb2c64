"""Irreversible actions ask first (issue 23).

A form for such an action carries a checkbox named `confirm` whose label says what will happen
(templates: the `confirm_box` macro of `_confirm.html`). Without JavaScript the checkbox is shown
and required; with it, forms.js hides it and asks in a dialog instead, ticking it on "OK". The
view checks the box here, so a post without it changes nothing.
"""

from __future__ import annotations

from flask import flash, request
from flask_babel import gettext as _

CONFIRM_FIELD = "confirm"


def confirmed(question: str) -> bool:
    """Whether the request carries the ticked confirmation; if not, say what to confirm."""
    if request.form.get(CONFIRM_FIELD) == "yes":
        return True
    flash(_("Nothing was done: tick the box to confirm. %(question)s", question=question), "error")
    return False


def withdraw_question(title: str) -> str:
    """What withdrawing an offer or a need does, naming it."""
    return _(
        "Withdraw “%(title)s”? It will no longer be allocated; this cannot be undone.",
        title=title,
    )


def decline_question() -> str:
    """What declining a household's request does."""
    return _("Decline this request? The household is told your reason; this cannot be undone.")


def template_helpers() -> dict[str, object]:
    """The questions, for templates (registered by the blueprints that use them)."""
    return {"withdraw_question": withdraw_question, "decline_question": decline_question}
