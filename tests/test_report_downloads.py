"""Report files over real HTTP: formats, signed links (no token, expiry, no leak), faults.

Expected records come from the simulator's truth API; a run that hit faults must emit exactly
what a clean run emits (the truth), with no key twice. Faults are armed on the simulator
(`sim.faults.add`), matched on the URL path: report calls live under
`/{orgs|enterprises}/{name}/copilot/metrics/reports/`, files under `/_downloads/`.
"""

from __future__ import annotations

import gzip
import logging
import re
from pathlib import Path

import pytest
from copilot_devkit.simulator import RequestLog, Simulator

from tap_copilot_metrics.errors import ReportUnreadable
from tests.reliability_support import download_paths
from tests.report_support import (
    REPORTS,
    SMALL,
    TWO_SCOPES,
    assert_equals_truth,
    config,
    day_range,
    expected,
    messages_of,
    requested_days,
)
from tests.sim_support import MakeSimulator, days_ago
from tests.tap_runner import bookmark, run_tap, sync_in_process
from tests.truth import report_scopes

USERS = "copilot_user_usage_daily"
#: Files here are split, cut short or refused mid-way, which needs several lines on every day:
#: weekends as busy as weekdays, whatever weekday the suite is pinned to.
BUSY = {**SMALL, "weekend_activity": 1.0}
REPORT_CALLS = r"/copilot/metrics/reports/"
DOWNLOADS = r"^/_downloads/"


def downloads(sim: Simulator) -> list[RequestLog]:
    """Requests the simulator received for report files."""
    return [r for r in sim.requests if r.path.startswith("/_downloads/")]


# --- formats -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("report_format", "files"),
    [("ndjson", 1), ("ndjson", 3), ("ndjson-gzip", 3), ("json-array", 3)],
)
def test_file_formats_and_several_files_per_report(
    make_simulator: MakeSimulator, report_format: str, files: int
) -> None:
    streams = ("copilot_usage_daily", USERS, "copilot_user_teams_daily")
    sim = make_simulator(
        **BUSY,
        **TWO_SCOPES,
        report_format=report_format,
        files_per_report=files,
        blank_lines=True,
    )
    days = day_range(days_ago(sim, 2), days_ago(sim, 1))
    run = sync_in_process(config(sim, days[0]), streams=streams)

    assert_equals_truth(sim, run, days, streams)
    # Guards: the files really are in that shape and every one was fetched once.
    served = sim.truth.report_files("users-1-day", "organization", "octo-org", days[0])
    assert len(served) == files
    for body in served:
        if report_format == "ndjson-gzip":
            assert body[:2] == b"\x1f\x8b"
            body = gzip.decompress(body)
        if report_format == "json-array":
            assert body.lstrip().startswith(b"[")
        else:
            assert b"\n\n" in body  # blank lines
    total = sum(
        len(sim.truth.report_files(REPORTS[stream][scope], scope, name, day))
        for stream in streams
        for scope, name in report_scopes(sim)
        for day in days
    )
    assert len(downloads(sim)) == total


# --- signed links ------------------------------------------------------------------------------


def test_download_requests_never_carry_the_github_token(make_simulator: MakeSimulator) -> None:
    sim = make_simulator(**BUSY, **TWO_SCOPES)
    day = days_ago(sim, 1)
    run = sync_in_process(config(sim, day), streams=[USERS])

    assert_equals_truth(sim, run, [day], [USERS])
    fetched = [r for r in sim.requests if r.path.startswith("/_downloads/")]
    assert fetched
    assert all("authorization" not in r.headers for r in fetched)
    assert all(r.status == 200 for r in fetched)
    api_calls = [r for r in sim.requests if re.search(REPORT_CALLS, r.path)]
    assert api_calls
    assert all(r.headers.get("authorization") for r in api_calls)


@pytest.mark.parametrize("mid_file", [False, True], ids=["before-file", "mid-file"])
def test_an_expired_link_is_replaced_by_fresh_links_without_doubling_records(
    make_simulator: MakeSimulator, caplog: pytest.LogCaptureFixture, mid_file: bool
) -> None:
    """File 2 of a day answers 403 "expired" (after a cut-short first try when mid_file): the
    tap asks the report endpoint again and reads on; records equal a clean run's."""
    caplog.set_level(logging.INFO)
    sim = make_simulator(**BUSY, **TWO_SCOPES, files_per_report=3)
    days = day_range(days_ago(sim, 2), days_ago(sim, 1))
    path = download_paths(sim, "users-1-day", "organization", "octo-org", days[1])[1]
    if mid_file:
        sim.faults.add(path=re.escape(path) + "$", kind="truncate", times=1)
    sim.faults.add(path=re.escape(path) + "$", kind="expire", times=1)

    run = sync_in_process(config(sim, days[0]), streams=[USERS])

    assert_equals_truth(sim, run, days, [USERS])
    # The expired day's report was asked twice (fresh links), the others once.
    asked = requested_days(sim, "users-1-day", "organization", "octo-org")
    assert sorted(asked) == [days[0].isoformat(), days[1].isoformat(), days[1].isoformat()]
    assert [r.status for r in sim.requests if r.path == path][-2:] == [403, 200]
    assert any("fresh links" in m for m in messages_of(caplog, USERS))


