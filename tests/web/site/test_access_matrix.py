"""Who may use which page: every route and method of the app's URL map, as every role.

The expected outcome is written once, in MATRIX below, keyed by endpoint and method. Outcomes:

    ok      let through (any answer but 401/403/404/5xx or a redirect to a sign-in page)
    login   not signed in: 401 or a redirect to a sign-in page
    403     signed in but refused
    404     not found (also how other people's items are hidden)

A value "ok|404" means: with the role's own ids let through, with another village's (or
organization's, user's, household's) ids 404. Ids are real rows of the demo data plus a few
made here (a committed run with two pledges, help requests, API tokens, a signed-in household).
A route that has no row fails the test with the message to add one.

Pages are tried with the session of each role; /api/v1 routes with a bearer token of each role.
A POST carries no form fields: a page that lets the role in answers with its form's errors.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from web.extensions import db
from web.models import (
    Allocation,
    AllocationRun,
    ApiToken,
    Campaign,
    Certificate,
    HelpRequest,
    Household,
    ImportJob,
    Need,
    Offer,
    User,
    Village,
    WishClaim,
)
from web.models.base import utcnow
from web.services.tokens import create_token
from web.sessions import stamp
from web.views.uploaded import upload_folder

# county: a county office (县区扶贫办, issue 16), bound to 八步区; its own ids lie in that county
# and the others' outside it.
ROLES = ("anon", "admin", "township", "village", "donor", "auditor", "household", "county")
USERNAMES = {r: r for r in ROLES if r not in ("anon", "household")}

# Shorthands for rows.
PUBLIC = dict.fromkeys(ROLES, "ok")


def only(role_outcome: dict[str, str], others: str = "403", anon: str = "login") -> dict[str, str]:
    """Signed-in roles not named get `others`; anonymous gets `anon`."""
    out = {r: others for r in ROLES}
    out["anon"] = anon
    out.update(role_outcome)
    return out


ADMIN = only({"admin": "ok"})
STAFF = only(dict.fromkeys(("admin", "township", "village", "donor", "auditor", "county"), "ok"))
SIGNED_IN = only(dict.fromkeys(ROLES[1:], "ok"))
API_PUBLIC = PUBLIC
HOUSEHOLD = only({"household": "ok"}, others="login", anon="login")


def api(role_outcome: dict[str, str]) -> dict[str, str]:
    """An API row: no bearer token is 401; a household has no token (401 too)."""
    return only(role_outcome, anon="login") | {"household": "login"}


API_STAFF = api(
    dict.fromkeys(("admin", "township", "village", "donor", "auditor", "county"), "ok")
)
API_ADMIN = api({"admin": "ok"})

# fmt: off
MATRIX: dict[tuple[str, str], dict[str, str]] = {
    # public pages
    ("public.home", "GET"): PUBLIC,
    ("public.villages", "GET"): PUBLIC,
    ("transparency.index", "GET"): PUBLIC,
    # recognition (issue 17): the honour roll and certificates' check page are public
    ("honours.roll", "GET"): PUBLIC,
    ("honours.check_form", "GET"): PUBLIC,
    ("honours.check_page", "GET"): PUBLIC,
    ("honours.donor_certificates", "GET"): only({"donor": "ok"}),
    ("honours.issue_delivery", "POST"): only({"donor": "ok|404"}),
    ("honours.issue_claim", "POST"): only({"donor": "ok|404"}),
    ("honours.issue_year", "POST"): only({"donor": "ok"}),
    ("honours.certificate_pdf", "GET"): only({"donor": "ok|404", "admin": "ok"}),
    ("honours.anonymity", "POST"): only({"donor": "ok"}),
    ("honours.recognition_list", "GET"): ADMIN,
    ("dashboard.index", "GET"): only({"admin": "ok", "township": "ok", "auditor": "ok"}),
    ("health.healthz", "GET"): PUBLIC,
    ("health.readyz", "GET"): PUBLIC,
    # The test client is 127.0.0.1, inside DUIJIE_METRICS_ALLOW (others: 404, test_observability)
    ("health.metrics", "GET"): PUBLIC,
    ("static", "GET"): PUBLIC,
    ("auth.login", "GET"): PUBLIC,
    ("auth.login", "POST"): PUBLIC,
    ("auth.logout", "POST"): only(dict.fromkeys(ROLES[1:], "ok")),
    ("donor.register", "GET"): PUBLIC,
    ("donor.register", "POST"): PUBLIC,
    # account
    ("account.index", "GET"): STAFF,
    ("account.email", "POST"): STAFF,
    ("account.password", "POST"): STAFF,
    ("account.end_other_sessions", "POST"): STAFF,
    ("account.end_all_sessions", "POST"): STAFF,
    ("tokens.index", "GET"): STAFF,
    ("tokens.create", "POST"): STAFF,
    ("tokens.revoke", "POST"): only(dict.fromkeys((*ROLES[1:6], "county"), "ok|404")),
    # administration
    ("admin.accounts", "GET"): ADMIN,
    ("admin.accounts", "POST"): ADMIN,
    ("admin.organizations", "GET"): ADMIN,
    ("admin.vet", "POST"): ADMIN,
    ("admin.account_decision", "POST"): ADMIN,
    ("catalogue.index", "GET"): ADMIN,
    ("catalogue.add", "POST"): ADMIN,
    ("catalogue.edit", "GET"): ADMIN,
    ("catalogue.edit", "POST"): ADMIN,
    ("catalogue.change_state", "POST"): ADMIN,
    ("catalogue.import_sheet", "POST"): ADMIN,
    ("catalogue.export", "GET"): ADMIN,
    ("catalogue.classify_offer", "POST"): ADMIN,
    ("week.plan", "GET"): ADMIN,
    ("week.plan", "POST"): ADMIN,
    ("week.run", "GET"): ADMIN,
    ("week.progress", "GET"): ADMIN,
    ("week.commit", "POST"): ADMIN,
    ("week.publish", "POST"): ADMIN,
    ("week.rerun", "POST"): ADMIN,
    ("week.retry_run", "POST"): ADMIN,
    ("week.cancel_run", "POST"): ADMIN,
    ("week.cancel_allocation", "POST"): ADMIN,
    ("week.download", "GET"): ADMIN,
    # donors
    ("donor.offers", "GET"): only({"donor": "ok"}),
    ("kinds.guess", "GET"): only(dict.fromkeys(("donor", "village", "township", "admin"), "ok")),
    ("donor.new_offer", "GET"): only({"donor": "ok"}),
    ("donor.new_offer", "POST"): only({"donor": "ok"}),
    ("donor.edit_offer", "GET"): only({"donor": "ok|404"}),
    ("donor.edit_offer", "POST"): only({"donor": "ok|404"}),
    ("donor.withdraw_offer", "POST"): only({"donor": "ok|404"}),
    ("deliveries.donor_allocations", "GET"): only({"donor": "ok"}),
    ("deliveries.dispatch_allocation", "POST"): only({"donor": "ok|404"}),
    # villages and townships
    ("village.needs", "GET"): only({"village": "ok"}),
    ("village.new_need", "GET"): only({"village": "ok"}),
    ("village.new_need", "POST"): only({"village": "ok"}),
    ("village.edit_need", "GET"): only({"village": "ok|404"}),
    ("village.edit_need", "POST"): only({"village": "ok|404"}),
    ("village.withdraw_need", "POST"): only({"village": "ok|404"}),
    ("village.new_wish", "GET"): only({"village": "ok"}),
    ("village.new_wish", "POST"): only({"village": "ok"}),
    ("village.review", "GET"): only({"township": "ok"}),
    ("village.verify", "POST"): only({"township": "ok|404"}),
    ("village.set_kind", "POST"): only({"township": "ok|404"}),
    ("deliveries.village_allocations", "GET"): only({"village": "ok"}),
    ("deliveries.confirm_allocation", "POST"): only({"village": "ok|404"}),
    ("deliveries.report_allocation_problem", "POST"): only({"village": "ok|404"}),
    ("deliveries.receipt_photo", "GET"): only(
        {"admin": "ok", "township": "ok|404", "village": "ok|404", "donor": "ok|404",
         "auditor": "ok"}),
    ("household_admin.households", "GET"): only({"village": "ok"}),
    ("household_admin.new_household", "GET"): only({"village": "ok"}),
    ("household_admin.new_household", "POST"): only({"village": "ok"}),
    ("household_admin.household_page", "GET"): only({"village": "ok|404"}),
    ("household_admin.invite", "POST"): only({"village": "ok|404"}),
    ("household_admin.revoke", "POST"): only({"village": "ok|404"}),
    ("household_admin.slip", "GET"): only({"village": "ok|404"}),
    ("household_admin.inbox", "GET"): only({"village": "ok"}),
    ("household_admin.request_page", "GET"): only({"village": "ok|404"}),
    ("household_admin.accept", "POST"): only({"village": "ok|404"}),
    ("household_admin.decline", "POST"): only({"village": "ok|404"}),
    ("household_admin.merge", "POST"): only({"village": "ok|404"}),
    ("household_admin.photo", "GET"): only({"village": "ok|404"}),
    # households' own pages (/h/)
    ("household.start", "GET"): PUBLIC,
    ("household.legacy", "GET"): dict.fromkeys(ROLES, "login"),  # redirects to /h/
    ("household.invite", "POST"): PUBLIC,
    ("household.login", "POST"): PUBLIC,
    ("household.pin", "GET"): PUBLIC,
    ("household.pin", "POST"): PUBLIC,
    ("household.logout", "POST"): PUBLIC,
    ("household.home", "GET"): HOUSEHOLD,
    ("household.ask", "GET"): HOUSEHOLD,
    ("household.ask", "POST"): HOUSEHOLD,
    ("household.request_page", "GET"): only({"household": "ok|404"}, others="login"),
    ("household.confirm", "POST"): only({"household": "ok|404"}, others="login"),
    ("household.withdraw", "POST"): only({"household": "ok|404"}, others="login"),
    ("household.photo", "GET"): only({"household": "ok|404"}, others="login"),
    # imports and exports
    ("imports.upload", "GET"): only({"admin": "ok", "village": "ok"}),
    ("imports.upload", "POST"): only({"admin": "ok", "village": "ok"}),
    ("imports.template", "GET"): only({"admin": "ok", "village": "ok"}),
    ("imports.current", "GET"): only({"admin": "ok", "village": "ok"}),
    # a background import's page: its uploader's (others' are 404) and any administrator's
    ("imports.job", "GET"): only({"admin": "ok", "village": "ok|404", "donor": "ok|404"}),
    ("imports.job_progress", "GET"): only({"admin": "ok", "village": "ok|404", "donor": "ok|404"}),
    ("ledger.index", "GET"): only({"admin": "ok", "township": "ok", "auditor": "ok"}),
    ("ledger.as_csv", "GET"): only({"admin": "ok", "township": "ok", "auditor": "ok"}),
    ("ledger.as_xlsx", "GET"): only({"admin": "ok", "township": "ok", "auditor": "ok"}),
    ("reports.weekly", "GET"): only({"admin": "ok", "township": "ok", "auditor": "ok"}),
    # the pairing register (一帮一联) and the exit list (动态脱贫清单), issue 16
    ("pairing.register", "GET"): only({"admin": "ok", "auditor": "ok"}),
    ("pairing.unit", "GET"): only({"donor": "ok"}),
    ("exits.index", "GET"): PUBLIC,
    ("exits.village", "GET"): PUBLIC,
    ("exits.mark", "POST"): ADMIN,
    # the REST API (/api/v1), with bearer tokens
    ("api.categories_view", "GET"): PUBLIC,
    ("api.list_kinds", "GET"): PUBLIC,
    ("api.docs", "GET"): PUBLIC,
    ("api.openapi_json", "GET"): PUBLIC,
    ("api.totals_view", "GET"): PUBLIC,
    ("api.list_villages_view", "GET"): PUBLIC,
    ("api.get_village_view", "GET"): PUBLIC,
    ("api.me", "GET"): API_STAFF,
    ("api.list_allocations", "GET"): API_STAFF,
    ("api.get_allocation", "GET"): api(
        {"admin": "ok", "township": "ok|404", "village": "ok|404", "donor": "ok|404",
         "auditor": "ok", "county": "ok|404"}),
    ("api.list_needs", "GET"): api(
        {"admin": "ok", "township": "ok", "village": "ok", "auditor": "ok", "county": "ok"}),
    ("api.get_need", "GET"): api(
        {"admin": "ok", "township": "ok|404", "village": "ok|404", "auditor": "ok",
         "county": "ok|404"}),
    ("api.create_need", "POST"): api({"village": "ok"}),
    ("api.update_need", "PATCH"): api({"village": "ok|404"}),
    ("api.withdraw_need", "POST"): api({"village": "ok|404"}),
    # a county office verifies its county's needs when a township is stuck
    ("api.verify_need", "POST"): api({"township": "ok|404", "county": "ok|404"}),
    # a county office reads the offers reaching its county (named there, or pledged there)
    ("api.list_offers", "GET"): api(
        {"admin": "ok", "donor": "ok", "auditor": "ok", "county": "ok"}),
    ("api.get_offer", "GET"): api(
        {"admin": "ok", "donor": "ok|404", "auditor": "ok", "county": "ok|404"}),
    ("api.create_offer", "POST"): api({"donor": "ok"}),
    ("api.update_offer", "PATCH"): api({"donor": "ok|404"}),
    ("api.withdraw_offer", "POST"): api({"donor": "ok|404"}),
    ("api.dispatch_allocation", "POST"): api({"donor": "ok|404"}),
    ("api.receive_allocation", "POST"): api({"village": "ok|404"}),
    ("api.confirm_allocation", "POST"): api({"village": "ok|404"}),
    ("api.cancel_allocation", "POST"): API_ADMIN,
    ("api.list_runs", "GET"): api({"admin": "ok", "auditor": "ok"}),
    ("api.get_run", "GET"): api({"admin": "ok", "auditor": "ok"}),
    ("api.start_run", "POST"): API_ADMIN,
    ("api.commit", "POST"): API_ADMIN,
    ("api.publish", "POST"): API_ADMIN,
    # the county office (issue 16): its own county's pages only; the city's bulletin is the
    # administrator's. Every row above leaves the county out (403) unless it names it: it
    # reaches no administration, village, donor or township page, nor the city-wide ledger,
    # reports, command map or receipt photos.
    ("county.queue", "GET"): only({"county": "ok"}),
    ("county.verify", "POST"): only({"county": "ok|404"}),
    ("county.zero_coverage", "GET"): only({"county": "ok"}),
    ("county.share", "GET"): only({"county": "ok"}),
    ("county.export", "GET"): only({"county": "ok"}),
    ("county.county_bulletin", "GET"): only({"county": "ok"}),
    ("county.city_bulletin", "GET"): ADMIN,
    # the pull side (issue 17): gap board, micro-wishes, claims, campaigns (public pages a
    # household's session does not open: web.views.household.OPEN_TO_HOUSEHOLDS)
    ("claims.board", "GET"): PUBLIC | {"household": "403"},
    ("claims.help_gap", "GET"): PUBLIC | {"anon": "login", "household": "403"},
    ("claims.wishes", "GET"): PUBLIC | {"household": "403"},
    ("claims.claim", "POST"): only({"donor": "ok"}),
    ("claims.donor_claims", "GET"): only({"donor": "ok"}),
    ("claims.dispatch", "POST"): only({"donor": "ok|404"}),
    ("claims.cancel", "POST"): only({"donor": "ok|404"}),
    ("claims.village_claims", "GET"): only({"village": "ok"}),
    ("claims.receive", "POST"): only({"village": "ok|404"}),
    ("api.claim_wish", "POST"): api({"donor": "ok"}),
    ("campaigns.index", "GET"): PUBLIC | {"household": "403"},
    ("campaigns.show", "GET"): PUBLIC | {"household": "403"},
    ("campaigns.progress", "GET"): PUBLIC | {"household": "403"},
    ("campaigns.manage", "GET"): ADMIN,
    ("campaigns.manage", "POST"): ADMIN,
}
# fmt: on
# A body valid enough to reach the access check (else the API answers 422 before looking).
API_BODIES = {"api.verify_need": {"decision": "reject", "reason": "access matrix"}}


@dataclass
class World:
    """Ids per role: ("own", "other") for each URL variable, and each role's credentials."""

    ids: dict[str, dict[str, tuple[Any, Any]]]
    sessions: dict[str, str]
    tokens: dict[str, str]


