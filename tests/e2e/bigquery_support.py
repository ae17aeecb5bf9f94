"""A local BigQuery for the end-to-end tests: bqemulator, in its own virtualenv.

bqemulator (REST and gRPC, DuckDB underneath) speaks BigQuery's wire protocol, so the real
z3-target-bigquery and google-cloud-bigquery talk to it unchanged (`BIGQUERY_EMULATOR_HOST`).
Its pins conflict with the target's, so it gets a virtualenv of its own, `.meltano/bqemulator-venv`
(built once, about 45 s, and reused while `EMULATOR_PINS` match), with DuckDB's spatial extension
installed from its wheel (bqemulator otherwise downloads it at start). Each session starts one
emulator on a free 127.0.0.1 port and stops it at the end.

The emulator is started through `emulator_fixes`, which teaches it three things real BigQuery
does, without touching what the loader sends (each is explained in `emulator_fixes`):

- gzip-compressed load uploads (the target gzips every batch; BigQuery inflates them);
- `UPDATE SET target.col = ...` inside MERGE (the target's upsert; DuckDB rejects the qualified
  column);
- an OAuth token endpoint, `/token`, for the test's service account key (`token_uri`), so the
  target authenticates with `credentials_path` as it would in production;

and one fault for the tests: a load into a table matching a pattern of `refusing_loads` is refused
by the emulator's own loader, as BigQuery refuses a load it cannot read.

On the loader's side one thing changes, and only its timing: target-bigquery sleeps a fixed 5 s
after creating a table and 2.5 s after creating each run's merge table, for BigQuery's eventual
consistency (12.5 s per table on a first run, 7.5 s after: 260 of the module's 350 s). The
emulator is consistent at once, so `install_no_wait_hook` makes those sleeps (and only sleeps
called from target_bigquery/core.py) return at once; every request the target sends is its own.
What this leaves unproven is that real BigQuery's consistency delay is covered by those sleeps.
"""

from __future__ import annotations

import datetime as dt
import inspect
import json
import os
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.e2e.e2e_support import PROJECT, Meltano
from tests.e2e.venvs import pinned_venv, plugin_site_packages, run_checked, venv_python

#: What the emulator's virtualenv holds. duckdb-extension-spatial must match duckdb's version.
EMULATOR_PINS = (
    "bqemulator==1.4.0",
    "duckdb==1.5.5",
    "duckdb-extension-spatial==1.5.5",
    "numpy==2.4.6",
)
EMULATOR_VENV = PROJECT.root / ".meltano" / "bqemulator-venv"
#: The GCP project the tests load into (any name: the emulator creates nothing up front).
PROJECT_ID = "copilot-e2e"
#: Where the emulator's DuckDB finds its extensions (`~/.duckdb/extensions`): inside the venv.
_DUCKDB_HOME = "duckdb-home"
#: Lines `emulator_fixes` writes to the emulator's log.
INFLATED = "bqemulator-e2e: inflated gzip upload into "
REFUSED = "bqemulator-e2e: refused load into "


# --- the emulator's virtualenv --------------------------------------------------------------


def ensure_emulator_venv(venv: Path = EMULATOR_VENV) -> Path:
    """The emulator's Python: `venv` as it is when built with `EMULATOR_PINS`, else built anew."""
    return pinned_venv(venv, EMULATOR_PINS, what="the emulator's virtualenv", finish=_spatial)


def _spatial(building: Path) -> None:
    """DuckDB's spatial extension installed from its wheel, so the emulator downloads nothing."""
    # INSTALL from the wheel's file copies the extension into $HOME/.duckdb/extensions; the
    # emulator's own `INSTALL spatial` then finds it installed and downloads nothing.
    install_spatial = (
        "import pathlib, duckdb, duckdb_extension_spatial as pkg\n"
        "path = next(pathlib.Path(pkg.__file__).parent.rglob('spatial.duckdb_extension'))\n"
        "con = duckdb.connect()\n"
        "con.execute(f\"INSTALL '{path}'\")\n"
        "con.execute('LOAD spatial')\n"
    )
    home = building / _DUCKDB_HOME
    home.mkdir()
    run_checked(
        [str(venv_python(building)), "-c", install_spatial],
        "installing DuckDB's spatial extension from its wheel",
        env={**os.environ, "HOME": str(home)},
    )


