"""Plain words for where a review stands (issue 16, items 3 and 4): the "What happens next"
sentence each role reads on the review page, and the message shown after each step.

One table per kind of text, keyed by role and status (or by event), so that the review page, the
home page and the messages after a step say the same thing. Reads only; the sentences are msgids
translated when rendered. The focal point's factual check has two cases: comments not yet sent,
and sent (`app.services.history.comments_sent`).
"""

from __future__ import annotations

from flask_babel import gettext

from app import access
from app.models import Review, Role, User
from app.services import history
from workflows import AssignmentStatus, ReviewStatus
from workflows.base import N_

R = ReviewStatus
A = AssignmentStatus

#: What happens next for the reviewed state's focal points, by review status.
FOCAL_POINT = {
    R.SELF_ASSESSMENT: N_(
        "Fill in your self-assessment section by section, then submit it. The secretariat "
        "screens it and tells you by e-mail if anything is missing."
    ),
    R.SCREENING: N_(
        "Your self-assessment is with the secretariat for screening; you will be told by e-mail "
        "if anything is missing."
    ),
    R.PEER_ASSIGNMENT: N_(
        "Your self-assessment was accepted. The secretariat is forming the review team by lot; "
        "nothing is expected of you now."
    ),
    R.EVALUATION: N_(
        "The review team is evaluating your self-assessment; nothing is expected of you now. "
        "You will be asked by e-mail to check the draft report for factual accuracy."
    ),
    R.FACTUAL_CHECK: N_(
        "Check the draft report for factual accuracy: add your comments, or none, then send "
        "them. The secretariat then adopts the report."
    ),
    "comments_sent": N_(
        "Your factual-accuracy comments were sent. The secretariat will now adopt the report; "
        "you will then be asked to respond to each recommendation."
    ),
    R.RESPONSE: N_(
        "The report is adopted. Answer each recommendation, supported or noted, then submit "
        "your response; follow-up starts after that. Decide also what of the report may be "
        "published."
    ),
    R.FOLLOW_UP: N_(
        "Report progress on the recommendations as you implement them; the secretariat assesses "
        "their implementation."
    ),
    R.ENHANCED_FOLLOW_UP: N_(
        "The review is in enhanced follow-up: report progress on the recommendations closely; "
        "the secretariat assesses their implementation."
    ),
    R.CLOSED: N_("The review is closed. Its report and your responses stay available here."),
    R.WITHDRAWN: N_("The review was withdrawn; nothing more is expected of you."),
}

#: What happens next for a peer reviewer on the review, by review status.
REVIEWER = {
    "invited": N_(
        "You are invited to this review: accept or decline the invitation, and declare any "
        "conflict of interest."
    ),
    R.PEER_ASSIGNMENT: N_(
        "You are on the review team. The evaluation starts once the whole team has accepted; "
        "you will be told by e-mail."
    ),
    R.EVALUATION: N_(
        "Evaluate the self-assessment section by section, then submit your evaluation. The lead "
        "reviewer then consolidates the team's draft report."
    ),
    "submitted": N_(
        "Your evaluation is submitted. The lead reviewer consolidates the team's draft report; "
        "nothing more is expected of you unless it is returned to you."
    ),
    "lead": N_(
        "Evaluate the self-assessment, then consolidate the team's evaluations into the draft "
        "report and submit it; it goes to the state for a factual-accuracy check."
    ),
    R.FACTUAL_CHECK: N_(
        "The draft report is with the state for a factual-accuracy check; nothing is expected "
        "of you now."
    ),
    "done": N_("The report was adopted: the team's work is done. You can still read it here."),
}

#: The message after a step, by event: what happened and what comes next.
AFTER_STEP = {
    "submit_self_assessment": N_(
        "Your self-assessment is with the secretariat for screening; you will be told by e-mail "
        "if anything is missing."
    ),
    "return_self_assessment": N_(
        "The self-assessment is back with the state, with your reason; its focal points were "
        "told by e-mail."
    ),
    "accept_self_assessment": N_(
        "Self-assessment accepted. Next: draw the review team by lot or assign it by hand."
    ),
    "start_evaluation": N_("The evaluation has started; the review team was told by e-mail."),
    "submit_draft_report": N_(
        "The draft report is with the state for a factual-accuracy check; its focal points were "
        "told by e-mail."
    ),
    "submit_factual_comments": N_(
        "Your comments were sent. The secretariat will now adopt the report; you will then be "
        "asked to respond to each recommendation."
    ),
    "adopt_report": N_(
        "Report adopted. The state is asked to respond to each recommendation; its focal points "
        "and the review team were told by e-mail."
    ),
    "submit_response": N_(
        "Your response is recorded and follow-up has started: report progress on the "
        "recommendations as you implement them."
    ),
    "accept": N_(
        "You accepted the invitation. The evaluation starts once the whole team has accepted; "
        "you will be told by e-mail."
    ),
    "decline": N_("You declined the invitation; the secretariat was told by e-mail."),
    "submit_evaluation": N_(
        "Your evaluation is submitted; the lead reviewer and the secretariat were told by "
        "e-mail. The lead now consolidates the draft report."
    ),
    "close_review": N_("Review closed. Its report and follow-up stay available."),
}


def next_step(user: User, review: Review) -> str | None:
    """The "What happens next" sentence for ``user`` on ``review`` in the reader's language, or
    None for the secretariat (who reads the possible next steps table) and anyone else."""
    sent = review.status == R.FACTUAL_CHECK and history.comments_sent(review) is not None
    return _sentence(user, review, sent, access.assignment_of(user, review))


def next_steps(user: User, reviews: list[Review], assignments: dict) -> dict[int, str | None]:
    """`next_step` for each of ``reviews`` (review id → sentence), in two queries whatever
    their number: ``assignments`` is the user's own, by review id
    (`app.services.worklist.own_assignments`)."""
    checking = [r.id for r in reviews if r.status == R.FACTUAL_CHECK]
    latest = history.latest_events(checking, ("submit_draft_report", "submit_factual_comments"))
    return {
        review.id: _sentence(
            user,
            review,
            getattr(latest.get(review.id), "event", None) == "submit_factual_comments",
            assignments.get(review.id),
        )
        for review in reviews
    }


def _sentence(user: User, review: Review, comments_sent: bool, assignment) -> str | None:
    status = review.status
    if access.is_focal_point_of(user, review):
        key = "comments_sent" if status == R.FACTUAL_CHECK and comments_sent else status
        return gettext(FOCAL_POINT[key])
    if getattr(user, "role", None) != Role.REVIEWER:
        return None
    if assignment is None or assignment.status not in access.VISIBLE_TO_REVIEWER:
        return None
    if assignment.status == A.INVITED:
        return gettext(REVIEWER["invited"])
    if status == R.EVALUATION:
        if assignment.is_lead:
            return gettext(REVIEWER["lead"])
        if assignment.status == A.SUBMITTED:
            return gettext(REVIEWER["submitted"])
        return gettext(REVIEWER[R.EVALUATION])
    if status in (R.PEER_ASSIGNMENT, R.FACTUAL_CHECK):
        return gettext(REVIEWER[status])
    if status in (R.SELF_ASSESSMENT, R.SCREENING, R.WITHDRAWN):
        return None
    return gettext(REVIEWER["done"])


def after_step(event: str, label: str) -> str:
    """The message after ``event``: what happened and what comes next; for an event without its
    own sentence, "Done: <label>." (``label`` already translated)."""
    message = AFTER_STEP.get(event)
    if message is None:
        return gettext("Done: %(action)s.", action=label)
    return gettext(message)
