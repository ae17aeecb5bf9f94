"""Benchmark of `copilot-metrics-report`: marts-shaped data at scale, build time and file size.

    python -m copilot_devkit.report_benchmark                     # 5,000 users x 90 days
    python -m copilot_devkit.report_benchmark --users 500 --days 30 --scopes 2 \
        --marts output/sample-marts.duckdb --output output/sample-report.html

It writes a DuckDB file whose schema `copilot_marts` has every mart of the contract
(transform/; the contract's columns), filled with deterministic
pseudo-random values generated in SQL (hash of the keys, no Python loop), then builds the report
from it and prints the build time (marts read + charts + page written) and the file's size.
Figures only, no assertions. `make_marts` is also the fixture of tests/test_report_html.py.
"""

# ruff: noqa: S608  (SQL built from this module's constants and integers only)

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import duckdb

LANGUAGES = [
    "python",
    "typescript",
    "javascript",
    "java",
    "go",
    "csharp",
    "cpp",
    "c",
    "rust",
    "ruby",
    "php",
    "kotlin",
    "swift",
    "scala",
    "shell",
    "sql",
    "html",
    "css",
    "yaml",
    "markdown",
]
IDES = ("vscode", "jetbrains", "visualstudio", "neovim", "xcode", "eclipse")
MODELS = (
    "gpt-4.1",
    "gpt-5",
    "gpt-5-mini",
    "claude-sonnet-4.5",
    "claude-opus-4.1",
    "gemini-2.5-pro",
    "o4-mini",
    "default",
)
FEATURES = [
    "chat",
    "agent",
    "cli",
    "copilot_coding_agent",
    "copilot_code_review_active",
    "code_completion",
    "edit_mode",
    "ask_mode",
    "plan_mode",
    "mcp",
    "custom_agent",
    "skills",
    "copilot_app",
    "vscode_agent",
]
PHASES = ("exploring", "adopting", "scaling", "transforming")
USERS_PER_TEAM = 50
SEAT_PRICE = 19.0


def _r(*keys: str) -> str:
    """A deterministic pseudo-random DOUBLE in [0, 1) from SQL expressions."""
    return f"((hash({', '.join(keys)}) % 10007) / 10007.0)"


