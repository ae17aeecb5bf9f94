"""The demo (README command one): simulated GitHub -> Meltano -> DuckDB -> a summary for admins.

    python3 -m venv .venv && .venv/bin/pip install -e . -e ./devkit \
        && .venv/bin/python -m copilot_devkit.demo

It installs Meltano in a virtualenv of its own (Meltano pins many packages; keeping it apart from
the tap's environment means neither can break the other), lets `meltano install` build the tap
and target-duckdb (and dbt-duckdb), serves the GitHub API simulator on a free local port, runs
`meltano --environment=demo run tap-copilot-metrics target-duckdb dbt-duckdb:build` (the load,
then the KPI marts of transform/), and prints what a Copilot admin asks first, from the marts.
Run it again and Meltano's saved state makes the run incremental.

The end-to-end tests reuse the helpers below and check the summary queries against the
simulator's data.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from copilot_devkit.simulator import Simulator, SimulatorSettings

MELTANO_VERSION = "4.4.1"
#: The duckdb release target-duckdb runs with (meltano.yml); files are read with the same one.
DUCKDB_VERSION = "2.0.1"
EXTRACTOR = "tap-copilot-metrics"
LOADER = "target-duckdb"
#: Builds the KPI marts of transform/ (schema copilot_marts) in the same DuckDB file.
TRANSFORMER = "dbt-duckdb"
DEMO_ENVIRONMENT = "demo"
DEMO_ORGANIZATION = "octo-org"
DEMO_TEAMS = ("justice-league", "avengers")
SETTINGS_PREFIX = "TAP_COPILOT_METRICS_"

#: Tap settings that Meltano reads as JSON from an environment variable (kind: array/object).
_JSON_SETTINGS = frozenset(
    {"organizations", "enterprises", "teams", "stream_maps", "stream_map_config"}
)

# The summary. Every query groups by scope_name, so it stays right with several organizations
# or enterprises. `day` columns are DATE.
DAILY_USERS_SQL = """
select d.scope_name,
       d.day,
       d.daily_active_users as active_users,
       count(u.user_id) as engaged_users
from copilot.copilot_usage_daily d
left join copilot.copilot_user_usage_daily u
  on u.scope = d.scope and u.scope_name = d.scope_name and u.day = d.day
 and (u.user_initiated_interaction_count > 0 or u.code_acceptance_activity_count > 0)
group by all
order by d.scope_name, day desc
"""

ACCEPTANCE_BY_LANGUAGE_SQL = """
select scope_name,
       language,
       sum(code_generation_activity_count) as suggestions,
       sum(code_acceptance_activity_count) as acceptances,
       round(100.0 * sum(code_acceptance_activity_count)
             / nullif(sum(code_generation_activity_count), 0), 1) as acceptance_pct
from copilot.copilot_usage_daily_by_language_feature
group by all
order by scope_name, suggestions desc, language
"""

ACCEPTANCE_BY_EDITOR_SQL = """
select scope_name,
       ide as editor,
       sum(code_generation_activity_count) as suggestions,
       sum(code_acceptance_activity_count) as acceptances,
       round(100.0 * sum(code_acceptance_activity_count)
             / nullif(sum(code_generation_activity_count), 0), 1) as acceptance_pct
from copilot.copilot_usage_daily_by_ide
group by all
order by scope_name, suggestions desc, editor
"""

TOP_FEATURES_SQL = """
select scope_name,
       feature,
       count(distinct user_id) as users,
       sum(user_initiated_interaction_count) as interactions,
       sum(code_generation_activity_count) as suggestions,
       sum(code_acceptance_activity_count) as acceptances
from copilot.copilot_user_usage_daily_by_feature
group by all
order by scope_name, users desc, interactions desc, feature
"""

TEAM_USAGE_SQL = """
select t.scope_name,
       t.slug as team,
       count(distinct u.user_id) as active_users,
       sum(u.code_acceptance_activity_count) as acceptances
from copilot.copilot_user_teams_daily t
join copilot.copilot_user_usage_daily u
  on u.scope = t.scope and u.scope_name = t.scope_name and u.day = t.day
 and u.user_id = t.user_id
group by all
order by t.scope_name, active_users desc, team
"""

IDLE_SEATS_SQL = """
select scope_name,
       count(*) as seats,
       count(*) filter (where last_activity_at is null
                        or last_activity_at < current_date - interval 30 day) as idle_30_days,
       count(pending_cancellation_date) as pending_cancellation
