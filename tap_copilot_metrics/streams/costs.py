"""Copilot cost: GitHub's billing usage reports of AI credits and premium requests, day by day.

`GET /organizations/{org}/settings/billing/{ai_credit|premium_request}/usage` (and the
`/enterprises/{enterprise}/...` variants) answer one aggregated report for the period asked with
`year`, `month` and `day`, without pages. The tap asks once per scope and complete UTC day and
emits one record per usage item, GitHub's fields unchanged, plus `scope`, `scope_name` and `day`.
Billing data is restated (credits and discounts settle after the day), so every run reads the
lookback window again, and the bookmark moves after each complete day (see DailyStream).

The permissions differ from the metrics endpoints' (an organization administrator, an enterprise
admin or billing manager), and some accounts cannot have the data at all (not on the enhanced
billing platform, GHE.com data residency): a 403 or 404 is one line naming the scope, the
endpoint and what is needed, and the `billing_access_errors` setting says whether it stops the
run (`fail`) or skips this stream for that scope (`skip`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any, ClassVar
from urllib.parse import urlsplit

import requests
from singer_sdk.helpers.types import Context

from tap_copilot_metrics.client import decoded_json, github_message, scope_from_url
from tap_copilot_metrics.errors import TapAPIError
from tap_copilot_metrics.schemas.costs import (
    COPILOT_AI_CREDIT_USAGE_SCHEMA,
    COPILOT_PREMIUM_REQUEST_USAGE_SCHEMA,
    ITEM_KEYS,
    MODEL_PLACEHOLDER,
)
from tap_copilot_metrics.scopes import Scope, ScopeKind
from tap_copilot_metrics.streams.daily import DailyStream

#: GitHub serves "only data from the past 24 months" (billing-usage reference, section 1). Two
#: years hold 730 or 731 days, so today - 730 days is never before the same calendar day 24
#: months ago; the tap asks from one day later, today - 729, so a day on the boundary is never
#: asked for (the metrics API's 100 days are handled the same way: today - 99).
OLDEST_SAFE_DAY_AGE = 2 * 365 - 1
#: Answers that mean "this scope's billing usage cannot be read with these credentials".
ACCESS_STATUSES = frozenset({403, 404})
#: Who may read billing usage (GitHub's operation descriptions, billing-usage reference §2).
_PERMISSIONS = {
    ScopeKind.ORGANIZATION: (
        "an organization administrator: a classic token of an owner, or a fine-grained token or "
        'GitHub App with the organization permission "Administration" (read)'
    ),
    ScopeKind.ENTERPRISE: (
        "an enterprise admin or billing manager (classic token), or a GitHub App installed on "
        "the enterprise with read access to enterprise billing"
    ),
}
_API_PREFIX = {ScopeKind.ORGANIZATION: "/organizations", ScopeKind.ENTERPRISE: "/enterprises"}


def _period_of(day: dt.date) -> dict[str, int]:
    """The query parameters of one day, as GitHub echoes them in `timePeriod`."""
    return {"year": day.year, "month": day.month, "day": day.day}


class BillingAccessError(TapAPIError):
    """GitHub refused one scope's billing usage (403/404); `billing_access_errors` decides."""


