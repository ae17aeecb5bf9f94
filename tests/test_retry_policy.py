"""Unit tests of retry.py: the retry settings, the wait before each try, the total time budget,
and how GitHub's rate-limit answers are told apart.

Expectations come from GitHub's documented rules ("Rate limits for the REST API"), not from the
implementation:

* the primary limit is a 403 or 429 with `x-ratelimit-remaining: 0`; wait until
  `x-ratelimit-reset` (UTC epoch seconds);
* a secondary limit is a 403 or 429 whose message says so ("You have exceeded a secondary rate
  limit", formerly "abuse detection mechanism"); wait `retry-after` seconds when the header is
  there, else at least a minute (`secondary_rate_limit_wait_seconds`), longer on each retry;

and from the settings as docs/settings.md documents them: `retry_initial_wait_seconds` is the first
backoff wait and doubles each retry, with jitter, never above `MAX_EXPONENTIAL_WAIT` unless
GitHub asks for more; `retry_max_elapsed_seconds` bounds the total time spent retrying one
request. Responses are real `requests.Response` objects, built here without a server.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import threading
import time
from email.utils import format_datetime
from types import SimpleNamespace
from typing import Any

import pytest
import requests
from singer_sdk.exceptions import RetriableAPIError

from tap_copilot_metrics.errors import RetryBudgetExceeded
from tap_copilot_metrics.retry import (
    MAX_EXPONENTIAL_WAIT,
    RetryBudget,
    RetryPolicy,
    is_primary_rate_limit,
    is_rate_limited,
    is_secondary_rate_limit,
    requested_wait,
)
from tap_copilot_metrics.settings import parse_settings

#: GitHub's bodies, as its REST API documentation quotes them.
SECONDARY_MESSAGE = {
    "message": "You have exceeded a secondary rate limit. Please wait a few minutes before you "
    "try again. If you reach out to GitHub Support for help, please include the request ID "
    "0400:2D4E:1A2B3C:4D5E6F:65A1B2C3.",
    "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"
    "#about-secondary-rate-limits",
}
ABUSE_MESSAGE = {
    "message": "You have triggered an abuse detection mechanism. Please wait a few minutes "
    "before you try again.",
    "documentation_url": "https://docs.github.com/v3/#abuse-rate-limits",
}
PRIMARY_MESSAGE = {
    "message": "API rate limit exceeded for installation ID 77.",
    "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api",
}
PERMISSION_MESSAGE = {
    "message": "Resource not accessible by integration",
    "documentation_url": "https://docs.github.com/rest/copilot/copilot-metrics",
}


def response(
    status: int, body: dict[str, Any] | str = "", headers: dict[str, str] | None = None
) -> requests.Response:
    """A `requests.Response` as the HTTP adapter would hand it over (body already read)."""
    answer = requests.Response()
    answer.status_code = status
    answer.url = "https://api.github.com/orgs/octo-org/copilot/metrics"
    answer.headers.update(
        {
            "content-type": "application/json; charset=utf-8"
            if isinstance(body, dict)
            else "text/html"
        }
    )
    answer.headers.update(headers or {})
    answer.encoding = "utf-8"
    answer._content = (json.dumps(body) if isinstance(body, dict) else body).encode()
    return answer


def failure(answer: requests.Response | None = None) -> Exception:
    """What the tap's client raises for a retriable answer (no answer: a transport fault)."""
    if answer is None:
        return requests.exceptions.ConnectionError("Connection reset by peer")
    return RetriableAPIError(f"{answer.status_code} from GitHub", answer)


def waits(policy: RetryPolicy, failures: list[Exception]) -> list[float]:
    """The waits the policy gives for consecutive failed tries, driven as `backoff` drives it
    (primed with `send(None)`, then sent each try's exception)."""
    generator = policy.wait_generator()
    generator.send(None)
    return [generator.send(exc) for exc in failures]


def policy(**overrides: float) -> RetryPolicy:
    knobs = {
        "max_elapsed_seconds": 600.0,
        "initial_wait_seconds": 2.0,
        "secondary_wait_seconds": 60.0,
    }
    return RetryPolicy(**{**knobs, **overrides})


@pytest.fixture
def jitter_at_its_top(monkeypatch: pytest.MonkeyPatch) -> None:
    """Jitter never shortens a wait, so the waits are the exponential schedule itself."""
    monkeypatch.setattr(random, "uniform", lambda low, high: max(low, high))


# --- the policy from settings ------------------------------------------------------------------


