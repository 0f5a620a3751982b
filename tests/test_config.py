"""Configuration: production refuses the default secret key and the demo."""

from __future__ import annotations

import pytest

from app import create_app
from config import DEFAULT_SECRET_KEY, ProductionConfig, TestConfig


def test_production_refuses_to_start_with_the_default_secret_key():
    class Production(ProductionConfig):
        SECRET_KEY = DEFAULT_SECRET_KEY
        SQLALCHEMY_DATABASE_URI = "sqlite://"

    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app(Production)


def test_production_sets_secure_cookies_and_refuses_the_demo():
    class Production(ProductionConfig):
        SECRET_KEY = "a-real-secret-from-the-environment"
        SQLALCHEMY_DATABASE_URI = "sqlite://"

    app = create_app(Production)
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["REMEMBER_COOKIE_SECURE"] is True
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code != 0
    assert "not available under the production config" in result.output


def test_tests_never_run_with_the_development_database():
    assert "instance" not in TestConfig.SQLALCHEMY_DATABASE_URI