class BillingUsageStream(DailyStream):
    """One record per usage item of a billing usage report, per scope and complete UTC day."""

    scope_kinds = (ScopeKind.ORGANIZATION, ScopeKind.ENTERPRISE)
    primary_keys: ClassVar[list[str]] = ["scope", "scope_name", "day", *ITEM_KEYS]
    replication_key = "day"
    is_sorted = True
    # Lookback days come before the bookmark on purpose; `checkpoint` keeps the bookmark right.
    check_sorted = False
    # State is written by `checkpoint` after each complete day, never in the middle of one.
    STATE_MSG_FREQUENCY = 10**12
    max_age_days = OLDEST_SAFE_DAY_AGE
    kept_words = "the 24 months of billing usage GitHub keeps"
    required_permissions = "; ".join(
        f"{kind.setting}: {needed}" for kind, needed in _PERMISSIONS.items()
    )

    def url_for(self, scope: Scope) -> str:
        """`/organizations/{org}/settings/billing/...` (not `/orgs/`) or the enterprise one."""
        return f"{self.url_base}{_API_PREFIX[scope.kind]}/{scope.name}{self.path}"

    def scope_records(self, scope: Scope, context: Context) -> Iterator[dict[str, Any]]:
        """Each complete day of the window, oldest first, checkpointing after each."""
        window = self.window_for(scope, context)
        today = self.settings.today
        days = [day for day in window.days() if day < today]  # today is still being billed
        if not days:
            return
        self.logger.info(
            "%s for %s: reading days %s..%s", self.name, scope.label, days[0], days[-1]
        )
        for day in days:
            items = self.day_items(scope, day, context)
            if items is None:  # refused, and billing_access_errors is skip
                return
            yield from self.records_of(items, scope, day)
            self.checkpoint(context, day)

    def day_items(
        self, scope: Scope, day: dt.date, context: Context
    ) -> list[dict[str, Any]] | None:
        """`usageItems` of one day; None when the scope is refused and skipped."""
        try:
            response = self.get_json(self.url_for(scope), _period_of(day), context)
        except BillingAccessError as exc:
            if self.settings.billing_access_errors != "skip":
                raise
            # The message names the scope, the endpoint and what is needed.
            self.logger.warning("%s: skipped (billing_access_errors is skip): %s", self.name, exc)
            return None
        body: Any = decoded_json(response) if response.content else None  # e.g. a 204
        items = body.get("usageItems") if isinstance(body, dict) else None
        if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
            msg = (
                f"{self.endpoint_label} for {scope.label} answered an unexpected body for {day}: "
                "expected an object with a `usageItems` array of objects"
            )
            raise TapAPIError(msg)
        self._check_period(body.get("timePeriod"), scope, day)
        return items

    def _check_period(self, period: Any, scope: Scope, day: dt.date) -> None:
        """A period that contradicts the day asked for (a server ignoring `day`) is refused.

        GitHub echoes the period in `timePeriod`; a part it leaves out is not a contradiction.
        """
        if isinstance(period, dict) and any(
            part in period and period[part] != value for part, value in _period_of(day).items()
        ):
            msg = (
                f"{self.endpoint_label} for {scope.label} answered the period {period} for "
                f"{day}: the records would be counted under the wrong day"
            )
            raise TapAPIError(msg)

    def records_of(
        self, items: list[dict[str, Any]], scope: Scope, day: dt.date
    ) -> Iterator[dict[str, Any]]:
        """GitHub's items with the scope columns and the day; keys never null nor empty."""
        added = {"scope": scope.kind.value, "scope_name": scope.name, "day": day.isoformat()}
        seen: set[tuple[str, ...]] = set()
        for item in items:
            record = {**added, **item}
            record.update(added)
            if not record.get("model"):
                record["model"] = MODEL_PLACEHOLDER
            for name in ITEM_KEYS:
                if not isinstance(record.get(name), str) or not record[name]:
                    msg = (
                        f"{self.endpoint_label} for {scope.label} answered a usage item for "
                        f"{day} without `{name}`, which identifies its row"
                    )
                    raise TapAPIError(msg)
            key = tuple(record[name] for name in ITEM_KEYS)
            if key in seen:
                msg = (
                    f"{self.endpoint_label} for {scope.label} answered two usage items for {day} "
                    f"with the same product, sku and model {key}: one would replace the other"
                )
                raise TapAPIError(msg)
            seen.add(key)
            yield record

    # --- errors ---------------------------------------------------------------------------

    def validate_response(self, response: requests.Response) -> None:
        """As every stream; a refused scope (403/404 without rate-limit signs) is set apart."""
        try:
            super().validate_response(response)
        except TapAPIError as exc:
            if response.status_code in ACCESS_STATUSES:
                raise BillingAccessError(str(exc)) from None
            raise

    def fatal_message(self, response: requests.Response) -> str:
        """403/404: one line with the scope, the endpoint, why, and the permission needed."""
        scope = scope_from_url(response.url)
        status = response.status_code
        if status not in ACCESS_STATUSES or scope is None or scope.kind not in _PERMISSIONS:
            return super().fatal_message(response)
        detail = github_message(response)
        said = f" (GitHub said: {detail})" if detail else ""
        endpoint = f"GET {urlsplit(response.url).path}"
        if status == 403:
            what, why = "Permission denied (403)", ""
        else:
            what = "Not found (404)"
            why = (
                f"the name in `{scope.kind.setting}` is wrong, the {scope.kind.value} is not on "
                "GitHub's enhanced billing platform, or this GitHub does not serve billing usage "
                "(GHE.com data residency); "
            )
        message = (
            f"{what} on {self.endpoint_label} ({endpoint}) for {scope.label}{said}: {why}"
            f"reading it needs {_PERMISSIONS[scope.kind]}"
        )
        if self.settings.billing_access_errors != "skip":
            message += "; or set `billing_access_errors` to `skip` to skip such scopes"
        return message


class CopilotAiCreditUsageStream(BillingUsageStream):
    """Copilot AI credits per day, product, SKU and model (usage-based billing, 2026-06-01 on)."""

    name = "copilot_ai_credit_usage"
    path = "/settings/billing/ai_credit/usage"
    declared_schema = COPILOT_AI_CREDIT_USAGE_SCHEMA
    endpoint_label = "the AI credit billing usage API"


class CopilotPremiumRequestUsageStream(BillingUsageStream):
    """Copilot premium requests per day, product, SKU and model (request-based billing)."""

    name = "copilot_premium_request_usage"
    path = "/settings/billing/premium_request/usage"
    declared_schema = COPILOT_PREMIUM_REQUEST_USAGE_SCHEMA
    endpoint_label = "the premium request billing usage API"


COST_STREAMS: tuple[type[BillingUsageStream], ...] = (
    CopilotAiCreditUsageStream,
    CopilotPremiumRequestUsageStream,
)
