"""One review taken through its whole cycle in Chromium, each person in their own browser.

Browser tests (SQLite only; see ``tests/e2e/conftest.py``): the secretariat creates and opens
the cycle, screens the self-assessment, builds the team, starts the evaluation, adopts the report,
assesses the recommendations and closes the review; Kenya's focal point fills and submits the
self-assessment, sends a factual-accuracy comment, answers every recommendation and reports
progress; two peer reviewers (Brazil, lead; Poland) accept and evaluate, and the lead drafts and
submits the report. At each step the test checks what each person sees (DESIGN §4, §5): the
co-reviewer cannot read the lead's evaluation before submitting their own, and the focal point
cannot see the draft report before factual_check. Accounts are made by the test's factories;
everything else goes through the screens, with CSRF on.
"""

from __future__ import annotations

import re
from datetime import date

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.models import Answer, Assignment, FrameworkSection, Recommendation, Review
from workflows import ReviewStatus

pytestmark = pytest.mark.e2e


def main(page):
    return page.locator("main")


def press(page, name: str) -> None:
    """Click the button named ``name`` (exactly) and wait for the next page; an irreversible
    step asks first in a dialog (issue 16), answered "Yes"."""
    page.wait_for_load_state()  # the dialog's script runs once the page has loaded
    button = page.get_by_role("button", name=name, exact=True).first
    if button.get_attribute("data-confirm"):
        button.click()
        dialog = page.get_by_role("dialog")
        expect(dialog).to_contain_text(button.get_attribute("data-confirm"))
        with page.expect_navigation():
            dialog.get_by_role("button", name=f"Yes, {name}").click()
        return
    with page.expect_navigation():
        button.click()


def status_of(live, review_id: int) -> str:
    return str(live.one(select(Review.status).where(Review.id == review_id)))


def fill_section(page, number: int) -> None:
    """Answer every question of the open section page as a focal point would."""
    for radio in page.locator("input[type=radio][name$='-level'][value='3']").all():
        radio.check()
    for radio in page.locator("input[type=radio][name$='-choice'][value='partial']").all():
        radio.check()
    for box in page.locator("textarea[name$='-narrative']").all():
        box.fill(f"Kenya, section {number}: the institutions in place and how they work.")
    page.get_by_label("Identified capacity gaps").fill(f"County-level reach ({number}).")


