"""The Pillars benchmark: key pages under gunicorn against a floor, interleaved, then under load.

Run by hand (not a test): ``make bench`` (SQLite) or ``make bench-postgres``, i.e.::

    .venv/bin/python bench/run.py --db sqlite|postgres [--fresh] [--cycles 10] [--baseline 1]

What it does, in order (issue 20):

1. Prepares its own databases: SQLite ``instance/bench-c<cycles>.sqlite`` or the PostgreSQL
   database ``<name>_c<cycles>`` at ``BENCH_PG_URL`` (default ``pillars_bench``); never the
   server's ``postgres`` database (databases are created and dropped through ``template1``).
   ``flask db upgrade``, ``flask seed`` and ``flask bench seed --states 193 --cycles N`` the first
   time; later runs reuse it (``--fresh`` rebuilds it); migrations are applied every time. With
   ``--baseline 1`` a second database with one cycle of history is prepared and served too, so
   the dashboard and the public search are timed at 1 and at N cycles in the same rounds.
2. Starts the app under gunicorn (``--workers``, default gunicorn's recommendation for the
   machine, 2 × cores + 1; ``--worker-class`` gthread with 4 threads) and the floor
   (`bench/floor.py`: the dashboard's figures from one hand-written SQL statement), on free local
   ports (``--port 0``, the default) or the ones given (a taken port fails cleanly). Everything
   it started is stopped on any exit: success, failure, Ctrl-C or SIGTERM.
3. Signs in and warms every page up.
4. **Single user, interleaved**: ``--requests`` rounds; each round requests the floor, every
   page and the database's own CSV of the export's rows (``COPY … TO STDOUT CSV`` /
   ``sqlite3 -csv``) once, in a shuffled order, so load drift on a shared machine lands on all
   of them alike. Median and p95 of each; "× floor" divides a page's median by the floor's
   median; the export's "× database CSV" divides by the database's own CSV's median.
5. **Export memory**: one full CSV export alone, then ``--exports`` at once; before each, every
   worker's peak resident memory is reset (``/proc/<pid>/clear_refs``), so the rise of the
   busiest worker's peak (``VmHWM``) above its resident memory then is the exports' own.
6. **Load**: ``--users`` signed-in users (default 100) for ``--load-seconds``; each requests the
   load pages (every page but the full export, unless ``--load-export``) in turn with a think
   time uniform in [``--think-min``, ``--think-max``] seconds. p95 per page divided by its
   single-user p95 (target ≤ 3), errors (any answer but 200; ``0`` = no answer).
7. Prints a table and writes it with the machine (CPU, cores, load average sampled at every
   phase, Python, database version) and the commit to ``bench/results/<db>-c<N>-<time>.json``
   and ``.md``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import platform
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess  # nosec B404 - runs this repository's own flask and gunicorn, sqlite3, git
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import requests
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python bench/run.py` puts bench/ first, not the repository
    sys.path.insert(0, str(ROOT))

from bench.db_csv import database_csv  # noqa: E402

BIN = Path(sys.executable).parent
RESULTS = ROOT / "bench" / "results"
PG_URL = os.environ.get(
    "BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/pillars_bench"
)
#: Databases of the server the runner never uses for its own work.
SERVER_DATABASES = ("postgres", "template0", "template1")
#: Without `flask bench seed` (bench/data.py) the runner measures the demo.
DEMO_PASSWORD = "demo-password"  # noqa: S105 - the demo's published password
SECRET_KEY = "bench-only-" + "x" * 32  # a throwaway key of a local benchmark run


class BenchError(RuntimeError):
    """The run cannot go on; the message says why. Everything started is stopped first."""


# --- the database ------------------------------------------------------------------------------


def database_url(kind: str, cycles: int, pg_url: str = PG_URL) -> str:
    """The bench database of ``cycles`` cycles of history: its own file or database.

    Raises:
        BenchError: when ``BENCH_PG_URL`` names one of the server's own databases.
    """
    if kind == "sqlite":
        return f"sqlite:///{ROOT / 'instance' / f'bench-c{cycles}.sqlite'}"
    base = make_url(pg_url)
    if base.database in SERVER_DATABASES:
        raise BenchError(f"BENCH_PG_URL names the server's {base.database!r} database")
    return base.set(database=f"{base.database}_c{cycles}").render_as_string(hide_password=False)


def _sqlite_path(url: str) -> Path:
    return Path(make_url(url).database)


def flask(url: str, *args: str) -> str:
    """Run ``flask --app wsgi ARGS`` on the bench database; its output.

    Raises:
        BenchError: with flask's output when it fails.
    """
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
        raise BenchError(f"flask {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def _pg_admin(url: str):
    """An engine on ``template1``: creating and dropping databases needs a connection to another
    one, and the server's ``postgres`` database is left to its owners."""
    admin = make_url(url).set(database="template1")
    return create_engine(admin, isolation_level="AUTOCOMMIT")


