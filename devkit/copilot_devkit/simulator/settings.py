"""What the simulated GitHub looks like: organizations, history, report format, failure modes.

Every knob has a default so `SimulatorSettings()` is a working, realistic GitHub; tests change
only what they exercise.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from tap_copilot_metrics.clock import utc_today

REPORT_FORMATS = ("ndjson", "ndjson-gzip", "json-array")
EMPTY_REPORT_STYLES = ("204", "404", "bare-string")

# GitHub keeps enterprise report history from this day on (GitHub docs, "Copilot usage metrics":
# https://docs.github.com/en/copilot/reference/copilot-usage-metrics/copilot-usage-metrics).
ENTERPRISE_REPORTS_SINCE = dt.date(2025, 10, 10)


def _default_orgs() -> dict[str, list[str]]:
    return {"octo-org": ["justice-league", "avengers"], "acme": ["platform"]}


@dataclass
class SimulatorSettings:
    """Configuration of one simulator instance (all fields defaulted)."""

    host: str = "127.0.0.1"
    port: int = 0
    seed: int = 1
    today: dt.date = field(default_factory=utc_today)
    organizations: dict[str, list[str]] = field(default_factory=_default_orgs)
    enterprises: list[str] = field(default_factory=lambda: ["octo-ent"])
    # Enterprise teams (legacy enterprise team metrics, enterprise user-teams reports).
    enterprise_teams: dict[str, list[str]] = field(
        default_factory=lambda: {"octo-ent": ["copilot-champions"]}
    )
    users_per_org: int = 30
    # How likely a user is active on a Saturday or Sunday, relative to a weekday. Tests that
    # need several report lines on every day set 1.0, so they pass whatever weekday the suite
    # is pinned to.
    weekend_activity: float = 0.25
    users_per_enterprise: int = 60
    files_per_report: int = 2
    report_format: str = "ndjson"
    blank_lines: bool = True
    # Last day with a report; later days answer "no report". None means today - 1.
    reports_ready_through: dt.date | None = None
    missing_report_days: set[dt.date] = field(default_factory=set)
    empty_report_style: str = "204"
    # How far back reports are kept ("about a year"); enterprises never before 2025-10-10.
    history_days: int = 365
    link_ttl_seconds: int = 3600
    legacy_closed: bool = False
    # At most this many days per page of the legacy /copilot/metrics API, whatever `per_page`
    # asks (a server seen serving short pages); None serves `per_page` days.
    legacy_max_days_per_page: int | None = None
    policy_disabled: set[str] = field(default_factory=set)
    forbidden: set[str] = field(default_factory=set)
    # Billing usage (AI credits, premium requests; costs.py) refused for these scope names while
    # the metrics endpoints still answer: 403 (not a billing admin), 404 (not on the enhanced
    # billing platform, or a GHE.com tenant).
    billing_forbidden: set[str] = field(default_factory=set)
    billing_unavailable: set[str] = field(default_factory=set)
    token: str = "ghp_simulator_token_0123456789"  # noqa: S105 (a fake PAT)
    app_id: int | None = None
    app_public_key_pem: str | None = None
    app_installation_id: int | None = None
    installation_token_ttl_seconds: int = 3600
    latency_seconds: float = 0.0
    seats_per_org: int = 25
    extra_user_fields: dict[str, Any] = field(default_factory=dict)
    # Primary rate limit advertised in x-ratelimit-* headers. The simulator never enforces it
    # on its own (a window that runs out simply restarts); use the "primary" fault for that.
    rate_limit: int = 5000
    # Upper bound of the encoded-report cache, in bytes.
    cache_max_bytes: int = 768 * 1024 * 1024
    # GitHub restating report days it already served (late data): day -> revision (0 = as first
    # served). A restated day has the same users, teams and repositories, so every row keeps its
    # key, but each positive count of its users and repos lines (`*_count`, `total_*`) grows by
    # the revision, and so do the organization/enterprise totals summed from them, in 1-day and
    # 28-day reports alike. `Simulator.restate(days)` bumps it between two runs. The legacy
    # metrics API, seats and billing are never restated.
    restated_days: dict[dt.date, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.reports_ready_through is None:
            self.reports_ready_through = self.today - dt.timedelta(days=1)
        if self.report_format not in REPORT_FORMATS:
            msg = f"report_format must be one of {REPORT_FORMATS}, not {self.report_format!r}"
            raise ValueError(msg)
        if self.empty_report_style not in EMPTY_REPORT_STYLES:
            msg = f"empty_report_style must be one of {EMPTY_REPORT_STYLES}"
            raise ValueError(msg)
        if self.files_per_report < 1:
            msg = "files_per_report must be at least 1"
            raise ValueError(msg)
        if self.legacy_max_days_per_page is not None and self.legacy_max_days_per_page < 1:
            msg = "legacy_max_days_per_page must be at least 1 (or None)"
            raise ValueError(msg)
        self.missing_report_days = set(self.missing_report_days)
        self.restated_days = dict(self.restated_days)
        if any(revision < 0 for revision in self.restated_days.values()):
            msg = "restated_days revisions must be 0 or more"
            raise ValueError(msg)
        self.policy_disabled = set(self.policy_disabled)
        self.forbidden = set(self.forbidden)
        self.billing_forbidden = set(self.billing_forbidden)
        self.billing_unavailable = set(self.billing_unavailable)

    @property
    def ready_through(self) -> dt.date:
        """`reports_ready_through`, resolved (never None after construction)."""
        return self.reports_ready_through or self.today - dt.timedelta(days=1)

    def revision(self, day: dt.date) -> int:
        """How many times GitHub restated the reports of `day` (0: as first served)."""
        return self.restated_days.get(day, 0)

    @property
    def legacy_first_day(self) -> dt.date:
        """Oldest day the legacy metrics API still serves (it keeps 100 days)."""
        return self.today - dt.timedelta(days=100)

    @property
    def legacy_last_day(self) -> dt.date:
        """The legacy API serves data up to yesterday."""
        return self.today - dt.timedelta(days=1)

    def oldest_report_day(self, scope_kind: str) -> dt.date:
        """First day a report can exist for this kind of scope."""
        oldest = self.today - dt.timedelta(days=self.history_days)
        if scope_kind == "enterprise":
            oldest = max(oldest, ENTERPRISE_REPORTS_SINCE)
        return oldest
