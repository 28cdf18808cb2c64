"""Web forms (Flask-WTF: every state-changing form carries a CSRF token)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    Field,
    FloatField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)

from web.services import passwords, titles
from web.services.needs import WISH_VALUE_CAP


def title_rule(form: FlaskForm, field: Field) -> None:
    """The title rule (web.services.titles); the title is kept trimmed."""
    refused = titles.title_problem(field.data or "")
    if refused is not None:
        raise ValidationError(titles.title_message(refused))
    field.data = (field.data or "").strip()


def strong_password(form: FlaskForm, field: Field) -> None:
    """The password policy (web.services.passwords), against the form's username if it has one,
    else the signed-in user's."""
    username_field = getattr(form, "username", None)
    if username_field is not None:
        username = username_field.data or ""
    else:
        username = getattr(current_user, "username", "") or ""
    refused = passwords.problem(field.data or "", username)
    if refused is not None:
        raise ValidationError(passwords.message(refused))


class LoginForm(FlaskForm):
    """Username and password."""

    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=256)])
    submit = SubmitField(_l("Sign in"))


def _parse_int(field: Field, message: str, *, minimum: int = 1) -> int | None:
    """The field's whole-number value, or None when blank; ValidationError(message) if bad."""
    raw = (field.data or "").strip() if isinstance(field.data, str) else field.data
    if raw in ("", None):
        return None
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise ValidationError(message) from None
    if value < minimum:
        raise ValidationError(message)
    return value


def _parse_float(field: Field, message: str, low: float, high: float) -> float | None:
    """The field's number within [low, high], or None when blank."""
    raw = (field.data or "").strip() if isinstance(field.data, str | None) else field.data
    if raw in ("", None):
        return None
    try:
        value = float(raw)
    except ValueError:
        raise ValidationError(message) from None
    if not low <= value <= high:
        raise ValidationError(message)
    return value


class RegisterOrganizationForm(FlaskForm):
    """An organization registering itself with its first user."""

    name = StringField(
        _l("Organization name"),
        validators=[DataRequired(_l("Please enter the organization name.")), Length(max=128)],
    )
    kind = SelectField(
        _l("Kind of organization"),
        choices=[
            SelectChoice("enterprise", _l("Enterprise")),
            SelectChoice("ngo", _l("Social organization / NGO")),
            SelectChoice("paired_unit", _l("Paired unit")),
            SelectChoice("individual", _l("Individual donor")),
        ],
    )
    username = StringField(
        _l("Username"), validators=[DataRequired(_l("Please enter a username.")), Length(max=64)]
    )
    password = PasswordField(
        _l("Password"),
        validators=[
            DataRequired(_l("Please enter a password.")),
            strong_password,
        ],
    )
    submit = SubmitField(_l("Register"))


class OfferForm(FlaskForm):
    """An aid offer; whole numbers and dates are checked here with messages naming the field."""

    category = SelectField(_l("Category"), choices=[])
    title = StringField(
        _l("Title"),
        validators=[DataRequired(_l("Please enter a title.")), Length(max=200), title_rule],
    )
    description = TextAreaField(_l("Description"), validators=[Length(max=4000)])
    quantity = StringField(_l("Quantity"))
    min_lot = StringField(_l("Smallest lot"))
    max_villages = StringField(_l("At most this many villages"))
    indivisible = BooleanField(_l("Indivisible (goes whole to one village)"))
    items = SelectMultipleField(_l("Kinds it gives"), choices=[], validate_choice=False)
    general = BooleanField(_l("General: any need of its category may receive it (no kind named)"))
    counties = SelectMultipleField(_l("Counties it may go to"), choices=[])
    dispatch_lat = StringField(_l("Dispatch point latitude"))
    dispatch_lon = StringField(_l("Dispatch point longitude"))
    valid_from = DateField(
        _l("Valid from"), validators=[InputRequired(_l("Please enter the valid-from date."))]
    )
    valid_until = DateField(
        _l("Valid until"), validators=[InputRequired(_l("Please enter the valid-until date."))]
    )
    confirm_duplicate = BooleanField(_l("This is not a duplicate: save it anyway"))
    submit = SubmitField(_l("Save offer"))

    def validate_quantity(self, field: Field) -> None:
        """Quantity: a whole number above zero."""
        if _parse_int(field, _l("Quantity must be a whole number greater than 0.")) is None:
            raise ValidationError(_l("Quantity must be a whole number greater than 0."))

    def validate_min_lot(self, field: Field) -> None:
        """Smallest lot: a whole number above zero, not above the quantity."""
        lot = _parse_int(field, _l("Smallest lot must be a whole number greater than 0."))
        try:
            quantity = _parse_int(self.quantity, "")
        except ValidationError:
            return
        if lot is not None and quantity is not None and lot > quantity:
            raise ValidationError(_l("Smallest lot cannot be larger than the quantity."))

    def validate_max_villages(self, field: Field) -> None:
        """At most this many villages: blank or a whole number above zero."""
        _parse_int(field, _l("Number of villages must be a whole number greater than 0."))

    def validate_dispatch_lat(self, field: Field) -> None:
        """Latitude within Hezhou's wider region."""
        _parse_float(field, _l("Latitude must be a number between 18 and 30."), 18, 30)

    def validate_dispatch_lon(self, field: Field) -> None:
        """Longitude within Hezhou's wider region."""
        _parse_float(field, _l("Longitude must be a number between 100 and 120."), 100, 120)

    def validate_valid_until(self, field: Field) -> None:
        """Valid until: not before valid from."""
        if self.valid_from.data and field.data and field.data < self.valid_from.data:
            raise ValidationError(_l("Valid-until date cannot be before the valid-from date."))


