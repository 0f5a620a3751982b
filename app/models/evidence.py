"""Evidence files: documents a state attaches to its self-assessment answers (DESIGN §3).

A file belongs to a review and, for the self-assessment, to one question of it; the nullable
``progress_update_id`` lets a progress update of the follow-up carry files later without a new
table. The bytes live outside the database under ``storage_key`` (a random UUID, never the person's
file name) in the ``UPLOAD_FOLDER``; the original Unicode name is kept only for display and for the
download's file name. A removed file keeps its row and bytes (history is never deleted) but is
neither listed nor served.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, UTCDateTime, utcnow
from app.models.review import Review
from app.models.user import User


class EvidenceFile(Base):
    """One uploaded file. ``content_type`` is the type recognised from the bytes, not the one the
    browser claimed; ``size_bytes`` in bytes; ``sha256`` of the stored bytes (hex)."""

    __tablename__ = "evidence_file"

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("review.id"), index=True)
    question_id: Mapped[int | None] = mapped_column(ForeignKey("question.id"))
    progress_update_id: Mapped[int | None] = mapped_column(ForeignKey("progress_update.id"))
    storage_key: Mapped[str] = mapped_column(String(32), unique=True)
    original_name: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(120))
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    removed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    review: Mapped[Review] = relationship()
    uploaded_by: Mapped[User | None] = relationship(foreign_keys=[uploaded_by_id])

    @property
    def removed(self) -> bool:
        return self.removed_at is not None