# --- what the emulator is taught at start -----------------------------------------------------


def emulator_fixes() -> None:
    """Runs inside the emulator's process before it starts (its source is written to a file).

    Each fix does what real BigQuery does with the same request, in the emulator:

    1. gzip uploads. z3-target-bigquery gzips every batch it uploads for a load job and says
       nothing about it (no `compression` in the job); BigQuery inflates such an upload, the
       emulator reads the gzip bytes as JSON and fails. Every upload type (media, multipart,
       resumable) ends in `upload._run_load` with the bytes in a file: inflate it there.
    2. `MERGE ... WHEN MATCHED THEN UPDATE SET target.col = source.col`. BigQuery accepts the
       qualified column; the emulator hands it to DuckDB, which rejects it ("Qualified column
       names in UPDATE .. SET not supported"). Drop the qualifier on the SET side (it can only
       name the MERGE's target table) before the emulator translates the statement.
    3. `/token`: the OAuth token endpoint of the test's service account key (`token_uri`).
       The emulator accepts any bearer token, as it accepts any caller.

    The fault: a load whose destination table matches an fnmatch pattern listed in the file
    $BQEMU_E2E_REFUSE_FILE gets a body that is not JSON, which the emulator's own loader refuses
    with BigQuery's "Error while reading data".
    """
    import fnmatch
    import gzip
    import os
    import shutil
    import sys
    from pathlib import Path

    import sqlglot
    from bqemulator.api import app as app_module
    from bqemulator.api.routes import upload
    from bqemulator.sql import translator
    from sqlglot import exp

    def say(line):
        print(line, file=sys.stderr, flush=True)

    run_load = upload._run_load

    async def run_load_inflated(*, project_id, configuration, media_path, ctx):
        table = configuration.get("load", {}).get("destinationTable", {}).get("tableId", "")
        refuse_file = Path(os.environ.get("BQEMU_E2E_REFUSE_FILE", "/nonexistent"))
        patterns = refuse_file.read_text().split() if refuse_file.is_file() else []
        if any(fnmatch.fnmatchcase(table, pattern) for pattern in patterns):
            say(f"bqemulator-e2e: refused load into {table}")
            Path(media_path).write_bytes(b"refused by the test: not JSON\n")
        with open(media_path, "rb") as media:
            gzipped = media.read(2) == b"\x1f\x8b"
        if gzipped:
            inflated = media_path + ".inflated"
            with gzip.open(media_path, "rb") as source, open(inflated, "wb") as target:
                shutil.copyfileobj(source, target)
            os.replace(inflated, media_path)
            say(f"bqemulator-e2e: inflated gzip upload into {table}")
        return await run_load(
            project_id=project_id, configuration=configuration, media_path=media_path, ctx=ctx
        )

    upload._run_load = run_load_inflated

    def unqualified_merge_set(sql):
        if "MERGE" not in sql.upper():
            return sql
        try:  # one statement at a time: the emulator splits scripts before translating
            merge = sqlglot.parse_one(sql, read="bigquery")
        except sqlglot.errors.ParseError:
            return sql  # the emulator reports it
        if not isinstance(merge, exp.Merge):
            return sql
        changed = False
        for update in merge.find_all(exp.Update):
            for assignment in update.expressions:
                column = assignment.this
                if isinstance(column, exp.Column) and column.table:
                    assignment.set("this", exp.column(column.this))
                    changed = True
        return merge.sql(dialect="bigquery") if changed else sql

    translate = translator.SQLTranslator.translate

    def translate_merge(self, bq_sql, **kwargs):
        return translate(self, unqualified_merge_set(bq_sql), **kwargs)

    translator.SQLTranslator.translate = translate_merge

    create_app = app_module.create_app

    def create_app_with_token(context):
        app = create_app(context)

        @app.post("/token")
        async def token():
            return {"access_token": "bqemulator", "token_type": "Bearer", "expires_in": 3600}

        return app

    app_module.create_app = create_app_with_token


LAUNCHER = f"""{inspect.getsource(emulator_fixes)}

emulator_fixes()

from bqemulator.cli import main

main()
"""


# --- the running emulator ---------------------------------------------------------------------


