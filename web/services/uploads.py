"""Uploaded photos (receipt photos, households' photos of a need), checked and stored safely.

The client's file name and declared type are never trusted: the first bytes decide the type,
the size is capped, and the file is stored under a generated name in the upload folder
(``DUIJIE_UPLOAD_DIR``, by default ``instance/uploads``: an :class:`UploadFolder` that
create_app builds once). Views serve a stored photo only after their own access check, through
:meth:`UploadFolder.path_of`; a view hands a service the photo sent as a :class:`Photo`, which
knows the folder it goes to.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import IO

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


def _suffix_of(head: bytes) -> str | None:
    for magic, offset, suffix, _ in _SIGNATURES:
        if head[offset : offset + len(magic)] == magic and (
            suffix != ".webp" or head[:4] == b"RIFF"
        ):
            return suffix
    return None


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


@dataclass(frozen=True)
class UploadFolder:
    """The folder uploads are kept in (web.config.upload_path), created on first use."""

    root: Path

    def path(self) -> Path:
        """The folder, made if missing."""
        self.root.mkdir(parents=True, exist_ok=True)
        return self.root

    def save_photo(self, stream: IO[bytes], kind: str, max_bytes: int = MAX_PHOTO_BYTES) -> str:
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
        folder = self.path() / kind
        folder.mkdir(parents=True, exist_ok=True)
        name = f"{kind}/{secrets.token_hex(16)}{suffix}"
        _store(self.path() / name, data)
        return name

    def path_of(self, name: str) -> Path:
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
        return self.path() / kind / file_name


    def remove(self, name: str) -> None:
        """Delete a stored upload if it is there (a rolled-back write, say)."""
        self.path_of(name).unlink(missing_ok=True)


@dataclass(frozen=True)
class Photo:
    """A photo a user sent (its stream, never trusted) and the folder it is to be kept in."""

    stream: IO[bytes]
    folder: UploadFolder

    def save(self, kind: str) -> str:
        """Check and store it (UploadFolder.save_photo); its generated name."""
        return self.folder.save_photo(self.stream, kind)

    def forget(self, name: str) -> None:
        """Remove what `save` stored (a transaction that failed after it)."""
        self.folder.remove(name)
