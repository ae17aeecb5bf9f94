"""The only module that reaches into singer-sdk's private names.

Each function below wraps one private SDK name the tap cannot do without, says why no public
extension point serves, and is pinned by `tests/test_sdk_private.py`, so an SDK upgrade that
changes the behaviour relied on fails there, by name, rather than somewhere in a sync.
"""

from __future__ import annotations

from singer_sdk.plugin_base import PluginBase

from tap_copilot_metrics.config_schema import schema_errors

# === PluginBase._validate_config: the config's schema check, worded without values ============


class ConfigCheckedWithoutValues(PluginBase):
    """Runs `config_schema.schema_errors` where the SDK would run its own JSON-schema check.

    `PluginBase.__init__` calls the private `_validate_config(raise_errors=validate_config)`, and
    no public seam changes what it does: its validator is a module global of
    `singer_sdk.plugin_base`, and its messages, which the SDK's CLI logs, quote the offending
    value (`'<token>' is not of type 'integer'`): a secret pasted into the wrong setting would
    be printed. Mixed in before `Tap`.
    """

    def _validate_config(self, *, raise_errors: bool = True) -> list[str]:
        schema = self.config_jsonschema
        self.append_builtin_config(schema)
        errors = schema_errors(schema, self.config)
        if errors and raise_errors:
            raise errors[0]
        return [str(error) for error in errors]


# === Not needed any more: RESTStream._request, Stream._write_state_message, Stream._tap =========
# Public seams serve: GitHubStream.get_json sends through `requests_session` (one per thread,
# see sessions.py), the authenticator, `validate_response` and the public `singer_sdk.metrics`
# (its `http_request_duration` line, as `_request` writes it; `tests/test_sdk_private.py` pins
# that the two still agree). DailyStream.checkpoint writes STATE with the tap's public
# `state_writer`. Streams keep their own reference to the tap (`copilot_tap`).
