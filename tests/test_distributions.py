"""The sdist and the wheel are what a release uploads: built, checked, and run from the wheel alone.

`python -m build` builds the sdist and then the wheel from that sdist (so a file the sdist lacks
is missing from the wheel too), with build isolation (hatchling comes from the package index).
`twine check --strict` checks both as the index would. Then, for each Python version the package
claims (its classifiers), the wheel is installed alone into a fresh virtualenv, outside the
repository, and `--about` and `--discover` run from there must answer exactly what the tap of
this tree answers. Last, Meltano adds the Meltano Hub definition as it stands, installing the
built wheel (what `meltano add extractor tap-copilot-metrics` will do from the index).

Needs the package index (hatchling, the tap's dependencies) and an interpreter of each claimed
version (pyenv's, else on PATH); deselect with `-m "not dist"` when offline.
"""

from __future__ import annotations

import email
import email.message
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, NamedTuple

import pytest
import yaml
from copilot_devkit import demo, hub_definition

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "tap_copilot_metrics"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
#: The sdist's files besides the package (the backend adds pyproject.toml, .gitignore, PKG-INFO).
SDIST_DOCUMENTS = {"README.md", "CHANGELOG.md", "SECURITY.md", "LICENSE"}
PYTHON_CLASSIFIER = re.compile(r"Programming Language :: Python :: (3\.\d+)$")
#: The versions the package claims, from pyproject.toml (the built metadata is checked to match).
CLAIMED_PYTHONS = sorted(
    match.group(1)
    for classifier in PYPROJECT["project"]["classifiers"]
    if (match := PYTHON_CLASSIFIER.match(classifier))
)

pytestmark = pytest.mark.dist


class Dists(NamedTuple):
    sdist: Path
    wheel: Path


@pytest.fixture(scope="module")
def dists(tmp_path_factory: pytest.TempPathFactory) -> Dists:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (sdist,) = out.glob("tap_copilot_metrics-*.tar.gz")
    (wheel,) = out.glob("tap_copilot_metrics-*-py3-none-any.whl")
    return Dists(sdist, wheel)


@pytest.fixture(scope="module")
def metadata(dists: Dists) -> email.message.Message:
    with zipfile.ZipFile(dists.wheel) as wheel:
        (name,) = [n for n in wheel.namelist() if n.endswith(".dist-info/METADATA")]
        return email.message_from_string(wheel.read(name).decode())


def run_json(*command: str | Path, cwd: Path) -> Any:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME"}
        and not key.startswith("TAP_COPILOT_METRICS_")
    }
    completed = subprocess.run(
        [str(part) for part in command],
        capture_output=True,
        text=True,
        check=True,
        cwd=cwd,
        env=env,
        timeout=120,
    )
    return json.loads(completed.stdout)


@pytest.fixture(scope="module")
def tree_answers() -> dict[str, Any]:
    """What the tap of this tree (the development install) answers: the source of truth."""
    tap = (sys.executable, "-m", "tap_copilot_metrics")
    return {
        "about": run_json(*tap, "--about", "--format", "json", cwd=ROOT),
        "discover": run_json(*tap, "--discover", cwd=ROOT),
    }


def changelog_version() -> str:
    """The first numbered release heading of CHANGELOG.md (Keep a Changelog)."""
    text = (ROOT / "CHANGELOG.md").read_text()
    match = re.search(r"^## \[(\d+\.\d+\.\d+[^\]]*)\] - \d{4}-\d{2}-\d{2}$", text, re.MULTILINE)
    assert match, "CHANGELOG.md has no release heading `## [X.Y.Z] - YYYY-MM-DD`"
    return match.group(1)


def source_files() -> set[str]:
    return {
        path.relative_to(ROOT).as_posix()
        for path in PACKAGE.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }


def interpreter(version: str) -> str:
    """An interpreter of `version` that runs (as `python_of_version` in .ci/run finds one)."""
    home = os.environ.get("HOME", "/root")
    candidates = [
        *sorted(glob.glob(f"/root/.pyenv/versions/{version}.*/bin/python{version}")),
        *sorted(glob.glob(f"{home}/.pyenv/versions/{version}.*/bin/python{version}")),
        shutil.which(f"python{version}"),
    ]
    for candidate in filter(None, candidates):
        probe = subprocess.run(
            [candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            check=False,
        )
        if probe.returncode == 0 and probe.stdout.strip() == version:
            return candidate
    pytest.fail(f"no Python {version}: the package claims it, so it must be tested")


def test_twine_check_strict_passes(dists: Dists) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "twine", "check", "--strict", dists.sdist, dists.wheel],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert completed.stdout.count("PASSED") == 2, completed.stdout


