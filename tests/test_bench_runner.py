"""The benchmark runner (issue 20, target 6) stops every server it started whatever ends the run,
fails cleanly on a taken port, and never works in the server's own ``postgres`` database."""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import run  # noqa: E402


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie not yet reaped by its parent counts as gone
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def _floor_db(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'floor.sqlite'}"


def test_a_failure_inside_the_run_stops_the_servers_and_their_workers(tmp_path):
    port = run.free_port()
    with pytest.raises(RuntimeError, match="boom"), run.Servers() as servers:
        master = servers.start("bench.floor:app", port, _floor_db(tmp_path), workers=2)
        workers = run.worker_pids(master)
        assert len(workers) == 2 and all(_alive(pid) for pid in workers)
        raise RuntimeError("boom")
    assert master.poll() is not None
    assert not any(_alive(pid) for pid in workers)
    assert run.free(port)


def test_a_taken_port_fails_cleanly_and_stops_what_was_already_started(tmp_path):
    first, taken = run.free_port(), run.free_port()
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", taken))
        squatter.listen()
        with pytest.raises(run.BenchError, match=f"port {taken} is taken"), run.Servers() as s:
            started = s.start("bench.floor:app", first, _floor_db(tmp_path), workers=1)
            s.start("bench.floor:app", taken, _floor_db(tmp_path), workers=1)
    assert started.poll() is not None
    assert run.free(first)


def test_main_reports_a_bench_error_without_a_traceback(monkeypatch, capsys):
    monkeypatch.setattr(run, "PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")

    def refuse(*_args, **_kwargs):
        raise run.BenchError("no database")

    monkeypatch.setattr(run, "prepare", refuse)
    assert run.main(["--db", "sqlite", "--users", "0"]) == 2
    assert "bench: no database" in capsys.readouterr().err


def test_the_runner_uses_its_own_postgres_databases_never_the_servers():
    url = run.database_url("postgres", 10, "postgresql+psycopg://u@127.0.0.1:5432/pillars_bench")
    assert url.endswith("/pillars_bench_c10")
    with pytest.raises(run.BenchError, match="postgres"):
        run.database_url("postgres", 10, "postgresql+psycopg://u@127.0.0.1:5432/postgres")
    with pytest.raises(run.BenchError, match="refusing"):
        run.drop_database("postgres", "postgresql+psycopg://u@127.0.0.1:5432/template1")
