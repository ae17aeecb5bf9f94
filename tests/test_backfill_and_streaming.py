"""Backfills from the 28-day reports, and the streaming property of report files.

A backfill of the recent weeks reads `*-28-day/latest` (one call) instead of one 1-day report
per day; the records must be exactly those of the day-by-day path. A report file larger than a
memory cap must go through the tap without the tap's memory growing to the file's size.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from copilot_devkit.simulator import Simulator

from tests.reliability_support import state_with
from tests.report_support import REPORT_STREAMS
from tests.tap_runner import KEYS, catalog_selecting, sync_in_process

#: Two report streams with a 28-day report and user-teams without one; repositories (no 28-day
#: report either) would only make the runs longer.
BACKFILL_STREAMS = [s for s in REPORT_STREAMS if s != "copilot_repository_usage_daily"]


def report_calls(sim: Simulator) -> Counter[str]:
    """Report API calls per report name (`users-28-day` for `.../users-28-day/latest`)."""
    calls: Counter[str] = Counter()
    for request in sim.requests:
        if "/copilot/metrics/reports/" in request.path:
            parts = request.path.split("/")
            calls[parts[-2] if parts[-1] == "latest" else parts[-1]] += 1
    return calls


def by_key(records: list[dict], stream: str) -> dict[tuple, dict]:
    return {tuple(record[k] for k in KEYS[stream]): record for record in records}


def test_a_backfill_reads_the_28_day_reports_and_emits_the_same_records(
    make_simulator,
) -> None:
    sim = make_simulator(users_per_org=12, users_per_enterprise=15, files_per_report=2)
    start = (sim.settings.today - dt.timedelta(days=35)).isoformat()
    runs, calls = {}, {}
    for use_28_day in (True, False):
        sim.clear_requests()
        config = sim.tap_config(start_date=start, backfill_from_28_day_reports=use_28_day)
        runs[use_28_day] = sync_in_process(config, streams=BACKFILL_STREAMS)
        calls[use_28_day] = report_calls(sim)

    for stream in BACKFILL_STREAMS:
        fast, slow = runs[True].records(stream), runs[False].records(stream)
        assert len(fast) == len(by_key(fast, stream)), f"duplicate keys in {stream}"
        # Only the 28-day report has its window's figures, kept on its last day's record.
        engagement = "copilot_feature_engagement"
        window = [r.pop(engagement) for r in fast if engagement in r]
        assert bool(window) == (stream == "copilot_usage_daily"), stream
        assert by_key(fast, stream) == by_key(slow, stream), stream
        assert fast, stream
    assert runs[True].final_state == runs[False].final_state

    scopes = len(sim.settings.organizations) + len(sim.settings.enterprises)
    window_days = 35
    # Day by day: one call per report, scope and day.
    assert calls[False]["users-1-day"] == scopes * window_days
    # From the 28-day report: one call per scope, plus the days before its window.
    start_28, end_28, _ = sim.truth.report_28_day("users-28-day", "organization", "octo-org")
    covered = (dt.date.fromisoformat(end_28) - dt.date.fromisoformat(start_28)).days + 1
    assert calls[True]["users-28-day"] == scopes
    assert calls[True]["users-1-day"] == scopes * (window_days - covered)
    assert calls[True]["organization-28-day"] == len(sim.settings.organizations)
    # user-teams has no 28-day report: still day by day.
    assert calls[True]["user-teams-1-day"] == calls[False]["user-teams-1-day"]


def test_a_nightly_run_makes_one_call_per_day_of_the_lookback_window(simulator) -> None:
    yesterday = simulator.settings.today - dt.timedelta(days=1)
    config = simulator.tap_config(start_date=(yesterday - dt.timedelta(days=30)).isoformat())
    lookback = 3
    state = state_with(
        {
            ("copilot_user_usage_daily", "organization", org): yesterday.isoformat()
            for org in simulator.settings.organizations
        }
    )
    config["enterprises"] = []
    sync_in_process(
        {**config, "lookback_days": lookback}, streams=["copilot_user_usage_daily"], state=state
    )

    calls = report_calls(simulator)
    assert calls == {"users-1-day": (lookback + 1) * len(simulator.settings.organizations)}


def _peak_rss_mb(process: subprocess.Popen) -> float:
    """High-water RSS of a running child, polled from /proc until it exits (VmHWM is per exec)."""
    peak = 0.0
    status = Path(f"/proc/{process.pid}/status")
    while process.poll() is None:
        try:
            for line in status.read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]) / 1024)
        except (FileNotFoundError, ProcessLookupError):
            break
        time.sleep(0.02)
    return peak


def test_a_report_file_larger_than_the_memory_cap_streams_through(
    make_simulator, tmp_path: Path
) -> None:
    """One users-1-day file larger than the memory cap goes through a tap whose peak RSS stays
    under the cap: the file is never held in memory whole (the decoded records alone would
    take several times the file's size)."""
    memory_cap_mb = 90
    sim = make_simulator(
        organizations={"octo-org": []}, enterprises=[], users_per_org=40_000, files_per_report=1
    )
    # The most recent weekday: most users are active, so the file is large.
    day = sim.settings.today - dt.timedelta(days=1)
    while day.weekday() >= 5:
        day -= dt.timedelta(days=1)
    file_mb = len(sim.truth.report_files("users-1-day", "organization", "octo-org", day)[0]) / 1e6
    assert file_mb > memory_cap_mb * 1.2, f"the report file is only {file_mb:.0f} MB"

    config = sim.tap_config(start_date=day.isoformat(), end_date=day.isoformat())
    config_path, catalog_path = tmp_path / "config.json", tmp_path / "catalog.json"
    config_path.write_text(json.dumps(config))
    catalog = catalog_selecting(config, ["copilot_user_usage_daily"])
    catalog_path.write_text(json.dumps(catalog))
    output = tmp_path / "out.jsonl"
    with output.open("wb") as sink:
        tap = subprocess.Popen(
            [
                *(sys.executable, "-m", "tap_copilot_metrics"),
                *("--config", str(config_path), "--catalog", str(catalog_path)),
            ],
            stdout=sink,
            stderr=subprocess.DEVNULL,
        )
        peak_mb = _peak_rss_mb(tap)
    assert tap.wait() == 0

    with output.open("rb") as emitted:
        records = sum(1 for line in emitted if line.startswith(b'{"type":"RECORD"'))
    lines = sim.truth.report_lines("users-1-day", "organization", "octo-org", day)
    assert records == len(lines)
    print(f"file {file_mb:.0f} MB, tap peak RSS {peak_mb:.0f} MB")
    assert 0 < peak_mb < memory_cap_mb
