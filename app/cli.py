"""Command-line interface: ``flask --app wsgi seed | demo | recommendations import-upr``."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from app.extensions import db
from app.services import reference


def init_app(app: Flask) -> None:
    app.cli.add_command(seed_command)
    app.cli.add_command(demo_command)
    app.cli.add_command(recommendations_group)


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


@click.group("recommendations")
def recommendations_group() -> None:
    """Recommendations: import prior UPR recommendations."""


@recommendations_group.command("import-upr")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--cycle", "cycle_name", required=True, help="Name of the cycle, e.g. '2027 cycle'.")
@with_appcontext
def import_upr_command(path: str, cycle_name: str) -> None:
    """Import prior UPR recommendations from a UPR Info CSV export (Mac Roman, CR line endings).

    Lists every row not imported and every recommending state kept without a code, then ends with
    one line: ``imported N, already present M, unmapped K``.
    """
    import os

    from sqlalchemy import select

    from app.models import Cycle
    from app.services import upr_import

    cycle = db.session.scalar(select(Cycle).where(Cycle.name == cycle_name))
    if cycle is None:
        raise click.ClickException(f"No cycle named {cycle_name!r}.")
    with open(path, "rb") as handle:
        data = handle.read()
    try:
        result = upr_import.import_upr_csv(data, cycle, source_file=os.path.basename(path))
    except upr_import.ImportRefused as refused:
        db.session.rollback()
        raise click.ClickException(str(refused)) from refused
    db.session.commit()
    for name, count in sorted(result.unmapped_names.items()):
        click.echo(f"unmapped state under review: {name!r} ({count} row(s), not imported)")
    for line, reason in result.unmapped:
        click.echo(f"line {line}: {reason}")
    for name, count in sorted(result.unmapped_recommending.items()):
        click.echo(f"recommending state without code: {name!r} ({count} row(s), kept as published)")
    click.echo(result.summary)
