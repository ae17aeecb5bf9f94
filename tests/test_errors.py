"""Each fatal API answer ends the CLI with exit code 1 and one line that says what to do.

Every case runs against a simulator of its own. One case per error class runs the real command
in a subprocess (side by side in a module fixture: interpreter start-up dominates); the other
variants call the same console entry point (`tap_copilot_metrics.tap:main`) in this process.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from copilot_devkit.simulator import Simulator

from tests.metrics_support import (
    STREAM,
    cli_in_process,
    metrics_config,
    metrics_requests,
    run_concurrently,
)
from tests.reliability_support import assert_nothing_leaks, error_line
from tests.sim_support import MakeSimulator, started_simulators
from tests.tap_runner import TapRun, run_tap

WRONG_TOKEN = "ghp_this_token_is_not_valid_0000000000"
PERMISSIONS = ["manage_billing:copilot", "read:org", "read:enterprise", "GitHub Copilot Business"]
CLOSED = ["2026-04-02", "closed", "usage report streams", "copilot_usage_daily"]


@dataclass
class Case:
    """Simulator settings, config changes, faults, and what the error line must say."""

    words: list[str]
    simulator: dict[str, Any] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    faults: list[dict[str, Any]] = field(default_factory=list)
    #: Requests the failing call may make: 1 for answers that retrying cannot fix.
    tries: Callable[[int], bool] = lambda n: n == 1
    #: Run as a subprocess (one case per error class) rather than through `main` in-process.
    subprocess: bool = False


ORG_ONLY = {"organizations": ["octo-org"], "teams": [], "enterprises": []}

CASES: dict[str, Case] = {
    "401-bad-token": Case(
        ["Authentication failed (401)", "organization 'octo-org'", "with auth_token", "invalid"],
        config={**ORG_ONLY, "auth_token": WRONG_TOKEN},
        subprocess=True,
    ),
    "403-missing-permission": Case(
        ["Permission denied (403)", "organization 'acme'", *PERMISSIONS],
        simulator={"forbidden": {"acme"}},
        config={"organizations": ["acme"], "teams": [], "enterprises": []},
        subprocess=True,
    ),
    "403-team-missing-permission": Case(
        ["Permission denied (403)", "team 'octo-org/avengers'", *PERMISSIONS],
        simulator={"forbidden": {"octo-org/avengers"}},
        config={"organizations": ["octo-org"], "teams": ["octo-org/avengers"], "enterprises": []},
    ),
    "404-organization-or-api-closed": Case(
        ["Not found (404)", "organization 'octo-org'", "`organizations`", *CLOSED],
        simulator={"legacy_closed": True},
        config=ORG_ONLY,
        subprocess=True,
    ),
    "404-unknown-team": Case(
        ["Not found (404)", "team 'octo-org/no-such-team'", "`teams`", *CLOSED],
        config={"organizations": ["octo-org"], "teams": ["octo-org/no-such-team"]},
    ),
    "404-unknown-enterprise": Case(
        ["Not found (404)", "enterprise 'no-such-ent'", "`enterprises`", *CLOSED],
        config={"organizations": [], "teams": [], "enterprises": ["no-such-ent"]},
    ),
    "422-organization-policy-disabled": Case(
        [
            '"Copilot metrics API access" policy is disabled',
            "organization 'octo-org'",
            "Organization settings > Copilot > Policies",
        ],
        simulator={"policy_disabled": {"octo-org"}},
        config=ORG_ONLY,
        subprocess=True,
    ),
    "422-enterprise-policy-disabled": Case(
        [
            '"Copilot metrics API access" policy is disabled',
            "enterprise 'octo-ent'",
            "Enterprise settings > Policies > Copilot",
        ],
        simulator={"policy_disabled": {"octo-ent"}},
        config={"organizations": [], "teams": [], "enterprises": ["octo-ent"]},
    ),
    "retry-budget-spent-on-502": Case(
        [
            "/orgs/octo-org/copilot/metrics",
            "answered 502",
            "still failing after retrying",
            "retry_max_elapsed_seconds=0.4",
        ],
        config={**ORG_ONLY, "retry_max_elapsed_seconds": 0.4},
        faults=[{"path": "/copilot/metrics$", "kind": "502", "times": None}],
        tries=lambda n: n > 1,
        subprocess=True,
    ),
    "retry-budget-spent-on-secondary-limit": Case(
        ["answered 403", "secondary rate limit", "retry_max_elapsed_seconds=0.4"],
        config={**ORG_ONLY, "retry_max_elapsed_seconds": 0.4},
        faults=[{"path": "/copilot/metrics$", "kind": "secondary-403", "times": None}],
        tries=lambda n: n > 1,
    ),
    "retry-budget-spent-on-dropped-connections": Case(
        ["connection dropped", "still failing after retrying", "retry_max_elapsed_seconds=0.4"],
        config={**ORG_ONLY, "retry_max_elapsed_seconds": 0.4},
        faults=[{"path": "/copilot/metrics$", "kind": "drop", "times": None}],
        tries=lambda n: n > 1,
    ),
}


SUBPROCESS_CASES = [name for name, case in CASES.items() if case.subprocess]


def prepared(make: MakeSimulator, name: str) -> tuple[Simulator, dict[str, Any]]:
    """A simulator started by `make`, armed for the case, and the tap config pointing at it."""
    case = CASES[name]
    sim = make(**case.simulator)
    for fault in case.faults:
        sim.faults.add(**fault)
    return sim, metrics_config(sim, **case.config)


@pytest.fixture(scope="module")
def subprocess_runs(
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, tuple[TapRun, Simulator, dict[str, Any]]]:
    """The subprocess cases, run side by side."""
    with started_simulators() as make:
        setups = {name: prepared(make, name) for name in SUBPROCESS_CASES}

        def job(name: str) -> Callable[[], TapRun]:
            path = tmp_path_factory.mktemp(name)
            config = setups[name][1]
            return lambda: run_tap(config, tmp_path=path, streams=[STREAM], timeout=60)

        runs = run_concurrently({name: job(name) for name in SUBPROCESS_CASES})
        return {name: (runs[name], *setups[name]) for name in SUBPROCESS_CASES}


@pytest.mark.parametrize("name", list(CASES))
def test_fatal_answer_is_one_actionable_line(
    name: str, request: pytest.FixtureRequest, make_simulator: MakeSimulator, tmp_path: Path
) -> None:
    case = CASES[name]
    if case.subprocess:
        run, sim, config = request.getfixturevalue("subprocess_runs")[name]
    else:
        sim, config = prepared(make_simulator, name)
        run = cli_in_process(config, tmp_path, streams=[STREAM])

    assert run.exit_code == 1
    line = error_line(run.stderr)
    for words in case.words:
        assert words in line, line
    assert "Traceback" not in run.stderr
    failing = [r for r in metrics_requests(sim) if r.status != 200]
    assert failing, "the simulator never refused anything"
    assert case.tries(len(failing)), [r.status for r in failing]
    # The token is never part of what the user reads.
    assert_nothing_leaks(run, [sim.settings.token, config["auth_token"]])
