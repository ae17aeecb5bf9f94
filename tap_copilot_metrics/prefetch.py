"""Fetch upcoming report days in the background while the current day is being emitted.

Each report day costs one API call plus one download per file, and each of those waits on the
network. Worker threads fetch the next `download_concurrency` days ahead (envelope and files,
spooled to temporary files on disk so memory stays flat), while the main thread parses and emits
the days strictly in ascending order. Bookmarks are unaffected: a day is still emitted, and
checkpointed, only after every earlier day.

The workers are daemon threads, not a ThreadPoolExecutor's: when a run fails, the days fetched
ahead must not keep the process alive (the interpreter joins executor threads at exit, which
could mean minutes of retries after the error line). A worker lives as long as its prefetcher
and fetches day after day, so it keeps its own HTTP sessions (sessions.py) and their connections
from one day to the next; `on_worker_exit` runs on each worker as it ends, to hand them back.
"""

from __future__ import annotations

import datetime as dt
import queue
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


#: The prefetcher a worker thread fetches for (its `stopped` event), seen by retry loops.
_worker = threading.local()


def fetch_abandoned() -> bool:
    """Whether this thread fetches for a prefetcher that stopped: its retries give up then.

    A run that failed (or a scope that ended early) must not leave workers retrying a dead
    server for minutes, logging retry lines into whatever runs next.
    """
    stopped: threading.Event | None = getattr(_worker, "stopped", None)
    return stopped is not None and stopped.is_set()


#: A day to fetch and where its result goes; None tells a worker to end.
_Job = tuple[dt.date, Future[FetchedDay]] | None


def _nothing() -> None:
    return


class DayPrefetcher:
    """Yields `fetch(day, stopped)` results in day order, keeping up to `ahead` days in flight."""

    def __init__(
        self,
        fetch: Callable[[dt.date, threading.Event], FetchedDay],
        days: Iterable[dt.date],
        *,
        ahead: int,
        name: str,
        on_worker_exit: Callable[[], None] = _nothing,
    ) -> None:
        self._fetch = fetch
        self._days = iter(days)
        self._ahead = max(ahead, 1)
        self._name = name
        self._on_worker_exit = on_worker_exit
        #: Days handed to the workers and not yet consumed, in day order.
        self._in_flight: deque[Future[FetchedDay]] = deque()
        self._jobs: queue.SimpleQueue[_Job] = queue.SimpleQueue()
        self._workers = 0
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
        """Stop fetching ahead: days not started are dropped, fetched ones removed when done."""
        self.stopped.set()
        for future in self._in_flight:
            if not future.cancel():  # already being fetched
                future.add_done_callback(_close_result)
        self._in_flight.clear()
        self._days = iter(())
        for _ in range(self._workers):
            self._jobs.put(None)
        self._workers = 0

    def _top_up(self) -> None:
        while len(self._in_flight) < self._ahead:
            day = next(self._days, None)
            if day is None:
                return
            future: Future[FetchedDay] = Future()
            self._in_flight.append(future)
            self._jobs.put((day, future))
            if self._workers < self._ahead:
                self._workers += 1
                name = f"{self._name}-{self._workers}"
                threading.Thread(target=self._work, name=name, daemon=True).start()

    def _work(self) -> None:
        """A worker: fetch queued days one after another until told to end."""
        _worker.stopped = self.stopped
        try:
            while (job := self._jobs.get()) is not None:
                day, future = job
                if not future.set_running_or_notify_cancel():
                    continue  # dropped by close()
                try:
                    future.set_result(self._fetch(day, self.stopped))
                except BaseException as exc:  # handed to the main thread by future.result()
                    future.set_exception(exc)
        finally:
            self._on_worker_exit()


def _close_result(future: Future[FetchedDay]) -> None:
    if not future.cancelled() and future.exception() is None:
        future.result().close()
