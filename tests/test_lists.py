"""Lists that grow — the 193 states, the accounts, a cycle's reviews — sort, filter and page on
the server through query parameters, with a flat number of queries (DESIGN §10)."""

from __future__ import annotations

import re

from app.models import Addressee, Priority, Recommendation
from tests.factories import prepared_review
from tests.test_admin import _queries
from workflows import ReviewStatus


def _names(page: str) -> list[str]:
    """The first cell of each body row of the page's table."""
    body = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [
        re.sub(r"<[^>]+>", "", cell).strip()
        for cell in re.findall(r"<tr[^>]*>\s*<td[^>]*>(.*?)</td>", body, re.S)
    ]


def test_states_are_paged_sorted_and_filtered(client, make, login_as):
    login_as(make.focal_point("KEN"))
    first = client.get("/states").get_data(as_text=True)
    assert "Showing 1–50 of 193" in first
    assert _names(first)[:2] == ["Afghanistan", "Albania"]
    last = client.get("/states?page=4").get_data(as_text=True)
    assert "Showing 151–193 of 193" in last and _names(last)[-1] == "Zimbabwe"
    descending = client.get("/states?sort=-name").get_data(as_text=True)
    assert _names(descending)[0] == "Zimbabwe"
    assert 'aria-sort="descending"' in descending
    weog = client.get("/states?group=WEOG&q=land").get_data(as_text=True)
    assert _names(weog) == [
        "Finland",
        "Iceland",
        "Ireland",
        "Netherlands",
        "New Zealand",
        "Switzerland",
    ]
    by_code = client.get("/states?q=ken").get_data(as_text=True)
    assert _names(by_code) == ["Kenya"]
    none = client.get("/states?q=100%25_").get_data(as_text=True)
    assert "No state matches these filters." in none


def test_states_list_ignores_bad_parameters_with_a_note(client, make, login_as):
    login_as(make.focal_point("KEN"))
    response = client.get("/states?group=Atlantis&sort=nonsense&page=x")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "the filter was ignored" in page and "Showing 1–50 of 193" in page
    assert client.get("/states?page=99").get_data(as_text=True).count("Showing 151–193") == 1


def test_users_are_searched_sorted_and_paged_with_flat_queries(client, db, make, login_as):
    secretariat = make.secretariat()
    login_as(secretariat)
    for code in ("KEN", "GHA", "BRA"):
        make.focal_point(code)
    with _queries(db) as few:
        client.get("/admin/users")
    small = few()
    for code in ("POL", "NOR", "FRA", "IND", "JPN", "MEX", "EGY"):
        make.reviewer(code)
    with _queries(db) as many:
        page = client.get("/admin/users?sort=state").get_data(as_text=True)
    assert many() == small
    assert "Showing 1–11 of 11" in page
    found = client.get("/admin/users?q=.ken%40").get_data(as_text=True)
    assert "Showing 1–1 of 1" in found and _names(found) == ["focal_point 2 KEN"]
    assert 'aria-sort="ascending"' in client.get("/admin/users?sort=email").get_data(as_text=True)


def test_cycle_reviews_are_filtered_by_status_and_group(client, db, make, login_as):
    login_as(make.secretariat())
    cycle = make.cycle()
    for code in ("KEN", "GHA", "BRA", "POL"):
        make.review(code, cycle=cycle)
    url = f"/admin/cycles/{cycle.id}"
    everything = client.get(url).get_data(as_text=True)
    assert _names(everything) == ["Brazil BRA", "Ghana GHA", "Kenya KEN", "Poland POL"]
    african = client.get(f"{url}?group=African+Group&sort=-state").get_data(as_text=True)
    assert _names(african) == ["Kenya KEN", "Ghana GHA"]
    make.review("NOR", cycle=cycle).status = ReviewStatus.FOLLOW_UP
    make.review("IND", cycle=cycle).status = ReviewStatus.EVALUATION
    db.session.commit()
    by_phase = client.get(f"{url}?sort=status").get_data(as_text=True)
    assert _names(by_phase)[-2:] == ["India IND", "Norway NOR"]  # evaluation, then follow-up
    latest_first = client.get(f"{url}?sort=-status").get_data(as_text=True)
    assert _names(latest_first)[:2] == ["Norway NOR", "India IND"]
    none = client.get(f"{url}?status=closed").get_data(as_text=True)
    assert "No review matches these filters." in none
    odd = client.get(f"{url}?status=nonsense").get_data(as_text=True)
    assert "the filter was ignored" in odd and "Showing 1–6 of 6" in odd


def test_follow_up_recommendations_filter_by_latest_assessment(client, db, make, login_as):
    prepared = prepared_review(make)
    review = prepared.review
    review.status = ReviewStatus.FOLLOW_UP
    db.session.add(
        Recommendation(
            review_id=review.id,
            section_id=review.cycle.framework.sections[3].id,
            text="Publish the judicial budget by court, yearly.",
            priority=Priority.MEDIUM,
            action_category=4,
            addressee=Addressee.STATE,
        )
    )
    db.session.commit()
    login_as(prepared.identities["secretariat"])
    url = f"/reviews/{review.id}/follow-up"
    everything = client.get(url).get_data(as_text=True)
    assert "Showing 2 of 2 recommendations" in everything
    pending = client.get(f"{url}?assessment=none").get_data(as_text=True)
    assert "Showing 1 of 2 recommendations" in pending
    assert "Publish the judicial budget" in pending
    assert "independent police complaints authority" not in pending
    done = client.get(f"{url}?assessment=implemented").get_data(as_text=True)
    assert "independent police complaints authority" in done
    assert "Publish the judicial budget" not in done
    empty = client.get(f"{url}?assessment=not_implemented").get_data(as_text=True)
    assert "No recommendation matches this filter." in empty
    odd = client.get(f"{url}?assessment=bogus").get_data(as_text=True)
    assert "the filter was ignored" in odd and "Showing 2 of 2" in odd