from copilot.copilot_seats
group by all
order by scope_name
"""

#: docs/queries.md's queries on the raw tables, each checked against the simulator's truth in
#: tests/e2e/test_meltano_duckdb.py.
EXAMPLE_QUERIES = {
    "Active and engaged users per day": DAILY_USERS_SQL,
    "Code acceptance rate by language": ACCEPTANCE_BY_LANGUAGE_SQL,
    "Code acceptance rate by editor": ACCEPTANCE_BY_EDITOR_SQL,
    "Top features by users": TOP_FEATURES_SQL,
    "Active users per team": TEAM_USAGE_SQL,
    "Seats without activity for 30 days": IDLE_SEATS_SQL,
}

#: Which editors people use: the one query the demo suggests to start exploring.
EXPLORE_SQL = (
    "select ide, count(distinct user_id) as users from copilot.copilot_user_usage_daily_by_ide "
    "group by ide order by users desc"
)


# The summary the demo prints, read from the KPI marts that `dbt-duckdb:build` made
# (transform/, docs/kpis.md): the definitions live there, once. Rates over several days are
# recomputed from the summed counts, never averaged.
MART_DAILY_USERS_SQL = """
select scope_name, day, daily_active_users as active_users, engaged_users
from copilot_marts.kpi_daily
order by scope_name, day desc
"""

MART_ACCEPTANCE_BY_LANGUAGE_SQL = """
select scope_name,
       language,
       sum(code_generations) as suggestions,
       sum(code_acceptances) as acceptances,
       round(100.0 * sum(code_acceptances) / nullif(sum(code_generations), 0), 1) as acceptance_pct
from copilot_marts.kpi_language_daily
group by all
order by scope_name, suggestions desc, language
"""

MART_ACCEPTANCE_BY_EDITOR_SQL = """
select scope_name,
       ide as editor,
       sum(code_generations) as suggestions,
       sum(code_acceptances) as acceptances,
       round(100.0 * sum(code_acceptances) / nullif(sum(code_generations), 0), 1) as acceptance_pct
from copilot_marts.kpi_ide_daily
group by all
order by scope_name, suggestions desc, editor
"""

#: docs/queries.md's queries on the KPI marts, each checked against the simulator's truth in
#: tests/e2e/test_dbt_duckdb.py.
MART_QUERIES = {
    "Active and engaged users per day": MART_DAILY_USERS_SQL,
    "Code acceptance rate by language": MART_ACCEPTANCE_BY_LANGUAGE_SQL,
    "Code acceptance rate by editor": MART_ACCEPTANCE_BY_EDITOR_SQL,
}

#: Feature use over each scope's last 7 report days (the users report's `used_*` flags), as
#: user-days: a day's distinct users summed over days counts each user once per day, which is
#: what "user-days" means (never call that sum "users").
MART_FEATURE_ADOPTION_SQL = """
select scope_name,
       feature,
       sum(users) as user_days,
       sum(active_users) as active_user_days,
       round(100.0 * sum(users) / nullif(sum(active_users), 0), 1) as share_pct
from copilot_marts.kpi_feature_adoption_daily f
where day > (select max(day) - 7 from copilot_marts.kpi_feature_adoption_daily l
             where l.scope = f.scope and l.scope_name = f.scope_name)
group by all
order by scope_name, user_days desc, feature
"""

#: Seat utilization on the latest seat snapshot (the date last: no scope_name-then-date row).
MART_SEATS_SQL = """
select scope_name, seats, active_28d, inactive_28d, never_active,
       round(100.0 * utilization_28d, 1) as utilization_pct, snapshot_day
from copilot_marts.kpi_seat_utilization_daily s
where snapshot_day = (select max(snapshot_day) from copilot_marts.kpi_seat_utilization_daily l
                      where l.scope = s.scope and l.scope_name = s.scope_name)
order by scope_name
"""


class DemoError(Exception):
    """A step failed; the message says which and where its log is."""


@dataclass(frozen=True)
class MeltanoProject:
    """The Meltano project (the repository root, where meltano.yml is) and its paths."""

    root: Path

    @property
    def sys_dir(self) -> Path:
        """Where Meltano keeps plugin venvs and its system database (`.meltano/`)."""
        return Path(os.environ.get("MELTANO_SYS_DIR_ROOT") or self.root / ".meltano")

    @property
    def meltano_venv(self) -> Path:
        """Meltano's own virtualenv: beside the plugin venvs, ignored by git like them."""
        return self.root / ".meltano" / "meltano-venv"

    def plugin_python(self, plugin_type: str, name: str) -> Path:
        """The interpreter of an installed plugin, e.g. target-duckdb's (it has duckdb)."""
        return self.sys_dir / plugin_type / name / "venv" / _BIN / "python"


