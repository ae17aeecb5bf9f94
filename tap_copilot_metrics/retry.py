"""When GitHub says "not now", how long to wait, and for how long in total.

GitHub signals transient trouble in several ways: 5xx, 429, a *secondary* rate limit (403 or 429
with a message, often with `Retry-After`), the *primary* limit (`x-ratelimit-remaining: 0` with
`x-ratelimit-reset`), and at the transport level dropped connections, timeouts and truncated
bodies. The SDK retries with plain exponential backoff and knows none of GitHub's headers, so the
tap drives `backoff` with its own wait generator (fed the exception of each failed try) and a
total time budget: a run never waits longer than `retry_max_elapsed_seconds` for one request.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any, TypeVar

import backoff
import requests
from singer_sdk.exceptions import RetriableAPIError

from tap_copilot_metrics.errors import RetryBudgetExceeded

if TYPE_CHECKING:
    from backoff.types import Details

    from tap_copilot_metrics.settings import Settings

T = TypeVar("T")

#: Exceptions that mean "try again": the SDK's own retriable error plus transport faults.
TRANSIENT_EXCEPTIONS: tuple[type[Exception], ...] = (
    RetriableAPIError,
    ConnectionError,
    requests.exceptions.ConnectionError,
    requests.exceptions.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)

#: Longest single pause between two tries unless GitHub asks for more.
MAX_EXPONENTIAL_WAIT = 120.0


@dataclass(frozen=True)
class RetryPolicy:
    """Knobs of the retry loop, all from settings so tests can run it with short waits."""

    max_elapsed_seconds: float
    initial_wait_seconds: float
    secondary_wait_seconds: float

    @classmethod
    def from_settings(cls, settings: Settings) -> RetryPolicy:
        """The policy the user configured."""
        return cls(
            max_elapsed_seconds=settings.retry_max_elapsed_seconds,
            initial_wait_seconds=settings.retry_initial_wait_seconds,
            secondary_wait_seconds=settings.secondary_rate_limit_wait_seconds,
        )

    def wait_generator(self) -> Generator[float, Any, None]:
        """Wait seconds for each failed try, honouring GitHub's headers when present."""
        attempt = 0
        exception = yield 0.0  # primed by backoff with send(None)
        while True:
            attempt += 1
            expo = min(self.initial_wait_seconds * 2 ** (attempt - 1), MAX_EXPONENTIAL_WAIT)
            jittered = expo * random.uniform(0.5, 1.0) if expo else 0.0
            wait = jittered
            response = getattr(exception, "response", None)
            if isinstance(response, requests.Response):
                asked = requested_wait(response)
                if asked is not None:
                    wait = asked
                elif is_secondary_rate_limit(response):
                    wait = max(self.secondary_wait_seconds, jittered)
            exception = yield wait

    def retrying(
        self,
        func: Callable[..., T],
        *,
        on_backoff: Callable[[Details], None],
        describe: Callable[[Exception], str],
        abandoned: Callable[[], bool] = lambda: False,
    ) -> Callable[..., T]:
        """Wrap `func` so transient faults are retried within the time budget.

        When the budget is spent, the last fault becomes a `RetryBudgetExceeded` whose message
        says what kept failing (`describe` turns the exception into safe words). When
        `abandoned()` says nobody waits for the answer any more, the fault is raised as it is,
        without another retry.
        """
        decorated = backoff.on_exception(
            self.wait_generator,
            TRANSIENT_EXCEPTIONS,
            max_tries=None,
            max_time=self.max_elapsed_seconds,
            jitter=None,
            giveup=lambda _exc: abandoned(),
            on_backoff=on_backoff,
        )(func)

        def call(*args: Any, **kwargs: Any) -> T:
            started = time.monotonic()
            try:
                return decorated(*args, **kwargs)
            except TRANSIENT_EXCEPTIONS as exc:
                if abandoned():
                    raise
                elapsed = time.monotonic() - started
                msg = (
                    f"{describe(exc)}; still failing after retrying for {elapsed:.1f}s "
                    f"(retry_max_elapsed_seconds={self.max_elapsed_seconds:g}); "
                    "try again later or raise the budget"
                )
                raise RetryBudgetExceeded(msg) from None

        return call


class RetryBudget:
    """Retries of one streamed download, where a decorator cannot wrap the loop.

    Each failure gets a wait from the policy; `None` means the time budget is spent.
    """

    def __init__(self, policy: RetryPolicy) -> None:
        self._policy = policy
        self._started = time.monotonic()
        self._waits = policy.wait_generator()
        next(self._waits)

    @property
    def elapsed(self) -> float:
        """Seconds since the first try."""
        return time.monotonic() - self._started

    def next_wait(self, failure: Exception) -> float | None:
        """Seconds to sleep before the next try, or None to give up."""
        remaining = self._policy.max_elapsed_seconds - self.elapsed
        if remaining <= 0:
            return None
        return min(self._waits.send(failure), remaining)


def requested_wait(response: requests.Response) -> float | None:
    """Seconds GitHub asked us to wait (`Retry-After`, or the primary limit's reset), if any."""
    retry_after = response.headers.get("retry-after")
    if retry_after:
        try:
            return max(float(retry_after), 0.0)
        except ValueError:
            try:
                when = parsedate_to_datetime(retry_after).timestamp()
            except (TypeError, ValueError):
                return None
            return max(when - time.time(), 0.0)
    if is_primary_rate_limit(response):
        try:
            reset = float(response.headers["x-ratelimit-reset"])
        except (KeyError, ValueError):
            return None
        # One second of slack: GitHub's clock and ours are not the same clock.
        return max(reset - time.time(), 0.0) + 1.0
    return None


def is_primary_rate_limit(response: requests.Response) -> bool:
    """403/429 with no requests left in the hourly budget."""
    return response.status_code in (403, 429) and (
        response.headers.get("x-ratelimit-remaining") == "0"
    )


def is_secondary_rate_limit(response: requests.Response) -> bool:
    """403/429 whose message names GitHub's secondary (abuse) rate limit."""
    if response.status_code not in (403, 429):
        return False
    try:
        text = response.text[:2000].lower()
    except (UnicodeDecodeError, requests.exceptions.RequestException):
        return False
    return "secondary rate limit" in text or "abuse" in text


def is_rate_limited(response: requests.Response) -> bool:
    """Any rate-limit answer: 429, or a 403 that is the primary or secondary limit."""
    return (
        response.status_code == 429
        or is_primary_rate_limit(response)
        or is_secondary_rate_limit(response)
    )
