"""A signed-in user's own account: changing the password and the e-mail address for notices."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, flash, make_response, redirect, render_template, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from web import sessions
from web.extensions import db
from web.forms import strong_password
from web.services import passwords, signins
from web.services.accounts import (
    LOGIN_WINDOW,
    AccountError,
    change_password,
    end_sessions,
    normalise_email,
    set_email,
)
from web.unit_of_work import unit_of_work

account = Blueprint("account", __name__, url_prefix="/account")


class PasswordChangeForm(FlaskForm):
    """The current password, the new one and the new one again."""

    current = PasswordField(
        _l("Current password"),
        validators=[DataRequired(_l("Please enter your current password.")), Length(max=256)],
    )
    new = PasswordField(
        _l("New password"),
        validators=[
            DataRequired(_l("Please enter a new password.")),
            strong_password,
        ],
    )
    confirm = PasswordField(
        _l("New password again"),
        validators=[
            DataRequired(_l("Please enter the new password again.")),
            EqualTo("new", message=_l("The two new passwords are not the same.")),
        ],
    )
    submit = SubmitField(_l("Change password"))


class EmailForm(FlaskForm):
    """Where notices are mailed; blank stops the mail."""

    email = StringField(_l("E-mail address"), validators=[Length(max=254)])
    submit = SubmitField(_l("Save e-mail address"))

    def validate_email(self, field: StringField) -> None:
        """A plausible address, or blank."""
        try:
            normalise_email(field.data or "")
        except AccountError:
            raise ValidationError(_l("This is not a valid e-mail address.")) from None


def _page(password_form: PasswordChangeForm, email_form: EmailForm) -> Response:
    """The account page with both forms (one of them may carry errors) and the sign-ins."""
    idle, life = sessions.limits(household=False)
    return make_response(
        render_template(
            "account/index.html",
            password_form=password_form,
            email_form=email_form,
            sign_ins=signins.active(
                db.session, current_user, timedelta(seconds=idle), timedelta(seconds=life)
            ),
            this_sign_in=session.get(sessions.SID),
        )
    )


def _email_form() -> EmailForm:
    """The e-mail form, filled with the current address on a first view."""
    form = EmailForm(prefix="mail")
    if not form.is_submitted():
        form.email.data = current_user.email or ""
    return form


@account.get("")
@login_required
def index() -> Response:
    """The account page: who is signed in, the password form and the e-mail form."""
    return _page(PasswordChangeForm(prefix="pw"), _email_form())


@account.post("/password")
@login_required
def password() -> Response:
    """Change the password; other sessions end, this one stays signed in."""
    form = PasswordChangeForm(prefix="pw")
    if form.validate_on_submit():
        try:
            with unit_of_work():
                change_password(
                    db.session, current_user, form.current.data or "", form.new.data or ""
                )
        except AccountError as error:
            target = form.current if error.code in ("current", "limited") else form.new
            target.errors = [
                {
                    "current": _("The current password is wrong."),
                    "same": _("The new password must differ from the current one."),
                    "limited": _(
                        "Too many wrong passwords. Please wait %(minutes)s minutes and try again.",
                        minutes=int(LOGIN_WINDOW.total_seconds() // 60),
                    ),
                }.get(error.code)
                or passwords.message(error.code)
            ]
        else:
            # The session version moved on: sign this browser in again under the new one.
            login_user(current_user._get_current_object())
            flash(_("Password changed. Your other sessions have been signed out."), "info")
            return redirect(url_for("account.index"))
    return _page(form, EmailForm(prefix="mail", formdata=None, data={"email": current_user.email}))


@account.post("/email")
@login_required
def email() -> Response:
    """Set or clear the e-mail address notices are sent to."""
    form = _email_form()
    if form.validate_on_submit():
        with unit_of_work():
            set_email(db.session, current_user, form.email.data or "")
        flash(
            _("E-mail address saved.") if current_user.email else _("E-mail address removed."),
            "info",
        )
        return redirect(url_for("account.index"))
    return _page(PasswordChangeForm(prefix="pw", formdata=None), form)


@account.post("/sessions/others")
@login_required
def end_other_sessions() -> Response:
    """Sign out every other browser of this account; this one stays signed in."""
    user = current_user._get_current_object()
    keep = session.get(sessions.SID)
    end_sessions(user, keep_sign_in=keep if isinstance(keep, int) else None)
    db.session.commit()
    login_user(user)  # under the new session version, keeping this browser's sign-in
    flash(_("Your other sessions have been signed out."), "info")
    return redirect(url_for("account.index"))


@account.post("/sessions/all")
@login_required
def end_all_sessions() -> Response:
    """Sign out every browser of this account, this one too."""
    end_sessions(current_user._get_current_object())
    db.session.commit()
    logout_user()
    session.clear()
    flash(_("You have been signed out everywhere."), "info")
    return redirect(url_for("public.home"))
