"""Large sheets are imported in the background (issue 24): a job page with a bar, then the report.

The threshold is set low here (DUIJIE_IMPORT_BACKGROUND_ROWS), so a sheet of a few dozen rows
goes to the background; the jobs run in the synchronous runner (as tests do by default) or,
when Redis is reachable, on RQ with a worker in this process.
"""

from __future__ import annotations

import re
import time
from dataclasses import replace
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from tests.web.conftest import Auth
from tests.web.imports.test_import_limits import _sheet, _workbook
from tests.web.imports.test_imports import OFFER_HEADER, _csv
from tests.web.week.test_jobs import rq_queue  # noqa: F401  (a fixture)
from web import clock, jobs
from web.extensions import db
from web.models import ImportJob, Offer, User
from web.services.sheets import IMPORTERS, SheetSettings, import_file

GOOD = ["物资", "冬季棉被", "", "200", "20", "八步区", "2026-11-23", "2026-12-31"]
BAD_QUANTITY = ["物资", "大米", "", "两百", "", "", "2026-11-23", "2026-12-31"]
BAD_CATEGORY = ["种子", "化肥", "", "50", "", "", "2026/11/23", "31.12.2026"]


def _sheet_of(rows: int, bad: bool = False) -> bytes:
    body = [[*GOOD[:1], f"棉被 {n}", *GOOD[2:]] for n in range(rows)]
    if bad:
        body[3], body[17] = BAD_QUANTITY, BAD_CATEGORY
    return _csv([OFFER_HEADER, *body])


