"""Command-line interface: ``flask --app wsgi seed | demo | cycle list | cycle draw |
cycle verify-draw N | recommendations import-upr | backup PATH | restore PATH | outbox send |
reminders run | bench seed | bench simulate | bench accounts | users create-secretariat |
retention run``."""

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
    app.cli.add_command(cycle_group)
    app.cli.add_command(recommendations_group)
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
    app.cli.add_command(outbox_group)
    app.cli.add_command(reminders_group)
    app.cli.add_command(bench_group)
    app.cli.add_command(users_group)
    app.cli.add_command(retention_group)


def _count(number: int, noun: str) -> str:
    """``number`` with an English ``noun`` in the singular or plural ("1 row", "3 rows")."""
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


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
        languages = ", ".join(sorted(framework.translations or {})) or "none"
        click.echo(
            f"framework {framework.code} v{framework.version}: "
            f"{'loaded' if created else 'already present'}; translations: {languages}"
        )


@click.command("demo")
@with_appcontext
@click.option("--url", default=None, help="Address printed for signing in (default port 5000).")
def demo_command(url: str | None) -> None:
    """Create the demo cycle and accounts (refused under the production config)."""
    if not current_app.config.get("DEMO_ALLOWED"):
        raise click.ClickException("The demo is not available under the production config.")
    import logging

    from app.demo import load_demo

    # the demo's e-mails stay in the outbox (/admin/outbox), not in this terminal: the
    # accounts printed below would scroll away under their bodies (issue 16)
    mail_log = logging.getLogger("app.services.notifications")
    level = mail_log.level
    mail_log.setLevel(logging.WARNING)
    try:
        lines = load_demo(url) if url else load_demo()
    finally:
        mail_log.setLevel(level)
    for line in lines:
        click.echo(line)


@click.group("cycle")
def cycle_group() -> None:
    """Review cycles: list them, draw their review teams by lot, verify a draw."""


@cycle_group.command("list")
@with_appcontext
def cycle_list_command() -> None:
    """Print every cycle's name, one per line, oldest first."""
    from sqlalchemy import select

    from app.models import Cycle

    for name in db.session.scalars(select(Cycle.name).order_by(Cycle.created_at, Cycle.id)):
        click.echo(name)


@cycle_group.command("draw")
@click.argument("name")
@click.option(
    "--seed", type=click.IntRange(0, 2**63 - 1), help="Seed of the draw (default: random)."
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="Open the draw (recorded) and show its teams without inviting anyone.",
)
@click.option("--reason", default="", help="Why draw again when a draw of the cycle is open.")
@with_appcontext
def cycle_draw_command(name: str, seed: int | None, dry_run: bool, reason: str) -> None:
    """Draw by lot the open seats of every review of the cycle NAME (DESIGN §6).

    Every draw is recorded when it is opened, before its teams are printed. Without --dry-run
    the draw is confirmed and the reviewers invited: the cycle's open draw if there is one (it
    keeps its seed), else a new one. Drawing again while a draw is open needs --reason. Prints
    each review's drawn team and the seed. When the rules cannot be met, prints the rule that
    failed and for which review, and exits with status 1; nothing is stored.
    """
    from sqlalchemy import select

    from app.models import Cycle

    cycle = db.session.scalar(select(Cycle).where(Cycle.name == name))
    if cycle is None:
        raise click.ClickException(f"No cycle named {name!r} (see `flask --app wsgi cycle list`).")
    # messages are translated by Flask-Babel, which reads the locale from a request: the
    # command line gets the default locale's
    with current_app.test_request_context():
        _draw_cycle(cycle, seed, dry_run, reason)


