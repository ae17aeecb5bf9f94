"""Pins the singer-sdk behaviour that `tap_copilot_metrics.sdk_private` relies on."""

from __future__ import annotations
