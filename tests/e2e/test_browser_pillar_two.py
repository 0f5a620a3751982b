"""Pillar two and civil society in Chromium (issue 18), each person in their own browser.

Assistance: Kenya's focal point drafts a request from the review page (partners do not see it),
shares it; a partner finds it and offers training; the state accepts; both write progress notes;
the state completes the programme; both evaluate and consent; the lesson appears in the public
library. Submissions: a civil-society organisation submits anonymously with a file; the
secretariat accepts it and writes the section's summary; the state reads the summary and never
the organisation's name.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.models import Programme, StakeholderSubmission
from tests.factories import PASSWORD

pytestmark = pytest.mark.e2e


def press(page, name: str) -> None:
    with page.expect_navigation():
        page.get_by_role("button", name=name, exact=True).first.click()


def organisation_sign_in(page, email: str, home: str) -> None:
    """Partners and stakeholders land on their own home (``/assistance``, ``/submissions``)."""
    page.goto("/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"**{home}")


def test_a_partner_helps_a_state_from_shared_request_to_public_lesson(live, people):
    make = live.make
    review = make.review("KEN")
    fp = people.page("focal_point", make.focal_point("KEN"))
    partner_user = make.partner("Nordic Development Agency")
    partner = people.page("partner")
    organisation_sign_in(partner, partner_user.email, "/assistance")

    fp.goto(f"/reviews/{review.id}")
    fp.get_by_role("link", name="Ask international partners for assistance").click()
    fp.get_by_label("Title").fill("Police oversight training")
    fp.get_by_label("Area").select_option("security_sector_reform")
    fp.get_by_label("The need, in the state's own words").fill("Investigators for the new body.")
    press(fp, "Save request")
    expect(fp.locator(".alert-success")).to_contain_text("Partners see it only once you share")

    partner.reload()
    expect(partner.locator("main")).not_to_contain_text("Police oversight training")
    press(fp, "Share with partners")
    partner.reload()
    partner.get_by_role("link", name="Police oversight training").click()
    partner.get_by_label("Training").check()
    partner.get_by_label("What you offer").fill("Twelve weeks of investigator training.")
    partner.get_by_label("Start date").fill("2028-01-10")
    partner.get_by_label("End date").fill("2028-04-30")
    press(partner, "Send offer")
    expect(partner.locator(".alert-success")).to_contain_text("Offer sent to the state.")

    fp.reload()
    fp.get_by_label("Accept", exact=True).check()
    press(fp, "Record decision")
    expect(fp.locator(".alert-success")).to_contain_text("the programme has started")
    programme_id = live.one(select(Programme.id))

    partner.goto(f"/assistance/programmes/{programme_id}")
    partner.get_by_label("Progress note").fill("First cohort trained.")
    press(partner, "Add note")
    fp.reload()
    expect(fp.locator("main")).to_contain_text("First cohort trained.")
    press(fp, "Mark the programme completed")

    for page, text in ((fp, "Cases now closed in weeks."), (partner, "Mentoring worked best.")):
        page.goto(f"/assistance/programmes/{programme_id}")
        page.get_by_label("What was done").fill("Training of 12 investigators.")
        page.get_by_label("Outcomes observed").fill(text)
        page.get_by_label("What worked", exact=True).fill("Mentoring by serving investigators.")
        page.get_by_label("What did not work").fill("Lectures.")
        page.get_by_label("We would do it again").check()
        page.get_by_label("We consent to publishing").check()
        press(page, "Save evaluation")

    public = people.page("public")
    public.goto("/library/assistance")
    expect(public.locator("main")).to_contain_text("Police oversight training")
    expect(public.locator("main")).to_contain_text("Mentoring worked best.")


def test_an_anonymous_submission_reaches_the_secretariat_and_the_state_sees_the_summary(
    live, people, tmp_path
):
    make = live.make
    review = make.review("KEN")
    sec = people.page("secretariat", make.secretariat())
    fp = people.page("focal_point", make.focal_point("KEN"))
    author = make.stakeholder("Haki Rights Watch")
    cso = people.page("stakeholder")
    organisation_sign_in(cso, author.email, "/submissions")

    section = review.cycle.framework.sections[1]
    cso.get_by_role("link", name="Kenya").click()
    cso.locator(f"#section-{section.id}").fill("Detainees report beatings in police custody.")
    expect(cso.get_by_label("No: keep our organisation anonymous", exact=False)).to_be_checked()
    note = tmp_path / "Haki Rights Watch notes.txt"
    note.write_text("Dates and places of the reports.", encoding="utf-8")
    cso.get_by_label("Files (optional)").set_input_files(str(note))
    press(cso, "Send to the secretariat")
    expect(cso.locator(".alert-success")).to_contain_text("The secretariat will screen it.")
    submission_id = live.one(select(StakeholderSubmission.id))

    sec.goto("/submissions")
    expect(sec.locator("main")).to_contain_text("Haki Rights Watch")
    sec.get_by_role("link", name="Kenya").click()
    sec.get_by_label("Accept: the review team reads it").check()
    press(sec, "Record screening")
    sec.goto(f"/reviews/{review.id}/stakeholders")
    sec.locator(f"#sum-{section.id}").fill("Civil society reports ill-treatment in custody.")
    with sec.expect_navigation():
        sec.locator(f"#s{section.id} button[type=submit]").click()
    expect(sec.locator(".alert-success")).to_contain_text("Summary saved.")

    fp.goto(f"/reviews/{review.id}")
    fp.get_by_role("link", name="Civil society: the secretariat's summary").click()
    expect(fp.locator("main")).to_contain_text("ill-treatment in custody")
    expect(fp.locator("main")).not_to_contain_text("Haki")
    expect(fp.locator("main")).not_to_contain_text("beatings")
    assert fp.goto(f"/submissions/{submission_id}").status == 404
