"""Scale-out (issue 9): two app processes on one PostgreSQL database behave as one.

Two real gunicorn servers (separate processes, separate engines and memory) serve the same
database. The same transition fired on both at the same moment is applied once (the row lock of
`apply_transition`), the other request is told someone acted first (409), and the TransitionLog
has one row per round; a session signed in on one process is valid on the other (sessions are
signed cookies, the session token lives in the database); sign-in rate limits are counted in Redis,
so attempts spread over both processes share one limit.

PostgreSQL only: SQLite is one file on one machine, and its writers are serialised by the file
lock anyway. Redis part skipped when Redis is not reachable.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select

from app.models import Review, TransitionLog
from tests.conftest import IS_PG
from workflows import ReviewStatus

pytestmark = pytest.mark.skipif(
    not IS_PG, reason="scale-out needs a database server shared by processes (PostgreSQL)"
)

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).parent / "gunicorn"
REDIS_URL = "redis://127.0.0.1:6379/15"  # the tests' own Redis database, as in test_security.py
PASSWORD = "correct-horse-battery"  # tests/factories.py
ROUNDS = 8
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _redis_available() -> bool:
    try:
        import redis

        connection = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
        connection.ping()
        connection.close()
        return True
    except Exception:  # noqa: BLE001 - any failure means: no Redis here
        return False


@pytest.fixture
def two_processes(app, tmp_path):
    """Two gunicorn servers (one sync worker each) on the test's database; their base URLs."""
    env = {
        **os.environ,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "PILLARS_CONFIG": "development",
        "SECRET_KEY": "scale-out-test-" + uuid.uuid4().hex,  # the same key on both
        "UPLOAD_FOLDER": str(tmp_path / "uploads"),
        "LOGIN_RATE_LIMIT": "3 per minute",
        "LOGIN_RATE_LIMIT_PER_ADDRESS": "1000 per hour",
    }
    if _redis_available():
        env["REDIS_URL"] = REDIS_URL
    else:
        env.pop("REDIS_URL", None)
    processes, bases = [], []
    for _ in range(2):
        port = _free_port()
        processes.append(
            subprocess.Popen(
                [str(GUNICORN), "--workers", "1", "--bind", f"127.0.0.1:{port}", "wsgi:app"],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
        )
        bases.append(f"http://127.0.0.1:{port}")
    try:
        deadline = time.monotonic() + 25
        for process, base in zip(processes, bases, strict=True):
            while True:
                assert process.poll() is None, process.stderr.read().decode()[-2000:]
                try:  # the worker imports the app after the socket is open: wait for it
                    requests.get(f"{base}/login", timeout=20)
                    break
                except requests.RequestException:
                    assert time.monotonic() < deadline, "gunicorn did not start"
                    time.sleep(0.2)
        yield {"bases": bases, "redis": "REDIS_URL" in env}
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
            process.stderr.close()


def _token(session: requests.Session, url: str) -> str:
    found = CSRF.search(session.get(url, timeout=10).text)
    assert found, f"no CSRF token on {url}"
    return found.group(1)


def _sign_in(base: str, email: str) -> requests.Session:
    session = requests.Session()
    answer = session.post(
        f"{base}/login",
        data={"csrf_token": _token(session, f"{base}/login"), "email": email, "password": PASSWORD},
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code == 302, answer.status_code
    return session


def _copy(session: requests.Session) -> requests.Session:
    """Another client holding the same session cookie (a browser whose requests a load balancer
    sends to either process)."""
    other = requests.Session()
    other.cookies.update(session.cookies)
    return other


def test_concurrent_transitions_on_two_processes_serialize(db, make, two_processes):
    secretariat = make.secretariat()
    cycle = make.cycle()
    codes = ("KEN", "GHA", "BRA", "NOR", "POL", "CRI", "IDN", "PHL")
    reviews = [make.review(code, cycle) for code in codes]
    assert len(reviews) == ROUNDS
    for review in reviews:
        review.status = ReviewStatus.SCREENING
    db.session.commit()
    first, second = two_processes["bases"]
    one = _sign_in(first, secretariat.email)
    other = _copy(one)  # the cookie issued by process 1, used on process 2

    assert other.get(f"{second}/home", allow_redirects=False, timeout=10).status_code == 200
    tokens = {first: _token(one, f"{first}/reviews/{reviews[0].id}")}
    tokens[second] = _token(other, f"{second}/reviews/{reviews[0].id}")

    outcomes: list[list[int]] = []
    lock = threading.Lock()
    for review in reviews:
        barrier = threading.Barrier(2)
        statuses: list[int] = []

        def fire(session, base, review_id=review.id, barrier=barrier, statuses=statuses):
            barrier.wait()
            answer = session.post(
                f"{base}/reviews/{review_id}/events/accept_self_assessment",
                data={"csrf_token": tokens[base], "expected_status": "screening"},
                allow_redirects=False,
                timeout=20,
            )
            with lock:
                statuses.append(answer.status_code)

        threads = [
            threading.Thread(target=fire, args=(one, first)),
            threading.Thread(target=fire, args=(other, second)),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        outcomes.append(sorted(statuses))

    assert outcomes == [[302, 409]] * ROUNDS
    db.session.expire_all()
    logged = dict(
        db.session.execute(
            select(TransitionLog.subject_id, func.count())
            .where(
                TransitionLog.subject_type == "review",
                TransitionLog.event == "accept_self_assessment",
            )
            .group_by(TransitionLog.subject_id)
        ).all()
    )
    assert logged == {review.id: 1 for review in reviews}
    statuses = set(db.session.scalars(select(Review.status).where(Review.id.in_(logged))))
    assert statuses == {ReviewStatus.PEER_ASSIGNMENT}


def test_sign_in_limits_are_shared_by_both_processes_through_redis(two_processes):
    if not two_processes["redis"]:
        pytest.skip("Redis is not reachable at 127.0.0.1:6379 (CI's machine runs it)")
    email = f"scale-{uuid.uuid4().hex[:8]}@example.org"  # its own counter
    statuses = []
    for attempt in range(4):  # the limit is 3 a minute, attempts alternate between processes
        base = two_processes["bases"][attempt % 2]
        session = requests.Session()
        answer = session.post(
            f"{base}/login",
            data={"csrf_token": _token(session, f"{base}/login"), "email": email, "password": "x"},
            allow_redirects=False,
            timeout=10,
        )
        statuses.append(answer.status_code)
    assert statuses == [200, 200, 200, 429]
