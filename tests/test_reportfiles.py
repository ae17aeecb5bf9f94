"""Byte-level tests of the streaming report-file parser (tap_copilot_metrics.reportfiles)."""

from __future__ import annotations

import gzip
import json
import os
import time
import tracemalloc
import zlib
from collections.abc import Iterator
from typing import Any

import pytest
from copilot_devkit.simulator.data import EXAMPLES_DIR

from tap_copilot_metrics.reportfiles import (
    NoReportInFile,
    ReportFileError,
    expand_day_totals,
    iter_report_records,
)

EXAMPLES = EXAMPLES_DIR
SOURCE = "users-1-day report for octo-org, day 2026-11-20, file 2 of 3"

ENTERPRISE_28_DAY = json.loads(
    (EXAMPLES / "reports/docs_example-schema_enterprise-28-day_0afe69c.json").read_text("utf-8")
)
USER_RECORD = json.loads(
    (EXAMPLES / "reports/secondary/transcribed_example-schema_users-1-day_late2026.json").read_text(
        "utf-8"
    )
)


def parse(data: bytes, size: int | None = None) -> list[dict[str, Any]]:
    return list(iter_report_records(split(data, size), source=SOURCE))


def split(data: bytes, size: int | None) -> list[bytes]:
    if size is None:
        return [data]
    return [data[i : i + size] for i in range(0, len(data), size)]


def ndjson(records: list[dict[str, Any]], newline: bytes = b"\n") -> bytes:
    return b"".join(json.dumps(r).encode() + newline for r in records)


# --- formats ---------------------------------------------------------------------------------


def test_ndjson_with_blank_lines_crlf_and_no_final_newline() -> None:
    data = b'\r\n{"a": 1}\r\n\r\n   \r\n\t\n{"a": 2, "s": "x y"}\r\n{"a": 3}'
    assert parse(data) == [{"a": 1}, {"a": 2, "s": "x y"}, {"a": 3}]


def test_official_ndjson_examples_parse_to_their_objects() -> None:
    for name in (
        "usage-metrics-user-level-records.example.ndjson",
        "usage-metrics-enterprise-level-28-day.example.ndjson",
        "reports/docs_team-level-metrics_organization_user_teams_1_day.ndjson",
        "reports/secondary/transcribed_example-schema_repos-1-day_late2026.ndjson",
    ):
        data = (EXAMPLES / name).read_bytes()
        expected = [json.loads(line) for line in data.splitlines() if line.strip()]
        assert parse(data, 4096) == expected, name
        assert parse(data, 13) == expected, name


def test_docs_json_array_files_stream_their_elements() -> None:
    # The docs print records as a pretty-printed JSON array (Jackson style "[ {").
    for name in (
        "reports/docs_example-schema_enterprise-28-day_0afe69c.json",
        "reports/docs_example-schema_enterprise-28-day_66e9f1d.json",
        "reports/docs_example-schema_users-1-day_record.json",
    ):
        data = (EXAMPLES / name).read_bytes()
        expected = json.loads(data)
        for size in (1, 3, 7, 97, 1021, None):
            assert parse(data, size) == expected, (name, size)


