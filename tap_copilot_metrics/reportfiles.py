"""Streaming parser of Copilot usage-metrics report files.

A report file arrives as byte chunks from a signed download URL (the stream does the HTTP).
GitHub documents NDJSON (one JSON object per line), but files have also been seen, or are at
least worth being ready for, as a JSON array, a pretty-printed object, or a gzip stream; and a
"no report" answer can be a bare JSON string such as ``"No report available"``. This module
turns any of those into dicts without ever holding a whole file in memory: at most one record
(one line, or one array element) plus one chunk is buffered.

Entry points:

* :func:`iter_report_records` yields each top-level JSON object of a file;
* :func:`expand_day_totals` turns a 28-day wrapper line into one row per ``day_totals`` day;
* :func:`iter_report_rows` does both.

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
import json
import math
import re
import typing as t
import zlib

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
    "iter_report_rows",
]

# Wrapper fields of 28-day files that describe the whole 28-day window, not a day; see
# expand_day_totals. Any other non-scalar wrapper field is treated the same way.
WINDOW_LEVEL_FIELDS = frozenset({"copilot_feature_engagement"})

_GZIP_MAGIC = b"\x1f\x8b"
_GZIP_WBITS = 16 + zlib.MAX_WBITS  # gzip header and trailer
# Output cap per decompress() call: a few KB of gzip can inflate to gigabytes.
_INFLATE_STEP = 1 << 20
_JSON_WHITESPACE = b" \t\r\n"
# Largest single array element / multi-line value we agree to buffer (characters). A report
# element is a few KB to a few MB; this only bounds memory when a file is garbage.
_MAX_VALUE_CHARS = 256 * 1024 * 1024
# A JSONDecodeError this close to the end of the buffer may just mean "need more data".
_TRUNCATION_SLACK = 64


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


def _reject_constant(name: str) -> t.NoReturn:
    msg = f"{name} is not valid JSON"
    raise ValueError(msg)


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        msg = f"number {text[:40]} is out of range"
        raise ValueError(msg)
    return value


#: Several times faster than json.loads; integers of any size stay exact, NaN/Infinity and
#: out-of-range floats are rejected (msgspec.DecodeError is a ValueError).
_decode_line: Callable[[bytes], t.Any] = msgspec.json.Decoder().decode

# For JSON arrays and multi-line values: raw_decode() reports where a value ends.
_STREAM_DECODER = json.JSONDecoder(parse_constant=_reject_constant, parse_float=_finite_float)
_WHITESPACE_RE = re.compile(r"[ \t\r\n]*")


def _kind(value: t.Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


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


def _maybe_gunzip(chunks: Iterator[bytes], source: str) -> Iterator[bytes]:
    """Pass plain bytes through; inflate a gzip stream (magic bytes 1f 8b) incrementally."""
    head = b""
    for chunk in chunks:
        head += chunk
        if len(head) >= len(_GZIP_MAGIC):
            break
    if not head.startswith(_GZIP_MAGIC):
        if head:
            yield head
        yield from chunks
        return
    yield from _gunzip(itertools.chain((head,), chunks), source)


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
    head = b""
    for chunk in chunks:
        head += chunk
        if len(head) >= len(codecs.BOM_UTF8):
            break
    head = head.removeprefix(codecs.BOM_UTF8)
    if head:
        yield head
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
    checker = _RecordChecker(source)
    splitter = _ValueSplitter(source, array=array)
    utf8 = codecs.getincrementaldecoder("utf-8")()
    for chunk in chunks:
        try:
            text = utf8.decode(chunk)
        except UnicodeDecodeError as exc:
            raise ReportFileError(
                source, f"invalid UTF-8 ({exc.reason})", line=splitter.line
            ) from None
        for value, line in splitter.feed(text):
            record = checker.check(value, line)
            if record is not None:
                yield record
    try:
        text = utf8.decode(b"", final=True)
    except UnicodeDecodeError as exc:
        raise ReportFileError(source, f"invalid UTF-8 ({exc.reason})", line=splitter.line) from None
    for value, line in splitter.feed(text, final=True):
        record = checker.check(value, line)
        if record is not None:
            yield record
    checker.finish()


# States of _ValueSplitter
_OPEN = 0  # before "[" (array)
_FIRST = 1  # after "[": an element or "]"
_NEXT = 2  # after an element: "," or "]" (array); another value (sequence)
_ELEMENT = 3  # after ",": an element
_CLOSED = 4  # after "]": only whitespace


class _ValueSplitter:
    """Incrementally split a JSON array into its elements, or a text into top-level values.

    Text is buffered from the start of the value being read; ``raw_decode`` parses it in C
    and tells where it ends. When the buffer ends inside a value, the next attempt waits until
    the buffer has doubled, so a large value spread over many chunks costs linear, not
    quadratic, time. Memory: the current value plus the text received since.
    """

    def __init__(self, source: str, *, array: bool) -> None:
        self.source = source
        self.array = array
        self.state = _OPEN if array else _NEXT
        self.buf = ""
        self.pos = 0
        self.line = 1  # line number at self.pos
        self.pending: list[str] = []
        self.pending_len = 0
        self.need = 0  # attempt a parse only once this many characters follow self.pos
        self.index = 0  # array elements read (for messages)

    def _error(self, problem: str, line: int | None = None) -> ReportFileError:
        return ReportFileError(self.source, problem, line=self.line if line is None else line)

    def feed(self, text: str, *, final: bool = False) -> Iterator[tuple[t.Any, int]]:
        """Yield ``(value, line)`` for each value completed by ``text``."""
        if text:
            self.pending.append(text)
            self.pending_len += len(text)
        if not final and len(self.buf) - self.pos + self.pending_len < self.need:
            return
        if self.pending:
            self.buf = self.buf[self.pos :] + "".join(self.pending)
            self.pos = 0
            self.pending.clear()
            self.pending_len = 0
        self.need = 0
        buf = self.buf
        while True:
            pos = _WHITESPACE_RE.match(buf, self.pos).end()  # type: ignore[union-attr]
            self.line += buf.count("\n", self.pos, pos)
            self.pos = pos
            if pos >= len(buf):
                break
            char = buf[pos]
            if self.state == _CLOSED:
                raise self._error("unexpected content after the end of the JSON array")
            if self.state == _OPEN:
                if char != "[":
                    raise self._error("expected a JSON array")
                self.pos, self.state = pos + 1, _FIRST
                continue
            if self.array and self.state == _NEXT:
                if char not in ",]":
                    raise self._error(f"expected ',' or ']' after array element {self.index}")
                self.pos, self.state = pos + 1, (_ELEMENT if char == "," else _CLOSED)
                continue
            if self.state == _FIRST and char == "]":
                self.pos, self.state = pos + 1, _CLOSED
                continue
            try:
                value, end = _STREAM_DECODER.raw_decode(buf, pos)
            except json.JSONDecodeError as exc:
                if not final and _maybe_truncated(exc, len(buf)):
                    if len(buf) - pos > _MAX_VALUE_CHARS:
                        raise self._error("a JSON value larger than 256 MiB") from None
                    self.need = 2 * (len(buf) - pos)
                    break
                line = self.line + buf.count("\n", pos, exc.pos)
                raise self._error(f"malformed JSON ({exc.msg})", line) from None
            except ValueError as exc:  # NaN, Infinity, out-of-range numbers
                raise self._error(f"malformed JSON ({exc})") from None
            line = self.line
            self.line += buf.count("\n", pos, end)
            self.pos = end
            self.index += 1
            self.state = _NEXT
            yield value, line
        if final and self.array and self.state != _CLOSED:
            raise self._error("the JSON array is not closed (truncated file?)")


def _maybe_truncated(exc: json.JSONDecodeError, buffered: int) -> bool:
    # A value cut at the buffer's end fails inside its last token: a string ("Unterminated
    # string starting at" its opening quote; strings cannot span lines) or a short token
    # (number, literal, escape) close to the end. Anything else is malformed for sure.
    return exc.msg.startswith("Unterminated string") or buffered - exc.pos <= _TRUNCATION_SLACK


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
    shared: Record = {}
    window: Record = {}
    for name, value in line.items():
        if name == "day_totals":
            continue
        if name in WINDOW_LEVEL_FIELDS or isinstance(value, (dict, list)):
            window[name] = value
        else:
            shared[name] = value
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


def iter_report_rows(chunks: Iterable[bytes], *, source: str) -> Iterator[Record]:
    """:func:`iter_report_records` followed by :func:`expand_day_totals` on each line."""
    for line in iter_report_records(chunks, source=source):
        yield from expand_day_totals(line, source=source)
