"""The Pillars benchmark: key pages under gunicorn, single-user and 20 users, against a floor.

Run by hand (not a test): ``make bench`` (SQLite) or ``make bench-postgres``, i.e.::

    .venv/bin/python bench/run.py --db sqlite|postgres [--fresh] [--requests 30] [--users 20]

What it does, in order:

1. Prepares the database (SQLite ``instance/bench.sqlite`` or the PostgreSQL database
   ``pillars_bench`` at ``BENCH_PG_URL``): ``flask db upgrade``, ``flask seed`` and
   ``flask bench seed --states 193 --cycles 3`` the first time; later runs reuse it (``--fresh``
   rebuilds it). Migrations are applied every time, so a new index reaches a reused database.
2. Starts the app under gunicorn (2 workers, ``--worker-class``, default gthread with 4 threads)
   and the floor (`bench/floor.py`: the dashboard's figures from one hand-written SQL statement)
   under gunicorn with 2 sync workers, on local ports.
3. Signs in the bench users (login form → CSRF token → POST; sign-in rate limits raised through
   the environment for this run only) and warms every page up.
4. Measures every page ``--requests`` times one after the other (single user), then with
   ``--users`` users at once, each with its own session, each requesting the page ``--rounds``
   times with a think time drawn uniformly from [0.5, 1.5] × ``--think`` seconds between requests
   (people read a page before the next click; with no think time 20 users on 2 cores only measure
   the queue). Any answer other than 200 counts as an error.
5. Prints a table: median and p95 in milliseconds, each page's ratio to the floor (single-user
   medians), the 20-user p95 as a multiple of the single-user p95, errors; and the machine
   (CPU, cores, load average, Python, database version). Writes the same to
   ``bench/results/<db>-<date>.json`` and ``.md``.

Targets (issue 9): the dashboard within 1.5× the floor; 20 users' p95 within 3× the single-user
p95, no errors.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import random
import re
import signal
import socket
import statistics
import subprocess  # nosec B404 - runs this repository's own flask and gunicorn
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import requests
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
RESULTS = ROOT / "bench" / "results"
SQLITE_PATH = ROOT / "instance" / "bench.sqlite"
PG_URL = os.environ.get(
    "BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/pillars_bench"
)
#: Without `flask bench seed` (bench/data.py) the runner measures the demo.
DEMO_PASSWORD = "demo-password"  # noqa: S105 - the demo's published password
SECRET_KEY = "bench-only-" + "x" * 32  # a throwaway key of a local benchmark run


# --- the database ------------------------------------------------------------------------------


def database_url(kind: str) -> str:
    return f"sqlite:///{SQLITE_PATH}" if kind == "sqlite" else PG_URL


def flask(url: str, *args: str) -> str:
    """Run ``flask --app wsgi ARGS`` on the bench database; its output, or exit on failure."""
    env = {**os.environ, "DATABASE_URL": url, "PILLARS_CONFIG": "development"}
    done = subprocess.run(  # nosec B603 - fixed argument list
        [str(BIN / "flask"), "--app", "wsgi", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        sys.exit(f"flask {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def has_bench_command(url: str) -> bool:
    env = {**os.environ, "DATABASE_URL": url}
    done = subprocess.run(  # nosec B603 - fixed argument list
        [str(BIN / "flask"), "--app", "wsgi", "bench", "--help"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        check=False,
    )
    return done.returncode == 0


def _pg_admin(url: str):
    admin = make_url(url).set(database="postgres")
    return create_engine(admin, isolation_level="AUTOCOMMIT")


def database_exists(kind: str, url: str) -> bool:
    if kind == "sqlite":
        return SQLITE_PATH.exists()
    name = make_url(url).database
    engine = _pg_admin(url)
    with engine.connect() as connection:
        found = connection.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
        ).first()
    engine.dispose()
    return found is not None


def drop_database(kind: str, url: str) -> None:
    if kind == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(f"{SQLITE_PATH}{suffix}").unlink(missing_ok=True)
        return
    name = make_url(url).database
    engine = _pg_admin(url)
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


def create_database(kind: str, url: str) -> None:
    if kind == "sqlite":
        SQLITE_PATH.parent.mkdir(parents=True, exist_ok=True)
        return
    name = make_url(url).database
    engine = _pg_admin(url)
    with engine.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()


def prepare(kind: str, url: str, fresh: bool, states: int, cycles: int) -> str:
    """Make the bench database ready; returns which data it holds ("bench" or "demo")."""
    if fresh:
        drop_database(kind, url)
    new = not database_exists(kind, url)
    if new:
        create_database(kind, url)
    print("migrating…", flush=True)
    flask(url, "db", "upgrade")
    if new:
        flask(url, "seed")
        started = time.perf_counter()
        if has_bench_command(url):
            print(f"bench seed --states {states} --cycles {cycles}…", flush=True)
            print(flask(url, "bench", "seed", "--states", str(states), "--cycles", str(cycles)))
        else:  # the full-size seed is not on this branch yet: the 8-state demo
            print("no `flask bench seed` here: loading the demo data", flush=True)
            flask(url, "demo")
        print(f"data loaded in {time.perf_counter() - started:.0f} s", flush=True)
    if kind == "sqlite":
        engine = create_engine(url)
        with engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA journal_mode=WAL")
            connection.exec_driver_sql("ANALYZE")
        engine.dispose()
    else:
        engine = create_engine(url, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.exec_driver_sql("ANALYZE")
        engine.dispose()
    return "bench" if _bench_users_exist(url) else "demo"


def _bench_users_exist(url: str) -> bool:
    engine = create_engine(url)
    with engine.connect() as connection:
        found = connection.execute(
            text("SELECT 1 FROM user_account WHERE email LIKE '%@bench.test'")
        ).first()
    engine.dispose()
    return found is not None


# --- what to measure ---------------------------------------------------------------------------


@dataclass
class Targets:
    """The identities and ids the pages need, found in the database."""

    password: str
    secretariat: str
    focal_point: str
    cycle_id: int
    review_id: int
    public_query: str
    counts: dict = field(default_factory=dict)


def find_targets(url: str, data: str) -> Targets:
    """The accounts and ids to measure: `flask bench accounts` (the latest bench cycle, a review
    in follow-up, its focal point) or, on demo data, the demo's; and public-search filters (the
    review's regional group, the section with most recommendations, supported) that match."""
    if data == "bench":
        accounts = json.loads(flask(url, "bench", "accounts"))
        password = accounts["password"]
        secretariat, focal = accounts["secretariat"], accounts["focal_point"]
        cycle_id, review_id = accounts["cycle_id"], accounts["review_id"]
    else:
        password, secretariat, focal, cycle_id, review_id = DEMO_PASSWORD, None, None, None, None
    engine = create_engine(url)
    with engine.connect() as connection:

        def one(sql: str, **params):
            row = connection.execute(text(sql), params).first()
            if row is None:
                sys.exit(f"benchmark data incomplete: nothing for {sql!r}")
            return row

        if data == "demo":
            secretariat = one("SELECT email FROM user_account WHERE role = 'secretariat'")[0]
            cycle_id = one("SELECT MAX(cycle_id) FROM review")[0]
            # the focal point of a review with recommendations: the fullest home and review page
            focal, review_id = one(
                "SELECT u.email, r.id FROM user_account u JOIN review r ON r.state_id = u.state_id "
                "WHERE u.role = 'focal_point' AND r.cycle_id = :c AND EXISTS "
                "(SELECT 1 FROM recommendation rec WHERE rec.review_id = r.id) "
                "ORDER BY r.status DESC, r.id",
                c=cycle_id,
            )
        group = one(
            "SELECT s.regional_group FROM review r JOIN state s ON s.id = r.state_id "
            "WHERE r.id = :r",
            r=review_id,
        )[0]
        section = one(
            "SELECT sec.code FROM recommendation rec "
            "JOIN framework_section sec ON sec.id = rec.section_id "
            "GROUP BY sec.code ORDER BY COUNT(*) DESC, sec.code"
        )[0]
        counts = {
            table: connection.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar()  # noqa: S608  # nosec B608
            for table in (
                "review",
                "recommendation",
                "response",
                "assessment",
                "progress_update",
                "transition_log",
                "assignment",
                "user_account",
            )
        }
    engine.dispose()
    return Targets(
        password=password,
        secretariat=secretariat,
        focal_point=focal,
        cycle_id=cycle_id,
        review_id=review_id,
        public_query=f"group={requests.utils.quote(group)}&section={section}&response=supported",
        counts=counts,
    )


