"""The Snowflake and BigQuery loader entries of meltano.yml install and match their targets.

No warehouse is reachable here, so these loaders cannot load; what can break silently is the
entry itself: a pin that no longer installs or runs, or a setting name the target does not know
(Meltano would pass it and the target would ignore it). Both are checked with real Meltano.
"""

from __future__ import annotations

import json

import pytest
import yaml

from tests.e2e.e2e_support import PROJECT, Meltano

LOADERS = ("target-snowflake", "target-bigquery")


def declared(loader: str) -> dict:
    config = yaml.safe_load((PROJECT.root / "meltano.yml").read_text())
    return next(p for p in config["plugins"]["loaders"] if p["name"] == loader)


@pytest.fixture(scope="module")
def about(meltano: Meltano, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    """Each loader installed by `meltano install`, then asked `--about` through Meltano."""
    workdir = tmp_path_factory.mktemp("cloud-loaders")
    env = meltano.env(workdir / "meltano.db", {})
    meltano.run(["install", *LOADERS], env=env, log=workdir / "install.log")
    out = {}
    for loader in LOADERS:
        completed = meltano.run(
            ["invoke", loader, "--about", "--format=json"], env=env, log=workdir / f"{loader}.log"
        )
        out[loader] = json.loads(completed.stdout[completed.stdout.index("{") :])
    return out


@pytest.mark.parametrize("loader", LOADERS)
def test_declared_settings_are_the_targets_own(about: dict[str, dict], loader: str) -> None:
    properties = about[loader]["settings"]["properties"]
    names = [setting["name"] for setting in declared(loader)["settings"]]
    assert [name for name in names if name not in properties] == []
    assert set(declared(loader)["config"]) <= set(names)


@pytest.mark.parametrize("loader", LOADERS)
def test_required_settings_are_declared(about: dict[str, dict], loader: str) -> None:
    required = set(about[loader]["settings"].get("required", []))
    names = {setting["name"] for setting in declared(loader)["settings"]}
    assert required
    assert required <= names
