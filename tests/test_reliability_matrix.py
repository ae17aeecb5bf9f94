"""The fault matrix: every endpoint kind x every fault, over real HTTP against the simulator.

Transient faults (5xx, 429 with Retry-After, secondary and primary rate limits, dropped
connections, read timeouts, truncated bodies, expired download links, 200s that are not JSON)
must leave no trace: exit 0, the records of a clean run, no key twice, the same final state.
Permanent faults (401, 403, 404, 422, a fault that outlasts the retry budget) must end the run
with exit 1 and one actionable line, and no STATE may claim a day whose records were not
emitted before it. No run may print the token or a signed download URL.

Faults are armed on one simulator per module (cleared before each case) and answer the first
matching requests; a pass-through fault lets the first request(s) of the endpoint succeed, so
the fault lands mid-run (page 2 of the seats, the second scope, a later report day). Runs go
through the console entry point in this process (waits are configured to milliseconds), except
a few cases that run the real command in a subprocess.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import re
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from copilot_devkit.simulator import Simulator

from tap_copilot_metrics.tap import TapCopilotMetrics
from tests.metrics_support import run_concurrently
from tests.reliability_support import (
    DAY_FIELD,
    DEBUG_ENV,
    ENTERPRISE,
    ORG,
    QUICK_RETRIES,
    assert_debug_logging_was_on,
    assert_nothing_leaks,
    assert_states_never_ahead,
    download_paths,
    error_line,
    every_secret,
    keyed,
    normalized_state,
    partition_bookmarks,
    quick_config,
    records,
    run_cli,
    sentinel_token,
    signed_query_values,
    tail,
)
from tests.sim_support import app_settings, as_app, started_simulators
from tests.tap_runner import TapRun, catalog_selecting, run_tap

#: Enough seats for two pages of 100, so a fault can land on page 2.
SIMULATOR: dict[str, Any] = {
    "organizations": {ORG: ["justice-league", "avengers"]},
    "enterprises": [ENTERPRISE],
    "users_per_org": 110,
    "users_per_enterprise": 20,
    "seats_per_org": 110,
    "files_per_report": 2,
    # Two enterprise teams, so a fault can land on the second team's members.
    "enterprise_teams": {ENTERPRISE: ["copilot-champions", "platform-guild"]},
}
#: One simulator for the module (faults and request log are reset for each case).
pytestmark = [
    pytest.mark.simulator(token=sentinel_token(), **SIMULATOR),
    pytest.mark.usefixtures("fresh_sim"),
]

DAYS = 3
BACKFILL_DAYS = 10
#: Stands for the URL paths of the 28-day users report files (known once the simulator runs).
LATEST_FILES = "<users-28-day files>"


@dataclass(frozen=True)
class Endpoint:
    """Where faults are armed, which streams read it, and how many requests pass first."""

    path: str
    streams: tuple[str, ...]
    teams: tuple[str, ...] = ()
    passes: int = 0
    #: A 404 here is an answer, not an error (report days: "no report for that day").
    not_found_is_no_data: bool = False
    #: Days read: 8 or more recent days are a backfill, read from the 28-day reports.
    days: int = DAYS


ENDPOINTS: dict[str, Endpoint] = {
    # The org passes; the fault hits the team, then the enterprise.
    "metrics": Endpoint(
        r"/copilot/metrics$", ("copilot_metrics",), teams=(f"{ORG}/justice-league",), passes=1
    ),
    "report-call": Endpoint(
        r"/copilot/metrics/reports/users-1-day$",
        ("copilot_user_usage_daily",),
        passes=1,
        not_found_is_no_data=True,
    ),
    "report-download": Endpoint(r"^/_downloads/", ("copilot_user_usage_daily",), passes=1),
    # A backfill of the recent weeks reads users-28-day/latest (and its files) once per scope.
    "report-28-day-call": Endpoint(
        r"/copilot/metrics/reports/users-28-day/latest$",
        ("copilot_user_usage_daily",),
        passes=1,
        not_found_is_no_data=True,
        days=BACKFILL_DAYS,
    ),
    "report-28-day-download": Endpoint(
        LATEST_FILES, ("copilot_user_usage_daily",), passes=1, days=BACKFILL_DAYS
    ),
    "seats": Endpoint(r"/copilot/billing/seats$", ("copilot_seats",), passes=1),
    "billing": Endpoint(r"/copilot/billing$", ("copilot_billing",)),
    # `org/*` in `teams`: the metrics stream lists the organization's teams first.
    "teams-list": Endpoint(rf"^/orgs/{ORG}/teams$", ("copilot_metrics",), teams=(f"{ORG}/*",)),
    "enterprise-teams": Endpoint(r"^/enterprises/[^/]+/teams$", ("copilot_enterprise_teams",)),
    # The first team's members pass, the fault hits the second team's.
    "enterprise-team-members": Endpoint(
        r"^/enterprises/[^/]+/teams/[^/]+/memberships$",
        ("copilot_enterprise_team_members",),
        passes=1,
    ),
    # Billing usage, one call per scope and day: the first day passes, the fault hits the next.
    "ai-credit-usage": Endpoint(
        r"/settings/billing/ai_credit/usage$", ("copilot_ai_credit_usage",), passes=1
    ),
    "premium-request-usage": Endpoint(
        r"/settings/billing/premium_request/usage$", ("copilot_premium_request_usage",), passes=1
    ),
}
DOWNLOADS = ("report-download", "report-28-day-download")
API_ENDPOINTS = [name for name in ENDPOINTS if name not in DOWNLOADS]


@dataclass(frozen=True)
class Fault:
    """A fault kind with its parameters, how often it fires, and the least wait it implies."""

    kind: str
    times: int | None = 2
    params: dict[str, Any] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    min_wait: float = 0.0
    #: Endpoints it applies to (None: all).
    only: tuple[str, ...] | None = None
    #: Words the one error line must contain (permanent faults).
    words: tuple[str, ...] = ()


TRANSIENT: dict[str, Fault] = {
    "500": Fault("500"),
    "502": Fault("502"),
    "503": Fault("503"),
    # GitHub names the wait: it is honoured (1 s), not the configured 10 ms backoff.
    "429-retry-after": Fault("429", 1, {"retry_after": 1}, min_wait=1.0),
    # No Retry-After: the configured secondary_rate_limit_wait_seconds.
    "secondary-403": Fault(
        "secondary-403", min_wait=2 * QUICK_RETRIES["secondary_rate_limit_wait_seconds"]
    ),
    "secondary-429-retry-after": Fault("secondary-429", 1, {"retry_after": 1}, min_wait=1.0),
    # x-ratelimit-reset is now: the tap waits for it plus 1 s of clock slack.
    "primary-reset": Fault("primary", 1, {"reset_in": 0}, min_wait=0.95),
    "dropped-connection": Fault("drop"),
    "read-timeout": Fault(
        "slow", 1, {"seconds": 1.5}, config={"request_timeout_seconds": 0.5}, min_wait=0.5
    ),
    "truncated-body": Fault("truncate"),
    "expired-link": Fault("expire", only=DOWNLOADS),
    # A proxy's error page or an empty answer with 200: retried, never read as "no data".
    "200-html-page": Fault("html", 1, only=tuple(API_ENDPOINTS)),
    "200-empty-body": Fault("empty", 1, only=tuple(API_ENDPOINTS)),
}

PERMANENT: dict[str, Fault] = {
    "401": Fault("401", None, words=("401",)),
    "403": Fault("403", None, words=("403",)),
    "404": Fault("404", None, words=("404",)),
    "422": Fault("422", None, words=("422",)),
    "retry-budget-spent": Fault(
        "503",
        None,
        config={"retry_max_elapsed_seconds": 0.3},
        words=("503", "still failing after retrying", "retry_max_elapsed_seconds=0.3"),
    ),
}


#: Refused 28-day files are not a permanent fault: the day reports hold the same data (see
#: test_refused_28_day_files_fall_back_to_the_day_reports).
FALLS_BACK = {("report-28-day-download", name) for name in ("401", "403", "404")}


def cases(faults: dict[str, Fault]) -> list[Any]:
    """pytest params `endpoint-fault` for every applicable combination."""
    return [
        pytest.param(endpoint, name, id=f"{endpoint}-{name}")
        for endpoint in ENDPOINTS
        for name, fault in faults.items()
        if (fault.only is None or endpoint in fault.only) and (endpoint, name) not in FALLS_BACK
    ]


# --- fixtures ----------------------------------------------------------------------------------


def config_for(sim: Simulator, endpoint: str, **extra: Any) -> dict[str, Any]:
    """Both scope kinds (teams where the endpoint needs them), the endpoint's days."""
    target = ENDPOINTS[endpoint]
    return quick_config(sim, days=target.days, **{"teams": target.teams, **extra})


