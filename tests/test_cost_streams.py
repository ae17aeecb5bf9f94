"""Copilot cost streams (`copilot_ai_credit_usage`, `copilot_premium_request_usage`) over real HTTP.

Every record equals the simulator's truth (tests/truth.py `CostTable`), keys are never empty; a
nightly run asks only the lookback window; today is never asked for and `end_date` is inclusive;
the window never leaves the 24 months GitHub keeps; a refused scope (403/404) is one line that
stops the run or skips the scope, as `billing_access_errors` says. The simulator's side of the
endpoints is tests/test_cost_simulator.py.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from copilot_devkit.simulator import Simulator
from copilot_devkit.simulator.costs import window_start

from tap_copilot_metrics.clock import TODAY_VARIABLE
from tap_copilot_metrics.schemas.costs import MODEL_PLACEHOLDER
from tap_copilot_metrics.streams.breakdowns import UNKNOWN
from tap_copilot_metrics.streams.costs import OLDEST_SAFE_DAY_AGE
from tap_copilot_metrics.tap import TapCopilotMetrics
from tests.reliability_support import (
    ENTERPRISE,
    ORG,
    QUICK_RETRIES,
    error_line,
    keyed,
    partition_bookmarks,
    run_cli,
    state_with,
    tail,
)
from tests.sim_support import MakeSimulator, days_ago
from tests.tap_runner import KEYS, TapRun, run_warnings
from tests.truth import iso_days, table_spec

SIMULATOR: dict[str, Any] = {
    "organizations": {ORG: []},
    "enterprises": [ENTERPRISE],
    "users_per_org": 10,
    "users_per_enterprise": 10,
    "seats_per_org": 3,
}
pytestmark = [pytest.mark.simulator(**SIMULATOR), pytest.mark.usefixtures("fresh_sim")]

USAGE = {"copilot_ai_credit_usage": "ai_credit", "copilot_premium_request_usage": "premium_request"}
STREAMS = tuple(USAGE)
SCOPES = (("organization", ORG), ("enterprise", ENTERPRISE))
PREFIX = {"organization": f"/organizations/{ORG}", "enterprise": f"/enterprises/{ENTERPRISE}"}


def config(sim: Simulator, first: dt.date, **extra: Any) -> dict[str, Any]:
    """Both scopes, from `first`, quick retries."""
    base = sim.tap_config(start_date=first.isoformat(), teams=[], **QUICK_RETRIES)
    return {**base, **extra}


def asked(sim: Simulator) -> list[tuple[str, dt.date]]:
    """(path, day) of every billing usage request, in order; the day as the query spelled it."""
    return [
        (r.path, dt.date(int(r.query["year"]), int(r.query["month"]), int(r.query["day"])))
        for r in sim.requests
        if "/settings/billing/" in r.path
    ]


def path_of(stream: str, scope: str) -> str:
    return f"{PREFIX[scope]}/settings/billing/{USAGE[stream]}/usage"


def expected(sim: Simulator, stream: str, days: list[str], scopes: Any = SCOPES) -> dict:
    """The truth as records: GitHub's item plus scope, scope_name, day (model as keyed)."""
    rows = table_spec(stream).rows(sim, days, list(scopes))
    return {
        key: {"scope": key[0], "scope_name": key[1], "day": key[2], **item, "model": key[5]}
        for key, item in rows.items()
    }


def assert_clean(run: TapRun) -> None:
    assert run.exit_code == 0, tail(run.stderr)
    assert "Traceback" not in run.stderr


# --- records -------------------------------------------------------------------------------


def test_every_record_equals_the_truth_for_an_organization_and_an_enterprise(
    sim: Simulator, tmp_path: Path
) -> None:
    days = iso_days(days_ago(sim, 6), days_ago(sim, 1))
    run = run_cli(config(sim, days_ago(sim, 6)), tmp_path, streams=STREAMS)

    assert_clean(run)
    assert run_warnings(run.stderr) == []
    for stream in STREAMS:
        got = keyed(run.messages, stream)
        assert got == expected(sim, stream, days), stream
        assert {key[:2] for key in got} == set(SCOPES), stream
        for record in got.values():
            assert all(record[column] not in (None, "") for column in KEYS[stream]), record
        for scope, name in SCOPES:
            assert partition_bookmarks(run.final_state)[(stream, scope, name)] == days[-1]


