"""Today's date in UTC: the one clock the tap, the simulator, the demo and the tests read.

GitHub's daily data follows the UTC calendar, and every "which days" decision (the default
`end_date`, retention limits, whether a missing report is "not yet") starts from today. Users get
the real UTC date. `COPILOT_METRICS_TODAY=YYYY-MM-DD` pins it, for every process that inherits
the variable (the tap under Meltano, the simulator, the tests), so a run can be replayed as of a
day and a test suite passes on any calendar day, not only the one it was written on.
"""

from __future__ import annotations

import datetime as dt
import os

from tap_copilot_metrics.errors import ConfigError

#: Environment variable that pins "today" (unset: the real UTC date).
TODAY_VARIABLE = "COPILOT_METRICS_TODAY"


def pinned_today() -> dt.date | None:
    """The pinned date, or None when the real clock is used."""
    text = os.environ.get(TODAY_VARIABLE, "").strip()
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ConfigError(
            TODAY_VARIABLE, f"{text[:20]!r} is not a date of the form YYYY-MM-DD; unset it"
        ) from None


def utc_today() -> dt.date:
    """Today in UTC, or the pinned day."""
    return pinned_today() or dt.datetime.now(dt.UTC).date()
