"""Backup and restore of the whole database and the evidence files, database-agnostic (issue 7).

A backup is a zip file:

- ``manifest.json``: format name and version, the Alembic revision of the database, the UTC time
  of the backup, the tables in dependency order with their row counts;
- ``tables/<table>.json``: the rows of each table as JSON objects (instants as ISO 8601 with
  ``+00:00``, dates as ISO 8601, enums as their stored values, JSON columns as JSON);
- ``uploads/<key>``: the stored bytes of every evidence file.

A backup never holds a live set-password link: the bodies of ``secret`` notifications are
replaced by a note (issue 14). An evidence file missing from the upload folder is named and
stops the backup (`BackupError`) unless ``allow_missing_files``.

It is read through SQLAlchemy's metadata, so a backup taken on SQLite restores into PostgreSQL
and back. A restore goes into a database migrated to the same revision (``flask db upgrade``) and
empty; it refuses a database holding rows unless told to replace them (``force``), and runs in one
transaction: a failure leaves the database as it was.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Date, DateTime, Enum, Table, TypeDecorator, delete, func, insert, select
from sqlalchemy import text as sql_text

from app.extensions import db
from app.models import current
from app.services import evidence

FORMAT = "pillars-backup"
FORMAT_VERSION = 1


class BackupError(RuntimeError):
    """A backup that cannot be restored here; the message says why and what to do."""


@dataclass
class Summary:
    """What a backup or restore moved: rows per table and the number of files."""

    rows: dict[str, int]
    files: int
    revision: str | None
    missing: list[str] = field(default_factory=list)


def _tables() -> list[Table]:
    return list(db.metadata.sorted_tables)


def _base_type(column):
    kind = column.type
    return kind.impl if isinstance(kind, TypeDecorator) else kind


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if hasattr(value, "value") and isinstance(value, str):  # a StrEnum member: its stored value
        return value.value
    return value


def _decoder(column):
    """The function turning a JSON value back into what ``column`` binds."""
    base = _base_type(column)
    if isinstance(base, DateTime):
        aware = isinstance(column.type, TypeDecorator)

        def to_datetime(value):
            instant = datetime.fromisoformat(value)
            if aware and instant.tzinfo is None:
                instant = instant.replace(tzinfo=UTC)
            return instant

        return to_datetime
    if isinstance(base, Date):
        return date.fromisoformat
    if isinstance(base, Enum) and base.enum_class is not None:
        return base.enum_class
    return None


def current_revision() -> str | None:
    """The Alembic revision stamped in the database (None when never migrated)."""
    try:
        return db.session.execute(sql_text("SELECT version_num FROM alembic_version")).scalar()
    except Exception:  # noqa: BLE001 — no alembic_version table: a schema made by create_all
        db.session.rollback()
        return None


#: What a backup holds instead of the body of a message carrying a set-password link.
LINK_REMOVED = "(not in the backup: this message held a set-password link)"


def _rows(table: Table, *, for_backup: bool = False) -> Iterator[dict[str, Any]]:
    order = list(table.primary_key.columns) or list(table.columns)
    for row in db.session.execute(select(table).order_by(*order)):
        encoded = {key: _encode(value) for key, value in row._mapping.items()}
        if for_backup and table.name == "notification" and encoded.get("secret"):
            encoded["body_text"] = LINK_REMOVED + "\n"
            encoded["body_html"] = f"<p>{LINK_REMOVED}</p>"
        yield encoded


def table_rows() -> dict[str, list[dict[str, Any]]]:
    """Every table's rows, encoded as in a backup (also used by tests to compare databases)."""
    return {table.name: list(_rows(table)) for table in _tables()}


def missing_files() -> list[tuple[int, str, str]]:
    """Evidence files whose bytes are not in the upload folder: (id, original name, key)."""
    folder = evidence.upload_folder()
    rows = db.session.execute(
        select(
            evidence.EvidenceFile.id,
            evidence.EvidenceFile.original_name,
            evidence.EvidenceFile.storage_key,
        ).order_by(evidence.EvidenceFile.id)
    )
    return [(ident, name, key) for ident, name, key in rows if not (folder / key).is_file()]


