"""API endpoints for token holders: each acts as the token's user through `app.access`, the same
rules as the pages (DESIGN §5, §12): a focal point reads its state's reviews, recommendations,
responses and follow-up and (write scope) posts progress updates; a reviewer reads what their
assignment shows; the secretariat also reads cycles and the dashboard's figures. Objects the user
may not know are 404; known objects the user may not change are 403."""

from __future__ import annotations

from flask import g, request
from flask_babel import gettext as _
from flask_smorest import Blueprint, abort
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app import access
from app.extensions import db
from app.models import Cycle, Review, State, User
from app.services import api_tokens, dashboard
from app.services import follow_up as service
from app.web.api import schemas
from app.web.api.limits import rate_limited

blp = rate_limited(
    Blueprint(
        "api",
        __name__,
        url_prefix="/api/v1",
        description="Reviews, recommendations and follow-up, with a personal access token.",
    )
)
SECURED = {"security": [{"bearerAuth": []}]}


@blp.before_request
def _authenticate() -> None:
    """Every endpoint here needs a token, checked before its arguments are read (a request
    without a token is a 401 whatever it carries): ``read`` for GET/HEAD, ``write`` otherwise."""
    g.pop("api_user", None)  # ``g`` may outlive a request (an app context pushed around it)
    g.pop("api_token", None)
    g.api_user = token_user("read" if request.method in ("GET", "HEAD", "OPTIONS") else "write")


def token_user(scope: str) -> User:
    """The user of the request's token, which must hold ``scope``.

    Raises (as JSON errors): 401 without a usable token (missing, unknown, revoked, expired, its
    user deactivated); 403 when the token lacks ``scope``.
    """
    if g.get("api_user") is not None:
        if not g.api_token.has_scope(scope):
            abort(403, message=_("This token does not have the %(scope)s scope.", scope=scope))
        return g.api_user
    header = request.headers.get("Authorization", "")
    token = None
    if header[:7].lower() == "bearer ":
        token = api_tokens.authenticate(header[7:].strip())
    if token is None:
        abort(401, headers={"WWW-Authenticate": 'Bearer realm="pillars"'})
    g.api_token = token
    if not token.has_scope(scope):
        abort(403, message=_("This token does not have the %(scope)s scope.", scope=scope))
    return token.user


def _review(user: User, review_id: int, action: str = "review.view") -> Review:
    review = db.session.get(Review, review_id)
    if review is None or not access.can(user, action, review):
        abort(404)
    return review


def _review_data(review: Review) -> dict:
    return {
        "id": review.id,
        "state": review.state.name,
        "state_code": review.state.code,
        "cycle_id": review.cycle_id,
        "cycle": review.cycle.name,
        "status": review.status.value,
        "status_changed_at": review.status_changed_at,
        "deadlines": [
            {"stage": d.stage, "due_at": d.due_at}
            for d in sorted(review.deadlines, key=lambda d: d.due_at)
        ],
    }


def _recommendation_data(rec) -> dict:
    response = rec.response
    return {
        "id": rec.id,
        "review_id": rec.review_id,
        "section_code": rec.section.code,
        "section_title": rec.section.title,
        "text": rec.text,
        "priority": rec.priority.value,
        "action_category": rec.action_category,
        "response": (
            {
                "position": response.position.value if response.position else None,
                "explanation": response.explanation,
                "planned_action": response.planned_action,
                "responsible_institution": response.responsible_institution,
                "target_date": response.target_date,
            }
            if response is not None
            else None
        ),
        "progress": [
            {
                "id": p.id,
                "status": p.status.value,
                "narrative": p.narrative,
                "evidence": p.evidence,
                "created_at": p.created_at,
            }
            for p in sorted(rec.progress_updates, key=lambda p: (p.created_at, p.id))
        ],
        "assessments": [
            {"status": a.status.value, "note": a.note, "created_at": a.created_at}
            for a in sorted(rec.assessments, key=lambda a: (a.created_at, a.id))
        ],
        "progress_version": str(
            max(rec.progress_updates, key=lambda p: (p.created_at, p.id)).id
            if rec.progress_updates
            else 0
        ),
    }


@blp.route("/me")
@blp.doc(**SECURED)
@blp.response(200, schemas.MeSchema)
def me():
    """The token's user and scopes."""
    user = token_user("read")
    return {
        "id": user.id,
        "name": user.display_name,
        "role": user.role.value,
        "state_code": user.state.code if user.state else None,
        "scopes": g.api_token.scope_list,
    }


