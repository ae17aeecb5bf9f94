"""Credentials the simulated GitHub accepts, GitHub App token minting, rate-limit accounting."""

from __future__ import annotations

import datetime as dt
import secrets
import string
import threading
import time
from dataclasses import dataclass
from typing import Any

import jwt

from copilot_devkit.simulator.settings import SimulatorSettings

ANONYMOUS_LIMIT = 60
INSTALLATION_LIMIT = 15_000
MAX_JWT_LIFETIME = 600
CLOCK_LEEWAY = 60
_TOKEN_CHARS = string.ascii_letters + string.digits


@dataclass(frozen=True)
class MintedToken:
    """An installation token handed out by `POST /app/installations/{id}/access_tokens`."""

    token: str
    installation_id: int
    expires_at: dt.datetime

    @property
    def expired(self) -> bool:
        return dt.datetime.now(dt.UTC) >= self.expires_at


class AuthError(Exception):
    """A request the simulated GitHub rejects: HTTP status and GitHub's message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def bearer(authorization: str | None) -> str | None:
    """The credential in `Authorization: Bearer X` or `Authorization: token X`."""
    if not authorization:
        return None
    scheme, _, value = authorization.strip().partition(" ")
    if scheme.lower() not in ("bearer", "token") or not value.strip():
        return None
    return value.strip()


class Credentials:
    """Which tokens are valid, token minting for GitHub Apps, and per-token rate limits."""

    def __init__(self, settings: SimulatorSettings) -> None:
        self.settings = settings
        self.minted: list[MintedToken] = []
        self._live: dict[str, MintedToken] = {}
        self._buckets: dict[str, list[int]] = {}  # identity -> [limit, used, reset epoch]
        self._lock = threading.Lock()

    def identify(self, authorization: str | None) -> str | None:
        """The valid token carried by the header, or None (missing, unknown or expired)."""
        token = bearer(authorization)
        if token is None:
            return None
        if secrets.compare_digest(token, self.settings.token):
            return token
        with self._lock:
            minted = self._live.get(token)
        if minted is not None and not minted.expired:
            return token
        return None

    def mint(self, installation_id: int, authorization: str | None) -> MintedToken:
        """Verify the App JWT and hand out an installation token, like GitHub does."""
        claims = self._verify_jwt(bearer(authorization))
        del claims
        wanted = self.settings.app_installation_id
        if wanted is not None and installation_id != wanted:
            raise AuthError(404, "Not Found")
        token = "ghs_" + "".join(secrets.choice(_TOKEN_CHARS) for _ in range(36))
        ttl = self.settings.installation_token_ttl_seconds
        expires = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(seconds=ttl)
        minted = MintedToken(token, installation_id, expires)
        with self._lock:
            self.minted.append(minted)
            self._live[token] = minted
        return minted

    def _verify_jwt(self, token: str | None) -> dict[str, Any]:
        s = self.settings
        if token is None or s.app_id is None or not s.app_public_key_pem:
            raise AuthError(401, "A JSON web token could not be decoded")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                s.app_public_key_pem,
                algorithms=["RS256"],
                options={"require": ["iat", "exp", "iss"], "verify_iss": False},
                leeway=CLOCK_LEEWAY,
            )
        except jwt.ExpiredSignatureError as exc:
            raise AuthError(
                401,
                "'Expiration time' claim ('exp') must be a numeric value representing the "
                "future time at which the assertion expires",
            ) from exc
        except jwt.ImmatureSignatureError as exc:
            raise AuthError(
                401,
                "'Issued at' claim ('iat') must be an Integer representing the time that the "
                "assertion was issued",
            ) from exc
        except jwt.PyJWTError as exc:
            raise AuthError(401, "A JSON web token could not be decoded") from exc
        if str(claims["iss"]) != str(s.app_id):
            raise AuthError(401, "A JSON web token could not be decoded")
        now = time.time()
        if claims["exp"] - claims["iat"] > MAX_JWT_LIFETIME or (
            claims["exp"] > now + MAX_JWT_LIFETIME + CLOCK_LEEWAY
        ):
            raise AuthError(401, "'Expiration time' claim ('exp') is too far in the future")
        return claims

    def charge(self, token: str | None, client: str) -> dict[str, str]:
        """Count one request against the caller's limit; the x-ratelimit-* headers to send."""
        if token is None:
            identity, limit = f"ip:{client}", ANONYMOUS_LIMIT
        elif token.startswith("ghs_"):
            identity, limit = token, INSTALLATION_LIMIT
        else:
            identity, limit = token, self.settings.rate_limit
        now = int(time.time())
        with self._lock:
            bucket = self._buckets.get(identity)
            if bucket is None or now >= bucket[2] or bucket[1] >= bucket[0]:
                # A fresh window; an exhausted one also restarts (limits are not enforced,
                # the "primary" fault simulates exhaustion).
                bucket = self._buckets[identity] = [limit, 0, now + 3600]
            bucket[1] += 1
            used, reset = bucket[1], bucket[2]
        return {
            "x-ratelimit-limit": str(limit),
            "x-ratelimit-remaining": str(max(limit - used, 0)),
            "x-ratelimit-used": str(used),
            "x-ratelimit-reset": str(reset),
            "x-ratelimit-resource": "core",
        }