def database_exists(kind: str, url: str) -> bool:
    if kind == "sqlite":
        return _sqlite_path(url).exists()
    engine = _pg_admin(url)
    try:
        with engine.connect() as connection:
            found = connection.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"),
                {"name": make_url(url).database},
            ).first()
    finally:
        engine.dispose()
    return found is not None


def drop_database(kind: str, url: str) -> None:
    if kind == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(f"{_sqlite_path(url)}{suffix}").unlink(missing_ok=True)
        return
    name = make_url(url).database
    if name in SERVER_DATABASES:  # never, whatever the URL
        raise BenchError(f"refusing to drop {name!r}")
    engine = _pg_admin(url)
    try:
        with engine.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        engine.dispose()


def create_database(kind: str, url: str) -> None:
    if kind == "sqlite":
        _sqlite_path(url).parent.mkdir(parents=True, exist_ok=True)
        return
    engine = _pg_admin(url)
    try:
        with engine.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{make_url(url).database}"'))
    finally:
        engine.dispose()


def prepare(kind: str, url: str, fresh: bool, states: int, cycles: int) -> str:
    """Make the bench database ready; returns which data it holds ("bench" or "demo")."""
    if fresh:
        drop_database(kind, url)
    new = not database_exists(kind, url)
    if new:
        create_database(kind, url)
    print(f"migrating {make_url(url).database}…", flush=True)
    flask(url, "db", "upgrade")
    if new:
        flask(url, "seed")
        started = time.perf_counter()
        print(f"bench seed --states {states} --cycles {cycles}…", flush=True)
        print(flask(url, "bench", "seed", "--states", str(states), "--cycles", str(cycles)))
        print(f"data loaded in {time.perf_counter() - started:.0f} s", flush=True)
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            if kind == "sqlite":
                connection.exec_driver_sql("PRAGMA journal_mode=WAL")
            connection.exec_driver_sql("ANALYZE")
    finally:
        engine.dispose()
    return "bench" if _bench_users_exist(url) else "demo"


def _bench_users_exist(url: str) -> bool:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            found = connection.execute(
                text("SELECT 1 FROM user_account WHERE email LIKE '%@bench.test'")
            ).first()
    finally:
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
    try:
        with engine.connect() as connection:

            def one(sql: str, **params):
                row = connection.execute(text(sql), params).first()
                if row is None:
                    raise BenchError(f"benchmark data incomplete: nothing for {sql!r}")
                return row

            if data == "demo":
                secretariat = one("SELECT email FROM user_account WHERE role = 'secretariat'")[0]
                cycle_id = one("SELECT MAX(cycle_id) FROM review")[0]
                focal, review_id = one(
                    "SELECT u.email, r.id FROM user_account u JOIN review r "
                    "ON r.state_id = u.state_id WHERE u.role = 'focal_point' AND r.cycle_id = :c "
                    "AND EXISTS (SELECT 1 FROM recommendation rec WHERE rec.review_id = r.id) "
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
                    "cycle",
                    "review",
                    "recommendation",
                    "response",
                    "assessment",
                    "progress_update",
                    "publication_consent",
                    "transition_log",
                    "assignment",
                    "user_account",
                )
            }
    finally:
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
    """One thing timed: a GET on ``base + path`` (``who`` signs in, None = anonymous), or
    ``call`` (a function returning the bytes it produced) for the database's own CSV."""

    name: str
    path: str = ""
    who: str | None = None
    base: str = ""
    call: Callable[[], int] | None = None
    load: bool = True  # requested by the load phase's users


