"""The base of every stream: GitHub's headers, auth, a session per thread, retries, error lines."""

from __future__ import annotations

import copy
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlsplit

import msgspec
import requests
from singer_sdk import metrics
from singer_sdk.exceptions import RetriableAPIError
from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.helpers.types import Context
from singer_sdk.streams import RESTStream

from tap_copilot_metrics.errors import TapAPIError
from tap_copilot_metrics.handoff import BatchHandoff
from tap_copilot_metrics.prefetch import fetch_abandoned
from tap_copilot_metrics.retry import RetryPolicy, is_rate_limited
from tap_copilot_metrics.scopes import Scope, ScopeKind
from tap_copilot_metrics.sessions import ThreadSessions

if TYPE_CHECKING:
    from backoff.types import Details

    from tap_copilot_metrics.auth import GitHubAuth
    from tap_copilot_metrics.settings import Settings
    from tap_copilot_metrics.tap import TapCopilotMetrics

_SCOPE_IN_PATH = re.compile(
    r"/orgs/(?P<org>[^/]+)/team/(?P<team>[^/]+)/|/(?:orgs|organizations)/(?P<org_only>[^/]+)/|/enterprises/(?P<ent>[^/]+)/"
)
_JSON = msgspec.json.Decoder()


def scope_from_url(url: str) -> Scope | None:
    """Which configured scope a request was for, read back from its URL path."""
    match = _SCOPE_IN_PATH.search(urlsplit(url).path + "/")
    if not match:
        return None
    if match["org"]:
        return Scope(ScopeKind.TEAM, f"{match['org']}/{match['team']}")
    if match["org_only"]:
        return Scope(ScopeKind.ORGANIZATION, match["org_only"])
    return Scope(ScopeKind.ENTERPRISE, match["ent"])


def github_message(response: requests.Response) -> str:
    """GitHub's own explanation from an error body, shortened; never headers or URLs."""
    try:
        body = _JSON.decode(response.content)
    except msgspec.DecodeError:
        return ""
    message = body.get("message") if isinstance(body, dict) else None
    return str(message)[:200] if message else ""


def decoded_json(response: requests.Response) -> Any:
    """The response body as JSON, decoded once (validation already did it)."""
    cached = getattr(response, "_tap_json", None)
    if cached is not None:
        return cached
    data = _JSON.decode(response.content)
    response._tap_json = data  # type: ignore[attr-defined]
    return data


