"""Forms and labels of the secretariat's monitoring screens: the UPR Info import upload, the
translated names of the dashboard's columns."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import SubmitField


class UprImportForm(FlaskForm):
    """A UPR Info CSV export, uploaded as published (Mac Roman, CR line endings)."""

    file = FileField(
        _l("UPR Info CSV export"),
        validators=[
            FileRequired(_l("Choose a CSV file.")),
            FileAllowed(["csv", "txt"], _l("The file must be a CSV export (.csv).")),
        ],
        description=_l(
            "As downloaded from the UPR Info database: Mac Roman or UTF-8, any line endings. "
            "Rows already imported are skipped."
        ),
    )
    submit = SubmitField(_l("Import"))


def dashboard_labels() -> dict[str, str]:
    """Translated column names of the dashboard's figures and charts, by key."""
    return {
        "supported": _("Supported"),
        "noted": _("Noted"),
        "none": _("No response yet"),
        "implemented": _("Implemented"),
        "partially_implemented": _("Partially implemented"),
        "not_implemented": _("Not implemented"),
        "no_longer_applicable": _("No longer applicable"),
        "not_assessed": _("Not assessed"),
    }
