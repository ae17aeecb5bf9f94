"""`python -m tap_copilot_metrics.report`: the same as `copilot-metrics-report`."""

import sys

from tap_copilot_metrics.report.cli import main

sys.exit(main())
