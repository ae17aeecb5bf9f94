"""Run the real tap (CLI in a subprocess, or in-process) and read back its Singer messages."""

from __future__ import annotations

import contextlib
import copy
import io
import json
import os
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tap_copilot_metrics.tap import TapCopilotMetrics

ALL_STREAMS = (
    "copilot_usage_daily",
    "copilot_user_usage_daily",
    "copilot_user_teams_daily",
    "copilot_repository_usage_daily",
    "copilot_seats",
    "copilot_billing",
    "copilot_ai_credit_usage",
    "copilot_premium_request_usage",
    "copilot_metrics",
)


def _primary_keys() -> dict[str, tuple[str, ...]]:
    tap = TapCopilotMetrics(config={}, validate_config=False, setup_mapper=False)
    return {name: tuple(stream.primary_keys) for name, stream in tap.streams.items()}


#: Primary key of every stream, as the stream classes declare it (test_schemas.py holds the
#: classes to the keys the README documents).
KEYS: dict[str, tuple[str, ...]] = _primary_keys()


@dataclass
class TapRun:
    """What one run of the tap printed."""

    exit_code: int
    stdout: str
    stderr: str
    messages: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def parse(cls, exit_code: int, stdout: str, stderr: str) -> TapRun:
        # Split on "\n" only, as targets do: splitlines() would also split inside a record that
        # holds U+2028 or U+0085, which JSON leaves unescaped.
        messages = [json.loads(line) for line in stdout.split("\n") if line.strip()]
        return cls(exit_code, stdout, stderr, messages)

    def records(self, stream: str) -> list[dict[str, Any]]:
        """RECORD bodies of one stream, in output order."""
        return [
            m["record"] for m in self.messages if m["type"] == "RECORD" and m["stream"] == stream
        ]

    def streams_with_records(self) -> set[str]:
        return {m["stream"] for m in self.messages if m["type"] == "RECORD"}

    @property
    def states(self) -> list[dict[str, Any]]:
        """Every STATE value, in output order."""
        return [m["value"] for m in self.messages if m["type"] == "STATE"]

    @property
    def final_state(self) -> dict[str, Any]:
        return self.states[-1] if self.states else {}

    def keys(self, stream: str, key_properties: list[str]) -> list[tuple[Any, ...]]:
        return [tuple(r[k] for k in key_properties) for r in self.records(stream)]

    def duplicate_keys(self, stream: str, key_properties: list[str]) -> list[tuple[Any, ...]]:
        counts = Counter(self.keys(stream, key_properties))
        return [key for key, n in counts.items() if n > 1]


def run_warnings(stderr: str) -> list[str]:
    """WARNING lines of a run, less the SDK's notice that the running Python nears its end of
    life: that one follows the real calendar and the machine's Python, not the run (singer-sdk
    warns from six months before a version's end of life)."""
    return [
        line
        for line in stderr.splitlines()
        if "WARNING" in line
        and "reached its end of life" not in line
        and "will reach its end of life" not in line
    ]


def bookmark(state: dict[str, Any], stream: str, scope: str, scope_name: str) -> str | None:
    """The replication key value of one scope partition in a state dict."""
    partitions = state.get("bookmarks", {}).get(stream, {}).get("partitions", [])
    for partition in partitions:
        context = partition.get("context", {})
        if context == {"scope": scope, "scope_name": scope_name}:
            return partition.get("replication_key_value")
    return None


def catalog_selecting(config: dict[str, Any], streams: list[str] | tuple[str, ...]) -> dict:
    """The tap's discovered catalog with exactly `streams` selected."""
    tap = TapCopilotMetrics(config=config, validate_config=False, setup_mapper=False)
    catalog = tap.catalog_dict
    for entry in catalog["streams"]:
        for metadata in entry["metadata"]:
            if metadata["breadcrumb"] == []:
                metadata["metadata"]["selected"] = entry["tap_stream_id"] in streams
    return catalog


def run_tap(
    config: dict[str, Any],
    *,
    tmp_path: Path,
    streams: list[str] | tuple[str, ...] | None = None,
    state: dict[str, Any] | None = None,
    extra_args: tuple[str, ...] = (),
    timeout: float = 120,
    env: dict[str, str] | None = None,
) -> TapRun:
    """Run `tap-copilot-metrics` as a user would: a subprocess with files on disk."""
    config_path = tmp_path / "config.json"
    config_path.write_text(json.dumps(config))
    args = [sys.executable, "-m", "tap_copilot_metrics", "--config", str(config_path)]
    if streams is not None:
        catalog_path = tmp_path / "catalog.json"
        catalog_path.write_text(json.dumps(catalog_selecting(config, streams)))
        args += ["--catalog", str(catalog_path)]
    if state is not None:
        state_path = tmp_path / "state.json"
        state_path.write_text(json.dumps(state))
        args += ["--state", str(state_path)]
    args += list(extra_args)
    completed = subprocess.run(
        args,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env={**os.environ, **(env or {})},
    )
    return TapRun.parse(completed.returncode, completed.stdout, completed.stderr)


def sync_in_process(
    config: dict[str, Any],
    *,
    streams: list[str] | tuple[str, ...] | None = None,
    state: dict[str, Any] | None = None,
) -> TapRun:
    """Run the tap's sync in this process (faster; same code path below the CLI)."""
    catalog = catalog_selecting(config, streams) if streams is not None else None
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        # The SDK updates the state dict it is given in place: hand it a copy.
        tap = TapCopilotMetrics(config=config, state=copy.deepcopy(state), catalog=catalog)
        tap.sync_all()
    return TapRun.parse(0, out.getvalue(), err.getvalue())
