"""Helpers of the end-to-end tests: real Meltano runs, and the truth they must load.

The truth comes from the simulator's truth API (`sim.truth`), never from the tap's code: each
table the Meltano project selects has an entry in `tests/truth.py` saying which report lines (or
which array elements of them) become its rows. Adding a stream = one line in meltano.yml's
`select` and one entry there.
"""

from __future__ import annotations

import datetime as dt
import subprocess
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from copilot_devkit import demo
from copilot_devkit.simulator import Simulator

from tests.truth import (
    AGGREGATE,
    UNKNOWN,
    Key,
    days_with_reports,
    expected_keys,
    iso_days,
    report_scopes,
    table_spec,
)

__all__ = ["Key", "expected_keys", "iso_days", "table_spec"]

PROJECT = demo.find_project()
EXTRACTOR = "tap-copilot-metrics"


# --- Meltano ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Meltano:
    """Meltano (its own venv) with plugins installed once per session in `sys_dir`."""

    executable: Path
    sys_dir: Path

    def env(self, systemdb: Path, extra: Mapping[str, str]) -> dict[str, str]:
        """Environment of one pipeline: its own system database (state) and settings."""
        return demo.meltano_env(
            {
                "MELTANO_SYS_DIR_ROOT": str(self.sys_dir),
                "MELTANO_DATABASE_URI": f"sqlite:///{systemdb}",
                **extra,
            }
        )

    def run(
        self, args: list[str], *, env: Mapping[str, str], log: Path
    ) -> subprocess.CompletedProcess[str]:
        return demo.run_meltano(self.executable, PROJECT, args, env=env, log_path=log)


def selected_tables(extractor: str = EXTRACTOR) -> list[str]:
    """Streams meltano.yml selects for the extractor (`- stream.*` lines)."""
    config = yaml.safe_load((PROJECT.root / "meltano.yml").read_text())
    plugin = next(p for p in config["plugins"]["extractors"] if p["name"] == extractor)
    return [rule.removesuffix(".*") for rule in plugin["select"]]


@dataclass
class Pipeline:
    """`meltano run <extractor> <loader>` against one simulator, with its own state."""

    meltano: Meltano
    sim: Simulator
    workdir: Path
    loader: str
    loader_env: dict[str, str]
    extractor: str = EXTRACTOR
    days: int = 5
    extra_env: dict[str, str] = field(default_factory=dict)
    runs: int = 0

    @property
    def start_day(self) -> dt.date:
        return self.sim.settings.ready_through - dt.timedelta(days=self.days - 1)

    @property
    def end_day(self) -> dt.date:
        return self.sim.settings.ready_through

    @property
    def tap_config(self) -> dict[str, Any]:
        # end_date pinned to the simulator's last report day, so a run that crosses midnight
        # UTC still asks for the same days.
        return self.sim.tap_config(
            start_date=self.start_day.isoformat(), end_date=self.end_day.isoformat()
        )

    def run(self) -> subprocess.CompletedProcess[str]:
        """One `meltano run`; the log is kept in the workdir for a failing test's report."""
        self.runs += 1
        env = self.meltano.env(
            self.workdir / "meltano.db",
            {**demo.tap_settings_env(self.tap_config), **self.loader_env, **self.extra_env},
        )
        log = self.workdir / f"meltano-run-{self.runs}.log"
        return self.meltano.run(["run", self.extractor, self.loader], env=env, log=log)


def report_requests_days(sim: Simulator) -> set[str]:
    """Every `?day=` the tap asked the report endpoints for since the last clear."""
    return set(demo.report_days_requested(sim.requests))


# --- the summary, computed from the truth ----------------------------------------------------


def user_lines(sim: Simulator, days: list[str]) -> Iterator[tuple[str, dict[str, Any]]]:
    for kind, name in report_scopes(sim):
        for day in days_with_reports(sim, kind, name, days):
            for line in sim.truth.report_lines("users-1-day", kind, name, day):
                yield name, line