def pages(t: Targets, base: str, floor_base: str, url: str, load_export: bool) -> list[Page]:
    return [
        Page("floor (one SQL aggregate)", f"/floor?cycle={t.cycle_id}", None, floor_base),
        Page("cycle dashboard", f"/admin/cycles/{t.cycle_id}/dashboard", "secretariat", base),
        Page("review page", f"/reviews/{t.review_id}", "secretariat", base),
        Page("focal point home", "/home", "focal_point", base),
        Page("public search, filtered", f"/public/recommendations?{t.public_query}", None, base),
        Page(
            "CSV export, all",
            "/recommendations/export.csv",
            "secretariat",
            base,
            load=load_export,
        ),
        Page("database's own CSV, same rows", call=lambda: database_csv(url), load=False),
    ]


def baseline_pages(t: Targets, base: str, cycles: int) -> list[Page]:
    """The pages whose time should not grow with history, on the ``cycles``-cycle database."""
    return [
        Page(
            f"cycle dashboard ({cycles} cycle)",
            f"/admin/cycles/{t.cycle_id}/dashboard",
            "secretariat@base",
            base,
            load=False,
        ),
        Page(
            f"public search, filtered ({cycles} cycle)",
            f"/public/recommendations?{t.public_query}",
            None,
            base,
            load=False,
        ),
    ]


# --- servers -----------------------------------------------------------------------------------


def free(port: int) -> bool:
    """True when nothing listens on 127.0.0.1:``port``."""
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


def free_port() -> int:
    """A port the system says is free on 127.0.0.1 now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def recommended_workers() -> int:
    """gunicorn's recommendation: 2 × cores + 1."""
    return 2 * (os.cpu_count() or 1) + 1


class Servers:
    """The gunicorn servers this run started; leaving the ``with`` block stops every one of them
    (and their workers: each runs in its own process group), whatever ended the block. SIGTERM
    and SIGHUP are turned into SystemExit while inside, so a killed run cleans up too."""

    def __init__(self) -> None:
        self.processes: list[subprocess.Popen] = []
        self._previous: dict = {}

    def __enter__(self) -> Servers:
        for sig in (signal.SIGTERM, signal.SIGHUP):
            self._previous[sig] = signal.signal(sig, _exit_on_signal)
        return self

    def __exit__(self, *_exc) -> None:
        self.stop_all()
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)

    def stop_all(self) -> None:
        while self.processes:
            stop(self.processes.pop())

    def start(
        self,
        target: str,
        port: int,
        url: str,
        *,
        workers: int,
        worker_class: str = "sync",
        threads: int = 1,
        extra_env: dict | None = None,
    ) -> subprocess.Popen:
        """Start gunicorn serving ``target`` on 127.0.0.1:``port`` and wait until it listens.

        Raises:
            BenchError: the port is taken, gunicorn exited, or it did not listen within 30 s
                (the process is stopped before raising).
        """
        if not free(port):
            raise BenchError(f"port {port} is taken; choose another with --port (0: any free)")
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "PILLARS_CONFIG": "development",  # production's Secure cookies need HTTPS
            "SECRET_KEY": SECRET_KEY,
            # the bench signs in hundreds of sessions from one address in a few seconds
            "LOGIN_RATE_LIMIT": "100000 per minute",
            "LOGIN_RATE_LIMIT_PER_ADDRESS": "100000 per hour",
            **(extra_env or {}),
        }
        command = [
            str(BIN / "gunicorn"),
            "--workers",
            str(workers),
            "--worker-class",
            worker_class,
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            # idle connections outlive a think time, as behind a proxy keeping its upstream
            # connections alive
            "--keep-alive",
            "10",
            "--timeout",
            "120",
        ]
        if worker_class == "gthread":
            command += ["--threads", str(threads)]
        process = subprocess.Popen(  # nosec B603 - fixed argument list
            [*command, target], cwd=ROOT, env=env, start_new_session=True
        )
        self.processes.append(process)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise BenchError(f"gunicorn {target} exited with {process.returncode}")
            if not free(port) and len(worker_pids(process)) >= workers:
                time.sleep(0.3)
                return process
            time.sleep(0.2)
        raise BenchError(f"gunicorn {target} did not listen on {port}")