def test_from_settings_takes_the_three_retry_settings() -> None:
    settings = SimpleNamespace(
        retry_max_elapsed_seconds=30.0,
        retry_initial_wait_seconds=0.5,
        secondary_rate_limit_wait_seconds=5.0,
    )

    assert RetryPolicy.from_settings(settings) == RetryPolicy(  # type: ignore[arg-type]
        max_elapsed_seconds=30.0, initial_wait_seconds=0.5, secondary_wait_seconds=5.0
    )


def test_from_settings_defaults_are_the_documented_ones() -> None:
    """docs/settings.md: `retry_max_elapsed_seconds` 600, `retry_initial_wait_seconds` 2,
    `secondary_rate_limit_wait_seconds` 60 (GitHub: wait at least a minute)."""
    settings = parse_settings({"auth_token": "ghp_x", "organizations": ["octo-org"]})

    assert RetryPolicy.from_settings(settings) == RetryPolicy(
        max_elapsed_seconds=600, initial_wait_seconds=2, secondary_wait_seconds=60
    )


def test_from_settings_reads_configured_values() -> None:
    settings = parse_settings(
        {
            "auth_token": "ghp_x",
            "organizations": ["octo-org"],
            "retry_max_elapsed_seconds": 45,
            "retry_initial_wait_seconds": 0.25,
            "secondary_rate_limit_wait_seconds": 90,
        }
    )

    assert RetryPolicy.from_settings(settings) == RetryPolicy(
        max_elapsed_seconds=45, initial_wait_seconds=0.25, secondary_wait_seconds=90
    )


# --- exponential backoff -----------------------------------------------------------------------


@pytest.mark.usefixtures("jitter_at_its_top")
@pytest.mark.parametrize("initial", [2.0, 0.01, 7.5])
def test_waits_start_at_the_initial_wait_and_double_up_to_the_cap(initial: float) -> None:
    tries = 16

    got = waits(policy(initial_wait_seconds=initial), [failure() for _ in range(tries)])

    want, wait = [], initial
    for _ in range(tries):
        want.append(min(wait, MAX_EXPONENTIAL_WAIT))
        wait *= 2
    assert got == pytest.approx(want)
    assert got[-1] == MAX_EXPONENTIAL_WAIT, "16 doublings of any initial wait reach the cap"


def test_jitter_keeps_each_wait_within_its_step_of_the_schedule() -> None:
    """Jitter spreads the tries of parallel runs, but never waits longer than the schedule, and
    never not at all."""
    initial, tries = 2.0, 10
    ceilings = [min(initial * 2**n, MAX_EXPONENTIAL_WAIT) for n in range(tries)]
    for _ in range(50):
        got = waits(policy(initial_wait_seconds=initial), [failure() for _ in range(tries)])
        assert all(0 < wait <= ceiling for wait, ceiling in zip(got, ceilings, strict=True)), got


def test_no_initial_wait_means_retrying_at_once() -> None:
    """`retry_initial_wait_seconds` 0 (the documented minimum): plain faults are retried
    without a pause."""
    assert (
        waits(policy(initial_wait_seconds=0), [failure(response(502)) for _ in range(5)])
        == [0.0] * 5
    )


@pytest.mark.usefixtures("jitter_at_its_top")
def test_server_errors_and_transport_faults_follow_the_same_schedule() -> None:
    faults = [failure(), failure(response(500)), failure(response(503)), failure()]

    assert waits(policy(initial_wait_seconds=1), faults) == pytest.approx([1, 2, 4, 8])


# --- GitHub's waits ----------------------------------------------------------------------------


@pytest.mark.parametrize("status", [403, 429])
@pytest.mark.parametrize("retry_after", [1, 7, 300, 3600])
def test_retry_after_is_the_wait_whatever_the_try(status: int, retry_after: int) -> None:
    """GitHub names the wait: it is waited, exactly, on every try, above the exponential cap
    too."""
    answer = response(status, SECONDARY_MESSAGE, {"Retry-After": str(retry_after)})

    got = waits(policy(initial_wait_seconds=0.01), [failure(answer) for _ in range(6)])

    assert got == [retry_after] * 6


def test_retry_after_on_a_server_error_is_honoured_too() -> None:
    answer = response(503, "<html>Service Unavailable</html>", {"Retry-After": "12"})

    assert waits(policy(initial_wait_seconds=0.01), [failure(answer)]) == [12]


@pytest.mark.parametrize("body", [SECONDARY_MESSAGE, ABUSE_MESSAGE], ids=["secondary", "abuse"])
@pytest.mark.parametrize("status", [403, 429])
def test_a_secondary_limit_without_retry_after_waits_at_least_the_setting(
    status: int, body: dict[str, Any]
) -> None:
    """GitHub: without `retry-after`, wait at least one minute, and longer if it persists."""
    answer = response(status, body)
    tries = 10

    got = waits(
        policy(initial_wait_seconds=2, secondary_wait_seconds=60), [failure(answer)] * tries
    )

    assert all(wait >= 60 for wait in got), got


