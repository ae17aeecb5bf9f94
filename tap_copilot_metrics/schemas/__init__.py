"""JSON schemas of every stream (plain dicts, draft-07 style as Singer uses)."""

from __future__ import annotations

from tap_copilot_metrics.schemas.billing import COPILOT_BILLING_SCHEMA, COPILOT_SEATS_SCHEMA
from tap_copilot_metrics.schemas.common import JSONSchema
from tap_copilot_metrics.schemas.costs import (
    COPILOT_AI_CREDIT_USAGE_SCHEMA,
    COPILOT_PREMIUM_REQUEST_USAGE_SCHEMA,
)
from tap_copilot_metrics.schemas.legacy import COPILOT_METRICS_SCHEMA
from tap_copilot_metrics.schemas.reports import (
    COPILOT_REPOSITORY_USAGE_DAILY_SCHEMA,
    COPILOT_USAGE_DAILY_SCHEMA,
    COPILOT_USER_TEAMS_DAILY_SCHEMA,
    COPILOT_USER_USAGE_DAILY_SCHEMA,
)

__all__ = [
    "COPILOT_AI_CREDIT_USAGE_SCHEMA",
    "COPILOT_BILLING_SCHEMA",
    "COPILOT_METRICS_SCHEMA",
    "COPILOT_PREMIUM_REQUEST_USAGE_SCHEMA",
    "COPILOT_REPOSITORY_USAGE_DAILY_SCHEMA",
    "COPILOT_SEATS_SCHEMA",
    "COPILOT_USAGE_DAILY_SCHEMA",
    "COPILOT_USER_TEAMS_DAILY_SCHEMA",
    "COPILOT_USER_USAGE_DAILY_SCHEMA",
    "JSONSchema",
]
