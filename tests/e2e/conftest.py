"""Session fixtures of the end-to-end tests: Meltano with its plugins, and a PostgreSQL server.

Installing Meltano and the plugins is the slow part, so it happens once per session: Meltano in
the project's `.meltano/meltano-venv` (reused across sessions, like the demo does), the plugins
with `meltano install` into a session temp dir, so every session tests meltano.yml as it is now.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from copilot_devkit import demo

from tests.e2e.e2e_support import PROJECT, Meltano
from tests.e2e.pg_cluster import PgCluster, PgServer, find_bindir

#: The plugins the tests run (inheriting extractors share tap-copilot-metrics's venv).
PLUGINS = (
    "tap-copilot-metrics",
    "target-duckdb",
    "target-postgres",
    "target-jsonl",
    "target-snowflake",
)

#: An external server to use instead of starting one, e.g. postgresql://u:p@127.0.0.1:5432/db.
PG_URL_ENV = "TAP_COPILOT_E2E_PG_URL"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Everything under tests/e2e is an end-to-end test (`-m "not e2e"` leaves them out)."""
    for item in items:
        if "/e2e/" in str(item.path).replace(os.sep, "/"):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def meltano(tmp_path_factory: pytest.TempPathFactory) -> Meltano:
    """Meltano MELTANO_VERSION with the test plugins installed from meltano.yml."""
    executable = demo.ensure_meltano(PROJECT.meltano_venv)
    runner = Meltano(executable, tmp_path_factory.mktemp("meltano-sys"))
    workdir = tmp_path_factory.mktemp("meltano-install")
    env = runner.env(workdir / "meltano.db", {})
    runner.run(["install", *PLUGINS], env=env, log=workdir / "install.log")
    return runner


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PgServer]:
    """A PostgreSQL server: $TAP_COPILOT_E2E_PG_URL, else a throwaway local cluster."""
    url = os.environ.get(PG_URL_ENV)
    if url:
        yield PgServer.from_url(url)
        return
    bindir = find_bindir()
    if bindir is None:
        reason = (
            "PostgreSQL server binaries (initdb, pg_ctl) not found: apt-get install postgresql, "
            f"or set {PG_URL_ENV}"
        )
        if os.environ.get("CI"):
            pytest.fail(reason + " (.ci/run must install it)")
        pytest.skip(reason)
    cluster = PgCluster(bindir)
    try:
        yield cluster.start()
    finally:
        cluster.stop()
