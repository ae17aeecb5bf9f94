"""Credentials for GitHub: a token as given, or a GitHub App installation token minted on demand.

App auth signs a short JWT (RS256) with the App's private key, exchanges it at
`POST /app/installations/{id}/access_tokens` for an installation token, and mints a new one a
little before `expires_at`, so a long backfill never runs on an expired token.
Nothing here ever logs or returns a secret in a message.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from typing import Any

import jwt
import requests
from singer_sdk.authenticators import APIAuthenticatorBase

from tap_copilot_metrics.errors import TapAPIError
from tap_copilot_metrics.retry import RetryPolicy
from tap_copilot_metrics.settings import AppCredentials, Settings

#: GitHub rejects App JWTs valid for more than 10 minutes; backdate `iat` for clock drift.
JWT_LIFETIME_SECONDS = 540
JWT_CLOCK_DRIFT_SECONDS = 60


class GitHubAuth(APIAuthenticatorBase):
    """Adds `Authorization: Bearer …` to API requests; shared by every stream of a run.

    Built without a stream: the SDK deprecates the base's `stream` argument (removed in 0.58)
    and only copied the tap name and config from it, neither of which is used here; the run's
    `Settings` come in instead.
    """

    def __init__(self, settings: Settings, session: requests.Session) -> None:
        super().__init__()
        self._settings = settings
        self._session = session
        self._lock = threading.Lock()
        self._token: str | None = settings.auth_token
        self._expires_at: float | None = None
        self._minted_at: float | None = None

    @property
    def method(self) -> str:
        """Which auth method is in use, for messages."""
        return self._settings.auth_method

    def authenticate_request(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        """Attach the current token, minting or refreshing an App token when needed.

        Not through `auth_headers` and the base method: that shared dict would race between
        threads fetching ahead, and the base re-encodes the query string to add `auth_params`.
        """
        request.headers["Authorization"] = f"Bearer {self.token()}"
        return request

    def token(self) -> str:
        """The token to send now."""
        with self._lock:
            if self._settings.app and self._needs_refresh():
                self._mint(self._settings.app)
            if self._token is None:  # pragma: no cover - settings guarantee one method
                msg = "no credentials configured"
                raise TapAPIError(msg)
            return self._token

    def _needs_refresh(self) -> bool:
        if self._token is None or self._expires_at is None or self._minted_at is None:
            return True
        lifetime = self._expires_at - self._minted_at
        # Refresh with a quarter of the lifetime left (at most five minutes before expiry).
        margin = min(300.0, lifetime / 4)
        return time.time() >= self._expires_at - margin

    def _mint(self, app: AppCredentials) -> None:
        now = int(time.time())
        assertion = jwt.encode(
            {
                "iat": now - JWT_CLOCK_DRIFT_SECONDS,
                "exp": now + JWT_LIFETIME_SECONDS,
                "iss": app.app_id,
            },
            app.private_key_pem,
            algorithm="RS256",
        )
        url = f"{self._settings.api_url}/app/installations/{app.installation_id}/access_tokens"
        policy = RetryPolicy.from_settings(self._settings)
        post = policy.retrying(
            self._post_for_token,
            on_backoff=lambda _details: None,
            describe=lambda exc: f"minting a GitHub App installation token failed ({exc})",
        )
        body = post(url, assertion)
        self._token = str(body["token"])
        self._minted_at = time.time()
        self._expires_at = _parse_expiry(body.get("expires_at"), default=self._minted_at + 3600)

    def _post_for_token(self, url: str, assertion: str) -> dict[str, Any]:
        from singer_sdk.exceptions import RetriableAPIError

        response = self._session.post(
            url,
            headers={
                "Accept": "application/vnd.github+json",
                "Authorization": f"Bearer {assertion}",
                "X-GitHub-Api-Version": self._settings.api_version,
                "User-Agent": self._settings.user_agent,
            },
            timeout=self._settings.request_timeout_seconds,
        )
        if response.status_code >= 500 or response.status_code == 429:
            raise RetriableAPIError(f"HTTP {response.status_code}", response)
        if response.status_code != 201:
            msg = (
                "GitHub App auth failed: minting an installation token answered "
                f"{response.status_code}{_github_said(response)}; check `app_id`, "
                "`app_installation_id` and that `app_private_key` is the App's current key"
            )
            raise TapAPIError(msg)
        try:
            body = response.json()
            if not isinstance(body, dict) or "token" not in body:
                raise ValueError
        except ValueError:
            raise RetriableAPIError("installation token answer is not JSON", response) from None
        return body


def _github_said(response: requests.Response) -> str:
    try:
        message = response.json().get("message")
    except (ValueError, AttributeError):
        return ""
    return f" ({str(message)[:200]})" if message else ""


def _parse_expiry(value: object, *, default: float) -> float:
    if not isinstance(value, str):
        return default
    try:
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return default