def test_the_model_placeholder_is_the_breakdown_tables_word() -> None:
    assert MODEL_PLACEHOLDER == UNKNOWN == "unknown"


def body(when: dt.date, *items: dict[str, Any], **period: Any) -> dict[str, Any]:
    """A billing usage answer for the day `when` (its `timePeriod` changed by `period`)."""
    time_period = {"year": when.year, "month": when.month, "day": when.day, **period}
    return {"timePeriod": time_period, "organization": ORG, "usageItems": list(items)}


def item(sku: str = "Copilot AI Credits", **fields: Any) -> dict[str, Any]:
    return {"product": "Copilot", "sku": sku, "unitType": "ai-credits", "netAmount": 1.5, **fields}


def test_an_item_without_a_model_is_keyed_unknown(sim: Simulator, tmp_path: Path) -> None:
    day = days_ago(sim, 1)
    items = (item(), item("Copilot AI Credits Pool", model=None), item("X", model=""))
    stream = "copilot_ai_credit_usage"
    sim.faults.add(path=f"^{path_of(stream, 'organization')}$", kind="body", json=body(day, *items))

    run = run_cli(config(sim, day, enterprises=[]), tmp_path, streams=[stream])

    assert_clean(run)
    got = keyed(run.messages, stream)
    assert [key[3:] for key in got] == [
        ("Copilot", "Copilot AI Credits", "unknown"),
        ("Copilot", "Copilot AI Credits Pool", "unknown"),
        ("Copilot", "X", "unknown"),
    ]
    first = next(iter(got.values()))
    assert first == {"scope": "organization", "scope_name": ORG, "day": day.isoformat(),
                     **items[0], "model": "unknown"}  # fmt: skip


BAD_BODIES = {
    "no-usage-items": lambda day: {"timePeriod": {"year": day.year}, "organization": ORG},
    "an-array": lambda day: [item()],
    "item-without-sku": lambda day: body(day, {"product": "Copilot", "model": "GPT-5"}),
    "empty-product": lambda day: body(day, item(product="", model="GPT-5")),
    "two-items-one-key": lambda day: body(day, item(model="GPT-5"), item(model="GPT-5")),
    "another-day": lambda day: body(day, item(model="GPT-5"), day=day.day % 28 + 1),
    "no-content-204": lambda day: None,
}


@pytest.mark.parametrize("case", list(BAD_BODIES))
def test_a_body_that_cannot_give_keyed_records_is_one_line(
    sim: Simulator, tmp_path: Path, case: str
) -> None:
    day = days_ago(sim, 1)
    stream = "copilot_ai_credit_usage"
    answer = BAD_BODIES[case](day)
    given = {"json": answer} if answer is not None else {"raw": "", "status": 204}
    sim.faults.add(path=f"^{path_of(stream, 'organization')}$", kind="body", **given)

    run = run_cli(config(sim, day, enterprises=[]), tmp_path, streams=[stream])

    assert run.exit_code == 1
    line = error_line(run.stderr)
    assert f"organization '{ORG}'" in line, line
    assert run.final_state == {} or not partition_bookmarks(run.final_state)


# --- which days ----------------------------------------------------------------------------


@pytest.mark.parametrize("lookback", [0, 3])
def test_a_nightly_run_asks_lookback_days_plus_one_per_scope_and_stream(
    sim: Simulator, tmp_path: Path, lookback: int
) -> None:
    yesterday = days_ago(sim, 1)
    state = state_with(
        {(stream, *scope): yesterday.isoformat() for stream in STREAMS for scope in SCOPES}
    )
    settings = config(sim, days_ago(sim, 60), lookback_days=lookback)

    run = run_cli(settings, tmp_path, streams=STREAMS, state=state)

    assert_clean(run)
    window = [yesterday - dt.timedelta(days=n) for n in range(lookback, -1, -1)]
    for stream in STREAMS:
        for scope, _ in SCOPES:
            path = path_of(stream, scope)
            assert [day for p, day in asked(sim) if p == path] == window, (stream, scope)
    assert Counter(path for path, _ in asked(sim)) == dict.fromkeys(
        [path_of(s, scope) for s in STREAMS for scope, _ in SCOPES], lookback + 1
    )
    assert partition_bookmarks(run.final_state) == partition_bookmarks(state)


