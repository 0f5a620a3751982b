"""Command-line interface: ``flask --app wsgi seed | demo``."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from app.extensions import db
from app.services import reference


def init_app(app: Flask) -> None:
    app.cli.add_command(seed_command)
    app.cli.add_command(demo_command)


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
