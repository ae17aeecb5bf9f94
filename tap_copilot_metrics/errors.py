"""Errors the tap reports to its user as one actionable line.

Every fatal problem, whether a bad setting or an API answer we cannot recover from, ends the run
with a single line that says what is wrong and what to do about it. Messages are built here so
their wording stays consistent across streams, and never include tokens, keys or signed URLs.
"""

from __future__ import annotations

from singer_sdk.exceptions import ConfigurationError, FatalAPIError


class ConfigError(ConfigurationError):
    """A setting is missing, malformed or unsafe; raised before any request is made."""

    def __init__(self, setting: str, problem: str) -> None:
        self.setting = setting
        super().__init__(f"Invalid setting `{setting}`: {problem}")


class TapAPIError(FatalAPIError):
    """GitHub answered in a way that retrying cannot fix (auth, permission, scope, policy)."""


class RetryBudgetExceeded(FatalAPIError):
    """A transient fault outlasted the configured retry budget."""


class ReportUnreadable(FatalAPIError):
    """A downloaded report file could not be parsed; the day is not bookmarked."""


class OutputClosed(BaseException):
    """The program reading stdout went away (`tap-copilot-metrics ... | head`).

    Not an error of the sync, and nothing written from then on can be delivered, so it derives
    from `BaseException` like `KeyboardInterrupt`: handlers meant for errors let it pass (the
    SDK's `Stream.sync` logs "An unhandled error occurred" for any `Exception`; the tap's own
    `except BaseException` blocks only clean up and re-raise), and `main` ends the run with one
    line and exit code 1. Records written after the last STATE line the reader received are
    not bookmarked, so the next run from that state reads them again.
    """

    def __init__(self) -> None:
        super().__init__(
            "stdout was closed before the sync finished (broken pipe): the program reading "
            "the tap's output exited; the run stopped"
        )
