"""Transient faults are retried: the run succeeds with the same records as a clean run.

Each fault kind is armed on the simulator for the first requests of the metrics endpoint; waits
are configured short (`retry_initial_wait_seconds`, `secondary_rate_limit_wait_seconds`) except
where GitHub names the wait (`Retry-After`, `x-ratelimit-reset`), which must be honoured.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

import pytest
from copilot_devkit.simulator import Simulator

from tap_copilot_metrics.errors import RetryBudgetExceeded
from tap_copilot_metrics.tap import TapCopilotMetrics
from tests.metrics_support import (
    KEYS,
    STREAM,
    expected_records,
    metrics_config,
    metrics_requests,
)
from tests.sim_support import days_ago
from tests.tap_runner import TapRun, catalog_selecting, sync_in_process

FIRST_DAY = 5
SECONDARY_WAIT = 0.3
# Only the "slow" case shortens the request timeout: elsewhere a busy machine could make an
# ordinary answer late, and the extra retry would muddle what the test counts.
SLOW_TIMEOUT = 0.5
# One scope: the faults hit it, and more scopes would only make each run longer.
SCOPES = {"organizations": ["octo-org"], "teams": [], "enterprises": []}


@dataclass
class Fault:
    """A fault armed for the first `times` metrics requests, and the least wait it implies."""

    kind: str
    times: int = 2
    params: dict[str, Any] = field(default_factory=dict)
    min_wait: float = 0.0
    config: dict[str, Any] = field(default_factory=dict)
    #: Words the retry warning must contain.
    logged: str = ""


FAULTS: dict[str, Fault] = {
    "500": Fault("500", logged="answered 500"),
    "502": Fault("502", logged="answered 502"),
    "503": Fault("503", logged="answered 503"),
    "503-retry-after": Fault("503", 1, {"retry_after": 1}, min_wait=1.0),
    "429-retry-after": Fault("429", 1, {"retry_after": 1}, min_wait=1.0, logged="answered 429"),
    "secondary-403-retry-after": Fault(
        "secondary-403", 1, {"retry_after": 1}, min_wait=1.0, logged="secondary rate limit"
    ),
    "secondary-403-no-retry-after": Fault(
        "secondary-403", 1, min_wait=SECONDARY_WAIT, logged="secondary rate limit"
    ),
    "secondary-429-retry-after": Fault("secondary-429", 1, {"retry_after": 1}, min_wait=1.0),
    "secondary-429-no-retry-after": Fault("secondary-429", 1, min_wait=SECONDARY_WAIT),
    # x-ratelimit-reset is a whole second 1 s ahead: the tap waits until then (+1 s of slack).
    "primary-limit-reset": Fault("primary", 1, {"reset_in": 1}, min_wait=1.0),
    "dropped-connection": Fault("drop", logged="connection dropped"),
    "truncated-body": Fault("truncate"),
    "slow-beyond-timeout": Fault(
        "slow",
        1,
        {"seconds": 2},
        min_wait=SLOW_TIMEOUT,
        config={"request_timeout_seconds": SLOW_TIMEOUT},
        logged="timed out",
    ),
    "200-html-body": Fault("html", logged="not valid JSON"),
    "200-empty-body": Fault("empty", logged="empty body"),
}


def config_for(sim: Simulator, **extra: Any) -> dict[str, Any]:
    settings = {
        "secondary_rate_limit_wait_seconds": SECONDARY_WAIT,
        **SCOPES,
        **extra,
    }
    return metrics_config(sim, first_day=FIRST_DAY, **settings)


def timed_sync(config: dict[str, Any]) -> tuple[TapRun, float]:
    started = time.monotonic()
    run = sync_in_process(config, streams=[STREAM])
    return run, time.monotonic() - started


@pytest.mark.parametrize("name", list(FAULTS))
def test_transient_fault_is_retried_to_a_clean_result(
    name: str, simulator: Simulator, caplog: pytest.LogCaptureFixture
) -> None:
    fault = FAULTS[name]
    config = config_for(simulator, **fault.config)
    armed = simulator.faults.add(
        path=r"^/orgs/octo-org/copilot/metrics$",
        kind=fault.kind,
        times=fault.times,
        **fault.params,
    )

    with caplog.at_level(logging.WARNING):
        run, elapsed = timed_sync(config)

    assert run.records(STREAM) == expected_records(
        simulator, config, days_ago(simulator, FIRST_DAY)
    )
    assert run.duplicate_keys(STREAM, KEYS) == []
    faulted = [r for r in metrics_requests(simulator) if r.path == "/orgs/octo-org/copilot/metrics"]
    # The fault answered the first tries, then one clean try got the page; nothing more.
    # (A slow answer is logged only when the simulator finishes it, after the tap gave up.)
    assert armed.hits == fault.times
    # (A page 2 is asked when the scope has no data for the window's last day: not a retry.)
    first_page = [r for r in faulted if r.query.get("page") == "1"]
    clean = [r for r in first_page if r.fault is None]
    assert [r.status for r in clean] == [200]
    assert all(r.query == clean[0].query for r in first_page)
    # GitHub's (or the configured) wait was honoured, and not overdone.
    assert fault.min_wait * 0.95 <= elapsed < fault.min_wait + 5
    # (Only this stream's warnings: a thread left over by another test may log here too.)
    retries = [
        message
        for message in (r.getMessage() for r in caplog.records)
        if message.startswith(f"{STREAM}: ") and "; retry " in message
    ]
    assert len(retries) == fault.times, retries
    assert all(fault.logged in message for message in retries), retries


def test_clean_run_waits_for_nothing(simulator: Simulator) -> None:
    """The baseline the faults are compared with: no fault, no retry, no wait."""
    config = config_for(simulator)
    run, elapsed = timed_sync(config)
    assert run.records(STREAM) == expected_records(
        simulator, config, days_ago(simulator, FIRST_DAY)
    )
    assert {r.status for r in simulator.requests} == {200}
    assert elapsed < 3


@pytest.mark.parametrize(
    ("kind", "params"),
    [
        ("503", {}),
        ("429", {"retry_after": 60}),  # GitHub asks for a minute: the budget still wins
        ("secondary-403", {}),  # the configured secondary wait is longer than the budget
        ("drop", {}),
    ],
)
def test_total_wait_is_bounded_by_the_retry_budget(
    simulator: Simulator, kind: str, params: dict[str, Any]
) -> None:
    budget = 0.5
    config = config_for(
        simulator,
        retry_max_elapsed_seconds=budget,
        retry_initial_wait_seconds=0.05,
        secondary_rate_limit_wait_seconds=60,
    )
    simulator.faults.add(path=r"/copilot/metrics$", kind=kind, times=None, **params)
    tap = TapCopilotMetrics(config=config, catalog=catalog_selecting(config, [STREAM]))

    started = time.monotonic()
    with pytest.raises(RetryBudgetExceeded) as failure:
        tap.sync_all()
    elapsed = time.monotonic() - started

    assert budget <= elapsed < budget + 2
    tries = metrics_requests(simulator)
    assert len(tries) >= 2
    assert {r.fault for r in tries} == {kind}
    assert f"retry_max_elapsed_seconds={budget:g}" in str(failure.value)
    if kind != "drop":
        assert f"answered {tries[-1].status}" in str(failure.value)
