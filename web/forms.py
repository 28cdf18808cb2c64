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
    StopValidation,
    ValidationError,
)

from web import clock
from web.services import passwords
from web.services.inputs import NeedFields, OfferFields


def title_rule(form: FlaskForm, field: Field) -> None:
    """The title, accepted by its rule (`ruled(..., "title")` before this), is kept trimmed."""
    field.data = (field.data or "").strip()


def ruled(model: type[OfferFields | NeedFields], name: str, **renamed: str) -> object:
    """A validator asking the field's rule in web.services.inputs (the one home of the offer
    and need rules), with the form's values; `renamed` maps a rule's field to the form's.

    The rules of time judge by today's date (web.clock); an edit form's `kept` (the stored
    values, set by the view) lets a date left as it was pass even when it has passed."""

    def validate(form: FlaskForm, field: Field) -> None:
        if field.errors:
            return  # already refused as typed (a date that is not one)
        values = {}
        for key in model.names():
            source = getattr(form, renamed.get(key, key), None)
            if source is not None:
                values[key] = getattr(source, "data", source)  # a field, or a constant
        kept = getattr(form, "kept", None) or {}
        message = model(**values, today=clock.today(), kept=kept).problem(name)
        if message is not None:
            raise StopValidation(message)

    return validate


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
    title = StringField(_l("Title"), validators=[ruled(OfferFields, "title"), title_rule])
    description = TextAreaField(
        _l("Description"), validators=[ruled(OfferFields, "description")]
    )
    quantity = StringField(_l("Quantity"), validators=[ruled(OfferFields, "quantity")])
    min_lot = StringField(_l("Smallest lot"), validators=[ruled(OfferFields, "min_lot")])
    max_villages = StringField(
        _l("At most this many villages"), validators=[ruled(OfferFields, "max_villages")]
    )
    indivisible = BooleanField(_l("Indivisible (goes whole to one village)"))
    items = SelectMultipleField(_l("Kinds it gives"), choices=[], validate_choice=False)
    general = BooleanField(_l("General: any need of its category may receive it (no kind named)"))
    counties = SelectMultipleField(_l("Counties it may go to"), choices=[])
    villages = SelectMultipleField(_l("Our paired villages it goes to"), choices=[])
    # Sent with the villages' boxes: unticking them all then means "no village limit".
    villages_shown = HiddenField(default="1")
    dispatch_lat = StringField(
        _l("Dispatch point latitude"), validators=[ruled(OfferFields, "dispatch_lat")]
    )
    dispatch_lon = StringField(
        _l("Dispatch point longitude"), validators=[ruled(OfferFields, "dispatch_lon")]
    )
    valid_from = DateField(_l("Valid from"), validators=[ruled(OfferFields, "valid_from")])
    valid_until = DateField(_l("Valid until"), validators=[ruled(OfferFields, "valid_until")])
    confirm_duplicate = BooleanField(_l("This is not a duplicate: save it anyway"))
    # Villages the offer is limited to (codes, comma-separated): set by 我来帮 on the gap board.
    gap_villages = HiddenField()
    submit = SubmitField(_l("Save offer"))


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
            SelectChoice("county", _l("County office")),
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
    county_code = StringField(_l("County code (6 digits, for a county office)"))
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
    title = StringField(_l("Title"), validators=[ruled(NeedFields, "title"), title_rule])
    description = TextAreaField(_l("Description"), validators=[ruled(NeedFields, "description")])
    item = SelectField(_l("Item kind"), choices=[], validate_choice=False)
    accepts = SelectMultipleField(_l("Also accepts"), choices=[], validate_choice=False)
    quantity = StringField(_l("Quantity"), validators=[ruled(NeedFields, "quantity")])
    urgency = SelectField(
        _l("Urgency"), choices=URGENCY_CHOICES, default="3", validate_choice=False,
        validators=[ruled(NeedFields, "urgency")],
    )  # fmt: skip
    deadline = DateField(
        _l("Needed by"), validators=[Optional(), ruled(NeedFields, "deadline")]
    )
    checklist_item = SelectField(_l("Exit checklist item it closes"), choices=[])
    confirm_duplicate = BooleanField(_l("This is not a duplicate: save it anyway"))
    submit = SubmitField(_l("Save need"))


class WishForm(FlaskForm):
    """A household micro-wish (微心愿): small goods, with evidence, posted by the committee."""

    household = SelectField(_l("Household"), choices=[])
    household_name = StringField(
        _l("New household, masked name (e.g. 黄**)"), validators=[Length(max=32)]
    )
    household_people = StringField(
        _l("Number of people in the new household"),
        validators=[ruled(NeedFields, "household_people")],
    )
    title = StringField(
        _l("Wish"),
        validators=[DataRequired(_l("Please enter the wish.")), ruled(NeedFields, "title"),
                    title_rule],
    )  # fmt: skip
    item = SelectField(_l("Item kind"), choices=[], validate_choice=False)
    description = TextAreaField(_l("Description"), validators=[ruled(NeedFields, "description")])
    quantity = StringField(
        _l("Quantity"), default="1", validators=[ruled(NeedFields, "quantity")]
    )
    value = StringField(
        _l("Estimated value (yuan)"),
        validators=[ruled(NeedFields, "estimated_value", estimated_value="value")],
    )
    evidence = TextAreaField(_l("Evidence note"), validators=[ruled(NeedFields, "evidence")])
    deadline = DateField(
        _l("Needed by"), validators=[Optional(), ruled(NeedFields, "deadline")]
    )
    confirm_duplicate = BooleanField(_l("This is not a duplicate: save it anyway"))
    submit = SubmitField(_l("Save wish"))
    wish = True  # the rules of web.services.inputs read it: every entry of this form is a wish

    def validate_household_name(self, field: Field) -> None:
        """A new household needs a masked name."""
        if self.household.data == "new" and not (field.data or "").strip():
            raise ValidationError(_l("Please enter the new household's masked name."))

    def validate_household_people(self, field: Field) -> None:
        """A new household needs a number of people."""
        if self.household.data == "new" and not (field.data or "").strip():
            raise ValidationError(_l("Number of people must be a whole number greater than 0."))


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


class CampaignForm(FlaskForm):
    """An administrator opening a campaign (活动, issue 17)."""

    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=128)])
    description = TextAreaField(_l("Description"), validators=[Length(max=1000)])
    starts_on = DateField(_l("Starts on"), validators=[DataRequired()])
    ends_on = DateField(_l("Ends on"), validators=[DataRequired()])
    categories = SelectMultipleField(_l("Categories it covers (none: all)"), choices=[])
    kinds = SelectMultipleField(
        _l("Kinds it covers (none: all)"), choices=[], validate_choice=False
    )
    wishes_only = BooleanField(_l("Micro-wishes only"))
    submit = SubmitField(_l("Open the campaign"))
