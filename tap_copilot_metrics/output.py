"""Singer output: msgspec encoding, flushed at STATE messages instead of after every record.

The SDK's writers flush stdout after each message, one system call per record, which dominates
the cost of a large per-user backfill. Records are buffered instead and the buffer is flushed
whenever a STATE (or SCHEMA) message is written, so every STATE line reaches the target only
after all the records it covers: a crash can lose unflushed records, but never a bookmark's data.
"""

from __future__ import annotations

import datetime as dt
import sys
from typing import Any

import msgspec
from singer_sdk.singerlib.encoding.base import GenericSingerWriter
from singer_sdk.singerlib.encoding.simple import Message, SingerMessageType

#: Records between two forced flushes, so a slow stream still shows progress downstream.
FLUSH_EVERY_RECORDS = 5_000


def _encode_other(value: Any) -> Any:
    """JSON for values msgspec does not know (the SDK's own convention)."""
    if isinstance(value, dt.datetime):
        return value.isoformat(sep="T")
    return str(value)


_ENCODER = msgspec.json.Encoder(enc_hook=_encode_other, decimal_format="number")


class BufferedMsgSpecWriter(GenericSingerWriter[bytes, Message]):
    """Writes Singer messages as JSON lines, flushing at checkpoints."""

    def __init__(self) -> None:
        self._unflushed_records = 0
        self._last_schema: dict[str, bytes] = {}

    def serialize_message(self, message: Message) -> bytes:
        """One JSON line."""
        return _ENCODER.encode(message.to_dict()) + b"\n"

    def write_message(self, message: Message) -> None:
        """Buffer records; flush before a STATE or SCHEMA message is considered written."""
        line = self.format_message(message)
        if message.type is SingerMessageType.SCHEMA:
            # Child streams are synced once per batch and the SDK sends their SCHEMA each time;
            # some targets flush every stream on each SCHEMA, so an unchanged one is not repeated.
            stream = getattr(message, "stream", "")
            if self._last_schema.get(stream) == line:
                return
            self._last_schema[stream] = line
        stdout = sys.stdout
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