def _first(query: Any) -> Any:
    found = db.session.scalars(query.limit(1)).first()
    assert found is not None, f"the demo data has no row for {query}"
    return found


CERTIFICATE_FACTS = {
    "donor": "测试企业", "donor_kind": "enterprise", "what_zh": "棉被", "what_en": "Quilt",
    "unit_zh": "床", "unit_en": "quilts", "quantity": 1, "value": 100.0,
    "villages": ["八步区 测试村"], "confirmed_on": "2026-11-10",
}  # fmt: skip


def build_world() -> World:
    """Pick and make the rows each role tries: its own and someone else's."""
    users = {r: db.session.scalars(select(User).where(User.username == u)).one()
             for r, u in USERNAMES.items()}  # fmt: skip
    other_donor = db.session.scalars(select(User).where(User.username == "donor-ngo")).one()
    village, township = users["village"], users["township"]
    assert village.village_id and township.township_id and users["donor"].organization_id
    other_village = _first(
        select(Village).where(
            Village.id != village.village_id, Village.township_id != township.township_id
        )
    )
    own_township_village = _first(
        select(Village).where(Village.township_id == township.township_id)
    )

    def need_in(village_id: int) -> Need:
        return db.session.scalars(
            select(Need).where(Need.village_id == village_id).order_by(Need.id).limit(1)
        ).first() or _make_need(village_id)

    own_need, other_need = need_in(village.village_id), need_in(other_village.id)
    township_need = need_in(own_township_village.id)
    own_offer = _first(
        select(Offer).where(
            Offer.organization_id == users["donor"].organization_id, Offer.status == "open",
            Offer.quantity > Offer.allocated,
        )
    )  # fmt: skip
    other_offer = _first(
        select(Offer).where(
            Offer.organization_id == other_donor.organization_id, Offer.status == "open",
            Offer.quantity > Offer.allocated,
        )
    )  # fmt: skip
    run = AllocationRun(week="2026-W01", status="published", committed_week="2026-W01",
                        created_by_id=users["admin"].id, committed_at=utcnow(),
                        published_at=utcnow())  # fmt: skip
    db.session.add(run)
    pledges = []
    for offer, need in ((own_offer, own_need), (other_offer, other_need)):
        offer.allocated += 1
        need.quantity = max(need.quantity, need.allocated + 1)
        need.allocated += 1
        pledges.append(Allocation(run=run, offer=offer, need=need, quantity=1))
    db.session.add_all(pledges)
    county_ids = _county_world(users["county"], run, own_offer, pledges[0])
    # Receipt photos on both pledges, so the photo routes are tried on real files.
    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
    for pledge in pledges:
        pledge.photo_path = upload_folder().save_photo(io.BytesIO(png), "receipt")

    def household_in(village_id: int) -> Household:
        found = db.session.scalars(
            select(Household).where(Household.village_id == village_id).limit(1)
        ).first()
        if found is None:
            found = Household(village_id=village_id, display_name="测*", people=2)
            db.session.add(found)
        return found

    own_household = household_in(village.village_id)
    other_household = household_in(other_village.id)
    # The signed-in household is another of the same village: the committee's invite and
    # revoke (tried with own_household) end a household's sign-in.
    signed_in = Household(village_id=village.village_id, display_name="签*", people=1,
                          sign_in_enabled=True, pin_hash="pin-hash-for-tests")  # fmt: skip
    db.session.add(signed_in)
    requests = []
    for household, need in ((signed_in, own_need), (other_household, other_need)):
        requests.append(
            HelpRequest(
                household=household, village_id=household.village_id,
                category_code=need.category_code, what="棉被", quantity=1,
            )
        )  # fmt: skip
    for help_request in requests:
        help_request.photo_path = upload_folder().save_photo(io.BytesIO(png), "request")
    db.session.add_all(requests)
    import_jobs = {
        role: ImportJob(kind="offers", status="done", created_by_id=user.id)
        for role, user in {**users, "other": other_donor}.items()
    }
    db.session.add_all(import_jobs.values())
    certificates = [
        Certificate(code=code, kind="delivery", organization_id=pledge.offer.organization_id,
                    allocation_id=pledge.id, year=2026,
                    facts=CERTIFICATE_FACTS)
        for code, pledge in zip(("MATR1XC0DE0WN000", "MATR1XC0DE0THER0"), pledges, strict=True)
    ]  # fmt: skip
    db.session.add_all(certificates)
    db.session.commit()
    tokens = {role: create_token(db.session, user, "matrix").secret for role, user in users.items()}
    db.session.commit()  # services flush; the caller commits
    other_token = (
        db.session.scalars(select(ApiToken.id).where(ApiToken.user_id == other_donor.id)).first()
        or create_token(db.session, other_donor, "other").token.id
    )
    db.session.commit()  # services flush; the caller commits
    own_tokens = {
        role: db.session.scalars(select(ApiToken.id).where(ApiToken.user_id == u.id)).first()
        for role, u in users.items()
    }
    other_org = other_donor.organization_id
    claims, wish, campaign = _claim_rows(users, other_donor, village.village_id)
    pending = db.session.scalars(select(User).where(User.username == "donor-pending")).one()
    base = {
        "need_id": (own_need.id, other_need.id),
        "offer_id": (own_offer.id, other_offer.id),
        "allocation_id": (pledges[0].id, pledges[1].id),
        "run_id": (run.id, run.id),
        "organization_id": (users["donor"].organization_id, other_org),
        "household_id": (own_household.id, other_household.id),
        "request_id": (requests[0].id, requests[1].id),
        "village_id": (village.village_id, other_village.id),
        "village_code": (other_village.code, other_village.code),
        "kind": ("needs", "needs"),
        "user_id": (pending.id, pending.id),
        "filename": ("css/duijie.css", "css/duijie.css"),
        "code": ("goods.living.quilt", "goods.living.quilt"),
        "fmt": ("csv", "csv"),
        "import_job_id": (import_jobs["other"].id, import_jobs["other"].id),
        "list_name": ("queue", "queue"),
        "claim_id": (claims[0].id, claims[1].id),
        "wish_id": (wish, wish),
        "campaign_id": (campaign.id, campaign.id),
        "cert_code": (certificates[0].code, certificates[1].code),
    }
    ids: dict[str, dict[str, tuple[Any, Any]]] = {}
    for role in ROLES:
        mine = dict(base)
        mine["token_id"] = (own_tokens.get(role) or other_token, other_token)
        if role == "household":
            mine["household_id"] = (signed_in.id, other_household.id)
        if role == "township":
            mine["need_id"] = (township_need.id, other_need.id)
        if role == "county":
            mine.update(county_ids)
        if role in import_jobs:
            mine["import_job_id"] = (import_jobs[role].id, import_jobs["other"].id)
        ids[role] = mine
    sessions = {role: user.get_id() for role, user in users.items()}
    sessions["household"] = f"h:{signed_in.id}:{signed_in.session_version}"
    return World(ids=ids, sessions=sessions, tokens=tokens)


