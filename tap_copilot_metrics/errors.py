"""Errors the tap reports to its user as one actionable line.

Every fatal problem, whether a bad setting or an API answer we cannot recover from, ends the run
with a single line that says what is wrong and what to do about it. Messages are built here so
their wording stays consistent across streams, and never include tokens, keys or signed URLs.
"""

from __future__ import annotations

from singer_sdk.exceptions import ConfigurationError, FatalAPIError

DOCS = "https://docs.github.com/en/rest/copilot"


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
