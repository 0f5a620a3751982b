"""Following a section link while an autosave is on its way loses nothing: leaving the page
cancels a request still in flight, so the page waits for it before it leaves.

The autosave request is held at the browser's network layer until after the link is clicked:
the page must wait for it before leaving, then go on to the next section.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.models import Answer, FrameworkSection

pytestmark = pytest.mark.e2e


def test_a_link_followed_while_an_autosave_is_on_its_way_waits_for_it(live, people):
    make = live.make
    review = make.review("KEN", make.cycle(time_zone="Africa/Nairobi"))
    focal_point = make.focal_point("KEN")
    live.db.session.commit()
    sections = live.read(
        select(FrameworkSection.number)
        .where(FrameworkSection.framework_id == review.cycle.framework_id)
        .order_by(FrameworkSection.number)
    )
    first, second = sections[1], sections[2]  # section 2 has capacity levels
    page = people.page("focal_point", focal_point)
    page.goto(f"/reviews/{review.id}/self-assessment/{first}")

    held = []

    def hold(route) -> None:
        held.append(route)

    page.route("**/autosave", hold)
    # a radio button: its change is complete when checked, so nothing else is left unsaved when
    # the link is followed (a text box would fire one more change as it loses the focus)
    page.locator("input[type=radio][name$='-level'][value='2']").first.check()
    for _ in range(100):  # the autosave leaves 1.5 s after the last change
        if held:
            break
        page.wait_for_timeout(100)
    assert held, "no autosave left the page"

    page.locator(".section-nav").get_by_role("link", name=re.compile(rf"^{second}\. ")).click()
    page.wait_for_timeout(300)
    assert page.url.endswith(f"/self-assessment/{first}"), "the page left before its save"
    held[0].continue_()
    page.unroute("**/autosave")  # the save that follows goes straight through
    page.wait_for_url(re.compile(rf"/self-assessment/{second}$"))

    levels = live.read(select(Answer.level).where(Answer.review_id == review.id))
    assert 2 in levels
