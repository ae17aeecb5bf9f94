"""Schema of the legacy metrics API day object (``GET /orgs/{org}/copilot/metrics``).

Derived from the vendored OpenAPI component ``copilot-usage-metrics-day`` and the schemas it
references (``copilot-ide-code-completions``, ``copilot-ide-chat``, ``copilot-dotcom-chat``,
``copilot-dotcom-pull-requests``).

Where the OpenAPI description is silent or differs from GitHub's official example
(examples/legacy-copilot-usage-metrics-for-day.json):

* Only ``date`` is required. The example omits ``total_engaged_users`` on a custom model of
  the code-completion ``editors[].models[]``, so every property is nullable (absent and null
  both reach targets as null).
* The sub-objects are OpenAPI 3.0 ``nullable: true``; the top level and the four feature
  blocks declare ``additionalProperties: true``. The nested items say nothing about
  additional properties (open by JSON-Schema default); they are declared open too, because the
  SDK drops undeclared nested fields unless ``additionalProperties`` is truthy.
* ``custom_model_training_date`` is a nullable string without a format: the example shows
  ``"2024-02-01"`` but GitHub never promised a date format, so it is not declared as one.
* Counts carry no minimum or int64 format; they are plain JSON integers.
"""

from __future__ import annotations

from tap_copilot_metrics.schemas.common import SCOPE_DESCRIPTION, SCOPE_NAME_DESCRIPTION, JSONSchema
from tap_copilot_metrics.schemas.openapi import component_schema

LEGACY_OPENAPI = "legacy-metrics.openapi.json"


def _copilot_metrics_schema() -> JSONSchema:
    day = component_schema(LEGACY_OPENAPI, "copilot-usage-metrics-day")
    properties = dict(day["properties"])
    date = properties.pop("date")
    return {
        "type": "object",
        "properties": {
            "scope": {"type": "string", "description": SCOPE_DESCRIPTION},
            "scope_name": {"type": "string", "description": SCOPE_NAME_DESCRIPTION},
            # The replication key: never null.
            "date": {"type": "string", "format": "date", "description": date["description"]},
            **properties,
        },
        "required": ["scope", "scope_name", "date"],
        "additionalProperties": True,
    }


COPILOT_METRICS_SCHEMA: JSONSchema = _copilot_metrics_schema()
