"""Evidence files of a self-assessment: accept, store, list, remove (DESIGN §3, §5; issue 7).

A file is accepted only when its bytes are one of the accepted types (`ACCEPTED`), recognised by
content with the `filetype` library and, for the zip-based office formats, by the entries the
format requires — the name's extension must agree, but is never trusted alone. The bytes are
written under a random key (``uuid4().hex``) in ``UPLOAD_FOLDER``; nothing the person typed ever
becomes part of a path. The original Unicode name is kept for display and download.

Functions here flush, never commit. The bytes are written before the commit: a failed commit
leaves an unreferenced file behind, never a row without its bytes.
"""

from __future__ import annotations

import hashlib
import io
import os
import unicodedata
import uuid
import zipfile
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import filetype
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from app.extensions import db
from app.formatting import format_number
from app.models import EvidenceFile, Question, Review, User
from app.services import clock


@dataclass(frozen=True)
class FileKind:
    """An accepted type: the MIME type served, its label, and the extensions its name may have."""

    mime: str
    label: str
    extensions: tuple[str, ...]


PDF = FileKind("application/pdf", "PDF", (".pdf",))
PNG = FileKind("image/png", "PNG", (".png",))
JPEG = FileKind("image/jpeg", "JPEG", (".jpg", ".jpeg"))
DOCX = FileKind(
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "DOCX", (".docx",)
)
XLSX = FileKind(
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "XLSX", (".xlsx",)
)
ODT = FileKind("application/vnd.oasis.opendocument.text", "ODT", (".odt",))
TEXT = FileKind("text/plain; charset=utf-8", "Plain text", (".txt", ".csv", ".md"))

#: Every accepted type, in the order the form lists them.
ACCEPTED = (PDF, DOCX, XLSX, ODT, PNG, JPEG, TEXT)
_BY_MIME = {kind.mime: kind for kind in (PDF, PNG, JPEG)}


class EvidenceRefused(ValueError):
    """A file that is not stored; the message (naming the file) is for the person who sent it."""


def format_size(size: int | None) -> str:
    """``"850 bytes"``, ``"12 KB"``, ``"3.4 MB"`` (binary multiples) for a size in bytes."""
    if size is None:
        return "—"
    if size < 1024:
        return _("%(n)d bytes", n=size)
    if size < 1024 * 1024:
        return _("%(n)d KB", n=round(size / 1024))
    return _("%(n)s MB", n=format_number(round(size / (1024 * 1024), 1)))


def max_bytes() -> int:
    """The per-file limit in bytes (config ``EVIDENCE_MAX_BYTES``, default 10 MB)."""
    return int(current_app.config.get("EVIDENCE_MAX_BYTES", 10 * 1024 * 1024))


def upload_folder() -> Path:
    """The folder holding the stored bytes (config ``UPLOAD_FOLDER``), created when missing."""
    folder = Path(
        current_app.config.get("UPLOAD_FOLDER") or Path(current_app.instance_path, "uploads")
    )
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def clean_name(raw: str | None) -> str:
    """The name to display and download: the last path component of what the browser sent
    (``C:\\fakepath\\a.pdf`` and ``../../a.pdf`` give ``a.pdf``), NFC-normalised, without control
    characters, at most 255 characters (the extension kept); ``evidence`` when nothing is left."""
    name = (raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = unicodedata.normalize("NFC", name)
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip(" .")
    if len(name) > 255:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: 254 - len(ext)] + dot + ext) if dot and len(ext) < 16 else name[:255]
    return name or "evidence"


