"""Parse and check the tap's settings before any request is made.

The SDK checks each value's JSON type against the schema (config_schema.py, which also says how
the three checks of a config divide the work); this module checks what a value means: limits and
defaults read from that schema, exactly one auth method, dates that exist and are ordered, team
names of the form `org/team-slug`, no clear-text token over the network. The result is a frozen
`Settings` object that the streams read instead of raw config dictionaries.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from tap_copilot_metrics.clock import utc_today
from tap_copilot_metrics.config_schema import declared
from tap_copilot_metrics.errors import ConfigError
from tap_copilot_metrics.scopes import Scope, ScopeKind
from tap_copilot_metrics.setting_values import (
    boolean,
    choice,
    date_value,
    header_value,
    number,
    optional_str,
    string_list,
    whole_number,
)

#: Team slug meaning "every team of the organization" (`"octo-org/*"`).
ALL_TEAMS = "*"

#: An organization login, enterprise slug or team slug (also guards slugs used in URL paths).
GITHUB_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$")


@dataclass(frozen=True)
class AppCredentials:
    """GitHub App identity used to mint installation tokens."""

    app_id: str
    private_key_pem: str
    installation_id: str


@dataclass(frozen=True)
class Settings:
    """The tap's checked configuration."""

    api_url: str
    api_version: str
    auth_token: str | None
    app: AppCredentials | None
    organizations: tuple[str, ...]
    enterprises: tuple[str, ...]
    teams: tuple[str, ...]
    start_date: dt.date | None
    end_date: dt.date
    lookback_days: int
    user_agent: str
    request_timeout_seconds: float
    retry_max_elapsed_seconds: float
    retry_initial_wait_seconds: float
    secondary_rate_limit_wait_seconds: float
    download_concurrency: int
    #: The run's "today" (UTC, or pinned; see clock.py), read once so a run that crosses
    #: midnight keeps one calendar.
    today: dt.date
    backfill_from_28_day_reports: bool
    #: "fail" or "skip": what a 403/404 of a billing usage endpoint does (config_schema.py).
    billing_access_errors: str = "fail"

    @property
    def auth_method(self) -> str:
        """Name of the configured auth method, safe to show in messages."""
        return "GitHub App installation token" if self.app else "auth_token"

    def scopes(self, *kinds: ScopeKind) -> list[Scope]:
        """The configured scopes of the given kinds, in a stable order."""
        return [Scope(kind, name) for kind in kinds for name in getattr(self, kind.setting)]


def parse_settings(config: Mapping[str, Any], *, package_version: str = "0") -> Settings:
    """Check `config` and return `Settings`; raise `ConfigError` naming the first bad setting."""
    auth_token = header_value(config, "auth_token", spaces=False)
    app = _app_credentials(config)
    if auth_token and app:
        raise ConfigError(
            "auth_token",
            "both `auth_token` and GitHub App settings are set; configure exactly one auth method",
        )
    if not auth_token and not app:
        raise ConfigError(
            "auth_token",
            "no credentials: set `auth_token`, or `app_id` + `app_private_key` + "
            "`app_installation_id` for a GitHub App",
        )

    organizations = _names(config, "organizations")
    enterprises = _names(config, "enterprises")
    teams = _teams(config)
    if not organizations and not enterprises and not teams:
        raise ConfigError(
            "organizations",
            "set at least one entry in `organizations`, `enterprises` or `teams`",
        )

    today = utc_today()
    start_date = date_value(config, "start_date")
    given_end_date = date_value(config, "end_date")
    end_date = given_end_date or today - dt.timedelta(days=1)
    if start_date and end_date < start_date:
        if given_end_date is None:
            # Name the setting the user wrote, not the default they never saw.
            raise ConfigError(
                "start_date",
                f"{start_date.isoformat()} is after the last day with data (end_date defaults "
                f"to yesterday, {end_date.isoformat()} UTC)",
            )
        raise ConfigError(
            "end_date",
            f"{end_date.isoformat()} is before start_date {start_date.isoformat()}",
        )

    lookback_days = whole_number(config, "lookback_days")
    return Settings(
        api_url=_api_url(config),
        api_version=header_value(config, "api_version", spaces=False)
        or declared("api_version")["default"],
        auth_token=auth_token,
        app=app,
        organizations=organizations,
        enterprises=enterprises,
        teams=teams,
        start_date=start_date,
        end_date=end_date,
        lookback_days=lookback_days,
        user_agent=header_value(config, "user_agent", spaces=True)
        or f"tap-copilot-metrics/{package_version}",
        request_timeout_seconds=number(config, "request_timeout_seconds"),
        retry_max_elapsed_seconds=number(config, "retry_max_elapsed_seconds"),
        retry_initial_wait_seconds=number(config, "retry_initial_wait_seconds"),
        secondary_rate_limit_wait_seconds=number(config, "secondary_rate_limit_wait_seconds"),
        download_concurrency=whole_number(config, "download_concurrency"),
        today=today,
        backfill_from_28_day_reports=boolean(config, "backfill_from_28_day_reports"),
        billing_access_errors=choice(config, "billing_access_errors"),
    )


