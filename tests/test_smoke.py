from app.models import Role


def test_login_and_home_lists_own_state_review(client, make, login_as):
    review = make.review("KEN")
    fp = make.focal_point("KEN")
    login_as(fp)
    page = client.get("/home")
    assert page.status_code == 200
    assert "Kenya" in page.get_data(as_text=True)
    assert review.status == "self_assessment"
    assert fp.role == Role.FOCAL_POINT