def test_a_link_refused_even_after_fresh_links_fails_the_run_naming_the_file(
    make_simulator: MakeSimulator,
) -> None:
    sim = make_simulator(**BUSY, organizations={"octo-org": []}, enterprises=[], files_per_report=2)
    day = days_ago(sim, 1)
    path = download_paths(sim, "users-1-day", "organization", "octo-org", day)[1]
    sim.faults.add(path=re.escape(path) + "$", kind="expire", times=None)

    with pytest.raises(ReportUnreadable) as raised:
        sync_in_process(config(sim, day), streams=[USERS])

    message = str(raised.value)
    for text in ("users-1-day", "organization 'octo-org'", day.isoformat(), "file 2 of 2", "403"):
        assert text in message
    assert "sig=" not in message
    # Asked for fresh links a bounded number of times, then gave up.
    refreshes = len(requested_days(sim, "users-1-day", "organization", "octo-org")) - 1
    assert 1 <= refreshes <= 5
    assert len([r for r in sim.requests if r.path == path]) == refreshes + 1


def test_a_report_withdrawn_while_read_fails_and_state_does_not_claim_the_day(
    make_simulator: MakeSimulator, tmp_path: Path
) -> None:
    """File 2 of the second day is refused and, asked for fresh links, the report endpoint
    answers "no report" (404): file 1's records are out, so the day cannot pass for one
    without a report; the run fails and the last STATE names the day before."""
    sim = make_simulator(**BUSY, organizations={"octo-org": []}, enterprises=[], files_per_report=2)
    days = day_range(days_ago(sim, 2), days_ago(sim, 1))
    path = download_paths(sim, "users-1-day", "organization", "octo-org", days[1])[1]
    # The first two report calls (one per day) pass; the third, the refresh, finds nothing.
    sim.faults.add(path=r"/users-1-day$", kind="slow", times=2, seconds=0)
    sim.faults.add(path=re.escape(path) + "$", kind="expire", times=1)
    sim.faults.add(path=r"/users-1-day$", kind="404", times=1)

    run = run_tap(config(sim, days[0]), tmp_path=tmp_path, streams=[USERS])

    assert run.exit_code != 0
    last_line = run.stderr.strip().splitlines()[-1]
    assert "withdrawn" in last_line
    assert days[1].isoformat() in last_line
    assert bookmark(run.final_state, USERS, "organization", "octo-org") == days[0].isoformat()
    assert [r.fault for r in sim.requests if r.path.endswith("/users-1-day")] == [
        "slow",
        "slow",
        "404",
    ]


def test_links_that_outlive_their_ttl_are_refreshed(make_simulator: MakeSimulator) -> None:
    """A real expiry: links live 2 s and the first download is answered after 2.5 s."""
    sim = make_simulator(**BUSY, organizations={"octo-org": []}, enterprises=[], link_ttl_seconds=2)
    day = days_ago(sim, 1)
    sim.faults.add(path=DOWNLOADS, kind="slow", times=1, seconds=2.5)

    run = sync_in_process(config(sim, day), streams=[USERS])

    assert_equals_truth(sim, run, [day], [USERS])
    assert requested_days(sim, "users-1-day", "organization", "octo-org") == [day.isoformat()] * 2
    assert downloads(sim)[0].status == 403


def test_signed_query_strings_never_reach_the_log_even_at_debug(
    make_simulator: MakeSimulator, tmp_path: Path
) -> None:
    sim = make_simulator(**BUSY, organizations={"octo-org": []}, enterprises=[])
    day = days_ago(sim, 1)
    for kind in ("500", "truncate", "expire", "drop"):
        sim.faults.add(path=DOWNLOADS, kind=kind, times=1)
    sim.faults.add(path=REPORT_CALLS, kind="500", times=1)

    run = run_tap(config(sim, day), tmp_path=tmp_path, streams=[USERS], env={"LOGLEVEL": "DEBUG"})

    assert run.exit_code == 0, run.stderr[-2000:]
    assert "DEBUG" in run.stderr  # debug logging was on
    assert "/_downloads/" in run.stderr  # file requests were logged, without their query
    assert "sig=" not in run.stderr
    assert "exp=" not in run.stderr
    assert sim.settings.token not in run.stderr
    assert run.records(USERS) == expected(sim, USERS, "organization", "octo-org", [day])


