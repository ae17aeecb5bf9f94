"""A local Snowflake for the end-to-end tests: fakesnow in server mode, in its own virtualenv.

fakesnow (DuckDB underneath) answers the Snowflake connector's HTTP protocol. It breaks with
snowflake-connector-python 5 (it imports `snowflake.connector.converter`) and brings its own server
stack (sqlglot, starlette, uvicorn), so it gets a virtualenv of its own, `.meltano/fakesnow-venv`
(built once, about 15 s, and reused while `FAKESNOW_PINS` match). Each session starts one server on
a free 127.0.0.1 port (`fakesnow -s -p PORT`) and stops it at the end. The tests read it with the
connector of that venv (`Fakesnow.query`).

How target-snowflake reaches it. The target has no host or port setting: it builds a SQLAlchemy
URL from `account`, and snowflake-sqlalchemy refuses `host`/`protocol` in a URL anyway. So the
test drops a `.pth` file into the target's virtualenv (the session's plugin venv, never the
project's `.meltano`): at interpreter start it runs `hook_main`, which does nothing unless
COPILOT_E2E_SNOWFLAKE_ENDPOINT is set, and then adds `host`, `port` and `protocol` (and a
network timeout, so that an emulator fault fails the run instead of being retried for ever) to
every `snowflake.connector` connection. Every statement the target sends is left as it is.

What fakesnow cannot run is the target's staging: PUT to the user stage `@~`, the MERGE whose
source is `SELECT $1:col::TYPE ... FROM '@~/...'(file_format => ...) QUALIFY ... SEQ8()`, REMOVE
and DROP FILE FORMAT (docs/snowflake.md has the precise list). Only when
COPILOT_E2E_SNOWFLAKE_STAGE names a table does the hook also stand in for those steps of the
target's connector (`_stand_in_for_the_user_stage` explains each); everything else (records,
batch files, DDL, the MERGE's columns, casts, keys and clauses, its execution) stays the target's
own code. The statements the target would have sent and what was sent instead are written, one
JSON object a line, to COPILOT_E2E_SNOWFLAKE_STAGE_LOG.
"""

from __future__ import annotations

import inspect
import json
import socket
import subprocess
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.e2e_support import PROJECT, Meltano
from tests.e2e.venvs import pinned_venv, plugin_site_packages

#: What fakesnow's virtualenv holds (fakesnow pins duckdb ~=2.0.0 and sqlglot ~=30.22.0; 0.12.1
#: imports `snowflake.connector.converter`, which connector 5 no longer has).
FAKESNOW_PINS = (
    "fakesnow[server]==0.12.1",
    "snowflake-connector-python==4.8.1",
    "duckdb==2.0.1",
    "sqlglot==30.22.0",
    "starlette==1.10.0",
    "uvicorn==0.54.0",
)
FAKESNOW_VENV = PROJECT.root / ".meltano" / "fakesnow-venv"
LOADER = "target-snowflake"
#: Read by the hook in the target's venv.
ENDPOINT_ENV = "COPILOT_E2E_SNOWFLAKE_ENDPOINT"
STAGE_ENV = "COPILOT_E2E_SNOWFLAKE_STAGE"
STAGE_LOG_ENV = "COPILOT_E2E_SNOWFLAKE_STAGE_LOG"
_HOOK_MODULE = "copilot_e2e_fakesnow"


# --- fakesnow's virtualenv --------------------------------------------------------------------


def ensure_fakesnow_venv(venv: Path = FAKESNOW_VENV) -> Path:
    """fakesnow's Python: `venv` as it is when built with `FAKESNOW_PINS`, else built anew."""
    return pinned_venv(venv, FAKESNOW_PINS, what="fakesnow's virtualenv")


# --- the server -------------------------------------------------------------------------------


@dataclass
class QueryResult:
    """One statement's outcome: its rows (dates as ISO text, VARIANT as JSON text), or error."""

    columns: list[str]
    rows: list[list[Any]]
    error: str | None = None


