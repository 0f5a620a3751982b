"""The benchmark's yardstick for exports: the database's own CSV of the rows the CSV export of all
recommendations writes (issue 20, target 1).

`EXPORT_SQL` selects the export's 18 columns (`app.services.exports.COLUMNS`) for every
recommendation, in the export's order, from the recommendation's current rows (latest progress
and assessment kept on the recommendation, migration 0009). `database_csv` has the database
write it as CSV: PostgreSQL ``COPY (…) TO STDOUT WITH CSV HEADER`` read through psycopg,
SQLite the ``sqlite3 -csv -header`` shell. It returns the number of bytes produced; the runner
times it in the same rounds as the app's export.
"""

from __future__ import annotations

import shutil
import subprocess  # nosec B404 - the sqlite3 shell, a fixed argument list
from urllib.parse import unquote

from sqlalchemy.engine import make_url

EXPORT_SQL = """
SELECT c.name AS "Cycle", s.code AS "State code", s.name AS "State",
       sec.code || ' ' || sec.title AS "Section", rec.text AS "Recommendation",
       rec.priority AS "Priority", rec.action_category AS "Action category (UPR Info 1-5)",
       rec.addressee AS "Addressee", rec.target_date AS "Target date",
       resp.position AS "Response", resp.explanation AS "Explanation",
       resp.planned_action AS "Planned action",
       resp.responsible_institution AS "Responsible institution",
       resp.target_date AS "Response target date",
       rec.latest_progress_status AS "Latest progress",
       rec.latest_progress_at AS "Latest progress date (UTC)",
       rec.latest_assessment_status AS "Latest assessment",
       rec.latest_assessment_at AS "Latest assessment date (UTC)"
FROM recommendation rec
JOIN review r ON r.id = rec.review_id
JOIN cycle c ON c.id = r.cycle_id
JOIN state s ON s.id = r.state_id
JOIN framework_section sec ON sec.id = rec.section_id
LEFT JOIN response resp ON resp.recommendation_id = rec.id
ORDER BY c.starts_on DESC, s.name, sec.number, rec.id
"""


def database_csv(url: str) -> int:
    """Bytes of the database's CSV of `EXPORT_SQL` on ``url`` (SQLAlchemy URL, SQLite or
    PostgreSQL). Raises RuntimeError when the sqlite3 shell is missing or fails."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        shell = shutil.which("sqlite3")
        if shell is None:
            raise RuntimeError("the sqlite3 shell is not installed")
        done = subprocess.run(  # nosec B603 - fixed argument list
            [shell, "-readonly", "-csv", "-header", unquote(parsed.database), EXPORT_SQL],
            capture_output=True,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(done.stderr.decode(errors="replace"))
        return len(done.stdout)
    import psycopg

    conninfo = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
    size = 0
    statement = f"COPY ({EXPORT_SQL}) TO STDOUT WITH CSV HEADER"  # nosec B608 - a constant
    with (
        psycopg.connect(conninfo) as connection,
        connection.cursor() as cursor,
        cursor.copy(statement) as copy,
    ):
        for chunk in copy:
            size += len(chunk)
    return size