def test_both_distributions_carry_the_license(
    dists: Dists, metadata: email.message.Message
) -> None:
    license_text = (ROOT / "LICENSE").read_bytes()
    assert license_text.lstrip().startswith(b"Apache License\n")
    assert b"END OF TERMS AND CONDITIONS" in license_text
    with zipfile.ZipFile(dists.wheel) as wheel:
        (name,) = [n for n in wheel.namelist() if n.endswith(".dist-info/licenses/LICENSE")]
        assert wheel.read(name) == license_text
    with tarfile.open(dists.sdist) as sdist:
        member = sdist.extractfile(f"{dists.sdist.name.removesuffix('.tar.gz')}/LICENSE")
        assert member is not None
        assert member.read() == license_text
    assert metadata["License-Expression"] == "Apache-2.0"
    assert metadata.get_all("License-File") == ["LICENSE"]


def test_the_sdist_holds_the_package_and_the_documents(dists: Dists) -> None:
    top = dists.sdist.name.removesuffix(".tar.gz")
    with tarfile.open(dists.sdist) as sdist:
        names = {m.name.removeprefix(f"{top}/") for m in sdist.getmembers() if m.isfile()}
    backend = {"pyproject.toml", "PKG-INFO", ".gitignore"}
    assert names - backend == source_files() | SDIST_DOCUMENTS


def test_the_wheel_holds_the_package(dists: Dists) -> None:
    with zipfile.ZipFile(dists.wheel) as wheel:
        names = {n for n in wheel.namelist() if ".dist-info/" not in n}
    assert names == source_files()


def test_one_version_from_the_changelog(
    dists: Dists, metadata: email.message.Message, tree_answers: dict[str, Any]
) -> None:
    version = changelog_version()
    assert metadata["Version"] == version
    assert dists.wheel.name == f"tap_copilot_metrics-{version}-py3-none-any.whl"
    assert dists.sdist.name == f"tap_copilot_metrics-{version}.tar.gz"
    assert tree_answers["about"]["version"] == version
    assert "## [Unreleased]" in (ROOT / "CHANGELOG.md").read_text()


def test_metadata_the_index_shows(
    metadata: email.message.Message, tree_answers: dict[str, Any]
) -> None:
    classifiers = metadata.get_all("Classifier") or []
    built_pythons = sorted(
        match.group(1) for c in classifiers if (match := PYTHON_CLASSIFIER.match(c))
    )
    assert built_pythons == CLAIMED_PYTHONS
    # The SDK derives the tap's own claim from Requires-Python: the two must agree.
    assert tree_answers["about"]["supported_python_versions"] == CLAIMED_PYTHONS
    assert "License :: OSI Approved :: Apache Software License" not in classifiers  # PEP 639
    urls = dict(url.split(", ", 1) for url in metadata.get_all("Project-URL") or [])
    assert {"Homepage", "Repository", "Issues", "Changelog"} <= set(urls)
    assert all(url.startswith("https://") for url in urls.values()), urls
    keywords = metadata["Keywords"].split(",")
    assert {"singer", "meltano", "github", "copilot"} <= set(keywords)
    assert metadata["Description-Content-Type"] == "text/markdown"


def repository_relative(text: str) -> str:
    """`text` with links into the repository (its files, the README's sections) made relative."""
    repo = PYPROJECT["project"]["urls"]["Repository"]
    raw = repo.replace("https://github.com/", "https://raw.githubusercontent.com/")
    for prefix, relative in ((f"{repo}/blob/main/README.md#", "#"), (f"{repo}/blob/main/", "")):
        text = text.replace(f"]({prefix}", f"]({relative}")
    return text.replace(f"]({raw}/main/", "](")


def test_the_long_description_is_the_readme_with_absolute_links(
    metadata: email.message.Message,
) -> None:
    """The index renders the README away from the repository: links to the repository's files
    and to the README's own sections must be absolute there (the build rewrites them)."""
    description = metadata.get_payload()
    assert isinstance(description, str)
    readme = (ROOT / "README.md").read_text()
    assert repository_relative(description) == repository_relative(readme)
    targets = re.findall(r"\]\(\s*<?([^)\s>]+)", description)
    targets += re.findall(r"""\bsrc=["']([^"']+)""", description)
    relative = [t for t in targets if not re.match(r"(https?://|mailto:)", t)]
    assert relative == []


