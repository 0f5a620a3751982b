"""The draw record of a review and the check of a draw by its seed (DESIGN §6; issue 16).

For the secretariat and the reviewed state's focal points (``draw.record`` in ``app/access.py``):
every draw of the review (open, confirmed, set aside) with its seed, rules, reason and outcome,
and a page that recomputes a draw from its record and says whether the team matches. Reviewers
appear only as numbered candidates with their state and regional group: no name reaches the
reviewed state (DESIGN §5).
"""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user, login_required

from app import access
from app.models import Draw, Review
from app.services import draws as service
from app.web.helpers import get_or_404

bp = Blueprint("draw_record", __name__)


@bp.route("/reviews/<int:review_id>/draws")
@login_required
def review(review_id: int):
    """Every draw of the review, oldest first, grouped as drawn."""
    subject = get_or_404(Review, review_id)
    access.require(current_user, "draw.record", subject)
    record = service.record_of(subject)
    return render_template(
        "draw_record/review.html",
        review=subject,
        record=[(draw, service.public_draw(draw)) for draw in record],
    )


@bp.route("/draws/<int:draw_id>/verify")
@login_required
def verify(draw_id: int):
    """The draw recomputed from its recorded seed, pool and rules, and the verdict."""
    draw = get_or_404(Draw, draw_id)
    access.require(current_user, "draw.record", draw.review)
    return render_template(
        "draw_record/verify.html",
        draw=draw,
        review=draw.review,
        check=service.verify(draw),
        public=service.public_draw(draw),
    )
