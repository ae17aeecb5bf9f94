"""Streams keyed on whole UTC days: which days to ask for, and a bookmark per complete day.

Both API families (the usage reports and the legacy metrics API) work this way; they differ only
in how far back GitHub serves them, which each stream class declares.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any, ClassVar

from singer_sdk.helpers.types import Context

from tap_copilot_metrics.client import GitHubStream
from tap_copilot_metrics.days import DayWindow, day_window, parse_bookmark
from tap_copilot_metrics.scopes import Scope


class DailyStream(GitHubStream):
    """A stream of one record set per scope and day, bookmarked by day."""

    #: GitHub serves days back to today minus this many days.
    max_age_days: ClassVar[int]
    #: How messages name what GitHub keeps, e.g. "the reports GitHub keeps".
    kept_words: ClassVar[str]

    def served_from(self, scope: Scope) -> dt.date | None:
        """The first day GitHub serves for `scope` at all, when there is one."""
        return None

    def window_for(self, scope: Scope, context: Context | None) -> DayWindow:
        """Days to ask for: bookmark - lookback, start_date, and what GitHub still serves."""
        settings = self.settings
        found = self.get_context_state(context).get("replication_key_value")
        if found:
            self._checkpointed[_context_key(context)] = str(found)[:10]
        window = day_window(
            today=settings.today,
            bookmark=parse_bookmark(
                self.get_starting_replication_key_value(context),
                stream=self.name,
                scope_label=scope.label,
                today=settings.today,
            ),
            lookback_days=settings.lookback_days,
            start_date=settings.start_date,
            end_date=settings.end_date,
            max_age_days=self.max_age_days,
            served_from=self.served_from(scope),
        )
        if window.lost_from:
            self.logger.warning(
                "%s for %s: days %s..%s are older than %s and can no longer be fetched; "
                "starting at %s",
                self.name,
                scope.label,
                window.lost_from,
                window.first - dt.timedelta(days=1),
                self.kept_words,
                window.first,
            )
        if window.is_empty:
            self.logger.info("%s for %s: already up to date", self.name, scope.label)
        return window

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: Per context, the bookmark of the last complete batch: the one the run found, then the
        #: one `checkpoint` last wrote.
        self._checkpointed: dict[tuple[tuple[str, Any], ...], str] = {}

    def generate_child_contexts(
        self, record: dict[str, Any], context: Context | None
    ) -> Iterator[Context]:
        """The breakdown hand-off, with this stream's bookmark held at its last checkpoint.

        Each child writes STATE when its sync ends, and the SDK has by then moved this stream's
        bookmark record by record to the day being read, which is not yet emitted whole (this
        record is written after its children sync; later children have not synced yet).
        """
        for child_context in super().generate_child_contexts(record, context):
            state = self.get_context_state(context)
            held = self._checkpointed.get(_context_key(context))
            if held:
                state["replication_key_value"] = held
            else:
                state.pop("replication_key_value", None)
            yield child_context

    def _starting_day(self, context: Context | None) -> str:
        """The bookmark the run started from, as a day ("" without one)."""
        started_from = self.get_starting_replication_key_value(context)
        return str(started_from)[:10] if started_from else ""

    def checkpoint(self, context: Context | None, day: dt.date) -> None:
        """Bookmark `day` as complete and emit STATE now.

        The SDK moves a bookmark record by record and only while the stream itself is selected;
        day-keyed streams instead bookmark whole days, also when only their breakdowns are
        selected, so a resumed run never skips a day it did not finish.
        """
        state = self.get_context_state(context)
        state["replication_key"] = self.replication_key
        # Re-reading the lookback window must not lower the bookmark the run started from: a
        # run killed there would otherwise restart lookback_days earlier each time.
        state["replication_key_value"] = max(day.isoformat(), self._starting_day(context))
        self._checkpointed[_context_key(context)] = state["replication_key_value"]
        # Through the tap's public state writer (it skips a STATE equal to the last one); marked
        # flushed, as the SDK does, so the same state is not written again at the partition end.
        self.copilot_tap.state_writer.write_state(self.tap_state)
        self.state_manager.is_flushed = True


def _context_key(context: Context | None) -> tuple[tuple[str, Any], ...]:
    return tuple(sorted((context or {}).items()))