# --- transient faults --------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["500", "429", "drop", "truncate"])
@pytest.mark.parametrize("target", ["report-call", "download"])
def test_transient_faults_are_retried_and_records_equal_a_clean_run(
    make_simulator: MakeSimulator, target: str, kind: str
) -> None:
    sim = make_simulator(**BUSY, **TWO_SCOPES, files_per_report=2)
    days = day_range(days_ago(sim, 2), days_ago(sim, 1))
    path = r"/users-1-day$" if target == "report-call" else DOWNLOADS
    params = {"retry_after": 0} if kind == "429" else {}
    sim.faults.add(path=path, kind=kind, times=2, **params)

    run = sync_in_process(config(sim, days[0]), streams=[USERS])

    assert_equals_truth(sim, run, days, [USERS])
    hit = [r for r in sim.requests if r.fault == kind]
    assert len(hit) == 2
    for scope, name in report_scopes(sim):
        assert bookmark(run.final_state, USERS, scope, name) == days[-1].isoformat()


def test_a_file_cut_short_is_fetched_again_and_emitted_once(
    make_simulator: MakeSimulator,
) -> None:
    """Every first download of a file is cut in the middle (times=None would never end, so one
    cut per file): each file is fetched again, its records emitted once, equal to the truth."""
    sim = make_simulator(
        **BUSY,
        organizations={"octo-org": []},
        enterprises=[],
        files_per_report=1,
        blank_lines=False,
    )
    days = day_range(days_ago(sim, 2), days_ago(sim, 1))
    for day in days:
        path = download_paths(sim, "users-1-day", "organization", "octo-org", day)[0]
        sim.faults.add(path=re.escape(path) + "$", kind="truncate", times=1)
        # The cut lands after some complete lines, which must not be emitted twice.
        body = sim.truth.report_files("users-1-day", "organization", "octo-org", day)[0]
        assert body[: len(body) // 2].count(b"\n") >= 1

    run = sync_in_process(config(sim, days[0]), streams=[USERS])

    assert_equals_truth(sim, run, days, [USERS])
    # Days are fetched concurrently: compare each file's own sequence of answers.
    by_file: dict[str, list[str | None]] = {}
    for request in downloads(sim):
        by_file.setdefault(request.path, []).append(request.fault)
    assert sorted(by_file.values()) == [["truncate", None]] * len(days)


# --- malformed files ---------------------------------------------------------------------------


def test_a_malformed_file_fails_the_day_and_state_stays_before_it(
    make_simulator: MakeSimulator, tmp_path: Path
) -> None:
    """The simulator has no "malformed line" fault; the closest is "html" (a 200 HTML page as
    the file), which is malformed at line 1. Armed for good on one file of the second day."""
    sim = make_simulator(**BUSY, organizations={"octo-org": []}, enterprises=[], files_per_report=2)
    days = day_range(days_ago(sim, 3), days_ago(sim, 1))
    bad = days[1]
    path = download_paths(sim, "users-1-day", "organization", "octo-org", bad)[1]
    sim.faults.add(path=re.escape(path) + "$", kind="html", times=None)

    run = run_tap(config(sim, days[0]), tmp_path=tmp_path, streams=[USERS])

    assert run.exit_code != 0
    last_line = run.stderr.strip().splitlines()[-1]
    assert last_line.startswith("tap-copilot-metrics: error:")
    for text in ("users-1-day", bad.isoformat(), "line 1", "file 2 of 2"):
        assert text in last_line
    assert "sig=" not in run.stderr
    # The day before was emitted whole and bookmarked; the failed day is not claimed.
    assert bookmark(run.final_state, USERS, "organization", "octo-org") == days[0].isoformat()
    marks = {bookmark(s, USERS, "organization", "octo-org") for s in run.states}
    assert marks <= {None, days[0].isoformat()}
    good = expected(sim, USERS, "organization", "octo-org", [days[0]])
    assert run.records(USERS)[: len(good)] == good
    assert all(r["day"] <= bad.isoformat() for r in run.records(USERS))
