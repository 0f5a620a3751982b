"""Stakeholder submissions (issue 18; DESIGN §3, §5): civil-society organisations and national
human-rights institutions write on a review while it is in self-assessment or evaluation; the
secretariat screens each submission and summarises the accepted ones per section.

Anonymity is enforced here as much as in `app.access`: `author_label` is the only way pages name
a submission's author, files are stored with their author fields stripped
(`app.services.file_metadata`) and served under a neutral name to anyone but the author and the
secretariat, and history rows name the secretariat's screening only. Functions flush, never
commit; each step writes one `TransitionLog` row (subject type ``submission``).
"""

from __future__ import annotations

import hashlib
import os
from collections import defaultdict
from collections.abc import Iterable, Mapping

from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from app.extensions import db
from app.models import (
    FrameworkSection,
    Review,
    Role,
    StakeholderSubmission,
    StakeholderSummary,
    SubmissionFile,
    SubmissionSection,
    SubmissionStatus,
    TransitionLog,
    User,
)
from app.services import clock, evidence
from app.services.file_metadata import strip_author_fields
from workflows import ReviewStatus

#: Review statuses during which stakeholders may submit (issue 18).
WINDOW = (ReviewStatus.SELF_ASSESSMENT, ReviewStatus.EVALUATION)
#: Screening decisions the secretariat takes, and the status each leads to.
DECISIONS = {
    "accept": SubmissionStatus.ACCEPTED,
    "reject": SubmissionStatus.REJECTED,
    "ask_changes": SubmissionStatus.CHANGES_REQUESTED,
}


class SubmissionError(ValueError):
    """A submission step refused; the message says why, for the person."""


def _log(submission: StakeholderSubmission, event: str, before: str, actor: User, why=""):
    db.session.add(
        TransitionLog(
            subject_type="submission",
            subject_id=submission.id,
            event=event,
            from_state=before,
            to_state=str(submission.status),
            actor_id=actor.id,
            created_at=clock.now(),
            reason=why,
        )
    )


def window_open(review: Review) -> bool:
    return review.status in WINDOW


def open_reviews() -> list[Review]:
    """Reviews now open to submissions (self-assessment or evaluation), by state name."""
    from app.models import State

    return list(
        db.session.scalars(
            select(Review)
            .join(State, State.id == Review.state_id)
            .where(Review.status.in_(WINDOW))
            .order_by(State.name, Review.id)
        )
    )


def sections_of(review: Review) -> list[FrameworkSection]:
    return list(review.cycle.framework.sections)


def _texts(review: Review, texts: Mapping[int, str]) -> dict[int, str]:
    valid = {s.id for s in sections_of(review)}
    kept = {sid: (body or "").strip() for sid, body in texts.items() if sid in valid}
    kept = {sid: body for sid, body in kept.items() if body}
    if not kept:
        raise SubmissionError(_("Write about at least one section of the framework."))
    return kept


def _attach(submission: StakeholderSubmission, uploads: Iterable[FileStorage]) -> None:
    for upload in uploads:
        if not upload or not upload.filename:
            continue
        try:
            name, data, kind = evidence.check_upload(upload)
        except evidence.EvidenceRefused as refused:
            raise SubmissionError(str(refused)) from None
        data = strip_author_fields(data, kind.mime)
        record = SubmissionFile(
            submission_id=submission.id,
            storage_key=evidence.store_bytes(data),
            original_name=name,
            extension=os.path.splitext(name)[1].lower()[:16],
            content_type=kind.mime,
            size_bytes=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            uploaded_at=clock.now(),
        )
        db.session.add(record)
        submission.files.append(record)


def _set_texts(submission: StakeholderSubmission, texts: dict[int, str]) -> None:
    existing = {s.section_id: s for s in submission.sections}
    for section_id, row in existing.items():
        if section_id not in texts:
            submission.sections.remove(row)
    for section_id, body in texts.items():
        if section_id in existing:
            existing[section_id].body = body
        else:
            submission.sections.append(SubmissionSection(section_id=section_id, body=body))


def submit(
    review: Review,
    author: User,
    *,
    anonymous: bool,
    texts: Mapping[int, str],
    uploads: Iterable[FileStorage] = (),
) -> StakeholderSubmission:
    """A new submission on ``review``: text per section id, files, the anonymity choice; flush.

    Raises:
        SubmissionError: the review is not open to submissions; no text at all; a file refused
            (the message names it).
    """
    if not window_open(review):
        raise SubmissionError(
            _("Submissions on this review are open only during self-assessment and evaluation.")
        )
    kept = _texts(review, texts)
    submission = StakeholderSubmission(
        review_id=review.id,
        author_id=author.id,
        anonymous=bool(anonymous),
        status=SubmissionStatus.SUBMITTED,
        submitted_at=clock.now(),
    )
    db.session.add(submission)
    db.session.flush()
    _set_texts(submission, kept)
    _attach(submission, uploads)
    _log(submission, "submit", "", author)
    db.session.flush()
    return submission


