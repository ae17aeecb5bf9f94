"""Every mix of organizations, enterprises and teams, with the catalog exactly as `--discover`
prints it: the run exits 0, says once which streams have nothing to read, and every selected
stream equals the simulator's truth for the configured scopes.

Endpoints exist only for some scope kinds (billing: organizations; reports and seats:
organizations and enterprises; the metrics API: all three), so a stream whose kinds are not
configured has no partition and must read nothing, without a traceback.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from copilot_devkit.simulator import Simulator

from tap_copilot_metrics.tap import TapCopilotMetrics
from tests.tap_runner import TapRun, run_warnings
from tests.truth import MIXES, Key, ScopeRef, configured_scopes, iso_days, table_spec

DAYS = 3

pytestmark = pytest.mark.simulator(
    organizations={"octo-org": ["justice-league", "avengers"]},
    enterprises=["octo-ent"],
    # Teams publish metrics only on days with five active members: enough users, and
    # weekends as busy as weekdays, that every scope has data whatever the pinned day.
    users_per_org=80,
    users_per_enterprise=20,
    seats_per_org=3,
    weekend_activity=1.0,
)


def tap_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "tap_copilot_metrics", *args]


def discovered_catalog(config_path: Path) -> dict[str, Any]:
    """The catalog exactly as `--discover` prints it."""
    completed = subprocess.run(
        tap_command("--config", str(config_path), "--discover"),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return json.loads(completed.stdout)


def select_everything(catalog: dict[str, Any]) -> dict[str, Any]:
    """What `select: ["*.*"]` in Meltano gives: every stream selected, opt-in ones too."""
    for entry in catalog["streams"]:
        for metadata in entry["metadata"]:
            if metadata["breadcrumb"] == []:
                metadata["metadata"]["selected"] = True
    return catalog


def selected_streams(catalog: dict[str, Any]) -> list[str]:
    """Streams a catalog selects: `selected`, else `selected-by-default` (the SDK's rule)."""
    names = []
    for entry in catalog["streams"]:
        root = next(m["metadata"] for m in entry["metadata"] if m["breadcrumb"] == [])
        if root.get("selected", root.get("selected-by-default", False)):
            names.append(entry["tap_stream_id"])
    return names


def run_with(
    tmp_path: Path,
    config: dict[str, Any],
    catalog: dict[str, Any],
    state: dict[str, Any] | None = None,
) -> TapRun:
    catalog_path = tmp_path / "catalog.json"
    catalog_path.write_text(json.dumps(catalog))
    args = ["--config", str(tmp_path / "config.json"), "--catalog", str(catalog_path)]
    if state is not None:
        (tmp_path / "state.json").write_text(json.dumps(state))
        args += ["--state", str(tmp_path / "state.json")]
    completed = subprocess.run(
        tap_command(*args),
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    return TapRun.parse(completed.returncode, completed.stdout, completed.stderr)


def keyed(run: TapRun, stream: str, key_columns: tuple[str, ...]) -> dict[Key, dict[str, Any]]:
    records = run.records(stream)
    keys = [tuple(str(record[column]) for column in key_columns) for record in records]
    assert [key for key, n in Counter(keys).items() if n > 1] == [], stream
    for record in records:
        for column in key_columns:
            assert record[column] not in (None, ""), (stream, column)
    return dict(zip(keys, records, strict=True))


def without_added_columns(record: dict[str, Any], key_columns: tuple[str, ...]) -> dict[str, Any]:
    """GitHub's fields of a record: the tap adds only the scope columns (and `seat_key`)."""
    added = {"scope", "scope_name", "seat_key"}
    return {name: value for name, value in record.items() if name not in added}


def assert_equals_truth(
    sim: Simulator, run: TapRun, streams: list[str], scopes: list[ScopeRef], days: list[str]
) -> None:
    for stream in streams:
        spec = table_spec(stream)
        want = spec.rows(sim, days, scopes)
        got = keyed(run, stream, spec.key_columns)
        assert set(got) == set(want), stream
        for key, record in got.items():
            fields = without_added_columns(record, spec.key_columns)
            if stream.endswith(("_daily", "_metrics", "_seats", "_billing")):
                # Whole records: GitHub's field names and values, unchanged.
                assert fields == want[key], (stream, key)


@pytest.mark.parametrize("everything", [False, True], ids=["as-discovered", "select-all"])
@pytest.mark.parametrize("mix", list(MIXES))
def test_every_scope_mix_reads_what_exists_and_nothing_else(
    sim: Simulator, tmp_path: Path, mix: str, everything: bool
) -> None:
    last = sim.settings.today - dt.timedelta(days=1)
    days = iso_days(last - dt.timedelta(days=DAYS - 1), last)
    config = sim.tap_config(start_date=days[0], end_date=days[-1], **MIXES[mix])
    (tmp_path / "config.json").write_text(json.dumps(config))
    catalog = discovered_catalog(tmp_path / "config.json")
    if everything:
        catalog = select_everything(catalog)
    streams = selected_streams(catalog)

    run = run_with(tmp_path, config, catalog)

    assert run.exit_code == 0, run.stderr[-3000:]
    assert "Traceback" not in run.stderr
    assert run_warnings(run.stderr) == []
    assert_equals_truth(sim, run, streams, configured_scopes(sim, config), days)
    # A stream with no partition for the configured kinds says so once, at INFO.
    tap = TapCopilotMetrics(config=config, validate_config=False, setup_mapper=False)
    for name in streams:
        stream = tap.streams[name]
        kinds = getattr(stream, "scope_kinds", None)
        if kinds is None:
            continue  # a breakdown: it follows its parent
        served = any(config[kind.setting] for kind in kinds)
        skipped = [line for line in run.stderr.splitlines() if f"{name}: skipped:" in line]
        assert len(skipped) == (0 if served else 1), (name, skipped)
        if served:  # the comparison above was not of two empty sets
            assert run.records(name), name
        if not served:
            assert " INFO " in skipped[0] or "| INFO" in skipped[0]
    assert run.streams_with_records() <= set(streams)

    # A second, incremental run from the saved state is as clean, and reads the lookback only.
    again = run_with(tmp_path, config, catalog, state=run.final_state)
    assert again.exit_code == 0, again.stderr[-3000:]
    assert "Traceback" not in again.stderr
    assert run_warnings(again.stderr) == []
    assert again.final_state == run.final_state
