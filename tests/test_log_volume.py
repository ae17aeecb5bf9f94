"""Logs sized for schedulers: a default run logs a small fraction of what it outputs.

Schedulers (and Meltano) keep every stderr line of every nightly run. The measure is the one
an operator sees: a default-selection run, the catalog exactly as `--discover` prints it, at the
default log level, for one organization of 300 users over 20 days and for the simulator's small
default (two organizations and an enterprise of 30 users each, 28 days), where per-stream lines
weigh most against the output.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from copilot_devkit.simulator import Simulator

from tests.sim_support import days_ago
from tests.tap_runner import TapRun, run_warnings

#: Stderr may be at most this share of stdout, and no line longer than this many bytes.
MAX_LOG_SHARE = 0.02
MAX_LINE_BYTES = 4096
DAYS = 20

pytestmark = pytest.mark.simulator(
    organizations={"octo-org": ["justice-league", "avengers"]},
    enterprises=[],
    users_per_org=300,
    seats_per_org=300,
)


@pytest.fixture(scope="module")
def default_run(
    sim: Simulator, tmp_path_factory: pytest.TempPathFactory
) -> tuple[TapRun, bytes, bytes]:
    last = days_ago(sim, 1)
    config = sim.tap_config(
        start_date=(last - dt.timedelta(days=DAYS - 1)).isoformat(),
        end_date=last.isoformat(),
        teams=[],
    )
    return run_as_discovered(config, tmp_path_factory.mktemp("log-volume"))


@pytest.fixture(scope="module")
def small_default_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[TapRun, bytes, bytes]:
    with Simulator() as small:
        config = small.tap_config(teams=[])
        return run_as_discovered(config, tmp_path_factory.mktemp("log-volume-small"))


def run_as_discovered(config: dict[str, Any], workdir: Path) -> tuple[TapRun, bytes, bytes]:
    """The tap run with the catalog exactly as `--discover` prints it."""
    (workdir / "config.json").write_text(json.dumps(config))
    command = [sys.executable, "-m", "tap_copilot_metrics", "--config", "config.json"]
    catalog = subprocess.run(
        [*command, "--discover"], cwd=workdir, capture_output=True, check=True, timeout=60
    ).stdout
    (workdir / "catalog.json").write_bytes(catalog)
    completed = subprocess.run(
        [*command, "--catalog", "catalog.json"],
        cwd=workdir,
        capture_output=True,
        check=False,
        timeout=300,
    )
    run = TapRun.parse(completed.returncode, completed.stdout.decode(), completed.stderr.decode())
    return run, completed.stdout, completed.stderr


@pytest.mark.parametrize("size", ["300 users", "small default"])
def test_a_default_run_logs_at_most_2_percent_of_its_output(
    size: str, request: pytest.FixtureRequest
) -> None:
    fixture = "default_run" if size == "300 users" else "small_default_run"
    run, stdout, stderr = request.getfixturevalue(fixture)
    assert run.exit_code == 0, stderr[-2000:]
    longest = max(len(line) for line in stderr.split(b"\n"))
    share = len(stderr) / len(stdout)
    print(  # the figures, for the record (pytest -s)
        f"stdout {len(stdout):,} B, stderr {len(stderr):,} B ({share:.2%}), "
        f"longest stderr line {longest:,} B"
    )
    assert len(run.records("copilot_user_usage_daily")) > 1000, "too little data to measure"
    assert len(run.records("copilot_user_usage_daily_by_ide")) > 0, "breakdowns are measured"
    assert share <= MAX_LOG_SHARE
    assert longest <= MAX_LINE_BYTES
    assert run_warnings(stderr.decode()) == []


def test_logs_hold_no_record_data(default_run: tuple[TapRun, bytes, bytes]) -> None:
    run, _, stderr = default_run
    logged = stderr.decode()
    logins = {record["user_login"] for record in run.records("copilot_user_usage_daily")}
    seats = {record["seat_key"] for record in run.records("copilot_seats")}
    assert logins
    assert seats
    assert [value for value in logins | seats if value in logged] == []


def test_logs_keep_what_an_operator_needs_per_stream_and_scope(
    default_run: tuple[TapRun, bytes, bytes],
) -> None:
    """Per stream and scope: days read, records, requests, retries and time, in one line."""
    run, _, stderr = default_run
    lines = stderr.decode().splitlines()
    for stream in ("copilot_usage_daily", "copilot_user_usage_daily", "copilot_seats"):
        records = len(run.records(stream))
        [summary] = [
            line
            for line in lines
            if f"{stream} for organization 'octo-org': " in line and " requests" in line
        ]
        assert f" {records} records, " in summary
        assert " retries, " in summary
        assert summary.endswith(" s")
        if stream != "copilot_seats":
            assert f": {DAYS} days, " in summary