def test_truncated_pretty_printed_object_names_its_last_line() -> None:
    data = json.dumps(USER_RECORD, indent=2).encode()
    cut = data[: len(data) // 2]
    with pytest.raises(ReportFileError, match="the file ends inside a JSON value") as info:
        parse(cut, 7)
    assert info.value.line == cut.rstrip().count(b"\n") + 1  # where the content ends
    assert str(info.value).startswith(f"{SOURCE}, line {info.value.line}: ")


def test_pretty_printed_object_file() -> None:
    data = (
        EXAMPLES / "reports/secondary/transcribed_example-schema_users-1-day_late2026.json"
    ).read_bytes()
    assert b"\n" in data.strip()  # a multi-line object, not NDJSON
    for size in (5, 64, None):
        assert parse(data, size) == [USER_RECORD]
    two = data + b"\n" + json.dumps(USER_RECORD, indent=4).encode() + b"\n"
    assert parse(two, 11) == [USER_RECORD, USER_RECORD]


def test_empty_array_and_empty_file_yield_nothing() -> None:
    assert parse(b"[]") == []
    assert parse(b" [ \n ] \n") == []
    assert parse(b"") == []
    assert parse(b"\n \r\n") == []


def test_utf8_bom_is_skipped() -> None:
    for body in (b'{"a": 1}\n', b'[{"a": 1}]'):
        for size in (1, 2, None):
            assert parse(b"\xef\xbb\xbf" + body, size) == [{"a": 1}]


def test_multibyte_characters_split_across_chunks() -> None:
    records = [{"user_login": "ñandú-😀", "n": i} for i in range(3)]
    escaped = ndjson(records)  # ensure_ascii: \u escapes, surrogate pairs
    raw = "\n".join(json.dumps(r, ensure_ascii=False) for r in records).encode()
    array = ("[" + ",".join(json.dumps(r, ensure_ascii=False) for r in records) + "]").encode()
    for data in (raw, array, escaped):
        for size in (1, 2, 3, 5):
            assert parse(data, size) == records


def test_big_integers_stay_exact_and_decimals_are_floats() -> None:
    big = 2**64 + 1
    line = f'{{"user_id": {big}, "ai_credits_used": 12.5, "avg": 4400.0, "n": [-0.0, 1e-999]}}'
    for body in (line + "\n", f"[{line}]", "{\n" + line[1:]):  # NDJSON, array, multi-line
        (record,) = parse(body.encode())
        assert record["user_id"] == big
        assert type(record["user_id"]) is int
        assert record["ai_credits_used"] == 12.5
        assert record["avg"] == 4400.0
        assert type(record["avg"]) is float
        assert record["n"] == [-0.0, 0.0]
        assert all(type(x) is float for x in record["n"])


# --- chunk boundaries ------------------------------------------------------------------------

SMALL_NDJSON = b'{"a": 1, "s": "x\\"y"}\r\n\r\n{"b": [1, 2, {"c": null}]}\n  \n{"d": "\xc3\xa9"}'
SMALL_EXPECTED = [{"a": 1, "s": 'x"y'}, {"b": [1, 2, {"c": None}]}, {"d": "é"}]
SMALL_ARRAY = b'\n[ {"a": 1, "s": "x\\"y"} ,\r\n{"b": [1, 2, {"c": null}]},{"d": "\xc3\xa9"}\n]\n'
SMALL_PRETTY = json.dumps(SMALL_EXPECTED[0], indent=2).encode() + b"\n" + SMALL_NDJSON


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        pytest.param(SMALL_NDJSON, SMALL_EXPECTED, id="ndjson"),
        pytest.param(SMALL_ARRAY, SMALL_EXPECTED, id="array"),
        pytest.param(SMALL_PRETTY, [SMALL_EXPECTED[0], *SMALL_EXPECTED], id="pretty"),
        pytest.param(gzip.compress(SMALL_NDJSON), SMALL_EXPECTED, id="gzip-ndjson"),
        pytest.param(gzip.compress(SMALL_ARRAY), SMALL_EXPECTED, id="gzip-array"),
    ],
)
def test_every_chunk_boundary(data: bytes, expected: list[dict[str, Any]]) -> None:
    for cut in range(len(data) + 1):
        chunks = [data[:cut], data[cut:]]
        assert list(iter_report_records(chunks, source=SOURCE)) == expected, cut
    for cut in range(1, len(data)):  # three pieces, the middle one tiny
        chunks = [data[:cut], data[cut : cut + 2], b"", data[cut + 2 :]]
        assert list(iter_report_records(chunks, source=SOURCE)) == expected, cut
    assert parse(data, 1) == expected


# --- gzip ------------------------------------------------------------------------------------


def test_gzip_chunked() -> None:
    records = [{**USER_RECORD, "user_id": i} for i in range(500)]
    plain = ndjson(records)
    packed = gzip.compress(plain)
    for size in (1, 2, 100, 4096, None):
        if size == 1 and len(packed) > 20_000:
            continue
        assert parse(packed, size) == records


