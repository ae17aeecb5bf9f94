"""Shared fixtures: the GitHub API simulator over real HTTP on 127.0.0.1.

The suite runs as of a pinned day, never the real date: `COPILOT_METRICS_TODAY` is set here
before any test module is imported, and every process a test starts (the tap, the simulator,
Meltano and its plugins) inherits it. CI runs the suite again at pinned days that hit calendar
edges (see `.ci/run`) by setting the variable itself.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tap_copilot_metrics.clock import TODAY_VARIABLE

#: The day the suite runs as of, unless the environment pins another.
DEFAULT_TODAY = "2026-11-16"
os.environ.setdefault(TODAY_VARIABLE, DEFAULT_TODAY)

from copilot_devkit.simulator import Simulator, SimulatorSettings  # noqa: E402


@pytest.fixture
def simulator() -> Iterator[Simulator]:
    """A started simulator with default settings, stopped after the test."""
    with Simulator(SimulatorSettings()) as sim:
        yield sim


@pytest.fixture
def make_simulator() -> Iterator[Callable[..., Simulator]]:
    """Factory: `make_simulator(**settings_overrides)` returns a started simulator."""
    started: list[Simulator] = []

    def make(**overrides: Any) -> Simulator:
        sim = Simulator(SimulatorSettings(**overrides))
        sim.start()
        started.append(sim)
        return sim

    yield make
    for sim in started:
        sim.stop()


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