def _upload(client: FlaskClient, data: bytes, name: str = "offers.csv") -> Any:
    import io

    return client.post(
        "/import/offers",
        data={"file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def _offers(app: Flask) -> int:
    with app.app_context():
        count = db.session.scalar(select(func.count(Offer.id))) or 0
        db.session.remove()
    return count


def _job(app: Flask, job_id: int) -> ImportJob:
    with app.app_context():
        found = db.session.get(ImportJob, job_id)
        assert found is not None
        db.session.expunge(found)
        db.session.remove()
    return found


def _job_id(response: Any) -> int:
    assert response.status_code == 302, response.text[-2000:]
    found = re.search(r"/import/jobs/(\d+)$", response.headers["Location"])
    assert found is not None, response.headers["Location"]
    return int(found.group(1))


@pytest.fixture
def low_threshold(demo_app: Flask) -> Flask:
    demo_app.config["DUIJIE_IMPORT_BACKGROUND_ROWS"] = 10
    return demo_app


def test_a_large_sheet_is_imported_in_the_background_with_the_report(
    client: FlaskClient, auth: Auth, low_threshold: Flask
) -> None:
    before = _offers(low_threshold)
    auth.login("donor")
    job_id = _job_id(_upload(client, _sheet_of(30)))
    page = client.get(f"/import/jobs/{job_id}")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert "导入成功：30 行全部有效，已导入 30 条记录" in page.text
    assert "<progress" not in page.text and 'http-equiv="refresh"' not in page.text
    assert _offers(low_threshold) == before + 30
    job = _job(low_threshold, job_id)
    assert job.status == "done" and job.data is None  # the upload is gone with the job
    assert job.rows_done == job.rows_total == 31 and job.report and job.report["created"] == 30
    state = client.get(f"/import/jobs/{job_id}/progress").json
    assert state is not None and state["done"] and state["fraction"] == 1.0


def test_the_background_report_is_the_synchronous_one(
    client: FlaskClient, auth: Auth, low_threshold: Flask
) -> None:
    data = _sheet_of(30, bad=True)
    before = _offers(low_threshold)
    with low_threshold.test_request_context():
        donor = db.session.scalars(select(User).where(User.username == "donor")).one()
        settings = SheetSettings.from_config(low_threshold.config, clock.today())
        report = import_file(db.session, "offers", data, donor, settings=settings)
        expected = [{"row": e.row, "column": e.column, "message": e.message} for e in report.errors]
        db.session.remove()
    assert {(e["row"], e["column"]) for e in expected} == {
        (5, "数量"),
        (19, "类别"),
        (19, "有效期止"),
    }

    auth.login("donor")
    job_id = _job_id(_upload(client, data))
    job = _job(low_threshold, job_id)
    assert job.status == "done" and job.report is not None
    assert job.report["errors"] == expected and job.report["created"] == 0
    assert job.report["rows"] == report.rows == 30
    page = client.get(f"/import/jobs/{job_id}")
    assert "什么也没有导入" in page.text and "第 5 行" in page.text and "数量" in page.text
    assert _offers(low_threshold) == before  # all or nothing


def test_a_small_sheet_stays_in_the_request(
    client: FlaskClient, auth: Auth, low_threshold: Flask
) -> None:
    auth.login("donor")
    done = _upload(client, _sheet_of(5))
    assert done.status_code == 200 and "已导入 5 条记录" in done.text
    with low_threshold.app_context():
        assert db.session.scalar(select(func.count(ImportJob.id))) == 0
        db.session.remove()


def test_a_hostile_sheet_is_still_refused_in_the_request_within_2_seconds(
    client: FlaskClient, auth: Auth, low_threshold: Flask
) -> None:
    data = _workbook(_sheet(10_000, 160, "A1:FD10000"))
    auth.login("donor")
    started = time.perf_counter()
    refused = _upload(client, data, "offers.xlsx")
    assert time.perf_counter() - started < 2
    assert refused.status_code == 200 and ("单元格" in refused.text or "行" in refused.text)
    with low_threshold.app_context():
        assert db.session.scalar(select(func.count(ImportJob.id))) == 0
        db.session.remove()


def test_a_failing_job_writes_nothing_and_says_so(
    client: FlaskClient, auth: Auth, low_threshold: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = IMPORTERS["offers"]

    def crash_after_writing(*args: Any, **kwargs: Any) -> None:
        real.write(*args, **kwargs)  # the rows are flushed...
        raise RuntimeError("the disk is full")  # ...then the job crashes before the commit

    monkeypatch.setitem(IMPORTERS, "offers", replace(real, write=crash_after_writing))
    before = _offers(low_threshold)
    auth.login("donor")
    job_id = _job_id(_upload(client, _sheet_of(30)))
    job = _job(low_threshold, job_id)
    assert job.status == "failed" and job.reason == jobs.Reason.IMPORT_CRASHED
    assert job.data is None and "RuntimeError" in (job.error or "")
    assert _offers(low_threshold) == before
    page = client.get(f"/import/jobs/{job_id}")
    assert "导入没有完成，什么也没有导入" in page.text and "导入成功" not in page.text


def test_a_lost_job_shows_a_clear_failed_state(
    client: FlaskClient, auth: Auth, low_threshold: Flask
) -> None:
    with low_threshold.app_context():
        donor = db.session.scalars(select(User).where(User.username == "donor")).one()
        lost = ImportJob(
            kind="offers", status="running", created_by_id=donor.id, data=b"x", size=1,
            rows_total=40, rows_done=12, job_id="thread-import-lost", heartbeat=time.time() - 600,
        )  # fmt: skip
        running = ImportJob(
            kind="offers", status="running", created_by_id=donor.id, data=b"x", size=1,
            rows_total=40, rows_done=12, job_id="thread-import-alive", heartbeat=time.time(),
        )  # fmt: skip
        db.session.add_all([lost, running])
        db.session.commit()
        lost_id, running_id = lost.id, running.id
        db.session.remove()
    auth.login("donor")
    page = client.get(f"/import/jobs/{running_id}")
    assert "<progress" in page.text and "已读取 12 / 40 行" in page.text
    assert 'http-equiv="refresh"' in page.text  # the page follows the job by itself
    page = client.get(f"/import/jobs/{lost_id}")
    assert "导入文件的计算进程已无响应" in page.text and "<progress" not in page.text
    job = _job(low_threshold, lost_id)
    assert job.status == "failed" and job.reason == jobs.Reason.WORKER_LOST and job.data is None


def test_only_the_uploader_and_administrators_see_the_job(
    client: FlaskClient, auth: Auth, low_threshold: Flask
) -> None:
    auth.login("donor")
    job_id = _job_id(_upload(client, _sheet_of(12)))
    auth.logout()
    auth.login("donor-ngo")
    assert client.get(f"/import/jobs/{job_id}").status_code == 404
    assert client.get(f"/import/jobs/{job_id}/progress").status_code == 404
    auth.logout()
    auth.login("admin")
    assert client.get(f"/import/jobs/{job_id}").status_code == 200


@pytest.mark.redis
@pytest.mark.xdist_group("redis")
def test_on_rq_the_import_waits_for_a_worker_then_reports(
    client: FlaskClient,
    auth: Auth,
    low_threshold: Flask,
    rq_queue: tuple[Any, str],  # noqa: F811
) -> None:
    from rq import Queue, SimpleWorker

    connection, name = rq_queue
    before = _offers(low_threshold)
    auth.login("donor")
    job_id = _job_id(_upload(client, _sheet_of(30)))
    page = client.get(f"/import/jobs/{job_id}")
    assert "<progress" in page.text and "等待计算进程" in page.text
    job = _job(low_threshold, job_id)
    assert job.status == "queued" and job.data and job.job_id
    queue = Queue(name, connection=connection)
    assert queue.job_ids == [job.job_id]
    with low_threshold.app_context():
        SimpleWorker([queue], connection=connection).work(burst=True)
        db.session.remove()
    page = client.get(f"/import/jobs/{job_id}")
    assert "已导入 30 条记录" in page.text
    assert _offers(low_threshold) == before + 30 and _job(low_threshold, job_id).data is None