@blp.route("/reviews")
@blp.doc(**SECURED)
@blp.arguments(schemas.PageArgs, location="query")
@blp.response(200, schemas.ReviewPage)
def reviews(args):
    """The reviews the user may see: the secretariat all, a focal point its state's, a reviewer
    those of their current assignments."""
    user = token_user("read")
    where = access.visible_review_ids_clause(user)
    total = db.session.scalar(select(func.count(Review.id)).where(where))
    page, per_page = args["page"], args["per_page"]
    rows = db.session.scalars(
        select(Review)
        .join(State, State.id == Review.state_id)
        .where(where)
        .options(
            selectinload(Review.state), selectinload(Review.cycle), selectinload(Review.deadlines)
        )
        .order_by(Review.cycle_id.desc(), State.name, Review.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    return {
        "items": [_review_data(r) for r in rows],
        "page": page,
        "per_page": per_page,
        "total": total,
    }


@blp.route("/reviews/<int:review_id>")
@blp.doc(**SECURED)
@blp.response(200, schemas.ReviewSchema)
def review(review_id: int):
    """One review: state, cycle, status and stage deadlines (UTC)."""
    return _review_data(_review(token_user("read"), review_id))


@blp.route("/reviews/<int:review_id>/recommendations")
@blp.doc(**SECURED)
@blp.response(200, schemas.RecommendationList)
def recommendations(review_id: int):
    """The review's recommendations with the state's response, progress updates and
    assessments, to whoever may read the report (the state from factual check on)."""
    review = _review(token_user("read"), review_id, "recommendations.view")
    return {"items": [_recommendation_data(r) for r in service.recommendations_of(review)]}


@blp.route("/reviews/<int:review_id>/recommendations/<int:recommendation_id>")
@blp.doc(**SECURED)
@blp.response(200, schemas.RecommendationSchema)
def recommendation(review_id: int, recommendation_id: int):
    """One recommendation with its response and follow-up."""
    review = _review(token_user("read"), review_id, "recommendations.view")
    found = service.recommendation_of(review, recommendation_id)
    if found is None:
        abort(404)
    return _recommendation_data(found)


@blp.route(
    "/reviews/<int:review_id>/recommendations/<int:recommendation_id>/progress",
    methods=["POST"],
)
@blp.doc(**SECURED)
@blp.arguments(schemas.ProgressPostSchema)
@blp.response(201, schemas.ProgressSchema)
def post_progress(data, review_id: int, recommendation_id: int):
    """Post a progress update (a focal point of the reviewed state, review in follow-up, write
    scope), validated like the follow-up page's form. ``base_version`` is the recommendation's
    ``progress_version`` as last read: 409 when another update was posted since."""
    user = token_user("write")
    review = _review(user, review_id, "recommendations.view")
    found = service.recommendation_of(review, recommendation_id)
    if found is None:
        abort(404)
    if not access.can(user, "progress.post", review):
        abort(403, message=_("Progress can be reported only by the state during follow-up."))
    try:
        update = service.post_progress(
            found,
            data["status"],
            data["narrative"],
            user,
            evidence=data.get("evidence") or "",
            base_version=data["base_version"],
        )
    except service.ProgressChanged as changed:
        db.session.rollback()
        abort(409, message=str(changed), errors={"base_version": [changed.version]})
    except service.AlreadyRecorded as same:
        db.session.rollback()
        abort(409, message=str(same))
    except service.FollowUpError as refused:
        db.session.rollback()
        abort(422, message=str(refused), errors={"narrative": [str(refused)]})
    db.session.commit()
    return {
        "id": update.id,
        "status": update.status.value,
        "narrative": update.narrative,
        "evidence": update.evidence,
        "created_at": update.created_at,
    }


@blp.route("/cycles")
@blp.doc(**SECURED)
@blp.response(200, schemas.CycleList)
def cycles():
    """Every cycle (the secretariat)."""
    user = token_user("read")
    if not access.can(user, "admin"):
        abort(403)
    rows = db.session.scalars(select(Cycle).order_by(Cycle.starts_on.desc(), Cycle.id.desc()))
    return {
        "items": [
            {
                "id": c.id,
                "name": c.name,
                "status": c.status.value,
                "starts_on": c.starts_on,
                "time_zone": c.time_zone,
            }
            for c in rows
        ]
    }


def _figures(figures: dashboard.Figures) -> dict:
    return {label: dict(row) for label, row in figures.rows.items()}


@blp.route("/cycles/<int:cycle_id>/dashboard")
@blp.doc(**SECURED)
@blp.response(200, schemas.DashboardSchema)
def cycle_dashboard(cycle_id: int):
    """The dashboard's figures of a cycle (the secretariat): reviews with phase, days in phase
    and next deadline; responses and implementation by section and by state."""
    user = token_user("read")
    if not access.can(user, "admin"):
        abort(403)
    cycle = db.session.get(Cycle, cycle_id)
    if cycle is None:
        abort(404)
    board = dashboard.build(cycle)
    return {
        "cycle_id": cycle.id,
        "reviews": [
            {
                "review_id": r.review_id,
                "state": r.state_name,
                "state_code": r.state_code,
                "status": r.status.value,
                "days_in_phase": r.days_in_phase,
                "due_at": r.due_at,
                "overdue": r.overdue,
            }
            for r in board.reviews
        ],
        "responses_by_section": _figures(board.responses_by_section),
        "responses_by_state": _figures(board.responses_by_state),
        "implementation_by_section": _figures(board.implementation_by_section),
        "implementation_by_state": _figures(board.implementation_by_state),
    }
