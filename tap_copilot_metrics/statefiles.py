"""Checks of a `--state` file before the run uses it: damaged stops the run, stale is kept.

A state file is the tap's own output, fed back, but it may be hand-edited, truncated or written
by an older version; each problem is one line naming the entry, before any request is made.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from tap_copilot_metrics.days import parse_bookmark
from tap_copilot_metrics.errors import ConfigError
from tap_copilot_metrics.scopes import ScopeKind
from tap_copilot_metrics.settings import ALL_TEAMS, Settings

_SCOPE_KINDS = frozenset(kind.value for kind in ScopeKind)


def load_state_text(text: str) -> dict[str, Any]:
    """The content of a `--state` file, or one line naming what is wrong with it."""
    if not text.strip():
        raise ConfigError(
            "state",
            "the state file is empty; pass the last STATE the tap wrote, or leave out --state "
            "to start from start_date",
        )
    try:
        state = json.loads(text)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno}, column {exc.colno}"
        raise ConfigError("state", f"the state file is not valid JSON ({where})") from None
    if not isinstance(state, dict):
        raise ConfigError("state", 'the state file must hold a JSON object: {"bookmarks": {...}}')
    return state


def review_state(state: object, *, settings: Settings, streams: Iterable[str]) -> list[str]:
    """Check a state before the run uses it: a damaged one stops the run, stale parts are kept.

    Raises `ConfigError` (one line naming the entry) for a state of the wrong shape or a
    bookmark that is not a usable date. Returns warnings, for the log, about what is harmless
    and kept unchanged: streams this tap does not have, partitions of scopes no longer
    configured (used again if the scope comes back), and bookmarks without a scope partition
    written by older versions (each scope then starts from its own bookmark or start_date, so
    nothing is skipped).
    """
    if not isinstance(state, Mapping):
        raise ConfigError("state", 'the state must be a JSON object: {"bookmarks": {...}}')
    bookmarks = state.get("bookmarks", {})
    if not isinstance(bookmarks, Mapping):
        raise ConfigError("state", "`bookmarks` in the state must be an object keyed by stream")
    known = set(streams)
    warnings: list[str] = []
    for stream, stream_state in bookmarks.items():
        if not isinstance(stream_state, Mapping):
            raise ConfigError("state", f"the bookmark of stream {stream} must be an object")
        if stream not in known:
            warnings.append(
                f"state: stream {stream} is not a stream of this tap; its bookmark is kept "
                "unchanged and not used"
            )
            continue
        if stream_state.get("replication_key_value") not in (None, ""):
            warnings.append(
                f"state: stream {stream} has a bookmark without a scope (written by an older "
                "version); it is not used: each organization and enterprise resumes from its "
                "own bookmark, or from start_date"
            )
        partitions = stream_state.get("partitions", [])
        if not isinstance(partitions, list):
            raise ConfigError("state", f"`partitions` of stream {stream} must be a list")
        for partition in partitions:
            context = partition.get("context") if isinstance(partition, Mapping) else None
            if not isinstance(context, Mapping):
                raise ConfigError(
                    "state", f"a partition of stream {stream} has no `context` object"
                )
            label = _configured_label(context, settings)
            if label is None:
                warnings.append(
                    f"state: stream {stream} has a bookmark for {_context_label(context)}, "
                    "which is not configured; it is kept unchanged and used again if the "
                    "scope is configured again"
                )
                continue
            parse_bookmark(
                partition.get("replication_key_value"),
                stream=stream,
                scope_label=label,
                today=settings.today,
            )
    return warnings


def _context_label(context: Mapping[str, Any]) -> str:
    scope, name = context.get("scope"), context.get("scope_name")
    if isinstance(scope, str) and isinstance(name, str):
        return f"{scope} {name!r}"
    return json.dumps(context, default=str)[:100]


def _configured_label(context: Mapping[str, Any], settings: Settings) -> str | None:
    """`organization 'octo-org'` when the partition's scope is configured, else None."""
    scope, name = context.get("scope"), context.get("scope_name")
    if set(context) != {"scope", "scope_name"} or scope not in _SCOPE_KINDS:
        return None
    kind = ScopeKind(scope)
    configured = getattr(settings, kind.setting)
    org = str(name).partition("/")[0]
    if name in configured or (kind is ScopeKind.TEAM and f"{org}/{ALL_TEAMS}" in configured):
        return f"{scope} {name!r}"
    return None
