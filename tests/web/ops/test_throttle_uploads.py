"""Rate limits shared through the database, and uploads checked by content, not by name."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from flask import Flask

from web.extensions import db
from web.services import throttle, uploads
from web.views.uploaded import upload_folder

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
WEBP = b"RIFF\x00\x00\x00\x00WEBPVP8 " + b"\x00" * 64


def test_a_bucket_refuses_once_its_limit_is_reached_and_says_how_long_to_wait(app: Flask) -> None:
    with app.app_context():
        window = timedelta(minutes=15)
        for _ in range(5):
            assert throttle.check(db.session, "login:ip:1", 5, window).allowed
            throttle.record(db.session, "login:ip:1")
        db.session.commit()
        verdict = throttle.check(db.session, "login:ip:1", 5, window)
        assert not verdict.allowed
        assert 1 <= verdict.retry_after <= 15 * 60 + 1
        # Another bucket is not affected, and clearing one frees it.
        assert throttle.check(db.session, "login:ip:2", 5, window).allowed
        throttle.clear(db.session, "login:ip:1")
        db.session.commit()
        assert throttle.check(db.session, "login:ip:1", 5, window).allowed


def test_attempts_outside_the_window_do_not_count(app: Flask) -> None:
    with app.app_context():
        for _ in range(3):
            throttle.record(db.session, "pin:7")
        db.session.commit()
        assert not throttle.check(db.session, "pin:7", 3, timedelta(minutes=5)).allowed
        assert throttle.prune(db.session, older_than=timedelta(seconds=-1)) == 3
        assert throttle.check(db.session, "pin:7", 3, timedelta(minutes=5)).allowed


@pytest.mark.parametrize(("data", "suffix"), [(PNG, ".png"), (JPEG, ".jpg"), (WEBP, ".webp")])
def test_photos_are_stored_under_generated_names(app: Flask, data: bytes, suffix: str) -> None:
    with app.test_request_context():
        name = upload_folder().save_photo(io.BytesIO(data), "receipt")
        assert name.startswith("receipt/") and name.endswith(suffix)
        assert upload_folder().path_of(name).read_bytes() == data


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"<html><script>alert(1)</script></html>", "not a JPEG, PNG or WebP"),
        (b"GIF89a" + b"\x00" * 10, "not a JPEG, PNG or WebP"),
        (PNG + b"\x00" * 2048, "larger than"),
    ],
)
def test_bad_uploads_are_refused_and_nothing_is_written(
    app: Flask, data: bytes, message: str
) -> None:
    with app.test_request_context():
        with pytest.raises(uploads.UploadError, match=message):
            upload_folder().save_photo(io.BytesIO(data), "receipt", max_bytes=1024)
        assert not any(upload_folder().path().rglob("*.*"))


@pytest.mark.parametrize(
    "name",
    [
        "../secret_key",
        "receipt/../../secret_key",
        "receipt/abc.png",
        "re ceipt/" + "a" * 32 + ".png",
        "receipt/" + "a" * 32 + ".html",
    ],
)
def test_stored_names_cannot_reach_outside_the_upload_folder(app: Flask, name: str) -> None:
    with app.test_request_context(), pytest.raises(uploads.UploadError):
        upload_folder().path_of(name)