def _county_world(
    county: User, run: AllocationRun, offer: Offer, outside: Allocation
) -> dict[str, tuple[Any, Any]]:
    """The county office's own ids (a need, a pledge and an offer in its county, 八步区) and
    others' (the demo village's, in another county): a pledge of the run to a need of the county
    makes the offer reach it; the other offer reaches the county neither by name nor by pledge."""
    from web.services.county_pages import offers_reaching

    assert county.county_id is not None
    need = _first(
        select(Need).join(Village, Village.id == Need.village_id)
        .where(Village.county_id == county.county_id, Need.status == "open")
        .order_by(Need.id)
    )  # fmt: skip
    offer.allocated += 1
    need.quantity = max(need.quantity, need.allocated + 1)
    need.allocated += 1
    pledge = Allocation(run=run, offer=offer, need=need, quantity=1)
    db.session.add(pledge)
    db.session.flush()
    assert outside.need.village.county_id != county.county_id
    unreached = _first(select(Offer).where(~offers_reaching(county.county_id)).order_by(Offer.id))
    return {
        "need_id": (need.id, outside.need_id),
        "allocation_id": (pledge.id, outside.id),
        "offer_id": (offer.id, unreached.id),
    }
def _claim_rows(users: dict[str, User], other_donor: User, village_id: int) -> Any:
    """Two claims (the donor's on a wish of the village's, another donor's elsewhere), a wish
    still open for claiming, and a campaign."""
    from datetime import date, timedelta

    wishes = db.session.scalars(
        select(Need).where(
            Need.household_id.is_not(None), Need.status == "open",
            Need.verification == "verified", Need.item_code.is_not(None), Need.allocated == 0,
        ).order_by(Need.village_id != village_id, Need.id)
    ).all()  # fmt: skip
    assert wishes[0].village_id == village_id
    later = utcnow() + timedelta(days=7)
    claims = [
        WishClaim(need_id=wishes[0].id, organization_id=users["donor"].organization_id,
                  user_id=users["donor"].id, status="claimed", expires_at=later),
        WishClaim(need_id=wishes[-1].id, organization_id=other_donor.organization_id,
                  user_id=other_donor.id, status="claimed", expires_at=later),
    ]  # fmt: skip
    campaign = Campaign(name="点亮微心愿", starts_on=date(2026, 11, 1), ends_on=date(2027, 2, 1),
                        categories=["goods"], kinds=[], wishes_only=True)  # fmt: skip
    db.session.add_all([*claims, campaign])
    db.session.commit()
    return claims, wishes[1].id, campaign


