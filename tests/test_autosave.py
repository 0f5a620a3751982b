"""Autosave of a self-assessment section: the JSON endpoint behind ``app/static/js/autosave.js``.

The browser side (typing, then following a section link) is in ``tests/e2e/test_browser_cycle``.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from app.models import Answer, Question
from tests.test_self_assessment import _answer, _open, _url
from workflows import AssignmentStatus, ReviewStatus


def _autosave(client, review, number, **fields):
    return client.post(f"{_url(review, number)}/autosave", data=fields)


def test_focal_point_autosave_stores_the_draft_and_returns_new_versions(
    client, db, make, login_as, frozen_now
):
    review = make.review("KEN", cycle=make.cycle(time_zone="Africa/Nairobi"))
    login_as(make.focal_point("KEN"))
    frozen_now(datetime(2027, 2, 1, 11, 5, tzinfo=UTC))
    hidden = _open(client, _url(review, 2))
    response = _autosave(
        client, review, 2, **hidden, **{"SEC-1-level": "3", "SEC-1-narrative": "Draft one."}
    )
    assert response.status_code == 200
    body = response.get_json()
    assert body["message"] == "Saved at 14:05 (Africa/Nairobi)."
    stored = _answer(db, review, "SEC-1")
    assert (stored.level, stored.narrative) == (3, "Draft one.")
    assert body["base_version"] != hidden["base_version"]

    # the next autosave carries the returned versions: no conflict with its own previous save
    hidden.update({f"{part}-base": v for part, v in body["versions"].items()})
    hidden["base_version"] = body["base_version"]
    again = _autosave(
        client, review, 2, **hidden, **{"SEC-1-level": "3", "SEC-1-narrative": "Draft two."}
    )
    assert again.status_code == 200
    db.session.expire_all()
    assert _answer(db, review, "SEC-1").narrative == "Draft two."


def test_autosave_refuses_a_stale_page_and_keeps_the_other_save(client, db, make, login_as):
    review = make.review("KEN")
    fp = make.focal_point("KEN")
    login_as(fp)
    stale = _open(client, _url(review, 2))
    fresh = _open(client, _url(review, 2))
    saved = _autosave(client, review, 2, **fresh, **{"SEC-1-narrative": "From tab one."})
    assert saved.status_code == 200
    refused = _autosave(client, review, 2, **stale, **{"SEC-1-narrative": "From tab two."})
    assert refused.status_code == 409
    assert "someone else saved this section meanwhile" in refused.get_json()["message"]
    db.session.expire_all()
    assert _answer(db, review, "SEC-1").narrative == "From tab one."


def test_autosave_is_locked_after_submission(client, db, make, login_as):
    review = make.review("KEN")
    login_as(make.focal_point("KEN"))
    hidden = _open(client, _url(review, 2))
    review.status = ReviewStatus.SCREENING
    db.session.commit()
    response = _autosave(client, review, 2, **hidden, **{"SEC-1-narrative": "Too late."})
    assert response.status_code == 409
    assert "can no longer be changed" in response.get_json()["message"]
    assert (
        db.session.scalar(select(Answer).join(Question).where(Answer.narrative == "Too late."))
        is None
    )


def test_autosave_refuses_readers_who_may_not_edit(client, db, make, login_as):
    review = make.review("KEN")
    reviewer = make.reviewer("BRA")
    make.assignment(review, reviewer, status=AssignmentStatus.ACCEPTED)
    secretariat = make.secretariat()
    login_as(secretariat)
    hidden = _open(client, _url(review, 2))
    response = _autosave(client, review, 2, **hidden, **{"SEC-1-narrative": "Not mine."})
    assert response.status_code == 403
    assert "Only the state's focal point" in response.get_json()["message"]
    # the team does not read the state's draft before screening accepts it (DESIGN §5): for an
    # accepted reviewer the section is not there, like for outsiders
    for outsider in (reviewer, make.focal_point("GHA"), make.reviewer("NOR")):
        login_as(outsider)
        assert _autosave(client, review, 2, **{"SEC-1-narrative": "x"}).status_code == 404
    assert (
        db.session.scalar(
            select(Answer).join(Question).where(Answer.narrative.in_(["Not mine.", "x"]))
        )
        is None
    )


def test_autosave_needs_the_csrf_token(app, client, db, make, login_as):
    review = make.review("KEN")
    login_as(make.focal_point("KEN"))
    app.config["WTF_CSRF_ENABLED"] = True
    response = _autosave(client, review, 2, **{"SEC-1-narrative": "Forged."})
    assert response.status_code == 400
    assert db.session.scalar(select(Answer).where(Answer.narrative == "Forged.")) is None


def test_autosave_refuses_a_level_outside_the_scale(client, db, make, login_as):
    review = make.review("KEN")
    login_as(make.focal_point("KEN"))
    hidden = _open(client, _url(review, 2))
    response = _autosave(client, review, 2, **hidden, **{"SEC-1-level": "9"})
    assert response.status_code == 422
    assert "Not saved" in response.get_json()["message"]
