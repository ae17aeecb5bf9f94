"""Streaming parser of Copilot usage-metrics report files.

A report file arrives as byte chunks from a signed download URL (the stream does the HTTP).
GitHub documents NDJSON (one JSON object per line), but files have also been seen, or are at
least worth being ready for, as a JSON array, a pretty-printed object, or a gzip stream; and a
"no report" answer can be a bare JSON string such as ``"No report available"``. This module
turns any of those into dicts without ever holding a whole file in memory: at most one record
(one line, or one array element) plus one chunk is buffered.

NDJSON, what GitHub sends, is decoded line by line with msgspec. Arrays and multi-line values
go to ijson (its yajl C backend), fed one line at a time so that an error names its line (for
a value that is not an object: the line where it ends). ijson runs with ``use_float=False``:
with ``use_float=True`` yajl rejects integers outside the signed 64-bit range, which must stay
exact as they do in NDJSON; its decimals are turned into floats here instead. Both paths give
integers of any size, floats for decimals, and reject NaN, Infinity and out-of-range numbers.

At about 460 lines the module is over the ~350 aimed at: the ijson part is about 80 of them
(the hand-written parser it replaced was about 180); the rest, gzip and BOM layers, format
detection, the NDJSON fast path and the 28-day ``day_totals`` expansion, is unchanged.

Entry points:

* :func:`iter_report_records` yields each top-level JSON object of a file;
* :func:`expand_day_totals` turns a 28-day wrapper line into one row per ``day_totals`` day.

Errors: a file that cannot be parsed raises :class:`ReportFileError` naming the caller's
``source`` description (never the signed URL, which is a credential) and the line number. A
file that is only a bare JSON string raises :class:`NoReportInFile`, deliberately *not* a
``ReportFileError``: it is GitHub's way of saying "nothing here", which the stream may treat
like an HTTP 204. It is raised after the whole file was read, before any record is yielded
(a string followed by records is a ``ReportFileError``). An empty or whitespace-only file yields
no records and raises nothing: it cannot be told apart from a report without rows, so the
caller, who knows whether a body was promised (Content-Length), decides.
"""

from __future__ import annotations

import codecs
import itertools
import math
import typing as t
import zlib
from decimal import Decimal

import ijson
import msgspec

if t.TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator

Record = dict[str, t.Any]

__all__ = [
    "WINDOW_LEVEL_FIELDS",
    "NoReportInFile",
    "Record",
    "ReportFileError",
    "expand_day_totals",
    "iter_report_records",
    "window_fields",
]

# Wrapper fields of 28-day files that describe the whole 28-day window, not a day; see
# expand_day_totals. Any other non-scalar wrapper field is treated the same way.
WINDOW_LEVEL_FIELDS = frozenset({"copilot_feature_engagement"})

_GZIP_MAGIC = b"\x1f\x8b"
_GZIP_WBITS = 16 + zlib.MAX_WBITS  # gzip header and trailer
# Output cap per decompress() call: a few KB of gzip can inflate to gigabytes.
_INFLATE_STEP = 1 << 20
_JSON_WHITESPACE = b" \t\r\n"
_NEWLINE = ord("\n")
# Largest single array element / multi-line value we agree to buffer (bytes). A report
# element is a few KB to a few MB; this only bounds memory when a file is garbage.
_MAX_VALUE_BYTES = 256 * 1024 * 1024


class ReportFileError(ValueError):
    """A report file that cannot be parsed. The message names the file and the line."""

    def __init__(self, source: str, problem: str, *, line: int | None = None) -> None:
        where = source if line is None else f"{source}, line {line}"
        super().__init__(f"{where}: {problem}")
        self.source = source
        self.problem = problem
        self.line = line


class NoReportInFile(Exception):
    """The whole file is a bare JSON string (``"No report available"``, ``""``): no report."""

    def __init__(self, source: str, text: str) -> None:
        shown = text if len(text) <= 200 else text[:200] + "..."
        super().__init__(f"{source}: no report in file ({shown!r})")
        self.source = source
        self.text = text


# --- JSON decoding ----------------------------------------------------------------------------


#: Several times faster than json.loads; integers of any size stay exact, NaN/Infinity and
#: out-of-range floats are rejected (msgspec.DecodeError is a ValueError).
_decode_line: Callable[[bytes], t.Any] = msgspec.json.Decoder().decode

#: For JSON arrays and multi-line values (NaN and Infinity are not JSON to yajl either).
_YAJL = ijson.get_backend("yajl2_c")


