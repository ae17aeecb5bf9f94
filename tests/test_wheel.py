"""The tap's wheel holds the tap only: its modules, its vendored OpenAPI files, one console script.

The simulator, the demo and the benchmark are the devkit's (`devkit/`, a distribution of its
own), so a production environment never installs a test bench. The wheel is built here as pip
builds it for a user, without build isolation so no download is needed.
"""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "tap_copilot_metrics"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            *(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps"),
            *("--no-build-isolation", "--wheel-dir", str(out), str(ROOT)),
        ],
        check=True,
        capture_output=True,
    )
    (path,) = out.glob("tap_copilot_metrics-*.whl")
    return zipfile.ZipFile(path)


def _source_files() -> set[str]:
    """What the package directory holds, as wheel paths (caches left out)."""
    return {
        path.relative_to(ROOT).as_posix()
        for path in PACKAGE.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }


def test_wheel_holds_the_tap_package_and_nothing_else(wheel: zipfile.ZipFile) -> None:
    names = set(wheel.namelist())
    package_files = {name for name in names if not name.split("/")[0].endswith(".dist-info")}
    assert package_files == _source_files()
    assert all(name.startswith("tap_copilot_metrics/") for name in package_files)
    for bench in ("simulator", "demo", "benchmark", "copilot_devkit", "examples"):
        assert not [name for name in names if bench in name], bench
    # The schemas are read from the vendored OpenAPI descriptions at run time.
    assert "tap_copilot_metrics/openapi/usage-reports.openapi.json" in names
    assert "tap_copilot_metrics/openapi/legacy-metrics.openapi.json" in names


def test_wheel_installs_the_tap_and_the_report_command(wheel: zipfile.ZipFile) -> None:
    (entry_points,) = [name for name in wheel.namelist() if name.endswith("entry_points.txt")]
    text = wheel.read(entry_points).decode()
    scripts = [line for line in text.splitlines() if "=" in line]
    assert scripts == [
        "copilot-metrics-report = tap_copilot_metrics.report.cli:main",
        "tap-copilot-metrics = tap_copilot_metrics.tap:main",
    ]


def test_the_report_needs_its_extra_and_the_tap_never_imports_it(wheel: zipfile.ZipFile) -> None:
    """`copilot-metrics-report` needs `[report]`; the tap runs without it (no import)."""
    (metadata,) = [name for name in wheel.namelist() if name.endswith(".dist-info/METADATA")]
    report = sorted(
        re.split(r"[\[<>=~;]", line.removeprefix("Requires-Dist: "))[0].strip()
        for line in wheel.read(metadata).decode().splitlines()
        if line.startswith("Requires-Dist: ") and "extra == 'report'" in line
    )
    assert report == ["altair", "duckdb", "psycopg", "vl-convert-python"]
    imports_report = re.compile(r"tap_copilot_metrics\.report\b|from \.+report\b|import report\b")
    for name in wheel.namelist():
        if name.endswith(".py") and not name.startswith("tap_copilot_metrics/report/"):
            assert not imports_report.search(wheel.read(name).decode()), name


def test_wheel_requires_no_test_or_demo_tooling(wheel: zipfile.ZipFile) -> None:
    (metadata,) = [name for name in wheel.namelist() if name.endswith(".dist-info/METADATA")]
    requires = [
        line.removeprefix("Requires-Dist: ")
        for line in wheel.read(metadata).decode().splitlines()
        if line.startswith("Requires-Dist: ") and "extra ==" not in line
    ]
    names = sorted(line.split("[")[0].split(">")[0].split("~")[0].strip() for line in requires)
    assert names == ["ijson", "jsonschema", "requests", "singer-sdk"]
