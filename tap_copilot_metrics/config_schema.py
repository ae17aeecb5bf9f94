"""The tap's settings, each declared once: name, type, default, limits, secret flag, description.

`TapCopilotMetrics.config_jsonschema` is this schema, so `--about` shows it; `parse_settings`
reads every default and limit from it; tests/test_settings_documented.py holds meltano.yml and
the README's settings table against `--about`.

One config is checked in three steps, each with its own job:

1. `check_input_files` (tap.py): the `--config` file itself is readable JSON holding an object.
2. `schema_errors` (run by the SDK through `sdk_private.ConfigCheckedWithoutValues`): each value
   has the JSON shape this schema (and the SDK's own settings) declares.
3. `parse_settings` (settings.py): what a value means: limits, dates, names, URLs, the auth
   method. It also stands alone (discovery skips step 2), so it converts what it can and
   refuses the rest with its own messages.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jsonschema import Draft7Validator, ValidationError
from singer_sdk import typing as th

from tap_copilot_metrics.errors import ConfigError

STRING_LIST = th.ArrayType(th.StringType)
#: Rules `parse_settings` checks itself, naming the limit (or the choices) it wants.
_LIMIT_RULES = frozenset({"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "enum"})


def _wait_seconds(name: str, *, default: int, description: str) -> th.Property:
    """A duration of the retry policy: seconds, zero or more."""
    return th.Property(name, th.DecimalType(minimum=0), default=default, description=description)


#: The SDK adds its own settings (stream maps, flattening, batch) to this dict in place.
CONFIG_SCHEMA: dict[str, Any] = th.PropertiesList(
    th.Property(
        "auth_token",
        th.StringType,
        secret=True,
        description="GitHub token: classic PAT (read:org for organization reports, "
        "manage_billing:copilot or read:enterprise for enterprises), fine-grained PAT or GitHub "
        "App installation token.",
    ),
    th.Property("app_id", th.StringType, description="GitHub App id (instead of auth_token)."),
    th.Property(
        "app_private_key",
        th.StringType,
        secret=True,
        description="The GitHub App's private key (PEM text).",
    ),
    th.Property(
        "app_installation_id",
        th.StringType,
        description="Installation id of the GitHub App on the organization or enterprise.",
    ),
    th.Property(
        "api_url",
        th.StringType,
        default="https://api.github.com",
        description="API root: https://api.github.com, https://api.SUBDOMAIN.ghe.com for "
        "GHE.com or https://HOST/api/v3 for GHES.",
    ),
    th.Property(
        "api_version",
        th.StringType,
        default="2026-03-10",
        description="Value of the X-GitHub-Api-Version header.",
    ),
    th.Property(
        "organizations", STRING_LIST, description='Organization logins, e.g. ["octo-org"].'
    ),
    th.Property("enterprises", STRING_LIST, description='Enterprise slugs, e.g. ["octo-ent"].'),
    th.Property(
        "teams",
        STRING_LIST,
        description='Teams as "org/team-slug" ("org/*" for every team of org), for team-level '
        "copilot_metrics.",
    ),
    th.Property(
        "start_date",
        th.DateType,
        description="First day wanted (YYYY-MM-DD); GitHub keeps about one year of reports.",
    ),
    th.Property(
        "end_date",
        th.DateType,
        description="Last day wanted, inclusive (YYYY-MM-DD); default yesterday (UTC).",
    ),
    th.Property(
        "lookback_days",
        th.IntegerType(minimum=0, maximum=365),
        default=3,
        description="Days before the bookmark read again on every run (late or restated data).",
    ),
    th.Property(
        "user_agent",
        th.StringType,
        description="User-Agent header to send; default tap-copilot-metrics/VERSION.",
    ),
    th.Property(
        "request_timeout_seconds",
        th.DecimalType,
        default=60,
        description="Timeout of one HTTP request.",
        # Not `DecimalType(minimum=...)`: the SDK types limits as int, and this one is 0.1.
        minimum=0.1,
    ),
    _wait_seconds(
        "retry_max_elapsed_seconds",
        default=600,
        description="Longest total time spent retrying one request before failing.",
    ),
    _wait_seconds(
        "retry_initial_wait_seconds",
        default=2,
        description="First wait of the exponential backoff (doubles on each retry).",
    ),
    _wait_seconds(
        "secondary_rate_limit_wait_seconds",
        default=60,
        description="Wait after a secondary rate limit that names no Retry-After.",
    ),
    th.Property(
        "backfill_from_28_day_reports",
        th.BooleanType,
        default=True,
        description="On a backfill of the recent weeks, read the 28-day reports (one call) "
        "instead of one 1-day report per day; the records are the same, and the last day's "
        "also carries the 28-day copilot_feature_engagement.",
    ),
    th.Property(
        "download_concurrency",
        th.IntegerType(minimum=1, maximum=32),
        default=4,
        description="Report days fetched ahead (envelope and files) while the current day is "
        "emitted.",
    ),
    th.Property(
        "billing_access_errors",
        th.StringType(allowed_values=["fail", "skip"]),
        default="fail",
        description="What a 403 or 404 from the billing usage endpoints (AI credits, premium "
        "requests) does for a scope: fail stops the run with one line; skip logs that line and "
        "skips the stream for that scope.",
    ),
).to_dict()


def declared(name: str) -> Mapping[str, Any]:
    """The declaration of one of the tap's settings (its `default`, `minimum`, `maximum`)."""
    return CONFIG_SCHEMA["properties"][name]


def schema_errors(schema: Mapping[str, Any], config: Mapping[str, Any]) -> list[ConfigError]:
    """Values whose JSON shape `schema` refuses, worded without the values.

    jsonschema's own messages quote the value (`'<token>' is not of type 'integer'`), which
    would print a secret pasted into the wrong setting; these name only the setting.
    """
    # A copy: to jsonschema, a mapping proxy (the SDK's `config`) is not an object.
    return [
        ConfigError(
            ".".join(str(part) for part in error.absolute_path) or "config", _expected(error)
        )
        for error in Draft7Validator(schema).iter_errors(dict(config))
        if error.validator not in _LIMIT_RULES
    ]


def _expected(error: ValidationError) -> str:
    """What the schema wanted, never the value that was given."""
    if error.validator == "type":
        return f"must be of type {error.validator_value}"
    if error.validator == "required":
        return "a required setting is missing"
    return f"does not satisfy the `{error.validator}` rule of the settings schema"
