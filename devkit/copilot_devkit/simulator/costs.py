"""Copilot cost as the simulated GitHub bills it: the AI credit and premium request usage reports.

`GET /{organizations|enterprises}/{name}/settings/billing/{ai_credit|premium_request}/usage`,
served as the project's billing usage reference describes it (billing-usage.md, sections 1-3 and
the simulator checklist in section 6; the bodies are shaped like GitHub's examples in
`examples/billing/`):

* `year`, `month`, `day` choose the period, echoed in `timePeriod`: a day, a month, or a whole
  year. `month` defaults to the current month and `year` to the current year; `year` alone asks
  for the whole year (the official examples echo `{"year": 2025}` only). No pages.
* A value that is not a number, a month outside 1-12 or a day the month does not have (the 30th
  of February) answers 400. So does a period wholly older than the 24 months GitHub keeps: the
  oldest day served is the same calendar day 24 months back (`window_start`; the reference says
  only "the past 24 months", the exact edge and the status are this simulator's reading).
  A period partly older is served for its days inside the window; one after today is empty.
* Today is not complete: its usage so far is `TODAY_SHARE` of the day's final figures.
* AI credits are billed from 2026-06-01 (`AI_CREDITS_SINCE`), premium requests before it; a
  small premium request tail remains after it (annual Copilot plans billed by request until they
  end: the reference cannot say whether organizations see them, the simulator assumes so).
* 404 for an unknown scope or one in `billing_unavailable` (not on the enhanced billing platform,
  GHE.com); 403 for a scope in `forbidden` or `billing_forbidden` (not a billing admin).
* `product` and `model` filter the items (case-insensitive) and are echoed; `user`,
  `organization` and `cost_center_id` are not simulated and, like unknown parameters, ignored.

Everything is a pure function of the settings (seed, names, today), like the rest of the data.
"""

from __future__ import annotations

import calendar
import datetime as dt
from typing import TYPE_CHECKING, Any

from copilot_devkit.simulator.data import Dataset
from copilot_devkit.simulator.entities import Entity, stable_int, unit
from copilot_devkit.simulator.responses import Response, error, json_response

if TYPE_CHECKING:
    from copilot_devkit.simulator.server import Handler

DOCS_BILLING = "https://docs.github.com/rest/billing/usage"
USAGES = ("ai_credit", "premium_request")
#: GitHub moved Copilot to usage-based billing (AI credits) on this day.
AI_CREDITS_SINCE = dt.date(2026, 6, 1)
WINDOW_MONTHS = 24
#: Share of the day's final usage that today shows so far.
TODAY_SHARE = 0.5
#: (sku, unitType, pricePerUnit, credits or requests per active user and model) per usage.
SKUS: dict[str, tuple[str, str, float, float]] = {
    "ai_credit": ("Copilot AI Credits", "ai-credits", 0.01, 40.0),
    "premium_request": ("Copilot Premium Request", "requests", 0.04, 3.0),
}
AI_CREDIT_MODELS = ("Auto: Claude Haiku 4.5", "Auto: Claude Sonnet 4.6", "GPT-5", "Claude Opus 4.5")
PREMIUM_REQUEST_MODELS = ("Claude Sonnet 4.5", "GPT-5", "Gemini 2.5 Pro", "o3")
#: After AI_CREDITS_SINCE: the requests of annual plans still billed by request.
PREMIUM_REQUEST_TAIL = ("Claude Sonnet 4.5",)
QUANTITY_FIELDS = ("grossQuantity", "discountQuantity", "netQuantity")
AMOUNT_FIELDS = ("grossAmount", "discountAmount", "netAmount")


def window_start(today: dt.date) -> dt.date:
    """The oldest day served: the same calendar day 24 months back (29 February -> 28th)."""
    year = today.year - WINDOW_MONTHS // 12
    return dt.date(year, today.month, min(today.day, calendar.monthrange(year, today.month)[1]))


def models_on(usage: str, day: dt.date) -> tuple[str, ...]:
    """The models with usage of this kind on `day` (every one, every day: data is dense)."""
    if usage == "ai_credit":
        return AI_CREDIT_MODELS if day >= AI_CREDITS_SINCE else ()
    return PREMIUM_REQUEST_MODELS if day < AI_CREDITS_SINCE else PREMIUM_REQUEST_TAIL


