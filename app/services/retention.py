"""The retention pass (issue 14; `flask --app wsgi retention run`, safe from cron): what is kept
of e-mails once their job is done.

- The bodies (text and HTML) of notifications delivered (``sent``) or given up (``abandoned``)
  more than ``RETENTION_NOTIFICATION_DAYS`` days ago (default 180) are replaced by a short note;
  the delivery record (recipient, kind, subject, status, attempts, times, the server's answer)
  stays.
- Every set-password link (the body of a ``secret`` notification) is removed as soon as it can
  no longer be used: used (the password changed since), expired (``PASSWORD_LINK_MAX_AGE``),
  or its account deactivated. Links still usable are left for their owner.

Running it twice removes nothing more; it commits per batch of its own (the CLI commits).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import or_, select

from app.extensions import db
from app.models import Notification, NotificationStatus
from app.services import password_links

#: What replaces a removed body.
REMOVED_TEXT = "(text removed by the retention pass on {day}; the delivery record is kept)\n"
REMOVED_HTML = "<p>(text removed by the retention pass on {day}; the delivery record is kept)</p>"
REMOVED_MARK = "(text removed by the retention pass on "
_TOKEN = re.compile(r"/set-password/([A-Za-z0-9_.\-]+)")


@dataclass
class RetentionCounts:
    """Bodies removed: ``old`` delivered messages, ``links`` set-password links no longer
    usable; ``live_links`` links left because they still work."""

    old: int = 0
    links: int = 0
    live_links: int = 0


def _strip(note: Notification, now: datetime) -> None:
    day = now.date().isoformat()
    note.body_text = REMOVED_TEXT.format(day=day)
    note.body_html = REMOVED_HTML.format(day=day)


def link_is_live(note: Notification) -> bool:
    """Whether the set-password link in ``note``'s body would still set a password."""
    found = _TOKEN.search(note.body_text or "")
    if found is None:
        return False
    try:
        password_links.user_for_token(found.group(1))
    except password_links.LinkInvalid:
        return False
    return True


def run(now: datetime) -> RetentionCounts:
    """One retention pass at ``now`` (aware UTC); flushes, the caller commits."""
    counts = RetentionCounts()
    days = int(current_app.config["RETENTION_NOTIFICATION_DAYS"])
    cutoff = now - timedelta(days=days)
    done = (NotificationStatus.SENT, NotificationStatus.ABANDONED)
    not_yet = ~Notification.body_text.startswith(REMOVED_MARK)
    old = db.session.scalars(
        select(Notification).where(
            Notification.status.in_(done),
            not_yet,
            or_(
                Notification.sent_at < cutoff,
                (Notification.sent_at.is_(None)) & (Notification.created_at < cutoff),
            ),
        )
    ).all()
    for note in old:
        _strip(note, now)
        counts.old += 1
    links = db.session.scalars(
        select(Notification).where(Notification.secret.is_(True), not_yet)
    ).all()
    for note in links:
        if link_is_live(note):
            counts.live_links += 1
            continue
        _strip(note, now)
        counts.links += 1
    db.session.flush()
    return counts