def _exit_on_signal(signum, _frame):
    raise SystemExit(f"stopped by signal {signum}")


def stop(process: subprocess.Popen) -> None:
    """Stop ``process`` and its process group (SIGTERM, then SIGKILL after 10 s)."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(5)
    except ProcessLookupError:
        pass


def worker_pids(process: subprocess.Popen) -> list[int]:
    """The gunicorn master's worker processes (Linux ``/proc``; empty elsewhere)."""
    try:
        children = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text()
    except OSError:
        return []
    return [int(pid) for pid in children.split()]


def memory_kib(pid: int) -> dict[str, int]:
    """``VmRSS`` (resident now) and ``VmHWM`` (peak resident) of ``pid`` in KiB; {} if gone."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return {}
    found = {}
    for line in lines:
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            found[key] = int(value.split()[0])
    return found


def reset_peak(pid: int) -> int:
    """Reset ``pid``'s peak resident memory (Linux: "5" into ``/proc/<pid>/clear_refs``) and
    return its resident memory now, KiB (0 when it cannot be read)."""
    with contextlib.suppress(OSError):
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    return memory_kib(pid).get("VmRSS", 0)


def peak_above(before: dict[int, int]) -> int:
    """The largest rise of a worker's peak memory over its memory in ``before`` (pid → KiB)."""
    return max(
        (memory_kib(pid).get("VmHWM", 0) - rss for pid, rss in before.items() if rss), default=0
    )


# --- the clients -------------------------------------------------------------------------------

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def sign_in(base: str, email: str, password: str) -> requests.Session:
    session = requests.Session()
    form = session.get(f"{base}/login", timeout=60)
    token = CSRF.search(form.text)
    if token is None:
        raise BenchError("no CSRF token on the login form")
    answer = session.post(
        f"{base}/login",
        data={"csrf_token": token.group(1), "email": email, "password": password},
        timeout=60,
        allow_redirects=False,
    )
    if answer.status_code != 302 or "/login" in answer.headers.get("Location", "/login"):
        raise BenchError(f"could not sign in as {email}: {answer.status_code}")
    return session


def timed(page: Page, session: requests.Session | None) -> tuple[float, int, int]:
    """(milliseconds, HTTP status or 0 when no answer, bytes) of one request of ``page``."""
    started = time.perf_counter()
    if page.call is not None:
        size = page.call()
        return (time.perf_counter() - started) * 1000, 200, size
    try:
        answer = session.get(page.base + page.path, timeout=120, allow_redirects=False)
        size = len(answer.content)  # the whole body: an export is timed to its last byte
        status = answer.status_code
    except requests.RequestException:
        status, size = 0, 0
    return (time.perf_counter() - started) * 1000, status, size


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
    load_median: float | None = None
    load_p95: float | None = None
    load_requests: int = 0
    requests: int = 0
    errors: int = 0
    error_statuses: dict = field(default_factory=dict)  # status (0: no answer) → count
    bytes: int = 0
    floor_ratio: float | None = None
    load_ratio: float | None = None
    note: str = ""

    def record(self, status: int) -> None:
        self.requests += 1
        if status != 200:
            self.errors += 1
            self.error_statuses[status] = self.error_statuses.get(status, 0) + 1