def _draw_cycle(cycle, seed: int | None, dry_run: bool, reason: str) -> None:
    from app.services import draws
    from app.services.cycles import SetupError
    from app.services.draw import RULE_LABELS, DrawRefused

    try:
        opened = draws.open_draws(cycle)
        keep = opened and not reason and (seed is None or seed == opened[0].seed)
        if not keep:
            opened = draws.open_draw(cycle, None, scope="cycle", seed=seed, reason=reason)
        if not dry_run:
            draws.confirm_open(cycle, None, batch=opened[0].batch)
        db.session.commit()
    except DrawRefused as refused:
        db.session.rollback()
        click.echo(f"Rule failed: {RULE_LABELS[refused.rule]}", err=True)
        raise click.ClickException(draws.explain(refused)) from None
    except SetupError as refused:
        db.session.rollback()
        raise click.ClickException(str(refused)) from None
    click.echo(f"Draw #{opened[0].batch}")
    click.echo(f"Seed: {opened[0].seed}")
    for draw in opened:
        members = ", ".join(
            f"{row['name']} ({row['state']}, {row['group']}{', lead' if row['lead'] else ''})"
            for row in draw.result
        )
        click.echo(f"{draw.review.state.name}: {members}")
    if dry_run:
        click.echo(
            "Dry run: the draw is open and recorded, nobody is invited. Confirm it on the "
            "cycle's draw page or by running this command again without --dry-run."
        )
    else:
        click.echo(f"Stored {_count(len(opened), 'draw')}; the reviewers are invited.")


@cycle_group.command("verify-draw")
@click.argument("number", type=int)
@with_appcontext
def cycle_verify_draw_command(number: int) -> None:
    """Recompute draw NUMBER from its recorded seed, pool and rules (DESIGN §6).

    Prints the recorded and the recomputed team (reviewers as candidate numbers, as the
    reviewed state sees them) and whether they match; exits with status 1 when they do not or
    when the draw cannot be recomputed.
    """
    from app.models import Draw
    from app.services import draws

    draw = db.session.get(Draw, number)
    if draw is None:
        raise click.ClickException(f"No draw #{number}.")
    with current_app.test_request_context():
        check = draws.verify(draw)
    click.echo(
        f"Draw #{draw.id}: {draw.review.state.name}, {draw.cycle.name}, seed {draw.seed}, "
        f"{draw.status.replace('_', ' ')}"
    )
    if not check.verifiable:
        raise click.ClickException(
            "This draw was stored before draws kept their inputs: it cannot be recomputed."
        )

    def team(picks) -> str:
        return ", ".join(f"candidate {n}{' (lead)' if lead else ''}" for n, lead in picks) or "-"

    click.echo(f"Recorded:   {team(check.recorded)}")
    click.echo(f"Recomputed: {team(check.recomputed)}")
    if check.refusal:
        click.echo(check.refusal)
    if not check.matches:
        click.echo("The draw does NOT match its record.")
        raise SystemExit(1)
    click.echo("The draw matches its record.")


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
        click.echo(f"unmapped state under review: {name!r} ({_count(count, 'row')}, not imported)")
    for line, reason in result.unmapped:
        click.echo(f"line {line}: {reason}")
    for name, count in sorted(result.unmapped_recommending.items()):
        click.echo(
            f"recommending state without code: {name!r} ({_count(count, 'row')}, kept as published)"
        )
    click.echo(result.summary)


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--allow-missing-files",
    is_flag=True,
    help="Write the backup even if evidence files are missing from the upload folder.",
)
@with_appcontext
def backup_command(path: Path, allow_missing_files: bool) -> None:
    """Write every table and the evidence files to PATH (a zip file, any database).

    Exits with status 1, writing nothing, when an evidence file is missing from the upload
    folder (each is named), unless --allow-missing-files. Set-password links are left out."""
    from app.services import backup

    if path.exists():
        raise click.ClickException(f"{path} exists: choose a new file name.")
    try:
        summary = backup.backup(path, allow_missing_files=allow_missing_files)
    except backup.BackupError as refused:
        db.session.rollback()
        raise click.ClickException(str(refused)) from None
    db.session.rollback()
    for name in summary.missing:
        click.echo(f"warning: evidence file missing, not in the backup: {name}", err=True)
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


@click.group("outbox")
def outbox_group() -> None:
    """E-mail notifications: send what is due (issue 6)."""


@outbox_group.command("send")
@with_appcontext
def outbox_send_command() -> None:
    """Send every queued message, and every failed one whose back-off has passed; one pass.

    Safe to run from cron every few minutes, even while another run is going (each message is
    claimed before it is sent). Prints ``sent N, failed M (will be retried), abandoned K``.
    """
    from app.services import clock, notifications

    with current_app.test_request_context():
        counts = notifications.deliver_due(clock.now())
    click.echo(
        f"sent {counts.sent}, failed {counts.failed} (will be retried), "
        f"abandoned {counts.abandoned}"
        + (f", skipped {counts.skipped} (taken by another run)" if counts.skipped else "")
        + (f", deferred {counts.deferred} (server unreachable)" if counts.deferred else "")
    )


