"""A reader that stops early (`tap-copilot-metrics ... | head`) ends the run with one clear line.

The real command runs in a subprocess against the simulator; the test reads a few lines of its
output and closes the pipe while the tap still has plenty to write, as `head` does. The tap must
exit non-zero with its own one-line error last on stderr: no traceback, no "Exception ignored"
from the interpreter flushing stdout at exit, and no SDK "unhandled error" line.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import select
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from copilot_devkit.simulator import Simulator
from singer_sdk.singerlib.encoding.simple import RecordMessage, StateMessage

from tap_copilot_metrics.errors import OutputClosed
from tap_copilot_metrics.output import BufferedMsgSpecWriter
from tests.reliability_support import error_line

TIMEOUT = 120.0
LINES_READ = 5


def read_lines(pipe: io.BufferedReader, count: int, deadline: float) -> list[bytes]:
    """Up to `count` lines from `pipe`, never waiting past `deadline` (time.monotonic)."""
    data = b""
    fd = pipe.fileno()
    while data.count(b"\n") < count:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            pytest.fail(f"the tap wrote {len(data)} bytes in {TIMEOUT:g}s, not {count} lines")
        ready, _, _ = select.select([fd], [], [], remaining)
        if not ready:
            continue
        chunk = os.read(fd, 4096)
        if not chunk:  # the tap closed its stdout: it ended before writing enough
            break
        data += chunk
    return data.split(b"\n")[:count]


@pytest.mark.skipif(sys.platform == "win32", reason="select() on pipes is POSIX only")
def test_closed_stdout_ends_with_one_line(
    make_simulator: Callable[..., Simulator], tmp_path: Path
) -> None:
    sim = make_simulator(users_per_org=300)
    start = sim.settings.ready_through - dt.timedelta(days=9)
    config_path = tmp_path / "config.json"
    config_path.write_text(json.dumps(sim.tap_config(start_date=start.isoformat())))
    stderr_path = tmp_path / "stderr.txt"

    args = [sys.executable, "-m", "tap_copilot_metrics", "--config", str(config_path)]
    with stderr_path.open("wb") as stderr_file:
        process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=stderr_file)
        try:
            assert process.stdout is not None
            lines = read_lines(process.stdout, LINES_READ, time.monotonic() + TIMEOUT)
            process.stdout.close()  # what `head` does once it has its lines
            exit_code = process.wait(timeout=TIMEOUT)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=TIMEOUT)

    assert len(lines) == LINES_READ
    assert all(json.loads(line)["type"] for line in lines)
    stderr = stderr_path.read_text()
    assert exit_code == 1, stderr[-2000:]
    assert "Traceback" not in stderr
    assert "Exception ignored" not in stderr
    assert "BrokenPipeError" not in stderr
    assert "An unhandled error occurred" not in stderr
    line = error_line(stderr)
    assert "stdout was closed" in line
    assert "broken pipe" in line
    assert stderr.count("tap-copilot-metrics: error:") == 1
    # INFO logs of a few seconds of sync, nothing that grows with the data left unwritten.
    assert len(stderr) < 100_000


class _ClosedPipe(io.RawIOBase):
    """A pipe whose reader has gone, until `drain` lets the test clean up."""

    drain = False

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        if self.drain:
            return len(data)
        raise BrokenPipeError(32, "Broken pipe")


def test_writer_turns_broken_pipe_into_output_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    pipe = _ClosedPipe()
    stdout = io.TextIOWrapper(io.BufferedWriter(pipe, buffer_size=64))
    monkeypatch.setattr(sys, "stdout", stdout)
    writer = BufferedMsgSpecWriter()
    record = RecordMessage(stream="s", record={"id": 1, "text": "x" * 100})
    try:
        with pytest.raises(OutputClosed) as raised:
            writer.write_message(record)  # more than the buffer holds: written at once
        assert isinstance(raised.value.__cause__, BrokenPipeError)
        # Not an `Exception`: the SDK's "An unhandled error occurred" handler lets it pass.
        assert not isinstance(raised.value, Exception)
        with pytest.raises(OutputClosed):
            writer.write_message(StateMessage(value={"bookmarks": {}}))
    finally:
        monkeypatch.undo()
        pipe.drain = True
        stdout.close()


#: A process whose worker thread logs without pause while the main thread ends the run.
_WORKER_LOGS_WHILE_ENDING = """
import logging, sys, threading, time
from tap_copilot_metrics.output import end_closed_output_run

logging.basicConfig(stream=sys.stderr, format="%(threadName)s %(message)s")
log = logging.getLogger("tap-copilot-metrics.fetch")
started = threading.Event()

def fetch_ahead():
    while True:
        log.warning("fetched a day")
        started.set()

threading.Thread(target=fetch_ahead, daemon=True).start()
started.wait(10)
end_closed_output_run("tap-copilot-metrics: error: the last line")
time.sleep(0.2)  # the worker keeps going until the process exits
sys.exit(1)
"""


def test_no_log_line_from_a_worker_thread_after_the_error_line() -> None:
    """Report fetches run ahead on threads: none of their log lines lands after the error."""
    for _ in range(5):
        done = subprocess.run(
            [sys.executable, "-c", _WORKER_LOGS_WHILE_ENDING],
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )
        lines = done.stderr.splitlines()
        assert done.returncode == 1, done.stderr[-2000:]
        assert "fetched a day" in lines[0]
        assert lines[-1] == "tap-copilot-metrics: error: the last line"
        assert lines.count(lines[-1]) == 1
        assert "Traceback" not in done.stderr
