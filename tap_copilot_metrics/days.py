"""Which days a run asks for: bookmark minus lookback, start_date and GitHub's retention.

Both APIs are keyed on whole UTC days, so the tap keeps its bookmarks as `YYYY-MM-DD` strings and
does the date arithmetic itself (the SDK only knows how to compare timestamp bookmarks).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

from tap_copilot_metrics.errors import ConfigError


@dataclass(frozen=True)
class DayWindow:
    """The inclusive range of days to request, and what could not be requested any more."""

    first: dt.date
    last: dt.date
    #: Days the user asked for that GitHub no longer keeps (start of the lost range), if any.
    lost_from: dt.date | None = None

    @property
    def is_empty(self) -> bool:
        """True when there is nothing to ask for (e.g. the bookmark is already at end_date)."""
        return self.first > self.last

    def days(self) -> Iterator[dt.date]:
        """Every day of the window, oldest first."""
        day = self.first
        while day <= self.last:
            yield day
            day += dt.timedelta(days=1)


def parse_bookmark(value: object, *, stream: str, scope_label: str) -> dt.date | None:
    """A bookmark from state as a date; a malformed one is a clear error, not a traceback."""
    if value is None or value == "":
        return None
    text = str(value)
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        raise ConfigError(
            "state",
            f"bookmark {text!r} of stream {stream} for {scope_label} is not a date; "
            "fix or remove that entry of the state file",
        ) from None


def request_window(
    *,
    bookmark: dt.date | None,
    lookback_days: int,
    start_date: dt.date | None,
    end_date: dt.date,
    oldest_available: dt.date,
) -> DayWindow:
    """The later of (bookmark - lookback), start_date and the oldest day GitHub keeps."""
    wanted = [day for day in (start_date,) if day]
    if bookmark:
        wanted.append(bookmark - dt.timedelta(days=lookback_days))
    first_wanted = max(wanted) if wanted else oldest_available
    lost_from = first_wanted if first_wanted < oldest_available else None
    return DayWindow(first=max(first_wanted, oldest_available), last=end_date, lost_from=lost_from)
