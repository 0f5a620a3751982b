"""Stakeholder submissions from civil society and NHRIs (issue 18)."""
