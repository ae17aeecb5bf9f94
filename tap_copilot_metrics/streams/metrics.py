"""`copilot_metrics`: the metrics API (`GET …/copilot/metrics`), one record per scope and day.

GitHub closed this API on github.com on 2026-04-02 (it answers 404 there since), so the stream is
discoverable but not selected by default. It stays faithful to the API's contract for anyone whose
GitHub still serves it, and for the data already modelled on it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterable
from typing import Any, ClassVar
from urllib.parse import urlsplit

import requests
from singer_sdk.helpers.types import Context
from singer_sdk.pagination import PageNumberPaginator

from tap_copilot_metrics.client import decoded_json, github_message
from tap_copilot_metrics.days import DayWindow
from tap_copilot_metrics.errors import TapAPIError
from tap_copilot_metrics.schemas import COPILOT_METRICS_SCHEMA
from tap_copilot_metrics.scopes import Scope, ScopeKind
from tap_copilot_metrics.settings import ALL_TEAMS, GITHUB_NAME
from tap_copilot_metrics.streams.daily import DailyStream

#: GitHub rejects a `since` more than 100 days back. `since` is a timestamp compared with "now",
#: so midnight 100 days ago is already too old after 00:00 UTC: the oldest safe day is today - 99.
RETENTION_DAYS = 100
OLDEST_SAFE_DAY_AGE = RETENTION_DAYS - 1
PAGE_SIZE = 100


#: Why an `org/*` entry could not be expanded into the organization's teams.
_TEAMS_REFUSED = (
    "Listing the teams of organization '{org}' for the `teams` entry '{org}/*' answered "
    "{status}{said}: check the organization name, and that the credentials can list its teams "
    '(classic `read:org`, or the organization permission "Members" (read))'
)


class DayPagePaginator(PageNumberPaginator):
    """`page=1,2,…` until the window's last day has come, or a page comes back empty.

    GitHub declares no `Link` header here, and servers have been seen serving fewer days than
    `per_page` asks: a short page is no sign of the last one, and taking it as such silently lost
    every later day. The dates tell instead: once the window's last day has come, nothing is left
    (no extra request). Days GitHub omits at the window's end (fewer than 5 active members) cost
    one extra request, answered by an empty page.
    """

    def __init__(self, start_value: int, *, last_day: dt.date) -> None:
        super().__init__(start_value)
        self.last_day = last_day
        self._latest: dt.date | None = None  # the latest day served so far

    def has_more(self, response: requests.Response) -> bool:
        """More while the page held days, no `Link` says it was the last, and days are left."""
        latest = max(_dates(response), default=None)
        if latest is None:  # an empty page
            return False
        if response.links:  # a `Link` header is believed: without `rel="next"`, that was all
            return "next" in response.links
        # A server that ignores `page` serves no later day: stop rather than loop.
        progressed = self._latest is None or latest > self._latest
        self._latest = latest
        return progressed and latest < self.last_day


def _dates(response: requests.Response) -> list[dt.date]:
    """The `date` of each day object of a page (anything else is left to `scope_records`)."""
    days = decoded_json(response) if response.content else []
    dates: list[dt.date] = []
    for day in days if isinstance(days, list) else []:
        with contextlib.suppress(LookupError, TypeError, ValueError):
            dates.append(dt.date.fromisoformat(day["date"]))
    return dates


class CopilotMetricsStream(DailyStream):
    """Daily Copilot metrics per organization, team and enterprise (legacy metrics API)."""

    name = "copilot_metrics"
    path = "/copilot/metrics"  # under each scope; see get_url
    primary_keys: ClassVar[list[str]] = ["scope", "scope_name", "date"]
    replication_key = "date"
    is_sorted = True
    # Each run re-reads `lookback_days` before the bookmark on purpose, so the first records of
    # a resumed partition are older than its bookmark: the SDK's sort check would call that
    # unsorted data and stop the run. Records of a partition are still emitted in date order.
    check_sorted = False
    selected_by_default = False
    declared_schema = COPILOT_METRICS_SCHEMA
    scope_kinds = (ScopeKind.ORGANIZATION, ScopeKind.TEAM, ScopeKind.ENTERPRISE)
    endpoint_label = "the Copilot metrics API"
    max_age_days = OLDEST_SAFE_DAY_AGE
    kept_words = f"the {RETENTION_DAYS} days GitHub keeps"
    #: Days per page (`per_page`). GitHub's maximum; a class attribute so tests can page
    #: through the simulator's data, which never fills a page of 100 (days can be missing).
    page_size: ClassVar[int] = PAGE_SIZE
    required_permissions = (
        "a classic token needs `manage_billing:copilot` or `read:org` (organizations and teams) "
        "or `read:enterprise` (enterprises); a fine-grained token or GitHub App needs the "
        'organization permission "GitHub Copilot Business" (read) or "Administration" (read)'
    )

    _window: DayWindow | None = None
    _partitions: list[dict[str, Any]] | None = None

    @property
    def partitions(self) -> list[dict[str, Any]] | None:
        """One partition per scope; a team entry `org/*` stands for every team of `org`."""
        if self._partitions is None:
            scopes: list[Scope] = []
            for scope in self.settings.scopes(*self.scope_kinds):
                org, _, slug = scope.name.partition("/")
                if scope.kind is ScopeKind.TEAM and slug == ALL_TEAMS:
                    scopes.extend(
                        Scope(ScopeKind.TEAM, f"{org}/{team}") for team in self.teams_of(org)
                    )
                else:
                    scopes.append(scope)
            self._partitions = [scope.context for scope in dict.fromkeys(scopes)]
        return self._partitions

    def teams_of(self, org: str) -> list[str]:
        """Slugs of every team of `org` (`GET /orgs/{org}/teams`, following `Link: next`)."""
        slugs: list[str] = []
        url: str | None = f"{self.url_base}/orgs/{org}/teams"
        params: dict[str, Any] | None = {"per_page": 100}
        while url:
            response = self.get_json(url, params)
            teams = decoded_json(response) if response.content else []
            if not isinstance(teams, list):
                msg = f"the teams API for organization '{org}' answered an unexpected body"
                raise TapAPIError(msg)
            for team in teams:
                slug = team.get("slug") if isinstance(team, dict) else None
                # The slug becomes part of a URL path: only a plain slug may get there.
                if not isinstance(slug, str) or not GITHUB_NAME.match(slug):
                    msg = (
                        f"the teams API for organization '{org}' answered a team without a "
                        "valid `slug`"
                    )
                    raise TapAPIError(msg)
                slugs.append(slug)
            url, params = response.links.get("next", {}).get("url"), None
        self.logger.info("%s: organization '%s' has %d teams", self.name, org, len(slugs))
        return slugs

    def get_url(self, context: Context | None) -> str:
        """`/orgs/{org}`, `/orgs/{org}/team/{slug}` or `/enterprises/{ent}` + `/copilot/metrics`."""
        return f"{self.url_base}{Scope.from_context(context).path_prefix}/copilot/metrics"

    def get_new_paginator(self) -> DayPagePaginator:
        """Page numbers from 1 until the window's last day (the SDK's default reads page 1)."""
        assert self._window is not None
        return DayPagePaginator(1, last_day=self._window.last)

    def get_url_params(self, context: Context | None, next_page_token: Any) -> dict[str, Any]:
        """`since`/`until` from the partition's window, 100 days per page."""
        assert self._window is not None
        return {
            "since": f"{self._window.first.isoformat()}T00:00:00Z",
            "until": f"{self._window.last.isoformat()}T23:59:59Z",
            "per_page": self.page_size,
            "page": next_page_token or 1,
        }

    def parse_response(self, response: requests.Response) -> Iterable[dict[str, Any]]:
        """The body is a JSON array of day objects."""
        days = decoded_json(response) if response.content else []
        if not isinstance(days, list):
            msg = f"{self.endpoint_label} answered a JSON {type(days).__name__}, expected an array"
            raise TapAPIError(msg)
        yield from days

    def scope_records(self, scope: Scope, context: Context) -> Iterable[dict[str, Any]]:
        """The partition's days in date order, each tagged with its scope."""
        self._window = window = self.window_for(scope, context)
        if window.is_empty:
            return
        self.logger.info(
            "%s for %s: requesting %s..%s", self.name, scope.label, window.first, window.last
        )
        wanted = {day.isoformat() for day in window.days()}
        fetched = list(self.request_records(context))
        for day in fetched:
            if not isinstance(day, dict) or not isinstance(day.get("date"), str):
                msg = (
                    f"{self.endpoint_label} for {scope.label} answered a day that is not an "
                    "object with a `date`; GitHub requires one"
                )
                raise TapAPIError(msg)
        # A server that ignores `page` serves its days again on the page asked next: each date
        # counts once (the first served). At most 100 small day objects per scope: sort them so
        # the bookmark only moves forward.
        unique: dict[str, dict[str, Any]] = {}
        for day in fetched:
            if day["date"] in wanted:
                unique.setdefault(day["date"], day)
        days = sorted(unique.values(), key=lambda d: d["date"])
        # A scope is one batch of breakdown rows (see tap_copilot_metrics.handoff).
        yield from self.handoff.batch(
            {"scope": scope.kind.value, "scope_name": scope.name, **day} for day in days
        )
        if days:
            self.checkpoint(context, dt.date.fromisoformat(days[-1]["date"]))

    def fatal_message(self, response: requests.Response) -> str:
        """A refused teams list (for an `org/*` entry) is named as such, not as the metrics API."""
        path = urlsplit(response.url).path
        if not path.endswith("/teams"):
            return super().fatal_message(response)
        org = path.rstrip("/").split("/")[-2]
        detail = github_message(response)
        said = f" (GitHub said: {detail})" if detail else ""
        return _TEAMS_REFUSED.format(org=org, status=response.status_code, said=said)

    def not_found_message(self, scope: Scope, detail: str) -> str:
        """404 here is either a wrong name or GitHub's shutdown of this API."""
        return (
            f"Not found (404): the Copilot metrics API for {scope.label}: either the name in "
            f"`{scope.kind.setting}` is wrong or GitHub closed this API (github.com "
            "answers 404 since 2026-04-02); select the usage report streams (copilot_usage_daily, "
            "copilot_user_usage_daily, ...) instead"
        )

    def unprocessable_message(self, scope: Scope, detail: str) -> str:
        """422 means the "Copilot metrics API access" policy is off (or `since` is too old)."""
        if "since" in detail.lower() or "days" in detail.lower():
            return (
                f"The Copilot metrics API refused the date range for {scope.label} (422: "
                f"{detail}); GitHub serves only the last {RETENTION_DAYS} days"
            )
        where = (
            "Enterprise settings > Policies > Copilot > Metrics"
            if scope.kind is ScopeKind.ENTERPRISE
            else "Organization settings > Copilot > Policies"
        )
        return (
            f'The "Copilot metrics API access" policy is disabled for {scope.label} (422): an '
            f"owner can enable it under {where}"
        )