def aggregate_lines(sim: Simulator, days: list[str]) -> Iterator[tuple[str, dict[str, Any]]]:
    for kind, name in report_scopes(sim):
        for day in days_with_reports(sim, kind, name, days):
            for line in sim.truth.report_lines(AGGREGATE[kind], kind, name, day):
                yield name, line


def truth_daily_users(sim: Simulator, days: list[str]) -> dict[tuple[str, str], tuple[int, int]]:
    """(scope_name, day) -> (daily_active_users, engaged users)."""
    engaged: dict[tuple[str, str], int] = {}
    for name, line in user_lines(sim, days):
        if line.get("user_initiated_interaction_count") or line.get(
            "code_acceptance_activity_count"
        ):
            key = (name, line["day"])
            engaged[key] = engaged.get(key, 0) + 1
    return {
        (name, line["day"]): (line["daily_active_users"], engaged.get((name, line["day"]), 0))
        for name, line in aggregate_lines(sim, days)
    }


def truth_acceptance(
    sim: Simulator, days: list[str], array: str, dimension: str
) -> dict[tuple[str, str], tuple[int, int]]:
    """(scope_name, dimension value) -> (suggestions, acceptances) summed over the days."""
    out: dict[tuple[str, str], tuple[int, int]] = {}
    for name, line in aggregate_lines(sim, days):
        for element in line.get(array) or ():
            key = (name, element.get(dimension) or UNKNOWN)
            generated, accepted = out.get(key, (0, 0))
            out[key] = (
                generated + (element.get("code_generation_activity_count") or 0),
                accepted + (element.get("code_acceptance_activity_count") or 0),
            )
    return out


def truth_features(sim: Simulator, days: list[str]) -> dict[tuple[str, str], tuple[int, int]]:
    """(scope_name, feature) -> (distinct users, interactions) over the days."""
    users: dict[tuple[str, str], set[int]] = {}
    interactions: dict[tuple[str, str], int] = {}
    for name, line in user_lines(sim, days):
        for element in line.get("totals_by_feature") or ():
            key = (name, element.get("feature") or UNKNOWN)
            users.setdefault(key, set()).add(line["user_id"])
            interactions[key] = interactions.get(key, 0) + (
                element.get("user_initiated_interaction_count") or 0
            )
    return {key: (len(users[key]), interactions[key]) for key in users}


def truth_team_usage(sim: Simulator, days: list[str]) -> dict[tuple[str, str], tuple[int, int]]:
    """(scope_name, team slug) -> (distinct active users, their acceptances) over the days."""
    users: dict[tuple[str, str], set[int]] = {}
    acceptances: dict[tuple[str, str], int] = {}
    for kind, name in report_scopes(sim):
        for day in days_with_reports(sim, kind, name, days):
            active = {
                line["user_id"]: line
                for line in sim.truth.report_lines("users-1-day", kind, name, day)
            }
            for member in sim.truth.report_lines("user-teams-1-day", kind, name, day):
                line = active.get(member["user_id"])
                if line is None:
                    continue
                key = (name, member["slug"])
                users.setdefault(key, set()).add(member["user_id"])
                acceptances[key] = acceptances.get(key, 0) + (
                    line.get("code_acceptance_activity_count") or 0
                )
    return {key: (len(users[key]), acceptances[key]) for key in users}


def truth_idle_seats(sim: Simulator, today: dt.date) -> dict[str, tuple[int, int, int]]:
    """scope_name -> (seats, idle for 30 days, pending cancellation)."""
    threshold = dt.datetime.combine(today - dt.timedelta(days=30), dt.time(), dt.UTC)
    out = {}
    for kind, name in report_scopes(sim):
        seats = sim.truth.seats(kind, name)
        idle = [
            s
            for s in seats
            if not s.get("last_activity_at")
            or dt.datetime.fromisoformat(s["last_activity_at"].replace("Z", "+00:00")) < threshold
        ]
        pending = [s for s in seats if s.get("pending_cancellation_date")]
        out[name] = (len(seats), len(idle), len(pending))
    return out