def _make_need(village_id: int) -> Need:
    from datetime import date

    need = Need(village_id=village_id, category_code="goods", title="棉被", quantity=5,
                deadline=date(2027, 1, 1))  # fmt: skip
    db.session.add(need)
    db.session.flush()
    return need


def classify(response: Any) -> str:
    """The outcome of one request, in MATRIX's words."""
    status = response.status_code
    if status >= 500:
        return f"error {status}"
    if status == 401:
        return "login"
    if status in (403, 404, 405):
        return str(status)
    if status in (301, 302, 303, 307, 308):
        target = response.headers.get("Location", "")
        path = target.split("?", 1)[0].split("://", 1)[-1]
        path = "/" + path.split("/", 1)[1] if "://" in target else path
        if path.rstrip("/").endswith("/login") or path in ("/h", "/h/"):
            return "login"
    return "ok"


def _url(rule: Any, values: dict[str, Any]) -> str:
    out = rule.rule
    for name in rule.arguments:
        for candidate in (f"<{name}>", f"<int:{name}>", f"<path:{name}>", f"<string:{name}>"):
            out = out.replace(candidate, str(values[name]))
    return out


def _request(
    client: FlaskClient, world: World, role: str, method: str, url: str, endpoint: str = ""
) -> Any:
    headers = {}
    if url.startswith("/api/"):
        with client.session_transaction() as session:
            session.clear()
        if role in world.tokens:
            headers["Authorization"] = f"Bearer {world.tokens[role]}"
    else:
        with client.session_transaction() as session:
            session.clear()
            if role in world.sessions:
                session["_user_id"] = world.sessions[role]
                session["_fresh"] = True
                stamp(session)
    kwargs: dict[str, Any] = {"headers": headers}
    if method in ("POST", "PUT", "PATCH") and url.startswith("/api/"):
        kwargs["json"] = API_BODIES.get(endpoint, {})
    elif method in ("POST", "PUT", "PATCH"):
        kwargs["data"] = {}
    return client.open(url, method=method, **kwargs)


