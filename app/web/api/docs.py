"""The API's documentation page: Swagger UI (vendored from the npm registry) reading the
generated ``/api/v1/openapi.json``; nothing is loaded from another origin."""

from __future__ import annotations

from flask import Blueprint, render_template

from app.web.helpers import diagram_page

bp = Blueprint("api_docs", __name__, url_prefix="/api/v1")


@bp.route("/docs")
def index():
    # Swagger UI sets style attributes in the browser: the page allows inline styles (not scripts)
    return diagram_page(render_template("api/docs.html"))
