"""Reading one setting's value: its type, and its default and limits from config_schema.py.

Each reader names the setting in its `ConfigError`, never echoing a value that could be a
secret; settings.py combines them into `Settings`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from tap_copilot_metrics.config_schema import declared
from tap_copilot_metrics.errors import ConfigError

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
N = TypeVar("N", int, float)


def optional_str(config: Mapping[str, Any], name: str) -> str | None:
    """A string setting, stripped; None when unset or empty."""
    value = config.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str | int):
        raise ConfigError(name, "must be a string")
    return str(value).strip() or None


def header_value(config: Mapping[str, Any], name: str, *, spaces: bool) -> str | None:
    """A setting sent in an HTTP header: no line breaks or control characters inside.

    A token pasted with a line break would otherwise fail deep in the HTTP library, whose
    error message quotes the header, and so the token. The value is never echoed here.
    """
    value = optional_str(config, name)
    if value is None:
        return None
    if any(ord(char) < 32 or ord(char) == 127 or (char.isspace() and not spaces) for char in value):
        allowed = "line breaks or control characters" if spaces else "spaces or line breaks"
        raise ConfigError(name, f"contains {allowed}; check it was copied whole and alone")
    return value


def string_list(config: Mapping[str, Any], name: str) -> tuple[str, ...]:
    """A list of strings (or a comma-separated string, as env vars carry it), repeats dropped."""
    value = config.get(name)
    if value is None:
        return ()
    if isinstance(value, str):
        value = [part for part in value.split(",") if part.strip()]
    if not isinstance(value, Sequence) or not all(isinstance(item, str) for item in value):
        raise ConfigError(name, "must be a list of strings")
    items = tuple(item.strip() for item in value)
    if any(not item for item in items):
        raise ConfigError(name, "contains an empty entry")
    # Keep the user's order but drop repeats, so a scope is never read twice.
    return tuple(dict.fromkeys(items))


def date_value(config: Mapping[str, Any], name: str) -> dt.date | None:
    """A `YYYY-MM-DD` day (a full timestamp is accepted; its date part counts), or None."""
    value = config.get(name)
    if value is None or value == "":
        return None
    text = str(value)
    # Accept a full timestamp (Meltano's date-time settings) but only its date part matters.
    day_part = text[:10]
    if not _DATE.match(day_part) or (len(text) > 10 and not _is_timestamp(text)):
        raise ConfigError(name, f"{text!r} is not a date of the form YYYY-MM-DD")
    try:
        return dt.date.fromisoformat(day_part)
    except ValueError:
        raise ConfigError(name, f"{text!r} is not a real calendar date") from None


def _is_timestamp(text: str) -> bool:
    """`YYYY-MM-DDTHH:MM[:SS[.f]][Z|±HH:MM]` (or with a space): a date with a real time of day."""
    if text[10] not in "T ":
        return False
    try:
        dt.datetime.fromisoformat(text.replace("Z", "+00:00", 1) if text.endswith("Z") else text)
    except ValueError:
        return False
    return True


def _given(config: Mapping[str, Any], name: str) -> Any:
    """The setting's value, or None when it is unset or empty (its declared default applies)."""
    value = config.get(name)
    return None if value == "" else value


def whole_number(config: Mapping[str, Any], name: str) -> int:
    """A whole number within the declared `minimum`..`maximum`, or the declared default."""
    value = _given(config, name)
    if value is None:
        return int(declared(name)["default"])
    parsed = _converted(name, value, int, "a whole number")
    if isinstance(value, float) and value != parsed:
        raise ConfigError(name, f"{value!r} is not a whole number")
    minimum, maximum = declared(name)["minimum"], declared(name)["maximum"]
    if not minimum <= parsed <= maximum:
        raise ConfigError(name, f"must be between {minimum} and {maximum}, got {parsed}")
    return parsed


def number(config: Mapping[str, Any], name: str) -> float:
    """A number of at least the declared `minimum`, or the declared default."""
    value = _given(config, name)
    parsed = float(declared(name)["default"] if value is None else _converted(name, value, float))
    minimum = declared(name)["minimum"]
    if parsed < minimum:
        raise ConfigError(name, f"must be at least {minimum}, got {parsed}")
    return parsed


def _converted(name: str, value: Any, kind: type[N], words: str = "a number") -> N:
    try:
        return kind(value)
    except (TypeError, ValueError):
        raise ConfigError(name, f"{value!r} is not {words}") from None


def boolean(config: Mapping[str, Any], name: str) -> bool:
    """true/false (or their strings, as env vars carry them), or the declared default."""
    value = _given(config, name)
    if value is None:
        return bool(declared(name)["default"])
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in {"true", "false"}:
        return value.lower() == "true"
    raise ConfigError(name, f"must be true or false, got {value!r}")


def choice(config: Mapping[str, Any], name: str) -> str:
    """One of the declared `enum` values (named in the message), or the declared default."""
    value = _given(config, name)
    choices = declared(name)["enum"]
    if value is None:
        return str(declared(name)["default"])
    if value not in choices:
        raise ConfigError(name, f"must be one of: {', '.join(choices)}")
    return str(value)
