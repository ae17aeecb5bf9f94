"""Pins the singer-sdk behaviour that `tap_copilot_metrics.sdk_private` relies on."""

from __future__ import annotations

import pytest
from singer_sdk import Stream, Tap
from singer_sdk import typing as th
from singer_sdk.exceptions import ConfigValidationError

from tap_copilot_metrics.errors import ConfigError
from tap_copilot_metrics.tap import TapCopilotMetrics

# === PluginBase._validate_config (ConfigCheckedWithoutValues) ==================================


class ProbeTap(Tap):
    """A bare SDK tap with one integer setting and no streams."""

    name = "tap-probe"
    config_jsonschema = th.PropertiesList(th.Property("count", th.IntegerType)).to_dict()

    def discover_streams(self) -> list[Stream]:
        return []


@pytest.mark.parametrize("validate_config", [True, False])
def test_init_runs_validate_config_raising_only_when_asked(
    monkeypatch: pytest.MonkeyPatch, validate_config: bool
) -> None:
    """The seam: `__init__` always calls `_validate_config`, with `raise_errors=validate_config`
    (discovery passes False and must still start without credentials)."""
    calls: list[bool] = []

    def record(_tap: Tap, *, raise_errors: bool = True) -> list[str]:
        calls.append(raise_errors)
        return []

    monkeypatch.setattr(ProbeTap, "_validate_config", record)
    ProbeTap(config={}, validate_config=validate_config)
    assert calls == [validate_config]


def test_the_sdk_check_would_quote_the_value() -> None:
    """Why the seam is replaced: the SDK's messages, which its CLI logs, hold the value. If this
    fails, the SDK stopped quoting values and `ConfigCheckedWithoutValues` may go."""
    with pytest.raises(ConfigValidationError) as raised:
        ProbeTap(config={"count": "SECRET-VALUE"})
    assert any("SECRET-VALUE" in error for error in raised.value.errors)


def test_the_tap_check_names_the_setting_without_its_value() -> None:
    with pytest.raises(ConfigError) as raised:
        TapCopilotMetrics(config={"auth_token": ["SECRET-VALUE"], "organizations": ["octo-org"]})
    assert str(raised.value) == "Invalid setting `auth_token`: must be of type ['string', 'null']"


# === RESTStream._request: mirrored by GitHubStream.get_json through public names ==============
# The tap no longer calls `_request` (see GitHubStream._send): these pin that the SDK's version
# still does only what the tap's does (send authenticated, log the `http_request_duration`
# METRIC, `validate_response`), so an SDK that adds a step fails here, by name.


def _metric_lines(run: object) -> list[dict[str, object]]:
    """The METRIC points logged while `run()` runs, without their measured value."""
    import json
    import logging

    from singer_sdk.metrics import get_metrics_logger

    seen: list[dict[str, object]] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            point = json.loads(str(record.args[0]))
            point.pop("value")
            seen.append(point)

    logger, handler = get_metrics_logger(), Keep()
    logger.addHandler(handler)
    try:
        run()
    finally:
        logger.removeHandler(handler)
    return seen


@pytest.mark.parametrize(("org", "status"), [("octo-org", 200), ("no-such-org", 404)])
def test_get_json_does_what_the_sdk_request_does(simulator: object, org: str, status: int) -> None:
    import datetime as dt

    from copilot_devkit.simulator import Simulator

    from tap_copilot_metrics.scopes import Scope, ScopeKind

    assert isinstance(simulator, Simulator)
    tap = TapCopilotMetrics(config=simulator.tap_config(), setup_mapper=False)
    stream = tap.streams["copilot_usage_daily"]
    validated: list[int] = []
    validate = stream.validate_response

    def recording(response: object) -> None:
        validated.append(response.status_code)
        validate(response)

    stream.validate_response = recording
    url = f"{simulator.base_url}/orgs/{org}/copilot/metrics/reports/organization-1-day"
    params = {"day": (tap.settings.today - dt.timedelta(days=1)).isoformat()}
    context = Scope(ScopeKind.ORGANIZATION, org).context
    prepared = stream.build_prepared_request(
        method="GET", url=url, params=params, headers=stream.http_headers
    )

    sdk_metrics = _metric_lines(lambda: stream._request(prepared, context))
    tap_metrics = _metric_lines(lambda: stream.get_json(url, params, context))

    assert validated == [status, status]
    assert sdk_metrics == tap_metrics
    assert [point["metric"] for point in tap_metrics] == ["http_request_duration"]
    sent = [(r.path, r.query, r.headers) for r in simulator.requests[-2:]]
    assert sent[0] == sent[1]