def test_one_review_through_the_whole_cycle_in_the_browser(live, people):
    make = live.make
    sec_user = make.secretariat()
    fp_user = make.focal_point("KEN")
    lead_user = make.user("reviewer", "BRA", name="Ana Luíza Souza")
    member_user = make.user("reviewer", "POL", name="Zofia Wiśniewska")
    sec = people.page("secretariat", sec_user)

    # --- the secretariat creates and opens the cycle with Kenya ---------------------------------
    sec.get_by_role("link", name="Cycles").click()
    expect(main(sec)).to_contain_text("No cycle yet.")
    sec.get_by_role("link", name="New cycle").click()
    sec.get_by_label("Name").fill("2027 cycle")
    sec.get_by_label("Start date").fill(date.today().isoformat())
    sec.get_by_label("Time zone (IANA)").fill("Africa/Nairobi")
    sec.get_by_label("Reviewers per review team").fill("2")
    press(sec, "Create cycle")
    expect(sec.locator(".alert-success")).to_contain_text("Cycle 2027 cycle created.")
    sec.locator("select[name=states]").select_option(label="Kenya")
    press(sec, "Add to the cycle")
    expect(main(sec)).to_contain_text("Kenya")
    press(sec, "Open cycle")
    expect(sec.locator("h1 + div .badge, .fs-5 .badge").first).to_have_text("Open")
    review_id = live.one(select(Review.id))
    r = f"/reviews/{review_id}"

    # --- Kenya's focal point fills and submits the self-assessment ------------------------------
    fp = people.page("focal_point", fp_user)
    expect(main(fp)).to_contain_text("Complete and submit the self-assessment")
    assert fp.goto(f"{r}/report").status == 404
    fp.goto(f"{r}/self-assessment")
    numbers = [
        s.number
        for s in live.read(select(FrameworkSection).order_by(FrameworkSection.number))
        if s.framework_id == live.one(select(Review)).cycle.framework_id
    ]
    fp.get_by_role("link", name=re.compile(r"^1\. ")).first.click()
    # section 1 is saved by autosave alone: as typed, and when a section link is followed
    fill_section(fp, numbers[0])
    expect(fp.locator("#autosave-status")).to_have_text(
        re.compile(r"Saved at \d\d:\d\d \(Africa/Nairobi\)\.")
    )
    fp.locator("textarea[name$='-evidence']").first.fill("Kenya Gazette notice 112 (2026)")
    with fp.expect_navigation():
        fp.locator(".section-nav").get_by_role("link", name=re.compile(r"^2\. ")).click()
    expect(fp.locator(".section-nav a").nth(1)).to_contain_text("complete")
    assert live.one(select(Answer.id).where(Answer.evidence == "Kenya Gazette notice 112 (2026)"))
    fp.goto(f"{r}/self-assessment/{numbers[0]}")
    expect(fp.locator("textarea[name$='-evidence']").first).to_have_value(
        "Kenya Gazette notice 112 (2026)"
    )
    fp.locator(".section-nav").get_by_role("link", name=re.compile(r"^2\. ")).click()
    for number in numbers[1:]:
        expect(fp.locator("h1")).to_contain_text(f"{number}.")
        fill_section(fp, number)
        label = "Save and next section" if number != numbers[-1] else "Save and go to the overview"
        press(fp, label)
    expect(fp.locator("h1")).to_contain_text("Self-assessment")
    expect(main(fp)).not_to_contain_text("required question is not answered")
    expect(fp.locator(".section-nav, table").first).to_contain_text("Complete")
    press(fp, "Submit self-assessment")
    expect(main(fp)).to_contain_text("Screening")
    assert status_of(live, review_id) == ReviewStatus.SCREENING

    # --- the secretariat accepts it and builds the team -----------------------------------------
    sec.goto("/home")
    sec.get_by_role("link", name=re.compile("Screen the submitted self-assessment")).click()
    press(sec, "Accept self-assessment")
    expect(main(sec)).to_contain_text("Peer assignment")
    sec.goto(f"/admin/reviews/{review_id}/team")
    for user, lead in ((lead_user, True), (member_user, False)):
        sec.get_by_label("Peer reviewer").select_option(str(user.id))
        if lead:
            sec.get_by_label("Lead reviewer").check()
        sec.get_by_label("Justification").fill("Regional expertise and languages.")
        press(sec, "Invite reviewer")
    expect(main(sec)).to_contain_text("0 of 2 reviewers have accepted.")
    assignments = {
        a.reviewer_id: a.id for a in live.read(select(Assignment).order_by(Assignment.id))
    }
    lead_a, member_a = assignments[lead_user.id], assignments[member_user.id]

    # --- both reviewers accept; an invited reviewer sees only the invitation ---------------------
    member = people.page("member_reviewer", member_user)
    member.get_by_role("link", name=re.compile("Answer the invitation")).click()
    expect(member.locator("h1")).to_have_text("Invitation to review Kenya")
    assert member.goto(f"{r}/self-assessment").status == 404
    member.goto(f"/assignments/{member_a}")
    member.get_by_label(re.compile("I declare that I have no conflict")).check()
    press(member, "Accept invitation")
    member.goto(f"{r}/self-assessment")
    expect(main(member)).to_contain_text("Kenya, section 1: the institutions in place")

    lead = people.page("lead_reviewer", lead_user)
    lead.goto(f"/assignments/{lead_a}")
    lead.get_by_label(re.compile("I declare that I have no conflict")).check()
    press(lead, "Accept invitation")

    sec.goto(r)
    press(sec, "Start evaluation")
    expect(sec.locator(".phase-tracker [aria-current=step]")).to_have_text(re.compile("Evaluation"))

    # --- the lead evaluates and submits first; the co-reviewer cannot read it yet ---------------
    sections = live.read(
        select(FrameworkSection)
        .where(FrameworkSection.framework_id == live.one(select(Review)).cycle.framework_id)
        .order_by(FrameworkSection.number)
    )
    lead.goto(f"/assignments/{lead_a}/evaluation")
    for s in sections:
        lead.locator(f"input[name=rating_{s.id}][value='3']").check()
        lead.locator(f"textarea[name=findings_{s.id}]").fill(f"Brazil finds on {s.code}.")
    lead.get_by_label("Section", exact=True).select_option(index=2)
    lead.locator("textarea[name=new_text]").fill("Create an independent police inspectorate.")
    lead.locator("input[name=new_category][value='5']").check()
    press(lead, "Add proposed recommendation")
    expect(main(lead)).to_contain_text("Create an independent police inspectorate.")
    press(lead, "Submit evaluation")
    expect(main(lead)).to_contain_text("Brazil finds on")

    member.goto(r)
    expect(main(member)).not_to_contain_text("Read evaluation")
    assert member.goto(f"/assignments/{lead_a}/evaluation/view").status == 404
    fp.goto(r)
    expect(main(fp)).not_to_contain_text("Peer-review report")
    assert fp.goto(f"{r}/report").status == 404

    member.goto(f"/assignments/{member_a}/evaluation")
    for s in sections:
        member.locator(f"input[name=rating_{s.id}][value='2']").check()
    member.locator(f"textarea[name=findings_{sections[3].id}]").fill("Poland finds on JUS.")
    press(member, "Submit evaluation")
    member.goto(f"/assignments/{lead_a}/evaluation/view")
    expect(main(member)).to_contain_text(f"Brazil finds on {sections[0].code}.")

    # --- the lead consolidates and submits the draft report -------------------------------------
    lead.goto("/home")
    lead.get_by_role("link", name=re.compile("Consolidate the draft report")).click()
    lead.get_by_role("textbox", name="Executive summary").fill(
        "Kenya has strong institutions, uneven reach."
    )
    for s in sections:
        lead.locator(f"input[name=consensus_{s.id}][value='{s.number % 4}']").check()
    press(lead, "Save draft")
    press(lead, "Import the team's proposed recommendations (1)")
    expect(main(lead)).to_contain_text("Create an independent police inspectorate.")
    press(lead, "Save and submit the draft report")
    assert status_of(live, review_id) == ReviewStatus.FACTUAL_CHECK

    # --- the state sees the draft only now and comments -------------------------------------------
    fp.goto("/home")
    fp.get_by_role("link", name=re.compile("Check the draft report")).click()
    expect(main(fp)).to_contain_text("Kenya has strong institutions, uneven reach.")
    expect(main(fp)).not_to_contain_text("Brazil finds on")
    fp.get_by_role("textbox", name="Comment", exact=True).fill(
        "The Judicial Service Commission was reconstituted in 2026."
    )
    press(fp, "Add comment")
    press(fp, "Send factual-accuracy comments")
    expect(main(fp)).to_contain_text("Your comments were sent. The secretariat will now adopt")

    sec.goto(f"{r}/report")
    expect(main(sec)).to_contain_text("reconstituted in 2026")
    press(sec, "Adopt report")
    assert status_of(live, review_id) == ReviewStatus.RESPONSE

    # --- the state answers every recommendation ---------------------------------------------------
    recs = live.read(select(Recommendation).where(Recommendation.review_id == review_id))
    fp.goto("/home")
    fp.get_by_role("link", name=re.compile("Answer each recommendation")).click()
    for rec in recs:
        fp.locator(f"input[name='r{rec.id}-position'][value='supported']").check()
        fp.locator(f"textarea[name='r{rec.id}-explanation']").fill("Kenya supports this.")
        fp.locator(f"textarea[name='r{rec.id}-planned_action']").fill("A bill by mid-2027.")
        fp.locator(f"[name='r{rec.id}-responsible_institution']").fill("Ministry of Interior")
        fp.locator(f"input[name='r{rec.id}-target_date']").fill("2027-06-30")
    press(fp, "Save and submit the response")
    assert status_of(live, review_id) == ReviewStatus.FOLLOW_UP

    # --- progress, assessment, closure -----------------------------------------------------------
    fp.goto(f"{r}/follow-up")
    card = fp.locator(f"#rec-{recs[0].id}")
    card.get_by_text("Report progress", exact=True).click()
    card.get_by_label("Progress", exact=True).select_option("in_progress")
    card.get_by_label("What has been done").fill("The bill is before parliament.")
    with fp.expect_navigation():
        card.get_by_role("button", name="Post progress update").click()
    expect(main(fp)).to_contain_text("The bill is before parliament.")

    sec.goto(f"{r}/follow-up")
    expect(main(sec)).to_contain_text("The bill is before parliament.")
    for rec in recs:
        card = sec.locator(f"#rec-{rec.id}")
        card.get_by_text("Assess implementation", exact=True).click()
        card.get_by_label("Assessment", exact=True).select_option("partially_implemented")
        with sec.expect_navigation():
            card.get_by_role("button", name="Post assessment").click()
    sec.goto(r)
    press(sec, "Close review")
    assert status_of(live, review_id) == ReviewStatus.CLOSED
    expect(sec.locator(".phase-tracker li.done")).to_have_count(5)
    fp.goto(r)
    expect(main(fp)).to_contain_text("Closed")
