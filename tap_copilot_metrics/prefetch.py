"""Fetch upcoming report days in the background while the current day is being emitted.

Each report day costs one API call plus one download per file, and each of those waits on the
network. Worker threads fetch the next `download_concurrency` days ahead (envelope and files,
spooled to temporary files on disk so memory stays flat), while the main thread parses and emits
the days strictly in ascending order. Bookmarks are unaffected: a day is still emitted, and
checkpointed, only after every earlier day.

The workers are daemon threads, not a ThreadPoolExecutor's: when a run fails, the days fetched
ahead must not keep the process alive (the interpreter joins executor threads at exit, which
could mean minutes of retries after the error line).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import IO


@dataclass
class FetchedDay:
    """A day's report files on local disk, or the fact that there is no report."""

    day: dt.date
    files: list[IO[bytes]] = field(default_factory=list)
    has_report: bool = True

    def close(self) -> None:
        """Remove the spooled files."""
        for spooled in self.files:
            spooled.close()
        self.files.clear()


class FetchStopped(Exception):
    """The run no longer needs this day (it stopped or failed): give up quietly."""


class DayPrefetcher:
    """Yields `fetch(day, stopped)` results in day order, keeping up to `ahead` days in flight."""

    def __init__(
        self,
        fetch: Callable[[dt.date, threading.Event], FetchedDay],
        days: Iterable[dt.date],
        *,
        ahead: int,
        name: str,
    ) -> None:
        self._fetch = fetch
        self._days = iter(days)
        self._ahead = max(ahead, 1)
        self._name = name
        self._in_flight: deque[Future[FetchedDay]] = deque()
        #: Set when the consumer stops; fetches check it between requests (FetchStopped).
        self.stopped = threading.Event()

    def __iter__(self) -> Iterator[FetchedDay]:
        """Each day's result (or its exception, raised here) in ascending order."""
        try:
            self._top_up()
            while self._in_flight:
                fetched = self._in_flight.popleft().result()
                self._top_up()
                try:
                    yield fetched
                finally:
                    fetched.close()
        finally:
            self.close()

    def close(self) -> None:
        """Stop fetching ahead; whatever was fetched but not consumed is removed when done."""
        self.stopped.set()
        for future in self._in_flight:
            future.add_done_callback(_close_result)
        self._in_flight.clear()
        self._days = iter(())

    def _top_up(self) -> None:
        while len(self._in_flight) < self._ahead:
            day = next(self._days, None)
            if day is None:
                return
            self._in_flight.append(self._start(day))

    def _start(self, day: dt.date) -> Future[FetchedDay]:
        future: Future[FetchedDay] = Future()

        def work() -> None:
            future.set_running_or_notify_cancel()
            try:
                if self.stopped.is_set():
                    raise FetchStopped
                future.set_result(self._fetch(day, self.stopped))
            except BaseException as exc:  # handed to the main thread by future.result()
                future.set_exception(exc)

        threading.Thread(target=work, name=f"{self._name}-{day}", daemon=True).start()
        return future


def _close_result(future: Future[FetchedDay]) -> None:
    if not future.cancelled() and future.exception() is None:
        future.result().close()
