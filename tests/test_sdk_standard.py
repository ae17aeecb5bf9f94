"""The Singer SDK's standard tap tests, run against the simulator with every stream selected.

`get_tap_test_class` needs the config when the class is built (at import time), so this module
starts its own simulator on import and stops it when the module's tests are done.
`copilot_metrics` is opt-in, so the catalog passed to the tap selects every discovered stream
explicitly.
"""

from __future__ import annotations

import atexit
import datetime as dt

import pytest
from copilot_devkit.simulator import Simulator, SimulatorSettings
from singer_sdk.testing import SuiteConfig, get_tap_test_class

from tap_copilot_metrics.tap import TapCopilotMetrics
from tests.tap_runner import ALL_STREAMS, catalog_selecting

# The schemas declare every field GitHub documents; a few days of data do not use them all, and
# the SDK's schema-vs-record test says so with a warning (not a failure).
pytestmark = pytest.mark.filterwarnings("ignore:Fields in transformed catalog but not in records")

# Small and quick: a few users, one file per report. Enough users that every stream has rows
# (few users use third-party agents), and 8 days: a backfill, read from the 28-day reports,
# which alone carry the 28-day feature engagement.
SIMULATOR = Simulator(
    SimulatorSettings(
        users_per_org=20, users_per_enterprise=20, seats_per_org=8, files_per_report=1
    )
)
SIMULATOR.start()
atexit.register(SIMULATOR.stop)  # also when no test of this module is selected
_YESTERDAY = SIMULATOR.settings.today - dt.timedelta(days=1)
CONFIG = SIMULATOR.tap_config(
    start_date=(_YESTERDAY - dt.timedelta(days=7)).isoformat(),
    end_date=_YESTERDAY.isoformat(),
    retry_initial_wait_seconds=0.01,
)
DISCOVERED = TapCopilotMetrics(config=CONFIG, parse_env_config=False).catalog_dict
EVERY_STREAM = [entry["tap_stream_id"] for entry in DISCOVERED["streams"]]
CATALOG = catalog_selecting(CONFIG, EVERY_STREAM)


def teardown_module() -> None:
    """Stop the module's simulator (it was started at import)."""
    SIMULATOR.stop()


TestTapCopilotMetrics = get_tap_test_class(
    TapCopilotMetrics,
    config=CONFIG,
    catalog=CATALOG,
    # parse_env_config=False: a developer's TAP_COPILOT_METRICS_* variables must not leak in.
    parse_env_config=False,
    suite_config=SuiteConfig(max_records_limit=None),
)


def test_catalog_selects_every_stream_including_opt_in_metrics() -> None:
    """The standard tests above cover all streams, the opt-in one included."""
    selected = {
        entry["tap_stream_id"]
        for entry in CATALOG["streams"]
        for metadata in entry["metadata"]
        if metadata["breadcrumb"] == [] and metadata["metadata"].get("selected")
    }
    assert selected == set(EVERY_STREAM) >= set(ALL_STREAMS)
    metrics = next(s for s in DISCOVERED["streams"] if s["tap_stream_id"] == "copilot_metrics")
    root = next(m for m in metrics["metadata"] if m["breadcrumb"] == [])
    assert root["metadata"].get("selected-by-default") is False