_BIN = "Scripts" if os.name == "nt" else "bin"


def find_project(start: Path | None = None) -> MeltanoProject:
    """The clone this package runs from: the demo needs meltano.yml and the tap's source."""
    candidates = [start] if start else [Path(__file__).resolve().parents[2], Path.cwd()]
    for candidate in candidates:
        if candidate and (candidate / "meltano.yml").is_file():
            return MeltanoProject(candidate.resolve())
    msg = (
        "meltano.yml not found: run the demo from a clone of tap-copilot-metrics installed with "
        "`pip install -e . -e ./devkit`, or pass --project-dir"
    )
    raise DemoError(msg)


# --- Meltano itself --------------------------------------------------------------------------


def meltano_version(executable: Path) -> str | None:
    """The version an installed `meltano` reports, or None when it is missing or broken."""
    if not executable.exists():
        return None
    completed = subprocess.run(
        [str(executable), "--version"],
        capture_output=True,
        text=True,
        check=False,
        env=meltano_env(),
    )
    words = completed.stdout.split()
    return words[-1] if completed.returncode == 0 and words else None


def ensure_meltano(venv: Path, *, say: Any = print) -> Path:
    """`meltano` MELTANO_VERSION in its own venv, created on first use (about 30 s)."""
    executable = venv / _BIN / "meltano"
    if meltano_version(executable) == MELTANO_VERSION:
        return executable
    say(f"Installing Meltano {MELTANO_VERSION} into {venv} (once) ...")
    if venv.exists():
        shutil.rmtree(venv)
    _check_call([sys.executable, "-m", "venv", str(venv)], "creating Meltano's virtualenv")
    pip = [str(venv / _BIN / "python"), "-m", "pip", "install", "--quiet"]
    _check_call([*pip, f"meltano=={MELTANO_VERSION}"], f"pip install meltano=={MELTANO_VERSION}")
    if meltano_version(executable) != MELTANO_VERSION:
        msg = f"{executable} does not run after installing it"
        raise DemoError(msg)
    return executable