@pytest.fixture(scope="module")
def clean_runs(sim: Simulator, tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], TapRun]:
    """The fault-free run of each endpoint kind (computed once, on first use)."""
    done: dict[str, TapRun] = {}

    def clean(endpoint: str) -> TapRun:
        if endpoint not in done:
            sim.faults.clear()
            run = run_cli(
                config_for(sim, endpoint),
                tmp_path_factory.mktemp(f"clean-{endpoint}"),
                streams=ENDPOINTS[endpoint].streams,
            )
            assert run.exit_code == 0, tail(run.stderr)
            for stream in ENDPOINTS[endpoint].streams:
                assert records(run.messages, stream), f"the clean run of {stream} is empty"
            done[endpoint] = run
            sim.clear_requests()
        return done[endpoint]

    return clean


def fault_path(sim: Simulator, endpoint: str) -> str:
    """The regex faults of this endpoint kind match."""
    path = ENDPOINTS[endpoint].path
    if path != LATEST_FILES:
        return path
    files = [
        re.escape(file)
        for scope, name in (("organization", ORG), ("enterprise", ENTERPRISE))
        for file in download_paths(sim, "users-28-day", scope, name, None)
    ]
    return f"^(?:{'|'.join(files)})$"


def arm(sim: Simulator, endpoint: str, fault: Fault) -> Any:
    """Let the endpoint's first requests pass, then fire the fault."""
    target, path = ENDPOINTS[endpoint], fault_path(sim, endpoint)
    if target.passes:
        sim.faults.add(path=path, kind="slow", times=target.passes, seconds=0)
    return sim.faults.add(path=path, kind=fault.kind, times=fault.times, **fault.params)


