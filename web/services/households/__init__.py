"""Households asking for help themselves (issue 10): sign-in, requests, the committee's inbox.

A household is not a User. Its committee registers it and hands it a one-time invitation code
(stored as a keyed hash, valid 14 days, used once); the household then sets a 4-6 digit PIN and
later signs in with its household number (户号, printed on the slip) and that PIN. Sign-in and
submission are rate-limited through web.services.throttle. Whatever a household asks for waits
for its committee, which accepts it as a micro-wish (a pending Need the township still
verifies), merges it into an existing village need, or declines it with a reason.

HouseholdEvent rows keep a log for the committee: never a name or a phone, never an IP address.

The package is split by concern: base (limits, the principal, codes and the log), invitations
(registering, inviting, PINs and sign-in), help_requests (the household's requests) and review
(the committee's inbox). Every service only flushes: the view or command calling it commits.
"""

from web.services.households.base import (
    HOUSEHOLD_CATEGORIES,
    HOUSEHOLD_FAILURES,
    HOUSEHOLD_FAILURES_DAY,
    INVITE_ALPHABET,
    INVITE_DAYS,
    INVITE_FAILURES,
    INVITE_LENGTH,
    IP_FAILURES,
    MAX_OPEN_REQUESTS,
    MAX_QUANTITY,
    MAX_REASON,
    MAX_WHAT,
    PIN_FAILURES,
    PIN_PATTERN,
    SIGN_IN_WINDOW,
    SUBMISSION_WINDOW,
    SUBMISSIONS_PER_DAY,
    HouseholdError,
    HouseholdPrincipal,
    code_hash,
    events,
    format_code,
    load_principal,
    log,
    normalise_code,
)
from web.services.households.help_requests import (
    STEPS,
    RequestView,
    confirm_arrival,
    describe,
    household_requests,
    open_request_count,
    own_request,
    submit_request,
    withdraw_request,
)
from web.services.households.invitations import (
    get_household,
    invite,
    redeem_invitation,
    register_household,
    revoke,
    set_pin,
    sign_in,
    sign_in_state,
    sign_out,
    trivial_pin,
    village_households,
)
from web.services.households.review import (
    accept,
    decline,
    get_village_request,
    inbox,
    merge,
    merge_candidates,
    merge_fits,
    waiting_count,
)

__all__ = [
    "HOUSEHOLD_CATEGORIES",
    "HOUSEHOLD_FAILURES",
    "HOUSEHOLD_FAILURES_DAY",
    "INVITE_ALPHABET",
    "INVITE_DAYS",
    "INVITE_FAILURES",
    "INVITE_LENGTH",
    "IP_FAILURES",
    "MAX_OPEN_REQUESTS",
    "MAX_QUANTITY",
    "MAX_REASON",
    "MAX_WHAT",
    "PIN_FAILURES",
    "PIN_PATTERN",
    "SIGN_IN_WINDOW",
    "STEPS",
    "SUBMISSIONS_PER_DAY",
    "SUBMISSION_WINDOW",
    "HouseholdError",
    "HouseholdPrincipal",
    "RequestView",
    "accept",
    "code_hash",
    "confirm_arrival",
    "decline",
    "describe",
    "events",
    "format_code",
    "get_household",
    "get_village_request",
    "household_requests",
    "inbox",
    "invite",
    "load_principal",
    "log",
    "merge",
    "merge_candidates",
    "merge_fits",
    "normalise_code",
    "open_request_count",
    "own_request",
    "redeem_invitation",
    "register_household",
    "revoke",
    "set_pin",
    "sign_in",
    "sign_in_state",
    "sign_out",
    "submit_request",
    "trivial_pin",
    "village_households",
    "waiting_count",
    "withdraw_request",
]  # fmt: skip