class GitHubStream(RESTStream[Any]):
    """A GitHub REST stream partitioned by scope (organization, team or enterprise)."""

    #: The stream's JSON schema (see tap_copilot_metrics.schemas).
    declared_schema: ClassVar[dict[str, Any]]
    #: Which configured scopes this stream reads.
    scope_kinds: ClassVar[tuple[ScopeKind, ...]] = (ScopeKind.ORGANIZATION,)
    #: What a token needs for this endpoint, said in 403 messages.
    required_permissions: ClassVar[str] = "the Copilot permissions listed in the README"
    #: Short name of the endpoint for messages, e.g. "the Copilot metrics API".
    endpoint_label: ClassVar[str] = "this endpoint"
    #: Answers that mean "no data here" rather than an error (e.g. 404 for a report day).
    empty_statuses: ClassVar[frozenset[int]] = frozenset()

    #: Records are decoded JSON with GitHub's own types, already what a Singer target reads;
    #: the SDK's recursive conformance would only re-walk every value (measured: about 70% of
    #: the CPU time of a per-user backfill) and drop fields GitHub added after our schema.
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE

    #: The current scope's figures for its closing log line (see `get_records`).
    _tally: Counter[str]

    def __init__(self, tap: TapCopilotMetrics, *args: Any, **kwargs: Any) -> None:
        # Each stream works on its own copy of its schema: the schemas are module-level dicts,
        # and SDK mappers and catalogs may edit a stream's schema in place.
        kwargs.setdefault("schema", copy.deepcopy(self.declared_schema))
        super().__init__(tap, *args, **kwargs)
        #: The tap, kept here rather than read from the SDK's private `_tap`.
        self.copilot_tap = tap
        #: Breakdown rows for child streams (see tap_copilot_metrics.handoff).
        self.handoff = BatchHandoff()
        self._sessions = ThreadSessions()
        self._tally = Counter()
        self._tally_lock = threading.Lock()

    # --- plumbing shared by every stream -------------------------------------------------

    @property
    def settings(self) -> Settings:
        """The run's checked settings."""
        return self.copilot_tap.settings

    @property
    def url_base(self) -> str:
        """GitHub's API root (github.com, GHE.com or GHES `/api/v3`)."""
        return self.settings.api_url

    @property
    def http_headers(self) -> dict[str, str]:
        """Headers GitHub asks every client to send."""
        return {
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": self.settings.api_version,
            "User-Agent": self.settings.user_agent,
        }

    @property
    def authenticator(self) -> GitHubAuth:
        """One authenticator for the whole run, so an App token is minted once."""
        return self.copilot_tap.github_auth

    @property
    def requests_session(self) -> requests.Session:
        """The calling thread's session: prefetch workers call the API too (sessions.py)."""
        return self._sessions.get()

    def release_session(self) -> None:
        """Hand back the calling thread's session (a prefetch worker ends)."""
        self._sessions.release()

    @property
    def timeout(self) -> int:
        """Per-request timeout; the SDK types it as int, requests accepts float."""
        return self.settings.request_timeout_seconds  # type: ignore[return-value]

    @property
    def partitions(self) -> list[dict[str, Any]] | None:
        """One partition, and one state bookmark, per configured scope of a kind it serves.

        Empty when none is configured (an enterprise-only run has no partition for an
        organization-only endpoint); `get_records` then says so and reads nothing.
        """
        return [scope.context for scope in self.settings.scopes(*self.scope_kinds)]

    def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        """The records of one scope partition (see `scope_records`).

        The SDK syncs a stream without partitions once with no context: that is a stream whose
        endpoint GitHub serves for none of the configured scope kinds, so it reads nothing.
        """
        if not context:
            kinds = " and ".join(kind.setting for kind in self.scope_kinds)
            # Its selected children get no context either: each says so too.
            for stream in (self, *(child for child in self.child_streams if child.selected)):
                self.logger.info(
                    "%s: skipped: GitHub serves it only for %s, and none is configured",
                    stream.name,
                    kinds,
                )
            return
        scope = Scope.from_context(context)
        started = time.monotonic()
        self._tally = Counter()
        days: set[Any] = set()
        records = 0
        for record in self.scope_records(scope, context):
            records += 1
            if self.replication_key:
                days.add(record.get(self.replication_key))
            yield record
        tally = self._tally
        read = f"{len(days)} days, " if self.replication_key else ""
        files = f", {tally['files']} files" if tally["files"] else ""
        self.logger.info(
            "%s for %s: %s%d records, %d requests%s, %d retries, %.1f s",
            self.name,
            scope.label,
            read,
            records,
            tally["requests"],
            files,
            tally["retries"],
            time.monotonic() - started,
        )

    def count(self, what: str, n: int = 1) -> None:
        """Add to this scope's figures (requests, files, retries); worker threads call it too."""
        with self._tally_lock:
            self._tally[what] += n

    def scope_records(self, scope: Scope, context: Context) -> Iterable[dict[str, Any]]:
        """One scope's records; by default the SDK's request-and-page loop."""
        return super().get_records(context)

    def generate_child_contexts(
        self, record: dict[str, Any], context: Context | None
    ) -> Iterator[Context]:
        """Hand breakdown rows to the selected child streams (see tap_copilot_metrics.handoff)."""
        return self.handoff.hand_over(record, self.child_streams, context)

    def get_json(
        self, url: str, params: dict[str, Any] | None = None, context: Context | None = None
    ) -> requests.Response:
        """One GET outside the SDK's paging loop, with the same auth, errors and retries."""
        prepared = self.build_prepared_request(
            method="GET", url=url, params=params or {}, headers=self.http_headers
        )
        send: Callable[..., requests.Response] = self.request_decorator(self._send)
        return send(prepared, context)

    def _send(
        self, prepared: requests.PreparedRequest, context: Context | None
    ) -> requests.Response:
        """What the SDK's paging loop does with one request, through its public names.

        Sent authenticated on the thread's session, timed in the SDK's `http_request_duration`
        METRIC line (its endpoint tag is the stream's `path`), then sorted by `validate_response`.
        """
        response = self.requests_session.send(
            self.authenticator(prepared), timeout=self.timeout, allow_redirects=self.allow_redirects
        )
        status = response.status_code
        tags: dict[str, Any] = {
            metrics.Tag.STREAM: self.name,
            metrics.Tag.ENDPOINT: self.path,
            metrics.Tag.HTTP_STATUS_CODE: status,
            metrics.Tag.STATUS: metrics.Status.SUCCEEDED if status < 400 else metrics.Status.FAILED,
        }
        if context:
            tags[metrics.Tag.CONTEXT] = context
        duration = response.elapsed.total_seconds()
        point = metrics.Point("timer", metrics.Metric.HTTP_REQUEST_DURATION, duration, tags)
        metrics.log(self.metrics_logger, point)
        self.validate_response(response)
        return response

    def retry_policy(self) -> RetryPolicy:
        """The bounded retry loop configured for this run."""
        return RetryPolicy.from_settings(self.settings)

    def request_decorator(self, func: Callable[..., Any]) -> Callable[..., Any]:
        """Retry transient faults with GitHub's waits, within the run's time budget."""
        return self.retry_policy().retrying(
            func,
            on_backoff=self._log_backoff,
            describe=self.describe_fault,
            abandoned=fetch_abandoned,
        )

    def _log_backoff(self, details: Details) -> None:
        self.count("retries")
        exc = details.get("exception")
        self.logger.warning(
            "%s: %s; retry %d in %.1fs",
            self.name,
            self.describe_fault(exc) if isinstance(exc, Exception) else "request failed",
            details.get("tries", 0),
            details.get("wait") or 0.0,
        )

    def describe_fault(self, exc: Exception) -> str:
        """Words for a transient fault that are safe to log (no URL query, no headers)."""
        if isinstance(exc, RetriableAPIError) and str(exc):
            # validate_response already said what was wrong (e.g. a 200 that is not JSON).
            return str(exc)
        response = getattr(exc, "response", None)
        if isinstance(response, requests.Response):
            path = urlsplit(response.url).path
            detail = github_message(response)
            suffix = f": {detail}" if detail else ""
            return f"{self.endpoint_label} ({path}) answered {response.status_code}{suffix}"
        return (
            f"{self.endpoint_label}: {type(exc).__name__} "
            "(connection dropped, timed out or cut short)"
        )

    # --- error classification -----------------------------------------------------------

    def validate_response(self, response: requests.Response) -> None:
        """Sort an answer into ok, retry later, or stop with one actionable line."""
        self.count("requests")
        status = response.status_code
        if status in self.empty_statuses:
            return
        if 200 <= status < 300:
            if status == 204:
                return
            # GitHub's JSON endpoints never answer 2xx with nothing (that is what 204 is for):
            # an empty body, a cut-short one or a proxy's HTML error page is worth a retry,
            # and must not be read as "no data".
            problem = "an empty body" if not response.content else None
            if problem is None:
                try:
                    decoded_json(response)
                except msgspec.DecodeError:
                    problem = "a body that is not valid JSON"
            if problem:
                msg = (
                    f"{self.endpoint_label} ({urlsplit(response.url).path}) answered "
                    f"{status} with {problem}"
                )
                raise RetriableAPIError(msg, response)
            return
        if status >= 500 or is_rate_limited(response):
            raise RetriableAPIError(self.describe_fault(RetriableAPIError("", response)), response)
        raise TapAPIError(self.fatal_message(response))

    def fatal_message(self, response: requests.Response) -> str:
        """The one line a user reads when GitHub refuses a request."""
        status = response.status_code
        scope = scope_from_url(response.url)
        where = scope.label if scope else urlsplit(response.url).path
        detail = github_message(response)
        said = f" (GitHub said: {detail})" if detail else ""
        if status == 401:
            return (
                f"Authentication failed (401) calling {self.endpoint_label} for {where} with "
                f"{self.authenticator.method}{said}: the credentials are invalid, expired or "
                "revoked; create a new token or check the GitHub App settings"
            )
        if status == 403:
            return (
                f"Permission denied (403) on {self.endpoint_label} for {where}{said}: "
                f"{self.required_permissions}"
            )
        if status == 404 and scope:
            return self.not_found_message(scope, detail)
        if status == 422 and scope:
            return self.unprocessable_message(scope, detail)
        return f"{self.endpoint_label} for {where} answered {status}{said}"

    def not_found_message(self, scope: Scope, detail: str) -> str:
        """404: the scope name is probably wrong, or the caller cannot see it."""
        return (
            f"Not found (404): {self.endpoint_label} for {scope.label}: check the name in "
            f"`{scope.kind.setting}` and that the credentials can see it"
        )

    def unprocessable_message(self, scope: Scope, detail: str) -> str:
        """422: GitHub understood the request but will not serve it."""
        return f"{self.endpoint_label} for {scope.label} answered 422: {detail or 'unprocessable'}"