_KINDS = {
    type(None): "null",
    bool: "a boolean",
    int: "a number",
    float: "a number",
    Decimal: "a number",
    str: "a string",
    list: "an array",
    dict: "an object",
}


def _kind(value: t.Any) -> str:
    return _KINDS.get(type(value), type(value).__name__)


class _RecordChecker:
    """Shared rules for top-level values: objects are records, a lone string means no report."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.bare_text: str | None = None
        self.bare_line = 0
        self.records = 0

    def check(self, value: t.Any, line: int) -> Record | None:
        if type(value) is dict:
            if self.bare_text is not None:
                raise ReportFileError(
                    self.source, "expected a JSON object, found a string", line=self.bare_line
                )
            self.records += 1
            return value
        if isinstance(value, str) and self.records == 0 and self.bare_text is None:
            self.bare_text, self.bare_line = value, line
            return None
        raise ReportFileError(
            self.source, f"expected a JSON object, found {_kind(value)}", line=line
        )

    def finish(self) -> None:
        if self.bare_text is not None:
            raise NoReportInFile(self.source, self.bare_text)


# --- byte-level layers: gzip, BOM -------------------------------------------------------------


def _peek(chunks: Iterator[bytes], size: int) -> tuple[bytes, Iterator[bytes]]:
    """The first ``size`` bytes (fewer if the file is shorter), and all the bytes again."""
    head = b""
    for chunk in chunks:
        head += chunk
        if len(head) >= size:
            break
    return head, itertools.chain((head,), chunks)


def _maybe_gunzip(chunks: Iterator[bytes], source: str) -> Iterator[bytes]:
    """Pass plain bytes through; inflate a gzip stream (magic bytes 1f 8b) incrementally."""
    head, chunks = _peek(chunks, len(_GZIP_MAGIC))
    yield from _gunzip(chunks, source) if head.startswith(_GZIP_MAGIC) else chunks


def _gunzip(chunks: Iterator[bytes], source: str) -> Iterator[bytes]:
    inflater = zlib.decompressobj(_GZIP_WBITS)
    for chunk in chunks:
        data = chunk
        while data:
            if inflater.eof:  # a member ended: another member follows, or NUL padding
                if not data.strip(b"\0"):
                    break
                inflater = zlib.decompressobj(_GZIP_WBITS)
            yield from _inflate(inflater, data, source)
            data = inflater.unused_data if inflater.eof else b""
    if not inflater.eof:
        raise ReportFileError(source, "gzip stream ends early (truncated download?)")


def _inflate(inflater: t.Any, data: bytes, source: str) -> Iterator[bytes]:
    """Feed ``data`` to ``inflater`` and yield its output in pieces of at most _INFLATE_STEP."""
    while True:
        try:
            out = inflater.decompress(data, _INFLATE_STEP)
        except zlib.error as exc:
            raise ReportFileError(source, f"corrupt gzip data ({exc})") from None
        if out:
            yield out
        if inflater.eof:
            return
        data = inflater.unconsumed_tail
        # Output hit the cap with no input left: zlib may still hold output; ask again.
        if not data and len(out) < _INFLATE_STEP:
            return


def _strip_bom(chunks: Iterator[bytes]) -> Iterator[bytes]:
    head, chunks = _peek(chunks, len(codecs.BOM_UTF8))
    if head.startswith(codecs.BOM_UTF8):
        next(chunks)  # the head, given back without its BOM
        yield head.removeprefix(codecs.BOM_UTF8)
    yield from chunks


# --- text layers: NDJSON, JSON array / multi-line values ---------------------------------------


def _parse(chunks: Iterator[bytes], source: str) -> Iterator[Record]:
    """Pick the format from the file's start and parse it."""
    seen: list[bytes] = []
    first = b""
    for chunk in chunks:
        seen.append(chunk)
        first = chunk.lstrip(_JSON_WHITESPACE)[:1]
        if first:
            break
    if not first:
        return  # empty or whitespace-only file: no records (see the module docstring)
    if first == b"[":
        yield from _parse_values(itertools.chain(seen, chunks), source, array=True)
        return
    # NDJSON unless the first non-blank line is not a complete JSON value (a pretty-printed
    # object, say): then parse the file as a sequence of (multi-line) JSON values.
    head = b"".join(seen)
    start = len(head) - len(head.lstrip(_JSON_WHITESPACE))
    if b"\n" not in head[start:]:
        parts = [head]
        for chunk in chunks:
            parts.append(chunk)
            if b"\n" in chunk:
                break
        head = b"".join(parts)
    end = head.find(b"\n", start)
    first_line = head[start:] if end < 0 else head[start:end]
    rest = itertools.chain((head,), chunks)
    try:
        _decode_line(first_line)
    except ValueError:
        yield from _parse_values(rest, source, array=False)
    else:
        yield from _parse_ndjson(rest, source)