def run_with_fault(
    sim: Simulator, endpoint: str, fault: Fault, tmp_path: Path
) -> tuple[Any, TapRun, float]:
    """Arm the fault (`arm`), then run the endpoint's streams through the console entry point:
    the armed fault, the run, and the seconds it took."""
    armed = arm(sim, endpoint, fault)
    started = time.monotonic()
    run = run_cli(
        config_for(sim, endpoint, **fault.config), tmp_path, streams=ENDPOINTS[endpoint].streams
    )
    return armed, run, time.monotonic() - started


def truth_of(clean: TapRun, endpoint: str) -> dict[str, list[dict[str, Any]]]:
    """The clean run's records of each day-keyed stream read from this endpoint."""
    return {
        stream: records(clean.messages, stream)
        for stream in ENDPOINTS[endpoint].streams
        if stream in DAY_FIELD
    }


# --- transient faults: nothing lost, nothing doubled -------------------------------------------


@pytest.mark.parametrize(("endpoint", "name"), cases(TRANSIENT))
def test_transient_fault_leaves_the_records_of_a_clean_run(
    sim: Simulator,
    clean_runs: Callable[[str], TapRun],
    tmp_path: Path,
    endpoint: str,
    name: str,
) -> None:
    clean = clean_runs(endpoint)
    fault = TRANSIENT[name]

    armed, run, elapsed = run_with_fault(sim, endpoint, fault, tmp_path)

    assert run.exit_code == 0, tail(run.stderr)
    assert "Traceback" not in run.stderr
    assert armed.hits == fault.times, "the fault never fired: the case proves nothing"
    for stream in ENDPOINTS[endpoint].streams:
        assert keyed(run.messages, stream) == keyed(clean.messages, stream), stream
    assert normalized_state(run.final_state) == normalized_state(clean.final_state)
    assert_states_never_ahead(run.messages, truth_of(clean, endpoint))
    # GitHub's wait (or the configured one) was honoured, and the total wait stays bounded.
    assert fault.min_wait * 0.95 <= elapsed < fault.min_wait + 15
    assert_nothing_leaks(run, [sim.settings.token, *signed_query_values(sim)])


# --- permanent faults: one line, no bookmark ahead of the data ---------------------------------


