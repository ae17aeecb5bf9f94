"""Shared by the bad-input suites (test_bad_settings.py, test_bad_api_bodies.py,
test_bad_report_files.py): the simulator they run against, their tap config, and running one
stream against a body the simulator serves.

Each module starts its own simulator with these settings and shares it between its tests:
`pytestmark = simulator_marks()`.
"""

from __future__ import annotations

from typing import Any

import pytest
from copilot_devkit.simulator import Simulator
from jsonschema import Draft7Validator

from tap_copilot_metrics.tap import TapCopilotMetrics
from tests.reliability_support import (
    ENTERPRISE,
    ORG,
    TEAM,
    quick_config,
    run_sync,
    sentinel_token,
)
from tests.sim_support import wait_for_tap_threads
from tests.tap_runner import TapRun

#: One organization with two teams, one enterprise, one file per report.
SIMULATOR: dict[str, Any] = {
    "organizations": {ORG: ["justice-league", "avengers"]},
    "enterprises": [ENTERPRISE],
    "users_per_org": 12,
    "users_per_enterprise": 20,
    "seats_per_org": 3,
    "files_per_report": 1,
}


def simulator_marks() -> list[pytest.MarkDecorator]:
    """A bad-input module's `pytestmark`: its `sim` with SIMULATOR and a sentinel token of its
    own, reset for each test (`fresh_sim`)."""
    return [
        pytest.mark.simulator(token=sentinel_token(), **SIMULATOR),
        pytest.mark.usefixtures("fresh_sim"),
    ]


def base_config(sim: Simulator, **extra: Any) -> dict[str, Any]:
    """One organization (with a team) and one enterprise, yesterday only."""
    return quick_config(sim, days=1, **{"teams": [TEAM], **extra})


def serve(sim: Simulator, path: str, **body: Any) -> None:
    """The simulator answers every request to `path` with this body (until cleared)."""
    sim.faults.clear()
    sim.clear_requests()
    sim.faults.add(path=path, kind="body", times=None, **body)


def sync(config: dict[str, Any], stream: str) -> TapRun:
    run = run_sync(config, streams=[stream])
    wait_for_tap_threads()
    return run


def assert_valid_for_the_tap(stream: str, found: list[dict[str, Any]]) -> None:
    """Every record validates against the schema the tap declares for the stream."""
    tap = TapCopilotMetrics(config={}, validate_config=False, setup_mapper=False)
    schema = tap.streams[stream].schema
    validator = Draft7Validator(schema, format_checker=Draft7Validator.FORMAT_CHECKER)
    for record in found:
        errors = [
            f"{list(e.absolute_path)}: {e.message[:200]}" for e in validator.iter_errors(record)
        ]
        assert not errors, (stream, errors[:5])
