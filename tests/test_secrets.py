"""Tokens, App keys, JWTs and installation tokens never reach stdout, stderr or the state.

Runs use sentinel secrets (the simulator accepts the sentinel token; the App's key is a fresh
key whose PEM body lines serve as sentinels), debug logging (`TAP_COPILOT_METRICS_LOGLEVEL`,
the SDK's per-plugin log level variable), and cover success and each kind of failure.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from copilot_devkit.simulator import Simulator

from tests.metrics_support import (
    STREAM,
    app_config,
    cli_in_process,
    metrics_config,
    metrics_requests,
    run_concurrently,
)
from tests.reliability_support import (
    assert_debug_logging_was_on,
    assert_nothing_leaks,
    error_line,
    every_secret,
    sentinel_token,
)
from tests.tap_runner import TapRun, run_tap

DEBUG = {"TAP_COPILOT_METRICS_LOGLEVEL": "DEBUG"}


@pytest.fixture
def token_simulator(make_simulator: Any) -> Simulator:
    sim: Simulator = make_simulator(token=sentinel_token())
    return sim


def test_successful_runs_with_debug_logging_leak_nothing(
    token_simulator: Simulator,
    app_simulator: Simulator,
    app_keypair: Any,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """The real command, once with a token and once as a GitHub App (side by side)."""
    token_config = metrics_config(token_simulator, first_day=3)
    app_config_ = app_config(app_simulator, app_keypair.private_pem, first_day=3)
    jobs: dict[str, Callable[[], TapRun]] = {
        "token": lambda: run_tap(
            token_config,
            tmp_path=tmp_path_factory.mktemp("token"),
            streams=[STREAM],
            env=DEBUG,
        ),
        "app": lambda: run_tap(
            app_config_,
            tmp_path=tmp_path_factory.mktemp("app"),
            streams=[STREAM],
            env=DEBUG,
        ),
    }
    runs = run_concurrently(jobs)

    for run in runs.values():
        assert run.exit_code == 0, run.stderr[-2000:]
        assert run.records(STREAM)
        assert_debug_logging_was_on(run)
    assert_nothing_leaks(runs["token"], [token_simulator.settings.token])
    assert app_simulator.minted_tokens
    assert_nothing_leaks(runs["app"], every_secret(app_simulator, app_keypair.private_pem))


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("401", "Authentication failed (401)"),
        ("403", "Permission denied (403)"),
        ("budget", "still failing after retrying"),
    ],
)
def test_failed_runs_leak_nothing(
    token_simulator: Simulator,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    case: str,
    expected: str,
) -> None:
    monkeypatch.setenv("TAP_COPILOT_METRICS_LOGLEVEL", "DEBUG")
    config = metrics_config(token_simulator, first_day=3, retry_max_elapsed_seconds=0.3)
    used = [token_simulator.settings.token]
    if case == "401":
        config["auth_token"] = sentinel_token()  # a token GitHub does not know
        used.append(config["auth_token"])
    else:
        kind = "403" if case == "403" else "503"
        token_simulator.faults.add(path=r"/copilot/metrics$", kind=kind, times=None)

    run = cli_in_process(config, tmp_path, streams=[STREAM])

    assert run.exit_code == 1
    assert expected in error_line(run.stderr)
    assert_debug_logging_was_on(run)
    assert metrics_requests(token_simulator)
    assert_nothing_leaks(run, used)


def test_failed_app_auth_leaks_nothing(
    app_simulator: Simulator,
    app_keypair: Any,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """A 401 on the API after minting: neither key, JWT nor installation token is shown."""
    monkeypatch.setenv("TAP_COPILOT_METRICS_LOGLEVEL", "DEBUG")
    app_simulator.faults.add(path=r"/copilot/metrics$", kind="401", times=None)
    config = app_config(app_simulator, app_keypair.private_pem, first_day=3)

    run = cli_in_process(config, tmp_path, streams=[STREAM])

    assert run.exit_code == 1
    assert "Authentication failed (401)" in error_line(run.stderr)
    assert_debug_logging_was_on(run)
    assert app_simulator.minted_tokens
    assert_nothing_leaks(run, every_secret(app_simulator, app_keypair.private_pem))


def test_a_secret_of_the_wrong_type_is_not_echoed(simulator: Simulator, tmp_path: Path) -> None:
    config = metrics_config(simulator)
    config["auth_token"] = [sentinel_token()]  # e.g. a YAML list by mistake

    run = cli_in_process(config, tmp_path)

    assert run.exit_code == 1
    assert "`auth_token`" in error_line(run.stderr)
    assert_nothing_leaks(run, config["auth_token"])
    assert simulator.requests == []