class BigQueryError(RuntimeError):
    """An error the emulator answered (BigQuery's error object)."""


@dataclass
class BigQueryEmulator:
    """A started emulator: BigQuery's REST API at `url`, for project `project`."""

    url: str
    project: str
    workdir: Path
    process: subprocess.Popen[bytes]
    log_path: Path
    session: requests.Session = field(default_factory=requests.Session)

    @property
    def refuse_file(self) -> Path:
        return self.workdir / "refuse-loads"

    @property
    def api(self) -> str:
        return f"{self.url}/bigquery/v2/projects/{self.project}"

    def service_account_key(self) -> Path:
        """A service account key file whose token endpoint is the emulator's `/token`."""
        path = self.workdir / "service-account.json"
        if not path.exists():
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            pem = key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ).decode()
            info = {
                "type": "service_account",
                "project_id": self.project,
                "private_key_id": "e2e",
                "private_key": pem,
                "client_email": f"copilot-loader@{self.project}.iam.gserviceaccount.com",
                "client_id": "1",
                "token_uri": f"{self.url}/token",
            }
            path.write_text(json.dumps(info))
        return path

    def loader_env(self, dataset: str) -> dict[str, str]:
        """target-bigquery's settings (and the client library's host) for `dataset`."""
        return {
            "BIGQUERY_EMULATOR_HOST": self.url,
            "TARGET_BIGQUERY_PROJECT": self.project,
            "TARGET_BIGQUERY_DATASET": dataset,
            "TARGET_BIGQUERY_CREDENTIALS_PATH": str(self.service_account_key()),
            NO_WAIT_VARIABLE: "1",
        }

    @contextmanager
    def refusing_loads(self, *patterns: str) -> Iterator[None]:
        """Loads into tables matching the fnmatch `patterns` are refused while inside."""
        self.refuse_file.write_text("\n".join(patterns) + "\n")
        try:
            yield
        finally:
            self.refuse_file.unlink(missing_ok=True)

    def log_lines(self, prefix: str) -> list[str]:
        """The emulator's log lines that start with `prefix` (what `emulator_fixes` said)."""
        lines = self.log_path.read_text(errors="replace").splitlines()
        return [line for line in lines if line.startswith(prefix)]

    # --- reading the warehouse, through BigQuery's REST API

    def query(self, sql: str) -> list[dict[str, Any]]:
        """Rows of a GoogleSQL query, as dicts with Python values (DATE -> date, ...)."""
        body = self._call("POST", "/queries", json={"query": sql, "useLegacySql": False})
        job_id = body["jobReference"]["jobId"]
        deadline = time.monotonic() + 120
        while not body.get("jobComplete", True):
            if time.monotonic() > deadline:
                msg = f"query did not complete in 120 s: {sql}"
                raise BigQueryError(msg)
            body = self._call("GET", f"/queries/{job_id}", params={"timeoutMs": 10000})
        fields = body["schema"]["fields"]
        rows = [_record(fields, row) for row in body.get("rows", [])]
        while body.get("pageToken"):
            body = self._call("GET", f"/queries/{job_id}", params={"pageToken": body["pageToken"]})
            rows += [_record(fields, row) for row in body.get("rows", [])]
        return rows

    def table_fields(self, dataset: str, table: str) -> dict[str, dict[str, Any]]:
        """The table's schema as BigQuery stores it: column name -> field (type, mode, fields)."""
        body = self._call("GET", f"/datasets/{dataset}/tables/{table}")
        return {f["name"]: f for f in body["schema"]["fields"]}

    def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        response = self.session.request(method, self.api + path, timeout=180, **kwargs)
        body = response.json()
        if response.status_code >= 400 or "error" in body:
            msg = f"{method} {path}: {response.status_code} {json.dumps(body.get('error'))}"
            raise BigQueryError(msg)
        return body

    # --- lifetime

    def wait_ready(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                if self.session.get(self.api + "/datasets", timeout=2).status_code == 200:
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.25)
        tail = "\n".join(self.log_path.read_text(errors="replace").splitlines()[-30:])
        self.stop()
        msg = f"bqemulator did not answer on {self.url} (log {self.log_path}):\n{tail}"
        raise RuntimeError(msg)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)
        self.session.close()