@dataclass
class Fakesnow:
    """A running `fakesnow -s` and the interpreter of its venv (which has the connector)."""

    python: Path
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def query(
        self,
        database: str,
        statements: Sequence[str],
        *,
        schema: str | None = None,
        timeout: float = 60,
    ) -> list[QueryResult]:
        """Run each statement in one session on `database` (and `schema`); errors are kept.

        `timeout` bounds the connector's retries of one statement (fakesnow answers HTTP 500
        for some statements it cannot run, which the connector retries).
        """
        request = {
            "port": self.port,
            "database": database,
            "schema": schema,
            "statements": list(statements),
            "timeout": timeout,
        }
        script = inspect.getsource(_run_queries) + "\n_run_queries()\n"
        completed = subprocess.run(
            [str(self.python), "-c", script],
            input=json.dumps(request),
            capture_output=True,
            text=True,
            timeout=timeout * max(len(statements), 1) + 120,
            check=False,
        )
        if completed.returncode != 0:
            msg = f"querying fakesnow failed:\n{completed.stderr[-3000:]}"
            raise RuntimeError(msg)
        return [QueryResult(**result) for result in json.loads(completed.stdout)]

    def rows(self, database: str, sql: str) -> list[list[Any]]:
        """The rows of one query, which must succeed."""
        (result,) = self.query(database, [sql])
        assert result.error is None, f"{sql}\n-> {result.error}"
        return result.rows

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)


def _run_queries() -> None:
    """Runs in fakesnow's venv: a JSON request on stdin, a JSON list of results on stdout."""
    import datetime
    import decimal
    import json
    import sys

    import snowflake.connector

    def plain(value):
        if isinstance(value, datetime.date | datetime.datetime):
            return value.isoformat()
        if isinstance(value, decimal.Decimal):
            return int(value) if value == value.to_integral_value() else float(value)
        if isinstance(value, bytes):
            return value.hex()
        return value

    request = json.load(sys.stdin)
    schema = {"schema": request["schema"]} if request["schema"] else {}
    connection = snowflake.connector.connect(
        account="fakesnow",
        user="copilot_e2e",
        password="fakesnow",  # fakesnow accepts any login
        database=request["database"],
        host="127.0.0.1",
        port=request["port"],
        protocol="http",
        network_timeout=request["timeout"],
        **schema,
    )
    results = []
    for statement in request["statements"]:
        cursor = connection.cursor()
        try:
            cursor.execute(statement)
            rows = cursor.fetchall()
        except snowflake.connector.errors.Error as error:
            results.append({"columns": [], "rows": [], "error": f"{type(error).__name__}: {error}"})
            continue
        columns = [column[0] for column in cursor.description or ()]
        results.append(
            {"columns": columns, "rows": [[plain(v) for v in row] for row in rows], "error": None}
        )
    connection.close()
    json.dump(results, sys.stdout)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_fakesnow(python: Path, workdir: Path, *, attempts: int = 3) -> Fakesnow:
    """`fakesnow -s` on a free 127.0.0.1 port, once it accepts connections."""
    for attempt in range(attempts):
        port = free_port()
        log = workdir / f"fakesnow-{attempt}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [str(python), "-m", "fakesnow", "-s", "--host", "127.0.0.1", "-p", str(port)],
                cwd=workdir,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        server = Fakesnow(python, port, process, log)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and process.poll() is None:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
            except OSError:
                time.sleep(0.2)
            else:
                return server
        server.stop()  # the port was taken meanwhile, or the server did not come up
    msg = f"fakesnow did not start; see {workdir}/fakesnow-*.log"
    raise RuntimeError(msg)


@pytest.fixture(scope="session")
def fakesnow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fakesnow]:
    """One fakesnow server for the session, stopped at the end."""
    server = start_fakesnow(ensure_fakesnow_venv(), tmp_path_factory.mktemp("fakesnow"))
    try:
        yield server
    finally:
        server.stop()


# --- the hook in target-snowflake's virtualenv ------------------------------------------------


def install_hook(meltano: Meltano) -> Path:
    """Write the hook (a module and the .pth that imports it) into the target's venv."""
    site_packages = plugin_site_packages(meltano.sys_dir, "loaders", LOADER)
    functions = (_stand_in_for_the_user_stage, _route_to_fakesnow, hook_main)
    source = "\n\n".join(inspect.getsource(function) for function in functions)
    module = site_packages / f"{_HOOK_MODULE}.py"
    module.write_text(
        f'"""Written by tests/e2e/snowflake_support.py: see its docstring."""\n\n'
        f"from __future__ import annotations\n\n{source}\n\nhook_main()\n"
    )
    (site_packages / f"{_HOOK_MODULE}.pth").write_text(f"import {_HOOK_MODULE}\n")
    return module