def _parse_ndjson(chunks: Iterator[bytes], source: str) -> Iterator[Record]:
    """One JSON value per line; blank lines and CR LF endings are fine."""
    checker = _RecordChecker(source)
    decode = _decode_line
    line_no = 0
    carry: list[bytes] = []  # pieces of the line still being read
    for chunk in chunks:
        if b"\n" not in chunk:
            if chunk:
                carry.append(chunk)  # a long line: join once, when it is complete
            continue
        if carry:
            carry.append(chunk)
            chunk = b"".join(carry)
            carry.clear()
        lines = chunk.split(b"\n")
        tail = lines.pop()
        for line in lines:
            line_no += 1
            if not line or line.isspace():
                continue
            try:
                value = decode(line)  # surrounding whitespace, incl. a trailing CR, is fine
            except ValueError as exc:
                raise ReportFileError(source, f"malformed JSON ({exc})", line=line_no) from None
            record = checker.check(value, line_no)
            if record is not None:
                yield record
        if tail:
            carry.append(tail)
    if carry:
        line = b"".join(carry)
        line_no += 1
        if not line.isspace():
            try:
                value = decode(line)
            except ValueError as exc:
                raise ReportFileError(source, f"malformed JSON ({exc})", line=line_no) from None
            record = checker.check(value, line_no)
            if record is not None:
                yield record
    checker.finish()


def _parse_values(chunks: Iterator[bytes], source: str, *, array: bool) -> Iterator[Record]:
    """A JSON array's elements, or a sequence of (multi-line) JSON values, streamed by ijson.

    The parser is fed one line at a time so that an error is raised on the line it is on;
    values come out as soon as they are complete, so only the one being read is in memory.
    """
    checker = _RecordChecker(source)
    done = ijson.sendable_list()
    parser = _YAJL.items_coro(done, "item" if array else "", multiple_values=not array)
    send = parser.send
    line = 1  # of the piece being fed
    unfinished = 0  # bytes fed since a value was last completed
    end, end_line = b"", 1  # the last non-blank byte, and its line
    for chunk in chunks:
        completed = False
        for piece in chunk.splitlines(keepends=True):
            try:
                send(piece)
            except (ijson.JSONError, ValueError) as exc:  # ValueError: lone surrogate escapes
                problem = f"malformed JSON ({_yajl_says(exc)})"
                raise ReportFileError(source, problem, line=line) from None
            if done:
                completed = True
                yield from _records(done, checker, line)
            if piece[-1] == _NEWLINE:
                line += 1
        unfinished = 0 if completed else unfinished + len(chunk)
        if unfinished > _MAX_VALUE_BYTES:
            raise ReportFileError(source, "a JSON value larger than 256 MiB", line=line)
        if body := chunk.rstrip(_JSON_WHITESPACE):
            end, end_line = body[-1:], line - chunk.count(b"\n", len(body))
    try:
        parser.close()  # end of input: yajl checks that the last value is complete
    except (ijson.JSONError, ValueError):
        problem = "the JSON array is not closed" if array else "the file ends inside a JSON value"
        raise ReportFileError(source, f"{problem} (truncated file?)", line=end_line) from None
    yield from _records(done, checker, line)  # a top-level number ends with the file
    # yajl lets a string left open after the last complete value pass (`]"`, `}\n"abc`).
    if end != (b"]" if array else b"}"):
        problem = "the file ends in an unterminated string (truncated file?)"
        raise ReportFileError(source, problem, line=end_line)
    checker.finish()


def _records(values: list[t.Any], checker: _RecordChecker, line: int) -> Iterator[Record]:
    """The objects among ``values`` (emptied), checked."""
    for value in values:
        if type(value) is dict:
            try:
                _decimals_to_floats(value)
            except ValueError as exc:
                raise ReportFileError(
                    checker.source, f"malformed JSON ({exc})", line=line
                ) from None
        record = checker.check(value, line)
        if record is not None:
            yield record
    del values[:]


def _decimals_to_floats(node: t.Any) -> None:
    """Turn ijson's decimals in a dict or list into floats, in place, as msgspec returns them."""
    for key, value in node.items() if type(node) is dict else enumerate(node):
        kind = type(value)
        if kind is Decimal:
            number = float(value)
            if not math.isfinite(number):
                msg = f"number {str(value)[:40]} is out of range"
                raise ValueError(msg)
            node[key] = number
        elif kind is dict or kind is list:
            _decimals_to_floats(value)