def test_highly_compressed_gzip_is_inflated_in_bounded_steps() -> None:
    # 32 MB of identical lines compress ~1000:1; a chunk of input must not become a
    # 32 MB piece of output.
    line = json.dumps(USER_RECORD).encode() + b"\n"
    packed = gzip.compress(line * ((32 << 20) // len(line)), compresslevel=9)
    assert len(packed) < 512 * 1024
    tracemalloc.start()
    try:
        count = sum(1 for _ in iter_report_records(split(packed, 256 * 1024), source=SOURCE))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert count == (32 << 20) // len(line)
    assert peak < 16 << 20


def test_multi_member_gzip_and_nul_padding() -> None:
    data = gzip.compress(b'{"a": 1}\n') + gzip.compress(b'{"a": 2}\n') + b"\0\0\0"
    for size in (1, 3, None):
        assert parse(data, size) == [{"a": 1}, {"a": 2}]


def test_truncated_gzip_is_an_error() -> None:
    packed = gzip.compress(ndjson([USER_RECORD] * 20))
    with pytest.raises(ReportFileError, match="gzip stream ends early") as info:
        parse(packed[: len(packed) // 2], 100)
    assert info.value.source == SOURCE


def test_corrupt_gzip_is_an_error() -> None:
    packed = bytearray(gzip.compress(ndjson([USER_RECORD] * 20)))
    packed[12:40] = b"\xff" * 28
    with pytest.raises(ReportFileError, match="corrupt gzip data"):
        parse(bytes(packed))


# --- errors ----------------------------------------------------------------------------------


def test_malformed_ndjson_line_names_source_and_line() -> None:
    data = b'{"a": 1}\n\n{"a": 2,,}\n{"a": 3}\n'
    with pytest.raises(ReportFileError) as info:
        parse(data, 5)
    assert info.value.line == 3
    assert str(info.value).startswith(f"{SOURCE}, line 3: malformed JSON")


def test_truncated_last_line_is_an_error() -> None:
    with pytest.raises(ReportFileError, match=r"line 2: malformed JSON") as info:
        parse(b'{"a": 1}\n{"a": ', 3)
    assert info.value.line == 2


def test_malformed_array_element_reports_its_line() -> None:
    data = b'[\n  {"a": 1},\n  {"a": 2},\n  {"a" 3}\n]\n'
    for size in (1, 4, None):
        with pytest.raises(ReportFileError) as info:
            parse(data, size)
        assert info.value.line == 4, size
        assert SOURCE in str(info.value)


def test_array_structure_errors() -> None:
    cases = {
        b'[{"a": 1} {"a": 2}]': "malformed JSON .*expect ',' or ']'",
        b'[{"a": 1},]': "malformed JSON",
        b'[{"a": 1}': r"line 1: the JSON array is not closed \(truncated file\?\)",
        b'[{"a": 1}]\n[{"a": 2}]': "line 2: malformed JSON .*trailing garbage",
        b'[{"a": 1}, {"a": 2': "line 1: the JSON array is not closed",
        b'[\n{"a": 1},\n{"a": 2\n\n': "line 3: the JSON array is not closed",
        b'[{"a": 1}]\n"': r"line 2: the file ends in an unterminated string \(truncated file\?\)",
        b'{\n"a": 1}\n"No rep': "line 3: the file ends in an unterminated string",
    }
    for data, problem in cases.items():
        for size in (1, None):
            with pytest.raises(ReportFileError, match=problem):
                parse(data, size)


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (b'{"a": 1}\n[{"a": 2}]\n', "an array"),
        (b'{"a": 1}\n42\n', "a number"),
        (b"null\n", "null"),
        (b'[{"a": 1}, "x"]', "a string"),
        (b"[true]", "a boolean"),
    ],
)
def test_a_value_that_is_not_an_object_is_an_error(data: bytes, kind: str) -> None:
    with pytest.raises(ReportFileError, match=f"expected a JSON object, found {kind}"):
        parse(data)


def test_nan_and_overflowing_numbers_are_rejected() -> None:
    for body in (
        b'{"a": NaN}\n',
        b'{"a": 1e999}\n',
        b'[{"a": Infinity}]',
        b'[{"a": 1e999}]',
        b'[{"a": [{"b": -1e999}]}]',
        b'{\n"a": 1e999}',
    ):
        with pytest.raises(ReportFileError, match="malformed JSON"):
            parse(body)


def test_invalid_utf8_is_an_error() -> None:
    for body in (b'{"a": "\xff"}\n', b'[{"a": "\xff"}]'):
        with pytest.raises(ReportFileError):
            parse(body, 2)


# --- "no report" -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [b'"No report available"', b'""', b'  "No report available"\r\n\n', b'"\\u00e9"'],
)
def test_bare_string_body_means_no_report(data: bytes) -> None:
    text = json.loads(data)
    for body in (data, gzip.compress(data)):
        with pytest.raises(NoReportInFile) as info:
            parse(body, 1)
        assert info.value.text == text
        assert info.value.source == SOURCE
        assert not isinstance(info.value, ReportFileError)


def test_string_mixed_with_records_is_an_error_not_no_report() -> None:
    with pytest.raises(ReportFileError, match="line 1: expected a JSON object, found a string"):
        parse(b'"No report available"\n{"a": 1}\n')
    with pytest.raises(ReportFileError, match="line 2: expected a JSON object, found a string"):
        parse(b'{"a": 1}\n"No report available"\n')


# --- day_totals expansion --------------------------------------------------------------------


def test_official_28_day_wrapper_expands_to_one_row_per_day() -> None:
    data = (EXAMPLES / "usage-metrics-enterprise-level-28-day.example.ndjson").read_bytes()
    wrappers = [json.loads(line) for line in data.splitlines() if line.strip()]
    lines = iter_report_records(split(gzip.compress(data), 50), source=SOURCE)
    rows = [row for line in lines for row in expand_day_totals(line, source=SOURCE)]
    assert len(rows) == sum(len(w["day_totals"]) for w in wrappers)
    offset = 0
    for wrapper in wrappers:
        for element in wrapper["day_totals"]:
            row = rows[offset]
            offset += 1
            assert "day_totals" not in row
            for name, value in element.items():
                assert row[name] == value
            for name in (
                "report_start_day",
                "report_end_day",
                "enterprise_id",
                "etl_id",
                "day_partition",
                "entity_id_partition",
            ):
                assert row[name] == wrapper[name], name
    assert {r["enterprise_id"] for r in rows} == {"1", "2"}


def test_day_totals_element_values_win_and_window_fields_go_to_end_day_only() -> None:
    engagement = {"active_user_count": 5, "totals_by_feature": [{"feature": "code_completion"}]}
    wrapper = {
        "report_start_day": "2026-09-01",
        "report_end_day": "2026-09-03",
        "organization_id": "42",
        "enterprise_id": "7",
        "created_at": "2026-09-04T01:02:03Z",
        "copilot_feature_engagement": engagement,
        "day_totals": [
            {"day": "2026-09-03", "daily_active_users": 3},
            {"day": "2026-09-01", "daily_active_users": 1, "organization_id": "43"},
            {"day": "2026-09-02", "daily_active_users": 2},
        ],
    }
    rows = list(expand_day_totals(wrapper))
    assert [r["day"] for r in rows] == ["2026-09-03", "2026-09-01", "2026-09-02"]
    assert [r["organization_id"] for r in rows] == ["42", "43", "42"]
    assert all(r["created_at"] == "2026-09-04T01:02:03Z" for r in rows)
    assert all(r["report_end_day"] == "2026-09-03" for r in rows)
    assert [("copilot_feature_engagement" in r) for r in rows] == [True, False, False]
    assert rows[0]["copilot_feature_engagement"] == engagement
    # A null engagement object follows the same rule.
    rows = list(expand_day_totals({**wrapper, "copilot_feature_engagement": None}))
    assert [r.get("copilot_feature_engagement", "absent") for r in rows] == [
        None,
        "absent",
        "absent",
    ]


def test_window_fields_fall_back_to_latest_day() -> None:
    wrapper = {
        "report_end_day": "2026-09-30",
        "copilot_feature_engagement": {"active_user_count": 1},
        "day_totals": [{"day": "2026-09-28"}, {"day": "2026-09-29"}, {"day": "2026-09-27"}],
    }
    rows = list(expand_day_totals(wrapper))
    assert ["copilot_feature_engagement" in r for r in rows] == [False, True, False]


def test_lines_without_day_totals_are_yielded_unchanged() -> None:
    line = {"day": "2026-09-01", "daily_active_users": 3, "totals_by_ide": []}
    assert list(expand_day_totals(line)) == [line]
    assert list(expand_day_totals({"report_end_day": "2026-09-01", "day_totals": []})) == []
    assert list(expand_day_totals({"report_end_day": "2026-09-01", "day_totals": None})) == []


def test_bad_day_totals_are_errors() -> None:
    with pytest.raises(ReportFileError, match="day_totals is an object"):
        list(expand_day_totals({"day_totals": {"day": "x"}}, source=SOURCE))
    with pytest.raises(ReportFileError, match=r"day_totals\[1\] is a number"):
        list(expand_day_totals({"day_totals": [{"day": "x"}, 3]}, source=SOURCE))


# --- streaming: memory stays bounded ---------------------------------------------------------

STREAM_MB = int(os.environ.get("REPORTFILES_STREAM_MB", "200"))


def _generated_file(
    total_bytes: int, *, array: bool = False, chunk_bytes: int = 256 * 1024
) -> Iterator[bytes]:
    """A big NDJSON file (or JSON array) made on the fly: ~34 KB records, never held whole."""
    padding = "p" * 30_000  # fat records: the test is about memory, not decode speed
    template = json.dumps({**USER_RECORD, "user_id": -1, "padding": padding}).encode()
    head, tail = template.split(b'"user_id": -1')
    pending: list[bytes] = [b"[\n"] if array else []
    size = produced = 0
    user_id = 0
    while produced < total_bytes:
        user_id += 1
        record = b'%s"user_id": %d%s' % (head, user_id, tail)
        if array:
            pending.append((b",\r\n" if user_id > 1 else b"") + record)
        else:
            pending.append(record + (b"\r\n" if user_id % 3 else b"\n\n"))
        size += len(pending[-1])
        if size >= chunk_bytes:
            block = b"".join(pending)
            pending.clear()
            size = 0
            # uneven chunk sizes: cut the block in two at an odd place
            yield block[:7777]
            yield block[7777:]
            produced += len(block)
    if array:
        pending.append(b"\n]\n")
    if pending:
        yield b"".join(pending)


def _gzip_stream(chunks: Iterator[bytes]) -> Iterator[bytes]:
    packer = zlib.compressobj(6, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    for chunk in chunks:
        out = packer.compress(chunk)
        if out:
            yield out
    yield packer.flush()


def _count_with_peak(chunks: Iterator[bytes]) -> tuple[int, int, int]:
    tracemalloc.start()
    try:
        count = checksum = 0
        for record in iter_report_records(chunks, source=SOURCE):
            count += 1
            checksum += record["user_id"]
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return count, checksum, peak


def test_large_ndjson_file_streams_in_bounded_memory() -> None:
    started = time.perf_counter()
    count, checksum, peak = _count_with_peak(_generated_file(STREAM_MB << 20))
    assert count > (STREAM_MB << 20) // 40_000
    assert checksum == count * (count + 1) // 2  # every line once, in order-independent sum
    assert peak < 20 << 20, f"peak {peak / 1e6:.1f} MB for a {STREAM_MB} MB file"
    assert time.perf_counter() - started < 120


def test_large_gzip_file_streams_in_bounded_memory() -> None:
    mb = max(STREAM_MB // 4, 8)
    count, checksum, peak = _count_with_peak(_gzip_stream(_generated_file(mb << 20)))
    assert count > (mb << 20) // 40_000
    assert checksum == count * (count + 1) // 2
    assert peak < 20 << 20


def test_large_json_array_streams_in_bounded_memory() -> None:
    mb = max(STREAM_MB // 4, 8)
    count, checksum, peak = _count_with_peak(_generated_file(mb << 20, array=True))
    assert count > (mb << 20) // 40_000
    assert checksum == count * (count + 1) // 2
    assert peak < 20 << 20


def test_one_huge_array_element_in_tiny_chunks_is_linear() -> None:
    """A 4 MB element fed in 512-byte chunks: re-parsing from scratch per chunk would be
    quadratic (minutes); the parser waits for the buffer to double between attempts."""
    element = {
        "day_totals": [{**USER_RECORD, "day": f"2026-09-{i % 28 + 1:02d}"} for i in range(1200)]
    }
    data = b"[" + json.dumps(element, indent=2).encode() + b"]"
    assert len(data) > 4 << 20
    started = time.perf_counter()
    assert parse(data, 512) == [element]
    assert time.perf_counter() - started < 20