@dataclass
class Page:
    name: str
    path: str
    who: str | None  # "secretariat", "focal_point" or None (anonymous)
    floor: bool = False


def pages(t: Targets) -> list[Page]:
    return [
        Page("floor (one SQL aggregate)", f"/floor?cycle={t.cycle_id}", None, floor=True),
        Page("cycle dashboard", f"/admin/cycles/{t.cycle_id}/dashboard", "secretariat"),
        Page("review page", f"/reviews/{t.review_id}", "secretariat"),
        Page("focal point home", "/home", "focal_point"),
        Page("public search, filtered", f"/public/recommendations?{t.public_query}", None),
        Page("CSV export, all", "/recommendations/export.csv", "secretariat"),
    ]


# --- servers -----------------------------------------------------------------------------------


def free(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


def start_gunicorn(target: str, port: int, url: str, worker_class: str, threads: int):
    if not free(port):
        sys.exit(f"port {port} is taken; choose another with --port")
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "PILLARS_CONFIG": "development",  # production's Secure cookies need HTTPS
        "SECRET_KEY": SECRET_KEY,
        # the bench signs in 40 sessions from one address in a few seconds
        "LOGIN_RATE_LIMIT": "100000 per minute",
        "LOGIN_RATE_LIMIT_PER_ADDRESS": "100000 per hour",
    }
    command = [
        str(BIN / "gunicorn"),
        "--workers",
        "2",
        "--worker-class",
        worker_class,
        "--bind",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
        # idle connections stay open longer than a think time, as behind a proxy that keeps its
        # upstream connections alive; with the default 2 s a client reusing a connection the
        # server just closed sees a reset that a browser would silently retry
        "--keep-alive",
        "10",
    ]
    if worker_class == "gthread":
        command += ["--threads", str(threads)]
    process = subprocess.Popen(  # nosec B603 - fixed argument list
        [*command, target], cwd=ROOT, env=env, start_new_session=True
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"gunicorn {target} exited with {process.returncode}")
        if not free(port):
            time.sleep(0.5)
            return process
        time.sleep(0.2)
    stop(process)
    sys.exit(f"gunicorn {target} did not listen on {port}")


