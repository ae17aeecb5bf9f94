"""Reading report files from the signed `download_links` of the usage-metrics reports API.

The links point at blob storage, not at the GitHub API: they are fetched with a session of their
own that never carries the GitHub token (blob storage rejects foreign credentials), they expire,
and their query string is a credential, so it never reaches a log line or a message. A file is
downloaded whole to a temporary file before any of its records is emitted (a download cut short
is fetched again, never half emitted twice), then parsed from disk as a stream.
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Iterator
from typing import IO, Any

import requests
from singer_sdk.exceptions import RetriableAPIError

from tap_copilot_metrics.errors import ReportUnreadable, RetryBudgetExceeded, TapAPIError
from tap_copilot_metrics.prefetch import FetchStopped, fetch_abandoned
from tap_copilot_metrics.reportfiles import NoReportInFile, ReportFileError, iter_report_records
from tap_copilot_metrics.retry import (
    TRANSIENT_EXCEPTIONS,
    RetryBudget,
    RetryPolicy,
    is_rate_limited,
)
from tap_copilot_metrics.sessions import ThreadSessions

CHUNK_BYTES = 256 * 1024


class LinkRejected(Exception):
    """Blob storage refused a signed URL (expired, revoked or invalid): ask for fresh links."""

    def __init__(self, status: int) -> None:
        super().__init__(f"download link refused with {status}")
        self.status = status


class _RedactSignedQueries(logging.Filter):
    """urllib3 logs request lines (with query strings) at DEBUG; cut the queries off."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                arg.split("?", 1)[0] if isinstance(arg, str) and "?" in arg else arg
                for arg in record.args
            )
        return True


logging.getLogger("urllib3.connectionpool").addFilter(_RedactSignedQueries())


class ReportDownloader:
    """Downloads report files to temporary files on disk, then parses them as a stream.

    A file is downloaded whole before any of its records is emitted, so a download cut short
    is simply fetched again: a file's records can never be emitted twice. Parsing reads the
    spooled file in chunks, so memory does not grow with the file.
    """

    def __init__(self, policy: RetryPolicy, *, timeout: float, logger: logging.Logger) -> None:
        self._policy = policy
        self._timeout = timeout
        self._logger = logger
        # Deliberately not the API sessions: no Authorization header may reach blob storage.
        # Downloads run on prefetch workers too: each thread uses a session of its own.
        self._sessions = ThreadSessions()

    def release_session(self) -> None:
        """Hand back the calling thread's session (a prefetch worker ends)."""
        self._sessions.release()

    def download(self, url: str, *, source: str) -> IO[bytes]:
        """The file's bytes, spooled to disk; transient faults are retried within the budget.

        Raises `LinkRejected` when blob storage refuses the link (the caller fetches fresh
        links) and `RetryBudgetExceeded` when the faults outlast the budget.
        """
        budget = RetryBudget(self._policy)
        while True:
            # Closed (and so deleted) by the caller, or below on failure.
            spooled = tempfile.TemporaryFile(prefix="copilot-report-")  # noqa: SIM115
            try:
                self._fetch_into(spooled, url, source=source)
            except TRANSIENT_EXCEPTIONS as exc:
                spooled.close()
                if fetch_abandoned():
                    raise FetchStopped from None
                wait = budget.next_wait(exc)
                what = _describe(exc)
                if wait is None:
                    msg = (
                        f"downloading {source} failed: {what}; still failing after retrying for "
                        f"{budget.elapsed:.1f}s (retry_max_elapsed_seconds="
                        f"{self._policy.max_elapsed_seconds:g})"
                    )
                    raise RetryBudgetExceeded(msg) from None
                self._logger.warning("downloading %s: %s; retrying in %.1fs", source, what, wait)
                time.sleep(wait)
            except BaseException:
                spooled.close()
                raise
            else:
                spooled.seek(0)
                return spooled

    def _fetch_into(self, spooled: IO[bytes], url: str, *, source: str) -> None:
        try:
            response = self._sessions.get().get(url, stream=True, timeout=self._timeout)
        except (
            requests.exceptions.InvalidURL,
            requests.exceptions.MissingSchema,
            requests.exceptions.InvalidSchema,
        ):
            # The message would quote the link, and a signed link is a credential.
            msg = f"the download link of {source} is not a usable https URL"
            raise ReportUnreadable(msg) from None
        with response:
            status = response.status_code
            # Rate limiting first: the download host may answer 403/429 with Retry-After or a
            # rate-limit message, which means "wait", not "this link expired".
            if status >= 500 or is_rate_limited(response) or "retry-after" in response.headers:
                raise RetriableAPIError(f"HTTP {status}", response)
            if status in (400, 401, 403, 404, 410):
                raise LinkRejected(status)
            if status != 200:
                msg = f"downloading {source} answered HTTP {status}"
                raise TapAPIError(msg)
            for chunk in response.iter_content(chunk_size=CHUNK_BYTES):
                spooled.write(chunk)


def read_records(spooled: IO[bytes], *, source: str) -> Iterator[dict[str, Any]]:
    """The records of a downloaded file, parsed chunk by chunk.

    A file holding only a bare string (`"No report available"`) has no records. A malformed
    file raises `ReportUnreadable` naming the report, day, file and line.
    """
    chunks = iter(lambda: spooled.read(CHUNK_BYTES), b"")
    try:
        yield from iter_report_records(chunks, source=source)
    except NoReportInFile:
        return
    except ReportFileError as exc:
        raise ReportUnreadable(str(exc)) from None


def _describe(exc: Exception) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, requests.Response):
        return f"HTTP {response.status_code}"
    return f"{type(exc).__name__} (connection dropped, timed out or cut short)"
