"""Report files as served: encoded once per (report, scope, day), cached as bytes.

Serving 5,000 users x 30 days must run at tens of MB/s, so a file is generated, encoded
(NDJSON with the occasional blank line, a JSON array, or gzip) and kept in a byte-bounded LRU;
the HTTP handler only writes cached bytes. Decoding lives here too so the truth API returns
exactly what a download returns.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
from dataclasses import dataclass
from typing import Any

from copilot_devkit.simulator.data import SPLIT_REPORTS, Dataset, dumps, report_kind
from copilot_devkit.simulator.entities import Entity
from copilot_devkit.simulator.settings import SimulatorSettings

BLANK_LINE_EVERY = 25
CONTENT_TYPES = {
    "ndjson": "application/x-ndjson",
    "ndjson-gzip": "application/gzip",
    "json-array": "application/json",
}
EXTENSIONS = {"ndjson": "ndjson", "ndjson-gzip": "ndjson.gz", "json-array": "json"}


@dataclass(frozen=True)
class ReportFiles:
    """The files of one report: bytes per file plus the envelope's day fields."""

    files: tuple[bytes, ...]
    envelope: dict[str, str]  # report_day, or report_start_day + report_end_day

    @property
    def size(self) -> int:
        return sum(len(f) for f in self.files)


def _size(files: ReportFiles) -> int:
    return files.size


class ReportStore:
    """Builds, encodes and caches report files; decodes them for the truth API."""

    def __init__(self, settings: SimulatorSettings, dataset: Dataset) -> None:
        self.settings = settings
        self.dataset = dataset
        self.cache = dataset.cache

    # -- encoding ---------------------------------------------------------------------------

    def _encode(self, lines: list[bytes] | tuple[bytes, ...]) -> bytes:
        fmt = self.settings.report_format
        if fmt == "json-array":
            return b"[" + b",\n".join(lines) + b"]\n"
        parts: list[bytes] = []
        blank = self.settings.blank_lines
        for i, line in enumerate(lines):
            parts.append(line)
            parts.append(b"\n")
            if blank and i % BLANK_LINE_EVERY == BLANK_LINE_EVERY - 1:
                parts.append(b"\n")
        if blank and lines:
            parts.append(b"\n")
        body = b"".join(parts)
        if fmt == "ndjson-gzip":
            return gzip.compress(body, compresslevel=1, mtime=0)
        return body

    def _split(self, kind: str, groups: list[list[bytes]]) -> tuple[bytes, ...]:
        """Spread line groups (kept whole) over up to files_per_report contiguous files."""
        n = 1 if kind not in SPLIT_REPORTS else min(self.settings.files_per_report, len(groups))
        n = max(n, 1)
        files = []
        for i in range(n):
            chunk = groups[len(groups) * i // n : len(groups) * (i + 1) // n]
            files.append(self._encode([line for group in chunk for line in group]))
        return tuple(files)

    # -- reports ----------------------------------------------------------------------------

    def one_day(self, report: str, entity: Entity, day: dt.date) -> ReportFiles | None:
        """Files of a 1-day report, None when there is no report for that day."""
        if not self.dataset.has_report(entity, day):
            return None
        kind = report_kind(report)

        def build() -> ReportFiles:
            lines = self.dataset.one_day_lines(report, entity, day)
            return ReportFiles(
                self._split(kind, [[line] for line in lines]), {"report_day": day.isoformat()}
            )

        if kind == "users" and self.settings.report_format != "ndjson-gzip":
            # The user lines are cached already and joining them is cheap; caching the
            # joined copy too would double the memory of the largest reports.
            return build()
        revision = self.settings.revision(day)
        return self.cache.get(("1-day", kind, entity.key, day, revision), build, _size)

    def latest(self, report: str, entity: Entity) -> ReportFiles | None:
        """Files of the latest 28-day report (aggregate wrapper, or user x day lines)."""
        window = self.dataset.window_28_day(entity)
        if window is None:
            return None
        start, end, days = window
        kind = report_kind(report)
        envelope = {"report_start_day": start.isoformat(), "report_end_day": end.isoformat()}

        def build() -> ReportFiles:
            if kind == "aggregate":
                wrapper = self.dataset.wrapper_28_day(entity)
                return ReportFiles((self._encode([dumps(wrapper)]),), envelope)
            # users-28-day: each line is the 1-day line plus the report window, split by date.
            suffix = (
                f',"report_start_day":"{start.isoformat()}","report_end_day":"{end.isoformat()}"}}'
            ).encode()
            groups = []
            for day in days:
                lines = self.dataset.user_lines(entity, day)
                groups.append([line[:-1] + suffix for line in lines])
            return ReportFiles(self._split(kind, groups), envelope)

        revisions = tuple(self.settings.revision(day) for day in days)
        key = ("28-day", kind, entity.key, end, tuple(days), revisions)
        return self.cache.get(key, build, _size)

    # -- decoding (truth API) -----------------------------------------------------------------

    def decode(self, body: bytes) -> list[dict[str, Any]]:
        """The JSON lines of one served file, exactly as a client parses them."""
        if self.settings.report_format == "ndjson-gzip":
            body = gzip.decompress(body)
        if self.settings.report_format == "json-array":
            return list(json.loads(body))
        return [json.loads(line) for line in body.splitlines() if line.strip()]