def day_items(dataset: Dataset, entity: Entity, usage: str, day: dt.date) -> list[dict[str, Any]]:
    """`usageItems` of one complete day, in GitHub's field order (the truth of a day)."""
    seed = dataset.settings.seed
    sku, unit_type, price, per_user = SKUS[usage]
    if usage == "premium_request" and day >= AI_CREDITS_SINCE:
        per_user /= 10
    users = 2 + len(dataset.active_users(entity, day))
    items = []
    for rank, model in enumerate(models_on(usage, day), start=1):
        salt = stable_int(entity.kind, entity.name, usage, model)
        gross = round(users * per_user * (0.5 + unit(seed, salt, day.toordinal())) / rank, 7)
        discount = round(gross * unit(seed, salt + 1, day.toordinal()), 7)
        quantities = (gross, discount, round(gross - discount, 7))
        items.append(_item(sku, model, unit_type, price, quantities))
    return items


def _item(
    sku: str, model: str, unit_type: str, price: float, quantities: tuple[float, ...]
) -> dict[str, Any]:
    item: dict[str, Any] = {
        "product": "Copilot",
        "sku": sku,
        "model": model,
        "unitType": unit_type,
        "pricePerUnit": price,
    }
    for quantity, amount, value in zip(QUANTITY_FIELDS, AMOUNT_FIELDS, quantities, strict=True):
        item[quantity] = value
        item[amount] = round(value * price, 9)
    return item


def period_items(
    dataset: Dataset, entity: Entity, usage: str, first: dt.date, last: dt.date
) -> list[dict[str, Any]]:
    """Items of `first..last` summed per (product, sku, model); today counts as far as it got."""
    today = dataset.settings.today
    totals: dict[tuple[str, str, str], dict[str, Any]] = {}
    day = max(first, window_start(today))
    while day <= min(last, today):
        share = TODAY_SHARE if day == today else 1.0
        for item in day_items(dataset, entity, usage, day):
            key = (item["product"], item["sku"], item["model"])
            total = totals.setdefault(key, {**item, **dict.fromkeys(QUANTITY_FIELDS, 0.0)})
            for name in QUANTITY_FIELDS:
                total[name] += item[name] * share
        day += dt.timedelta(days=1)
    return [
        _item(t["sku"], t["model"], t["unitType"], t["pricePerUnit"], _rounded(t))
        for t in totals.values()
    ]


def _rounded(total: dict[str, Any]) -> tuple[float, ...]:
    return tuple(round(total[name], 7) for name in QUANTITY_FIELDS)


def period_of(
    query: dict[str, str], today: dt.date
) -> tuple[dict[str, int], dt.date, dt.date] | Response:
    """(`timePeriod`, first day, last day) the query asks for, or GitHub's 400."""
    asked: dict[str, int] = {}
    for name in ("year", "month", "day"):
        raw = query.get(name, "")
        if raw == "":
            continue
        try:
            asked[name] = int(raw)
        except ValueError:
            return error(400, f"Invalid value for {name}: {raw!r}.", DOCS_BILLING)
    year = asked.get("year", today.year)
    if "month" not in asked and ("day" in asked or "year" not in asked):
        asked["month"] = today.month
    month = asked.get("month")
    try:
        if month is None:
            first, last = dt.date(year, 1, 1), dt.date(year, 12, 31)
        elif "day" not in asked:
            first = dt.date(year, month, 1)
            last = dt.date(year, month, calendar.monthrange(year, month)[1])
        else:
            first = last = dt.date(year, month, asked["day"])
    except ValueError:
        wanted = "-".join(str(asked[n]) for n in ("year", "month", "day") if n in asked)
        return error(400, f"Invalid date: {wanted or year}.", DOCS_BILLING)
    if last < window_start(today):
        message = f"Usage data is only available for the past {WINDOW_MONTHS} months."
        return error(400, message, DOCS_BILLING)
    period: dict[str, int] = {"year": year}
    period.update((n, asked[n]) for n in ("month", "day") if n in asked)
    return period, first, last


def billing_usage(
    handler: Handler, query: dict[str, str], kind: str, name: str, usage: str
) -> Response:
    """The route: scope and access checks, the period, the items (filtered), the envelope."""
    scope_kind = "organization" if kind == "organizations" else "enterprise"
    found = handler._scope(scope_kind, name, False, DOCS_BILLING)
    if isinstance(found, Response):
        return found
    settings = handler.state.settings
    if _named(found.name, settings.billing_unavailable):
        return error(404, doc=DOCS_BILLING)
    if _named(found.name, settings.billing_forbidden):
        return error(403, doc=DOCS_BILLING)
    period = period_of(query, settings.today)
    if isinstance(period, Response):
        return period
    time_period, first, last = period
    items = period_items(handler.state.dataset, found, usage, first, last)
    filters = {n: query[n] for n in ("product", "model") if query.get(n)}
    items = [i for i in items if all(i[n].lower() == v.lower() for n, v in filters.items())]
    return json_response(
        200, {"timePeriod": time_period, scope_kind: found.name, **filters, "usageItems": items}
    )


def _named(name: str, names: set[str]) -> bool:
    return name.lower() in {n.lower() for n in names}
