"""The HTTP side: routing, auth, rate-limit headers, signed download links, faults, request log.

A stdlib `ThreadingHTTPServer` speaking HTTP/1.1 with keep-alive; every response carries a
Content-Length (or is a 204) so connections are reused, and Nagle is off so small responses
are not delayed.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import hashlib
import hmac
import itertools
import json
import re
import secrets
import socket
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from copilot_devkit.simulator import costs, enterprise_teams
from copilot_devkit.simulator.auth import AuthError, Credentials
from copilot_devkit.simulator.data import LATEST_REPORTS, ONE_DAY_REPORTS, Dataset
from copilot_devkit.simulator.entities import Entity
from copilot_devkit.simulator.faults import Fault, FaultRegistry
from copilot_devkit.simulator.reports import (
    CONTENT_TYPES,
    EXTENSIONS,
    ReportFiles,
    ReportStore,
)
from copilot_devkit.simulator.responses import (
    DOCS_METRICS,
    DOCS_REPORTS,
    DOCS_SEATS,
    JSON,
    POLICY_DISABLED,
    SUPPORTED_API_VERSIONS,
    RequestLog,
    Response,
    blob_error,
    error,
    expired_link,
    fault_response,
    json_response,
    wrong_type,
)
from copilot_devkit.simulator.settings import SimulatorSettings


def _parse_day(text: str) -> dt.date | None:
    """A date from `YYYY-MM-DD` or an ISO timestamp (`YYYY-MM-DDTHH:MM:SSZ`)."""
    try:
        if len(text) == 10:
            return dt.date.fromisoformat(text)
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).date()
    except ValueError:
        return None


def _int_param(query: dict[str, str], name: str, default: int) -> int | None:
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        return None


class State:
    """Everything request handlers share; owned by the `Simulator` facade."""

    def __init__(self, settings: SimulatorSettings, faults: FaultRegistry) -> None:
        self.settings = settings
        self.dataset = Dataset(settings)
        self.reports = ReportStore(settings, self.dataset)
        self.faults = faults
        self.credentials = Credentials(settings)
        self.secret = secrets.token_bytes(32)
        self.stopping = threading.Event()
        self.log: list[RequestLog] = []
        self.log_lock = threading.Lock()
        self._request_ids = itertools.count(1)

    def request_id(self) -> str:
        n = next(self._request_ids)
        return f"C0DE:{n:04X}:{n * 7919 % 65536:04X}:{n * 104729 % 16**6:06X}"

    # -- signed links -----------------------------------------------------------------------

    def _sign(self, opaque: str, exp: int) -> str:
        return hmac.new(self.secret, f"{opaque}:{exp}".encode(), hashlib.sha256).hexdigest()[:32]

    def link(self, base: str, target: tuple[str, str, str, str, int]) -> str:
        """A signed, expiring download URL for one file of a report."""
        raw = json.dumps(target, separators=(",", ":")).encode()
        opaque = base64.urlsafe_b64encode(raw).decode().rstrip("=")
        opaque += "." + EXTENSIONS[self.settings.report_format]
        exp = int(time.time()) + self.settings.link_ttl_seconds
        return f"{base}/_downloads/{opaque}?exp={exp}&sig={self._sign(opaque, exp)}"

    def check_link(self, opaque: str, query: dict[str, str]) -> Response | tuple[Any, ...]:
        try:
            exp = int(query.get("exp", ""))
        except ValueError:
            exp = -1
        expected = self._sign(opaque, exp)
        if exp < 0 or not hmac.compare_digest(expected, query.get("sig", "")):
            return blob_error(
                "AuthenticationFailed",
                "Server failed to authenticate the request. Make sure the value of "
                "Authorization header is formed correctly including the signature.",
                "Signature did not match.",
            )
        if time.time() > exp:
            return expired_link()
        encoded = opaque.split(".", 1)[0]
        raw = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
        return tuple(json.loads(raw))


class SimulatorServer(ThreadingHTTPServer):
    """Tracks open connections so `stop()` can close keep-alive sockets promptly."""

    daemon_threads = True
    allow_reuse_address = True
    block_on_close = False
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], state: State) -> None:
        self.state = state
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(address, Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.connections_lock:
            self.connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self.connections_lock:
            self.connections.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up (the tap timing out, giving up, or being killed) is normal
        traffic, not a server error: do not print a traceback for it."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)

    def close_connections(self) -> None:
        with self.connections_lock:
            open_ = list(self.connections)
        for sock in open_:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


def make_server(state: State) -> SimulatorServer:
    return SimulatorServer((state.settings.host, state.settings.port), state)


Route = tuple[str, re.Pattern[str], Callable[..., Response]]


class Handler(BaseHTTPRequestHandler):
    """One connection; requests on it are handled in turn (keep-alive)."""

    protocol_version = "HTTP/1.1"
    server_version = "GitHub.com"
    sys_version = ""
    disable_nagle_algorithm = True
    timeout = 120  # idle keep-alive connections are closed after this
    server: SimulatorServer

    def version_string(self) -> str:
        return self.server_version

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the default stderr access log (the request log is in memory)."""

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_PATCH(self) -> None:
        self._handle("PATCH")

    # -- plumbing ---------------------------------------------------------------------------

    @property
    def state(self) -> State:
        return self.server.state

    def _base_url(self) -> str:
        host = self.headers.get("Host")
        if not host:
            address = self.server.server_address
            host = f"{address[0]!s}:{address[1]}"
        return f"http://{host}"

    def _handle(self, method: str) -> None:
        state = self.state
        split = urlsplit(self.path)
        path = split.path
        query = dict(parse_qsl(split.query, keep_blank_values=True))
        headers = {k.lower(): v for k, v in self.headers.items()}
        length = int(headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        if path.startswith("/_simulator/"):
            self._send(self._control(method, path, body), None)
            return
        if state.settings.latency_seconds:
            state.stopping.wait(state.settings.latency_seconds)
        fault = state.faults.claim(method, path)
        if fault is not None and fault.kind == "slow":
            state.stopping.wait(float(fault.params.get("seconds", 5)))
        if fault is not None and fault.kind == "drop":
            self._record(method, path, query, headers, 0, fault)
            self.close_connection = True
            self._shutdown_socket()
            return
        is_download = path.startswith("/_downloads/")
        token = None if is_download else state.credentials.identify(headers.get("authorization"))
        replaced = fault is not None and fault.kind not in ("slow", "truncate", "wrong-type")
        if fault is not None and fault.kind == "body":
            response = _given_body(fault, is_download)
        elif replaced and fault is not None:
            response = fault_response(fault, is_download, state.request_id())
        else:
            try:
                response = self._route(method, path, query, headers, body, token)
            except Exception as exc:  # a simulator bug must not hang the client
                response = error(500, f"simulator error: {exc!r}")
            if fault is not None and fault.kind == "wrong-type":
                response = wrong_type(response)
        if response.api:
            response.headers = {
                **state.credentials.charge(token, self.client_address[0]),
                **response.headers,
            }
            response.headers.setdefault("x-github-request-id", state.request_id())
            response.headers.setdefault("x-github-media-type", "github.v3; format=json")
            response.headers.setdefault(
                "x-github-api-version-selected",
                headers.get("x-github-api-version", SUPPORTED_API_VERSIONS[0]),
            )
        truncate = fault is not None and fault.kind == "truncate"
        # Logged before answering, so a client that got the answer always finds it logged.
        self._record(method, path, query, headers, response.status, fault, len(response.body))
        self._send(response, None if not truncate else max(1, len(response.body) // 2))

    def _record(
        self,
        method: str,
        path: str,
        query: dict[str, str],
        headers: dict[str, str],
        status: int,
        fault: Fault | None,
        body_bytes: int = 0,
    ) -> None:
        entry = RequestLog(
            method, path, query, headers, status, fault.kind if fault else None, body_bytes
        )
        with self.state.log_lock:
            self.state.log.append(entry)

    def _shutdown_socket(self) -> None:
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _send(self, response: Response, cut_at: int | None) -> None:
        """Write the response; with cut_at, promise the full length and stop early (truncate)."""
        try:
            self.send_response(response.status)
            if response.content_type and (response.body or response.status != 204):
                self.send_header("Content-Type", response.content_type)
            for name, value in response.headers.items():
                self.send_header(name, value)
            if response.status != 204:
                self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            if response.status == 204:
                return
            if cut_at is None:
                self.wfile.write(response.body)
            else:
                self.wfile.write(response.body[:cut_at])
                self.close_connection = True
                self._shutdown_socket()
        except (BrokenPipeError, ConnectionResetError, TimeoutError, OSError):
            self.close_connection = True

    # -- control endpoints ------------------------------------------------------------------

    def _control(self, method: str, path: str, body: bytes) -> Response:
        faults = self.state.faults
        if path == "/_simulator/faults":
            if method == "POST":
                try:
                    specs = json.loads(body or b"{}")
                    specs = specs if isinstance(specs, list) else [specs]
                    added = [faults.add(**spec) for spec in specs]
                except (ValueError, TypeError) as exc:
                    return error(422, str(exc))
                return json_response(201, [f.to_json() for f in added])
            if method == "DELETE":
                faults.clear()
                return Response(204)
            if method == "GET":
                return json_response(200, [f.to_json() for f in faults])
        if path == "/_simulator/requests":
            if method == "GET":
                with self.state.log_lock:
                    entries = list(self.state.log)
                return json_response(200, [e.__dict__ for e in entries])
            if method == "DELETE":
                with self.state.log_lock:
                    self.state.log.clear()
                return Response(204)
        if path == "/_simulator/health" and method == "GET":
            return json_response(200, {"ok": True})
        return error(404)

    # -- API --------------------------------------------------------------------------------

    def _route(
        self,
        method: str,
        path: str,
        query: dict[str, str],
        headers: dict[str, str],
        body: bytes,
        token: str | None,
    ) -> Response:
        if path.startswith("/_downloads/"):
            if method != "GET":
                return error(404)
            return self._download(path.removeprefix("/_downloads/"), query, headers)
        match = _POST_TOKEN.fullmatch(path)
        if match and method == "POST":
            return self._mint(int(match["id"]), headers)
        if token is None:
            if headers.get("authorization"):
                return error(401, "Bad credentials")
            return error(401, "Requires authentication")
        version = headers.get("x-github-api-version")
        if version and version not in SUPPORTED_API_VERSIONS:
            return error(400, f"Unsupported 'X-GitHub-Api-Version' header: {version}")
        for route_method, pattern, func in ROUTES:
            found = pattern.fullmatch(path)
            if found:
                if route_method != method:
                    return error(404)
                return func(self, query, **found.groupdict())
        return error(404)

    def _scope(self, kind: str, name: str, metrics: bool, doc: str) -> Entity | Response:
        s = self.state.settings
        entity = self.state.dataset.entity(kind, name)
        if entity is None:
            return error(404, doc=doc)
        if _in(entity.name, s.forbidden):
            return error(403, "Resource not accessible by personal access token", doc)
        if metrics and _in(entity.name, s.policy_disabled):
            return error(422, POLICY_DISABLED, doc)
        return entity

    def _mint(self, installation_id: int, headers: dict[str, str]) -> Response:
        try:
            minted = self.state.credentials.mint(installation_id, headers.get("authorization"))
        except AuthError as exc:
            return error(exc.status, exc.message, "https://docs.github.com/rest/apps/apps")
        return json_response(
            201,
            {
                "token": minted.token,
                "expires_at": minted.expires_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "permissions": {
                    "organization_copilot_seat_management": "read",
                    "members": "read",
                    "organization_administration": "read",
                },
                "repository_selection": "all",
            },
        )

    def legacy_metrics(
        self, query: dict[str, str], kind: str, name: str, team: str | None = None
    ) -> Response:
        s = self.state.settings
        if s.legacy_closed:  # github.com since 2026-04-02
            return error(404, doc=DOCS_METRICS)
        scope_kind = "organization" if kind == "orgs" else "enterprise"
        entity = self._scope(scope_kind, name, True, DOCS_METRICS)
        if isinstance(entity, Response):
            return entity
        if team is not None:
            if self.state.dataset.world.team(entity, team) is None:
                return error(404, doc=DOCS_METRICS)
            if _in(f"{entity.name}/{team}", s.forbidden):
                return error(403, "Resource not accessible by personal access token")
        per_page = _int_param(query, "per_page", 100)
        page = _int_param(query, "page", 1)
        if per_page is None or page is None or per_page < 1:
            return error(422, "Invalid request.\n\nInvalid value for page or per_page.")
        if per_page > 100:
            return error(
                422, "Invalid request.\n\nper_page must be less than or equal to 100.", DOCS_METRICS
            )
        since = until = None
        if query.get("since"):
            since = _parse_day(query["since"])
            if since is None:
                return error(422, f"Invalid request.\n\nInvalid since: {query['since']!r}.")
            if since < s.legacy_first_day:
                return error(
                    422,
                    "Invalid request.\n\nThe since parameter must be a date within the last "
                    "100 days.",
                    DOCS_METRICS,
                )
        if query.get("until"):
            until = _parse_day(query["until"])
            if until is None:
                return error(422, f"Invalid request.\n\nInvalid until: {query['until']!r}.")
        if since and until and until < since:
            return error(422, "Invalid request.\n\nuntil must not precede since.", DOCS_METRICS)
        scope = "team" if team is not None else scope_kind
        scope_name = f"{entity.name}/{team}" if team is not None else entity.name
        days = self.state.dataset.legacy_days(scope, scope_name)
        lo = since.isoformat() if since else ""
        hi = until.isoformat() if until else "9999"
        days = [d for d in days if lo <= d["date"] <= hi]
        if s.legacy_max_days_per_page is not None:  # a short page, and still no `Link` header
            per_page = min(per_page, s.legacy_max_days_per_page)
        start = (max(page, 1) - 1) * per_page
        return json_response(200, days[start : start + per_page])

    def report(
        self, query: dict[str, str], kind: str, name: str, report: str, latest: str | None
    ) -> Response:
        s = self.state.settings
        scope_kind = "organization" if kind == "orgs" else "enterprise"
        entity = self._scope(scope_kind, name, True, DOCS_REPORTS)
        if isinstance(entity, Response):
            return entity
        files: ReportFiles | None
        if latest:
            if report not in LATEST_REPORTS[scope_kind]:
                return error(404, doc=DOCS_REPORTS)
            files = self.state.reports.latest(report, entity)
        else:
            if report not in ONE_DAY_REPORTS[scope_kind]:
                return error(404, doc=DOCS_REPORTS)
            raw = query.get("day")
            if not raw:
                return error(422, 'Invalid request.\n\n"day" wasn\'t supplied.', DOCS_REPORTS)
            try:
                day = dt.date.fromisoformat(raw) if len(raw) == 10 else None
            except ValueError:
                day = None
            if day is None:
                return error(400, f"Invalid day {raw!r}: expected YYYY-MM-DD.", DOCS_REPORTS)
            # Days outside the kept history (older than about a year, enterprises before
            # 2025-10-10) and days not processed yet are "no report", like a missing day:
            # they answer per empty_report_style (204 by default), not 422.
            files = self.state.reports.one_day(report, entity, day)
        if files is None:
            if s.empty_report_style == "404":
                return error(404, doc=DOCS_REPORTS)
            if s.empty_report_style == "bare-string":
                return Response(200, b'""', JSON)
            return Response(204, content_type=None)
        base = self._base_url()
        key = files.envelope.get("report_day", "latest")
        links = [
            self.state.link(base, (report, scope_kind, entity.name, key, i))
            for i in range(len(files.files))
        ]
        return json_response(200, {"download_links": links, **files.envelope})

    def _download(self, opaque: str, query: dict[str, str], headers: dict[str, str]) -> Response:
        if "authorization" in headers:  # blob storage rejects foreign credentials
            return blob_error(
                "InvalidAuthenticationInfo",
                "Authentication information is not given in the correct format. Check the "
                "value of Authorization header.",
            )
        checked = self.state.check_link(opaque, query)
        if isinstance(checked, Response):
            return checked
        report, scope_kind, name, key, index = checked
        dataset = self.state.dataset
        entity = dataset.entity(scope_kind, name)
        files = None
        if entity is not None:
            if key == "latest":
                files = self.state.reports.latest(report, entity)
            else:
                files = self.state.reports.one_day(report, entity, dt.date.fromisoformat(key))
        if files is None or index >= len(files.files):
            return blob_error("BlobNotFound", "The specified blob does not exist.", status=404)
        fmt = self.state.settings.report_format
        return Response(
            200, files.files[index], CONTENT_TYPES[fmt], {"x-ms-blob-type": "BlockBlob"}, api=False
        )

    def seats(self, query: dict[str, str], kind: str, name: str) -> Response:
        scope_kind = "organization" if kind == "orgs" else "enterprise"
        entity = self._scope(scope_kind, name, False, DOCS_SEATS)
        if isinstance(entity, Response):
            return entity
        seats = self.state.dataset.seats(entity)
        return self._paged(
            query, seats, 50, lambda page: {"total_seats": len(seats), "seats": page}
        )

    def billing(self, query: dict[str, str], name: str) -> Response:
        entity = self._scope("organization", name, False, DOCS_SEATS)
        if isinstance(entity, Response):
            return entity
        return json_response(200, self.state.dataset.billing(entity))

    def teams(self, query: dict[str, str], name: str) -> Response:
        entity = self._scope("organization", name, False, "https://docs.github.com/rest/teams")
        if isinstance(entity, Response):
            return entity
        return self._paged(query, self.state.dataset.teams(entity), 30, lambda page: page)

    def _paged(
        self,
        query: dict[str, str],
        items: list[Any],
        default: int,
        shape: Callable[[list[Any]], Any],
    ) -> Response:
        per_page = _int_param(query, "per_page", default)
        page = _int_param(query, "page", 1)
        if per_page is None or page is None or per_page < 1:
            return error(422, "Invalid request.\n\nInvalid value for page or per_page.")
        per_page = min(per_page, 100)  # list endpoints cap per_page at 100, like GitHub
        page = max(page, 1)
        last = max(1, -(-len(items) // per_page))
        body = shape(items[(page - 1) * per_page : page * per_page])
        headers = {}
        links = self._links(page, last, per_page)
        if links:
            headers["link"] = links
        return json_response(200, body, headers)

    def _links(self, page: int, last: int, per_page: int) -> str:
        """GitHub's Link header: `<url>; rel="next", <url>; rel="last"` (+ prev/first)."""
        split = urlsplit(self.path)
        params = dict(parse_qsl(split.query, keep_blank_values=True))
        params["per_page"] = str(per_page)

        def url(n: int) -> str:
            return f"<{self._base_url()}{split.path}?{urlencode({**params, 'page': n})}>"

        rels = []
        if page > 1:
            rels.append(f'{url(page - 1)}; rel="prev"')
        if page < last:
            rels.append(f'{url(page + 1)}; rel="next"')
            rels.append(f'{url(last)}; rel="last"')
        if page > 1:
            rels.append(f'{url(1)}; rel="first"')
        return ", ".join(rels)


def _given_body(fault: Fault, is_download: bool) -> Response:
    """The answer a "body" fault scripts: `json` (encoded) or `raw` text, with `status` (200)."""
    params = fault.params
    if "raw" in params:
        body = str(params["raw"]).encode()
        content_type = params.get("content_type", "text/plain; charset=utf-8")
    else:
        body = json.dumps(params.get("json"), separators=(",", ":")).encode()
        content_type = params.get("content_type", JSON)
    return Response(
        int(params.get("status", 200)),
        body,
        content_type,
        dict(params.get("headers") or {}),
        api=not is_download,
    )


def _in(name: str, names: set[str]) -> bool:
    return name.lower() in {n.lower() for n in names}


_NAME = r"[^/]+"
_POST_TOKEN = re.compile(r"/app/installations/(?P<id>\d+)/access_tokens")
ROUTES: list[Route] = [
    (
        "GET",
        re.compile(rf"/(?P<kind>orgs|enterprises)/(?P<name>{_NAME})/copilot/metrics"),
        Handler.legacy_metrics,
    ),
    (
        "GET",
        re.compile(
            rf"/(?P<kind>orgs|enterprises)/(?P<name>{_NAME})/team/(?P<team>{_NAME})/copilot/metrics"
        ),
        Handler.legacy_metrics,
    ),
    (
        "GET",
        re.compile(
            rf"/(?P<kind>orgs|enterprises)/(?P<name>{_NAME})/copilot/metrics/reports/"
            rf"(?P<report>{_NAME})(?P<latest>/latest)?"
        ),
        Handler.report,
    ),
    (
        "GET",
        re.compile(rf"/(?P<kind>orgs|enterprises)/(?P<name>{_NAME})/copilot/billing/seats"),
        Handler.seats,
    ),
    ("GET", re.compile(rf"/orgs/(?P<name>{_NAME})/copilot/billing"), Handler.billing),
    ("GET", re.compile(rf"/orgs/(?P<name>{_NAME})/teams"), Handler.teams),
    ("GET", re.compile(rf"/enterprises/(?P<name>{_NAME})/teams"), enterprise_teams.list_teams),
    (
        "GET",
        re.compile(rf"/enterprises/(?P<name>{_NAME})/teams/(?P<team>{_NAME})/memberships"),
        enterprise_teams.list_members,
    ),
    (
        "GET",
        re.compile(
            rf"/(?P<kind>organizations|enterprises)/(?P<name>{_NAME})/settings/billing/"
            r"(?P<usage>ai_credit|premium_request)/usage"
        ),
        costs.billing_usage,
    ),
]
