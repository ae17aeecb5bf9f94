"""README command one: `python -m copilot_devkit.demo`, twice, as a user runs it.

The demo's plugins come from the session's Meltano install and its state from a temporary
system database, so the test neither needs nor touches the user's own `.meltano/` state.
"""

from __future__ import annotations

import datetime as dt
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from copilot_devkit import demo
from copilot_devkit.simulator import Simulator

from tests.e2e.e2e_support import PROJECT, Meltano, iso_days, truth_daily_users

DAYS = 5

pytestmark = [
    pytest.mark.duckdb,
    #: `sim` has the settings of the simulator the demo starts: its truth is the demo's data.
    pytest.mark.simulator(
        organizations={demo.DEMO_ORGANIZATION: list(demo.DEMO_TEAMS)},
        enterprises=[],
        enterprise_teams={},
    ),
]


def run_demo(meltano: Meltano, workdir: Path) -> str:
    env = meltano.env(workdir / "meltano.db", {})
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "copilot_devkit.demo",
            "--days",
            str(DAYS),
            "--workdir",
            str(workdir),
        ],
        cwd=PROJECT.root,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return completed.stdout


@pytest.fixture(scope="module")
def outputs(meltano: Meltano, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    workdir = tmp_path_factory.mktemp("demo")
    return run_demo(meltano, workdir), run_demo(meltano, workdir)


def test_first_run_loads_everything_and_prints_the_summary(outputs: tuple[str, str]) -> None:
    first, _ = outputs
    assert "First run (no saved state)" in first
    for heading in (
        "Active and engaged users",
        "Code acceptance rate by language",
        "Code acceptance rate by editor",
        "Top features by users",
        "DuckDB file:",
    ):
        assert heading in first


def test_printed_users_match_the_truth(outputs: tuple[str, str], sim: Simulator) -> None:
    end = sim.settings.ready_through
    truth = truth_daily_users(sim, iso_days(end - dt.timedelta(days=DAYS - 1), end))
    printed = re.findall(
        rf"{demo.DEMO_ORGANIZATION}\s+(\d{{4}}-\d\d-\d\d)\s+(\d+)\s+(\d+)", outputs[0]
    )
    assert len(printed) == DAYS
    for day, active, engaged in printed:
        assert truth[(demo.DEMO_ORGANIZATION, day)] == (int(active), int(engaged))


def test_second_run_is_incremental(outputs: tuple[str, str], sim: Simulator) -> None:
    _, second = outputs
    end = sim.settings.ready_through
    assert f"Incremental run: Meltano's saved state has the bookmark {end.isoformat()}" in second
    lookback = 3  # the tap's default
    first_read = (end - dt.timedelta(days=lookback)).isoformat()
    assert f"read only {first_read}..{end.isoformat()} ({lookback + 1} days)" in second
    assert f"skipped {(end - dt.timedelta(days=DAYS - 1)).isoformat()}.." in second


def test_the_printed_explore_command_works(outputs: tuple[str, str]) -> None:
    command = next(line for line in outputs[1].splitlines() if "import duckdb" in line)
    completed = subprocess.run(
        shlex.split(command), cwd=PROJECT.root, capture_output=True, text=True, check=False
    )
    assert completed.returncode == 0, completed.stderr
    assert "vscode" in completed.stdout