def _check_call(args: Sequence[str], what: str) -> None:
    completed = subprocess.run(args, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        msg = f"{what} failed:\n{completed.stdout[-2000:]}{completed.stderr[-2000:]}"
        raise DemoError(msg)


def meltano_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for Meltano: no update check, no telemetry, nothing else leaking in.

    Variables of an activated virtualenv are dropped: Meltano and its plugins have their own.
    """
    env = {k: v for k, v in os.environ.items() if k not in {"VIRTUAL_ENV", "PYTHONHOME"}}
    env.update(
        {
            "MELTANO_CLI_DISABLE_VERSION_CHECK": "true",
            "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
            "NO_COLOR": "1",
        }
    )
    env.update(extra or {})
    return env


def tap_settings_env(config: Mapping[str, Any], prefix: str = SETTINGS_PREFIX) -> dict[str, str]:
    """A tap config as Meltano environment variables (lists and objects as JSON)."""
    env = {}
    for key, value in config.items():
        if value is None:
            continue
        if key in _JSON_SETTINGS or isinstance(value, (list, dict)):
            text = json.dumps(value)
        else:
            text = str(value)
        env[f"{prefix}{key.upper()}"] = text
    return env


def run_meltano(
    executable: Path,
    project: MeltanoProject,
    args: Sequence[str],
    *,
    env: Mapping[str, str],
    log_path: Path,
    timeout: float = 900,
) -> subprocess.CompletedProcess[str]:
    """Run one `meltano ...` command in the project; its whole output goes to `log_path`."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    completed = subprocess.run(
        [str(executable), *args],
        cwd=project.root,
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    log_path.write_text(completed.stdout + completed.stderr)
    if completed.returncode != 0:
        tail = "\n".join((completed.stdout + completed.stderr).splitlines()[-25:])
        command = "meltano " + " ".join(args)
        msg = f"`{command}` failed (exit {completed.returncode}); log: {log_path}\n{tail}"
        raise DemoError(msg)
    return completed


def saved_bookmark(
    state: Mapping[str, Any] | None, stream: str = "copilot_usage_daily"
) -> str | None:
    """The latest day bookmarked for `stream` in a Meltano state (None before the first run)."""
    if not state:
        return None
    singer_state = state.get("singer_state", state)
    partitions = singer_state.get("bookmarks", {}).get(stream, {}).get("partitions", [])
    days = [p.get("replication_key_value") for p in partitions]
    return max((d for d in days if d), default=None)


def read_state(
    executable: Path, project: MeltanoProject, state_id: str, env: Mapping[str, str], log: Path
) -> dict[str, Any] | None:
    """Meltano's saved state for a pipeline, or None when it has none yet."""
    listed = run_meltano(executable, project, ["state", "list"], env=env, log_path=log)
    if state_id not in listed.stdout.split():
        return None
    got = run_meltano(executable, project, ["state", "get", state_id], env=env, log_path=log)
    start = got.stdout.find("{")
    return json.loads(got.stdout[start:]) if start >= 0 else None


# --- reading the DuckDB file -----------------------------------------------------------------

_QUERY_SCRIPT = """
import json, sys
import duckdb
request = json.load(sys.stdin)
con = duckdb.connect(request["db"], read_only=True)
out = []
for sql in request["queries"]:
    cursor = con.execute(sql)
    out.append({"columns": [c[0] for c in cursor.description], "rows": cursor.fetchall()})
json.dump(out, sys.stdout, default=str)
"""


@dataclass(frozen=True)
class Table:
    """Columns and rows of one query result."""

    columns: list[str]
    rows: list[list[Any]]


def query_duckdb(python: Path, database: Path, queries: Sequence[str]) -> list[Table]:
    """Run queries with target-duckdb's own interpreter: the duckdb release that wrote the file."""
    completed = subprocess.run(
        [str(python), "-c", _QUERY_SCRIPT],
        input=json.dumps({"db": str(database), "queries": list(queries)}),
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        msg = f"querying {database} failed:\n{completed.stderr[-2000:]}"
        raise DemoError(msg)
    return [Table(r["columns"], r["rows"]) for r in json.loads(completed.stdout)]


# --- output ----------------------------------------------------------------------------------


def format_table(table: Table, *, limit: int | None = None, indent: str = "  ") -> str:
    """A plain text table: numbers right-aligned, text left-aligned."""
    rows = table.rows[:limit] if limit else table.rows
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(table.columns)]
    numeric = [all(isinstance(r[i], (int, float)) for r in rows) for i in range(len(widths))]

    def line(values: Iterable[str]) -> str:
        parts = [
            v.rjust(w) if num else v.ljust(w)
            for v, w, num in zip(values, widths, numeric, strict=True)
        ]
        return (indent + "  ".join(parts)).rstrip()

    return "\n".join([line(table.columns), *(line(r) for r in cells)])


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


def day_range(days: Sequence[str]) -> str:
    """`first..last (N days)` of a sorted list of ISO days."""
    if not days:
        return "no days"
    count = len(days)
    return f"{days[0]}..{days[-1]} ({count} day{'s' if count != 1 else ''})"


def describe_run(
    bookmark_before: str | None, start_day: str, days_read: Sequence[str], requests: int
) -> str:
    """What this run fetched and what it skipped, in words."""
    if bookmark_before is None:
        return (
            f"First run (no saved state): read every report day {day_range(days_read)}, "
            f"{requests} HTTP requests."
        )
    first_read = days_read[0] if days_read else None
    skipped = _days_between(start_day, first_read) if first_read else []
    text = (
        f"Incremental run: Meltano's saved state has the bookmark {bookmark_before}, so the tap "
        f"read only {day_range(days_read)}, re-reading the recent days GitHub may still restate"
    )
    if skipped:
        text += f", and skipped {day_range(skipped)} already loaded"
    return text + f"; {requests} HTTP requests."


def _days_between(first: str, before: str) -> list[str]:
    """ISO days from `first` up to the day before `before`."""
    day, end = dt.date.fromisoformat(first), dt.date.fromisoformat(before)
    out = []
    while day < end:
        out.append(day.isoformat())
        day += dt.timedelta(days=1)
    return out


def report_days_requested(requests: Iterable[Any]) -> list[str]:
    """Distinct `?day=` values of report API calls, sorted."""
    days = {
        r.query["day"]
        for r in requests
        if "/copilot/metrics/reports/" in r.path and "day" in r.query
    }
    return sorted(days)


# --- the demo --------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m copilot_devkit.demo",
        description="Load a simulated GitHub's Copilot metrics into DuckDB with Meltano.",
    )
    parser.add_argument("--days", type=int, default=28, help="days of history (default 28)")
    parser.add_argument(
        "--workdir", type=Path, help="where the DuckDB file and logs go (default: demo/)"
    )
    parser.add_argument("--project-dir", type=Path, help="the Meltano project (default: here)")
    parser.add_argument(
        "--reset", action="store_true", help="forget the saved state and the DuckDB file first"
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the demo; returns the process exit code."""
    args = parse_args(argv)
    try:
        run_demo(args)
    except DemoError as exc:
        print(f"demo failed: {exc}", file=sys.stderr)
        return 1
    return 0


def run_demo(args: argparse.Namespace) -> None:
    """Install, serve, load, summarize (see the module docstring)."""
    project = find_project(args.project_dir)
    workdir = (args.workdir or project.root / "demo").resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    database = workdir / "copilot_metrics.duckdb"
    state_id = f"{DEMO_ENVIRONMENT}:{EXTRACTOR}-to-{LOADER}"
    base_env = meltano_env({"MELTANO_ENVIRONMENT": DEMO_ENVIRONMENT})

    print("tap-copilot-metrics demo: simulated GitHub -> Meltano -> DuckDB")
    meltano = ensure_meltano(project.meltano_venv)
    print(f"[1/4] Meltano {MELTANO_VERSION} ready ({meltano})")
    run_meltano(
        meltano,
        project,
        ["install", EXTRACTOR, LOADER, TRANSFORMER],
        env=base_env,
        log_path=workdir / "meltano-install.log",
    )
    print(f"[2/4] plugins installed: {EXTRACTOR}, {LOADER}, {TRANSFORMER} (in {project.sys_dir})")
    if args.reset:
        reset(meltano, project, state_id, database, base_env, workdir)
    elif written_by_old_loader(project.plugin_python("loaders", LOADER), database):
        print(
            f"      {_relative(database)} was written by target-duckdb 0.8.0 (dates as VARCHAR),"
            " which the current loader cannot add to: starting over"
        )
        reset(meltano, project, state_id, database, base_env, workdir)

    settings = SimulatorSettings(
        organizations={DEMO_ORGANIZATION: list(DEMO_TEAMS)}, enterprises=[], enterprise_teams={}
    )
    with Simulator(settings) as sim:
        start_day = (sim.settings.ready_through - dt.timedelta(days=args.days - 1)).isoformat()
        config = sim.tap_config(start_date=start_day)
        print(f"[3/4] simulated GitHub API at {sim.base_url} (organization {DEMO_ORGANIZATION})")
        env = {
            **base_env,
            **tap_settings_env(config),
            "TARGET_DUCKDB_FILEPATH": str(database),
            # dbt-duckdb's path (the demo environment sets it to demo/...): the same file.
            "DBT_DUCKDB_PATH": str(database),
        }
        before = saved_bookmark(
            read_state(meltano, project, state_id, env, workdir / "meltano-state.log")
        )
        started = time.monotonic()
        run_meltano(
            meltano,
            project,
            # The load, then the transform: dbt builds the KPI marts in the same DuckDB file
            # (DBT_DUCKDB_PATH above).
            ["run", EXTRACTOR, LOADER, f"{TRANSFORMER}:build"],
            env=env,
            log_path=workdir / "meltano-run.log",
        )
        took = time.monotonic() - started
        days_read = report_days_requested(sim.requests)
        requests = len(sim.requests)
    print(
        f"[4/4] meltano --environment={DEMO_ENVIRONMENT} run {EXTRACTOR} {LOADER} "
        f"{TRANSFORMER}:build: "
        f"{took:.0f} s (log: {workdir / 'meltano-run.log'})"
    )
    print()
    print(describe_run(before, start_day, days_read, requests))
    print_summary(project.plugin_python("loaders", LOADER), database)
    # Last: the HTML report of the marts (after the dbt transform above has built them).
    write_html_report(meltano, project, database, workdir, base_env)


def reset(
    meltano: Path,
    project: MeltanoProject,
    state_id: str,
    database: Path,
    env: Mapping[str, str],
    workdir: Path,
) -> None:
    """Start over: clear the demo pipeline's state and delete its DuckDB file."""
    if read_state(meltano, project, state_id, env, workdir / "meltano-state.log") is not None:
        run_meltano(
            meltano,
            project,
            ["state", "clear", "--force", state_id],
            env=env,
            log_path=workdir / "meltano-state.log",
        )
    for path in (database, database.with_suffix(".duckdb.wal")):
        path.unlink(missing_ok=True)
    print("      reset: state cleared, DuckDB file removed")


def written_by_old_loader(python: Path, database: Path) -> bool:
    """Whether `database` holds a table of target-duckdb 0.8.0, whose dates are VARCHAR.

    The vendored loader renames such a VARCHAR key column and then fails on its first batch
    (vendor/target-duckdb/VENDORED.md), so the demo starts over instead.
    """
    if not database.exists():
        return False
    (found,) = query_duckdb(
        python,
        database,
        [
            "select count(*) from information_schema.columns where table_schema = 'copilot'"
            " and column_name = 'day' and data_type = 'VARCHAR'"
        ],
    )
    return bool(found.rows[0][0])


def print_summary(python: Path, database: Path) -> None:
    """The numbers a Copilot admin asks for first, then how to explore further."""
    daily, languages, editors, features, seats = query_duckdb(
        python,
        database,
        [
            MART_DAILY_USERS_SQL,
            MART_ACCEPTANCE_BY_LANGUAGE_SQL,
            MART_ACCEPTANCE_BY_EDITOR_SQL,
            MART_FEATURE_ADOPTION_SQL,
            MART_SEATS_SQL,
        ],
    )
    print()
    print("Active and engaged users, last 7 days (engaged = accepted code or sent a prompt)")
    print(format_table(daily, limit=7))
    print()
    print("Code acceptance rate by language (top 5 by suggestions)")
    print(format_table(languages, limit=5))
    print()
    print("Code acceptance rate by editor")
    print(format_table(editors))
    print()
    print("Top features by users, last 7 days (user-days with the feature / active user-days)")
    print(format_table(features, limit=5))
    print()
    print("Seats used in the last 28 days (latest seat snapshot)")
    print(format_table(seats))
    print()
    shown = _relative(database)
    print(f"DuckDB file: {shown} (schema `copilot`, one table per stream)")
    print("KPI marts: schema `copilot_marts` of the same file, every KPI defined in docs/kpis.md")
    print(f"Explore it with duckdb {DUCKDB_VERSION} (the release that wrote it):")
    print(f"  {_relative(Path(sys.executable).parent / 'pip')} install duckdb=={DUCKDB_VERSION}")
    print(
        f'  {_relative(Path(sys.executable))} -c "import duckdb; '
        f"con = duckdb.connect('{shown}', read_only=True); con.sql('{EXPLORE_SQL}').show()\""
    )
    print("Run the demo again for an incremental run; --reset starts over.")


REPORT_UTILITY = "copilot-metrics-report"
#: What `copilot-metrics-report` imports (the tap's `report` extra).
_REPORT_MODULES = ("altair", "vl_convert", "duckdb")


def write_html_report(
    meltano: Path, project: MeltanoProject, database: Path, workdir: Path, env: Mapping[str, str]
) -> Path | None:
    """Write the HTML report of the marts and print its path (None when there are no marts).

    In this interpreter when it has the `report` extra (`pip install -e '.[report]'`), else
    through Meltano's `copilot-metrics-report` utility (meltano.yml), installed on first use.
    """
    output = workdir / "copilot-report.html"
    if all(importlib.util.find_spec(name) for name in _REPORT_MODULES):
        from tap_copilot_metrics.report.cli import write_report
        from tap_copilot_metrics.report.data import ReportError

        try:
            write_report(database, output)
        except ReportError as exc:
            print(f"\nNo HTML report: {exc}")
            return None
    else:
        run_meltano(
            meltano,
            project,
            ["install", REPORT_UTILITY],
            env=env,
            log_path=workdir / "meltano-install-report.log",
        )
        run_meltano(
            meltano,
            project,
            ["invoke", f"{REPORT_UTILITY}:html"],
            env={
                **env,
                "COPILOT_METRICS_REPORT_DATABASE": str(database),
                "COPILOT_METRICS_REPORT_OUTPUT": str(output),
            },
            log_path=workdir / "report.log",
        )
    print(
        f"\nHTML report (charts and tables of the marts; open it in a browser): {_relative(output)}"
    )
    return output


def _relative(path: Path) -> str:
    """`path` relative to the working directory when it is below it (shorter to copy)."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


if __name__ == "__main__":
    sys.exit(main())