def make_marts(
    path: Path,
    *,
    users: int,
    days: int,
    last_day: dt.date,
    scopes: Sequence[tuple[str, str]] = (("organization", "octo-org"),),
) -> None:
    """Write every mart of the contract for `scopes`, `users` seats each, `days` days."""
    first = last_day - dt.timedelta(days=days - 1)
    teams = max(1, users // USERS_PER_TEAM)
    scope_values = ", ".join(f"('{k}', '{n}')" for k, n in scopes)
    with duckdb.connect(str(path)) as con:
        con.execute("create schema if not exists copilot_marts")
        con.execute(
            f"create or replace temp table s as select * from (values {scope_values}) "
            "as t(scope, scope_name)"
        )
        con.execute(
            "create or replace temp table d as select (date '"
            + first.isoformat()
            + "' + i::int) as day, i from range("
            + str(days)
            + ") r(i)"
        )
        for name, sql in _mart_sql(users, teams, last_day).items():
            con.execute(f"create or replace table copilot_marts.{name} as {sql}")


def _list(values: Sequence[str]) -> str:
    return "[" + ", ".join(f"'{v}'" for v in values) + "]"


def _mart_sql(users: int, teams: int, last_day: dt.date) -> dict[str, str]:
    dau = f"(({users} * (0.45 + 0.25 * {_r('day', 'scope_name')}))::int)"
    rate = "case when g = 0 then null else a::double / g end"
    return {
        "kpi_daily": f"""
            select scope, scope_name, day, dau as daily_active_users,
                   least({users}, (dau * 1.3)::int) as weekly_active_users,
                   least({users}, (dau * 1.5)::int) as monthly_active_users,
                   g as code_generations, a as code_acceptances, {rate} as code_acceptance_rate,
                   g * 4 as loc_suggested, a * 3 as loc_added, dau as users_with_activity
            from (select *, {dau} as dau from s, d) x,
                 lateral (select dau * 40 as g) gg,
                 lateral (select (g * (0.2 + 0.2 * {_r("day", "'a'")}))::bigint as a) aa""",
        **{
            mart: f"""
            select scope, scope_name, day, k as {col}, g as code_generations,
                   a as code_acceptances, {rate} as code_acceptance_rate,
                   (g * 0.6)::bigint as interactions
            from s, d, unnest({_list(values)}) u(k),
                 lateral (select ({users} * 8 * {_r("k", "'w'")} * (0.5 + {_r("day", "k")}))::bigint
                          as g) gg,
                 lateral (select (g * (0.15 + 0.3 * {_r("k", "day", "'r'")}))::bigint as a) aa"""
            for mart, col, values in (
                ("kpi_language_daily", "language", LANGUAGES),
                ("kpi_ide_daily", "ide", IDES),
                ("kpi_model_daily", "model", MODELS),
            )
        },
        "kpi_feature_adoption_daily": f"""
            select scope, scope_name, day, f as feature, u as users, act as active_users,
                   case when act = 0 then null else u::double / act end as adoption_rate
            from (select *, {dau} as act from s, d) x, unnest({_list(FEATURES)}) t(f),
                 lateral (select (act * {_r("f")} * (0.7 + 0.3 * {_r("f", "day")}))::int
                          as u) uu""",
        "kpi_adoption_phase_daily": f"""
            select scope, scope_name, day, n as phase_number, {_list(PHASES)}[n] as phase,
                   (p * 0.8)::int as engaged_users, p as users_in_phase_28d
            from s, d, range(1, {len(PHASES) + 1}) r(n),
                 lateral (select ({users} / {len(PHASES)} * (0.5 + {_r("n", "day")}))::int
                          as p) pp""",
        "kpi_seat_utilization_daily": f"""
            select scope, scope_name, day as snapshot_day, {users} as seats,
                   a7 as active_7d, a14 as active_14d, a28 as active_28d,
                   {users} - a7 as inactive_7d, {users} - a14 as inactive_14d,
                   {users} - a28 as inactive_28d, ({users} * 0.03)::int as never_active,
                   a28::double / {users} as utilization_28d
            from s, d,
                 lateral (select ({users} * (0.7 + 0.1 * {_r("day")}))::int as a28) x,
                 lateral (select (a28 * 0.9)::int as a14, (a28 * 0.75)::int as a7) y""",
        "kpi_inactive_seats": f"""
            select scope, scope_name, date '{last_day.isoformat()}' as snapshot_day,
                   'user-' || i as assignee_login,
                   case when i % 7 = 0 then null else timestamp '{last_day.isoformat()} 12:00:00'
                        - to_days(28 + (i % 150)) end as last_activity_at,
                   case when i % 7 = 0 then null else 28 + (i % 150) end as days_inactive
            from s, range({users // 5}) r(i)""",
        "kpi_user_activity": f"""
            select scope, scope_name, i as user_id, 'user-' || i as user_login,
                   date '{last_day.isoformat()}' - 80 as first_active_day,
                   date '{last_day.isoformat()}' as last_active_day, 40 as active_days,
                   (1000 * {_r("i")})::bigint as code_acceptances,
                   (3000 * {_r("i", "'i'")})::bigint as interactions
            from s, range({users}) r(i)""",
        "kpi_team_daily": f"""
            select scope, scope_name, day, t as team_id, 'team-' || t as team_slug,
                   m as members_active, m * 40 as code_generations,
                   (m * 40 * (0.2 + 0.2 * {_r("t", "day")}))::bigint as code_acceptances,
                   case when m = 0 then null else 0.2 + 0.2 * {_r("t", "day")} end
                       as code_acceptance_rate, m * 25 as interactions
            from s, d, range({teams}) r(t),
                 lateral (select ({USERS_PER_TEAM} * (0.3 + 0.6 * {_r("t", "day", "'m'")}))::int
                          as m) mm""",
        "kpi_pull_requests_daily": f"""
            select scope, scope_name, day, c as prs_created_by_copilot,
                   (c * 0.7)::int as prs_merged_created_by_copilot,
                   case when c = 0 then null else (c * 0.7)::int::double / c end
                       as copilot_pr_merge_rate,
                   c * 6 as suggestions, c * 2 as applied_suggestions,
                   case when c = 0 then null else 1 / 3 end as applied_suggestion_rate,
                   30 + 600 * {_r("day", "'t'")} as median_minutes_to_merge_copilot_authored,
                   c * 3 as prs_reviewed_by_copilot
            from s, d, lateral (select ({users} / 50 * {_r("day", "'p'")})::int as c) cc""",
        "kpi_cost_daily": f"""
            select scope, scope_name, day, kind as usage_kind, 'copilot' as product,
                   case when kind = 'ai_credits' then 'copilot_ai_credit'
                        else 'copilot_premium_request' end as sku,
                   m as model, q as gross_quantity, q * 0.04 as gross_amount,
                   q * 0.01 as discount_amount, q as net_quantity,
                   round(q * 0.03, 2)::decimal(18, 2) as net_amount
            from s, d, unnest(['ai_credits', 'premium_requests']) k(kind),
                 unnest({_list(MODELS)}) mm(m),
                 lateral (select round({users} / 4 * {_r("m", "day", "kind")}, 2) as q) qq""",
        "kpi_cost_per_active_user_monthly": f"""
            select scope, scope_name, month, usage as usage_net_amount, {users} as seats,
                   {users} * {SEAT_PRICE} as seat_cost,
                   usage + {users} * {SEAT_PRICE} as total_cost, au as active_users,
                   (usage + {users} * {SEAT_PRICE}) / au as cost_per_active_user
            from (select scope, scope_name, date_trunc('month', day)::date as month,
                         sum(net_amount)::double as usage
                  from copilot_marts.kpi_cost_daily group by all) c,
                 lateral (select ({users} * 0.8)::int as au) a""",
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Build the marts, then the report; print the figures."""
    parser = argparse.ArgumentParser(prog="python -m copilot_devkit.report_benchmark")
    parser.add_argument("--users", type=int, default=5000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--scopes", type=int, default=1, help="organizations (default 1)")
    parser.add_argument("--output", type=Path, help="keep the report here")
    parser.add_argument("--marts", type=Path, help="keep the marts' DuckDB file here")
    args = parser.parse_args(argv)

    from tap_copilot_metrics.report.cli import library_js, write_report

    scopes = [("organization", f"org-{i + 1}") for i in range(args.scopes)]
    with tempfile.TemporaryDirectory(prefix="report-benchmark-") as tmp:
        database = args.marts or Path(tmp) / "marts.duckdb"
        database.parent.mkdir(parents=True, exist_ok=True)
        database.unlink(missing_ok=True)
        started = time.perf_counter()
        make_marts(
            database,
            users=args.users,
            days=args.days,
            last_day=dt.date(2026, 11, 15),
            scopes=scopes,
        )
        marts_seconds = time.perf_counter() - started
        started = time.perf_counter()
        library_js()
        bundle_seconds = time.perf_counter() - started
        output = args.output or Path(tmp) / "report.html"
        first = write_report(database, output)
        second = write_report(database, output)
    print(
        f"report benchmark: {args.users} users x {args.days} days x {args.scopes} scope(s) "
        f"(marts generated in {marts_seconds:.1f} s)"
    )
    print(
        f"  build, cold (Vega bundle {bundle_seconds:.1f} s + marts + charts + page): "
        f"{bundle_seconds + first.seconds:.1f} s"
    )
    print(f"  build, warm (bundle cached in the process): {second.seconds:.1f} s")
    print(
        f"  file size: {second.bytes / 1e6:.2f} MB ({second.bytes} bytes), {second.charts} charts"
    )
    for what, path in (("report", args.output), ("marts", args.marts)):
        if path:
            print(f"  {what}: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
