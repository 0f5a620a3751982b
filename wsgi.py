"""Entry point: ``flask --app wsgi ...`` and WSGI servers find ``app`` here. A production
configuration that cannot start (no ``SECRET_KEY`` or ``DATABASE_URL`` of its own) stops here
with one line on standard error and exit status 1."""

import sys

from app import ConfigurationError, create_app

try:
    app = create_app()
except ConfigurationError as refused:
    print(f"pillars: {refused}", file=sys.stderr)
    sys.exit(1)
