"""Submitting the state's response needs every part of every response (issue 5)."""

from __future__ import annotations

from datetime import date

from app.models import Addressee, Priority, Recommendation, Response, ResponsePosition
from app.services.transitions import incomplete_responses
from workflows import ReviewStatus
from workflows.review import all_responses_complete


def test_guard_refuses_while_a_response_misses_a_part():
    assert all_responses_complete({"incomplete_responses": []}) is None
    refusal = all_responses_complete({"incomplete_responses": ["2.1 (explanation)", "3.2 (x)"]})
    assert refusal.render() == (
        "Complete every response before submitting; missing: 2.1 (explanation); 3.2 (x)."
    )


def test_supported_needs_action_institution_and_date_noted_only_an_explanation(db, make):
    review = make.review("KEN")
    review.status = ReviewStatus.RESPONSE
    sections = review.cycle.framework.sections

    def rec(section, position, **parts):
        recommendation = Recommendation(
            review_id=review.id,
            section_id=section.id,
            text="R",
            priority=Priority.LOW,
            action_category=4,
            addressee=Addressee.STATE,
        )
        db.session.add(recommendation)
        db.session.flush()
        db.session.add(Response(recommendation_id=recommendation.id, position=position, **parts))

    complete = {
        "explanation": "Why.",
        "planned_action": "What.",
        "responsible_institution": "Who.",
        "target_date": date(2028, 1, 1),
    }
    rec(sections[1], ResponsePosition.SUPPORTED, **complete)
    rec(sections[1], ResponsePosition.SUPPORTED, explanation="Why.", target_date=None)
    rec(sections[2], ResponsePosition.NOTED, explanation="Why.")
    rec(sections[2], ResponsePosition.NOTED)
    rec(sections[3], None)  # unanswered: counted by the other guard
    db.session.commit()
    assert incomplete_responses(review) == [
        f"{sections[1].number}.2 (planned action, responsible institution, target date)",
        f"{sections[2].number}.2 (explanation)",
    ]