@click.group("reminders")
def reminders_group() -> None:
    """Reminders before stage deadlines and escalation to the secretariat when overdue."""


@reminders_group.command("run")
@click.option("--dry-run", is_flag=True, help="Show what is due without queueing anything.")
@with_appcontext
def reminders_run_command(dry_run: bool) -> None:
    """Do one reminder pass (safe from cron every few minutes; see app/services/reminders.py).

    Prints one line per message queued, then a summary, and ends with ``reminders queued: N``,
    where N counts reminders and escalations together (0 for a dry run). The messages are
    delivered right after the pass commits; failed ones are retried by ``outbox send``.
    """
    from sqlalchemy.exc import IntegrityError, OperationalError

    from app.services import reminders

    for attempt in range(3):
        try:
            result = reminders.run_pass(dry_run=dry_run)
            if not dry_run:
                db.session.commit()
            break
        except (IntegrityError, OperationalError):
            # another pass committed the same messages first (SQLite: at our commit); again
            # with what it stored, which this pass then leaves alone
            db.session.rollback()
            if attempt == 2:
                raise
    verb = "would queue" if dry_run else "queued"
    for planned in result.queued:
        click.echo(f"{verb} {planned.describe()}")
    if result.cancelled:
        click.echo(
            f"cancelled {_count(result.cancelled, 'undelivered message')} for work no longer owed"
        )
    click.echo(
        f"{_count(result.reminders, 'reminder')} and {_count(result.escalations, 'escalation')} "
        f"{verb}; {result.already} due earlier and already queued"
        + (" (dry run: nothing stored)" if dry_run else "")
    )
    click.echo(f"reminders queued: {0 if dry_run else len(result.queued)}")


@click.group("bench")
def bench_group() -> None:
    """Benchmark data: a full-size regime (seed), a whole cycle through the workflow (simulate).

    Refused under the production config. Every bench account's password is ``bench-password``.
    """