def revise(
    submission: StakeholderSubmission,
    author: User,
    *,
    anonymous: bool,
    texts: Mapping[int, str],
    uploads: Iterable[FileStorage] = (),
) -> None:
    """The author changes a submission not yet screened, or one the secretariat asked to
    change (it goes back to the secretariat); flush.

    Raises:
        SubmissionError: as `submit`, or the submission was accepted or rejected.
    """
    if submission.status not in (SubmissionStatus.SUBMITTED, SubmissionStatus.CHANGES_REQUESTED):
        raise SubmissionError(_("This submission was screened and can no longer be changed."))
    if not window_open(submission.review):
        raise SubmissionError(
            _("Submissions on this review are open only during self-assessment and evaluation.")
        )
    kept = _texts(submission.review, texts)
    before = str(submission.status)
    submission.anonymous = bool(anonymous)
    _set_texts(submission, kept)
    _attach(submission, uploads)
    submission.status = SubmissionStatus.SUBMITTED
    submission.submitted_at = clock.now()
    _log(submission, "revise", before, author)
    db.session.flush()


def screen(submission: StakeholderSubmission, secretariat: User, decision: str, reason: str):
    """The secretariat's screening: ``accept``, ``reject`` or ``ask_changes`` (the last two
    with a reason the organisation reads); flush.

    Raises:
        SubmissionError: an unknown decision, no reason, or the submission is not awaiting
            screening.
    """
    if decision not in DECISIONS:
        raise SubmissionError(_("Choose a decision."))
    reason = (reason or "").strip()
    if decision != "accept" and not reason:
        raise SubmissionError(_("Please give a reason."))
    if submission.status != SubmissionStatus.SUBMITTED:
        raise SubmissionError(_("This submission is not awaiting screening."))
    before = str(submission.status)
    submission.status = DECISIONS[decision]
    submission.screening_reason = reason
    submission.screened_by_id = secretariat.id
    submission.screened_at = clock.now()
    _log(submission, decision, before, secretariat, reason)
    db.session.flush()


def submissions_of(author: User) -> list[StakeholderSubmission]:
    return list(
        db.session.scalars(
            select(StakeholderSubmission)
            .where(StakeholderSubmission.author_id == author.id)
            .order_by(StakeholderSubmission.submitted_at.desc())
        )
    )


def submissions_on(review: Review, *, accepted_only: bool) -> list[StakeholderSubmission]:
    query = select(StakeholderSubmission).where(StakeholderSubmission.review_id == review.id)
    if accepted_only:
        query = query.where(StakeholderSubmission.status == SubmissionStatus.ACCEPTED)
    return list(db.session.scalars(query.order_by(StakeholderSubmission.id)))


def awaiting_screening() -> list[StakeholderSubmission]:
    return list(
        db.session.scalars(
            select(StakeholderSubmission)
            .where(StakeholderSubmission.status == SubmissionStatus.SUBMITTED)
            .order_by(StakeholderSubmission.submitted_at)
        )
    )


def accepted_by_section(review: Review) -> dict[int, list[tuple[StakeholderSubmission, str]]]:
    """Section id → (submission, its text on that section) of accepted submissions."""
    grouped: dict[int, list] = defaultdict(list)
    for submission in submissions_on(review, accepted_only=True):
        for part in submission.sections:
            grouped[part.section_id].append((submission, part.body))
    return dict(grouped)


def summaries(review: Review) -> dict[int, StakeholderSummary]:
    """Section id → the secretariat's summary of accepted submissions (non-empty ones)."""
    rows = db.session.scalars(
        select(StakeholderSummary).where(StakeholderSummary.review_id == review.id)
    )
    return {row.section_id: row for row in rows if row.body.strip()}


def save_summary(review: Review, section_id: int, body: str, user: User) -> StakeholderSummary:
    """Write the summary of one section (empty: no summary shown); flush.

    Raises:
        SubmissionError: the section is not one of the review's framework.
    """
    if section_id not in {s.id for s in sections_of(review)}:
        raise SubmissionError(_("This section is not part of the review's framework."))
    row = db.session.scalar(
        select(StakeholderSummary).where(
            StakeholderSummary.review_id == review.id,
            StakeholderSummary.section_id == section_id,
        )
    )
    if row is None:
        row = StakeholderSummary(review_id=review.id, section_id=section_id)
        db.session.add(row)
    row.body = (body or "").strip()
    row.updated_by_id = user.id
    row.updated_at = clock.now()
    db.session.flush()
    return row


def identity_visible(submission: StakeholderSubmission, viewer: User) -> bool:
    """Whether ``viewer`` may learn who wrote ``submission``: the secretariat and the author
    always; others only when the organisation did not ask for anonymity (DESIGN §5)."""
    if viewer.role == Role.SECRETARIAT or viewer.id == submission.author_id:
        return True
    return not submission.anonymous


def author_label(submission: StakeholderSubmission, viewer: User) -> str:
    """How a page names the submission's author for ``viewer``."""
    if identity_visible(submission, viewer):
        return submission.author.organisation or submission.author.display_name
    return _("Anonymous organisation")


def file_name_for(record: SubmissionFile, submission: StakeholderSubmission, viewer: User) -> str:
    """The download name: the original for the author and the secretariat, else neutral."""
    if viewer.role == Role.SECRETARIAT or viewer.id == submission.author_id:
        return record.original_name
    return record.neutral_name