def test_end_date_is_inclusive_and_today_is_never_asked_for(sim: Simulator, tmp_path: Path) -> None:
    today = sim.settings.today
    settings = config(sim, days_ago(sim, 2), end_date=today.isoformat())
    run = run_cli(settings, tmp_path / "a", streams=STREAMS)
    assert_clean(run)
    assert sorted({day for _, day in asked(sim)}) == [days_ago(sim, 2), days_ago(sim, 1)]

    sim.clear_requests()
    last = days_ago(sim, 3)
    run = run_cli(config(sim, days_ago(sim, 5), end_date=last.isoformat()), tmp_path / "b",
                  streams=STREAMS)  # fmt: skip
    assert_clean(run)
    assert max(day for _, day in asked(sim)) == last
    for stream in STREAMS:
        assert partition_bookmarks(run.final_state)[(stream, "organization", ORG)] == str(last)


@pytest.mark.parametrize(
    ("bookmark_age", "start_age", "first_age"),
    [(10, 4, 4), (5, 20, 8)],
    ids=["start-date-after-bookmark-minus-lookback", "bookmark-minus-lookback-after-start"],
)
def test_the_later_of_start_date_and_bookmark_minus_lookback_wins(
    sim: Simulator, tmp_path: Path, bookmark_age: int, start_age: int, first_age: int
) -> None:
    stream = "copilot_ai_credit_usage"
    state = state_with({(stream, *scope): str(days_ago(sim, bookmark_age)) for scope in SCOPES})
    settings = config(sim, days_ago(sim, start_age), lookback_days=3)

    run = run_cli(settings, tmp_path, streams=[stream], state=state)

    assert_clean(run)
    assert min(day for _, day in asked(sim)) == days_ago(sim, first_age)


def test_days_over_a_month_end_are_real_dates_never_refused(sim: Simulator, tmp_path: Path) -> None:
    """40 days hold a month end, whatever the pinned day: each is asked as a real date (an
    impossible one would be answered 400) and each answered 200."""
    run = run_cli(config(sim, days_ago(sim, 40)), tmp_path, streams=STREAMS)

    assert_clean(run)
    days = [day for _, day in asked(sim)]
    assert Counter(days) == dict.fromkeys(iso_days_as_dates(sim, 40), 2 * len(SCOPES))
    assert {r.status for r in sim.requests} == {200}
    assert any(day.month != days[0].month for day in days)


def iso_days_as_dates(sim: Simulator, age: int) -> list[dt.date]:
    return [dt.date.fromisoformat(day) for day in iso_days(days_ago(sim, age), days_ago(sim, 1))]


@pytest.mark.parametrize("today", ["2026-11-16", "2027-03-01", "2027-12-31", "2028-02-29"])
def test_the_window_stays_inside_the_24_months_github_keeps(
    make_simulator: MakeSimulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, today: str
) -> None:
    monkeypatch.setenv(TODAY_VARIABLE, today)
    sim = make_simulator(**{**SIMULATOR, "enterprises": []}, today=dt.date.fromisoformat(today))
    oldest = sim.settings.today - dt.timedelta(days=OLDEST_SAFE_DAY_AGE)
    long_ago = sim.settings.today - dt.timedelta(days=3 * 365)
    settings = config(sim, long_ago, end_date=str(oldest + dt.timedelta(days=1)))

    run = run_cli(settings, tmp_path, streams=STREAMS)

    assert_clean(run)
    assert (
        window_start(sim.settings.today)
        < oldest
        <= window_start(sim.settings.today) + (dt.timedelta(days=2))
    )
    assert sorted({day for _, day in asked(sim)}) == [oldest, oldest + dt.timedelta(days=1)]
    assert {r.status for r in sim.requests} == {200}
    lost = [line for line in run.stderr.splitlines() if "older than the 24 months" in line]
    assert len(lost) == len(STREAMS), lost
    assert f"days {long_ago}..{oldest - dt.timedelta(days=1)}" in lost[0]


