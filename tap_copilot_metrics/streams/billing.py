"""Copilot seats and billing: current snapshots, read in full on every run."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any, ClassVar

import requests
from singer_sdk.helpers.types import Context

from tap_copilot_metrics.client import GitHubStream, decoded_json
from tap_copilot_metrics.errors import TapAPIError
from tap_copilot_metrics.schemas import COPILOT_BILLING_SCHEMA, COPILOT_SEATS_SCHEMA
from tap_copilot_metrics.scopes import Scope, ScopeKind
from tap_copilot_metrics.streams.pages import LinkPagedStream

_BILLING_PERMISSIONS = (
    "a classic token needs `manage_billing:copilot` or `read:org` (`read:enterprise` for "
    'enterprises); a fine-grained token or GitHub App needs "GitHub Copilot Business" (read) '
    '(organization) or "Enterprise Copilot business" (read)'
)


#: Length of the digest in the key of a seat without an assignee (48 bits).
UNASSIGNED_DIGEST_CHARS = 12


def seat_key(seat: dict[str, Any]) -> str:
    """A never-empty key for a seat, the same on every run for the same seat.

    * A seat with an assignee: the assignee's ``login``.
    * A seat without one (GitHub declares ``assignee`` nullable: a seat whose user no longer
      exists): ``unassigned:<created_at>:<digest>``. ``created_at`` alone is not unique (the
      members of a team are granted their seats in the same second), so ``<digest>``, the
      first 12 hex digits of the SHA-256 of the seat's identity, tells such seats apart. The
      identity is this JSON object, with sorted keys, no whitespace, non-ASCII left as UTF-8,
      and null for a missing value::

          {"assigning_team_id": assigning_team.id, "created_at": created_at,
           "last_activity_at": ..., "last_activity_editor": ..., "last_authenticated_at": ...,
           "organization_id": organization.id}

      These fields identify a seat and do not change while it exists (nobody is left to be
      active on a seat without a user). Left out on purpose: ``pending_cancellation_date`` and
      ``plan_type`` (they change while the seat exists), the team's and organization's names
      and slugs (they can be renamed), and ``updated_at`` (closing down at GitHub: keys would
      change the day it stops being sent). A missing ``created_at`` reads ``unknown``.

    Two seats without an assignee that agree on every identity field cannot be told apart and
    share a key; in one listing that is far likelier the same seat served on two pages than two
    seats.
    """
    assignee = seat.get("assignee") or {}
    login = assignee.get("login") if isinstance(assignee, dict) else None
    if login:
        return str(login)
    identity = {
        "assigning_team_id": _id_of(seat.get("assigning_team")),
        "created_at": seat.get("created_at"),
        "last_activity_at": seat.get("last_activity_at"),
        "last_activity_editor": seat.get("last_activity_editor"),
        "last_authenticated_at": seat.get("last_authenticated_at"),
        "organization_id": _id_of(seat.get("organization")),
    }
    canonical = json.dumps(identity, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    digest = hashlib.sha256(canonical.encode()).hexdigest()[:UNASSIGNED_DIGEST_CHARS]
    return f"unassigned:{seat.get('created_at') or 'unknown'}:{digest}"


def _id_of(value: Any) -> Any:
    """`id` of a team or organization object; None when GitHub sent none."""
    return value.get("id") if isinstance(value, dict) else None


class CopilotSeatsStream(LinkPagedStream):
    """Every Copilot seat of each organization and enterprise (`…/copilot/billing/seats`)."""

    name = "copilot_seats"
    path = "/copilot/billing/seats"  # under each scope; see get_url
    primary_keys: ClassVar[list[str]] = ["scope", "scope_name", "seat_key"]
    replication_key = None
    declared_schema = COPILOT_SEATS_SCHEMA
    scope_kinds = (ScopeKind.ORGANIZATION, ScopeKind.ENTERPRISE)
    endpoint_label = "the Copilot seats API"
    required_permissions = _BILLING_PERMISSIONS

    def get_url(self, context: Context | None) -> str:
        """`/orgs/{org}/copilot/billing/seats` or the enterprise equivalent."""
        return f"{self.url_base}{Scope.from_context(context).path_prefix}/copilot/billing/seats"

    def parse_response(self, response: requests.Response) -> Iterable[dict[str, Any]]:
        """`{"total_seats": n, "seats": [...]}` -> one record per seat."""
        body = decoded_json(response) if response.content else {}
        seats = body.get("seats") if isinstance(body, dict) else None
        yield from self.objects(seats, "`seats` objects")

    def post_process(self, row: dict, context: Context | None = None) -> dict:
        """Scope columns and the seat key first, GitHub's fields unchanged."""
        scope = Scope.from_context(context)
        return {
            "scope": scope.kind.value,
            "scope_name": scope.name,
            "seat_key": seat_key(row),
            **row,
        }


class CopilotBillingStream(GitHubStream):
    """Seat breakdown and Copilot policies of each organization (`/orgs/{org}/copilot/billing`)."""

    name = "copilot_billing"
    path = "/copilot/billing"  # under each organization; see get_url
    primary_keys: ClassVar[list[str]] = ["scope", "scope_name"]
    replication_key = None
    declared_schema = COPILOT_BILLING_SCHEMA
    scope_kinds = (ScopeKind.ORGANIZATION,)
    endpoint_label = "the Copilot billing API"
    required_permissions = _BILLING_PERMISSIONS

    def get_url(self, context: Context | None) -> str:
        """`/orgs/{org}/copilot/billing`."""
        return f"{self.url_base}{Scope.from_context(context).path_prefix}/copilot/billing"

    def get_new_paginator(self) -> None:
        """A single object, no pages."""
        return

    def parse_response(self, response: requests.Response) -> Iterable[dict[str, Any]]:
        """One record per organization."""
        body = decoded_json(response) if response.content else None
        if not isinstance(body, dict):
            msg = f"{self.endpoint_label} answered an unexpected body: expected an object"
            raise TapAPIError(msg)
        yield body

    def post_process(self, row: dict, context: Context | None = None) -> dict:
        """Scope columns first, GitHub's fields unchanged."""
        scope = Scope.from_context(context)
        return {"scope": scope.kind.value, "scope_name": scope.name, **row}
