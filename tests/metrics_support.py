"""What `copilot_metrics` should emit for a config, computed from the simulator's truth."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from copilot_devkit.simulator import Simulator

from tap_copilot_metrics.tap import main
from tests.sim_support import INSTALLATION_ID, as_app, days_ago
from tests.tap_runner import KEYS as PRIMARY_KEYS
from tests.tap_runner import TapRun, catalog_selecting

STREAM = "copilot_metrics"
KEYS = list(PRIMARY_KEYS[STREAM])
T = TypeVar("T")


def metrics_config(sim: Simulator, *, first_day: int = 6, **extra: Any) -> dict[str, Any]:
    """All the simulator's scopes, from `first_day` days ago, with quick retries."""
    config = sim.tap_config(
        start_date=days_ago(sim, first_day).isoformat(),
        retry_initial_wait_seconds=0.01,
        retry_max_elapsed_seconds=10,
        secondary_rate_limit_wait_seconds=0.05,
        request_timeout_seconds=5,
    )
    config.update(extra)
    return config


def app_config(
    sim: Simulator, private_pem: str, *, installation_id: int = INSTALLATION_ID, **extra: Any
) -> dict[str, Any]:
    """`metrics_config` with GitHub App auth (`sim_support.as_app`) instead of the token."""
    return as_app(metrics_config(sim, **extra), private_pem, installation_id=installation_id)


def scopes(config: dict[str, Any]) -> list[tuple[str, str]]:
    """(scope, scope_name) of every configured scope, in the tap's partition order."""
    return [
        *(("organization", name) for name in config.get("organizations", [])),
        *(("team", name) for name in config.get("teams", [])),
        *(("enterprise", name) for name in config.get("enterprises", [])),
    ]


def expected_records(
    sim: Simulator,
    config: dict[str, Any],
    first: dt.date | str,
    last: dt.date | str | None = None,
    *,
    only: list[tuple[str, str]] | None = None,
) -> list[dict[str, Any]]:
    """The records the tap must emit for days first..last (default: yesterday), all scopes."""
    lo = str(first)
    hi = str(last or days_ago(sim, 1))
    records: list[dict[str, Any]] = []
    for scope, name in only or scopes(config):
        records.extend(
            {"scope": scope, "scope_name": name, **day}
            for day in sim.truth.legacy_metrics(scope, name)
            if lo <= day["date"] <= hi
        )
    return records


def keyed(records: list[dict[str, Any]]) -> dict[tuple[str, str, str], dict[str, Any]]:
    """Records by primary key (scope, scope_name, date)."""
    return {(r["scope"], r["scope_name"], r["date"]): r for r in records}


def metrics_requests(sim: Simulator) -> list[Any]:
    """The simulator's log of copilot/metrics calls (auth minting and faults included)."""
    return [r for r in sim.requests if r.path.endswith("/copilot/metrics")]


def run_concurrently(jobs: dict[str, Callable[[], T]], *, workers: int = 3) -> dict[str, T]:
    """Run independent jobs (e.g. CLI subprocesses) side by side; results by job name.

    Starting the tap's CLI costs about a second of interpreter start-up; running a module's
    error cases together keeps the suite fast without hiding which case failed.
    """
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {name: pool.submit(job) for name, job in jobs.items()}
        return {name: future.result() for name, future in futures.items()}


def cli_in_process(
    config: dict[str, Any],
    tmp_path: Path,
    *args: str,
    streams: list[str] | None = None,
    state: dict[str, Any] | None = None,
) -> TapRun:
    """The console entry point (`tap_copilot_metrics.tap:main`) called in this process.

    Same code path as the `tap-copilot-metrics` command minus interpreter start-up; stdout and
    stderr are captured, and the console log handler the SDK's CLI adds is removed afterwards.
    """
    argv = ["--config", str(tmp_path / "config.json"), *args]
    (tmp_path / "config.json").write_text(json.dumps(config))
    if streams is not None:
        (tmp_path / "catalog.json").write_text(json.dumps(catalog_selecting(config, streams)))
        argv += ["--catalog", str(tmp_path / "catalog.json")]
    if state is not None:
        (tmp_path / "state.json").write_text(json.dumps(state))
        argv += ["--state", str(tmp_path / "state.json")]
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    out, err = io.StringIO(), io.StringIO()
    code: int | str | None = 0
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            main(argv)
    except SystemExit as exc:
        code = exc.code
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
    return TapRun.parse(int(code or 0), out.getvalue(), err.getvalue())