@pytest.mark.parametrize(("endpoint", "name"), cases(PERMANENT))
def test_permanent_fault_ends_the_run_with_one_line_and_no_state_ahead_of_records(
    sim: Simulator,
    clean_runs: Callable[[str], TapRun],
    tmp_path: Path,
    endpoint: str,
    name: str,
) -> None:
    clean = clean_runs(endpoint)
    fault = PERMANENT[name]
    target = ENDPOINTS[endpoint]

    armed, run, elapsed = run_with_fault(sim, endpoint, fault, tmp_path)

    assert armed.hits >= 1, "the fault never fired: the case proves nothing"
    assert elapsed < 15, "the total wait is bounded by the retry budget"
    assert_states_never_ahead(run.messages, truth_of(clean, endpoint))
    assert_nothing_leaks(run, [sim.settings.token, *signed_query_values(sim)])
    if fault.kind == "404" and target.not_found_is_no_data:
        # 404 for a report day is GitHub's "no report for that day": not an error, and the
        # days it hit are not bookmarked (checked above); the scope itself was verified.
        assert run.exit_code == 0, tail(run.stderr)
        assert "Traceback" not in run.stderr
        return
    assert run.exit_code == 1, tail(run.stderr)
    line = error_line(run.stderr)
    for words in fault.words:
        assert words in line, line
    assert ORG in line or ENTERPRISE in line, f"the line does not say where: {line}"


def test_a_404_report_day_is_never_bookmarked_and_is_read_by_the_next_run(
    sim: Simulator, clean_runs: Callable[[str], TapRun], tmp_path: Path
) -> None:
    """The other half of the report-call 404 case: the days it hid come with the next run."""
    endpoint = "report-call"
    clean = clean_runs(endpoint)
    stream = ENDPOINTS[endpoint].streams[0]
    arm(sim, endpoint, PERMANENT["404"])
    first = run_cli(config_for(sim, endpoint), tmp_path / "1", streams=[stream])
    assert first.exit_code == 0, tail(first.stderr)
    assert len(records(first.messages, stream)) < len(records(clean.messages, stream))

    sim.faults.clear()
    second = run_cli(
        config_for(sim, endpoint), tmp_path / "2", streams=[stream], state=first.final_state
    )

    assert second.exit_code == 0, tail(second.stderr)
    union = {**keyed(first.messages, stream), **keyed(second.messages, stream)}
    assert union == keyed(clean.messages, stream)
    assert partition_bookmarks(second.final_state) == partition_bookmarks(clean.final_state)


@pytest.mark.parametrize("name", ["401", "403", "404"])
def test_refused_28_day_files_fall_back_to_the_day_reports(
    sim: Simulator, clean_runs: Callable[[str], TapRun], tmp_path: Path, name: str
) -> None:
    endpoint = "report-28-day-download"
    clean = clean_runs(endpoint)
    sim.faults.add(path=fault_path(sim, endpoint), kind=name, times=None)

    run = run_cli(config_for(sim, endpoint), tmp_path, streams=ENDPOINTS[endpoint].streams)

    assert run.exit_code == 0, tail(run.stderr)
    for stream in ENDPOINTS[endpoint].streams:
        assert keyed(run.messages, stream) == keyed(clean.messages, stream)


@pytest.mark.parametrize("kind", ["403", "404", "422"])
def test_a_refused_teams_list_is_named_as_such(sim: Simulator, tmp_path: Path, kind: str) -> None:
    endpoint = "teams-list"
    sim.faults.add(path=fault_path(sim, endpoint), kind=kind, times=None)

    run = run_cli(config_for(sim, endpoint), tmp_path, streams=ENDPOINTS[endpoint].streams)

    assert run.exit_code == 1
    line = error_line(run.stderr)
    assert "`teams`" in line, line
    assert "policy" not in line, line


# --- the real command --------------------------------------------------------------------------

#: (endpoint, fault, expected exit code): one permanent fault per endpoint kind, one transient.
COMMAND_CASES = [
    ("report-call", "401", 1),
    ("report-download", "retry-budget-spent", 1),
    ("seats", "403", 1),
    ("billing", "422", 1),
    ("teams-list", "404", 1),
    ("metrics", "retry-budget-spent", 1),
    ("report-download", "expired-link", 0),
    ("ai-credit-usage", "403", 1),
]