def interleaved(
    page_list: list[Page], sessions: dict, rounds: int, warmup: int = 2
) -> dict[str, Result]:
    """Single user: ``rounds`` rounds, each timing every page once in a shuffled order."""
    results = {page.name: Result(page.name, page.path) for page in page_list}
    times: dict[str, list[float]] = {page.name: [] for page in page_list}
    anonymous = requests.Session()
    rng = random.Random(20)  # nosec B311 - an order of requests, not a secret
    for number in range(warmup + rounds):
        order = list(page_list)
        rng.shuffle(order)
        for page in order:
            session = sessions[page.who][0] if page.who else anonymous
            ms, status, size = timed(page, session)
            if number < warmup:
                results[page.name].bytes = size
                continue
            times[page.name].append(ms)
            results[page.name].record(status)
    for name, values in times.items():
        results[name].single_median = statistics.median(values)
        results[name].single_p95 = percentile(values, 0.95)
    return results


def concurrent_exports(page: Page, sessions: dict, count: int) -> list[float]:
    """``count`` requests of ``page`` at once (distinct sessions); their times in ms."""
    with ThreadPoolExecutor(count) as pool:
        done = list(
            pool.map(
                lambda i: timed(page, sessions[page.who][i % len(sessions[page.who])]), range(count)
            )
        )
    return [ms for ms, _status, _size in done]


def load(
    page_list: list[Page],
    sessions: dict,
    results: dict[str, Result],
    users: int,
    seconds: float,
    think: tuple[float, float],
) -> float:
    """``users`` users for ``seconds``: each requests the pages in turn (from a random one) with
    a think time uniform in ``think`` between requests; per-page median and p95 into
    ``results``. Returns the requests per second served."""
    times: dict[str, list[float]] = {page.name: [] for page in page_list}
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def user(index: int) -> None:
        rng = random.Random(index)  # nosec B311 - think times, not secrets
        time.sleep(rng.uniform(0, think[1]))  # users arrive over a think time, not at once
        anonymous = requests.Session()
        turn = rng.randrange(len(page_list))
        while time.monotonic() < stop_at:
            page = page_list[turn % len(page_list)]
            turn += 1
            session = sessions[page.who][index % len(sessions[page.who])] if page.who else anonymous
            ms, status, _size = timed(page, session)
            with lock:
                times[page.name].append(ms)
                results[page.name].record(status)
            time.sleep(rng.uniform(*think))

    started = time.perf_counter()
    threads = [threading.Thread(target=user, args=(i,), daemon=True) for i in range(users)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + 180)  # bounded: a request times out after 120 s
    elapsed = time.perf_counter() - started
    total = 0
    for name, values in times.items():
        if values:
            result = results[name]
            result.load_median = statistics.median(values)
            result.load_p95 = percentile(values, 0.95)
            result.load_requests = len(values)
            result.load_ratio = result.load_p95 / result.single_p95
            total += len(values)
    return total / elapsed


