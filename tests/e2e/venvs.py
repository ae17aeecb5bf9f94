"""Virtualenvs of their own for the warehouse stand-ins (bqemulator, fakesnow): their pins clash
with the project's, so each gets a venv built once per machine and reused while its pins match."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

_PINS_FILE = "e2e-pins.txt"
_BIN = "Scripts" if os.name == "nt" else "bin"


def pinned_venv(
    venv: Path,
    pins: Sequence[str],
    *,
    what: str,
    finish: Callable[[Path], None] | None = None,
) -> Path:
    """The venv's Python: `venv` as it is when built with `pins`, else built anew.

    `finish(building_venv)` runs after the pins are installed. The venv is built beside its final
    place and renamed into it, so an interrupted build is never reused.
    """
    python = venv / _BIN / "python"
    recorded = venv / _PINS_FILE
    wanted = "\n".join([f"python {sys.version_info[0]}.{sys.version_info[1]}", *pins])
    if python.exists() and recorded.is_file() and recorded.read_text() == wanted:
        return python
    building = venv.with_name(f"{venv.name}.building-{os.getpid()}")
    shutil.rmtree(building, ignore_errors=True)
    run_checked([sys.executable, "-m", "venv", str(building)], f"creating {what}")
    pip = [str(building / _BIN / "python"), "-m", "pip", "install", "--quiet"]
    run_checked([*pip, "--disable-pip-version-check", *pins], f"pip install into {what}")
    if finish is not None:
        finish(building)
    (building / _PINS_FILE).write_text(wanted)
    shutil.rmtree(venv, ignore_errors=True)
    building.rename(venv)  # bin/python and site-packages are relative: the venv still runs
    return python


def venv_python(venv: Path) -> Path:
    """The Python of a venv (built or being built)."""
    return venv / _BIN / "python"


def run_checked(args: list[str], what: str, env: Mapping[str, str] | None = None) -> None:
    """Run a setup command; on failure raise with the tail of its output."""
    completed = subprocess.run(args, capture_output=True, text=True, check=False, env=env)
    if completed.returncode != 0:
        msg = f"{what} failed:\n{completed.stdout[-3000:]}{completed.stderr[-3000:]}"
        raise RuntimeError(msg)


def plugin_site_packages(sys_dir: Path, plugin_type: str, name: str) -> Path:
    """site-packages of a plugin's venv as `meltano install` built it (`sys_dir/<type>/<name>`)."""
    venv = sys_dir / plugin_type / name / "venv"
    found = sorted(venv.glob("lib/python3*/site-packages")) + sorted(venv.glob("Lib/site-packages"))
    if not found:
        msg = f"{name} is not installed in {venv}"
        raise RuntimeError(msg)
    return found[0]
