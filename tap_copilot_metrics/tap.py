"""The tap: its settings, its streams, and one shared HTTP session and authenticator."""

from __future__ import annotations

import itertools
import json
import sys
from functools import cached_property
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import requests
from jsonschema import Draft7Validator, ValidationError
from singer_sdk import Stream, Tap
from singer_sdk import typing as th
from singer_sdk.exceptions import ConfigurationError, FatalAPIError

from tap_copilot_metrics.auth import GitHubAuth
from tap_copilot_metrics.clock import TODAY_VARIABLE, pinned_today
from tap_copilot_metrics.days import load_state_text, review_state
from tap_copilot_metrics.downloads import ReportDownloader
from tap_copilot_metrics.errors import ConfigError, OutputClosed
from tap_copilot_metrics.output import BufferedMsgSpecWriter, end_closed_output_run
from tap_copilot_metrics.retry import RetryPolicy
from tap_copilot_metrics.settings import (
    DEFAULT_API_URL,
    DEFAULT_API_VERSION,
    DEFAULT_LOOKBACK_DAYS,
    Settings,
    parse_settings,
)
from tap_copilot_metrics.streams.billing import CopilotBillingStream, CopilotSeatsStream
from tap_copilot_metrics.streams.breakdowns import BREAKDOWN_STREAMS
from tap_copilot_metrics.streams.metrics import CopilotMetricsStream
from tap_copilot_metrics.streams.reports import REPORT_STREAMS

try:
    PACKAGE_VERSION = version("tap-copilot-metrics")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    PACKAGE_VERSION = "0"

STRING_LIST = th.ArrayType(th.StringType)


class TapCopilotMetrics(Tap):
    """Singer tap for GitHub Copilot metrics."""

    name = "tap-copilot-metrics"
    message_writer_class = BufferedMsgSpecWriter

    config_jsonschema = th.PropertiesList(
        th.Property(
            "auth_token",
            th.StringType,
            secret=True,
            description="GitHub token: classic or fine-grained PAT, or an installation token.",
        ),
        th.Property("app_id", th.StringType, description="GitHub App id (instead of auth_token)."),
        th.Property(
            "app_private_key",
            th.StringType,
            secret=True,
            description="The GitHub App's private key (PEM).",
        ),
        th.Property(
            "app_installation_id",
            th.StringType,
            description="Installation id of the GitHub App on the organization or enterprise.",
        ),
        th.Property(
            "api_url",
            th.StringType,
            default=DEFAULT_API_URL,
            description="API root: https://api.github.com, https://api.<sub>.ghe.com or "
            "https://<host>/api/v3.",
        ),
        th.Property(
            "api_version",
            th.StringType,
            default=DEFAULT_API_VERSION,
            description="Value of the X-GitHub-Api-Version header.",
        ),
        th.Property("organizations", STRING_LIST, description="Organization logins."),
        th.Property("enterprises", STRING_LIST, description="Enterprise slugs."),
        th.Property(
            "teams",
            STRING_LIST,
            description='Teams as "org/team-slug", for team-level copilot_metrics.',
        ),
        th.Property("start_date", th.DateType, description="First day wanted (YYYY-MM-DD)."),
        th.Property(
            "end_date",
            th.DateType,
            description="Last day wanted, inclusive (YYYY-MM-DD); default yesterday (UTC).",
        ),
        th.Property(
            "lookback_days",
            th.IntegerType,
            default=DEFAULT_LOOKBACK_DAYS,
            description="Days before the bookmark read again on every run (late or restated data).",
        ),
        th.Property("user_agent", th.StringType, description="User-Agent header to send."),
        th.Property(
            "request_timeout_seconds",
            th.NumberType,
            default=60,
            description="Timeout of one HTTP request.",
        ),
        th.Property(
            "retry_max_elapsed_seconds",
            th.NumberType,
            default=600,
            description="Longest total time spent retrying one request before failing.",
        ),
        th.Property(
            "retry_initial_wait_seconds",
            th.NumberType,
            default=2,
            description="First wait of the exponential backoff (doubles on each retry).",
        ),
        th.Property(
            "secondary_rate_limit_wait_seconds",
            th.NumberType,
            default=60,
            description="Wait after a secondary rate limit that names no Retry-After.",
        ),
        th.Property(
            "backfill_from_28_day_reports",
            th.BooleanType,
            default=True,
            description="On a backfill of the recent weeks, read the 28-day reports (one call) "
            "instead of one 1-day report per day; the records are the same.",
        ),
        th.Property(
            "download_concurrency",
            th.IntegerType,
            default=4,
            description="Report days fetched ahead (envelope and files) while the current day "
            "is emitted.",
        ),
    ).to_dict()

    def _validate_config(self, *, raise_errors: bool = True) -> list[str]:
        """The SDK's JSON-schema check of the settings, worded without their values.

        The SDK's own messages quote the offending value (`'<token>' is not of type 'string'`),
        which would print a secret pasted into the wrong shape; these name only the setting.
        """
        schema = self.config_jsonschema
        self.append_builtin_config(schema)
        validator = Draft7Validator(schema)
        errors = [
            ConfigError(
                ".".join(str(part) for part in error.absolute_path) or "config",
                _expected(error),
            )
            for error in validator.iter_errors(self._config)
        ]
        if errors and raise_errors:
            raise errors[0]
        return [str(error) for error in errors]

    def load_state(self, state: dict[str, Any]) -> None:
        """Check a `--state` before using it: damaged is one clear line, stale is a warning."""
        if state:  # the SDK also calls this with the empty state of a fresh run
            for warning in review_state(state, settings=self.settings, streams=self.streams):
                self.logger.warning(warning)
        super().load_state(state)

    @cached_property
    def settings(self) -> Settings:
        """Checked settings; the first bad one stops the run before any request."""
        return parse_settings(self.config, package_version=PACKAGE_VERSION)

    @cached_property
    def api_session(self) -> requests.Session:
        """Connection pool shared by every API call of the run."""
        return requests.Session()

    @cached_property
    def github_auth(self) -> GitHubAuth:
        """The run's credentials (an App token is minted once and refreshed as needed)."""
        return GitHubAuth(self.settings, requests.Session())

    @cached_property
    def report_downloader(self) -> ReportDownloader:
        """Fetches report files from signed links, without the GitHub token."""
        settings = self.settings
        return ReportDownloader(
            RetryPolicy.from_settings(settings),
            timeout=settings.request_timeout_seconds,
            logger=self.logger,
        )

    def discover_streams(self) -> list[Stream]:
        """Every stream the tap offers; the legacy metrics stream is opt-in."""
        return [
            *(stream_class(self) for stream_class in REPORT_STREAMS),
            CopilotSeatsStream(self),
            CopilotBillingStream(self),
            CopilotMetricsStream(self),
            *(stream_class(self) for stream_class in BREAKDOWN_STREAMS),
        ]

    def __init__(self, *, validate_config: bool = True, **kwargs: Any) -> None:
        """Check the settings up front, so a bad one stops the run before any request.

        Discovery skips the check (the SDK passes `validate_config=False`), so a catalog can be
        listed before credentials exist.
        """
        super().__init__(validate_config=validate_config, **kwargs)
        if validate_config:
            settings = self.settings
            if pinned_today():
                self.logger.info(
                    "today is pinned to %s by %s: the run reads as of that day",
                    settings.today,
                    TODAY_VARIABLE,
                )


