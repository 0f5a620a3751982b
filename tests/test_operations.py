"""Operations (issue 14): production start-up checks, /healthz, security headers, JSON logs
with a request id, Sentry only when configured, content-hashed static URLs, the accessibility
script not served, and the deploy/ gunicorn configuration serving /healthz on PostgreSQL."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import requests

from app import create_app
from app.extensions import db as _db
from config import DEFAULT_SECRET_KEY, ProductionConfig, TestConfig
from tests.conftest import IS_PG

ROOT = Path(__file__).resolve().parent.parent


def _app(base=TestConfig, **settings):
    return create_app(type("Config", (base,), settings))


def _start(env_changes: dict) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DATABASE_URL"}}
    env.update(PILLARS_CONFIG="production", **env_changes)
    return subprocess.run(
        [sys.executable, "-c", "import wsgi"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({}, "SECRET_KEY"),
        (
            {"SECRET_KEY": DEFAULT_SECRET_KEY, "DATABASE_URL": "postgresql+psycopg://x/y"},
            "SECRET_KEY",
        ),
        ({"SECRET_KEY": uuid.uuid4().hex}, "DATABASE_URL"),
    ],
)
def test_production_refuses_to_start_with_one_clear_line(env, named):
    result = _start(env)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and named in lines[0] and "Traceback" not in result.stderr


def test_production_starts_with_its_own_key_and_database():
    result = _start(
        {"SECRET_KEY": uuid.uuid4().hex, "DATABASE_URL": "postgresql+psycopg://x@127.0.0.1/y"}
    )
    assert result.returncode == 0, result.stderr


def test_healthz_answers_200_or_503_without_sign_in_and_without_details(app, client, tmp_path):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}
    broken = _app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/no/such/dir/x.sqlite")
    with broken.app_context():
        down = broken.test_client().get("/healthz")
        assert down.status_code == 503 and down.get_json() == {"status": "unavailable"}
        for answer in (response, down):
            body = answer.get_data(as_text=True).lower()
            assert "version" not in body and "sqlite" not in body and "server" not in answer.headers
        _db.session.remove()


def test_production_sends_hsts_with_its_max_age_and_every_page_a_permissions_policy(
    client, template_db
):
    page = client.get("/login")
    assert "camera=()" in page.headers["Permissions-Policy"]
    assert "Strict-Transport-Security" not in page.headers  # not in development or tests
    production = _app(
        ProductionConfig,
        SQLALCHEMY_DATABASE_URI=template_db(),
        SECRET_KEY=uuid.uuid4().hex,
        HSTS_MAX_AGE=600,
    )
    with production.app_context():
        answer = production.test_client().get("/login", base_url="https://pillars.example")
        assert answer.headers["Strict-Transport-Security"] == "max-age=600; includeSubDomains"
        assert "microphone=()" in answer.headers["Permissions-Policy"]
        _db.session.remove()
        _db.engine.dispose()


@pytest.fixture
def json_logs(tmp_path):
    """An app logging JSON (its database unreachable, so /healthz logs a warning); yields the
    app and the stream its log lines go to."""
    import io

    app = _app(LOG_FORMAT="json", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/no/dir/x.db")
    root = logging.getLogger()
    (handler,) = [h for h in root.handlers if getattr(h, "pillars_json", False)]
    stream = io.StringIO()
    handler.setStream(stream)
    yield app, stream
    root.handlers = [h for h in root.handlers if not getattr(h, "pillars_json", False)]


def test_json_logs_carry_the_request_id(json_logs):
    app, stream = json_logs
    with app.app_context():
        response = app.test_client().get(
            "/healthz", headers={"X-Request-ID": "req-0123456789abcdef"}
        )
        _db.session.remove()
    assert response.headers["X-Request-ID"] == "req-0123456789abcdef"
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    health = [line for line in lines if "health check" in line["message"]]
    assert health and health[0]["request_id"] == "req-0123456789abcdef"
    assert health[0]["level"] == "WARNING" and health[0]["time"].endswith("+00:00")


def test_a_request_without_an_id_gets_a_fresh_one(client):
    first = client.get("/healthz").headers["X-Request-ID"]
    second = client.get("/healthz", headers={"X-Request-ID": "<script>"}).headers["X-Request-ID"]
    assert len(first) == 32 and first != second and "<" not in second


def test_sentry_is_used_only_when_a_dsn_is_set(monkeypatch):
    import sentry_sdk

    calls = []
    monkeypatch.setattr(sentry_sdk, "init", lambda **options: calls.append(options))
    _app()
    assert calls == []
    _app(SENTRY_DSN="https://key@sentry.example/1")
    assert calls and calls[0]["dsn"] == "https://key@sentry.example/1"
    assert calls[0]["send_default_pii"] is False


def test_static_urls_carry_a_content_hash_and_may_be_cached_long(app, client, tmp_path):
    from flask import url_for

    with app.test_request_context():
        url = url_for("static", filename="css/pillars.css")
    assert "?v=" in url and len(url.split("?v=")[1]) == 12
    response = client.get(url)
    assert response.status_code == 200 and "max-age=31536000" in response.headers["Cache-Control"]
    response.close()
    page = client.get("/login").get_data(as_text=True)
    assert "/static/css/pillars.css?v=" in page
    # another content, another URL
    app.static_folder = str(tmp_path)
    (tmp_path / "a.css").write_text("body{}")
    with app.test_request_context():
        before = url_for("static", filename="a.css")
    (tmp_path / "a.css").write_text("body{color:red}")
    with app.test_request_context():
        assert url_for("static", filename="a.css") != before


def test_the_accessibility_script_is_not_served(client):
    assert client.get("/static/vendor/axe-core/axe.min.js").status_code == 404
    assert not list((ROOT / "app" / "static").rglob("axe*"))


# --- deploy/: gunicorn with the shipped configuration, on PostgreSQL ---------------------------


@pytest.mark.skipif(not IS_PG, reason="the deploy test runs gunicorn on PostgreSQL")
def test_gunicorn_with_the_deploy_config_serves_healthz_on_postgresql(app, tmp_path):
    from tests.test_scale_out import GUNICORN, _free_port

    port = _free_port()
    env = {
        **os.environ,
        "PILLARS_CONFIG": "production",
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "SECRET_KEY": uuid.uuid4().hex,
        "PILLARS_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "1",
        "UPLOAD_FOLDER": str(tmp_path / "uploads"),
        "LOG_FORMAT": "json",
    }
    env.pop("REDIS_URL", None)
    process = subprocess.Popen(
        [str(GUNICORN), "-c", "deploy/gunicorn.conf.py", "wsgi:app"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, process.stderr.read().decode()[-2000:]
            try:
                answer = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=10)
                break
            except requests.RequestException:
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.3)
        assert answer.status_code == 200 and answer.json() == {"status": "ok"}
        assert answer.headers["Strict-Transport-Security"].startswith("max-age=")
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        process.stderr.close()