class DecisionForm(FlaskForm):
    """A one-button decision (approve, reject, suspend, withdraw) carrying a CSRF token."""

    decision = HiddenField()
    reason = TextAreaField(_l("Reason"), validators=[Length(max=2000)])


class StaffAccountForm(FlaskForm):
    """An administrator creating a village committee, township officer or auditor account."""

    role = SelectField(
        _l("Role"),
        choices=[
            SelectChoice("village", _l("Village committee")),
            SelectChoice("township", _l("Township officer")),
            SelectChoice("auditor", _l("Auditor")),
        ],
    )
    username = StringField(
        _l("Username"), validators=[DataRequired(_l("Please enter a username.")), Length(max=64)]
    )
    display_name = StringField(_l("Display name"), validators=[Length(max=64)])
    password = PasswordField(
        _l("Password"),
        validators=[
            DataRequired(_l("Please enter a password.")),
            strong_password,
        ],
    )
    village_code = StringField(_l("Village code (12 digits, for a village committee)"))
    township_code = StringField(_l("Township code (9 digits, for a township officer)"))
    submit = SubmitField(_l("Create account"))


URGENCY_CHOICES = [
    SelectChoice("5", _l("5 - very urgent")),
    SelectChoice("4", _l("4 - urgent")),
    SelectChoice("3", _l("3 - normal")),
    SelectChoice("2", _l("2 - can wait a little")),
    SelectChoice("1", _l("1 - can wait")),
]


class NeedForm(FlaskForm):
    """A village need, optionally tied to a 十一有一低于 checklist item."""

    category = SelectField(_l("Category"), choices=[])
    title = StringField(
        _l("Title"),
        validators=[DataRequired(_l("Please enter a title.")), Length(max=200), title_rule],
    )
    description = TextAreaField(_l("Description"), validators=[Length(max=4000)])
    item = SelectField(_l("Item kind"), choices=[], validate_choice=False)
    accepts = SelectMultipleField(_l("Also accepts"), choices=[], validate_choice=False)
    quantity = StringField(_l("Quantity"))
    urgency = SelectField(_l("Urgency"), choices=URGENCY_CHOICES, default="3")
    deadline = DateField(_l("Needed by"), validators=[Optional()])
    checklist_item = SelectField(_l("Exit checklist item it closes"), choices=[])
    confirm_duplicate = BooleanField(_l("This is not a duplicate: save it anyway"))
    submit = SubmitField(_l("Save need"))

    def validate_quantity(self, field: Field) -> None:
        """Quantity: a whole number above zero."""
        if _parse_int(field, _l("Quantity must be a whole number greater than 0.")) is None:
            raise ValidationError(_l("Quantity must be a whole number greater than 0."))


