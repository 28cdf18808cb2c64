"""Personal access tokens for the API: a signed-in user creates, sees and revokes their own."""

from __future__ import annotations

from flask import Blueprint, abort, flash, make_response, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import IntegerField, SelectChoice, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from web.api.access import token_uses
from web.extensions import db
from web.services import tokens as service
from web.unit_of_work import unit_of_work

tokens = Blueprint("tokens", __name__, url_prefix="/account/tokens")


class TokenForm(FlaskForm):
    """A name for a new token, to tell it apart later."""

    name = StringField(
        _l("Token name"),
        validators=[DataRequired(_l("Please name the token.")), Length(max=64)],
    )
    scope = SelectField(
        _l("Access"),
        choices=[
            SelectChoice("read", _l("Read only (GET)")),
            SelectChoice("write", _l("Read and write, as my role allows")),
        ],
        default="read",
    )
    days = IntegerField(
        _l("Valid for (days)"),
        default=service.DEFAULT_DAYS,
        validators=[
            Optional(),  # left empty: DEFAULT_DAYS
            NumberRange(min=1, max=service.MAX_DAYS,
                        message=_l("A token is valid for 1 to 365 days.")),
        ],
    )  # fmt: skip
    submit = SubmitField(_l("Create token"))


class RevokeForm(FlaskForm):
    """A one-button revocation carrying a CSRF token."""


def _page(form: TokenForm, secret: str | None = None, status: int = 200) -> Response:
    """The token list; a new token's secret is shown on this one answer and never cached."""
    tokens = service.user_tokens(db.session, current_user)
    pending = service.pending_uses(token_uses(), tokens)  # reads noted in Redis, not yet written
    html = render_template(
        "tokens/index.html",
        form=form,
        revoke=RevokeForm(),
        tokens=tokens,
        last_used={token.id: service.last_used(token, pending) for token in tokens},
        secret=secret,
        token_expired=service.expired,
    )
    response = make_response(html, status)
    response.headers["Cache-Control"] = "no-store"
    return response


@tokens.get("")
@login_required
def index() -> Response:
    """The user's tokens and the form to make one."""
    return _page(TokenForm())


@tokens.post("")
@login_required
def create() -> Response:
    """Make a token and show its secret once."""
    form = TokenForm()
    if not form.validate_on_submit():
        return _page(form, status=400)
    try:
        with unit_of_work():
            made = service.create_token(
                db.session, current_user, form.name.data or "",
                scope=form.scope.data or "read", days=form.days.data or service.DEFAULT_DAYS,
            )  # fmt: skip
    except service.TokenError:
        flash(_("Please name the token."), "error")
        return _page(form, status=400)
    return _page(TokenForm(formdata=None), secret=made.secret)


@tokens.post("/<int:token_id>/revoke")
@login_required
def revoke(token_id: int) -> Response:
    """Revoke one of the user's own tokens; it stops working at once."""
    if not RevokeForm().validate_on_submit():
        abort(400)
    try:
        with unit_of_work():
            service.revoke_token(db.session, current_user, token_id)
    except LookupError:
        abort(404)
    flash(_("Token revoked: it no longer works."), "info")
    return redirect(url_for("tokens.index"))