def _yajl_says(exc: Exception) -> str:
    """First line of a yajl error (the next ones quote the file's text around the error)."""
    if isinstance(exc, UnicodeDecodeError):  # a \ud800-\udfff escape without its pair
        return f"invalid string ({exc.reason})"
    raw = exc.args[0] if exc.args else exc
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    return text.strip().splitlines()[0] if text.strip() else "unknown error"


# --- public API -------------------------------------------------------------------------------


def iter_report_records(chunks: Iterable[bytes], *, source: str) -> Iterator[Record]:
    """Yield each top-level JSON object of a report file, streaming.

    ``chunks``: the file's bytes in pieces of any size (e.g. ``response.iter_content``).
    ``source``: a description for error messages, e.g. "users-1-day report for octo-org,
    day 2026-11-20, file 2 of 3" (never the signed URL).

    Accepts NDJSON (blank lines, CR LF, a UTF-8 BOM), a JSON array of objects, whitespace-
    separated or pretty-printed objects, each optionally gzip-compressed. The format is decided
    from the file's start: ``[`` means an array; otherwise NDJSON if the first non-blank line
    is a complete JSON value, else a sequence of (multi-line) values. Integers of any size
    stay exact; decimals become floats. Raises ReportFileError (malformed file, a value that is
    not an object) or NoReportInFile (the file is one bare JSON string).
    """
    plain = _strip_bom(_maybe_gunzip(iter(chunks), source))
    return _parse(plain, source)


def expand_day_totals(line: Record, *, source: str = "report line") -> Iterator[Record]:
    """Yield the day records of a line: one per ``day_totals`` element, or the line itself.

    A 28-day org/enterprise file line is a wrapper ``{report_start_day, report_end_day,
    enterprise_id, organization_id, created_at, ..., day_totals: [...]}``. Each element gets
    the wrapper's scalar fields (ids, report window, ``created_at``, internal partition
    fields, and any scalar GitHub adds) where the element lacks them.

    Window-level fields (:data:`WINDOW_LEVEL_FIELDS`, i.e. ``copilot_feature_engagement``,
    and any other object or array on the wrapper) describe the 28 days as a whole, not a day.
    They are put on one row only: the element whose ``day`` is ``report_end_day`` (else the
    latest day), so the row for day D carries the 28-day figure of the window ending on D.
    Copying them onto all 28 rows would repeat one window figure under 28 days and invite
    summing; dropping them would lose data. Caveat for the stream: if a later 28-day report
    re-emits day D (no longer its end day), that row no longer carries the field.
    """
    if "day_totals" not in line:
        yield line
        return
    days = line["day_totals"]
    if days is None:
        return
    if not isinstance(days, list):
        raise ReportFileError(source, f"day_totals is {_kind(days)}, expected an array")
    shared, window = _wrapper_fields(line)
    anchor = _anchor_index(days, line.get("report_end_day"))
    for index, element in enumerate(days):
        if not isinstance(element, dict):
            raise ReportFileError(
                source, f"day_totals[{index}] is {_kind(element)}, expected an object"
            )
        row = dict(element)
        for name, value in shared.items():
            row.setdefault(name, value)
        if index == anchor:
            for name, value in window.items():
                row.setdefault(name, value)
        yield row


def window_fields(line: Record) -> tuple[int | None, Record]:
    """A 28-day wrapper's window-level fields, and the index of the ``day_totals`` element
    that carries them (the rule of :func:`expand_day_totals`, for readers of raw elements)."""
    days = line.get("day_totals")
    _shared, window = _wrapper_fields(line)
    end_day = line.get("report_end_day")
    return _anchor_index(days if isinstance(days, list) else [], end_day), window


def _wrapper_fields(line: Record) -> tuple[Record, Record]:
    """(scalars every day gets, window-level fields) of a 28-day wrapper line."""
    shared: Record = {}
    window: Record = {}
    for name, value in line.items():
        if name == "day_totals":
            continue
        if name in WINDOW_LEVEL_FIELDS or isinstance(value, (dict, list)):
            window[name] = value
        else:
            shared[name] = value
    return shared, window


def _anchor_index(days: list[t.Any], end_day: t.Any) -> int | None:
    """Index of the element for ``end_day``, else of the latest day, else the last one."""
    best: int | None = None
    best_day = ""
    for index, element in enumerate(days):
        day = element.get("day") if isinstance(element, dict) else None
        if not isinstance(day, str):
            continue
        if day == end_day:
            return index
        if day > best_day:
            best, best_day = index, day
    if best is None and days:
        return len(days) - 1
    return best
