"""Helpers of the dbt tests (transform/, issue 13): Meltano pipelines that end in a dbt build,
the mart contract, and the comparison of a mart with the rows computed from the truth."""

from __future__ import annotations

import datetime as dt
import math
import subprocess
from collections.abc import Iterable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from copilot_devkit import demo

from tests.e2e.e2e_support import PROJECT, Meltano, Pipeline
from tests.e2e.kpi_truth import MARTS, Mart

MARTS_SCHEMA = "copilot_marts"
TRANSFORM_DIR = PROJECT.root / "transform"
MARTS_YML = TRANSFORM_DIR / "models" / "marts" / "_marts.yml"

#: The marts and leading columns other code (the HTML report, the README) relies on: exact
#: names, in this order; a mart may add columns after them.
CONTRACT: dict[str, tuple[str, ...]] = {
    "kpi_daily": (
        "scope", "scope_name", "day", "daily_active_users", "weekly_active_users",
        "monthly_active_users", "code_generations", "code_acceptances", "code_acceptance_rate",
        "loc_suggested", "loc_added", "users_with_activity",
    ),
    "kpi_language_daily": (
        "scope", "scope_name", "day", "language", "code_generations", "code_acceptances",
        "code_acceptance_rate",
    ),
    "kpi_user_activity": (
        "scope", "scope_name", "user_id", "user_login", "first_active_day", "last_active_day",
        "active_days", "code_acceptances", "interactions",
    ),
    "kpi_ide_daily": (
        "scope", "scope_name", "day", "ide", "code_generations", "code_acceptances",
        "code_acceptance_rate", "interactions",
    ),
    "kpi_model_daily": (
        "scope", "scope_name", "day", "model", "code_generations", "code_acceptances",
        "code_acceptance_rate", "interactions",
    ),
    "kpi_feature_adoption_daily": (
        "scope", "scope_name", "day", "feature", "users", "active_users", "adoption_rate",
    ),
    "kpi_adoption_phase_daily": (
        "scope", "scope_name", "day", "phase_number", "phase", "engaged_users",
        "users_in_phase_28d",
    ),
    "kpi_seat_utilization_daily": (
        "scope", "scope_name", "snapshot_day", "seats", "active_7d", "active_14d", "active_28d",
        "inactive_7d", "inactive_14d", "inactive_28d", "never_active", "utilization_28d",
    ),
    "kpi_inactive_seats": (
        "scope", "scope_name", "snapshot_day", "assignee_login", "last_activity_at",
        "days_inactive",
    ),
    "kpi_team_daily": (
        "scope", "scope_name", "day", "team_id", "team_slug", "members_active",
        "code_generations", "code_acceptances", "code_acceptance_rate", "interactions",
    ),
    "kpi_pull_requests_daily": (
        "scope", "scope_name", "day", "prs_created_by_copilot", "prs_merged_created_by_copilot",
        "copilot_pr_merge_rate", "suggestions", "applied_suggestions", "applied_suggestion_rate",
        "median_minutes_to_merge_copilot_authored", "prs_reviewed_by_copilot",
    ),
    "kpi_cost_daily": (
        "scope", "scope_name", "day", "usage_kind", "product", "sku", "model", "gross_quantity",
        "gross_amount", "discount_amount", "net_quantity", "net_amount",
    ),
    "kpi_cost_per_active_user_monthly": (
        "scope", "scope_name", "month", "usage_net_amount", "seats", "seat_cost", "total_cost",
        "active_users", "cost_per_active_user",
    ),
}  # fmt: skip

#: The marts whose every row and listed column tests/e2e/kpi_truth.py computes.
CHECKED_MARTS = tuple(MARTS)


def dbt_env(workdir: Path) -> dict[str, str]:
    """dbt's artifacts and logs in the test's workdir, not in transform/ (the clone's)."""
    return {
        "DBT_TARGET_PATH": str(workdir / "dbt-target"),
        "DBT_LOG_PATH": str(workdir / "dbt-logs"),
    }


def install_transformers(meltano: Meltano, workdir: Path, *names: str) -> None:
    """`meltano install` the transformers (dbt and its adapter) into the session's plugins."""
    env = meltano.env(workdir / "meltano.db", {})
    meltano.run(["install", *names], env=env, log=workdir / "install-dbt.log")


def run_with_blocks(pipeline: Pipeline, *blocks: str) -> subprocess.CompletedProcess[str]:
    """`meltano run <extractor> <loader> <blocks...>`, e.g. `dbt-duckdb:build`."""
    pipeline.runs += 1
    env = pipeline.meltano.env(
        pipeline.workdir / "meltano.db",
        {
            **demo.tap_settings_env(pipeline.tap_config),
            **pipeline.loader_env,
            **pipeline.extra_env,
            **dbt_env(pipeline.workdir),
        },
    )
    log = pipeline.workdir / f"meltano-run-{pipeline.runs}.log"
    return pipeline.meltano.run(
        ["run", pipeline.extractor, pipeline.loader, *blocks], env=env, log=log
    )


def normalized(value: Any) -> Any:
    """A database value as the truth writes it: days as ISO text, numbers as int or float."""
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def same(expected: Any, actual: Any) -> bool:
    if isinstance(expected, float) or isinstance(actual, float):
        if expected is None or actual is None:
            return expected is actual
        return math.isclose(float(expected), float(actual), rel_tol=1e-9, abs_tol=1e-9)
    return bool(expected == actual)


def mart_rows(
    columns: Sequence[str], rows: Iterable[Sequence[Any]], key_columns: Sequence[str]
) -> Mart:
    """Rows of a mart keyed like the truth: {key tuple: {column: value}}."""
    out: Mart = {}
    for row in rows:
        record = {c: normalized(v) for c, v in zip(columns, row, strict=True)}
        key = tuple(record.pop(c) for c in key_columns)
        assert key not in out, f"duplicate key {key}"
        out[key] = record
    return out


def differences(expected: Mart, loaded: Mart, *, limit: int = 10) -> list[str]:
    """What differs between the truth's rows and the mart's (empty when equal)."""
    problems = []
    if missing := sorted(set(expected) - set(loaded), key=str):
        problems.append(f"{len(missing)} rows missing, e.g. {missing[:3]}")
    if extra := sorted(set(loaded) - set(expected), key=str):
        problems.append(f"{len(extra)} rows not in the truth, e.g. {extra[:3]}")
    for key in sorted(set(expected) & set(loaded), key=str):
        for column, value in expected[key].items():
            if not same(value, loaded[key].get(column)):
                problems.append(f"{key} {column}: truth {value!r}, mart {loaded[key][column]!r}")
                if len(problems) >= limit:
                    return problems
    return problems


def leading_columns_ok(actual: Sequence[str], mart: str) -> bool:
    wanted = CONTRACT[mart]
    return tuple(actual[: len(wanted)]) == wanted