class WishForm(FlaskForm):
    """A household micro-wish (微心愿): small goods, with evidence, posted by the committee."""

    household = SelectField(_l("Household"), choices=[])
    household_name = StringField(
        _l("New household, masked name (e.g. 黄**)"), validators=[Length(max=32)]
    )
    household_people = StringField(_l("Number of people in the new household"))
    title = StringField(
        _l("Wish"),
        validators=[DataRequired(_l("Please enter the wish.")), Length(max=200), title_rule],
    )
    item = SelectField(_l("Item kind"), choices=[], validate_choice=False)
    description = TextAreaField(_l("Description"), validators=[Length(max=4000)])
    quantity = StringField(_l("Quantity"), default="1")
    value = StringField(_l("Estimated value (yuan)"))
    evidence = TextAreaField(
        _l("Evidence note"),
        validators=[
            DataRequired(_l("Please write who checked this wish and how.")),
            Length(max=2000),
        ],
    )
    deadline = DateField(_l("Needed by"), validators=[Optional()])
    confirm_duplicate = BooleanField(_l("This is not a duplicate: save it anyway"))
    submit = SubmitField(_l("Save wish"))

    def validate_quantity(self, field: Field) -> None:
        """Quantity: a whole number above zero."""
        if _parse_int(field, _l("Quantity must be a whole number greater than 0.")) is None:
            raise ValidationError(_l("Quantity must be a whole number greater than 0."))

    def validate_value(self, field: Field) -> None:
        """Estimated value: a whole number of yuan within the micro-wish cap."""
        message = _l(
            "Estimated value must be a whole number of yuan, at most the cap of %(cap)s yuan.",
            cap=WISH_VALUE_CAP,
        )
        value = _parse_int(field, message)
        if value is None or value > WISH_VALUE_CAP:
            raise ValidationError(message)

    def validate_household_name(self, field: Field) -> None:
        """A new household needs a masked name."""
        if self.household.data == "new" and not (field.data or "").strip():
            raise ValidationError(_l("Please enter the new household's masked name."))

    def validate_household_people(self, field: Field) -> None:
        """A new household needs a number of people."""
        message = _l("Number of people must be a whole number greater than 0.")
        if self.household.data == "new" and _parse_int(field, message) is None:
            raise ValidationError(message)


class NeedKindForm(FlaskForm):
    """The kind a township names for a need that waits for one."""

    item = SelectField(_l("Item kind"), choices=[], validate_choice=False)


class VerifyForm(FlaskForm):
    """A township officer verifying or rejecting a need; rejecting needs a reason."""

    decision = HiddenField()
    seen = HiddenField()  # the need's updated_at as the page showed it
    reason = TextAreaField(_l("Reason"), validators=[Length(max=2000)])


class WeekPolicyForm(FlaskForm):
    """The week to allocate, the four policy weights of the objective and the solver's time."""

    week = StringField(
        _l("Week (e.g. 2026-W48)"),
        validators=[
            DataRequired(),
            Regexp(r"^\d{4}-W\d{2}$", message=_l("Write the week as 2026-W48.")),
        ],
    )
    fragmentation_penalty = FloatField(
        _l("Fragmentation penalty"),
        validators=[InputRequired(), NumberRange(min=0, max=10000)],
        description=_l("Cost of each extra donor-village link: higher keeps shipments whole."),
    )
    distance_discount_per_km = FloatField(
        _l("Distance discount per km"),
        validators=[InputRequired(), NumberRange(min=0, max=1)],
        description=_l("Value lost per kilometre travelled: higher prefers nearby villages."),
    )
    fairness_floor = FloatField(
        _l("Fairness floor"),
        validators=[InputRequired(), NumberRange(min=0, max=1)],
        description=_l("Share of its need every reachable village should get at least (0 to 1)."),
    )
    fairness_penalty = FloatField(
        _l("Fairness penalty"),
        validators=[InputRequired(), NumberRange(min=0, max=100000)],
        description=_l("Cost of leaving a village below the floor: higher spreads aid wider."),
    )
    horizon = IntegerField(
        _l("Planning horizon (weeks)"),
        validators=[Optional(), NumberRange(min=1, max=12)],
        description=_l(
            "Weeks of known needs, deadlines and pledged offers to plan over; only this week is "
            "committed, the later weeks are a plan. 1: this week alone, as before."
        ),
    )
    time_limit = IntegerField(
        _l("Time limit (seconds)"),
        default=10,
        validators=[InputRequired(), NumberRange(min=1, max=86400)],
        description=_l(
            "Up to 120 seconds for a city's week; a larger week may take one second more per "
            "20 open needs (a province's week is cut into parts solved by several workers)."
        ),
    )
    submit = SubmitField(_l("Preview allocation"))


class ReceiptForm(FlaskForm):
    """A village committee confirming receipt of a pledge, with a note and a rating."""

    note = TextAreaField(_l("Note"), validators=[Length(max=2000)])
    rating = SelectField(
        _l("Rating"),
        choices=[SelectChoice(str(n), str(n)) for n in range(5, 0, -1)],
        default="5",
    )
    submit = SubmitField(_l("Confirm receipt"))
