"""A throwaway PostgreSQL server for the end-to-end tests.

It uses the server binaries of Debian's `postgresql` package (initdb, pg_ctl) and a temporary
data directory, listens on 127.0.0.1 on a free port and is removed after the test session, so
the same tests run on a developer's machine and in CI (`.ci/run` only installs the package).
PostgreSQL refuses to run as root: as root the cluster runs as the `postgres` system user.
"""

from __future__ import annotations

import os
import pwd
import re
import secrets
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

import psycopg

SERVER_USER = "postgres"  # the system account Debian's package creates


@dataclass(frozen=True)
class PgServer:
    """How to reach a running server (password login over TCP)."""

    host: str
    port: int
    user: str
    password: str
    database: str

    @classmethod
    def from_url(cls, url: str) -> PgServer:
        """`postgresql://user:password@host:port/database`."""
        parts = urlsplit(url)
        return cls(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or 5432,
            user=unquote(parts.username or "postgres"),
            password=unquote(parts.password or ""),
            database=parts.path.lstrip("/") or "postgres",
        )

    def url(self, database: str | None = None) -> str:
        return (
            f"postgresql://{quote(self.user)}:{quote(self.password)}@{self.host}:{self.port}/"
            f"{database or self.database}"
        )

    def connect(
        self, database: str | None = None, *, autocommit: bool = False
    ) -> psycopg.Connection:
        return psycopg.connect(self.url(database), autocommit=autocommit)

    def create_database(self, name: str) -> None:
        """A fresh, empty database (dropped first if a previous run left it)."""
        if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
            msg = f"unsafe database name {name!r}"
            raise ValueError(msg)
        with self.connect(autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name}")
            conn.execute(f"CREATE DATABASE {name}")


def find_bindir() -> Path | None:
    """The directory holding initdb and pg_ctl: $PG_BINDIR, PATH, or Debian's layout."""
    candidates: list[Path] = []
    if os.environ.get("PG_BINDIR"):
        candidates.append(Path(os.environ["PG_BINDIR"]))
    for tool in ("pg_ctl", "initdb"):
        found = shutil.which(tool)
        if found:
            candidates.append(Path(found).resolve().parent)
    debian = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
        reverse=True,
    )
    candidates.extend(debian)
    for directory in candidates:
        if (directory / "initdb").is_file() and (directory / "pg_ctl").is_file():
            return directory
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PgCluster:
    """initdb + pg_ctl start/stop in a temporary directory."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.base = Path(tempfile.mkdtemp(prefix="copilot-e2e-pg-"))
        self.data = self.base / "data"
        self.password = secrets.token_urlsafe(16)
        self.run_as = _server_account()
        self._started = False

    def start(self, user: str = "copilot", database: str = "postgres") -> PgServer:
        """Create the cluster and start it on a free port (retrying if the port was taken)."""
        pwfile = self.base / "pwfile"
        pwfile.write_text(self.password + "\n")
        if self.run_as is not None:
            for path in (self.base, pwfile):
                os.chown(path, self.run_as.pw_uid, self.run_as.pw_gid)
        self._run(
            "initdb", "-D", str(self.data), "-U", user, "--auth=scram-sha-256",
            f"--pwfile={pwfile}", "-E", "UTF8", "--no-locale",
        )  # fmt: skip
        last_error = ""
        for _ in range(3):
            port = _free_port()
            options = (
                f"-c listen_addresses=127.0.0.1 -p {port} -c unix_socket_directories={self.base} "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
            )
            completed = self._run(
                "pg_ctl", "-D", str(self.data), "-l", str(self.base / "server.log"), "-w",
                "-t", "60", "-o", options, "start", check=False,
            )  # fmt: skip
            if completed.returncode == 0:
                self._started = True
                return PgServer("127.0.0.1", port, user, self.password, database)
            last_error = completed.stdout + completed.stderr + self.server_log()
        msg = f"PostgreSQL did not start:\n{last_error[-3000:]}"
        raise RuntimeError(msg)

    def stop(self) -> None:
        """Stop the server and delete its files."""
        if self._started:
            self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop", check=False)
            self._started = False
        shutil.rmtree(self.base, ignore_errors=True)

    def server_log(self) -> str:
        log = self.base / "server.log"
        return log.read_text(errors="replace") if log.exists() else ""

    def _run(self, tool: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        kwargs: dict = {}
        if self.run_as is not None:
            kwargs = {"user": self.run_as.pw_uid, "group": self.run_as.pw_gid, "extra_groups": []}
        completed = subprocess.run(
            [str(self.bindir / tool), *args],
            capture_output=True,
            text=True,
            check=False,
            cwd=self.base,
            timeout=120,
            **kwargs,
        )
        if check and completed.returncode != 0:
            msg = f"{tool} failed:\n{completed.stdout}{completed.stderr}"
            raise RuntimeError(msg)
        return completed


def _server_account() -> pwd.struct_passwd | None:
    """None when we may run the server ourselves; the `postgres` account when we are root."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(SERVER_USER)
    except KeyError:
        msg = (
            "running as root and there is no `postgres` system user to run PostgreSQL as "
            "(apt-get install postgresql creates it)"
        )
        raise RuntimeError(msg) from None
