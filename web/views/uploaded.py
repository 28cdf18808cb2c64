"""The app's upload folder, for pages that take or show photos (built once by create_app)."""

from __future__ import annotations

from typing import Any

from flask import current_app

from web.services.uploads import Photo, UploadFolder

EXTENSION = "duijie_uploads"


def upload_folder() -> UploadFolder:
    """Where this app keeps uploads (DUIJIE_UPLOAD_DIR, else instance/uploads)."""
    folder: UploadFolder = current_app.extensions[EXTENSION]
    return folder


def photo_from(upload: Any) -> Photo | None:
    """The photo a form sent (a werkzeug FileStorage), to hand to a service; None without one."""
    if upload is None or not getattr(upload, "filename", ""):
        return None
    return Photo(upload.stream, upload_folder())
