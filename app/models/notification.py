"""Notifications: the outbox of e-mails and the in-app list (issue 6, DESIGN §4).

A `Notification` row is written in the same transaction as the step that caused it (queued by
`app.services.notifications.queue`) and delivered only after the commit. Status life:

* ``queued`` — written, not yet tried (or a retry was asked for);
* ``sent`` — the SMTP server accepted it (or, with the ``log`` backend, it was written to the log);
* ``failed`` — the last attempt failed; ``last_error`` holds the server's answer, and
  ``next_attempt_at`` says when ``outbox send`` tries again (exponential back-off);
* ``abandoned`` — terminal: the last allowed attempt failed (``MAIL_MAX_ATTEMPTS``), or the
  recipient was deactivated before delivery. The secretariat may still retry it by hand.

``dedupe_key`` is unique: a caller that must never queue the same message twice (a reminder, an
escalation) gives a key, and a second `queue` with that key returns None.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.assignment import Assignment
from app.models.base import Base, UTCDateTime, enum_column, utcnow
from app.models.review import Review
from app.models.user import User


class NotificationStatus(enum.StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"
    ABANDONED = "abandoned"


class Notification(Base):
    """One message to one user: its e-mail (subject, text, HTML) and its delivery status."""

    __tablename__ = "notification"

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(300))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    review_id: Mapped[int | None] = mapped_column(ForeignKey("review.id"), index=True)
    assignment_id: Mapped[int | None] = mapped_column(ForeignKey("assignment.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status: Mapped[NotificationStatus] = mapped_column(
        enum_column(NotificationStatus, "notification_status"),
        default=NotificationStatus.QUEUED,
        index=True,
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str] = mapped_column(Text, default="")
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    #: The body holds a credential (a set-password link): never shown on the outbox page.
    secret: Mapped[bool] = mapped_column(Boolean, default=False)

    recipient: Mapped[User] = relationship()
    review: Mapped[Review | None] = relationship()
    assignment: Mapped[Assignment | None] = relationship()

    def __repr__(self) -> str:
        return f"<Notification {self.id} {self.kind} {self.status}>"