def hook_main() -> None:
    """Runs when any Python of the target's venv starts; inert without its variables."""
    import os

    endpoint = os.environ.get("COPILOT_E2E_SNOWFLAKE_ENDPOINT")
    if endpoint:
        # fakesnow answers some statements it cannot run with HTTP 500, which the connector
        # retries; 120 s bounds that, so such a fault fails the run instead of hanging it.
        _route_to_fakesnow(endpoint, network_timeout=120)
        stage = os.environ.get("COPILOT_E2E_SNOWFLAKE_STAGE")
        if stage:
            _stand_in_for_the_user_stage(stage, os.environ["COPILOT_E2E_SNOWFLAKE_STAGE_LOG"])


def _route_to_fakesnow(endpoint: str, network_timeout: int) -> None:
    """Every snowflake.connector connection goes to `endpoint` (http://127.0.0.1:PORT)."""
    from urllib.parse import urlsplit

    import snowflake.connector.connection

    url = urlsplit(endpoint)
    connection_class = snowflake.connector.connection.SnowflakeConnection
    original_init = connection_class.__init__

    def routed_init(self, *args, **kwargs):
        kwargs.update(host=url.hostname, port=url.port, protocol=url.scheme)
        kwargs.setdefault("network_timeout", network_timeout)
        original_init(self, *args, **kwargs)

    connection_class.__init__ = routed_init