def _expected(error: ValidationError) -> str:
    """What the schema wanted, never the value that was given."""
    if error.validator == "type":
        return f"must be of type {error.validator_value}"
    if error.validator == "required":
        return "a required setting is missing"
    return f"does not satisfy the `{error.validator}` rule of the settings schema"


def check_input_files(argv: list[str]) -> None:
    """`--config` and `--state` files that are missing or not a JSON object: one line each.

    The SDK would end in a traceback (FileNotFoundError, JSONDecodeError, TypeError).
    """
    for flag, value in itertools.pairwise(argv):
        if flag not in ("--config", "--state") or value == "ENV":
            continue
        setting = flag.removeprefix("--")
        try:
            text = Path(value).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(setting, f"cannot read {value}: {type(exc).__name__}") from None
        if setting == "state":
            load_state_text(text)
            continue
        try:
            config = json.loads(text)
        except json.JSONDecodeError as exc:
            where = f"line {exc.lineno}, column {exc.colno}"
            raise ConfigError(setting, f"{value} is not valid JSON ({where})") from None
        if not isinstance(config, dict):
            raise ConfigError(setting, f"{value} must hold a JSON object of settings")


def main(argv: list[str] | None = None) -> None:
    """Console entry point: the SDK's CLI, with fatal errors as one line and exit code 1.

    A closed stdout (`tap-copilot-metrics ... | head`) is one of them: exit code 1, as for
    Click's own handling of a broken pipe, rather than the shell's 141 for a SIGPIPE death.
    """
    try:
        check_input_files(sys.argv[1:] if argv is None else argv)
        TapCopilotMetrics.cli.main(args=argv, prog_name="tap-copilot-metrics")
    except (ConfigurationError, FatalAPIError) as exc:
        print(f"tap-copilot-metrics: error: {exc}", file=sys.stderr)
        sys.exit(1)
    except OutputClosed as exc:
        end_closed_output_run(f"tap-copilot-metrics: error: {exc}")
        sys.exit(1)
