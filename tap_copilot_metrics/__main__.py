"""`python -m tap_copilot_metrics` runs the tap."""

from tap_copilot_metrics.tap import main

main()
