"""Response bodies the simulated GitHub sends: JSON errors, blob-storage XML, fault answers."""

from __future__ import annotations

import contextlib
import email.utils
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from copilot_devkit.simulator.faults import Fault

JSON = "application/json; charset=utf-8"
DOCS = "https://docs.github.com/rest"
DOCS_METRICS = "https://docs.github.com/rest/copilot/copilot-metrics"
DOCS_REPORTS = "https://docs.github.com/rest/copilot/copilot-usage-metrics"
DOCS_SEATS = "https://docs.github.com/rest/copilot/copilot-user-management"
DOCS_RATE = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"
SUPPORTED_API_VERSIONS = ("2022-11-28", "2026-03-10")
POLICY_DISABLED = (
    "Copilot Usage Metrics API setting is disabled at the organization or enterprise level."
)
SECONDARY_MESSAGE = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. "
    "If you reach out to GitHub Support for help, please include the request ID {rid}."
)
PRIMARY_MESSAGE = (
    "API rate limit exceeded for user ID 1. If you reach out to GitHub Support for help, "
    "please include the request ID {rid}."
)
UNICORN = (
    b'<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>Unicorn! &middot; GitHub'
    b"</title></head><body><h1>No server is currently available to service your request."
    b"</h1><p>Sorry about that. Please try refreshing and contact us if the problem persists."
    b"</p></body></html>\n"
)
ERROR_MESSAGES = {
    400: "Bad Request",
    401: "Bad credentials",
    403: "Resource not accessible by personal access token",
    404: "Not Found",
    422: "Validation Failed",
    429: "Too many requests",
    500: "Server Error",
    502: "Server Error",
    503: "Service Unavailable",
}


@dataclass
class Response:
    status: int
    body: bytes = b""
    content_type: str | None = JSON
    headers: dict[str, str] = field(default_factory=dict)
    api: bool = True  # API responses carry rate-limit headers; blob downloads do not


@dataclass(frozen=True)
class RequestLog:
    """One request as the simulator saw it (header names lower-case)."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    status: int  # 0 when the connection was dropped without a response
    fault: str | None = None
    body_bytes: int = 0  # size of the body answered (before any truncation)


def json_response(status: int, obj: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(
        status, json.dumps(obj, separators=(",", ":")).encode(), JSON, dict(headers or {})
    )


def error(status: int, message: str | None = None, doc: str = DOCS) -> Response:
    """GitHub's error body: {"message", "documentation_url", "status"}."""
    return json_response(
        status,
        {
            "message": message or ERROR_MESSAGES.get(status, "Error"),
            "documentation_url": doc,
            "status": str(status),
        },
    )


def blob_error(code: str, message: str, detail: str | None = None, status: int = 403) -> Response:
    """An Azure-blob-style XML error, as report download hosts answer."""
    now = email.utils.formatdate(usegmt=True)
    rid = secrets.token_hex(16)
    xml = (
        f'<?xml version="1.0" encoding="utf-8"?><Error><Code>{code}</Code>'
        f"<Message>{message}\nRequestId:{rid}\nTime:{now}</Message>"
    )
    if detail:
        xml += f"<AuthenticationErrorDetail>{detail}</AuthenticationErrorDetail>"
    xml += "</Error>"
    return Response(
        status,
        xml.encode(),
        "application/xml",
        {"x-ms-error-code": code, "x-ms-request-id": rid},
        api=False,
    )


def expired_link() -> Response:
    return blob_error(
        "AuthenticationFailed",
        "Server failed to authenticate the request. Make sure the value of Authorization "
        "header is formed correctly including the signature.",
        "Signed expiry time has passed.",
    )


def fault_response(fault: Fault, is_download: bool, rid: str) -> Response:
    """The answer a fault gives instead of the real response."""
    kind, params = fault.kind, fault.params
    message = params.get("message")
    retry_after = params.get("retry_after")
    extra = {"retry-after": str(retry_after)} if retry_after is not None else {}
    if kind == "expire":
        return expired_link()
    if kind == "html":
        return Response(200, UNICORN, "text/html; charset=utf-8", api=not is_download)
    if kind == "empty":
        return Response(200, b"", JSON, api=not is_download)
    if kind == "429":
        response = error(429, message)
        response.headers["retry-after"] = str(1 if retry_after is None else retry_after)
    elif kind in ("secondary-403", "secondary-429"):
        status = 403 if kind == "secondary-403" else 429
        response = error(
            status,
            message or SECONDARY_MESSAGE.format(rid=rid),
            DOCS_RATE + "#about-secondary-rate-limits",
        )
        response.headers.update(extra)
    elif kind == "primary":
        status = int(params.get("status", 403))
        reset = int(time.time()) + int(params.get("reset_in", 1))
        response = error(
            status,
            message or PRIMARY_MESSAGE.format(rid=rid),
            DOCS_RATE + "#about-the-primary-rate-limit",
        )
        response.headers.update({"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(reset)})
    else:  # "401" "403" "404" "422" "500" "502" "503"
        response = error(int(kind), message)
        response.headers.update(extra)
    response.headers["x-github-request-id"] = rid
    response.api = not is_download or kind == "primary"
    return response


def wrong_type(response: Response) -> Response:
    """Turn a JSON body into JSON of the wrong type (object <-> array), status 200.

    A report file becomes a JSON array of strings: lines that are not objects.
    """
    value: Any = None
    if response.api and response.body:
        with contextlib.suppress(ValueError):
            value = json.loads(response.body)
    if isinstance(value, list):
        wrong: Any = {"total_count": len(value), "items": value}
    elif isinstance(value, dict):
        wrong = [value]
    else:
        wrong = ["not", "an", "object"]
    out = json_response(200, wrong)
    out.api = response.api
    return out