# --- refused scopes ------------------------------------------------------------------------

REFUSALS = {"403": "billing_forbidden", "404": "billing_unavailable"}
NEEDS = {"organization": '"Administration" (read)', "enterprise": "billing manager"}


@pytest.mark.parametrize("status", list(REFUSALS))
@pytest.mark.parametrize(("scope", "name"), SCOPES, ids=["organization", "enterprise"])
def test_a_refused_scope_stops_the_run_with_one_line_by_default(
    make_simulator: MakeSimulator, tmp_path: Path, status: str, scope: str, name: str
) -> None:
    sim = make_simulator(**SIMULATOR, **{REFUSALS[status]: {name}})

    run = run_cli(config(sim, days_ago(sim, 2)), tmp_path, streams=STREAMS)

    assert run.exit_code == 1
    line = error_line(run.stderr)
    for words in (f"({status})", f"{scope} '{name}'", path_of(STREAMS[0], scope), NEEDS[scope]):
        assert words in line, line
    assert "`billing_access_errors` to `skip`" in line
    if status == "404":
        assert "enhanced billing platform" in line
    assert (STREAMS[0], scope, name) not in partition_bookmarks(run.final_state)


@pytest.mark.parametrize("status", list(REFUSALS))
def test_skip_logs_one_line_per_stream_and_reads_everything_else(
    make_simulator: MakeSimulator, tmp_path: Path, status: str
) -> None:
    sim = make_simulator(**SIMULATOR, **{REFUSALS[status]: {ORG}})
    days = iso_days(days_ago(sim, 2), days_ago(sim, 1))
    settings = config(sim, days_ago(sim, 2), billing_access_errors="skip")

    run = run_cli(settings, tmp_path, streams=(*STREAMS, "copilot_seats"))

    assert_clean(run)
    warnings = run_warnings(run.stderr)
    assert len(warnings) == len(STREAMS), warnings
    bookmarks = partition_bookmarks(run.final_state)
    for stream, line in zip(STREAMS, warnings, strict=True):
        needed = (stream, f"({status})", path_of(stream, "organization"), NEEDS["organization"])
        for words in needed:
            assert words in line, line
        assert keyed(run.messages, stream) == expected(sim, stream, days, [SCOPES[1]])
        assert (stream, "organization", ORG) not in bookmarks
        assert bookmarks[(stream, "enterprise", ENTERPRISE)] == days[-1]
    # The metrics and seats endpoints need other permissions: the organization is still read.
    assert {key[1] for key in keyed(run.messages, "copilot_seats")} == {ORG, ENTERPRISE}


def test_a_bad_billing_access_errors_value_is_refused_before_any_request(
    sim: Simulator, tmp_path: Path
) -> None:
    run = run_cli(config(sim, days_ago(sim, 2), billing_access_errors="ignore"), tmp_path)
    assert run.exit_code == 1
    assert error_line(run.stderr) == (
        "Invalid setting `billing_access_errors`: must be one of: fail, skip"
    )
    assert sim.requests == []


@pytest.mark.parametrize("stream", STREAMS)
def test_the_schema_declares_githubs_usage_item_and_the_added_columns(stream: str) -> None:
    """Organization and enterprise reports describe the same item; the tap adds three columns."""
    spec = json.loads(resources.files("tap_copilot_metrics").joinpath(
        "openapi", "billing-usage.openapi.json").read_text(encoding="utf-8"))  # fmt: skip
    schema = TapCopilotMetrics(config={}, validate_config=False).streams[stream].schema
    component = f"billing-{USAGE[stream].replace('_', '-')}-usage-report"
    for level in ("org", "ghe"):
        report = spec["components"]["schemas"][f"{component}-{level}"]
        item = report["properties"]["usageItems"]["items"]["properties"]
        assert set(schema["properties"]) == set(item) | {"scope", "scope_name", "day"}
    assert schema["properties"]["day"]["format"] == "date"
    assert schema["required"] == list(KEYS[stream])
