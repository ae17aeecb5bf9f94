"""The tap: its settings, its streams, one authenticator and one report downloader per run."""

from __future__ import annotations

import itertools
import json
import sys
from functools import cached_property
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import requests
from singer_sdk import Stream, Tap
from singer_sdk.exceptions import ConfigurationError, FatalAPIError

from tap_copilot_metrics.auth import GitHubAuth
from tap_copilot_metrics.clock import TODAY_VARIABLE, pinned_today
from tap_copilot_metrics.config_schema import CONFIG_SCHEMA
from tap_copilot_metrics.downloads import ReportDownloader
from tap_copilot_metrics.errors import ConfigError, OutputClosed
from tap_copilot_metrics.output import BufferedMsgSpecWriter, end_closed_output_run
from tap_copilot_metrics.retry import RetryPolicy
from tap_copilot_metrics.sdk_private import ConfigCheckedWithoutValues
from tap_copilot_metrics.settings import Settings, parse_settings
from tap_copilot_metrics.statefiles import load_state_text, review_state
from tap_copilot_metrics.streams.billing import CopilotBillingStream, CopilotSeatsStream
from tap_copilot_metrics.streams.breakdown_tables import BREAKDOWN_STREAMS
from tap_copilot_metrics.streams.costs import COST_STREAMS
from tap_copilot_metrics.streams.metrics import CopilotMetricsStream
from tap_copilot_metrics.streams.reports import REPORT_STREAMS
from tap_copilot_metrics.streams.snapshots import SNAPSHOT_STREAMS

try:
    PACKAGE_VERSION = version("tap-copilot-metrics")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    PACKAGE_VERSION = "0"


class TapCopilotMetrics(ConfigCheckedWithoutValues, Tap):
    """Singer tap for GitHub Copilot metrics."""

    name = "tap-copilot-metrics"
    message_writer_class = BufferedMsgSpecWriter

    #: Declared in config_schema.py; checked by `ConfigCheckedWithoutValues` (JSON shapes),
    #: then by `parse_settings` (meanings) in `__init__`.
    config_jsonschema = CONFIG_SCHEMA

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
        """Every stream the tap offers; the legacy metrics and enterprise teams are opt-in."""
        return [
            *(stream_class(self) for stream_class in REPORT_STREAMS),
            CopilotSeatsStream(self),
            CopilotBillingStream(self),
            *(stream_class(self) for stream_class in SNAPSHOT_STREAMS),
            *(stream_class(self) for stream_class in COST_STREAMS),
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


def check_input_files(argv: list[str]) -> None:
    """`--config` and `--state` files that are missing or not a JSON object: one line each.

    The SDK would end in a traceback (FileNotFoundError, JSONDecodeError, TypeError). Only the
    files: their settings are checked afterwards (see config_schema.py).
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