@pytest.mark.usefixtures("jitter_at_its_top")
def test_a_persisting_secondary_limit_waits_longer_once_the_backoff_passes_the_setting() -> None:
    answer = response(403, SECONDARY_MESSAGE)

    got = waits(policy(initial_wait_seconds=2, secondary_wait_seconds=60), [failure(answer)] * 8)

    assert got == pytest.approx([60, 60, 60, 60, 60, 64, 120, 120])


@pytest.mark.parametrize("status", [403, 429])
def test_the_primary_limit_waits_until_its_reset(status: int) -> None:
    reset = int(time.time()) + 42  # GitHub's header: whole UTC epoch seconds
    answer = response(
        status,
        PRIMARY_MESSAGE,
        {
            "x-ratelimit-limit": "5000",
            "x-ratelimit-remaining": "0",
            "x-ratelimit-reset": str(reset),
        },
    )

    asked = requested_wait(answer)
    [waited] = waits(policy(initial_wait_seconds=0.01), [failure(answer)])

    for wait in (asked, waited):
        assert wait is not None
        # Never before the reset; a little clock slack at most.
        assert reset - time.time() <= wait <= reset - time.time() + 2.5, wait


def test_a_reset_already_past_means_a_short_wait() -> None:
    answer = response(
        403, PRIMARY_MESSAGE, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "1000000000"}
    )

    wait = requested_wait(answer)

    assert wait is not None
    assert 0 <= wait <= 2.5


@pytest.mark.parametrize(
    ("header", "want"),
    [
        pytest.param("30", 30.0, id="seconds"),
        pytest.param("0", 0.0, id="zero"),
    ],
)
def test_requested_wait_reads_retry_after_seconds(header: str, want: float) -> None:
    assert requested_wait(response(429, SECONDARY_MESSAGE, {"Retry-After": header})) == want


def test_requested_wait_reads_retry_after_as_an_http_date() -> None:
    """HTTP allows `Retry-After` as a date (RFC 9110); the wait is the time until then."""
    when = dt.datetime.fromtimestamp(int(time.time()) + 90, tz=dt.UTC)
    header = format_datetime(when, usegmt=True)

    wait = requested_wait(response(503, "", {"Retry-After": header}))

    assert wait is not None
    assert 85 <= wait <= 90


