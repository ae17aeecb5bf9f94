"""Lists GitHub pages with `Link` headers (seats, enterprise teams and their members)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import ParseResult, parse_qsl

from singer_sdk.helpers.types import Context
from singer_sdk.pagination import HeaderLinkPaginator

from tap_copilot_metrics.client import GitHubStream
from tap_copilot_metrics.errors import TapAPIError
from tap_copilot_metrics.scopes import Scope

#: Items asked for per page: GitHub's maximum for these lists.
PER_PAGE = 100


class LinkPagedStream(GitHubStream):
    """A list endpoint read page by page, following `Link: rel="next"`."""

    def get_new_paginator(self) -> HeaderLinkPaginator:
        """Follow `Link: rel="next"` until GitHub stops sending one."""
        return HeaderLinkPaginator()

    def get_url_params(self, context: Context | None, next_page_token: Any) -> dict[str, Any]:
        """PER_PAGE items a page; later pages take GitHub's own `next` query."""
        if isinstance(next_page_token, ParseResult):
            return dict(parse_qsl(next_page_token.query))
        return {"per_page": PER_PAGE, "page": 1}

    def scope_records(self, scope: Scope, context: Context) -> Iterable[dict[str, Any]]:
        """A scope's list, one batch for the child streams made from it (see handoff.py)."""
        return self.handoff.batch(super().scope_records(scope, context))

    def objects(self, items: Any, what: str) -> list[dict[str, Any]]:
        """`items` when it is a list of objects; otherwise the body is not what GitHub documents."""
        if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
            msg = f"{self.endpoint_label} answered an unexpected body: expected {what}"
            raise TapAPIError(msg)
        return items
