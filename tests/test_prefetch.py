"""The day prefetcher (prefetch.py) and the per-thread HTTP sessions its workers use.

Fetches here are fakes that wait on events, so each test decides which day finishes when.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import logging
import socket
import tempfile
import threading
import time
from collections.abc import Callable

import pytest
import requests

from tap_copilot_metrics.downloads import ReportDownloader
from tap_copilot_metrics.prefetch import DayPrefetcher, FetchedDay, FetchStopped
from tap_copilot_metrics.retry import RetryPolicy
from tap_copilot_metrics.sessions import ThreadSessions
from tap_copilot_metrics.tap import TapCopilotMetrics

DAYS = [dt.date(2026, 10, 30) + dt.timedelta(days=n) for n in range(6)]  # crosses a month end
WAIT = 5.0  # seconds; only reached when a test fails


def spooled_day(day: dt.date) -> FetchedDay:
    """A fetched day with one real temporary file, so closing can be checked."""
    spooled = tempfile.TemporaryFile()  # noqa: SIM115 (closed by FetchedDay.close)
    spooled.write(day.isoformat().encode())
    spooled.seek(0)
    return FetchedDay(day, files=[spooled])


def wait_for(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


class Fetches:
    """A fake fetch: records calls, and each day waits until the test releases it."""

    def __init__(self, *, released: bool = False) -> None:
        self.release = {day: threading.Event() for day in DAYS}
        if released:
            for event in self.release.values():
                event.set()
        self.started: list[dt.date] = []
        self.finished: list[dt.date] = []
        self.results: dict[dt.date, FetchedDay] = {}
        self.running = 0
        self.most_running = 0
        self.threads: set[str] = set()
        self.failing: dict[dt.date, Exception] = {}
        self._lock = threading.Lock()

    def __call__(self, day: dt.date, stopped: threading.Event) -> FetchedDay:
        with self._lock:
            self.started.append(day)
            self.threads.add(threading.current_thread().name)
            self.running += 1
            self.most_running = max(self.most_running, self.running)
        try:
            assert self.release[day].wait(WAIT)
            if day in self.failing:
                raise self.failing[day]
            fetched = spooled_day(day)
            self.results[day] = fetched
            return fetched
        finally:
            with self._lock:
                self.running -= 1
                self.finished.append(day)


def in_background(work: Callable[[], None]) -> threading.Thread:
    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    return thread


@pytest.mark.parametrize("ahead", [len(DAYS), 3])
def test_days_come_out_in_request_order_even_when_later_days_finish_first(ahead: int) -> None:
    fetches = Fetches()

    def finish_backwards() -> None:
        wait_for(lambda: len(fetches.started) == ahead)
        for day in reversed(DAYS[:ahead]):  # the last day started finishes first
            fetches.release[day].set()
            wait_for(lambda day=day: day in fetches.finished)  # type: ignore[misc]
        for event in fetches.release.values():
            event.set()

    in_background(finish_backwards)
    emitted = [fetched.day for fetched in DayPrefetcher(fetches, DAYS, ahead=ahead, name="t")]
    assert fetches.finished[:ahead] == list(reversed(DAYS[:ahead]))
    assert emitted == DAYS


@pytest.mark.parametrize("ahead", [1, 2, 4])
def test_at_most_ahead_days_are_in_flight(ahead: int) -> None:
    fetches = Fetches()
    emitting_first = threading.Event()
    go_on = threading.Event()
    emitted: list[dt.date] = []

    def consume() -> None:
        for fetched in DayPrefetcher(fetches, DAYS, ahead=ahead, name="t"):
            emitted.append(fetched.day)
            if len(emitted) == 1:
                emitting_first.set()
                assert go_on.wait(WAIT)

    consumer = in_background(consume)
    wait_for(lambda: len(fetches.started) == ahead)
    time.sleep(0.05)
    assert len(fetches.started) == ahead  # the first day is not done: nothing more starts
    for event in fetches.release.values():
        event.set()
    assert emitting_first.wait(WAIT)
    time.sleep(0.05)
    # While the first day is emitted, the next `ahead` days are fetched, and no more.
    assert len(fetches.started) == 1 + ahead
    go_on.set()
    consumer.join(WAIT)
    assert emitted == DAYS
    assert fetches.most_running <= ahead


def test_workers_are_at_most_ahead_threads_that_fetch_day_after_day() -> None:
    """A worker lives for the whole prefetch, so its HTTP sessions serve several days."""
    fetches = Fetches(released=True)
    exits: list[str] = []

    def on_exit() -> None:
        exits.append(threading.current_thread().name)

    prefetcher = DayPrefetcher(fetches, DAYS, ahead=2, name="t", on_worker_exit=on_exit)
    assert [fetched.day for fetched in prefetcher] == DAYS
    assert 1 <= len(fetches.threads) <= 2
    wait_for(lambda: len(exits) == len(fetches.threads))
    assert set(exits) == fetches.threads  # each worker ran the exit hook, on its own thread


def test_an_error_is_raised_when_its_day_is_reached_after_earlier_days() -> None:
    fetches = Fetches()
    fetches.failing[DAYS[2]] = RuntimeError("day 3 failed")
    fetches.release[DAYS[2]].set()  # the failing day fails first

    def release_the_rest() -> None:
        wait_for(lambda: DAYS[2] in fetches.finished)
        for event in fetches.release.values():
            event.set()

    in_background(release_the_rest)
    emitted: list[dt.date] = []

    def emit_all() -> None:
        for fetched in DayPrefetcher(fetches, DAYS, ahead=4, name="t"):
            emitted.append(fetched.day)

    with pytest.raises(RuntimeError, match="day 3 failed"):
        emit_all()
    assert fetches.finished[0] == DAYS[2]
    assert emitted == DAYS[:2]


def test_a_day_is_closed_once_emitted() -> None:
    fetches = Fetches(released=True)
    for fetched in DayPrefetcher(fetches, DAYS, ahead=2, name="t"):
        assert fetched.files[0].read() == fetched.day.isoformat().encode()
    assert all(not fetched.files for fetched in fetches.results.values())


def test_close_stops_fetching_and_removes_files_fetched_ahead() -> None:
    fetches = Fetches()
    fetches.release[DAYS[0]].set()
    fetches.release[DAYS[1]].set()  # fetched ahead, never consumed
    prefetcher = DayPrefetcher(fetches, DAYS, ahead=3, name="t")
    days = iter(prefetcher)
    first = next(days)
    assert first.day == DAYS[0]
    wait_for(lambda: DAYS[1] in fetches.finished)
    spooled_ahead = fetches.results[DAYS[1]].files[0]
    still_fetching = [day for day in fetches.started if day not in fetches.finished]

    days.close()  # the consumer stops (a `break`, or an error while emitting)

    assert prefetcher.stopped.is_set()
    assert first.files == []  # the day being emitted is removed too
    assert spooled_ahead.closed
    for event in fetches.release.values():
        event.set()
    # Days still being fetched are removed when they are done.
    wait_for(lambda: all(day in fetches.results for day in still_fetching))
    wait_for(lambda: all(not fetches.results[day].files for day in still_fetching))
    time.sleep(0.05)
    # No day beyond those in flight when the consumer stopped is ever fetched.
    assert fetches.started == DAYS[: len(fetches.started)]
    assert len(fetches.started) <= 1 + 3


def test_a_fetch_sees_the_stop_and_may_give_up_quietly() -> None:
    gave_up = threading.Event()

    def fetch(day: dt.date, stopped: threading.Event) -> FetchedDay:
        if day == DAYS[0]:
            return FetchedDay(day)
        assert stopped.wait(WAIT)
        gave_up.set()
        raise FetchStopped

    for fetched in DayPrefetcher(fetch, DAYS, ahead=2, name="t"):
        assert fetched.day == DAYS[0]
        break
    assert gave_up.wait(WAIT)


# --- sessions: worker threads never share one -----------------------------------------------


def on_threads(count: int, work: Callable[[], object]) -> list[object]:
    """`work()` run on `count` threads at once; their results."""
    results: list[object] = [None] * count
    barrier = threading.Barrier(count)

    def run(index: int) -> None:
        results[index] = work()
        barrier.wait(WAIT)  # all alive at once, so none can take over another's session

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT)
    return results


def test_each_thread_has_its_own_session_and_keeps_it() -> None:
    sessions = ThreadSessions()
    mine = sessions.get()
    assert sessions.get() is mine
    theirs = on_threads(3, sessions.get)
    assert len({id(session) for session in [mine, *theirs]}) == 4


def test_a_released_session_is_taken_over_by_a_later_thread_with_its_connections() -> None:
    sessions = ThreadSessions()

    def use_and_release() -> requests.Session:
        session = sessions.get()
        sessions.release()
        return session

    first = on_threads(1, use_and_release)[0]
    second = on_threads(1, use_and_release)[0]
    assert second is first


def test_stream_api_sessions_are_per_thread() -> None:
    tap = TapCopilotMetrics(
        config={"auth_token": "ghp_x", "organizations": ["octo-org"]}, setup_mapper=False
    )
    stream = tap.streams["copilot_user_usage_daily"]
    main = stream.requests_session
    assert stream.requests_session is main
    workers = on_threads(2, lambda: stream.requests_session)
    assert len({id(main), *(id(session) for session in workers)}) == 3


def test_downloads_on_two_threads_use_two_sessions(monkeypatch: pytest.MonkeyPatch) -> None:
    used: list[tuple[str, int]] = []

    def get(session: requests.Session, url: str, **_: object) -> requests.Response:
        used.append((threading.current_thread().name, id(session)))
        response = requests.Response()
        response.status_code = 200
        response.raw = io.BytesIO(b'{"day": "2026-11-01"}\n')
        return response

    monkeypatch.setattr(requests.Session, "get", get)
    downloader = ReportDownloader(
        RetryPolicy(max_elapsed_seconds=0, initial_wait_seconds=0, secondary_wait_seconds=0),
        timeout=1,
        logger=logging.getLogger("test"),
    )

    def download_twice() -> None:
        for _ in range(2):
            downloader.download("https://blob.example/f", source="a file").close()

    on_threads(2, download_twice)
    by_thread: dict[str, set[int]] = {}
    for thread, session in used:
        by_thread.setdefault(thread, set()).add(session)
    assert len(by_thread) == 2
    assert all(len(sessions) == 1 for sessions in by_thread.values())  # kept within a thread
    first, second = by_thread.values()
    assert first.isdisjoint(second)  # never shared between threads


def test_a_worker_stops_retrying_a_dead_server_when_the_prefetcher_closes() -> None:
    """A failed run must not leave workers retrying for minutes, logging into what runs next."""
    with socket.socket() as sock:  # a port nothing listens on: every try is refused
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    retried = threading.Event()
    logger = logging.getLogger("test-dead-server")
    handler = logging.Handler()
    handler.emit = lambda _record: retried.set()  # type: ignore[method-assign]
    logger.addHandler(handler)
    downloader = ReportDownloader(
        RetryPolicy(max_elapsed_seconds=600, initial_wait_seconds=0.05, secondary_wait_seconds=0),
        timeout=1,
        logger=logger,
    )
    gave_up: list[BaseException] = []

    def fetch(day: dt.date, stopped: threading.Event) -> FetchedDay:
        try:
            downloader.download(f"http://127.0.0.1:{port}/f", source=day.isoformat())
        except BaseException as exc:
            gave_up.append(exc)
            raise
        raise AssertionError("a refused connection downloaded something")

    prefetcher = DayPrefetcher(fetch, DAYS[:1], ahead=1, name="dead-server")

    def consume() -> None:
        with contextlib.suppress(FetchStopped):  # the day it waited for was given up
            list(prefetcher)

    consumer = threading.Thread(target=consume, daemon=True)
    try:
        consumer.start()
        assert retried.wait(WAIT), "no retry was logged"
        prefetcher.close()
        wait_for(lambda: bool(gave_up))
    finally:
        logger.removeHandler(handler)
    assert isinstance(gave_up[0], FetchStopped)
