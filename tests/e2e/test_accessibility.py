"""axe-core on every main page of each role, and a form used by keyboard alone.

Browser tests (SQLite only; see ``tests/e2e/conftest.py``). axe-core 4.14.1 (vendored from the
npm registry in ``tests/e2e/vendor/axe-core/``, MPL-2.0) is injected by the test, not served to
users; the contexts bypass the Content-Security-Policy for that injection only. A page passes
when axe reports no violation of impact "serious" or "critical" (WCAG 2.x A/AA rules and axe's
best practices).

``PILLARS_SCREENSHOTS=1`` also saves every walked page at laptop (1366×768) and tablet
(768×1024) size in ``test-artifacts/screens/`` to look at them.
"""

from __future__ import annotations

import os
import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.models import Assignment, FrameworkSection, Role
from tests.e2e.conftest import ARTIFACTS, AXE, sign_in_as
from tests.factories import prepared_review
from workflows import AssignmentStatus, ReviewStatus

pytestmark = pytest.mark.e2e

SIZES = {"laptop": {"width": 1366, "height": 768}, "tablet": {"width": 768, "height": 1024}}
SHOOT = os.environ.get("PILLARS_SCREENSHOTS") == "1"


def serious_violations(page) -> list[str]:
    """axe's serious and critical violations on ``page``, one readable line each."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    lines = []
    for violation in result["violations"]:
        if violation["impact"] in ("serious", "critical"):
            targets = [", ".join(node["target"]) for node in violation["nodes"][:3]]
            lines.append(f"{violation['id']} ({violation['impact']}): {targets}")
    return lines


def walk(browser, live, who: str, user, urls: list[str], found: dict, item) -> None:
    """Open each of ``urls`` as ``user`` (None: signed out) at both sizes; record violations."""
    for size, viewport in SIZES.items():
        if size == "tablet" and not SHOOT:
            continue
        context = browser.new_context(base_url=live.url, viewport=viewport, bypass_csp=True)
        page = context.new_page()
        item._open_pages = {who: page}
        try:
            if user is not None:
                sign_in_as(page, user)
            for url in urls:
                response = page.goto(url)
                assert response.status == 200, (who, url, response.status)
                if SHOOT:
                    folder = ARTIFACTS / "screens"
                    folder.mkdir(parents=True, exist_ok=True)
                    slug = re.sub(r"[^a-z0-9]+", "-", url.lower()).strip("-") or "root"
                    # what a person sees first, at that size
                    page.screenshot(path=str(folder / f"{who}-{slug}-{size}.png"))
                if size == "laptop":
                    problems = serious_violations(page)
                    if problems:
                        found[f"{who} {url}"] = problems
        finally:
            context.close()


def test_main_pages_of_every_role_have_no_serious_axe_violation(live, browser, request):
    make, db = live.make, live.db
    prepared = prepared_review(make)
    review = prepared.review
    ids = prepared.identities
    r = f"/reviews/{review.id}"
    cycle_id = review.cycle_id
    ghana = make.review("GHA", cycle=review.cycle)
    assignments = {a.reviewer_id: a for a in live.read(select(Assignment))}
    lead_a = assignments[ids["lead_reviewer"].id]
    member_a = assignments[ids["member_reviewer"].id]
    invited = make.assignment(ghana, ids["unassigned_reviewer"], actor=ids["secretariat"])

    # the evaluation phase: the reviewers' forms
    review.status = ReviewStatus.EVALUATION
    for a in (lead_a, member_a):
        a.status = AssignmentStatus.ACCEPTED
    db.session.commit()
    found: dict[str, list[str]] = {}
    walk(browser, live, "anonymous", None, ["/login"], found, request.node)
    walk(
        browser,
        live,
        "lead",
        ids["lead_reviewer"],
        [
            "/home",
            r,
            f"/assignments/{lead_a.id}",
            f"/assignments/{lead_a.id}/evaluation",
            f"{r}/report/edit",
            f"{r}/self-assessment",
            f"{r}/self-assessment/2",
        ],
        found,
        request.node,
    )
    walk(
        browser,
        live,
        "invited",
        ids["unassigned_reviewer"],
        ["/home", f"/assignments/{invited.id}"],
        found,
        request.node,
    )
    walk(
        browser,
        live,
        "focal-point-editing",
        ids["other_focal_point"],
        [
            "/home",
            f"/reviews/{ghana.id}",
            f"/reviews/{ghana.id}/self-assessment",
            f"/reviews/{ghana.id}/self-assessment/1",
            f"/reviews/{ghana.id}/self-assessment/11",
        ],
        found,
        request.node,
    )

    # after adoption: the report, the response and the follow-up
    review.status = ReviewStatus.FOLLOW_UP
    for a in (lead_a, member_a):
        a.status = AssignmentStatus.SUBMITTED
    db.session.commit()
    walk(
        browser,
        live,
        "focal-point",
        ids["focal_point"],
        ["/home", r, f"{r}/report", f"{r}/response", f"{r}/follow-up", "/states"],
        found,
        request.node,
    )
    walk(
        browser,
        live,
        "secretariat",
        ids["secretariat"],
        [
            "/home",
            r,
            f"{r}/report",
            f"{r}/follow-up",
            f"/assignments/{member_a.id}/evaluation/view",
            "/admin/cycles",
            f"/admin/cycles/{cycle_id}",
            "/admin/cycles/new",
            f"/admin/reviews/{review.id}/team",
            "/admin/users",
            "/admin/users/new",
            f"/admin/users/{ids['focal_point'].id}/edit",
            "/admin/audit",
            "/admin/two-factor",
            "/account/two-factor",
        ],
        found,
        request.node,
    )
    assert found == {}


def test_the_self_assessment_is_saved_by_keyboard_alone(live, people):
    make = live.make
    review = make.review("KEN")
    fp_user = make.user(Role.FOCAL_POINT, "KEN")
    page = people.page("focal_point", fp_user)
    page.goto(f"/reviews/{review.id}/self-assessment/1")
    first = live.one(
        select(FrameworkSection)
        .where(FrameworkSection.framework_id == review.cycle.framework_id)
        .order_by(FrameworkSection.number)
    ).questions[0]
    narrative = page.locator(f"textarea[name='{first.code}-narrative']")
    # from the skip link, Tab moves through the page until the narrative has the focus
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    for _ in range(200):
        page.keyboard.press("Tab")
        if narrative.evaluate("el => el === document.activeElement"):
            break
    expect(narrative).to_be_focused()
    page.keyboard.press("Control+A")  # replace the text pre-filled from treaty data
    page.keyboard.type("Typed by keyboard alone.")
    for _ in range(200):
        page.keyboard.press("Tab")
        focused = page.evaluate(
            "(document.activeElement.value || document.activeElement.textContent || '').trim()"
        )
        if focused == "Save draft":
            break
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator(".alert-success")).to_contain_text("Saved.")
    expect(narrative).to_have_value("Typed by keyboard alone.")


@pytest.mark.parametrize("language", ["ar", "zh"])
def test_arabic_and_chinese_pages_have_no_serious_axe_violation(live, browser, request, language):
    """The main pages of a focal point, a reviewer and the secretariat in Arabic (right to left)
    and Chinese, and the public pages for a visitor whose browser asks for that language
    (issue 15): no serious axe violation, and the page declares its language and direction."""
    make, db = live.make, live.db
    prepared = prepared_review(make)
    review = prepared.review
    ids = prepared.identities
    r = f"/reviews/{review.id}"
    review.status = ReviewStatus.FOLLOW_UP
    for user in ids.values():
        user.locale = language
    db.session.commit()
    found: dict[str, list[str]] = {}
    lead_a = live.one(select(Assignment).where(Assignment.reviewer_id == ids["lead_reviewer"].id))
    walk(
        browser,
        live,
        f"focal-point-{language}",
        ids["focal_point"],
        ["/home", r, f"{r}/self-assessment", f"{r}/report", f"{r}/response", f"{r}/follow-up"],
        found,
        request.node,
    )
    walk(
        browser,
        live,
        f"lead-{language}",
        ids["lead_reviewer"],
        ["/home", r, f"/assignments/{lead_a.id}", f"{r}/self-assessment/2"],
        found,
        request.node,
    )
    walk(
        browser,
        live,
        f"secretariat-{language}",
        ids["secretariat"],
        ["/home", f"/admin/cycles/{review.cycle_id}", "/admin/users", "/states"],
        found,
        request.node,
    )
    context = browser.new_context(
        base_url=live.url, bypass_csp=True, extra_http_headers={"Accept-Language": language}
    )
    page = context.new_page()
    try:
        for url in ("/login", "/public/", "/public/recommendations"):
            page.goto(url)
            direction = "rtl" if language == "ar" else "ltr"
            expect(page.locator("html")).to_have_attribute("lang", language)
            expect(page.locator("html")).to_have_attribute("dir", direction)
            problems = serious_violations(page)
            if problems:
                found[f"anonymous-{language} {url}"] = problems
    finally:
        context.close()
    assert found == {}
