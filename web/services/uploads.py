"""Uploaded photos (receipt photos, households' photos of a need), checked and stored safely.

The client's file name and declared type are never trusted: the first bytes decide the type,
the size is capped, and the file is stored under a generated name in the upload folder
(``DUIJIE_UPLOAD_DIR``, by default ``instance/uploads``). Views serve a stored photo only after
their own access check, through :func:`path_of`.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import IO

from flask import current_app

MAX_PHOTO_BYTES = 5 * 1024 * 1024

# Leading bytes of the image formats a phone produces, and the suffix each is stored under.
_SIGNATURES: tuple[tuple[bytes, int, str, str], ...] = (
    (b"\xff\xd8\xff", 0, ".jpg", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", 0, ".png", "image/png"),
    (b"WEBP", 8, ".webp", "image/webp"),
)
MIMETYPES = {suffix: mimetype for _, _, suffix, mimetype in _SIGNATURES}


class UploadError(ValueError):
    """A file that is not accepted, with a message naming why."""


def upload_dir() -> Path:
    """The folder uploads are kept in, created on first use."""
    configured = current_app.config.get("DUIJIE_UPLOAD_DIR")
    folder = Path(configured) if configured else Path(current_app.instance_path) / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _suffix_of(head: bytes) -> str | None:
    for magic, offset, suffix, _ in _SIGNATURES:
        if head[offset : offset + len(magic)] == magic and (
            suffix != ".webp" or head[:4] == b"RIFF"
        ):
            return suffix
    return None


def save_photo(stream: IO[bytes], kind: str, max_bytes: int = MAX_PHOTO_BYTES) -> str:
    """Check and store a photo; return its generated name (``kind/<random>.jpg``).

    Raises UploadError for an empty file, a file over ``max_bytes`` or one that is not a
    JPEG, PNG or WebP image, whatever its name or declared type claims. Nothing is written then.
    """
    if not kind.isidentifier():
        raise ValueError(f"upload kind {kind!r} is not a plain name")
    data = stream.read(max_bytes + 1)
    if not data:
        raise UploadError("the file is empty")
    if len(data) > max_bytes:
        raise UploadError(f"the file is larger than {max_bytes // (1024 * 1024)} MB")
    suffix = _suffix_of(data[:16])
    if suffix is None:
        raise UploadError("the file is not a JPEG, PNG or WebP photo")
    folder = upload_dir() / kind
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{kind}/{secrets.token_hex(16)}{suffix}"
    _store(upload_dir() / name, data)
    return name


def _store(target: Path, data: bytes) -> None:
    """Write the file whole or not at all: into a .part file first, synced, then renamed. A
    full disk (or any write error) leaves no file, half or whole: UploadError "not stored"."""
    partial = target.with_name(target.name + ".part")
    try:
        with open(partial, "xb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, target)
    except OSError as error:
        partial.unlink(missing_ok=True)
        raise UploadError(f"the photo could not be stored ({error.strerror}); not stored") from None


def path_of(name: str) -> Path:
    """The stored file behind a generated name; refuses any name that could leave the folder."""
    kind, _, file_name = name.partition("/")
    stem, dot, suffix = file_name.partition(".")
    if (
        not kind.isidentifier()
        or len(stem) != 32
        or any(c not in "0123456789abcdef" for c in stem)
        or f"{dot}{suffix}" not in MIMETYPES
    ):
        raise UploadError(f"not a stored upload name: {name!r}")
    return upload_dir() / kind / file_name


def remove(name: str) -> None:
    """Delete a stored upload if it is there (a rolled-back write, say)."""
    path_of(name).unlink(missing_ok=True)