def stop(process) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


# --- the clients -------------------------------------------------------------------------------

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def sign_in(base: str, email: str, password: str) -> requests.Session:
    session = requests.Session()
    form = session.get(f"{base}/login", timeout=30)
    token = CSRF.search(form.text)
    if token is None:
        sys.exit("no CSRF token on the login form")
    answer = session.post(
        f"{base}/login",
        data={"csrf_token": token.group(1), "email": email, "password": password},
        timeout=30,
        allow_redirects=False,
    )
    if answer.status_code != 302 or "/login" in answer.headers.get("Location", "/login"):
        sys.exit(f"could not sign in as {email}: {answer.status_code}")
    return session


def timed_get(session: requests.Session, url: str) -> tuple[float, int]:
    started = time.perf_counter()
    try:
        answer = session.get(url, timeout=120, allow_redirects=False)
        answer.content  # noqa: B018 - read the whole body: an export is timed to its last byte
        status = answer.status_code
    except requests.RequestException:
        status = 0
    return (time.perf_counter() - started) * 1000, status


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile: the smallest value with ``share`` of the values at or below."""
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, math.ceil(share * len(ordered)) - 1))
    return ordered[index]


@dataclass
class Result:
    name: str
    path: str
    single_median: float = 0.0
    single_p95: float = 0.0
    multi_median: float = 0.0
    multi_p95: float = 0.0
    multi_throughput: float = 0.0
    requests: int = 0
    errors: int = 0
    error_statuses: dict = field(default_factory=dict)  # status (0: no answer) → count
    bytes: int = 0
    floor_ratio: float | None = None
    multi_ratio: float | None = None


def measure(
    page: Page, base: str, sessions: dict, n: int, users: int, rounds: int, think: float
) -> Result:
    url = base + page.path
    result = Result(page.name, page.path)
    own = sessions[page.who][0] if page.who else requests.Session()
    for _ in range(3):  # warm-up: every worker's caches, the database's pages
        _ms, status = timed_get(own, url)
    result.bytes = len(own.get(url, timeout=120).content)
    singles: list[float] = []
    bad = result.error_statuses

    def record(status: int) -> None:
        if status != 200:
            bad[status] = bad.get(status, 0) + 1

    for _ in range(n):
        ms, status = timed_get(own, url)
        singles.append(ms)
        record(status)
    result.single_median = statistics.median(singles)
    result.single_p95 = percentile(singles, 0.95)

    multis: list[float] = []
    lock = threading.Lock()
    barrier = threading.Barrier(users)

    def user(index: int) -> None:
        session = sessions[page.who][index] if page.who else requests.Session()
        rng = random.Random(index)  # nosec B311 - think times, not secrets
        barrier.wait()
        time.sleep(rng.uniform(0, think))  # users arrive over one think time, not in one burst
        for _ in range(rounds):
            ms, status = timed_get(session, url)
            with lock:
                multis.append(ms)
                record(status)
            time.sleep(rng.uniform(0.5 * think, 1.5 * think))

    started = time.perf_counter()
    workers = [threading.Thread(target=user, args=(i,)) for i in range(users)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - started
    result.multi_median = statistics.median(multis)
    result.multi_p95 = percentile(multis, 0.95)
    result.multi_throughput = len(multis) / elapsed
    result.requests = n + len(multis)
    result.errors = sum(bad.values())
    result.multi_ratio = result.multi_p95 / result.single_p95
    return result


# --- the machine -------------------------------------------------------------------------------


def machine(url: str) -> dict:
    cpu = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    engine = create_engine(url)
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            version = "SQLite " + connection.exec_driver_sql("select sqlite_version()").scalar()
        else:
            version = connection.exec_driver_sql("select version()").scalar().split(" on ")[0]
    engine.dispose()
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "database": version,
        "os": platform.platform(),
    }


# --- output ------------------------------------------------------------------------------------


def _errors(result: Result) -> str:
    if not result.errors:
        return "0"
    return (
        f"{result.errors} ("
        + ", ".join(f"{n}× {s}" for s, n in result.error_statuses.items())
        + ")"
    )


def table(results: list[Result]) -> str:
    head = (
        "| page | 1 user median ms | 1 user p95 ms | × floor | 20 users median ms "
        "| 20 users p95 ms | p95 ÷ 1-user p95 | req/s | errors | KiB |"
    )
    lines = [head, "|" + "---|" * 10]
    for r in results:
        lines.append(
            f"| {r.name} | {r.single_median:.1f} | {r.single_p95:.1f} | "
            f"{r.floor_ratio:.2f} | {r.multi_median:.1f} | {r.multi_p95:.1f} | "
            f"{r.multi_ratio:.2f} | {r.multi_throughput:.1f} | {_errors(r)} | {r.bytes // 1024} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--fresh", action="store_true", help="rebuild the bench database")
    parser.add_argument("--states", type=int, default=193)
    parser.add_argument("--cycles", type=int, default=3)
    parser.add_argument("--requests", type=int, default=30, help="single-user requests a page")
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5, help="requests per user per page")
    parser.add_argument("--think", type=float, default=2.0, help="mean think time, seconds")
    parser.add_argument("--worker-class", default="gthread", choices=("sync", "gthread"))
    parser.add_argument("--threads", type=int, default=4, help="threads per gthread worker")
    parser.add_argument("--port", type=int, default=5064, help="app port; the floor uses +1")
    parser.add_argument(
        "--only", default="", help="comma-separated: measure only pages whose name contains one"
    )
    parser.add_argument("--no-save", action="store_true", help="do not write bench/results/")
    args = parser.parse_args(argv)

    load_at_start = [round(x, 2) for x in os.getloadavg()]
    url = database_url(args.db)
    data = prepare(args.db, url, args.fresh, args.states, args.cycles)
    targets = find_targets(url, data)
    print(f"data: {data}; rows: {targets.counts}", flush=True)

    app_server = start_gunicorn("wsgi:app", args.port, url, args.worker_class, args.threads)
    floor_server = start_gunicorn("bench.floor:app", args.port + 1, url, "sync", 1)
    try:
        base = f"http://127.0.0.1:{args.port}"
        floor_base = f"http://127.0.0.1:{args.port + 1}"
        sessions = {
            who: [sign_in(base, email, targets.password) for _ in range(args.users)]
            for who, email in (
                ("secretariat", targets.secretariat),
                ("focal_point", targets.focal_point),
            )
        }
        results = []
        for page in pages(targets):
            wanted = [word for word in args.only.split(",") if word]
            if wanted and not page.floor and not any(word in page.name for word in wanted):
                continue
            print(f"measuring {page.name}…", flush=True)
            results.append(
                measure(
                    page,
                    floor_base if page.floor else base,
                    sessions,
                    args.requests,
                    args.users,
                    args.rounds,
                    args.think,
                )
            )
    finally:
        stop(app_server)
        stop(floor_server)

    floor = results[0].single_median
    for result in results:
        result.floor_ratio = result.single_median / floor
    about = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {**machine(url), "load_average_at_start": load_at_start},
        "data": data,
        "rows": targets.counts,
        "server": f"gunicorn 2 workers, {args.worker_class}"
        + (f" × {args.threads} threads" if args.worker_class == "gthread" else ""),
        "method": {
            "single_user_requests": args.requests,
            "users": args.users,
            "rounds_per_user": args.rounds,
            "think_time_s": args.think,
        },
    }
    text_table = table(results)
    m = about["machine"]
    summary = (
        f"{about['date']} — {data} data ({targets.counts['review']} reviews, "
        f"{targets.counts['recommendation']} recommendations) on {m['database']}; "
        f"{about['server']}; {m['cpu']}, {m['cores']} cores, load average (1, 5, 15 min) "
        f"{' '.join(map(str, load_at_start))} at start, "
        f"{' '.join(map(str, m['load_average']))} at end; Python {m['python']}. "
        f"{args.users} users: {args.rounds} requests each, think time {args.think} s ±50 %."
    )
    print()
    print(summary)
    print(text_table)
    if not args.no_save:
        RESULTS.mkdir(exist_ok=True)
        stem = RESULTS / f"{args.db}-{datetime.now(UTC):%Y-%m-%d}"
        stem.with_suffix(".json").write_text(
            json.dumps({**about, "results": [asdict(r) for r in results]}, indent=2) + "\n"
        )
        stem.with_suffix(".md").write_text(f"{summary}\n\n{text_table}\n")
        print(f"\nwritten: {stem.relative_to(ROOT)}.json, .md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