def install_alone(version: str, wheel: Path, venv: Path) -> Path:
    """`wheel` installed into a fresh virtualenv of Python `version`; its interpreter."""
    subprocess.run(
        [interpreter(version), "-m", "venv", "--without-pip", str(venv)],
        check=True,
        timeout=120,
    )
    python = venv / "bin" / "python"
    pip = (sys.executable, "-m", "pip", "--python", str(python))
    subprocess.run(
        [*pip, "install", "--quiet", "--no-compile", str(wheel)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    subprocess.run([*pip, "check"], check=True, capture_output=True, timeout=120)
    return python


@pytest.fixture(scope="module")
def clean_venvs(
    dists: Dists, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Future[Path]]]:
    """One fresh virtualenv per claimed Python, installed side by side (mostly waiting on pip)."""
    root = tmp_path_factory.mktemp("venvs")
    with ThreadPoolExecutor(max_workers=len(CLAIMED_PYTHONS)) as pool:
        yield {
            version: pool.submit(install_alone, version, dists.wheel, root / version)
            for version in CLAIMED_PYTHONS
        }


@pytest.mark.parametrize("version", CLAIMED_PYTHONS)
def test_the_wheel_alone_runs_on_each_claimed_python(
    version: str,
    clean_venvs: dict[str, Future[Path]],
    tree_answers: dict[str, Any],
    tmp_path: Path,
) -> None:
    python = clean_venvs[version].result()
    venv = python.parent.parent
    elsewhere = tmp_path  # no repository around: nothing importable from the working directory
    where = run_json(
        python,
        "-c",
        "import json, sys, tap_copilot_metrics as t; print(json.dumps([t.__file__, sys.version]))",
        cwd=elsewhere,
    )
    assert Path(where[0]).is_relative_to(venv), where
    assert where[1].startswith(f"{version}."), where
    tap = venv / "bin" / "tap-copilot-metrics"
    assert run_json(tap, "--about", "--format", "json", cwd=elsewhere) == tree_answers["about"]
    assert run_json(tap, "--discover", cwd=elsewhere) == tree_answers["discover"]


def test_meltano_adds_the_hub_definition_and_installs_the_wheel(
    dists: Dists, tree_answers: dict[str, Any], tmp_path: Path
) -> None:
    """What a Meltano user gets once the tap is on the index and the Hub: the Hub definition as
    it is (its `pip_url` pointed at the built wheel instead of the index), installed by Meltano;
    the settings groups, the secrets kept out of meltano.yml, the streams its `select` picks."""
    definition = yaml.safe_load(hub_definition.definition_path().read_text())
    definition["pip_url"] = str(dists.wheel)
    name = definition["name"]
    project = {
        "default_environment": "dev",
        "environments": [{"name": "dev"}],
        "project_id": "hub-definition-check",
        "send_anonymous_usage_stats": False,
        "plugins": {"extractors": [definition]},
    }
    (tmp_path / "meltano.yml").write_text(yaml.safe_dump(project, sort_keys=False))
    executable = demo.ensure_meltano(demo.find_project().meltano_venv)
    env = demo.meltano_env()

    def meltano(*args: str) -> str:
        completed = subprocess.run(
            [str(executable), *args],
            capture_output=True,
            text=True,
            check=False,
            cwd=tmp_path,
            env=env,
            timeout=300,
        )
        assert completed.returncode == 0, completed.stdout[-2000:] + completed.stderr[-2000:]
        return completed.stdout

    meltano("install", "extractor", name)
    meltano("config", "set", name, "auth_token", "sentinel-not-a-token")
    assert "sentinel-not-a-token" in (tmp_path / ".env").read_text()
    assert "sentinel-not-a-token" not in (tmp_path / "meltano.yml").read_text()
    listing = meltano("config", "list", name)
    assert "Group 2: app_id, app_installation_id, app_private_key" in listing
    assert "sentinel-not-a-token" not in listing
    selection = meltano("select", name, "--list", "--all")
    picked = {
        line.split("] ", 1)[1].split(".")[0]
        for line in selection.splitlines()
        if line.strip().startswith(("[selected", "[automatic"))
    }
    catalog = tree_answers["discover"]
    assert picked == set(hub_definition.selected_by_default(catalog))
