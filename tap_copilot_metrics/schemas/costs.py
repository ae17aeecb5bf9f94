"""Schemas of the billing usage streams: one record per usage item of one scope and UTC day.

Derived from the vendored ``billing-usage.openapi.json`` (its ``usageItems`` item of
``billing-ai-credit-usage-report-org`` and ``billing-premium-request-usage-report-org``; the
enterprise components declare the same item). Only the item is a record: the envelope's
``timePeriod`` is the request's day (the ``day`` column), and ``organization`` / ``enterprise``
repeat ``scope_name``.

* ``product``, ``sku`` and ``model`` are key columns, never null: a usage item without a model
  gets ``MODEL_PLACEHOLDER`` (the same word the breakdown tables use for an unnamed dimension).
* Every other item field is nullable, as everywhere in the tap. Quantities are ``number``:
  GitHub serves fractional credits (e.g. ``3956.1799545``) and requests.
"""

from __future__ import annotations

from tap_copilot_metrics.schemas.common import SCOPE_DESCRIPTION, SCOPE_NAME_DESCRIPTION, JSONSchema
from tap_copilot_metrics.schemas.openapi import component_schema

BILLING_USAGE_OPENAPI = "billing-usage.openapi.json"
#: The key value of a usage item GitHub sends without a `model` (or with an empty one).
MODEL_PLACEHOLDER = "unknown"
#: Item fields that identify a usage line within a scope and day.
ITEM_KEYS = ("product", "sku", "model")


def _usage_schema(component: str) -> JSONSchema:
    report = component_schema(BILLING_USAGE_OPENAPI, component)
    item = dict(report["properties"]["usageItems"]["items"]["properties"])
    keys = {name: item.pop(name) for name in ITEM_KEYS}
    keys["model"]["description"] += f" `{MODEL_PLACEHOLDER}` when GitHub sends none."
    return {
        "type": "object",
        "properties": {
            "scope": {"type": "string", "description": SCOPE_DESCRIPTION},
            "scope_name": {"type": "string", "description": SCOPE_NAME_DESCRIPTION},
            "day": {
                "type": "string",
                "format": "date",
                "description": "The UTC day the usage was billed for (the `year`, `month` and "
                "`day` asked for).",
            },
            **{
                name: {"type": "string", "description": schema["description"]}
                for name, schema in keys.items()
            },
            **item,
        },
        "required": ["scope", "scope_name", "day", *ITEM_KEYS],
        "additionalProperties": True,
    }


COPILOT_AI_CREDIT_USAGE_SCHEMA: JSONSchema = _usage_schema("billing-ai-credit-usage-report-org")
COPILOT_PREMIUM_REQUEST_USAGE_SCHEMA: JSONSchema = _usage_schema(
    "billing-premium-request-usage-report-org"
)
