"""The three journeys done only through the API, on the demo data, as a partner script would.

1. A donor posts an offer. 2. A village committee posts a need and its township verifies it.
3. An administrator previews, commits and publishes the week; the donor dispatches a pledge and
the village committee confirms receipt.
"""

from __future__ import annotations

import time
from typing import Any

from flask import Flask

from seeds.demo import WEEK
from tests.web.test_api_helpers import Api, api  # noqa: F401  (fixture)
from web import jobs


def test_journey_1_donor_posts_an_offer(api: Api) -> None:  # noqa: F811
    offer = {
        "category": "goods",
        "title": "冬季棉被 200 床",
        "description": "全新棉被，企业仓库直发",
        "quantity": 200,
        "min_lot": 20,
        "counties": ["451102"],
        "valid_from": "2026-11-23",
        "valid_until": "2026-12-31",
    }
    created = api.post("donor", "/offers", offer, headers={"Idempotency-Key": "quilts-1"})
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body["status"] == "open" and body["allocated"] == 0 and body["remaining"] == 200
    assert body["counties"] == ["451102"]
    mine = api.get("donor", "/offers?status=open&per_page=500").get_json()
    assert body["id"] in [o["id"] for o in mine["items"]]
    assert api.get("donor", f"/offers/{body['id']}").get_json()["title"] == "冬季棉被 200 床"


def test_journey_2_village_posts_a_need_and_township_verifies_it(api: Api) -> None:  # noqa: F811
    need = {
        "category": "education",
        "title": "留守儿童冬季助学",
        "description": "12名留守儿童需要冬季校服和文具",
        "item": "education.stipend.compulsory",
        "quantity": 12,
        "urgency": 4,
        "deadline": "2027-01-15",
    }
    created = api.post("village", "/needs", need)
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body["verification"] == "pending" and body["status"] == "open"
    pending = api.get("township", "/needs?verification=pending&per_page=500").get_json()
    assert body["id"] in [n["id"] for n in pending["items"]]
    verified = api.post("township", f"/needs/{body['id']}/verify", {"decision": "verify"})
    assert verified.status_code == 200, verified.get_json()
    assert verified.get_json()["verification"] == "verified"
    assert api.get("village", f"/needs/{body['id']}").get_json()["verification"] == "verified"


def _follow(script: Api, run_id: int, seconds: float = 120.0) -> dict[str, Any]:
    """Poll a preview job as a script would, until it is no longer queued or running."""
    deadline = time.monotonic() + seconds
    while True:
        run: dict[str, Any] = script.get("admin", f"/runs/{run_id}").get_json()
        if run["status"] not in ("queued", "running") or time.monotonic() > deadline:
            return run
        time.sleep(0.2)


def test_journey_3_preview_commit_publish_dispatch_confirm(
    api: Api,  # noqa: F811
    demo_app: Flask,
) -> None:
    demo_app.config["DUIJIE_API_SOLVE_SECONDS"] = 2
    demo_app.config["DUIJIE_JOBS_SYNC"] = False  # the job runs beside the request, as deployed
    jobs.install_runner(demo_app)
    started = api.post("admin", "/runs", {"week": WEEK})
    assert started.status_code == 202, started.get_json()
    assert started.get_json()["status"] in ("queued", "running", "preview")
    assert started.get_json()["progress"]["time_limit"] == 2
    run = _follow(api, started.get_json()["id"])
    assert run["status"] == "preview" and run["allocation_count"] > 0
    assert run["progress"]["fraction"] == 1.0
    assert api.get("auditor", f"/runs/{run['id']}").get_json()["status"] == "preview"
    # Nothing is pledged before the commit: the donor sees no pledge yet.
    assert api.get("donor", "/allocations").get_json()["total"] == 0

    committed = api.post("admin", f"/runs/{run['id']}/commit")
    assert committed.status_code == 200 and committed.get_json()["status"] == "committed"
    published = api.post("admin", f"/runs/{run['id']}/publish")
    assert published.status_code == 200 and published.get_json()["status"] == "published"

    mine = api.get("donor", "/allocations?status=pledged&per_page=500").get_json()
    assert mine["total"] > 0
    pledge = mine["items"][0]
    sent = api.post("donor", f"/allocations/{pledge['id']}/dispatch")
    assert sent.status_code == 200 and sent.get_json()["status"] == "dispatched"
    assert api.post("donor", f"/allocations/{pledge['id']}/dispatch").status_code == 409

    ours = api.get("village", "/allocations?per_page=500").get_json()
    assert ours["total"] > 0
    target = next((a for a in ours["items"] if a["id"] == pledge["id"]), ours["items"][0])
    confirmed = api.post(
        "village", f"/allocations/{target['id']}/confirm", {"note": "已收到，谢谢", "rating": 5}
    )
    assert confirmed.status_code == 200, confirmed.get_json()
    body = confirmed.get_json()
    assert body["status"] == "confirmed" and body["rating"] == 5
    assert api.get(None, "/totals").get_json()["pledges"] > 0
