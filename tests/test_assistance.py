"""Pillar-two assistance (issue 18): a focal point's request is invisible to partners until
shared, a partner offers, the state accepts or declines with a reason, both report and evaluate,
and the lesson reaches the public library only with both consents."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from app.models import (
    AssistanceRequest,
    Offer,
    OfferStatus,
    Programme,
    ProgrammeStatus,
    RequestStatus,
    SectionGaps,
)
from tests.factories import prepared_review
from workflows import ReviewStatus


@pytest.fixture
def setting(make, db):
    prepared = prepared_review(make)
    review = prepared.review
    db.session.add(
        SectionGaps(
            review_id=review.id,
            section_id=review.cycle.framework.sections[0].id,
            capacity_gaps="Police oversight is thin.",
            assistance_sought=["security_sector_reform"],
            assistance_details="Training for a police oversight body.",
        )
    )
    db.session.commit()
    return {
        "review": review,
        "fp": prepared.identities["focal_point"],
        "secretariat": prepared.identities["secretariat"],
        "reviewer": prepared.identities["lead_reviewer"],
        "partner": make.partner("Nordic Development Agency"),
        "other_partner": make.partner("UNDP Rule of Law Programme"),
    }


def _new_request(client, review, title="Police oversight training"):
    return client.post(
        f"/reviews/{review.id}/assistance/new",
        data={
            "title": title,
            "area": "security_sector_reform",
            "purpose_code": "",
            "section": "",
            "need": "Our new police oversight body needs investigators trained.",
            "shared_details": "Budget line approved by parliament.",
        },
    )


def test_new_request_page_proposes_the_assistance_sought_in_the_self_assessment(
    app, setting, login_as
):
    client = login_as(setting["fp"], on=app.test_client())
    page = client.get(f"/reviews/{setting['review'].id}/assistance/new").get_data(as_text=True)
    assert "Training for a police oversight body." in page


def test_partner_sees_a_request_only_once_shared_and_not_after_withdrawal(
    app, db, setting, login_as
):
    state = login_as(setting["fp"], on=app.test_client())
    response = _new_request(state, setting["review"])
    assert response.status_code == 302
    item = db.session.scalar(select(AssistanceRequest))
    assert item.status == RequestStatus.DRAFT and item.purpose_code == "15210"
    partner = login_as(setting["partner"], on=app.test_client())
    assert partner.get(f"/assistance/requests/{item.id}").status_code == 404
    assert "Police oversight training" not in partner.get("/assistance").get_data(as_text=True)

    assert state.post(f"/assistance/requests/{item.id}/share").status_code == 302
    assert "Police oversight training" in partner.get("/assistance").get_data(as_text=True)
    assert partner.get(f"/assistance/requests/{item.id}").status_code == 200

    refused = state.post(f"/assistance/requests/{item.id}/withdraw", data={"reason": " "})
    assert refused.status_code == 422 and "Please give a reason" in refused.get_data(as_text=True)
    state.post(f"/assistance/requests/{item.id}/withdraw", data={"reason": "Funded at home."})
    db.session.expire_all()
    assert db.session.get(AssistanceRequest, item.id).status == RequestStatus.WITHDRAWN
    assert partner.get(f"/assistance/requests/{item.id}").status_code == 404


def _shared(app, db, setting, login_as):
    state = login_as(setting["fp"], on=app.test_client())
    _new_request(state, setting["review"])
    item = db.session.scalar(select(AssistanceRequest))
    state.post(f"/assistance/requests/{item.id}/share")
    return state, item


def test_equipment_offer_needs_safeguards_and_keeps_what_was_typed(app, db, setting, login_as):
    _state, item = _shared(app, db, setting, login_as)
    partner = login_as(setting["partner"], on=app.test_client())
    response = partner.post(
        f"/assistance/requests/{item.id}/offers",
        data={"kind": "equipment", "description": "Twelve forensic kits.", "safeguards": ""},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "safeguards against misuse" in page and "Twelve forensic kits." in page
    assert db.session.scalar(select(Offer)) is None


def test_full_flow_from_offer_to_public_library_needs_both_consents(app, db, setting, login_as):
    state, item = _shared(app, db, setting, login_as)
    partner = login_as(setting["partner"], on=app.test_client())
    other = login_as(setting["other_partner"], on=app.test_client())
    for client, kind in ((partner, "training"), (other, "funding")):
        response = client.post(
            f"/assistance/requests/{item.id}/offers",
            data={
                "kind": kind,
                "description": f"{kind} for the oversight body",
                "amount": "250000",
                "currency": "eur",
                "starts_on": "2028-01-01",
                "ends_on": "2028-12-31",
            },
        )
        assert response.status_code == 302
    training, funding = db.session.scalars(select(Offer).order_by(Offer.id)).all()
    # a partner reads its own offer, never a competitor's
    page = partner.get(f"/assistance/requests/{item.id}").get_data(as_text=True)
    assert "training for the oversight body" in page
    assert "funding for the oversight body" not in page

    refused = state.post(f"/assistance/offers/{funding.id}/decide", data={"decision": "decline"})
    assert refused.status_code == 422
    state.post(
        f"/assistance/offers/{funding.id}/decide",
        data={"decision": "decline", "reason": "Already funded by the budget."},
    )
    accepted = state.post(f"/assistance/offers/{training.id}/decide", data={"decision": "accept"})
    assert accepted.status_code == 302
    db.session.expire_all()
    assert db.session.get(Offer, funding.id).status == OfferStatus.DECLINED
    programme = db.session.scalar(select(Programme))
    assert programme.starts_on == date(2028, 1, 1) and programme.currency == "EUR"

    # the coordination page shows both partners side by side to the engaged partner
    coordination = partner.get(f"/assistance/states/{programme.state_id}/coordination")
    assert coordination.status_code == 200
    text = coordination.get_data(as_text=True)
    assert "UNDP Rule of Law Programme" in text and "Nordic Development Agency" in text

    url = f"/assistance/programmes/{programme.id}"
    partner.post(f"{url}/notes", data={"body": "First cohort of 20 investigators trained."})
    state.post(f"{url}/notes", data={"body": "The oversight body opened 14 cases."})
    page = other.get(url)
    assert page.status_code == 404  # not a party to this programme
    state.post(f"{url}/complete")
    db.session.expire_all()
    assert db.session.get(Programme, programme.id).status == ProgrammeStatus.COMPLETED

    evaluation = {
        "what_was_done": "Trained 40 investigators.",
        "outcomes": "Complaints resolved faster.",
        "what_worked": "Mentoring by serving investigators.",
        "what_did_not": "Classroom lectures.",
        "would_repeat": "y",
        "consent_to_publish": "y",
    }
    partner.post(f"{url}/evaluation", data=evaluation)
    public = app.test_client()
    assert "Mentoring by serving investigators" not in public.get("/library/assistance").get_data(
        as_text=True
    )
    state.post(f"{url}/evaluation", data={**evaluation, "consent_to_publish": ""})
    assert "Mentoring by serving investigators" not in public.get("/library/assistance").get_data(
        as_text=True
    )
    state.post(f"{url}/evaluation", data=evaluation)
    library = public.get("/library/assistance?area=security_sector_reform").get_data(as_text=True)
    assert "Mentoring by serving investigators" in library
    assert "Mentoring" not in public.get("/library/assistance?area=rule_of_law").get_data(
        as_text=True
    )


def test_partner_never_reads_the_self_assessment_evaluations_or_report(app, db, setting, login_as):
    review = setting["review"]
    review.status = ReviewStatus.EVALUATION
    db.session.commit()  # SQLite has one writer: the sign-in's audit row must not wait for us
    partner = login_as(setting["partner"], on=app.test_client())
    for url in (
        f"/reviews/{review.id}",
        f"/reviews/{review.id}/self-assessment",
        f"/reviews/{review.id}/report",
    ):
        assert partner.get(url).status_code in (403, 404), url


def test_secretariat_overview_shows_requested_and_covered_areas(app, db, setting, login_as):
    _shared(app, db, setting, login_as)
    secretariat = login_as(setting["secretariat"], on=app.test_client())
    page = secretariat.get("/assistance/overview").get_data(as_text=True)
    assert "Kenya" in page and "0 of 1 covered" in page
    partner = login_as(setting["partner"], on=app.test_client())
    assert partner.get("/assistance/overview").status_code == 403


def test_secretariat_creates_a_partner_account_with_an_organisation(app, db, setting, login_as):
    from app.models import Role, User

    secretariat = login_as(setting["secretariat"], on=app.test_client())
    response = secretariat.post(
        "/admin/partners",
        data={
            "email": "undp@example.org",
            "display_name": "Amina Diallo",
            "organisation": "UNDP",
        },
    )
    assert response.status_code == 302
    user = db.session.scalar(select(User).where(User.email == "undp@example.org"))
    assert user.role == Role.PARTNER and user.organisation == "UNDP" and user.state_id is None