@pytest.fixture(scope="module")
def command_runs(
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[tuple[str, str], tuple[TapRun, Simulator]]:
    """COMMAND_CASES as subprocesses, side by side, each against a simulator of its own."""
    with started_simulators() as make:
        sims = {
            (endpoint, name): make(token=sentinel_token(), **SIMULATOR)
            for endpoint, name, _ in COMMAND_CASES
        }
        jobs = {}
        for (endpoint, name), simulator in sims.items():
            fault = PERMANENT.get(name) or TRANSIENT[name]
            arm(simulator, endpoint, fault)
            config = config_for(simulator, endpoint, **fault.config)
            path = tmp_path_factory.mktemp(f"command-{endpoint}-{name}")
            streams = ENDPOINTS[endpoint].streams
            jobs[(endpoint, name)] = lambda config=config, path=path, streams=streams: run_tap(
                config, tmp_path=path, streams=streams, timeout=60
            )
        runs = run_concurrently(jobs, workers=2)
        return {case: (runs[case], sims[case]) for case in sims}


@pytest.mark.parametrize(
    ("endpoint", "name", "exit_code"),
    [pytest.param(*case, id=f"{case[0]}-{case[1]}") for case in COMMAND_CASES],
)
def test_the_command_exits_with_the_right_code_and_one_line(
    command_runs: dict[tuple[str, str], tuple[TapRun, Simulator]],
    endpoint: str,
    name: str,
    exit_code: int,
) -> None:
    run, simulator = command_runs[(endpoint, name)]
    assert run.exit_code == exit_code, tail(run.stderr)
    if exit_code:
        line = error_line(run.stderr, last=False)
        for words in PERMANENT[name].words:
            assert words in line, line
    else:
        assert "Traceback" not in run.stderr
        assert records(run.messages, ENDPOINTS[endpoint].streams[0])
    assert_nothing_leaks(run, [simulator.settings.token, *signed_query_values(simulator)])


# --- rate limits on the download host ------------------------------------------------------------


def test_a_rate_limited_download_waits_as_asked_instead_of_failing(
    sim: Simulator, clean_runs: Callable[[str], TapRun], tmp_path: Path
) -> None:
    """One file answers a secondary rate limit 4 times in a row, asking for 1 s each time.

    Since 2026-05-20 report files come from copilot-reports.github.com, a GitHub host that may
    rate-limit like the API: the tap waits as asked, instead of taking the 403 for an expired
    link (fresh links, three times, then failure)."""
    endpoint = "report-download"
    stream = ENDPOINTS[endpoint].streams[0]
    clean = clean_runs(endpoint)
    day = sim.settings.today - dt.timedelta(days=1)
    path = download_paths(sim, "users-1-day", "organization", ORG, day)[0]
    sim.faults.add(path=f"^{re.escape(path)}$", kind="secondary-403", times=4, retry_after=1)
    config = config_for(sim, endpoint, enterprises=[], start_date=day.isoformat())

    run = run_cli(config, tmp_path, streams=[stream])

    assert run.exit_code == 0, tail(run.stderr)
    want = {
        k: r
        for k, r in keyed(clean.messages, stream).items()
        if k[:3] == ("organization", ORG, day.isoformat())
    }
    assert keyed(run.messages, stream) == want


# --- secrets: sentinel token, App key, JWTs, installation tokens, signed URLs, DEBUG logs -------

ALL_ENDPOINT_STREAMS = (
    "copilot_usage_daily",
    "copilot_user_usage_daily",
    "copilot_seats",
    "copilot_billing",
    "copilot_ai_credit_usage",
    "copilot_premium_request_usage",
    "copilot_metrics",
)


#: name -> (faults as (endpoint, fault kind, times, params), exit code)
DEBUG_SCENARIOS: dict[str, tuple[list[tuple[str, str, int | None, dict[str, Any]]], int]] = {
    "transient-faults-everywhere": (
        [
            ("report-call", "500", 1, {}),
            ("report-download", "truncate", 1, {}),
            ("report-download", "expire", 1, {}),
            ("seats", "secondary-403", 1, {}),
            ("teams-list", "drop", 1, {}),
            ("billing", "502", 1, {}),
        ],
        0,
    ),
    "401-after-minting": ([("report-call", "401", None, {})], 1),
    "download-budget-spent": ([("report-download", "503", None, {})], 1),
    "download-refused": ([("report-download", "expire", None, {})], 1),
}


@pytest.fixture(scope="module")
def debug_runs(
    app_keypair: Any, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, tuple[TapRun, Simulator]]:
    """Each DEBUG_SCENARIOS entry: the real command, GitHub App auth, DEBUG logging."""
    with started_simulators() as make:
        sims = {
            name: make(**app_settings(app_keypair.public_pem, token=sentinel_token(), **SIMULATOR))
            for name in DEBUG_SCENARIOS
        }
        jobs = {}
        for name, simulator in sims.items():
            for endpoint, kind, times, params in DEBUG_SCENARIOS[name][0]:
                simulator.faults.add(
                    path=ENDPOINTS[endpoint].path, kind=kind, times=times, **params
                )
            config = as_app(
                config_for(simulator, "teams-list", retry_max_elapsed_seconds=0.5),
                app_keypair.private_pem,
            )
            path = tmp_path_factory.mktemp(f"debug-{name}")
            jobs[name] = lambda config=config, path=path: run_tap(
                config, tmp_path=path, streams=ALL_ENDPOINT_STREAMS, env=DEBUG_ENV, timeout=60
            )
        runs = run_concurrently(jobs, workers=2)
        return {name: (runs[name], sims[name]) for name in sims}


@pytest.mark.parametrize("scenario", list(DEBUG_SCENARIOS))
def test_debug_logging_with_app_auth_and_faults_leaks_no_secret(
    debug_runs: dict[str, tuple[TapRun, Simulator]], app_keypair: Any, scenario: str
) -> None:
    run, simulator = debug_runs[scenario]
    expected_exit = DEBUG_SCENARIOS[scenario][1]

    assert run.exit_code == expected_exit, tail(run.stderr)
    assert_debug_logging_was_on(run)
    assert simulator.minted_tokens, "no installation token was minted: App auth was not used"
    if expected_exit:
        error_line(run.stderr, last=False)
    else:
        assert "Traceback" not in run.stderr
        for stream in ALL_ENDPOINT_STREAMS:
            assert records(run.messages, stream), stream
    # Requests to signed URLs were logged at DEBUG, without their query string.
    assert signed_query_values(simulator)
    assert_nothing_leaks(run, every_secret(simulator, app_keypair.private_pem))


@pytest.mark.parametrize(
    ("endpoint", "kind"),
    [
        ("report-call", "401"),
        ("report-call", "403"),
        ("report-download", "503"),
        ("report-download", "expire"),
        ("report-download", "html"),
        ("seats", "404"),
        ("teams-list", "422"),
    ],
)
def test_exception_text_carries_no_secret(sim: Simulator, endpoint: str, kind: str) -> None:
    """The exception a failed sync raises (what an orchestrator embedding the tap would log):
    its message, its repr and its formatted traceback name no token and no signed URL."""
    sim.faults.add(path=ENDPOINTS[endpoint].path, kind=kind, times=None)
    config = config_for(sim, endpoint, retry_max_elapsed_seconds=0.3)
    tap = TapCopilotMetrics(
        config=config, catalog=catalog_selecting(config, ENDPOINTS[endpoint].streams)
    )
    # match=".": the exception has a message.
    with (
        contextlib.redirect_stdout(io.StringIO()) as out,
        pytest.raises(Exception, match=r".") as raised,
    ):
        tap.sync_all()

    text = "".join(traceback.format_exception(raised.value))
    for secret in every_secret(sim):
        assert secret not in text
        assert secret not in repr(raised.value)
        assert secret not in out.getvalue()
    assert "sig=" not in text


# --- a failed run stops at once ------------------------------------------------------------------


def test_a_failed_run_stops_its_background_fetches_at_once(sim: Simulator, tmp_path: Path) -> None:
    """The first day's files are refused for good (the run fails at once); the files of the
    days fetched ahead take 10 s to answer. The command must exit well before they do (days
    fetched ahead are abandoned, not waited for), with its error line last on stderr."""
    days = [sim.settings.today - dt.timedelta(days=n) for n in (3, 2, 1)]
    for path in download_paths(sim, "users-1-day", "organization", ORG, days[0]):
        sim.faults.add(path=f"^{re.escape(path)}$", kind="404", times=None)
    for day in days[1:]:
        for path in download_paths(sim, "users-1-day", "organization", ORG, day):
            sim.faults.add(path=f"^{re.escape(path)}$", kind="slow", times=None, seconds=10)
    config = config_for(sim, "report-download", enterprises=[], start_date=days[0].isoformat())

    started = time.monotonic()
    run = run_tap(config, tmp_path=tmp_path, streams=["copilot_user_usage_daily"], timeout=60)
    elapsed = time.monotonic() - started

    assert run.exit_code == 1
    assert "refused (404)" in error_line(run.stderr, last=False)
    assert elapsed < 8, f"the command lingered {elapsed:.1f}s after failing"
    error_line(run.stderr)  # and it is the last line