def _refresh_sessions(world: World) -> None:
    """Logout and sign-in changes bump session versions: keep using valid sessions."""
    for role, username in USERNAMES.items():
        user = db.session.scalars(select(User).where(User.username == username)).one()
        db.session.refresh(user)
        world.sessions[role] = user.get_id()
    household_id = world.ids["household"]["household_id"][0]
    household = db.session.get(Household, household_id)
    assert household is not None
    db.session.refresh(household)
    world.sessions["household"] = f"h:{household.id}:{household.session_version}"


def routes(app: Flask) -> list[tuple[Any, str]]:
    """Every (rule, method) of the URL map; reads first so changes come after them."""
    found = []
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found.append((rule, method))
    return sorted(found, key=lambda rm: (rm[1] != "GET", rm[0].endpoint, rm[0].rule))


def test_every_route_is_in_the_matrix(demo_app: Flask) -> None:
    missing = [
        f"({rule.endpoint!r}, {method!r}) for {rule.rule}"
        for rule, method in routes(demo_app)
        if (rule.endpoint, method) not in MATRIX
    ]
    assert not missing, (
        "routes without a row in tests/web/site/test_access_matrix.py MATRIX (add one saying "
        "who may use them): " + "; ".join(missing)
    )


def test_access_matrix(demo_app: Flask) -> None:
    client = demo_app.test_client()
    with demo_app.app_context():
        world = build_world()
    failures: list[str] = []
    observed: dict[tuple[str, str], dict[str, str]] = {}
    tried = 0
    for rule, method in routes(demo_app):
        key = (rule.endpoint, method)
        expected = MATRIX.get(key)
        if expected is None and os.environ.get("DUIJIE_MATRIX_PRINT"):
            expected = dict.fromkeys(ROLES, "?|?")
        if expected is None:
            continue  # reported by test_every_route_is_in_the_matrix
        for role in ROLES:
            own_want, _, other_want = expected[role].partition("|")
            variants = [("own", own_want)]
            if other_want and rule.arguments - {"kind", "filename", "code", "fmt"}:
                variants.append(("other", other_want))
            seen = []
            for which, want in variants:
                values = {k: v[0 if which == "own" else 1] for k, v in world.ids[role].items()}
                url = _url(rule, values)
                response = _request(client, world, role, method, url, rule.endpoint)
                got = classify(response)
                tried += 1
                seen.append(got if got != "ok" else f"ok{response.status_code}")
                if got != want and want != "?":
                    failures.append(f"{method} {url} as {role} ({which} ids): {got}, want {want}")
            observed.setdefault(key, {})[role] = "|".join(seen)
            if method != "GET":
                with demo_app.app_context():
                    _refresh_sessions(world)
    if os.environ.get("DUIJIE_MATRIX_PRINT"):
        for key, outcomes in observed.items():
            print(key, outcomes)
        print(f"{len(observed)} routes x methods, {tried} requests")
    assert tried > 300
    assert not failures, f"{len(failures)} of {tried} requests:\n" + "\n".join(failures)