def _zip_kind(data: bytes) -> FileKind | None:
    """DOCX, XLSX or ODT when the zip holds the entries the format requires; else None."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            if "mimetype" in names and "content.xml" in names:
                info = archive.getinfo("mimetype")
                if info.file_size < 100 and archive.read(info).strip() == ODT.mime.encode():
                    return ODT
                return None
            if "[Content_Types].xml" in names:
                if "word/document.xml" in names:
                    return DOCX
                if "xl/workbook.xml" in names:
                    return XLSX
    except (zipfile.BadZipFile, KeyError, ValueError, RuntimeError, NotImplementedError):
        return None
    return None


def _is_utf8_text(data: bytes) -> bool:
    if b"\x00" in data:
        return False
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return False
    # control characters other than line breaks and tabs mean binary data, not text
    return all(ch in "\r\n\t\f" or unicodedata.category(ch) != "Cc" for ch in text)


def detect(data: bytes) -> FileKind | None:
    """The accepted type of ``data`` recognised from its content, or None."""
    if data.startswith(b"PK\x03\x04"):
        return _zip_kind(data)
    guess = filetype.guess(data)
    if guess is not None:
        return _BY_MIME.get(guess.mime)
    if data and _is_utf8_text(data):
        return TEXT
    return None


def accepted_labels() -> str:
    return ", ".join(kind.label for kind in ACCEPTED)


def checked_upload(upload: FileStorage) -> tuple[str, bytes, FileKind]:
    """Read ``upload`` and check it: return (display name, bytes, accepted type).

    Raises:
        EvidenceRefused: the file is empty, larger than `max_bytes`, not an accepted type by its
            content, or its name's extension does not match its content.
    """
    name = clean_name(upload.filename)
    limit = max_bytes()
    data = upload.stream.read(limit + 1)
    if not data:
        raise EvidenceRefused(_("%(name)s was not attached: the file is empty.", name=name))
    if len(data) > limit:
        raise EvidenceRefused(
            _(
                "%(name)s was not attached: it is larger than %(limit)s.",
                name=name,
                limit=format_size(limit),
            )
        )
    kind = detect(data)
    extension = os.path.splitext(name)[1].lower()
    if kind is None or extension not in kind.extensions:
        raise EvidenceRefused(
            _(
                "%(name)s was not attached: its content is not one of the accepted types "
                "(%(types)s).",
                name=name,
                types=accepted_labels(),
            )
        )
    return name, data, kind


#: The name i18's callers use for the same check.
check_upload = checked_upload


def store_bytes(data: bytes) -> str:
    """Write ``data`` under a new random key in the upload folder; return the key."""
    key = uuid.uuid4().hex
    target = upload_folder() / key
    partial = target.with_name(key + ".part")
    partial.write_bytes(data)
    partial.replace(target)
    return key


def attach(review: Review, question: Question, upload: FileStorage, user: User) -> EvidenceFile:
    """Check and store one uploaded file as evidence for ``question`` of ``review``; flush.

    The same bytes already attached (not removed) to that question are not stored twice — a
    browser re-posting the form, or the file chosen again — the existing record is returned.

    Raises:
        EvidenceRefused: see `checked_upload`.
    """
    name, data, kind = checked_upload(upload)
    digest = hashlib.sha256(data).hexdigest()
    already = db.session.scalar(
        select(EvidenceFile).where(
            EvidenceFile.review_id == review.id,
            EvidenceFile.question_id == question.id,
            EvidenceFile.sha256 == digest,
            EvidenceFile.removed_at.is_(None),
        )
    )
    if already is not None:
        return already
    return store(review, name, data, kind, user, question=question)


def store(
    review: Review,
    name: str,
    data: bytes,
    kind: FileKind,
    user: User,
    *,
    question: Question | None = None,
) -> EvidenceFile:
    """Write checked bytes (see `checked_upload`) under a new random key and add their record
    to ``review`` (for ``question``, or none: an action plan's progress entry); flush."""
    key = store_bytes(data)
    record = EvidenceFile(
        review_id=review.id,
        question_id=question.id if question is not None else None,
        storage_key=key,
        original_name=name,
        content_type=kind.mime,
        size_bytes=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        uploaded_at=clock.now(),
        uploaded_by_id=user.id,
    )
    db.session.add(record)
    db.session.flush()
    return record


def stored_key_path(key: str) -> Path:
    """The path of the bytes stored under ``key`` (checked to be a UUID's hex).

    Raises:
        FileNotFoundError: a malformed key, or the bytes are missing.
    """
    if len(key) != 32 or any(ch not in "0123456789abcdef" for ch in key):
        raise FileNotFoundError(key)
    path = upload_folder() / key
    if not path.is_file():
        raise FileNotFoundError(key)
    return path


def files_by_question(review: Review) -> dict[int, list[EvidenceFile]]:
    """The review's self-assessment files not removed, by question id, oldest first."""
    rows = db.session.scalars(
        select(EvidenceFile)
        .where(
            EvidenceFile.review_id == review.id,
            EvidenceFile.question_id.is_not(None),
            EvidenceFile.removed_at.is_(None),
        )
        .order_by(EvidenceFile.uploaded_at, EvidenceFile.id)
    )
    grouped: dict[int, list[EvidenceFile]] = defaultdict(list)
    for row in rows:
        grouped[row.question_id].append(row)
    return dict(grouped)


def remove(record: EvidenceFile, user: User) -> None:
    """Mark ``record`` removed (no longer listed or served); the row and bytes stay; flush."""
    if record.removed_at is None:
        record.removed_at = clock.now()
        record.removed_by_id = user.id
        db.session.flush()


def stored_path(record: EvidenceFile) -> Path:
    """The path of ``record``'s bytes. The key is checked to be the hex of a UUID, so no stored
    value can point outside the upload folder.

    Raises:
        FileNotFoundError: a malformed key, or the bytes are missing.
    """
    key = record.storage_key
    if len(key) != 32 or any(ch not in "0123456789abcdef" for ch in key):
        raise FileNotFoundError(key)
    path = upload_folder() / key
    if not path.is_file():
        raise FileNotFoundError(key)
    return path
