"""The Snowflake and BigQuery loader entries of meltano.yml install and match their targets.

No real warehouse is reachable here, so these loaders cannot load; what can break silently is the
entry itself: a pin that no longer installs or runs, or a setting name the target does not know
(Meltano would pass it and the target would ignore it). Both are checked with real Meltano.

Snowflake: tests/e2e/test_meltano_snowflake.py loads through the entry into fakesnow; the session
installs target-snowflake (conftest.py's PLUGINS), so it is not installed again here.

BigQuery: the entry's `begin` and `check` commands (what makes a refused load fail the pipeline)
are checked here too; tests/e2e/test_meltano_bigquery.py loads through it into an emulator.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest
import yaml
from copilot_devkit.demo import DemoError

from tests.e2e.conftest import PLUGINS
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
    not_installed = [loader for loader in LOADERS if loader not in PLUGINS]
    if not_installed:
        meltano.run(["install", *not_installed], env=env, log=workdir / "install.log")
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


# --- BigQuery: the commands that fail a pipeline whose load BigQuery refused -----------------


def bigquery_command_code(command: str) -> str:
    """The Python of a target-bigquery command (`python -c "..."` in meltano.yml)."""
    args = shlex.split(declared("target-bigquery")["commands"][command]["args"])
    assert args[0] == "-c"
    assert len(args) == 2
    return args[1]


@pytest.mark.parametrize("command", ["begin", "check"])
def test_bigquery_commands_read_declared_settings(command: str) -> None:
    code = bigquery_command_code(command)
    compile(code, f"target-bigquery:{command}", "exec")
    used = {name.lower() for name in re.findall(r"TARGET_BIGQUERY_(\w+)", code)}
    names = {setting["name"] for setting in declared("target-bigquery")["settings"]}
    assert used
    assert used <= names


def test_bigquery_check_runs_with_the_targets_python(
    about: dict[str, dict], meltano: Meltano, tmp_path: Path
) -> None:
    """`meltano invoke target-bigquery:check` imports google-cloud-bigquery in the target's venv
    and, without `begin` before it, fails (no warehouse needed to get that far)."""
    assert about["target-bigquery"]
    env = meltano.env(tmp_path / "meltano.db", {"TARGET_BIGQUERY_PROJECT": "cloud-loaders"})
    with pytest.raises(DemoError, match="run target-bigquery:begin first"):
        meltano.run(["invoke", "target-bigquery:check"], env=env, log=tmp_path / "check.log")
