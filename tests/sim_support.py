"""The GitHub API simulator as tests get it: the fixtures' types and the code behind them.

The fixtures themselves are in conftest.py:

* `sim`: one simulator per test module, started on 127.0.0.1 with the settings the module names
  in `pytestmark = pytest.mark.simulator(**settings)` (defaults without it);
* `fresh_sim`: `sim` with no fault armed and an empty request log, for modules whose tests share
  it (`pytest.mark.usefixtures("fresh_sim")`); after the test it waits for the threads an
  in-process run left behind;
* `make_simulator`: a factory, `make_simulator(**settings)`, for tests that need their own
  simulator (stopped after the test);
* `simulator`: a simulator with default settings for one test;
* `app_simulator`: a simulator (sentinel token) with the GitHub App of `app_keypair` installed.

Here too: days relative to a simulator's today (`days_ago`), and the GitHub App the App-auth
tests install on the simulator (`app_settings`) and authenticate the tap as (`as_app`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from copilot_devkit.simulator import Simulator

#: The type of the `make_simulator` fixture: settings overrides in, a started simulator out.
MakeSimulator = Callable[..., Simulator]

#: The GitHub App the App-auth tests install on the simulator, and its installation.
APP_ID, INSTALLATION_ID = 31337, 4711


def days_ago(sim: Simulator, days: int) -> dt.date:
    """The day `days` before the simulator's (and the tap's) UTC today."""
    return sim.settings.today - dt.timedelta(days=days)


def app_settings(public_pem: str, **settings: Any) -> dict[str, Any]:
    """Simulator settings that install the App (APP_ID, INSTALLATION_ID) with this public key;
    `settings` adds any other."""
    return {
        "app_id": APP_ID,
        "app_public_key_pem": public_pem,
        "app_installation_id": INSTALLATION_ID,
        **settings,
    }


def as_app(
    config: Mapping[str, Any], private_pem: str, *, installation_id: int = INSTALLATION_ID
) -> dict[str, Any]:
    """A tap config with GitHub App auth (APP_ID, this key) instead of the token."""
    app_config = {name: value for name, value in config.items() if name != "auth_token"}
    app_config.update(
        app_id=str(APP_ID),
        app_private_key=private_pem,
        app_installation_id=str(installation_id),
    )
    return app_config


@contextlib.contextmanager
def started_simulators() -> Iterator[MakeSimulator]:
    """`make(**settings)` starts a simulator; every one started is stopped on exit."""
    started: list[Simulator] = []

    def make(**settings: Any) -> Simulator:
        simulator = Simulator(**settings)
        simulator.start()
        started.append(simulator)
        return simulator

    try:
        yield make
    finally:
        for simulator in started:
            simulator.stop()


def wait_for_tap_threads(timeout: float = 10) -> None:
    """Wait until threads a run left behind (background fetches) have finished.

    In-process runs share the simulator with the next test: a fetch still running would take
    that test's faults. Simulator threads are daemons; the tap's workers are not.
    """
    deadline = time.monotonic() + timeout
    for thread in threading.enumerate():
        if thread is threading.main_thread() or thread.daemon:
            continue
        thread.join(max(deadline - time.monotonic(), 0.01))