@bench_group.command("seed")
@click.option("--states", type=int, default=193, show_default=True, help="States per cycle.")
@click.option("--cycles", type=int, default=3, show_default=True, help="Cycles, the latest open.")
@click.option(
    "--recommendations",
    type=int,
    default=40,
    show_default=True,
    help="Recommendations per report (about: ±10 % per review).",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of every random draw.")
@with_appcontext
def bench_seed_command(states: int, cycles: int, recommendations: int, seed: int) -> None:
    """Build a full-size data set on a migrated, seeded database (`flask seed` first).

    Cycles "Bench <year> cycle" of STATES reviews each (past cycles closed, the latest open with
    its reviews in every phase, most in follow-up), three reviewers per review, self-assessments,
    evaluations, reports with their recommendations, responses, progress updates, assessments and
    the TransitionLog of that history. Accounts (password ``bench-password``):
    bench.secretariat@bench.test; per state fp.<iso3>@bench.test (focal point) and
    reviewer1.<iso3>@bench.test, reviewer2.<iso3>@bench.test. Prints the rows written, the time
    taken and the accounts a benchmark should use (also: `flask bench accounts`). Refused when
    bench data is already there: build it again on a fresh database.
    """
    from bench import data as bench_data

    try:
        result = bench_data.seed_bench(states, cycles, recommendations, seed)
    except bench_data.BenchRefused as refused:
        db.session.rollback()
        raise click.ClickException(str(refused)) from None
    for line in bench_data.summary_lines(result):
        click.echo(line)


@bench_group.command("accounts")
@with_appcontext
def bench_accounts_command() -> None:
    """Print as JSON the bench accounts and ids a benchmark should use: password, secretariat,
    focal_point, reviewer (e-mails), cycle_id, review_id, assignment_id (null: no bench data)."""
    import json

    from bench import data as bench_data

    click.echo(json.dumps(bench_data.bench_accounts(), indent=2))


@bench_group.command("simulate")
@click.option("--states", type=int, default=193, show_default=True, help="States in the cycle.")
@click.option("--recommendations", type=int, default=40, show_default=True, help="Per report.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of every random draw.")
@click.option(
    "--workers",
    type=int,
    default=1,
    show_default=True,
    help="People acting at once (threads; on SQLite writers wait for each other).",
)
@with_appcontext
def bench_simulate_command(states: int, recommendations: int, seed: int, workers: int) -> None:
    """Take a fresh cycle of STATES states through the whole workflow, timed.

    Creates the cycle "Bench simulation <date time>" (STATES states: those of `bench seed` first,
    by name) and moves
    every review from self-assessment to closed, then closes the cycle: every status change goes
    through the transition service (guards, locks, TransitionLog, one commit each). Each step
    queues its e-mails in its transaction, but MAIL_DELIVER_AFTER_COMMIT is off for the run:
    delivery is the outbox's job (`outbox send`, from cron), not the workflow engine's; one
    delivery pass after the cycle sends them, timed on its own line. Prints the transitions
    fired, the time spent in them, in setting up and in writing texts, the total, and the
    delivery. Uses the bench accounts (creates the missing ones). Refused under the production
    config.
    """
    from bench import simulation as bench_simulation
    from bench.data import BenchRefused

    # refusal messages are translated by Flask-Babel, which needs a request context
    with current_app.test_request_context():
        try:
            result = bench_simulation.simulate_cycle(states, recommendations, seed, workers)
        except BenchRefused as refused:
            db.session.rollback()
            raise click.ClickException(str(refused)) from None
    for line in bench_simulation.summary_lines(result, states):
        click.echo(line)


@click.group("users")
def users_group() -> None:
    """Accounts from the command line: the first secretariat account (issue 14)."""


@users_group.command("create-secretariat")
@click.argument("email")
@click.option("--name", required=True, help="The display name, as the person writes it.")
@click.option(
    "--send-link",
    is_flag=True,
    help="E-mail a set-password link (valid PASSWORD_LINK_MAX_AGE) instead of asking for a "
    "password.",
)
@with_appcontext
def create_secretariat_command(email: str, name: str, send_link: bool) -> None:
    """Create a secretariat account with EMAIL, under any configuration (production included).

    Asks for the password twice (hidden), or with --send-link e-mails a link to set it and says
    whether the mail server took it. Refuses an e-mail that already has an account. The person
    sets up two-step sign-in at their first sign-in (required for the secretariat in
    production). Recorded in the account audit log as done from the command line."""
    from app.models import Notification, NotificationStatus, Role
    from app.services import account_audit, password_links
    from app.services.admin import SetupError, create_account

    email = email.strip()
    if not send_link:
        password = click.prompt(
            "Password (at least 12 characters)",
            hide_input=True,
            confirmation_prompt="Password again",
        )
    else:
        password = password_links.unusable_password()
    with current_app.test_request_context(base_url=current_app.config["APP_URL"]):
        try:
            user = create_account(email, name, Role.SECRETARIAT, password, None)
        except SetupError as refused:
            db.session.rollback()
            raise click.ClickException(str(refused)) from None
        account_audit.record(
            "account_created",
            subject=user,
            actor=None,
            detail={"role": "secretariat", "via": "command line"},
        )
        note = None
        if send_link:
            note = password_links.send_link(user, password_links.link_for(user), invitation=True)
            account_audit.record(
                "link_issued",
                subject=user,
                actor=None,
                detail={"purpose": "invitation", "delivery": "e-mail"},
            )
        db.session.commit()
        click.echo(f"secretariat account created: {user.email} ({user.display_name})")
        if note is not None:
            note = db.session.get(Notification, note.id)
            if note.status == NotificationStatus.SENT:
                click.echo(f"a link to set the password was e-mailed to {user.email}")
            elif note.status == NotificationStatus.QUEUED:
                click.echo(
                    "a link to set the password is queued: `flask --app wsgi outbox send` sends it"
                )
            else:
                raise click.ClickException(
                    f"the mail server refused the link: {note.last_error}. The account exists; "
                    "fix the mail settings and run `flask --app wsgi outbox send`."
                )


@click.group("retention")
def retention_group() -> None:
    """What is kept of e-mails once their job is done (issue 14)."""


@retention_group.command("run")
@with_appcontext
def retention_run_command() -> None:
    """Remove the bodies of messages delivered more than RETENTION_NOTIFICATION_DAYS ago and
    every set-password link that can no longer be used; the delivery records stay. Safe to run
    from cron; a second run removes nothing more. Prints what it removed."""
    from app.services import clock, retention

    with current_app.test_request_context(base_url=current_app.config["APP_URL"]):
        counts = retention.run(clock.now())
        db.session.commit()
    click.echo(
        f"removed the text of {counts.old} old messages and {counts.links} set-password links "
        f"no longer usable; {counts.live_links} links still usable kept"
    )