def backup(path: Path, *, allow_missing_files: bool = False) -> Summary:
    """Write a backup of the database and the evidence files to ``path`` (a zip file).
    ``Summary.missing`` lists the evidence files left out (only with ``allow_missing_files``).

    Raises:
        BackupError: an evidence file is missing from the upload folder (named in the message)
            and ``allow_missing_files`` is False; nothing is written then.
    """
    folder = evidence.upload_folder()
    missing = missing_files()
    if missing and not allow_missing_files:
        names = "; ".join(f"#{i} {name} ({folder / key})" for i, name, key in missing)
        raise BackupError(
            f"Evidence files missing from the upload folder ({len(missing)}): {names}. Put them "
            "back, or pass --allow-missing-files to write the backup without them."
        )
    revision = current_revision()
    counts: dict[str, int] = {}
    files = 0
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for table in _tables():
            rows = list(_rows(table, for_backup=True))
            counts[table.name] = len(rows)
            archive.writestr(f"tables/{table.name}.json", json.dumps(rows, ensure_ascii=False))
        for (key,) in db.session.execute(select(evidence.EvidenceFile.storage_key)):
            source = folder / key
            if source.is_file():
                archive.write(source, f"uploads/{key}")
                files += 1
        manifest = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "revision": revision,
            "created_at": datetime.now(UTC).isoformat(),
            "tables": [table.name for table in _tables()],
            "rows": counts,
            "files": files,
        }
        archive.writestr("manifest.json", json.dumps(manifest, indent=2))
    return Summary(counts, files, revision, [name for _i, name, _key in missing])


def is_empty() -> bool:
    return all(
        db.session.scalar(select(func.count()).select_from(table)) == 0 for table in _tables()
    )


def restore(path: Path, *, force: bool = False) -> Summary:
    """Restore the backup at ``path`` into this database and upload folder; flush (the caller
    commits).

    Raises:
        BackupError: not a Pillars backup; taken at another migration revision than this
            database's; the database holds rows and ``force`` is False; a table of the backup
            unknown here.
    """
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as error:
        raise BackupError(f"{path} is not a readable backup file: {error}") from None
    with archive:
        try:
            manifest = json.loads(archive.read("manifest.json"))
        except (KeyError, ValueError):
            raise BackupError(f"{path} has no manifest: not a Pillars backup.") from None
        if manifest.get("format") != FORMAT or manifest.get("format_version") != FORMAT_VERSION:
            raise BackupError(f"{path} is not a Pillars backup of format {FORMAT_VERSION}.")
        here = current_revision()
        if manifest.get("revision") != here:
            raise BackupError(
                f"The backup was taken at migration revision {manifest.get('revision')}, this "
                f"database is at {here}: run `flask db upgrade` (or downgrade) to match it first."
            )
        tables = {table.name: table for table in _tables()}
        unknown = [name for name in manifest["tables"] if name not in tables]
        if unknown:
            raise BackupError(f"The backup has tables this version does not know: {unknown}.")
        if not is_empty():
            if not force:
                raise BackupError(
                    "The database is not empty. Restore into a freshly migrated database, or "
                    "pass --force to replace everything in it."
                )
            for table in reversed(_tables()):
                db.session.execute(delete(table))
        counts = {}
        for table in _tables():
            rows = json.loads(archive.read(f"tables/{table.name}.json"))
            decoders = {c.name: _decoder(c) for c in table.columns}
            for row in rows:
                for key, value in row.items():
                    decode = decoders.get(key)
                    if decode is not None and value is not None:
                        row[key] = decode(value)
            if rows:
                db.session.execute(insert(table), rows)
            counts[table.name] = len(rows)
        _reset_sequences()
        # a backup made before migration 0009 has no current rows: recompute them all
        current.refresh(db.session)
        folder = evidence.upload_folder()
        files = 0
        for name in archive.namelist():
            if not name.startswith("uploads/"):
                continue
            key = name.removeprefix("uploads/")
            if len(key) != 32 or any(ch not in "0123456789abcdef" for ch in key):
                continue  # only generated keys: nothing in a backup chooses a path
            (folder / key).write_bytes(archive.read(name))
            files += 1
    db.session.flush()
    return Summary(counts, files, here)


def _reset_sequences() -> None:
    """PostgreSQL: move each table's id sequence past the restored ids (SQLite needs nothing)."""
    if db.session.get_bind().dialect.name != "postgresql":
        return
    for table in _tables():
        if "id" not in table.c:
            continue
        highest = db.session.scalar(select(func.max(table.c.id))) or 0
        db.session.execute(
            sql_text("SELECT setval(pg_get_serial_sequence(:table, 'id'), :next, false)"),
            {"table": table.name, "next": highest + 1},
        )
