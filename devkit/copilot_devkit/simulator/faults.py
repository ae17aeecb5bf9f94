"""Scripted failures: "the next N requests to paths matching R fail like THIS".

Tests arm a fault, run the tap, and check it recovered (or failed with a clear message). A fault
matches with `re.search` on the URL path (query string excluded), downloads included, and is
used up after `times` hits; `times=None` keeps it armed until cleared.
"""

from __future__ import annotations

import itertools
import re
import threading
from dataclasses import dataclass, field
from typing import Any

KINDS = frozenset(
    {
        "500",
        "502",
        "503",
        "429",
        "secondary-403",
        "secondary-429",
        "primary",
        "drop",
        "truncate",
        "slow",
        "expire",
        "401",
        "403",
        "404",
        "422",
        "html",
        "empty",
        "wrong-type",
        "body",
    }
)


@dataclass
class Fault:
    """One armed fault. `hits` counts the requests it has answered so far."""

    id: int
    path: str
    kind: str
    times: int | None = 1
    method: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    hits: int = 0

    def __post_init__(self) -> None:
        self._pattern = re.compile(self.path)

    @property
    def exhausted(self) -> bool:
        return self.times is not None and self.hits >= self.times

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method.upper() != method.upper():
            return False
        return self._pattern.search(path) is not None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "path": self.path,
            "kind": self.kind,
            "times": self.times,
            "method": self.method,
            "params": self.params,
            "hits": self.hits,
        }


class FaultRegistry:
    """Thread-safe list of armed faults; the first live match answers a request."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self._ids = itertools.count(1)

    def add(
        self,
        path: str = ".*",
        kind: str = "500",
        times: int | None = 1,
        method: str | None = None,
        **params: Any,
    ) -> Fault:
        """Arm a fault. Params by kind: retry_after (429/503/secondary-*), reset_in (primary),
        seconds (slow), status (primary: 403 or 429; body), message (error kinds); body: `json`
        (any JSON value) or `raw` (text sent as is), `content_type`, `headers` (a given answer)."""
        kind = str(kind)
        if kind not in KINDS:
            msg = f"unknown fault kind {kind!r}; expected one of {sorted(KINDS)}"
            raise ValueError(msg)
        if times is not None and times < 1:
            msg = "times must be >= 1 (or None for unlimited)"
            raise ValueError(msg)
        fault = Fault(next(self._ids), path, kind, times, method, dict(params))
        with self._lock:
            self._faults.append(fault)
        return fault

    def claim(self, method: str, path: str) -> Fault | None:
        """The fault that answers this request (its hit is counted), or None."""
        with self._lock:
            for fault in self._faults:
                if not fault.exhausted and fault.matches(method, path):
                    fault.hits += 1
                    return fault
        return None

    def remove(self, fault: Fault) -> None:
        with self._lock:
            self._faults = [f for f in self._faults if f.id != fault.id]

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    @property
    def active(self) -> list[Fault]:
        """Faults that can still fire."""
        with self._lock:
            return [f for f in self._faults if not f.exhausted]

    def __iter__(self) -> Any:
        with self._lock:
            return iter(list(self._faults))

    def __len__(self) -> int:
        return len(self.active)
