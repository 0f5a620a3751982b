"""The browser tests skip without Chromium locally, and fail without it in CI (never skip)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _run_e2e(**env: str) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in ("CI", "PILLARS_REQUIRE_E2E", "TEST_DATABASE_URL", "PILLARS_CHROMIUM")
    }
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-rs",
            "-p",
            "no:cacheprovider",
            "tests/e2e/test_accessibility.py::test_the_self_assessment_is_saved_by_keyboard_alone",
        ],
        cwd=ROOT,
        env={**clean, "PILLARS_CHROMIUM": "/nonexistent/chromium", **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_missing_chromium_skips_the_browser_tests_with_the_reason_locally():
    result = _run_e2e()
    assert result.returncode == 0, result.stdout[-2000:]
    assert "1 skipped" in result.stdout
    assert "need Chromium at /nonexistent/chromium" in result.stdout


def test_missing_chromium_fails_the_browser_tests_in_ci():
    for env in ({"CI": "true"}, {"PILLARS_REQUIRE_E2E": "1"}):
        result = _run_e2e(**env)
        assert result.returncode != 0, (env, result.stdout[-2000:])
        assert "CI never skips the browser tests" in result.stdout
        assert "skipped" not in result.stdout
