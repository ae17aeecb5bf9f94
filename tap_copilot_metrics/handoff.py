"""How a parent stream hands breakdown rows to its child streams, in one place.

Breakdown streams (streams/breakdowns.py) make their rows from records their parent already
fetched: no second request. The protocol, both sides of it here:

1. The parent passes its records through `BatchHandoff.batch`, one batch at a time: up to
   `days_per_batch` days (the report streams, which bookmark at each batch's end) or a scope
   (the metrics stream and the seats). That marks the last record of each batch.
2. For each record, the SDK asks the parent for child contexts; the parent (`hand_over`) then
   gives the record to every selected `CollectingStream` child, which keeps its own rows of it.
   This happens before the SDK drops deselected properties from the record on output.
3. When the record ends a batch, or CHILD_BATCH_RECORDS records are pending (so memory stays
   flat), the parent yields one child context, the scope alone (the SDK repeats a child's
   context in its log lines). The SDK syncs each child with it, once per batch, not once per
   record, and the child emits the rows it kept since its last sync.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable, Iterator
from typing import Any

from singer_sdk import Stream
from singer_sdk.helpers.types import Context

Row = dict[str, Any]

#: Child streams are synced at least every this many parent records.
CHILD_BATCH_RECORDS = 500

#: Report days per batch while breakdown tables are selected. Each child sync logs four lines
#: (begin, incremental, two METRICs) and writes STATE, so one batch per day made a small
#: organization's logs 5 % of its output; a run stopped inside a batch re-reads at most this many
#: days on its next run.
DAYS_PER_BATCH = 7


def days_per_batch(children: Iterable[Stream]) -> int:
    """Report days per batch: one (a bookmark per day) when no child is selected to sync."""
    selected = any(child.selected and isinstance(child, CollectingStream) for child in children)
    return DAYS_PER_BATCH if selected else 1


class CollectingStream(Stream):
    """A child stream whose rows are made from its parent's records (steps 2 and 3)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._kept: list[Row] = []

    @abc.abstractmethod
    def rows_of(self, record: Row) -> Iterable[Row]:
        """This stream's rows of one parent record."""

    def collect(self, record: Row) -> None:
        """Keep this stream's rows of one parent record until the parent next syncs it."""
        self._kept.extend(self.rows_of(record))

    def get_records(self, context: Context | None) -> Iterable[Row]:
        """The rows kept since the last sync."""
        rows, self._kept = self._kept, []
        yield from rows


class BatchHandoff:
    """The parent's side: marks where batches end and hands records to its children."""

    def __init__(self, batch_records: int = CHILD_BATCH_RECORDS) -> None:
        self._batch_records = batch_records
        self._pending = 0
        #: Whether the record being emitted ends a batch; one outside `batch()` ends its own.
        self._ends_batch = True

    def batch(self, records: Iterable[Row]) -> Iterator[Row]:
        """Pass one batch's records through, one behind, so the last is known as such (step 1)."""
        previous: Row | None = None
        for record in records:
            if previous is not None:
                self._ends_batch = False
                yield previous
            previous = record
        if previous is not None:
            self._ends_batch = True
            yield previous

    def hand_over(
        self, record: Row, children: Iterable[Stream], context: Context | None
    ) -> Iterator[Context]:
        """Give the record to the selected children; the child context when a batch ends."""
        collecting = [
            child for child in children if child.selected and isinstance(child, CollectingStream)
        ]
        if not collecting:
            return
        for child in collecting:
            child.collect(record)
        self._pending += 1
        if self._ends_batch or self._pending >= self._batch_records:
            self._pending = 0
            yield dict(context or {})