# --- the machine -------------------------------------------------------------------------------


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def commit() -> str:
    """The checked-out commit, ``+dirty`` when the work tree has changes; "?" without git."""
    git = shutil.which("git")
    if git is None:
        return "?"
    head = subprocess.run(  # nosec B603 - fixed argument list
        [git, "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    dirty = subprocess.run(  # nosec B603 - fixed argument list
        [git, "status", "--porcelain", "--untracked-files=no"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    ).stdout.strip()
    return (head or "?") + ("+dirty" if dirty else "")


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
    try:
        with engine.connect() as connection:
            if engine.dialect.name == "sqlite":
                version = "SQLite " + connection.exec_driver_sql("select sqlite_version()").scalar()
            else:
                version = connection.exec_driver_sql("select version()").scalar().split(" on ")[0]
    finally:
        engine.dispose()
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
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


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}"


def _ratio(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def table(results: list[Result], users: int) -> str:
    head = (
        f"| page | 1 user median ms | 1 user p95 ms | × floor | {users} users median ms "
        f"| {users} users p95 ms | p95 ÷ 1-user p95 | requests | errors | KiB | note |"
    )
    lines = [head, "|" + "---|" * 11]
    for r in results:
        lines.append(
            f"| {r.name} | {r.single_median:.1f} | {r.single_p95:.1f} | {_ratio(r.floor_ratio)} "
            f"| {_ms(r.load_median)} | {_ms(r.load_p95)} | {_ratio(r.load_ratio)} "
            f"| {r.requests} | {_errors(r)} | {r.bytes // 1024} | {r.note} |"
        )
    return "\n".join(lines)


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--fresh", action="store_true", help="rebuild the bench database(s)")
    parser.add_argument("--states", type=int, default=193)
    parser.add_argument("--cycles", type=int, default=10, help="cycles of history")
    parser.add_argument(
        "--baseline", type=int, default=0, help="also time dashboard and search at this many cycles"
    )
    parser.add_argument("--requests", type=int, default=30, help="interleaved single-user rounds")
    parser.add_argument("--exports", type=int, default=4, help="full CSV exports at once")
    parser.add_argument("--users", type=int, default=100, help="load: signed-in users (0: none)")
    parser.add_argument("--load-seconds", type=float, default=60.0)
    parser.add_argument("--think-min", type=float, default=1.0)
    parser.add_argument("--think-max", type=float, default=3.0)
    parser.add_argument("--load-export", action="store_true", help="users also export all")
    parser.add_argument("--workers", type=int, default=recommended_workers())
    parser.add_argument("--worker-class", default="gthread", choices=("sync", "gthread"))
    parser.add_argument("--threads", type=int, default=4, help="threads per gthread worker")
    parser.add_argument("--port", type=int, default=0, help="app port (0: any free); floor +1")
    parser.add_argument("--no-save", action="store_true", help="do not write bench/results/")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    try:
        return run(args)
    except BenchError as error:
        print(f"bench: {error}", file=sys.stderr)
        return 2


def run(args: argparse.Namespace) -> int:
    loads = {"start": load_average()}
    url = database_url(args.db, args.cycles)
    data = prepare(args.db, url, args.fresh, args.states, args.cycles)
    targets = find_targets(url, data)
    print(f"data: {data}; rows: {targets.counts}", flush=True)
    base_url = base_targets = None
    if args.baseline:
        base_url = database_url(args.db, args.baseline)
        base_data = prepare(args.db, base_url, args.fresh, args.states, args.baseline)
        base_targets = find_targets(base_url, base_data)
        print(f"baseline rows: {base_targets.counts}", flush=True)
    loads["prepared"] = load_average()

    port = args.port or free_port()
    floor_port = args.port + 1 if args.port else free_port()
    with Servers() as servers:
        app_server = servers.start(
            "wsgi:app",
            port,
            url,
            workers=args.workers,
            worker_class=args.worker_class,
            threads=args.threads,
        )
        servers.start("bench.floor:app", floor_port, url, workers=2)
        base = f"http://127.0.0.1:{port}"
        page_list = pages(targets, base, f"http://127.0.0.1:{floor_port}", url, args.load_export)
        users = max(1, args.users)
        with ThreadPoolExecutor(8) as pool:  # sign-ins hash passwords: in parallel
            sessions = {
                who: list(
                    pool.map(lambda _i, e=email: sign_in(base, e, targets.password), range(users))
                )
                for who, email in (
                    ("secretariat", targets.secretariat),
                    ("focal_point", targets.focal_point),
                )
            }
        if base_targets is not None:
            base_port = free_port()
            servers.start(
                "wsgi:app",
                base_port,
                base_url,
                workers=args.workers,
                worker_class=args.worker_class,
                threads=args.threads,
            )
            base_base = f"http://127.0.0.1:{base_port}"
            sessions["secretariat@base"] = [
                sign_in(base_base, base_targets.secretariat, base_targets.password)
            ]
            page_list += baseline_pages(base_targets, base_base, args.baseline)

        print(f"interleaved single-user rounds ({args.requests})…", flush=True)
        loads["single_start"] = load_average()
        by_name = interleaved(page_list, sessions, args.requests)
        loads["single_end"] = load_average()

        # memory: each worker's peak is reset after the single-user rounds (every page served,
        # the caches warm), so what rises above it is the exports' own
        export = next(p for p in page_list if p.name == "CSV export, all")
        print(f"one export, then {args.exports} at once…", flush=True)
        before = {pid: reset_peak(pid) for pid in worker_pids(app_server)}
        alone = concurrent_exports(export, sessions, 1)
        peaks = {"one_export_kib": peak_above(before)}
        before = {pid: reset_peak(pid) for pid in worker_pids(app_server)}
        together = concurrent_exports(export, sessions, args.exports) if args.exports else []
        peaks[f"{args.exports}_exports_at_once_kib"] = peak_above(before)
        loads["exports_end"] = load_average()

        throughput = 0.0
        if args.users:
            print(f"load: {args.users} users for {args.load_seconds:.0f} s…", flush=True)
            throughput = load(
                [p for p in page_list if p.load],
                sessions,
                by_name,
                args.users,
                args.load_seconds,
                (args.think_min, args.think_max),
            )
            loads["load_end"] = load_average()

    results = list(by_name.values())
    floor = by_name["floor (one SQL aggregate)"].single_median
    for result in results:
        result.floor_ratio = result.single_median / floor
    own_csv = by_name["database's own CSV, same rows"].single_median
    export_result = by_name["CSV export, all"]
    export_result.note = f"{export_result.single_median / own_csv:.2f} × the database's CSV"
    for cycles_page in baseline_pages(base_targets, "", args.baseline) if base_targets else []:
        ten = by_name[cycles_page.name.rsplit(" (", 1)[0]]
        one = by_name[cycles_page.name]
        ten.note = (
            f"{(ten.single_median / one.single_median - 1) * 100:+.0f} % vs {args.baseline} cycle"
        )

    about = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": commit(),
        "machine": {**machine(url), "load_average": loads},
        "data": data,
        "cycles": args.cycles,
        "rows": targets.counts,
        "baseline": {"cycles": args.baseline, "rows": base_targets.counts}
        if base_targets
        else None,
        "server": f"gunicorn {args.workers} workers, {args.worker_class}"
        + (f" × {args.threads} threads" if args.worker_class == "gthread" else ""),
        "method": {
            "single_user_rounds": args.requests,
            "concurrent_exports": args.exports,
            "users": args.users,
            "load_seconds": args.load_seconds,
            "think_time_s": [args.think_min, args.think_max],
            "load_throughput_rps": round(throughput, 1),
        },
        "export_alone_ms": [round(ms) for ms in alone],
        "exports_at_once_ms": [round(ms) for ms in together],
        "export_peak_memory_above_warm_worker_kib": peaks,
    }
    text_table = table(results, args.users)
    m = about["machine"]
    one_mib, many_mib = (kib / 1024 for kib in peaks.values())
    summary = (
        f"{about['date']} (commit {about['commit']}) — {data} data, {args.cycles} cycles "
        f"({targets.counts['review']} reviews, {targets.counts['recommendation']} "
        f"recommendations) on {m['database']}; {about['server']}; {m['cpu']}, {m['cores']} "
        f"cores; load average (1, 5, 15 min) "
        + "; ".join(f"{k} {' '.join(map(str, v))}" for k, v in loads.items())
        + f"; Python {m['python']}. Single user: {args.requests} interleaved rounds. "
        f"Memory of the busiest worker above its warm resident size: one CSV export of all "
        f"({alone[0] / 1000:.1f} s) {one_mib:.0f} MiB; {args.exports} at once "
        f"({', '.join(f'{ms / 1000:.1f}' for ms in together)} s) {many_mib:.0f} MiB. "
        f"Load: {args.users} users for "
        f"{args.load_seconds:.0f} s, think time {args.think_min}–{args.think_max} s, "
        f"{throughput:.1f} requests/s."
    )
    print()
    print(summary)
    print(text_table)
    if not args.no_save:
        RESULTS.mkdir(exist_ok=True)
        stem = RESULTS / f"{args.db}-c{args.cycles}-{datetime.now(UTC):%Y-%m-%dT%H%M}"
        stem.with_suffix(".json").write_text(
            json.dumps({**about, "results": [asdict(r) for r in results]}, indent=2) + "\n"
        )
        stem.with_suffix(".md").write_text(f"{summary}\n\n{text_table}\n")
        print(f"\nwritten: {stem.relative_to(ROOT)}.json, .md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
