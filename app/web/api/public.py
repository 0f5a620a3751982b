"""Public API endpoints, without sign-in: what the public pages show (issue 5), read through
`app.services.publication` so that only reviews whose state consented are ever answered; an
unpublished review is a 404 as on the pages. No evaluation, draft, progress narrative,
assessment note or official's name is part of any answer."""

from __future__ import annotations

from flask_smorest import Blueprint, abort

from app.models import ConsentLevel
from app.services import publication as service
from app.web.api import schemas
from app.web.api.limits import rate_limited

blp = rate_limited(
    Blueprint(
        "api_public",
        __name__,
        url_prefix="/api/v1/public",
        description="Published reports, recommendations, good practices and mid-term reports.",
    )
)


def _report_ref(review, level, adopted_at) -> dict:
    return {
        "review_id": review.id,
        "state": review.state.name,
        "state_code": review.state.code,
        "cycle": review.cycle.name,
        "level": level.value,
        "adopted_at": adopted_at,
    }


def _recommendation(row: service.PublicRecommendation) -> dict:
    return {**row.__dict__, "level": row.level.value}


@blp.route("/reports")
@blp.arguments(schemas.PageArgs, location="query")
@blp.response(200, schemas.PublishedReportPage)
def reports(args):
    """Published reports, newest cycle first."""
    rows = service.published_index()
    page, per_page = args["page"], args["per_page"]
    chosen = rows[(page - 1) * per_page : page * per_page]
    return {
        "items": [_report_ref(*row) for row in chosen],
        "page": page,
        "per_page": per_page,
        "total": len(rows),
    }


@blp.route("/reports/<int:review_id>")
@blp.response(200, schemas.PublicReportSchema)
def report(review_id: int):
    """A published report; 404 when the review is not published."""
    found = service.public_report(review_id)
    if found is None:
        abort(404)
    full = found.level == ConsentLevel.FULL
    latest = found.latest_assessment
    recommendations = []
    for rec in found.recommendations:
        position = rec.response.position if full and rec.response else None
        status = latest[rec.id].status if full and rec.id in latest else None
        recommendations.append(
            {
                "id": rec.id,
                "review_id": rec.review_id,
                "state": found.review.state.name,
                "state_code": found.review.state.code,
                "regional_group": found.review.state.regional_group.value,
                "cycle": found.review.cycle.name,
                "section_number": rec.section.number,
                "section_code": rec.section.code,
                "section_title": rec.section.title,
                "text": rec.text,
                "action_category": rec.action_category,
                "level": found.level.value,
                "position": position.value if position else None,
                "status": status.value if status else None,
                "carried": rec.carried_from_id is not None,
            }
        )
    return {
        **_report_ref(found.review, found.level, found.report.adopted_at),
        "executive_summary": found.report.executive_summary,
        "sections": [
            {
                "number": section.number,
                "code": section.code,
                "title": section.title,
                "consensus_rating": row.consensus_rating if row else None,
                "findings": row.findings if row else "",
                "good_practices": row.good_practices if row else "",
            }
            for section, row in found.sections
        ],
        "recommendations": recommendations,
        "comments": [
            {
                "section": (
                    f"{c.section.number}. {c.section.title}" if c.section is not None else None
                ),
                "body": c.body,
                "created_at": c.created_at,
            }
            for c in found.comments
        ],
        "midterms": [
            {"version": m.version, "published_at": m.published_at} for m in found.midterms
        ],
    }


def _public_entry(entry: dict | None) -> dict | None:
    """A mid-term report's progress or assessment as published: status and date only."""
    if not entry:
        return None
    return {"status": entry.get("status"), "date": entry.get("date")}


@blp.route("/reports/<int:review_id>/mid-term/<int:version>")
@blp.response(200, schemas.PublicMidtermSchema)
def midterm(review_id: int, version: int):
    """A published mid-term report of a published review; 404 otherwise."""
    found = service.public_report(review_id)
    snapshot = service.published_midterm(review_id, version) if found else None
    if snapshot is None:
        abort(404)
    full = found.level == ConsentLevel.FULL
    content = snapshot.content or {}
    recommendations = []
    for rec in content.get("recommendations", []):
        row = {
            "number": str(rec.get("number", "")),
            "section": rec.get("section", ""),
            "text": rec.get("text", ""),
            "carried": bool(rec.get("carried")),
            "response": None,
            "progress": None,
            "assessment": None,
        }
        if full:
            response = rec.get("response")
            if response:
                row["response"] = {
                    "position": response.get("position"),
                    "planned_action": response.get("planned_action") or "",
                    "responsible_institution": response.get("responsible_institution") or "",
                }
            row["progress"] = _public_entry(rec.get("progress"))
            row["assessment"] = _public_entry(rec.get("assessment"))
        recommendations.append(row)
    return {
        "review_id": review_id,
        "state": found.review.state.name,
        "version": snapshot.version,
        "created_at": snapshot.created_at,
        "published_at": snapshot.published_at,
        # per-section figures would reveal single responses: only under a full consent
        "figures": (
            {"totals": content.get("totals"), "sections": content.get("sections")} if full else None
        ),
        "recommendations": recommendations,
    }


@blp.route("/recommendations")
@blp.arguments(schemas.RecommendationFilterArgs, location="query")
@blp.response(200, schemas.PublicRecommendationPage)
def recommendations(args):
    """The public recommendations database with its filters, one page at a time. Response and
    status filters match only reviews published in full; an unknown state or section code
    matches nothing."""
    raw = {name: str(value) for name, value in args.items()}
    filters = service.RecommendationFilters.from_args(raw)
    if any(raw.get(name) and not getattr(filters, name) for name in ("state", "section")):
        # a state or section nobody published under: no rows (not every recommendation)
        return {"items": [], "page": args["page"], "per_page": args["per_page"], "total": 0}
    filters.page = args["page"]
    rows, total = service.search_recommendations(filters, per_page=args["per_page"])
    return {
        "items": [_recommendation(row) for row in rows],
        "page": args["page"],
        "per_page": args["per_page"],
        "total": total,
    }


@blp.route("/good-practices")
@blp.arguments(schemas.GoodPracticeArgs, location="query")
@blp.response(200, schemas.GoodPracticeList)
def good_practices(args):
    """Good practices of reports published in full (at most 200, newest cycle first)."""
    filters = service.GoodPracticeFilters.from_args({k: str(v) for k, v in args.items()})
    if args.get("section") and not filters.section:
        return {"items": []}  # a section code no framework has: no good practices
    return {
        "items": [
            {
                "review_id": review_id,
                "state": state.name,
                "cycle": cycle.name,
                "section_code": section.code,
                "section_title": section.title,
                "text": text,
            }
            for state, cycle, section, text, review_id in service.good_practices(filters)
        ]
    }
