"""Web blueprints, one package per area (routes.py thin: load, check, call a service, render)."""

from app.web.action_plan.routes import bp as action_plan_bp
from app.web.action_plan.routes import public_bp as action_plan_public_bp
from app.web.action_plan.routes import roll_up_bp as action_plan_roll_up_bp
from app.web.admin.routes import bp as admin_bp
from app.web.assistance.routes import bp as assistance_bp
from app.web.auth.routes import bp as auth_bp
from app.web.confirm.routes import bp as confirm_bp
from app.web.documents.routes import bp as documents_bp
from app.web.draw_record.routes import bp as draw_record_bp
from app.web.draws.routes import bp as draws_bp
from app.web.evaluation.routes import bp as evaluation_bp
from app.web.follow_up.routes import bp as follow_up_bp
from app.web.history.routes import bp as history_bp
from app.web.main.routes import bp as main_bp
from app.web.monitoring.routes import bp as monitoring_bp
from app.web.notifications.routes import bp as notifications_bp
from app.web.ops.routes import bp as ops_bp
from app.web.public.routes import bp as public_bp
from app.web.publication.routes import bp as publication_bp
from app.web.recommendations.routes import bp as recommendations_bp
from app.web.report.routes import bp as report_bp
from app.web.reviews.routes import bp as reviews_bp
from app.web.self_assessment.routes import bp as self_assessment_bp
from app.web.stakeholders.routes import bp as stakeholders_bp
from app.web.tokens.routes import bp as tokens_bp

BLUEPRINTS = [
    auth_bp,
    main_bp,
    reviews_bp,
    self_assessment_bp,
    evaluation_bp,
    report_bp,
    follow_up_bp,
    action_plan_bp,
    action_plan_public_bp,
    action_plan_roll_up_bp,
    draws_bp,
    draw_record_bp,
    recommendations_bp,
    publication_bp,
    history_bp,
    public_bp,
    admin_bp,
    monitoring_bp,
    notifications_bp,
    assistance_bp,
    stakeholders_bp,
    confirm_bp,
    tokens_bp,
    documents_bp,
    ops_bp,
]
