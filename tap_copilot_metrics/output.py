"""Singer output: the SDK's msgspec encoding, flushed at STATE messages, not after every record.

The SDK's writers flush stdout after each message, one system call per record, which dominates
the cost of a large per-user backfill. Records are buffered instead and the buffer is flushed
whenever a STATE (or SCHEMA) message is written, so every STATE line reaches the target only
after all the records it covers: a crash can lose unflushed records, but never a bookmark's data.

When the reader of stdout goes away (`tap-copilot-metrics ... | head`), the failed write raises
`OutputClosed` instead of `BrokenPipeError`, and `main` ends the run with one line on stderr
(`end_closed_output_run`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys

from singer_sdk.contrib.msgspec import MsgSpecWriter
from singer_sdk.singerlib.encoding.simple import Message, SingerMessageType

from tap_copilot_metrics.errors import OutputClosed

#: Records between two forced flushes, so a slow stream still shows progress downstream.
FLUSH_EVERY_RECORDS = 5_000


class BufferedMsgSpecWriter(MsgSpecWriter):
    """The SDK's msgspec writer (same bytes), flushing at checkpoints instead of every line."""

    def __init__(self) -> None:
        super().__init__()
        self._unflushed_records = 0
        self._last_schema: dict[str, bytes] = {}

    def write_message(self, message: Message) -> None:
        """Buffer records; flush before a STATE or SCHEMA message is considered written."""
        # The SDK serializes into one reused bytearray: use it before the next message.
        line = self.format_message(message)
        if message.type is SingerMessageType.SCHEMA:
            # Child streams are synced once per batch and the SDK sends their SCHEMA each time;
            # some targets flush every stream on each SCHEMA, so an unchanged one is not repeated.
            stream = getattr(message, "stream", "")
            if self._last_schema.get(stream) == line:
                return
            self._last_schema[stream] = bytes(line)
        stdout = sys.stdout
        try:
            buffer = getattr(stdout, "buffer", None)
            if buffer is not None:
                buffer.write(line)
            else:  # a text stream without bytes underneath (tests capturing output)
                stdout.write(line.decode())
            if message.type is SingerMessageType.RECORD:
                self._unflushed_records += 1
                if self._unflushed_records < FLUSH_EVERY_RECORDS:
                    return
            self._unflushed_records = 0
            stdout.flush()
        except BrokenPipeError as exc:
            # Nothing written from now on can reach anyone: stop the run, not just this stream.
            raise OutputClosed from exc


def end_closed_output_run(line: str) -> None:
    """Write `line` last on stderr of a run whose reader went away, and nothing after it.

    * stdout is pointed at devnull (Python docs, "Note on SIGPIPE"), so that the interpreter's
      final flush of what is still buffered does not fail a second time at exit.
    * Logging stops, and stderr's descriptor is pointed at devnull too, `line` going to a
      copy of the original: report fetches still running ahead on worker threads could
      otherwise log after it (a record already being written when logging stops included).

    For `main` only, right before it exits: nothing the process writes to stderr afterwards
    is seen.
    """
    devnull = os.open(os.devnull, os.O_WRONLY)
    with contextlib.suppress(OSError, ValueError):  # ValueError: stdout without a descriptor
        os.dup2(devnull, sys.stdout.fileno())
    logging.disable(logging.CRITICAL)
    text = line.rstrip("\n") + "\n"
    with contextlib.suppress(OSError, ValueError):  # stderr closed too (`2>&1 | head`)
        sys.stderr.flush()
    try:
        original = os.dup(sys.stderr.fileno())
    except (OSError, ValueError):  # stderr without a descriptor (tests capturing it)
        with contextlib.suppress(OSError, ValueError):
            sys.stderr.write(text)
            sys.stderr.flush()
        return
    with contextlib.suppress(OSError):
        os.dup2(devnull, sys.stderr.fileno())
    with contextlib.suppress(OSError):
        os.write(original, text.encode(errors="backslashreplace"))