def _record(fields: list[dict[str, Any]], row: dict[str, Any]) -> dict[str, Any]:
    return {f["name"]: _value(f, cell["v"]) for f, cell in zip(fields, row["f"], strict=True)}


def _value(field: dict[str, Any], value: Any) -> Any:
    if value is None:
        return None
    if field.get("mode") == "REPEATED":
        return [_value({**field, "mode": "NULLABLE"}, item["v"]) for item in value]
    kind = field["type"].upper()
    if kind in ("RECORD", "STRUCT"):
        return _record(field["fields"], value)
    if kind in ("INTEGER", "INT64"):
        return int(value)
    if kind in ("FLOAT", "FLOAT64", "NUMERIC", "BIGNUMERIC"):
        return float(value)
    if kind in ("BOOLEAN", "BOOL"):
        return value in (True, "true")
    if kind == "DATE":
        return dt.date.fromisoformat(value)
    if kind == "TIMESTAMP":  # BigQuery sends seconds since the epoch (the emulator microseconds)
        seconds = float(value)
        return dt.datetime.fromtimestamp(seconds / 1e6 if seconds > 1e12 else seconds, dt.UTC)
    return value


#: Set for the target's runs against the emulator: the hook skips the consistency sleeps.
NO_WAIT_VARIABLE = "COPILOT_E2E_BIGQUERY_CONSISTENT"
_NO_WAIT_MODULE = "copilot_e2e_bigquery_no_wait"


def install_no_wait_hook(meltano: Meltano) -> Path:
    """Write the hook (a module and the .pth that imports it) into target-bigquery's venv."""
    site_packages = plugin_site_packages(meltano.sys_dir, "loaders", "target-bigquery")
    module = site_packages / f"{_NO_WAIT_MODULE}.py"
    module.write_text(
        '"""Written by tests/e2e/bigquery_support.py: see its docstring."""\n\n'
        f"{inspect.getsource(no_wait_hook_main)}\n\nno_wait_hook_main()\n"
    )
    (site_packages / f"{_NO_WAIT_MODULE}.pth").write_text(f"import {_NO_WAIT_MODULE}\n")
    return module


def no_wait_hook_main() -> None:
    """Runs when any Python of the target's venv starts; inert without its variable."""
    import os
    import sys
    import time

    if not os.environ.get("COPILOT_E2E_BIGQUERY_CONSISTENT"):
        return
    real_sleep = time.sleep

    def sleep(seconds: float) -> None:
        caller = sys._getframe(1).f_code.co_filename.replace("\\", "/")
        if not caller.endswith("target_bigquery/core.py"):
            real_sleep(seconds)

    time.sleep = sleep


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_emulator(python: Path, workdir: Path) -> BigQueryEmulator:
    """bqemulator (in memory) on a free 127.0.0.1 port, taught `emulator_fixes`."""
    launcher = workdir / "bqemulator_e2e.py"
    launcher.write_text(LAUNCHER)
    uploads = workdir / "uploads"
    uploads.mkdir(exist_ok=True)
    port = free_port()
    env = {
        **os.environ,
        "HOME": str(python.parent.parent / _DUCKDB_HOME),
        "BQEMU_ENABLE_FORMAT_EXTENSIONS": "false",  # Avro: would be downloaded at start
        "BQEMU_UPLOAD_STAGING_DIR": str(uploads),
        "BQEMU_E2E_REFUSE_FILE": str(workdir / "refuse-loads"),
    }
    args = [str(python), str(launcher), "start", "--rest-host", "127.0.0.1"]
    args += ["--rest-port", str(port), "--grpc-host", "127.0.0.1", "--grpc-port", "0"]
    args += ["--project", PROJECT_ID, "--log-level", "warning", "--log-format", "console"]
    log_path = workdir / "bqemulator.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(args, cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT)
    emulator = BigQueryEmulator(f"http://127.0.0.1:{port}", PROJECT_ID, workdir, process, log_path)
    emulator.wait_ready()
    return emulator


@pytest.fixture(scope="session")
def bigquery_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BigQueryEmulator]:
    """A BigQuery emulator for the session (its venv built on first use), stopped at the end."""
    python = ensure_emulator_venv()
    emulator = start_emulator(python, tmp_path_factory.mktemp("bqemulator"))
    try:
        yield emulator
    finally:
        emulator.stop()
