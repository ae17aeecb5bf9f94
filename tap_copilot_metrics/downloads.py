"""Reading report files from the signed `download_links` of the usage-metrics reports API.

The links point at blob storage, not at the GitHub API: they are fetched with a session of their
own that never carries the GitHub token (blob storage rejects foreign credentials), they expire,
and their query string is a credential, so it never reaches a log line or a message. Files are
streamed and parsed as they arrive; a download cut short is retried and resumed past the records
already delivered, so a file's records are never emitted twice.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
from singer_sdk.exceptions import RetriableAPIError

from tap_copilot_metrics.errors import ReportUnreadable, RetryBudgetExceeded, TapAPIError
from tap_copilot_metrics.reportfiles import NoReportInFile, ReportFileError, iter_report_records
from tap_copilot_metrics.retry import TRANSIENT_EXCEPTIONS, RetryBudget, RetryPolicy

CHUNK_BYTES = 256 * 1024
#: A file that parses badly is fetched again this many times (a cut can look like bad JSON).
MALFORMED_RETRIES = 2


class LinkRejected(Exception):
    """Blob storage refused a signed URL (expired, revoked or invalid): ask for fresh links."""

    def __init__(self, status: int) -> None:
        super().__init__(f"download link refused with {status}")
        self.status = status


def redact_url(url: str) -> str:
    """A URL without its query string: enough to tell files apart, nothing to replay."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


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
    """Streams the records of report files, with retries and resumption."""

    def __init__(self, policy: RetryPolicy, *, timeout: float, logger: logging.Logger) -> None:
        self._policy = policy
        self._timeout = timeout
        self._logger = logger
        # Deliberately not the API session: no Authorization header may reach blob storage.
        self._session = requests.Session()

    def records(self, url: str, *, source: str, skip: int = 0) -> Iterator[dict[str, Any]]:
        """Yield the file's records after the first `skip` (already delivered) ones.

        Transient faults (5xx, 429, drops, timeouts, truncated bodies) are retried within the
        time budget and resume after the last record delivered. `LinkRejected` tells the caller
        to fetch fresh links; `ReportUnreadable` means the file itself is malformed.
        """
        delivered = skip
        budget = RetryBudget(self._policy)
        malformed_tries = 0
        while True:
            try:
                for index, record in enumerate(self._stream(url, source=source)):
                    if index >= delivered:
                        delivered += 1
                        yield record
                return
            except NoReportInFile:
                # A file holding only `"No report available"` has no rows; nothing to emit.
                return
            except ReportFileError as exc:
                malformed_tries += 1
                if malformed_tries > MALFORMED_RETRIES:
                    raise ReportUnreadable(str(exc)) from None
                self._logger.warning("%s; fetching the file again", exc)
            except TRANSIENT_EXCEPTIONS as exc:
                wait = budget.next_wait(exc)
                what = _describe(exc)
                if wait is None:
                    msg = (
                        f"downloading {source} failed: {what}; still failing after retrying for "
                        f"{budget.elapsed:.0f}s (retry_max_elapsed_seconds="
                        f"{self._policy.max_elapsed_seconds:g})"
                    )
                    raise RetryBudgetExceeded(msg) from None
                self._logger.warning(
                    "downloading %s: %s; retrying in %.1fs from record %d",
                    source,
                    what,
                    wait,
                    delivered + 1,
                )
                time.sleep(wait)

    def _stream(self, url: str, *, source: str) -> Iterator[dict[str, Any]]:
        with self._session.get(url, stream=True, timeout=self._timeout) as response:
            status = response.status_code
            if status in (400, 401, 403, 404, 410):
                raise LinkRejected(status)
            if status >= 500 or status == 429:
                raise RetriableAPIError(f"HTTP {status}", response)
            if status != 200:
                msg = f"downloading {source} answered HTTP {status}"
                raise TapAPIError(msg)
            yield from iter_report_records(
                response.iter_content(chunk_size=CHUNK_BYTES), source=source
            )


def _describe(exc: Exception) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, requests.Response):
        return f"HTTP {response.status_code}"
    return f"{type(exc).__name__} (connection dropped, timed out or cut short)"
