"""Which days a run asks for: bookmark minus lookback, start_date and what GitHub still serves.

Both APIs are keyed on whole UTC days, so the tap keeps its bookmarks as `YYYY-MM-DD` strings and
does the date arithmetic itself (the SDK only knows how to compare timestamp bookmarks).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass

from tap_copilot_metrics.errors import ConfigError

#: A bookmark: `YYYY-MM-DD`, or a timestamp of that day (older versions, and tools that treat
#: every replication key as a timestamp, wrote `YYYY-MM-DDT00:00:00Z`).
_BOOKMARK = re.compile(
    r"^(\d{4}-\d{2}-\d{2})(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$"
)


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


def parse_bookmark(
    value: object, *, stream: str, scope_label: str, today: dt.date
) -> dt.date | None:
    """A bookmark from state as a date; a malformed one is a clear error, not a traceback.

    A bookmark in the future can only come from a damaged or hand-edited state file, and it
    would silently skip every day until then: it is refused too.
    """
    if value is None or value == "":
        return None
    text = str(value)
    match = _BOOKMARK.match(text) if isinstance(value, str) else None
    try:
        day = dt.date.fromisoformat(match.group(1)) if match else None
    except ValueError:
        day = None
    where = f"bookmark {text[:40]!r} of stream {stream} for {scope_label}"
    if day is None:
        raise ConfigError(
            "state", f"{where} is not a date; fix or remove that entry of the state file"
        )
    if day > today:
        raise ConfigError(
            "state",
            f"{where} is in the future, so every day until then would be skipped; fix or "
            "remove that entry of the state file",
        )
    return day


def day_window(
    *,
    today: dt.date,
    bookmark: dt.date | None,
    lookback_days: int,
    start_date: dt.date | None,
    end_date: dt.date,
    max_age_days: int,
    served_from: dt.date | None = None,
) -> DayWindow:
    """The days to ask an API for, the same rule for both API families.

    The window starts at the later of (bookmark - lookback_days), which re-reads days whose
    data may have changed, and start_date; with neither, at the oldest day served. It never
    starts before the oldest day served: `today - max_age_days` (each API's retention), or
    `served_from` when the API serves nothing before that day (enterprise reports). Wanted days
    older than that are reported in `lost_from`. The window ends at end_date.
    """
    oldest = today - dt.timedelta(days=max_age_days)
    if served_from:
        oldest = max(oldest, served_from)
    wanted = [day for day in (start_date,) if day]
    if bookmark:
        wanted.append(bookmark - dt.timedelta(days=lookback_days))
    first_wanted = max(wanted) if wanted else oldest
    lost_from = first_wanted if first_wanted < oldest else None
    return DayWindow(first=max(first_wanted, oldest), last=end_date, lost_from=lost_from)
