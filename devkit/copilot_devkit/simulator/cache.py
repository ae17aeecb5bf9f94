"""A byte-bounded LRU with single-flight builds, for generated lines and encoded files.

Report data is generated lazily the first time it is asked for and then served from memory;
concurrent downloads of the same file wait for one build instead of repeating it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


class ByteLRU:
    """Keeps values while their total size stays under `max_bytes` (least recent dropped)."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.bytes = 0
        self._data: OrderedDict[Any, tuple[Any, int]] = OrderedDict()
        self._building: dict[Any, threading.Event] = {}
        self._lock = threading.Lock()

    def get(self, key: Any, build: Callable[[], T], size: Callable[[T], int]) -> T:
        while True:
            with self._lock:
                found = self._data.get(key)
                if found is not None:
                    self._data.move_to_end(key)
                    return found[0]  # type: ignore[no-any-return,unused-ignore]
                event = self._building.get(key)
                if event is None:
                    event = self._building[key] = threading.Event()
                    break
            event.wait()  # another thread is building this key; look again when it is done
        try:
            value = build()
            n = size(value)
            with self._lock:
                self._data[key] = (value, n)
                self.bytes += n
                while self.bytes > self.max_bytes and len(self._data) > 1:
                    _, (_old, old_n) = self._data.popitem(last=False)
                    self.bytes -= old_n
            return value
        finally:
            with self._lock:
                del self._building[key]
            event.set()

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self.bytes = 0
