"""`flask backup PATH` and `flask restore PATH`: every row and every evidence file come back,
on SQLite and PostgreSQL, and a database holding data is not overwritten by accident."""

from __future__ import annotations

import json
import zipfile

from flask_migrate import stamp, upgrade

from app import create_app
from app.extensions import db as _db
from app.models import Role
from app.services import backup, cycles
from tests.conftest import _make_config
from tests.factories import PASSWORD
from tests.test_access_walk import _prepare
from tests.test_migrations import MIGRATIONS
from workflows import ReviewStatus


def test_backup_restores_every_row_and_file_into_an_empty_database(
    app,
    db,
    make,
    runner,
    empty_db_url,
    tmp_path,
):
    prepared = _prepare(make, db, ReviewStatus.FOLLOW_UP)
    stamp(directory=MIGRATIONS)  # the test schema is `upgrade head`'s (tests/test_migrations.py)
    source = backup.table_rows()
    stored = (tmp_path / "uploads" / prepared.file.storage_key).read_bytes()
    path = tmp_path / "pillars-backup.zip"

    result = runner.invoke(args=["backup", str(path)])
    assert result.exit_code == 0, result.output
    assert "files" in result.output
    with zipfile.ZipFile(path) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        assert manifest["rows"]["evidence_file"] == 1 and manifest["files"] == 1
        assert archive.read(f"uploads/{prepared.file.storage_key}") == stored
    assert runner.invoke(args=["backup", str(path)]).exit_code != 0  # never overwrites a file

    target = create_app(_make_config(empty_db_url))
    target.config["UPLOAD_FOLDER"] = str(tmp_path / "restored")
    with target.app_context():
        upgrade(directory=MIGRATIONS)
        cli = target.test_cli_runner()
        result = cli.invoke(args=["restore", str(path)])
        assert result.exit_code == 0, result.output
        _db.session.remove()
        assert backup.table_rows() == source
        restored = tmp_path / "restored" / prepared.file.storage_key
        assert restored.read_bytes() == stored

        # new rows get fresh ids after the restored ones (PostgreSQL sequences moved on)
        user = cycles.create_user("new@example.org", "New person", Role.SECRETARIAT, PASSWORD)
        _db.session.commit()
        assert user.id > max(row["id"] for row in source["user_account"])

        refused = cli.invoke(args=["restore", str(path)])
        assert refused.exit_code != 0 and "not empty" in refused.output
        forced = cli.invoke(args=["restore", "--force", str(path)])
        assert forced.exit_code == 0, forced.output
        _db.session.remove()
        assert backup.table_rows() == source
        _db.session.remove()
        _db.engine.dispose()


def test_restore_refuses_a_backup_of_another_revision_or_not_a_backup(
    app,
    runner,
    tmp_path,
    empty_db_url,
):
    path = tmp_path / "b.zip"
    assert runner.invoke(args=["backup", str(path)]).exit_code == 0  # schema not stamped: None
    target = create_app(_make_config(empty_db_url))
    with target.app_context():
        upgrade(directory=MIGRATIONS)
        result = target.test_cli_runner().invoke(args=["restore", str(path)])
        assert result.exit_code != 0 and "revision" in result.output
        junk = tmp_path / "junk.zip"
        junk.write_bytes(b"not a zip")
        result = target.test_cli_runner().invoke(args=["restore", str(junk)])
        assert result.exit_code != 0 and "not a readable backup" in result.output
        assert backup.is_empty()
        _db.session.remove()
        _db.engine.dispose()


def test_a_backup_restores_into_a_sqlite_file_whatever_the_source(app, db, make, runner, tmp_path):
    """Database-agnostic: on the PostgreSQL run this moves PostgreSQL's data into SQLite."""
    _prepare(make, db, ReviewStatus.EVALUATION)
    stamp(directory=MIGRATIONS)
    source = backup.table_rows()
    path = tmp_path / "b.zip"
    assert runner.invoke(args=["backup", str(path)]).exit_code == 0
    target = create_app(_make_config(f"sqlite:///{tmp_path / 'moved.sqlite'}"))
    target.config["UPLOAD_FOLDER"] = str(tmp_path / "moved")
    with target.app_context():
        upgrade(directory=MIGRATIONS)
        result = target.test_cli_runner().invoke(args=["restore", str(path)])
        assert result.exit_code == 0, result.output
        _db.session.remove()
        assert backup.table_rows() == source
        _db.session.remove()
        _db.engine.dispose()