def test_requested_wait_of_a_date_in_the_past_is_no_wait() -> None:
    wait = requested_wait(response(503, "", {"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}))

    assert wait == 0


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param(response(500), id="server-error"),
        pytest.param(response(403, SECONDARY_MESSAGE), id="secondary-without-retry-after"),
        pytest.param(
            response(
                403,
                PERMISSION_MESSAGE,
                {"x-ratelimit-remaining": "4999", "x-ratelimit-reset": str(int(time.time()) + 60)},
            ),
            id="requests-left-before-the-reset",
        ),
        pytest.param(response(403, PRIMARY_MESSAGE, {"x-ratelimit-remaining": "0"}), id="no-reset"),
    ],
)
def test_requested_wait_is_none_when_github_names_no_wait(answer: requests.Response) -> None:
    assert requested_wait(answer) is None


# --- telling rate limits apart -----------------------------------------------------------------

REMAINING_0 = {"x-ratelimit-limit": "5000", "x-ratelimit-remaining": "0", "x-ratelimit-reset": "1"}
REMAINING_12 = {
    "x-ratelimit-limit": "5000",
    "x-ratelimit-remaining": "12",
    "x-ratelimit-reset": "1",
}

#: name -> (answer, primary, secondary, rate limited at all)
CLASSIFIED: dict[str, tuple[requests.Response, bool, bool, bool]] = {
    "403-primary": (response(403, PRIMARY_MESSAGE, REMAINING_0), True, False, True),
    "429-primary": (response(429, PRIMARY_MESSAGE, REMAINING_0), True, False, True),
    "403-secondary": (response(403, SECONDARY_MESSAGE, REMAINING_12), False, True, True),
    "429-secondary": (response(429, SECONDARY_MESSAGE), False, True, True),
    "403-abuse-wording": (response(403, ABUSE_MESSAGE), False, True, True),
    "403-secondary-with-retry-after": (
        response(403, SECONDARY_MESSAGE, {"Retry-After": "60"}),
        False,
        True,
        True,
    ),
    "429-without-a-message": (response(429, ""), False, False, True),
    "403-permission": (response(403, PERMISSION_MESSAGE, REMAINING_12), False, False, False),
    "403-permission-without-headers": (response(403, PERMISSION_MESSAGE), False, False, False),
    "200-that-used-the-last-request": (
        response(200, {"ok": True}, REMAINING_0),
        False,
        False,
        False,
    ),
    "404": (response(404, {"message": "Not Found"}), False, False, False),
    "500-quoting-the-words": (response(500, SECONDARY_MESSAGE, REMAINING_0), False, False, False),
    "422": (
        response(422, {"message": "Copilot Metrics API access is disabled"}),
        False,
        False,
        False,
    ),
}


@pytest.mark.parametrize("name", list(CLASSIFIED))
def test_rate_limit_answers_are_told_apart(name: str) -> None:
    answer, primary, secondary, limited = CLASSIFIED[name]

    assert is_primary_rate_limit(answer) is primary
    assert is_secondary_rate_limit(answer) is secondary
    assert is_rate_limited(answer) is limited


# --- the time budget ---------------------------------------------------------------------------


def test_a_budget_spends_at_most_its_seconds_in_waits() -> None:
    """A download failing for good: the waits handed out add up to the budget, not more."""
    budget_seconds = 0.4
    budget = RetryBudget(policy(max_elapsed_seconds=budget_seconds, initial_wait_seconds=0.02))
    started, slept, tries = time.monotonic(), 0.0, 0

    while (wait := budget.next_wait(failure(response(503)))) is not None:
        assert wait >= 0
        time.sleep(wait)
        slept += wait
        tries += 1
        assert tries < 1000

    assert slept <= budget_seconds + 1e-9
    assert tries >= 2, "the budget allows several tries"
    assert budget.elapsed >= budget_seconds
    assert time.monotonic() - started < budget_seconds + 1.0


def test_a_budget_never_waits_past_its_end_even_when_github_asks() -> None:
    budget = RetryBudget(policy(max_elapsed_seconds=5, initial_wait_seconds=0.01))

    wait = budget.next_wait(failure(response(429, SECONDARY_MESSAGE, {"Retry-After": "3600"})))

    assert wait is not None
    assert 4 <= wait <= 5


def test_an_empty_budget_gives_up_at_the_first_failure() -> None:
    """`retry_max_elapsed_seconds` 0 (the documented minimum): no retry at all."""
    budget = RetryBudget(policy(max_elapsed_seconds=0))

    assert budget.next_wait(failure(response(503))) is None


def test_retrying_gives_up_within_the_budget_naming_it() -> None:
    calls: list[float] = []

    def always_503() -> None:
        calls.append(time.monotonic())
        raise failure(response(503))

    retried = policy(max_elapsed_seconds=0.3, initial_wait_seconds=0.02).retrying(
        always_503, on_backoff=lambda _details: None, describe=lambda _exc: "GitHub answered 503"
    )
    started = time.monotonic()

    with pytest.raises(RetryBudgetExceeded, match=r"retry_max_elapsed_seconds=0\.3") as raised:
        retried()

    assert time.monotonic() - started < 0.3 + 1.0
    assert len(calls) >= 2
    assert "GitHub answered 503" in str(raised.value)


def test_retrying_returns_once_a_try_succeeds() -> None:
    answers = [failure(response(502)), failure(), "done"]
    backoffs: list[Any] = []

    def flaky() -> str:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    retried = policy(initial_wait_seconds=0.01).retrying(
        flaky, on_backoff=backoffs.append, describe=str
    )

    assert retried() == "done"
    assert len(backoffs) == 2


def test_retrying_does_not_retry_what_is_not_transient() -> None:
    calls = []

    def refused() -> None:
        calls.append(1)
        raise ValueError("a 404 is an answer")

    retried = policy(initial_wait_seconds=0.01).retrying(
        refused, on_backoff=lambda _details: None, describe=str
    )

    with pytest.raises(ValueError, match="a 404"):
        retried()
    assert calls == [1]


def test_retrying_stops_at_once_when_nobody_waits_for_the_answer() -> None:
    """A prefetch worker whose run has stopped gives up instead of spending the budget."""
    calls: list[int] = []
    abandoned = threading.Event()

    def down() -> None:
        calls.append(1)
        if len(calls) == 2:
            abandoned.set()
        raise failure()

    retried = policy(max_elapsed_seconds=600, initial_wait_seconds=0.01).retrying(
        down, on_backoff=lambda _details: None, describe=str, abandoned=abandoned.is_set
    )

    started = time.monotonic()
    with pytest.raises(requests.exceptions.ConnectionError):
        retried()
    assert calls == [1, 1]
    assert time.monotonic() - started < 5
