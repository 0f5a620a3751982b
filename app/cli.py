"""Command-line interface: ``flask --app wsgi seed | demo | backup PATH | restore PATH``."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from app.extensions import db
from app.services import reference


def init_app(app: Flask) -> None:
    app.cli.add_command(seed_command)
    app.cli.add_command(demo_command)
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)


@click.command("seed")
@with_appcontext
def seed_command() -> None:
    """Load the 193 UN member states, treaty ratifications and framework versions (idempotent)."""
    states = reference.load_states()
    ratifications = reference.load_ratifications()
    frameworks = reference.load_all_frameworks()
    db.session.commit()
    click.echo(f"states: {states.added} added, {states.updated} updated")
    click.echo(
        f"treaty ratifications: {ratifications.added} added, {ratifications.updated} updated"
    )
    for framework, created in frameworks:
        click.echo(
            f"framework {framework.code} v{framework.version}: "
            f"{'loaded' if created else 'already present'}"
        )


@click.command("demo")
@with_appcontext
def demo_command() -> None:
    """Create the demo cycle and accounts (refused under the production config)."""
    if not current_app.config.get("DEMO_ALLOWED"):
        raise click.ClickException("The demo is not available under the production config.")
    from app.services.demo import load_demo

    for line in load_demo():
        click.echo(line)


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def backup_command(path: Path) -> None:
    """Write every table and the evidence files to PATH (a zip file, any database)."""
    from app.services import backup

    if path.exists():
        raise click.ClickException(f"{path} exists: choose a new file name.")
    summary = backup.backup(path)
    db.session.rollback()
    click.echo(
        f"backup written to {path}: {sum(summary.rows.values())} rows in "
        f"{len(summary.rows)} tables, {summary.files} files, revision {summary.revision}"
    )


@click.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace the rows of a database that is not empty.")
@with_appcontext
def restore_command(path: Path, force: bool) -> None:
    """Restore a backup into this (migrated, empty) database and the upload folder."""
    from app.services import backup

    try:
        summary = backup.restore(path, force=force)
    except backup.BackupError as refused:
        db.session.rollback()
        raise click.ClickException(str(refused)) from None
    db.session.commit()
    click.echo(
        f"restored {sum(summary.rows.values())} rows in {len(summary.rows)} tables and "
        f"{summary.files} files from {path}"
    )
