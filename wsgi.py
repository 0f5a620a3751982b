"""Entry point: ``flask --app wsgi ...`` and WSGI servers find ``app`` here."""

from app import create_app

app = create_app()