def _stand_in_for_the_user_stage(stage_table: str, log_path: str) -> None:
    """Replace what fakesnow cannot run of the target's staging, and only that.

    `stage_table` (DATABASE.SCHEMA.TABLE with columns SYNC_ID, SEQ, DOC VARIANT) stands in for
    the user stage `@~/target-snowflake/<sync_id>`:

    - PUT of a batch file (gzipped JSON lines written by the target) -> its lines, in order,
      inserted into `stage_table` with PARSE_JSON (FLATTEN of one JSON array per chunk);
    - the MERGE the target builds -> the same statement with its source rewritten: the staged
      file `'@~/...'(file_format => ...)` becomes the rows of `stage_table`; the positional
      column `$1` becomes DOC; the CTE `staged` holds the target's own cast columns, so that its
      QUALIFY (on the select-list names) binds inside fakesnow's MERGE; `SEQ8()` (file order)
      becomes SEQ. Target table, columns, casts, keys and WHEN clauses are unchanged, and the
      target's own `merge_from_stage` executes it;
    - REMOVE of the staged files -> DELETE of their rows; DROP FILE FORMAT -> skipped;
    - sessions start in the schema of `stage_table`: fakesnow's MERGE fails without a current
      schema, and the target's URL names none (its statements name every table in full).

    COPY INTO (load_method append-only or overwrite) is not stood in for: it raises.
    """
    import gzip
    import json
    import re
    import threading
    from urllib.parse import urlparse

    import snowflake.connector.connection
    import sqlalchemy
    from target_snowflake.connector import SnowflakeConnector

    connection_class = snowflake.connector.connection.SnowflakeConnection
    routed_init = connection_class.__init__

    def init_in_stage_schema(self, *args, **kwargs):
        kwargs.setdefault("schema", stage_table.split(".")[1])
        routed_init(self, *args, **kwargs)

    connection_class.__init__ = init_in_stage_schema

    lock = threading.Lock()
    chunk_rows = 500
    merge_shape = re.compile(
        r"(?P<head>merge into (?P<table>\S+) d using \()select (?P<casts>.+?) from "
        r"'@~/target-snowflake/(?P<sync_id>[^']+)'\(file_format => (?P<file_format>.+?)\) "
        r"QUALIFY ROW_NUMBER\(\) OVER \(PARTITION BY (?P<keys>.+?) ORDER BY SEQ8\(\) DESC\) = 1"
        r"(?P<tail>\) s on .+)",
        re.DOTALL,
    )

    def log(**event):
        with lock, open(log_path, "a", encoding="utf-8") as out:
            out.write(json.dumps(event) + "\n")

    def read_lines(file_uri):
        path = urlparse(file_uri).path
        opener = gzip.open if path.endswith(".gz") else open
        with opener(path, "rt", encoding="utf-8") as lines:
            return [line for line in lines.read().splitlines() if line.strip()]

    def put_batches_to_stage(self, sync_id, files):
        staged = 0
        with self._connect() as conn, conn.begin():
            for file_uri in files:
                put, _ = self._get_put_statement(sync_id=sync_id, file_uri=file_uri)
                rendered = put.text.replace(":file_uri", f"'{file_uri}'")
                lines = read_lines(file_uri)
                for start in range(0, len(lines), chunk_rows):
                    chunk = "[" + ",".join(lines[start : start + chunk_rows]) + "]"
                    conn.exec_driver_sql(
                        f"insert into {stage_table} (SYNC_ID, SEQ, DOC) "  # noqa: S608
                        "select %s, f.index + %s, f.value "
                        "from table(flatten(input => parse_json(%s))) f",
                        (sync_id, staged + start, chunk),
                    )
                staged += len(lines)
                log(step="put", sync_id=sync_id, target_sql=rendered, rows=len(lines))

    original_merge_statement = SnowflakeConnector._get_merge_from_stage_statement

    def merge_statement(self, full_table_name, schema, sync_id, file_format, key_properties):
        statement, kwargs = original_merge_statement(
            self,
            full_table_name=full_table_name,
            schema=schema,
            sync_id=sync_id,
            file_format=file_format,
            key_properties=key_properties,
        )
        target_sql = statement.text
        shape = merge_shape.fullmatch(target_sql)
        if shape is None or shape["sync_id"] != sync_id:
            msg = f"target-snowflake's MERGE is not of the shape the stand-in knows: {target_sql}"
            raise RuntimeError(msg)
        casts = shape["casts"]
        if casts.count("$1:") != len(schema["properties"]):
            msg = f"not one `$1:` per column in the target's MERGE: {target_sql}"
            raise RuntimeError(msg)
        sent_sql = (
            f"{shape['head']}with staged as (select {casts.replace('$1:', 'DOC:')}, "  # noqa: S608
            f"SEQ as \"E2E_SEQ\" from {stage_table} where SYNC_ID = '{sync_id}') "
            "select * from staged QUALIFY ROW_NUMBER() OVER "
            f'(PARTITION BY {shape["keys"]} ORDER BY "E2E_SEQ" DESC) = 1{shape["tail"]}'
        )
        copy_sql = self._get_copy_statement(full_table_name, schema, sync_id, file_format)[0]
        log(
            step="merge",
            table=str(full_table_name),
            sync_id=sync_id,
            keys=list(key_properties),
            target_sql=target_sql,
            sent_sql=sent_sql,
            copy_sql=copy_sql.text,
        )
        return sqlalchemy.text(sent_sql), kwargs

    original_remove_statement = SnowflakeConnector._get_stage_files_remove_statement

    def remove_statement(self, sync_id):
        target_sql = original_remove_statement(self, sync_id)[0].text
        sent_sql = f"delete from {stage_table} where SYNC_ID = '{sync_id}'"  # noqa: S608
        log(step="remove", sync_id=sync_id, target_sql=target_sql, sent_sql=sent_sql)
        return sqlalchemy.text(sent_sql), {}

    def drop_file_format(self, file_format):
        target_sql = self._get_drop_file_format_statement(file_format=file_format)[0].text
        log(step="drop_file_format", target_sql=target_sql)

    def copy_from_stage(self, *args, **kwargs):
        msg = "the e2e stage stand-in has no COPY INTO (load_method append-only/overwrite)"
        raise NotImplementedError(msg)

    SnowflakeConnector.put_batches_to_stage = put_batches_to_stage
    SnowflakeConnector._get_merge_from_stage_statement = merge_statement
    SnowflakeConnector._get_stage_files_remove_statement = remove_statement
    SnowflakeConnector.drop_file_format = drop_file_format
    SnowflakeConnector.copy_from_stage = copy_from_stage


def stage_events(log: Path) -> list[dict[str, Any]]:
    """What the stand-in logged, in order."""
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
