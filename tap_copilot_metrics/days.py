"""Which days a run asks for: bookmark minus lookback, start_date and GitHub's retention.

Both APIs are keyed on whole UTC days, so the tap keeps its bookmarks as `YYYY-MM-DD` strings and
does the date arithmetic itself (the SDK only knows how to compare timestamp bookmarks).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tap_copilot_metrics.errors import ConfigError
from tap_copilot_metrics.scopes import ScopeKind

if TYPE_CHECKING:
    from tap_copilot_metrics.settings import Settings

#: A bookmark: `YYYY-MM-DD`, or a timestamp of that day (older versions, and tools that treat
#: every replication key as a timestamp, wrote `YYYY-MM-DDT00:00:00Z`).
_BOOKMARK = re.compile(
    r"^(\d{4}-\d{2}-\d{2})(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$"
)
_SCOPE_KINDS = frozenset(kind.value for kind in ScopeKind)


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


def load_state_text(text: str) -> dict[str, Any]:
    """The content of a `--state` file, or one line naming what is wrong with it."""
    if not text.strip():
        raise ConfigError(
            "state",
            "the state file is empty; pass the last STATE the tap wrote, or leave out --state "
            "to start from start_date",
        )
    try:
        state = json.loads(text)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno}, column {exc.colno}"
        raise ConfigError("state", f"the state file is not valid JSON ({where})") from None
    if not isinstance(state, dict):
        raise ConfigError("state", 'the state file must hold a JSON object: {"bookmarks": {...}}')
    return state


def review_state(state: object, *, settings: Settings, streams: Iterable[str]) -> list[str]:
    """Check a state before the run uses it: a damaged one stops the run, stale parts are kept.

    Raises `ConfigError` (one line naming the entry) for a state of the wrong shape or a
    bookmark that is not a usable date. Returns warnings, for the log, about what is harmless
    and kept unchanged: streams this tap does not have, partitions of scopes no longer
    configured (used again if the scope comes back), and bookmarks without a scope partition
    written by older versions (each scope then starts from its own bookmark or start_date, so
    nothing is skipped).
    """
    if not isinstance(state, Mapping):
        raise ConfigError("state", 'the state must be a JSON object: {"bookmarks": {...}}')
    bookmarks = state.get("bookmarks", {})
    if not isinstance(bookmarks, Mapping):
        raise ConfigError("state", "`bookmarks` in the state must be an object keyed by stream")
    known = set(streams)
    warnings: list[str] = []
    for stream, stream_state in bookmarks.items():
        if not isinstance(stream_state, Mapping):
            raise ConfigError("state", f"the bookmark of stream {stream} must be an object")
        if stream not in known:
            warnings.append(
                f"state: stream {stream} is not a stream of this tap; its bookmark is kept "
                "unchanged and not used"
            )
            continue
        if stream_state.get("replication_key_value") not in (None, ""):
            warnings.append(
                f"state: stream {stream} has a bookmark without a scope (written by an older "
                "version); it is not used: each organization and enterprise resumes from its "
                "own bookmark, or from start_date"
            )
        partitions = stream_state.get("partitions", [])
        if not isinstance(partitions, list):
            raise ConfigError("state", f"`partitions` of stream {stream} must be a list")
        for partition in partitions:
            context = partition.get("context") if isinstance(partition, Mapping) else None
            if not isinstance(context, Mapping):
                raise ConfigError(
                    "state", f"a partition of stream {stream} has no `context` object"
                )
            label = _configured_label(context, settings)
            if label is None:
                warnings.append(
                    f"state: stream {stream} has a bookmark for {_context_label(context)}, "
                    "which is not configured; it is kept unchanged and used again if the "
                    "scope is configured again"
                )
                continue
            parse_bookmark(
                partition.get("replication_key_value"),
                stream=stream,
                scope_label=label,
                today=settings.today,
            )
    return warnings


def _context_label(context: Mapping[str, Any]) -> str:
    scope, name = context.get("scope"), context.get("scope_name")
    if isinstance(scope, str) and isinstance(name, str):
        return f"{scope} {name!r}"
    return json.dumps(context, default=str)[:100]


def _configured_label(context: Mapping[str, Any], settings: Settings) -> str | None:
    """`organization 'octo-org'` when the partition's scope is configured, else None."""
    scope, name = context.get("scope"), context.get("scope_name")
    if set(context) != {"scope", "scope_name"} or scope not in _SCOPE_KINDS:
        return None
    configured = getattr(settings, ScopeKind(scope).setting)
    org = str(name).partition("/")[0]
    if name in configured or (scope == "team" and f"{org}/*" in configured):
        return f"{scope} {name!r}"
    return None


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
