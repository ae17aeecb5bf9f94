"""Shared fixtures: the GitHub API simulator over real HTTP on 127.0.0.1, and an App key pair.

Which simulator fixture to use (tests/sim_support.py has the details and the `MakeSimulator`
type): `sim`, one per module with the settings of the module's `pytest.mark.simulator(...)`;
`fresh_sim`, the same cleared for each test; `make_simulator(**settings)`, one per test with
settings of its own; `simulator`, one per test with default settings; `app_simulator`, one per
test with the GitHub App of `app_keypair` installed.

The suite runs as of a pinned day, never the real date: `COPILOT_METRICS_TODAY` is set here
before any test module is imported, and every process a test starts (the tap, the simulator,
Meltano and its plugins) inherits it. CI runs the suite again at pinned days that hit calendar
edges (see `.ci/run`) by setting the variable itself.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import NamedTuple

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tap_copilot_metrics.clock import TODAY_VARIABLE

#: The day the suite runs as of, unless the environment pins another.
DEFAULT_TODAY = "2026-11-16"
os.environ.setdefault(TODAY_VARIABLE, DEFAULT_TODAY)

from copilot_devkit.simulator import Simulator  # noqa: E402

from tests.reliability_support import sentinel_token  # noqa: E402
from tests.sim_support import (  # noqa: E402
    MakeSimulator,
    app_settings,
    started_simulators,
    wait_for_tap_threads,
)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "simulator(**settings): settings of the module's `sim` (SimulatorSettings fields); "
        "set it in `pytestmark`, it is read once per module",
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """`pytest.mark.simulator` on a test or a class would be silently ignored: `sim` is one per
    module. Refuse it."""
    for item in items:
        for node in item.listchain():
            if isinstance(node, pytest.Module | pytest.Package | pytest.Session):
                continue
            if any(marker.name == "simulator" for marker in node.own_markers):
                msg = f"{node.nodeid}: set pytest.mark.simulator in the module's `pytestmark`"
                raise pytest.UsageError(msg)


@pytest.fixture
def simulator() -> Iterator[Simulator]:
    """A started simulator with default settings, stopped after the test."""
    with Simulator() as sim:
        yield sim


@pytest.fixture
def make_simulator() -> Iterator[MakeSimulator]:
    """Factory: `make_simulator(**settings_overrides)` returns a started simulator."""
    with started_simulators() as make:
        yield make


@pytest.fixture(scope="module")
def sim(request: pytest.FixtureRequest) -> Iterator[Simulator]:
    """The module's simulator, started once: the settings of the module's
    `pytestmark = pytest.mark.simulator(**settings)`, defaults without one.

    Tests share it: faults they arm and requests it logged stay for the next test unless the
    module uses `fresh_sim`.
    """
    marker = request.node.get_closest_marker("simulator")
    with Simulator(**(marker.kwargs if marker else {})) as simulator:
        yield simulator


@pytest.fixture
def fresh_sim(sim: Simulator) -> Iterator[Simulator]:
    """The module's `sim` with no fault armed and an empty request log; after the test, the
    threads an in-process run left behind (background fetches) have finished.

    Modules whose tests share `sim` use it for every test: `pytest.mark.usefixtures("fresh_sim")`
    in `pytestmark`.
    """
    sim.faults.clear()
    sim.clear_requests()
    yield sim
    wait_for_tap_threads()


class AppKeypair(NamedTuple):
    """PEM strings of an RSA key pair (unpacks as `private_pem, public_pem`)."""

    private_pem: str
    public_pem: str


@pytest.fixture(scope="session")
def app_keypair() -> AppKeypair:
    """An RSA key pair for GitHub App auth tests."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return AppKeypair(private, public)


@pytest.fixture
def app_simulator(make_simulator: MakeSimulator, app_keypair: AppKeypair) -> Simulator:
    """A started simulator with the GitHub App of `app_keypair` installed (`app_settings`) and a
    sentinel token; configs from `as_app` authenticate as the App."""
    return make_simulator(**app_settings(app_keypair.public_pem, token=sentinel_token()))
