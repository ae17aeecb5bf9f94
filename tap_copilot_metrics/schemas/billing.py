"""Schemas of the seat list and the organization billing details.

Derived from the vendored usage-reports OpenAPI (``copilot-seat-details``,
``copilot-organization-details`` and the components they reference). Notes:

* ``assigning_team`` is ``oneOf`` [``team``, ``enterprise-team``]; it becomes one object
  declaring the union of both property sets (``description`` is nullable in ``team`` only, so
  the union is nullable).
* ``copilot-seat-details`` says ``additionalProperties: false``. The record level is declared
  open nonetheless: the tap adds ``scope``/``scope_name``/``seat_key``, and a field GitHub adds
  later should reach the target rather than be dropped.
* GitHub marks ``created_at`` (seat) and several user/team fields required and non-null; they
  are declared nullable like every non-key property (a missing value becomes NULL in a
  table either way, and a wrong promise must not fail a load).
* Enumerations (``plan_type``, ``seat_management_setting``, ...) become "Known values" notes in
  the descriptions: GitHub adds values (seats already know ``unknown``).
"""

from __future__ import annotations

from tap_copilot_metrics.schemas.common import SCOPE_DESCRIPTION, SCOPE_NAME_DESCRIPTION, JSONSchema
from tap_copilot_metrics.schemas.openapi import component_schema

USAGE_REPORTS_OPENAPI = "usage-reports.openapi.json"

# The seat key (the stream fills it, see streams/billing.py ``seat_key``, which documents the
# rule): the assignee's ``login``; when ``assignee`` is null (a seat whose user no longer
# exists) a fallback that is still unique and stable, ``unassigned:<created_at>:<digest>``, the
# digest covering the fields that tell such seats apart (``created_at`` alone does not: a team's
# members get their seats in the same second). Logins can be renamed, so a rename shows up as a
# new seat row; ``assignee.id`` stays in the record for consumers that need a rename-proof join.
SEAT_KEY_DESCRIPTION = (
    "Key of the seat, never null: the assignee's login, or "
    '"unassigned:<created_at>:<digest>" when the seat has no assignee (the digest, 12 hex '
    "digits, is computed from the seat's assigning team and organization ids, created_at and "
    "last activity fields)."
)


def _scope_columns() -> JSONSchema:
    return {
        "scope": {"type": "string", "description": SCOPE_DESCRIPTION},
        "scope_name": {"type": "string", "description": SCOPE_NAME_DESCRIPTION},
    }


def _copilot_seats_schema() -> JSONSchema:
    seat = component_schema(USAGE_REPORTS_OPENAPI, "copilot-seat-details")
    return {
        "type": "object",
        "properties": {
            **_scope_columns(),
            "seat_key": {"type": "string", "description": SEAT_KEY_DESCRIPTION},
            **seat["properties"],
        },
        "required": ["scope", "scope_name", "seat_key"],
        "additionalProperties": True,
    }


def _copilot_billing_schema() -> JSONSchema:
    details = component_schema(USAGE_REPORTS_OPENAPI, "copilot-organization-details")
    return {
        "type": "object",
        "properties": {**_scope_columns(), **details["properties"]},
        "required": ["scope", "scope_name"],
        "additionalProperties": True,
    }


COPILOT_SEATS_SCHEMA: JSONSchema = _copilot_seats_schema()
COPILOT_BILLING_SCHEMA: JSONSchema = _copilot_billing_schema()
