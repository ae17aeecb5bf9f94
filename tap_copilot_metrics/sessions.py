"""HTTP sessions for threads: `requests.Session` is not documented thread-safe.

Report days are fetched on worker threads (prefetch.py) while the main thread emits. Each thread
works on a session of its own, so no two threads ever share one; a worker hands its session back
when it ends, and the next worker takes it over with its open connections, so connections are
reused from scope to scope instead of opened again for every worker.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import requests


class ThreadSessions:
    """One `requests.Session` per thread at a time, reused by later threads."""

    def __init__(self, make: Callable[[], requests.Session] = requests.Session) -> None:
        self._make = make
        self._own = threading.local()
        self._idle: list[requests.Session] = []
        self._lock = threading.Lock()

    def get(self) -> requests.Session:
        """The calling thread's session: an idle one taken over, or a new one."""
        session: requests.Session | None = getattr(self._own, "session", None)
        if session is None:
            with self._lock:
                session = self._idle.pop() if self._idle else self._make()
            self._own.session = session
        return session

    def release(self) -> None:
        """Hand the calling thread's session back (a worker calls this when it ends)."""
        session: requests.Session | None = getattr(self._own, "session", None)
        if session is not None:
            del self._own.session
            with self._lock:
                self._idle.append(session)