def _app_credentials(config: Mapping[str, Any]) -> AppCredentials | None:
    names = ("app_id", "app_private_key", "app_installation_id")
    values = {name: optional_str(config, name) for name in names}
    if not any(values.values()):
        return None
    missing = [name for name, value in values.items() if not value]
    if missing:
        raise ConfigError(
            missing[0],
            "GitHub App auth needs `app_id`, `app_private_key` and `app_installation_id`; "
            f"missing: {', '.join(missing)}",
        )
    # Keys pasted into environment variables often carry literal "\n" sequences.
    pem = str(values["app_private_key"]).replace("\\n", "\n")
    _check_private_key(pem)
    installation_id = str(values["app_installation_id"])
    if not installation_id.isdigit():
        # It becomes part of a URL path: only GitHub's numeric ids are sent.
        raise ConfigError(
            "app_installation_id",
            "must be the installation's numeric id (the number at the end of the URL of the "
            "App's installation settings page)",
        )
    return AppCredentials(str(values["app_id"]), pem, installation_id)


def _check_private_key(pem: str) -> None:
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    try:
        key = load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError):
        # The key's content must never reach a message: say only what is wrong with it.
        raise ConfigError(
            "app_private_key",
            "not a readable unencrypted PEM private key; paste the .pem file GitHub generated "
            "for the App (including the BEGIN/END lines)",
        ) from None
    if not isinstance(key, RSAPrivateKey):
        # GitHub signs App JWTs with RS256 only; another key type would fail at the first mint.
        raise ConfigError(
            "app_private_key",
            "is not an RSA key; GitHub App keys are RSA: paste the .pem file GitHub generated "
            "for the App",
        )


def _names(config: Mapping[str, Any], name: str) -> tuple[str, ...]:
    values = string_list(config, name)
    for value in values:
        if not GITHUB_NAME.match(value):
            raise ConfigError(name, f"{value!r} is not a valid GitHub login or slug")
    return values


def _teams(config: Mapping[str, Any]) -> tuple[str, ...]:
    values = string_list(config, "teams")
    for value in values:
        org, _, slug = value.partition("/")
        if not (GITHUB_NAME.match(org) and (GITHUB_NAME.match(slug) or slug == ALL_TEAMS)):
            raise ConfigError(
                "teams", f"{value!r} is not of the form 'org/team-slug' (or 'org/*' for all teams)"
            )
    return values


def _api_url(config: Mapping[str, Any]) -> str:
    url = (optional_str(config, "api_url") or declared("api_url")["default"]).rstrip("/")
    if any(char.isspace() or ord(char) < 32 for char in url):
        raise ConfigError("api_url", "contains spaces or line breaks")
    try:
        parts = urlsplit(url)
        hostname = parts.hostname
    except ValueError:  # e.g. an unclosed IPv6 bracket or a bad port
        raise ConfigError("api_url", "is not a valid URL") from None
    # Checked first: a URL with `user:password@` is never echoed back.
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ConfigError("api_url", "must not contain credentials, a query or a fragment")
    if parts.scheme not in {"http", "https"} or not hostname:
        # Not echoed: a malformed URL may still hold a password (`user:secret@host`).
        raise ConfigError("api_url", "is not an http(s) URL such as https://api.github.com")
    if parts.scheme == "http" and not _is_loopback(hostname):
        raise ConfigError(
            "api_url",
            f"refusing plain http to {hostname}: the token would travel in clear text; "
            "use https (plain http is allowed only for 127.0.0.1/localhost)",
        )
    return url


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
